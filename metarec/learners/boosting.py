"""Boosting: scikit-learn's classic and histogram gradient boosting, LightGBM, and AdaBoost over trees."""

from __future__ import annotations

from ._common import C_, R_, _factory
from .base import Learner


def _tr_lightgbm(cfg: dict) -> dict:
    if cfg.get("subsample", 1.0) < 1.0:
        cfg.setdefault("subsample_freq", 1)
    return cfg


def _tr_adaboost(cfg: dict) -> dict:
    """``max_depth`` is the depth of AdaBoost's trees (scikit-learn's ``estimator=``; a stump by default)."""
    from sklearn.tree import DecisionTreeClassifier

    cfg["estimator"] = DecisionTreeClassifier(max_depth=int(cfg.pop("max_depth", 1)))
    return cfg


def _space_adaboost(trial) -> dict:
    return {
        "n_estimators": trial.suggest_int("n_estimators", 10, 500, log=True),
        "learning_rate": trial.suggest_float("learning_rate", 0.01, 2.0, log=True),
        "max_depth": trial.suggest_int("max_depth", 1, 10),
    }


def _space_gradient_boosting(trial) -> dict:
    return {
        "n_estimators": trial.suggest_int("n_estimators", 10, 500, log=True),
        "learning_rate": trial.suggest_float("learning_rate", 0.01, 1.0, log=True),
        "max_depth": trial.suggest_int("max_depth", 1, 8),
        "subsample": trial.suggest_float("subsample", 0.5, 1.0),
        "min_samples_leaf": trial.suggest_int("min_samples_leaf", 1, 32, log=True),
    }


def _space_hist_gradient_boosting(trial) -> dict:
    return {
        "max_iter": trial.suggest_int("max_iter", 10, 500, log=True),
        "learning_rate": trial.suggest_float("learning_rate", 0.01, 1.0, log=True),
        "max_leaf_nodes": trial.suggest_int("max_leaf_nodes", 4, 128, log=True),
        "min_samples_leaf": trial.suggest_int("min_samples_leaf", 2, 128, log=True),
        "l2_regularization": trial.suggest_float("l2_regularization", 0.0, 10.0),
        "max_features": trial.suggest_float("max_features", 0.2, 1.0),
    }


def _space_lightgbm(trial) -> dict:
    return {
        "n_estimators": trial.suggest_int("n_estimators", 10, 500, log=True),
        "learning_rate": trial.suggest_float("learning_rate", 0.01, 1.0, log=True),
        "num_leaves": trial.suggest_int("num_leaves", 4, 128, log=True),
        "min_child_samples": trial.suggest_int("min_child_samples", 2, 128, log=True),
        "subsample": trial.suggest_float("subsample", 0.5, 1.0),
        "colsample_bytree": trial.suggest_float("colsample_bytree", 0.3, 1.0),
        "reg_lambda": trial.suggest_float("reg_lambda", 0.0, 10.0),
    }


_D_GB = {"n_estimators": 100, "learning_rate": 0.1, "max_depth": 3, "subsample": 1.0, "min_samples_leaf": 1}
_D_HGB = {
    "max_iter": 100,
    "learning_rate": 0.1,
    "max_leaf_nodes": 31,
    "min_samples_leaf": 20,
    "l2_regularization": 0.0,
    "max_features": 1.0,
}
_D_LGBM = {
    "n_estimators": 100,
    "learning_rate": 0.1,
    "num_leaves": 31,
    "min_child_samples": 20,
    "subsample": 1.0,
    "colsample_bytree": 1.0,
    "reg_lambda": 0.0,
}
_D_ADA = {"n_estimators": 50, "learning_rate": 1.0, "max_depth": 1}
LEARNERS: tuple[Learner, ...] = (
    Learner(
        name="adaboost",
        task_types=C_,
        estimator=_factory("sklearn.ensemble.AdaBoostClassifier", translate=_tr_adaboost),
        search_space=_space_adaboost,
        default_config=dict(_D_ADA),
        family="boosting",
        description="AdaBoost (SAMME) over decision trees of depth max_depth (stumps by default); not in LCDB.",
    ),
    Learner(
        name="gradient_boosting",
        task_types=C_,
        estimator=_factory("sklearn.ensemble.GradientBoostingClassifier"),
        search_space=_space_gradient_boosting,
        default_config=dict(_D_GB),
        lcdb_name="sklearn.ensemble.GradientBoostingClassifier",
        family="boosting",
        description="scikit-learn's classic gradient boosting (one tree per class per stage: slow with "
        "many classes).",
    ),
    Learner(
        name="lightgbm",
        task_types=C_,
        estimator=_factory(
            "lightgbm.LGBMClassifier", {"n_jobs": 1, "verbose": -1}, translate=_tr_lightgbm
        ),
        search_space=_space_lightgbm,
        default_config=dict(_D_LGBM),
        family="boosting",
        description="LightGBM gradient-boosted trees (n_jobs=1, verbose=-1); not in LCDB.",
    ),
    Learner(
        name="hist_gradient_boosting",
        task_types=C_,
        estimator=_factory("sklearn.ensemble.HistGradientBoostingClassifier"),
        search_space=_space_hist_gradient_boosting,
        default_config=dict(_D_HGB),
        dense=True,
        family="boosting",
        description="scikit-learn's histogram gradient boosting on one-hot encoded categoricals "
        "(early stopping 'auto': on above 10,000 rows); not in LCDB.",
    ),
    Learner(
        name="lightgbm_regressor",
        task_types=R_,
        estimator=_factory(
            "lightgbm.LGBMRegressor", {"n_jobs": 1, "verbose": -1}, translate=_tr_lightgbm
        ),
        search_space=_space_lightgbm,
        default_config=dict(_D_LGBM),
        family="boosting",
        description="LightGBM gradient-boosted trees for regression (n_jobs=1, verbose=-1).",
    ),
    Learner(
        name="hist_gradient_boosting_regressor",
        task_types=R_,
        estimator=_factory("sklearn.ensemble.HistGradientBoostingRegressor"),
        search_space=_space_hist_gradient_boosting,
        default_config=dict(_D_HGB),
        dense=True,
        family="boosting",
        description="scikit-learn's histogram gradient boosting regressor (squared error).",
    ),
    Learner(
        name="gradient_boosting_regressor",
        task_types=R_,
        estimator=_factory("sklearn.ensemble.GradientBoostingRegressor"),
        search_space=_space_gradient_boosting,
        default_config=dict(_D_GB),
        family="boosting",
        description="scikit-learn's classic gradient boosting regressor (squared error).",
    ),
)
