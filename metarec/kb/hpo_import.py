"""Import public per-configuration search results on OpenML tasks as knowledge-base runs.

Three sources, each read from the raw files as published (a directory the user names; nothing is
downloaded, nothing is copied into the KB but the runs):

``openml-pimp``
    van Rijn & Hutter's random-search results on the OpenML100 tasks (``random_forest.arff``: 500
    RandomForestClassifier configurations per task; ``adaboost.arff``: 400 AdaBoostClassifier ones),
    scored by OpenML's 10-fold cross-validation on each task's splits; ``task_qualities.json`` holds
    OpenML's stored data qualities of the tasks, ``openml100_task_names.csv`` their names.
``sklearn-bot``
    OpenML's sklearn-bot runs of SVC (rbf / poly / sigmoid kernels) on the same tasks
    (``svc__predictive_accuracy.arff``, ``svc__area_under_roc_curve.arff``); it ships no qualities, so the
    OpenML100 ``task_qualities.json`` is read from ``qualities`` (default: beside the files, or in a
    sibling ``openml-pimp/`` directory).
``tabrepo``
    TabRepo's 104 AutoGluon LightGBM configurations on each of its AutoML-benchmark tasks
    (``lightgbm_results_ranked_by_dataset_valid.csv``, ``configs_lightgbm.json``,
    ``task_metadata_244.csv``), scored on validation data by ``metric_error``: 1 - ROC AUC (binary), log
    loss (multiclass), RMSE (regression).

Parameters are mapped to today's scikit-learn / LightGBM names as metarec's learners take them
(:data:`PARAMETER_MAPS`); a setting that no longer exists (AdaBoost's ``SAMME.R``) drops its runs rather
than being guessed, and settings the learners do not expose (the imputation strategy, AutoGluon's early
stopping) are dropped and listed in the manifest. Scores keep their source's protocol: every run carries its ``source``, so consumers normalise
within (dataset, source) and never compare them raw with LCDB's or ``kb build``'s.

Datasets are keyed as LCDB keys them (``openml:<dataset id>``) when the OpenML dataset id of a task is
known (TabRepo's task metadata states it, also for the OpenML100 tasks it shares when it lies in a sibling
``tabrepo/`` directory; else it is found by name and size among LCDB's datasets when the ``lcdb`` package
is installed), else as ``openml-task:<task id>``. Their
meta-features are OpenML's stored qualities under the ``openml`` group's names (NaN where a source has
none), so they mean what metarec computes on new data.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Callable

from ..exceptions import KnowledgeBaseError
from ..metrics import METRICS
from .format import DATASET_COLUMNS, RUN_COLUMNS, KnowledgeBase, config_id, new_manifest
from .hpo_sources import (LIGHTGBM_NAMES, PARAMETER_MAPS, SOURCE_INFO, _arff_frame, _csv_frame, _json,
                          _map_adaboost, _map_forest, _map_svc, _need, _num)

HPO_SOURCES = ("openml-pimp", "sklearn-bot", "tabrepo")


# -- tasks: OpenML dataset ids, names and qualities ----------------------------------------------------


def _openml_names() -> tuple[str, ...]:
    from ..metafeatures.openml import OPENML_QUALITY_NAMES

    return OPENML_QUALITY_NAMES


def _lcdb_datasets():
    """LCDB's ``datasets.csv`` (OpenML dataset id, name, size) when the lcdb package is installed, else None."""
    import pandas as pd

    from .lcdb import find_lcdb_dir

    try:
        return pd.read_csv(find_lcdb_dir() / "datasets.csv", usecols=["openmlid", "Name", "NumberOfInstances"])
    except (KnowledgeBaseError, OSError, ValueError):
        return None


def _task_dids(directory: Path) -> dict[int, float]:
    """OpenML task id -> dataset id from TabRepo's task metadata, when it lies beside the files or in a
    sibling ``tabrepo/`` directory (it states the dataset of 244 tasks, 34 of them OpenML100's)."""
    import pandas as pd

    for path in (directory / "task_metadata_244.csv", directory.parent / "tabrepo" / "task_metadata_244.csv"):
        if path.is_file():
            try:
                meta = pd.read_csv(path, usecols=["tid", "did"]).dropna()
            except (OSError, ValueError):
                return {}
            return dict(zip(meta["tid"].astype(int), meta["did"].astype(float)))
    return {}


def _dataset_ids(tasks, lcdb, dids: dict[int, float] | None = None) -> dict[int, tuple[str, float]]:
    """task id -> (KB dataset id, OpenML dataset id or NaN). ``tasks`` has task_id, name, n_rows and an
    optional did; else ``dids`` may state it; else an LCDB dataset of the same name and number of rows."""
    out: dict[int, tuple[str, float]] = {}
    dids = dids or {}
    for t in tasks.itertuples(index=False):
        did = getattr(t, "did", dids.get(int(t.task_id), math.nan))
        if (did is None or did != did) and lcdb is not None:
            same = lcdb[(lcdb["Name"] == t.name) & (lcdb["NumberOfInstances"] == t.n_rows)]
            if same["openmlid"].nunique() == 1:
                did = float(same["openmlid"].iloc[0])
        if did is not None and did == did:
            out[int(t.task_id)] = (f"openml:{int(did)}", float(did))
        else:
            out[int(t.task_id)] = (f"openml-task:{int(t.task_id)}", math.nan)
    return out


def _datasets_table(source: str, tasks, qualities: dict[int, dict], ids: dict[int, tuple[str, float]]):
    """One KB row per task: identity, size and the ``openml`` group's qualities (NaN where unknown)."""
    import pandas as pd

    names = _openml_names()
    rows = []
    for t in tasks.itertuples(index=False):
        q = qualities.get(int(t.task_id), {})
        values = {n: (_num(q.get(n)) if _num(q.get(n)) is not None else math.nan) for n in names}
        n_classes = values.get("NumberOfClasses", math.nan)
        if n_classes != n_classes:
            n_classes = float(t.n_classes) if t.n_classes == t.n_classes else math.nan
        n_features = values.get("NumberOfFeatures", math.nan)
        if n_features != n_features:
            n_features = float(t.n_features) if t.n_features == t.n_features else math.nan
        dataset_id, did = ids[int(t.task_id)]
        task_type = "regression" if t.task_type == "regression" else "classification"
        rows.append({"dataset_id": dataset_id, "name": str(t.name), "source": source, "task_type": task_type,
                     "openml_id": did, "n_rows": float(t.n_rows),
                     "n_features": n_features - 1.0,  # OpenML counts the target among the features
                     "n_classes": n_classes if task_type == "classification" else math.nan, **values})
    frame = pd.DataFrame(rows)
    frame[list(names)] = frame[list(names)].astype(float)
    return frame


def _runs_table(source: str, records: list[dict]):
    import numpy as np
    import pandas as pd

    frame = pd.DataFrame(records)
    frame["config"] = [json.dumps(c, sort_keys=True) for c in frame["config"]]
    frame["config_id"] = [config_id(c) for c in frame["config"]]
    frame["source"] = source
    frame["status"] = "ok"
    frame["trial"] = frame.groupby(["dataset_id", "learner", "metric"]).cumcount().astype(float)
    for col in ("score_std", "valid_score", "valid_score_std"):
        frame[col] = np.nan
    for col in ("train_size", "fit_time", "n_repeats"):
        frame[col] = frame[col].astype(float) if col in frame else np.nan
    return frame[list(RUN_COLUMNS)]


def _kb(source: str, datasets, runs, dropped: dict, files: list[str]) -> KnowledgeBase:
    from ..learners import get_learner
    from ..plugins import get_plugin_host
    from .format import metafeature_providers

    reg = get_plugin_host().registry("learner")
    learners = sorted(runs["learner"].unique())
    for name in learners:
        get_learner(name)  # an unregistered learner is a clear error, not a KB nobody can use
    used = set(runs["dataset_id"])
    datasets = datasets[datasets["dataset_id"].isin(used)].drop_duplicates("dataset_id").reset_index(drop=True)
    manifest = new_manifest()
    manifest["sources"].append({"name": source, **SOURCE_INFO[source], "files": files,
                                "parameters": PARAMETER_MAPS[source], "datasets": int(len(datasets)),
                                "runs": int(len(runs)), "dropped": dropped})
    manifest["metrics"] = {m: METRICS[m].manifest_entry() for m in sorted(runs["metric"].unique())}
    providers = metafeature_providers()
    manifest["metafeatures"] = {n: providers.get(n, "?") for n in datasets.columns if n not in DATASET_COLUMNS}
    manifest["learners"] = {n: reg.entry(n).plugin for n in learners}
    kb = KnowledgeBase(datasets, runs.reset_index(drop=True), manifest)
    kb.validate()
    return kb


# -- the three sources ---------------------------------------------------------------------------------


def _openml100_tasks(directory: Path, qualities_path: Path):
    """The OpenML100 tasks: task id, name, rows, features, classes (from the names file and the qualities)."""
    import pandas as pd

    names = _csv_frame(directory / "openml100_task_names.csv", {"task_id", "task_name", "NumberOfInstances"},
                       numeric=("task_id", "NumberOfInstances"))
    if names["task_id"].isna().any():
        row = int(names["task_id"].isna().to_numpy().argmax())
        raise KnowledgeBaseError(f"{directory / 'openml100_task_names.csv'}: column 'task_id' is empty in data row "
                                 f"{row + 1}; is it the source's original file?")
    raw = _json(qualities_path)
    if not isinstance(raw, dict) or not raw:
        raise KnowledgeBaseError(f"{qualities_path}: expected an object of task id -> qualities")
    try:
        qualities = {int(k): dict(v) for k, v in raw.items()}
    except (TypeError, ValueError):
        raise KnowledgeBaseError(f"{qualities_path}: keys must be OpenML task ids, values objects of "
                                 "quality -> value") from None
    tasks = pd.DataFrame({"task_id": names["task_id"].astype(int), "name": names["task_name"].astype(str),
                          "n_rows": names["NumberOfInstances"].astype(float),
                          "n_features": names.get("NumberOfFeatures", pd.Series(math.nan, index=names.index)),
                          "n_classes": names.get("NumberOfClasses", pd.Series(math.nan, index=names.index)),
                          "task_type": "classification"})
    return tasks, qualities


def _records(frame, path: Path, mapper: Callable, metric_cols: dict[str, str], ids, dropped: dict,
             n_rows: dict[int, float]) -> list[dict]:
    """KB run records of an OpenML-flow ARFF frame (one row per run, ``task_id`` naming the task)."""
    out = []
    unknown_tasks, unmapped, bad_score = 0, 0, 0
    for row in frame.to_dict("records"):
        task = _num(row.get("task_id"))
        if task is None or int(task) not in ids:
            unknown_tasks += 1
            continue
        try:
            mapped = mapper(row)
        except (TypeError, ValueError, KeyError):
            mapped = None
        if mapped is None:
            unmapped += 1
            continue
        learner, cfg = mapped
        for column, metric in metric_cols.items():
            score = _num(row.get(column))
            if score is None:
                bad_score += 1
                continue
            out.append({"dataset_id": ids[int(task)][0], "learner": learner, "config": cfg, "metric": metric,
                        "score": score, "train_size": 0.9 * n_rows.get(int(task), math.nan), "n_repeats": 10.0,
                        "fit_time": math.nan})
    dropped[path.name] = {"runs_of_unknown_tasks": unknown_tasks, "unmapped_configurations": unmapped,
                          "missing_scores": bad_score}
    if not out:
        raise KnowledgeBaseError(f"{path}: no run could be imported (unknown tasks or parameters)")
    return out


def import_openml_pimp(directory: str | Path) -> KnowledgeBase:
    """``random_forest.arff`` and ``adaboost.arff`` of openml-pimp as KB runs (accuracy)."""
    directory = Path(directory)
    tasks, qualities = _openml100_tasks(directory, directory / "task_qualities.json")
    ids = _dataset_ids(tasks, _lcdb_datasets(), _task_dids(directory))
    n_rows = dict(zip(tasks["task_id"], tasks["n_rows"]))
    dropped: dict[str, Any] = {}
    records: list[dict] = []
    forest = ["randomforestclassifier__" + p for p in ("bootstrap", "criterion", "max_features", "min_samples_leaf",
                                                     "min_samples_split", "n_estimators")]
    boost = ["adaboostclassifier__" + p for p in ("algorithm", "learning_rate", "base_estimator__max_depth",
                                                  "n_estimators")]
    for name, mapper, cols in (("random_forest.arff", _map_forest, forest), ("adaboost.arff", _map_adaboost, boost)):
        path = directory / name
        frame = _arff_frame(path, set(cols) | {"predictive_accuracy", "task_id"})
        records += _records(frame, path, mapper, {"predictive_accuracy": "accuracy"}, ids, dropped, n_rows)
    datasets = _datasets_table("openml-pimp", tasks, qualities, ids)
    files = ["random_forest.arff", "adaboost.arff", "task_qualities.json", "openml100_task_names.csv"]
    return _kb("openml-pimp", datasets, _runs_table("openml-pimp", records), dropped, files)


def import_sklearn_bot(directory: str | Path, qualities: str | Path | None = None) -> KnowledgeBase:
    """sklearn-bot's SVC runs (accuracy and ROC AUC) as KB runs of svc_rbf / svc_poly / svc_sigmoid."""
    directory = Path(directory)
    if qualities is None:
        near = [directory / "task_qualities.json", directory.parent / "openml-pimp" / "task_qualities.json"]
        found = [p for p in near if p.is_file()]
        if not found:
            raise KnowledgeBaseError(f"{directory}: sklearn-bot ships no data qualities; pass the OpenML100 "
                                     "task_qualities.json of openml-pimp (--qualities FILE)")
        qualities = found[0]
    qualities = _need(Path(qualities))
    names = qualities.parent / "openml100_task_names.csv"
    if not names.is_file():
        raise KnowledgeBaseError(f"{names}: missing; sklearn-bot's tasks are named by openml-pimp's "
                                 f"openml100_task_names.csv, which must lie beside {qualities.name}")
    tasks, quals = _openml100_tasks(qualities.parent, qualities)
    ids = _dataset_ids(tasks, _lcdb_datasets(), _task_dids(directory))
    n_rows = dict(zip(tasks["task_id"], tasks["n_rows"]))
    cols = {"svc__" + p for p in ("C", "gamma", "kernel", "tol", "shrinking", "coef0", "degree")} | {"task_id"}
    dropped: dict[str, Any] = {}
    records: list[dict] = []
    for name, measure, metric in (("svc__predictive_accuracy.arff", "predictive_accuracy", "accuracy"),
                                  ("svc__area_under_roc_curve.arff", "area_under_roc_curve", "auc")):
        path = directory / name
        frame = _arff_frame(path, cols | {measure})
        records += _records(frame, path, _map_svc, {measure: metric}, ids, dropped, n_rows)
    datasets = _datasets_table("sklearn-bot", tasks, quals, ids)
    files = ["svc__predictive_accuracy.arff", "svc__area_under_roc_curve.arff", qualities.name]
    return _kb("sklearn-bot", datasets, _runs_table("sklearn-bot", records), dropped, files)


def _lightgbm_config(name: str, spec: Any, path: Path) -> dict:
    if not isinstance(spec, dict) or not isinstance(spec.get("hyperparameters", {}), dict):
        raise KnowledgeBaseError(f"{path}: configuration {name!r} has no hyperparameters object")
    hp = spec.get("hyperparameters", {})
    return {LIGHTGBM_NAMES[k]: hp[k] for k in LIGHTGBM_NAMES if k in hp}


def import_tabrepo(directory: str | Path) -> KnowledgeBase:
    """TabRepo's LightGBM configurations as KB runs of ``lightgbm`` (auc, logloss or neg_rmse by task)."""
    import pandas as pd

    directory = Path(directory)
    results_path = directory / "lightgbm_results_ranked_by_dataset_valid.csv"
    results = _csv_frame(results_path, {"dataset", "framework", "problem_type", "metric_error", "time_train_s"})
    configs_path = directory / "configs_lightgbm.json"
    raw_configs = _json(configs_path)
    if not isinstance(raw_configs, dict):
        raise KnowledgeBaseError(f"{configs_path}: expected an object of configuration name -> settings")
    configs = {name: _lightgbm_config(name, spec, configs_path) for name, spec in raw_configs.items()}
    meta_path = directory / "task_metadata_244.csv"
    meta = _csv_frame(meta_path, {"tid", "did", "name", "NumberOfInstances"},
                      numeric=("tid", "did", "NumberOfInstances")).drop_duplicates("tid")
    kinds = results.drop_duplicates("dataset").set_index("dataset")["problem_type"]
    meta = meta[meta["tid"].isin(kinds.index)]
    tasks = pd.DataFrame({"task_id": meta["tid"].astype(int), "name": meta["name"].astype(str),
                          "n_rows": meta["NumberOfInstances"].astype(float), "did": meta["did"].astype(float),
                          "n_features": meta.get("NumberOfFeatures", math.nan),
                          "n_classes": meta.get("NumberOfClasses", math.nan),
                          "task_type": ["regression" if kinds[t] == "regression" else "classification"
                                        for t in meta["tid"]]})
    qualities = {int(r["tid"]): {k: r[k] for k in _openml_names() if k in meta.columns}
                 for r in meta.to_dict("records")}
    ids = _dataset_ids(tasks, None)
    metric_of = {"binary": ("auc", lambda e: 1.0 - e), "multiclass": ("logloss", lambda e: e),
                 "regression": ("neg_rmse", lambda e: -e)}
    records, unknown, unmapped = [], 0, 0
    n_rows = dict(zip(tasks["task_id"], tasks["n_rows"]))
    for row in results.to_dict("records"):
        task, err = _num(row["dataset"]), _num(row["metric_error"])
        if task is None or int(task) not in ids or row["problem_type"] not in metric_of or err is None:
            unknown += 1
            continue
        if row["framework"] not in configs:
            unmapped += 1
            continue
        metric, to_score = metric_of[row["problem_type"]]
        records.append({"dataset_id": ids[int(task)][0], "learner": "lightgbm_regressor"
                        if row["problem_type"] == "regression" else "lightgbm",
                        "config": configs[row["framework"]], "metric": metric, "score": to_score(err),
                        "fit_time": _num(row["time_train_s"]) or math.nan,
                        "train_size": n_rows.get(int(task), math.nan), "n_repeats": 1.0})
    if not records:
        raise KnowledgeBaseError(f"{results_path}: no run could be imported (unknown tasks or configurations)")
    dropped = {results_path.name: {"runs_of_unknown_tasks_or_scores": unknown, "unknown_configurations": unmapped}}
    datasets = _datasets_table("tabrepo", tasks, qualities, ids)
    files = [results_path.name, configs_path.name, meta_path.name]
    return _kb("tabrepo", datasets, _runs_table("tabrepo", records), dropped, files)


IMPORTERS: dict[str, Callable[..., KnowledgeBase]] = {
    "openml-pimp": import_openml_pimp,
    "sklearn-bot": import_sklearn_bot,
    "tabrepo": import_tabrepo,
}


def import_hpo(source: str, directory: str | Path, **kwargs) -> KnowledgeBase:
    """Import one of :data:`HPO_SOURCES` from the directory holding its raw files."""
    if source not in IMPORTERS:
        raise KnowledgeBaseError(f"unknown HPO source {source!r}; choose from {', '.join(HPO_SOURCES)}")
    directory = Path(directory)
    if not directory.is_dir():
        raise KnowledgeBaseError(f"{directory}: not a directory; name the directory that holds the raw files "
                                 f"of {source}")
    return IMPORTERS[source](directory, **kwargs)
