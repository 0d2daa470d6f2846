"""Import the LCDB learning-curve database (``pip install lcdb``) into a :class:`KnowledgeBase`.

LCDB (Mohr et al., MIT licence) ships, inside its PyPI package, ``datasets.csv`` (OpenML's data qualities
of ~219 OpenML datasets, plus LCDB's ``NumberOfFeaturesAfterBinarization``) and
``database-{accuracy,auc,f1,logloss}.csv``: learning curves of 20 scikit-learn learners (default
hyper-parameters) with 5 outer x 5 inner seeds per training-set size ("anchor").

What is kept: every dataset of ``datasets.csv`` with its OpenML id and qualities; for each dataset x
learner x training size x metric the mean and standard deviation over seeds of the test and validation
scores, the mean fit time and the number of seeds. Runs of datasets without qualities in
``datasets.csv`` are dropped (counted in the manifest).

``import lcdb`` fails for want of an undeclared dependency (``func_timeout``), so the data files are
located through the import system without importing the package.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
from pathlib import Path
from typing import Any

from ..exceptions import KnowledgeBaseError
from ..metrics import METRICS
from .format import KnowledgeBase, RUN_COLUMNS, config_id, new_manifest

LCDB_METRICS = ("accuracy", "auc", "f1", "logloss")


def find_lcdb_dir() -> Path:
    """The directory holding LCDB's CSV files, without importing ``lcdb``."""
    spec = importlib.util.find_spec("lcdb")
    if spec is None or not spec.submodule_search_locations:
        raise KnowledgeBaseError("the lcdb package is not installed; install it with: pip install lcdb")
    for loc in spec.submodule_search_locations:
        if (Path(loc) / "datasets.csv").exists():
            return Path(loc)
    raise KnowledgeBaseError(f"lcdb is installed at {list(spec.submodule_search_locations)} but has no datasets.csv")


def lcdb_version() -> str | None:
    try:
        return importlib.metadata.version("lcdb")
    except importlib.metadata.PackageNotFoundError:
        return None


def lcdb_learner_map() -> dict[str, str]:
    """LCDB learner name -> metarec learner name, from the registered learners' ``lcdb_name``."""
    from ..learners import get_learners

    return {lr.lcdb_name: lr.name for lr in get_learners() if lr.lcdb_name}


def import_lcdb(
    lcdb_dir: str | Path | None = None,
    metrics: tuple[str, ...] = LCDB_METRICS,
    dataset_ids: list[int] | None = None,
) -> KnowledgeBase:
    """Build a knowledge base from LCDB's files.

    Parameters
    ----------
    lcdb_dir : path, optional
        A directory with ``datasets.csv`` and ``database-<metric>.csv`` (default: the installed package).
    metrics : tuple of str
        Which of LCDB's metrics to import.
    dataset_ids : list of int, optional
        Only these OpenML dataset ids (default: all in ``datasets.csv``).
    """
    import numpy as np
    import pandas as pd

    root = Path(lcdb_dir) if lcdb_dir else find_lcdb_dir()
    qualities = _read_csv(root / "datasets.csv")
    if "openmlid" not in qualities.columns:
        raise KnowledgeBaseError(f"{root / 'datasets.csv'}: no 'openmlid' column; is this LCDB's datasets.csv?")
    if dataset_ids is not None:
        qualities = qualities[qualities["openmlid"].isin(dataset_ids)]
    qualities = qualities.drop_duplicates("openmlid").reset_index(drop=True)
    names = [c for c in qualities.columns if c not in ("openmlid", "Name")]
    ds = pd.DataFrame(
        {
            "dataset_id": "openml:" + qualities["openmlid"].astype(int).astype(str),
            "name": qualities["Name"].astype(str),
            "source": "lcdb",
            "task_type": "classification",
            "openml_id": qualities["openmlid"].astype(float),
            "n_rows": qualities["NumberOfInstances"].astype(float),
            "n_features": qualities["NumberOfFeatures"].astype(float) - 1.0,  # OpenML counts the target
            "n_classes": qualities["NumberOfClasses"].astype(float),
        }
    )
    ds = pd.concat([ds, qualities[names].astype(float)], axis=1)

    mapping = lcdb_learner_map()
    default_cfg = "{}"
    frames = []
    dropped: dict[str, Any] = {}
    for metric in metrics:
        if metric not in LCDB_METRICS:
            raise KnowledgeBaseError(f"LCDB has no metric {metric!r}; choose from {', '.join(LCDB_METRICS)}")
        raw = _read_csv(root / f"database-{metric}.csv")
        need = {"openmlid", "learner", "size_train", "traintime", "score_valid", "score_test"}
        if need - set(raw.columns):
            raise KnowledgeBaseError(f"{root}/database-{metric}.csv lacks columns {sorted(need - set(raw.columns))}")
        known = raw["openmlid"].isin(qualities["openmlid"])
        dropped[metric] = {
            "rows_without_qualities": int((~known).sum()),
            "datasets_without_qualities": int(raw.loc[~known, "openmlid"].nunique()),
        }
        raw = raw[known]
        unmapped = sorted(set(raw["learner"]) - set(mapping))
        if unmapped:
            raise KnowledgeBaseError(
                f"LCDB learners without a metarec learner: {unmapped}; a plugin providing them is missing"
            )
        agg = (
            raw.groupby(["openmlid", "learner", "size_train"], sort=True)
            .agg(
                score=("score_test", "mean"),
                score_std=("score_test", "std"),
                valid_score=("score_valid", "mean"),
                valid_score_std=("score_valid", "std"),
                fit_time=("traintime", "mean"),
                n_repeats=("score_test", "size"),
            )
            .reset_index()
        )
        frames.append(
            pd.DataFrame(
                {
                    "dataset_id": "openml:" + agg["openmlid"].astype(int).astype(str),
                    "source": "lcdb",
                    "learner": agg["learner"].map(mapping),
                    "config_id": config_id(default_cfg),
                    "config": default_cfg,
                    "metric": metric,
                    "train_size": agg["size_train"].astype(float),
                    "score": agg["score"].astype(float),
                    "score_std": agg["score_std"].astype(float),
                    "valid_score": agg["valid_score"].astype(float),
                    "valid_score_std": agg["valid_score_std"].astype(float),
                    "fit_time": agg["fit_time"].astype(float),
                    "n_repeats": agg["n_repeats"].astype(float),
                    "trial": np.nan,
                    "status": "ok",
                }
            )
        )
    runs = pd.concat(frames, ignore_index=True)[list(RUN_COLUMNS)]
    if "accuracy" in metrics:  # the learning-curve landmarkers (group ``subsample``) from the curves
        sub = subsample_landmarkers(runs)
        ds = ds.merge(sub, left_on="dataset_id", right_index=True, how="left")
        names += list(sub.columns)

    from ..learners import get_learner
    from ..plugins import get_plugin_host

    reg = get_plugin_host().registry("learner")
    manifest = new_manifest()
    manifest["sources"].append(
        {
            "name": "lcdb",
            "kind": "learning-curves",
            "package": "lcdb",
            "version": lcdb_version(),
            "licence": "MIT",
            "reference": "Mohr et al., LCDB 1.0: An Extensive Learning Curves Database for Classification Tasks (2022)",
            "datasets": int(len(ds)),
            "metrics": list(metrics),
            "aggregation": "mean and std over 5 outer x 5 inner seeds of test and validation score per "
            "dataset x learner x training size; mean fit time; n_repeats = seeds aggregated",
            "configs": "scikit-learn defaults of LCDB's run (config '{}')",
            "dropped": dropped,
            "learner_names": {v: k for k, v in mapping.items() if v in set(runs["learner"])},
        }
    )
    manifest["metrics"] = {m: METRICS[m].manifest_entry() for m in metrics}
    manifest["metafeatures"] = {n: _provider(n) for n in names}
    manifest["learners"] = {n: reg.entry(n).plugin for n in sorted(runs["learner"].unique()) if get_learner(n)}
    kb = KnowledgeBase(ds, runs, manifest)
    kb.validate()
    return kb


def subsample_landmarkers(runs):
    """The ``subsample`` group's features (``sub_*``) of LCDB datasets, read off their accuracy curves.

    For each dataset, the anchor is :func:`metarec.metafeatures.subsample.anchor_for` of the largest
    training size LCDB reached there (over all learners), i.e. the largest LCDB anchor at most
    ``min(512, largest / 2)``; a learner's feature is its mean test accuracy at that anchor (NaN without a
    point there). New datasets get the same quantity measured by the group. Returns a frame indexed by
    ``dataset_id`` with the group's columns.
    """
    import numpy as np
    import pandas as pd

    from ..metafeatures.subsample import SUBSAMPLE_LEARNERS, anchor_for, feature_names, relative

    acc = runs[(runs["source"] == "lcdb") & (runs["metric"] == "accuracy") & runs["score"].notna()]
    largest = acc.groupby("dataset_id")["train_size"].max()
    anchor = largest.map(anchor_for)
    at = acc[acc["train_size"].to_numpy() == acc["dataset_id"].map(anchor).to_numpy()]
    at = at[at["learner"].isin(SUBSAMPLE_LEARNERS)]
    wide = at.pivot_table(index="dataset_id", columns="learner", values="score", aggfunc="mean")
    rows = {d: relative({lr: float(wide.at[d, lr]) if lr in wide.columns and d in wide.index else np.nan
                         for lr in SUBSAMPLE_LEARNERS}) for d in largest.index}
    return pd.DataFrame.from_dict(rows, orient="index", columns=list(feature_names())).astype(float)


def _provider(feature: str) -> str:
    """The plugin/group that computes ``feature`` on new data (``?`` when none is registered)."""
    from .format import metafeature_providers

    return metafeature_providers().get(feature, "?")


def _read_csv(path: Path):
    import pandas as pd

    if not path.exists():
        raise KnowledgeBaseError(f"{path}: missing; reinstall lcdb (pip install --force-reinstall lcdb)")
    try:
        return pd.read_csv(path)
    except Exception as exc:
        raise KnowledgeBaseError(f"{path}: unreadable ({type(exc).__name__}: {exc})") from None
