"""The synthetic knowledge base of the tuning tests (24 tasks; decision_tree / knn / ridge on classification,
ridge_regressor / knn_regressor on regression; 3 configs each; accuracy and r2 only) and the environment
that makes it the default one."""

from __future__ import annotations

from pathlib import Path

import pytest

from ..synthetic_kb import synthetic_kb

#: learner -> the configs the synthetic KB tuned (the first is the default, as in `kb build`)
CONFIGS = {
    "decision_tree": [{}, {"min_samples_leaf": 3}, {"min_samples_leaf": 5}],
    "knn": [{}, {"n_neighbors": 7}, {"n_neighbors": 9, "weights": "distance"}],
    "ridge": [{}, {"alpha": 0.1}, {"alpha": 10.0}],
    "ridge_regressor": [{}, {"alpha": 0.1}, {"alpha": 10.0}],
    "knn_regressor": [{}, {"n_neighbors": 7}, {"n_neighbors": 9}],
}
LEARNERS = {"classification": ("decision_tree", "knn", "ridge"), "regression": ("ridge_regressor", "knn_regressor")}


@pytest.fixture(scope="session")
def tune_kb(tmp_path_factory) -> Path:
    return synthetic_kb(tmp_path_factory.mktemp("tuning_kb") / "kb", LEARNERS, CONFIGS)


@pytest.fixture
def tune_env(tune_kb, tmp_path_factory, tmp_path, monkeypatch):
    """The synthetic KB as the default one, a private meta-model cache, and a scratch working directory."""
    monkeypatch.setenv("METAREC_KB", str(tune_kb))
    monkeypatch.setenv("METAREC_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "tuning_cache"))
    monkeypatch.chdir(tmp_path)
