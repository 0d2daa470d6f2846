"""Add the ``subsample`` meta-feature group (learning-curve landmarkers, ``sub_*``) to a built KB in place.

Usage::

    python knowledge_base/add_subsample.py [KB]      # KB defaults to knowledge_base/

LCDB datasets get the values read off their accuracy curves (:func:`metarec.kb.lcdb.subsample_landmarkers`,
what ``import_lcdb`` now does itself); the other classification datasets get them computed by the group
from their data (their specs are read from the KB's ``hpo_datasets.txt``; ``kb build`` computes the group by
default now). Regression datasets stay NaN (the group is
classification-only). Columns already present are recomputed. Prints what it did; the KB's checksums and
manifest are rewritten by ``KnowledgeBase.save``.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main(argv=None) -> None:
    import os

    argv = sys.argv[1:] if argv is None else argv
    kb_path = Path(argv[0]) if argv else ROOT / "knowledge_base"
    os.chdir(ROOT)  # specs in hpo_datasets.txt are relative to the repository root

    from metarec.kb import load_kb
    from metarec.kb.format import metafeature_providers
    from metarec.kb.lcdb import subsample_landmarkers
    from metarec.metafeatures import extract_metafeatures
    from metarec.metafeatures.subsample import feature_names
    from metarec.data.sources import parse_specs

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from check_datasets import read_specs  # the one parser of hpo_datasets.txt

    kb = load_kb(kb_path)
    names = list(feature_names())
    ds = kb.datasets.drop(columns=[c for c in names if c in kb.datasets.columns])
    values = subsample_landmarkers(kb.runs).reindex(ds["dataset_id"])
    listing = kb_path / "hpo_datasets.txt"
    specs = {p.dataset_id: p for p in parse_specs([spec for _, spec, _ in read_specs(listing)])} \
        if listing.exists() else {}
    todo = ds[(ds["source"] != "lcdb") & (ds["task_type"] == "classification")]["dataset_id"].tolist()
    for i, dataset_id in enumerate(todo, 1):
        if dataset_id not in specs:
            print(f"  {dataset_id}: no spec in hpo_datasets.txt, left NaN")
            continue
        mf = extract_metafeatures(specs[dataset_id].load(), groups=["subsample"])
        values.loc[dataset_id, names] = mf[names].to_numpy(dtype=float)
        print(f"  [{i}/{len(todo)}] {dataset_id}: gradient boosting {mf['sub_gradient_boosting_accuracy']:.3f}",
              flush=True)
    for c in names:
        ds[c] = values[c].to_numpy(dtype=float)
    kb.datasets = ds
    providers = metafeature_providers()
    kb.manifest["metafeatures"] = {**kb.manifest.get("metafeatures", {}), **{c: providers.get(c, "?") for c in names}}
    kb.save(kb_path)
    print(f"{kb_path}: {len(names)} sub_* columns; non-missing per column: "
          f"{int(ds[names[0]].notna().sum())} of {len(ds)} datasets (gradient boosting)")


if __name__ == "__main__":
    main()
