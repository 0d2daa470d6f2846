"""Decision trees and forests: CART and extremely randomised trees, random forests and extra-trees ensembles."""

from __future__ import annotations

from ._common import C_, R_, _factory, _class_weight
from .base import Learner

MAX_FEATURES_CHOICES = ("sqrt", "log2", 0.25, 0.5, 0.75, 1.0)


def _tr_depth(cfg: dict) -> dict:
    if "limit_depth" in cfg:
        if not cfg.pop("limit_depth"):
            cfg["max_depth"] = None
    return cfg


def _tree_common(trial, cfg: dict) -> None:
    cfg["max_features"] = trial.suggest_categorical("max_features", list(MAX_FEATURES_CHOICES))
    cfg["min_samples_split"] = trial.suggest_int("min_samples_split", 2, 32, log=True)
    cfg["min_samples_leaf"] = trial.suggest_int("min_samples_leaf", 1, 32, log=True)


def _space_forest_classifier(trial) -> dict:
    cfg = {
        "n_estimators": trial.suggest_int("n_estimators", 10, 500, log=True),
        "criterion": trial.suggest_categorical("criterion", ["gini", "entropy"]),
    }
    _tree_common(trial, cfg)
    cfg["bootstrap"] = trial.suggest_categorical("bootstrap", [True, False])
    _class_weight(trial, cfg)
    return cfg


def _space_forest_regressor(trial) -> dict:
    cfg = {"n_estimators": trial.suggest_int("n_estimators", 10, 500, log=True)}
    _tree_common(trial, cfg)
    cfg["bootstrap"] = trial.suggest_categorical("bootstrap", [True, False])
    return cfg


def _tree_depth(trial, cfg: dict) -> None:
    cfg["limit_depth"] = trial.suggest_categorical("limit_depth", [False, True])
    if cfg["limit_depth"]:
        cfg["max_depth"] = trial.suggest_int("max_depth", 1, 30, log=True)


def _space_tree_classifier(trial) -> dict:
    cfg = {"criterion": trial.suggest_categorical("criterion", ["gini", "entropy"])}
    _tree_depth(trial, cfg)
    _tree_common(trial, cfg)
    _class_weight(trial, cfg)
    return cfg


def _space_tree_regressor(trial) -> dict:
    cfg: dict = {}
    _tree_depth(trial, cfg)
    _tree_common(trial, cfg)
    return cfg


_D_TREE_COMMON = {"min_samples_split": 2, "min_samples_leaf": 1}
LEARNERS: tuple[Learner, ...] = (
    Learner(
        name="extra_trees",
        task_types=C_,
        estimator=_factory("sklearn.ensemble.ExtraTreesClassifier", {"n_jobs": 1}),
        search_space=_space_forest_classifier,
        default_config={
            "n_estimators": 100,
            "criterion": "gini",
            "max_features": "sqrt",
            **_D_TREE_COMMON,
            "bootstrap": False,
            "class_weight": None,
        },
        lcdb_name="sklearn.ensemble.ExtraTreesClassifier",
        family="ensemble",
        description="Extremely randomised trees (n_jobs=1).",
    ),
    Learner(
        name="random_forest",
        task_types=C_,
        estimator=_factory("sklearn.ensemble.RandomForestClassifier", {"n_jobs": 1}),
        search_space=_space_forest_classifier,
        default_config={
            "n_estimators": 100,
            "criterion": "gini",
            "max_features": "sqrt",
            **_D_TREE_COMMON,
            "bootstrap": True,
            "class_weight": None,
        },
        lcdb_name="sklearn.ensemble.RandomForestClassifier",
        family="ensemble",
        description="Random forest (n_jobs=1).",
    ),
    Learner(
        name="decision_tree",
        task_types=C_,
        estimator=_factory("sklearn.tree.DecisionTreeClassifier", translate=_tr_depth),
        search_space=_space_tree_classifier,
        default_config={
            "criterion": "gini",
            "limit_depth": False,
            "max_features": 1.0,
            **_D_TREE_COMMON,
            "class_weight": None,
        },
        lcdb_name="sklearn.tree.DecisionTreeClassifier",
        family="tree",
        description="CART decision tree; default max_features=1.0 is the same as scikit-learn's None.",
    ),
    Learner(
        name="extra_tree",
        task_types=C_,
        estimator=_factory("sklearn.tree.ExtraTreeClassifier", translate=_tr_depth),
        search_space=_space_tree_classifier,
        default_config={
            "criterion": "gini",
            "limit_depth": False,
            "max_features": "sqrt",
            **_D_TREE_COMMON,
            "class_weight": None,
        },
        lcdb_name="sklearn.tree.ExtraTreeClassifier",
        family="tree",
        description="A single extremely randomised tree.",
    ),
    Learner(
        name="random_forest_regressor",
        task_types=R_,
        estimator=_factory("sklearn.ensemble.RandomForestRegressor", {"n_jobs": 1}),
        search_space=_space_forest_regressor,
        default_config={"n_estimators": 100, "max_features": 1.0, **_D_TREE_COMMON, "bootstrap": True},
        family="ensemble",
        description="Random forest regressor (n_jobs=1).",
    ),
    Learner(
        name="extra_trees_regressor",
        task_types=R_,
        estimator=_factory("sklearn.ensemble.ExtraTreesRegressor", {"n_jobs": 1}),
        search_space=_space_forest_regressor,
        default_config={"n_estimators": 100, "max_features": 1.0, **_D_TREE_COMMON, "bootstrap": False},
        family="ensemble",
        description="Extremely randomised trees regressor (n_jobs=1).",
    ),
    Learner(
        name="decision_tree_regressor",
        task_types=R_,
        estimator=_factory("sklearn.tree.DecisionTreeRegressor", translate=_tr_depth),
        search_space=_space_tree_regressor,
        default_config={"limit_depth": False, "max_features": 1.0, **_D_TREE_COMMON},
        family="tree",
        description="CART regression tree (squared error); max_features=1.0 is scikit-learn's None.",
    ),
)
