"""k-nearest neighbours, for classification and regression."""

from __future__ import annotations

from ._common import C_, R_, _factory
from .base import Learner


def _space_knn(trial) -> dict:
    return {
        "n_neighbors": trial.suggest_int("n_neighbors", 1, 50, log=True),
        "weights": trial.suggest_categorical("weights", ["uniform", "distance"]),
        "p": trial.suggest_int("p", 1, 2),
    }


_D_KNN = {"n_neighbors": 5, "weights": "uniform", "p": 2}
LEARNERS: tuple[Learner, ...] = (
    Learner(
        name="knn",
        task_types=C_,
        estimator=_factory("sklearn.neighbors.KNeighborsClassifier", {"n_jobs": 1}, seeded=False),
        search_space=_space_knn,
        default_config=dict(_D_KNN),
        scale=True,
        lcdb_name="sklearn.neighbors.KNeighborsClassifier",
        family="neighbors",
        description="k-nearest neighbours on standardised numerics (n_jobs=1).",
    ),
    Learner(
        name="knn_regressor",
        task_types=R_,
        estimator=_factory("sklearn.neighbors.KNeighborsRegressor", {"n_jobs": 1}, seeded=False),
        search_space=_space_knn,
        default_config=dict(_D_KNN),
        scale=True,
        family="neighbors",
        description="k-nearest neighbours regressor on standardised numerics (n_jobs=1).",
    ),
)
