"""Small knowledge bases for tests that need a KB but not its contents: a synthetic one (24 tasks, a third
of them regression) on which recommendations are cheap and each learner has the configurations a test asks
for, and a two-dataset toy one built by hand."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

#: the meta-features every synthetic task has (OpenML qualities and ``statistical`` group names)
MF = ["NumberOfInstances", "NumberOfFeatures", "NumberOfSymbolicFeatures", "PercentageOfMissingValues",
      "ClassEntropy", "MeanKurtosisOfNumericAtts", "stat_log_n_rows", "stat_fraction_categorical",
      "stat_mean_abs_correlation"]


def synthetic_kb(path: Path, learners: dict[str, tuple[str, ...]], configs: dict[str, list[dict]] | None = None,
                 n_tasks: int = 24, seed: int = 3) -> Path:
    """Save a KB at ``path``: ``learners`` per task type, each run with ``configs[learner]`` (changes to
    its default config, one HPO trial each; default: the default config alone), random scores (accuracy
    for classification, r2 for regression) and fit times."""
    from metarec.kb import KnowledgeBase
    from metarec.kb.format import DATASET_COLUMNS, RUN_COLUMNS, config_id, new_manifest
    from metarec.learners import get_learner

    configs = configs or {}
    rng = np.random.default_rng(seed)
    rows, runs = [], []
    for i in range(n_tasks):
        task = "classification" if i % 3 else "regression"
        did = f"synthetic:{i}"
        mf = dict(zip(MF, rng.uniform(0, 1, len(MF)) * [1e4, 50, 10, 5, 2, 3, 9, 1, 1]))
        if task == "regression":
            mf["ClassEntropy"] = np.nan
        rows.append({"dataset_id": did, "name": did, "source": "test", "task_type": task, "openml_id": np.nan,
                     "n_rows": mf["NumberOfInstances"], "n_features": mf["NumberOfFeatures"],
                     "n_classes": 2.0 if task == "classification" else np.nan, **mf})
        for lr in learners[task]:
            for trial, change in enumerate(configs.get(lr, [{}])):
                text = json.dumps({**get_learner(lr).default_config, **change}, sort_keys=True)
                runs.append({"dataset_id": did, "source": "hpo", "learner": lr, "config_id": config_id(text),
                             "config": text, "metric": "accuracy" if task == "classification" else "r2",
                             "train_size": 100.0, "score": float(rng.uniform(0.5, 0.9)), "score_std": 0.01,
                             "valid_score": np.nan, "valid_score_std": np.nan,
                             "fit_time": float(rng.uniform(0.01, 1)), "n_repeats": 3.0, "trial": float(trial),
                             "status": "ok"})
    m = new_manifest()
    m["sources"] = [{"name": "test"}]
    m["metafeatures"] = {n: "test" for n in MF}
    m["learners"] = {lr: "metarec.learners.builtin" for pair in learners.values() for lr in pair}
    kb = KnowledgeBase(pd.DataFrame(rows)[list(DATASET_COLUMNS) + MF], pd.DataFrame(runs)[list(RUN_COLUMNS)], m)
    return kb.save(path)


#: the learners of the CLI tests' synthetic KB: two per task type
SMALL_KB_LEARNERS = {"classification": ("decision_tree", "knn"), "regression": ("ridge_regressor", "knn_regressor")}


def _small_kb(path: Path) -> Path:
    """The synthetic KB of the bad-input matrix, the one-line error, fault and security tests."""
    return synthetic_kb(path, SMALL_KB_LEARNERS)


def _toy_kb(ids=("a", "b"), learners=("random_forest", "knn")):
    """An in-memory KB of one accuracy run per dataset and learner, score 0.8 everywhere."""
    from metarec.kb import KnowledgeBase
    from metarec.kb.format import RUN_COLUMNS, config_id, new_manifest

    ds = pd.DataFrame({
        "dataset_id": list(ids), "name": list(ids), "source": "test", "task_type": "classification",
        "openml_id": np.nan, "n_rows": 100.0, "n_features": 5.0, "n_classes": 2.0,
        "NumberOfInstances": 100.0, "ClassEntropy": [0.5 + i / 10 for i in range(len(ids))],
    })
    rows = []
    for d in ids:
        for lr in learners:
            rows.append({"dataset_id": d, "source": "hpo", "learner": lr, "config_id": config_id("{}"),
                         "config": "{}", "metric": "accuracy", "train_size": 66.0, "score": 0.8,
                         "score_std": 0.01, "valid_score": np.nan, "valid_score_std": np.nan, "fit_time": 0.1,
                         "n_repeats": 3.0, "trial": 0.0, "status": "ok"})
    m = new_manifest()
    m["sources"] = [{"name": "test"}]
    m["metafeatures"] = {"NumberOfInstances": "x", "ClassEntropy": "x"}
    m["learners"] = {lr: "metarec.learners.builtin" for lr in learners}
    return KnowledgeBase(ds, pd.DataFrame(rows, columns=list(RUN_COLUMNS)), m)
