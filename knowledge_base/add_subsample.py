"""Add the ``subsample`` meta-feature group (learning-curve landmarkers, ``sub_*``) to a built KB in place.

Usage::

    python knowledge_base/add_subsample.py [KB] [--recompute] [--jobs N]   # KB defaults to knowledge_base/

LCDB datasets get the classification values read off their accuracy curves
(:func:`metarec.kb.lcdb.subsample_landmarkers`, what ``import_lcdb`` does itself); every other dataset whose
values for its task type are missing gets them computed by the group from its data (``--recompute``: all of
them, even where present). Specs are read from the KB's listings (``hpo_datasets.txt``,
``everyday_datasets.txt``, ``portfolio_datasets.txt``); a dataset in none of them (the imported OpenML tasks,
whose data is not here) stays NaN. Prints what it did; the KB's checksums and manifest are rewritten by
``KnowledgeBase.save``. ``--jobs N`` computes N tables at a time in worker processes (the group's own
threads are held back by the GIL for much of the work).
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main(argv=None) -> None:
    import os

    argv = sys.argv[1:] if argv is None else argv
    recompute = "--recompute" in argv
    argv = [a for a in argv if a != "--recompute"]
    jobs = 1
    if "--jobs" in argv:
        at = argv.index("--jobs")
        try:
            jobs = max(1, int(argv[at + 1]))
        except (IndexError, ValueError):
            raise SystemExit("--jobs needs a number of processes, e.g. --jobs 2") from None
        del argv[at:at + 2]
    kb_path = Path(argv[0]) if argv else ROOT / "knowledge_base"
    os.chdir(ROOT)  # specs in the listings are relative to the repository root

    from metarec.data.sources import parse_specs
    from metarec.kb import load_kb
    from metarec.kb.format import metafeature_providers
    from metarec.kb.lcdb import subsample_landmarkers
    from metarec.metafeatures.subsample import REGRESSION_LEARNERS, SUBSAMPLE_LEARNERS, feature_names

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from check_datasets import read_specs  # the one parser of the listings

    kb = load_kb(kb_path)
    names = list(feature_names())
    ds = kb.datasets
    values = ds.set_index("dataset_id").reindex(columns=names).astype(float)
    lcdb = subsample_landmarkers(kb.runs)
    lcdb_ids = ds.loc[ds["source"] == "lcdb", "dataset_id"]
    values.loc[lcdb_ids, list(lcdb.columns)] = lcdb.reindex(lcdb_ids).to_numpy(dtype=float)
    specs = {}
    for listing in ("hpo_datasets.txt", "everyday_datasets.txt", "portfolio_datasets.txt"):
        if (kb_path / listing).exists():
            specs.update({p.dataset_id: p for p in parse_specs([spec for _, spec, _ in read_specs(kb_path / listing)])})
    first = {"classification": f"sub_{SUBSAMPLE_LEARNERS[0]}_accuracy", "regression": f"sub_{REGRESSION_LEARNERS[0]}_r2"}
    todo = [(d, t) for d, t, src in zip(ds["dataset_id"], ds["task_type"], ds["source"])
            if src != "lcdb" and (recompute or values.loc[d, first[t]] != values.loc[d, first[t]])]
    missing = [d for d, _ in todo if d not in specs]
    todo = [(d, t) for d, t in todo if d in specs]
    from joblib import Parallel, delayed

    work = Parallel(n_jobs=jobs, return_as="generator")(delayed(_subsample)(specs[d], names) for d, _ in todo)
    for i, ((dataset_id, task_type), row) in enumerate(zip(todo, work), 1):
        values.loc[dataset_id, names] = row
        print(f"  [{i}/{len(todo)}] {dataset_id}: {first[task_type]} {row[names.index(first[task_type])]:.3f}",
              flush=True)
    if missing:
        print(f"  {len(missing)} datasets in no listing (no data here), left NaN: {', '.join(missing[:5])}, ...")
    kb.datasets = ds.drop(columns=[c for c in names if c in ds.columns]).join(
        values.reset_index(drop=True).set_axis(ds.index))
    providers = metafeature_providers()
    kb.manifest["metafeatures"] = {**kb.manifest.get("metafeatures", {}), **{c: providers.get(c, "?") for c in names}}
    kb.save(kb_path)
    for task, col in first.items():
        rows = kb.datasets["task_type"] == task
        print(f"{kb_path}: {task}: {int(kb.datasets.loc[rows, col].notna().sum())} of {int(rows.sum())} datasets "
              f"have sub_* values")


def _subsample(spec, names):
    """The ``subsample`` group's values (in the order of ``names``) of the table ``spec`` loads."""
    from metarec.metafeatures import extract_metafeatures

    return extract_metafeatures(spec.load(), groups=["subsample"])[names].to_numpy(dtype=float)


if __name__ == "__main__":
    main()
