"""The built-in learners: the 20 LCDB classifiers, LightGBM, HistGradientBoosting, and regressors.

This module is a plugin like any other: it registers :data:`BUILTIN_LEARNERS` through the
``register_learners`` hook. It imports no scikit-learn, LightGBM or Optuna at import time; estimator
classes are imported inside the factories, so ``metarec --help`` stays fast.

Naming scheme
-------------
One learner per task type. Classification learners have short snake_case names; regression learners
are ``<name>_regressor``. Names are keys of knowledge-base rows: renaming one is a KB migration.

Configs
-------
A config is a flat JSON-serialisable dict whose keys are exactly the Optuna parameter names of the
learner's search space, so a config from the knowledge base can be enqueued into a study as is
(``study.enqueue_trial(config)``) and is reproduced by :meth:`~metarec.learners.Learner.suggest`. Most
keys are the estimator's own keyword arguments; a few are small encodings that Optuna can represent,
translated by the factory:

- ``gamma_kind`` (``"scale"`` or ``"value"``) + ``gamma``: SVM ``gamma`` ("scale" or a float).
- ``limit_depth`` (bool) + ``max_depth``: ``max_depth=None`` unless ``limit_depth``.
- ``shrinkage_kind`` (``"auto"`` or ``"value"``) + ``shrinkage``: discriminant-analysis shrinkage.
- ``regularization`` (``"l2"`` or ``"elasticnet"``) + ``l1_ratio``: logistic regression penalty.
- ``n_layers`` + ``n_units``: MLP ``hidden_layer_sizes = (n_units,) * n_layers``.
- ``C`` + ``variant``: passive-aggressive aggressiveness and PA-I / PA-II.

Execution settings (``n_jobs=1``, ``verbose=-1``) are fixed in the factory, not part of the config; a
config key of the same name overrides them. The default config of each learner is scikit-learn's
(LightGBM's) default, as LCDB used defaults, except where noted in the learner's description.

LCDB mapping (metarec name -> LCDB ``learner``)
-----------------------------------------------

=====================  ========================================================
metarec name           LCDB learner
=====================  ========================================================
svc_linear             SVC_linear
svc_poly               SVC_poly
svc_rbf                SVC_rbf
svc_sigmoid            SVC_sigmoid
lda                    sklearn.discriminant_analysis.LinearDiscriminantAnalysis
qda                    sklearn.discriminant_analysis.QuadraticDiscriminantAnalysis
extra_trees            sklearn.ensemble.ExtraTreesClassifier
gradient_boosting      sklearn.ensemble.GradientBoostingClassifier
random_forest          sklearn.ensemble.RandomForestClassifier
logistic_regression    sklearn.linear_model.LogisticRegression
passive_aggressive     sklearn.linear_model.PassiveAggressiveClassifier
perceptron             sklearn.linear_model.Perceptron
ridge                  sklearn.linear_model.RidgeClassifier
sgd                    sklearn.linear_model.SGDClassifier
bernoulli_nb           sklearn.naive_bayes.BernoulliNB
multinomial_nb         sklearn.naive_bayes.MultinomialNB
knn                    sklearn.neighbors.KNeighborsClassifier
mlp                    sklearn.neural_network.MLPClassifier
decision_tree          sklearn.tree.DecisionTreeClassifier
extra_tree             sklearn.tree.ExtraTreeClassifier
=====================  ========================================================

Not in LCDB: ``lightgbm``, ``hist_gradient_boosting`` and every ``*_regressor``. See
``docs/learners.md`` for one line per learner.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from functools import partial
from typing import Callable

from ..hookspecs import hookimpl
from .base import CLASSIFICATION, REGRESSION, Learner

__all__ = ["BUILTIN_LEARNERS", "LCDB_NAMES", "register_learners"]

C_ = (CLASSIFICATION,)
R_ = (REGRESSION,)

MAX_FEATURES_CHOICES = ("sqrt", "log2", 0.25, 0.5, 0.75, 1.0)
CLASS_WEIGHT_CHOICES = (None, "balanced")


# -- estimator factories ------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Spec:
    """How to build one estimator: class path, fixed kwargs, config translation, seeding."""

    path: str
    fixed: dict = field(default_factory=dict)
    translate: Callable[[dict], dict] | None = None
    seeded: bool = True
    scale_target: bool = False


def _import(path: str):
    module, _, name = path.rpartition(".")
    return getattr(importlib.import_module(module), name)


def _build(spec: _Spec, config: dict, random_state: int | None):
    cfg = dict(config or {})
    if spec.translate is not None:
        cfg = spec.translate(cfg)
    kwargs = {**spec.fixed, **cfg}
    if spec.seeded:
        kwargs["random_state"] = random_state
    est = _import(spec.path)(**kwargs)
    if spec.scale_target:
        from sklearn.compose import TransformedTargetRegressor
        from sklearn.preprocessing import StandardScaler

        est = TransformedTargetRegressor(regressor=est, transformer=StandardScaler())
    return est


def _factory(path: str, fixed: dict | None = None, translate=None, seeded=True, scale_target=False):
    return partial(_build, _Spec(path, dict(fixed or {}), translate, seeded, scale_target))


# config translations (module level, so learners and pipelines pickle)
def _tr_gamma(cfg: dict) -> dict:
    kind = cfg.pop("gamma_kind", None)
    if kind == "scale":
        cfg["gamma"] = "scale"
    return cfg


def _tr_depth(cfg: dict) -> dict:
    if "limit_depth" in cfg:
        if not cfg.pop("limit_depth"):
            cfg["max_depth"] = None
    return cfg


def _tr_shrinkage(cfg: dict) -> dict:
    kind = cfg.pop("shrinkage_kind", None)
    if kind == "auto":
        cfg["shrinkage"] = "auto"
    if cfg.get("solver") == "svd":
        cfg.pop("shrinkage", None)
    return cfg


def _tr_logreg(cfg: dict) -> dict:
    reg = cfg.pop("regularization", None)
    if reg == "l2":
        cfg["l1_ratio"] = 0.0
        cfg.setdefault("solver", "lbfgs")
    elif reg == "elasticnet":
        cfg.setdefault("solver", "saga")
    return cfg


def _tr_passive_aggressive(cfg: dict) -> dict:
    if "C" in cfg:
        cfg["eta0"] = cfg.pop("C")
    if "variant" in cfg:
        cfg["learning_rate"] = cfg.pop("variant")
    return cfg


def _tr_penalty(cfg: dict) -> dict:
    """SGD / Perceptron: drop ``alpha`` / ``l1_ratio`` that the penalty does not use."""
    penalty = cfg.get("penalty", "l2")
    if penalty != "elasticnet":
        cfg.pop("l1_ratio", None)
    if penalty is None:
        cfg.pop("alpha", None)
    return cfg


def _tr_mlp(cfg: dict) -> dict:
    if "n_layers" in cfg or "n_units" in cfg:
        cfg["hidden_layer_sizes"] = (int(cfg.pop("n_units", 100)),) * int(cfg.pop("n_layers", 1))
    return cfg


def _tr_lightgbm(cfg: dict) -> dict:
    if cfg.get("subsample", 1.0) < 1.0:
        cfg.setdefault("subsample_freq", 1)
    return cfg


# -- search-space pieces --------------------------------------------------------------------------------
def _gamma(trial, cfg: dict, high: float = 10.0) -> None:
    cfg["gamma_kind"] = trial.suggest_categorical("gamma_kind", ["scale", "value"])
    if cfg["gamma_kind"] == "value":
        cfg["gamma"] = trial.suggest_float("gamma", 1e-4, high, log=True)


def _class_weight(trial, cfg: dict) -> None:
    cfg["class_weight"] = trial.suggest_categorical("class_weight", list(CLASS_WEIGHT_CHOICES))


def _shrinkage(trial, cfg: dict) -> None:
    cfg["shrinkage_kind"] = trial.suggest_categorical("shrinkage_kind", ["auto", "value"])
    if cfg["shrinkage_kind"] == "value":
        cfg["shrinkage"] = trial.suggest_float("shrinkage", 0.01, 1.0, log=True)


def _tree_common(trial, cfg: dict) -> None:
    cfg["max_features"] = trial.suggest_categorical("max_features", list(MAX_FEATURES_CHOICES))
    cfg["min_samples_split"] = trial.suggest_int("min_samples_split", 2, 32, log=True)
    cfg["min_samples_leaf"] = trial.suggest_int("min_samples_leaf", 1, 32, log=True)


# SVM
def _space_svc_linear(trial) -> dict:
    cfg = {"C": trial.suggest_float("C", 1e-3, 1e2, log=True)}
    _class_weight(trial, cfg)
    return cfg


def _space_svc_poly(trial) -> dict:
    cfg = {"C": trial.suggest_float("C", 1e-3, 1e2, log=True), "degree": trial.suggest_int("degree", 2, 5)}
    _gamma(trial, cfg, high=1.0)
    cfg["coef0"] = trial.suggest_float("coef0", 0.0, 1.0)
    _class_weight(trial, cfg)
    return cfg


def _space_svc_rbf(trial) -> dict:
    cfg = {"C": trial.suggest_float("C", 1e-3, 1e3, log=True)}
    _gamma(trial, cfg)
    _class_weight(trial, cfg)
    return cfg


def _space_svc_sigmoid(trial) -> dict:
    cfg = {"C": trial.suggest_float("C", 1e-3, 1e3, log=True)}
    _gamma(trial, cfg)
    cfg["coef0"] = trial.suggest_float("coef0", -1.0, 1.0)
    _class_weight(trial, cfg)
    return cfg


def _space_svr(trial) -> dict:
    cfg = {
        "C": trial.suggest_float("C", 1e-3, 1e3, log=True),
        "epsilon": trial.suggest_float("epsilon", 1e-3, 1.0, log=True),
    }
    _gamma(trial, cfg)
    return cfg


# discriminant analysis
def _space_lda(trial) -> dict:
    cfg = {"solver": trial.suggest_categorical("solver", ["svd", "lsqr"])}
    if cfg["solver"] == "lsqr":
        _shrinkage(trial, cfg)
    return cfg


def _space_qda(trial) -> dict:
    cfg: dict = {}
    _shrinkage(trial, cfg)
    return cfg


# trees and forests
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


# boosting
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


# linear models
def _space_logistic_regression(trial) -> dict:
    cfg = {
        "C": trial.suggest_float("C", 1e-4, 1e4, log=True),
        "regularization": trial.suggest_categorical("regularization", ["l2", "elasticnet"]),
    }
    if cfg["regularization"] == "elasticnet":
        cfg["l1_ratio"] = trial.suggest_float("l1_ratio", 0.0, 1.0)
    _class_weight(trial, cfg)
    return cfg


def _space_passive_aggressive(trial) -> dict:
    return {
        "C": trial.suggest_float("C", 1e-3, 10.0, log=True),
        "variant": trial.suggest_categorical("variant", ["pa1", "pa2"]),
    }


def _penalty(trial, cfg: dict, choices: list) -> None:
    cfg["penalty"] = trial.suggest_categorical("penalty", choices)
    if cfg["penalty"] is not None:
        cfg["alpha"] = trial.suggest_float("alpha", 1e-6, 1e-1, log=True)
    if cfg["penalty"] == "elasticnet":
        cfg["l1_ratio"] = trial.suggest_float("l1_ratio", 0.0, 1.0)


def _space_perceptron(trial) -> dict:
    cfg: dict = {}
    _penalty(trial, cfg, [None, "l2", "l1", "elasticnet"])
    cfg["eta0"] = trial.suggest_float("eta0", 1e-3, 10.0, log=True)
    _class_weight(trial, cfg)
    return cfg


def _space_sgd(trial) -> dict:
    cfg = {
        "loss": trial.suggest_categorical(
            "loss", ["hinge", "log_loss", "modified_huber", "squared_hinge", "perceptron"]
        )
    }
    _penalty(trial, cfg, ["l2", "l1", "elasticnet"])
    return cfg


def _space_ridge_classifier(trial) -> dict:
    cfg = {"alpha": trial.suggest_float("alpha", 1e-3, 1e3, log=True)}
    _class_weight(trial, cfg)
    return cfg


def _space_ridge(trial) -> dict:
    return {"alpha": trial.suggest_float("alpha", 1e-3, 1e3, log=True)}


def _space_elastic_net(trial) -> dict:
    return {
        "alpha": trial.suggest_float("alpha", 1e-4, 10.0, log=True),
        "l1_ratio": trial.suggest_float("l1_ratio", 0.0, 1.0),
    }


# naive Bayes, neighbours, neural networks
def _space_bernoulli_nb(trial) -> dict:
    return {
        "alpha": trial.suggest_float("alpha", 1e-3, 10.0, log=True),
        "binarize": trial.suggest_float("binarize", 0.0, 1.5),
        "fit_prior": trial.suggest_categorical("fit_prior", [True, False]),
    }


def _space_multinomial_nb(trial) -> dict:
    return {
        "alpha": trial.suggest_float("alpha", 1e-3, 10.0, log=True),
        "fit_prior": trial.suggest_categorical("fit_prior", [True, False]),
    }


def _space_knn(trial) -> dict:
    return {
        "n_neighbors": trial.suggest_int("n_neighbors", 1, 50, log=True),
        "weights": trial.suggest_categorical("weights", ["uniform", "distance"]),
        "p": trial.suggest_int("p", 1, 2),
    }


def _space_mlp(trial) -> dict:
    return {
        "n_layers": trial.suggest_int("n_layers", 1, 3),
        "n_units": trial.suggest_int("n_units", 16, 256, log=True),
        "activation": trial.suggest_categorical("activation", ["relu", "tanh"]),
        "alpha": trial.suggest_float("alpha", 1e-6, 1e-1, log=True),
        "learning_rate_init": trial.suggest_float("learning_rate_init", 1e-4, 1e-1, log=True),
    }


# -- default configs (scikit-learn / LightGBM defaults, in search-space encoding) ------------------
_D_SVC_LINEAR = {"C": 1.0, "class_weight": None}
_D_SVC_POLY = {"C": 1.0, "degree": 3, "gamma_kind": "scale", "coef0": 0.0, "class_weight": None}
_D_SVC_RBF = {"C": 1.0, "gamma_kind": "scale", "class_weight": None}
_D_SVC_SIGMOID = {"C": 1.0, "gamma_kind": "scale", "coef0": 0.0, "class_weight": None}
_D_TREE_COMMON = {"min_samples_split": 2, "min_samples_leaf": 1}
_D_MLP = {"n_layers": 1, "n_units": 100, "activation": "relu", "alpha": 1e-4, "learning_rate_init": 1e-3}
_D_KNN = {"n_neighbors": 5, "weights": "uniform", "p": 2}
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

_SVC = "sklearn.svm.SVC"
_PREDICT_ONLY = (
    " Built without probability estimates (SVC(probability=...) is deprecated in scikit-learn 1.9):"
    " predict and decision_function only."
)


BUILTIN_LEARNERS: tuple[Learner, ...] = (
    # ---- classification: the 20 LCDB learners --------------------------------------------------------
    Learner(
        name="svc_linear",
        task_types=C_,
        estimator=_factory(_SVC, {"kernel": "linear"}),
        search_space=_space_svc_linear,
        default_config=dict(_D_SVC_LINEAR),
        scale=True,
        lcdb_name="SVC_linear",
        family="svm",
        description="Support vector classifier with a linear kernel (libsvm)." + _PREDICT_ONLY,
    ),
    Learner(
        name="svc_poly",
        task_types=C_,
        estimator=_factory(_SVC, {"kernel": "poly"}, translate=_tr_gamma),
        search_space=_space_svc_poly,
        default_config=dict(_D_SVC_POLY),
        scale=True,
        lcdb_name="SVC_poly",
        family="svm",
        description="Support vector classifier with a polynomial kernel." + _PREDICT_ONLY,
    ),
    Learner(
        name="svc_rbf",
        task_types=C_,
        estimator=_factory(_SVC, {"kernel": "rbf"}, translate=_tr_gamma),
        search_space=_space_svc_rbf,
        default_config=dict(_D_SVC_RBF),
        scale=True,
        lcdb_name="SVC_rbf",
        family="svm",
        description="Support vector classifier with an RBF kernel." + _PREDICT_ONLY,
    ),
    Learner(
        name="svc_sigmoid",
        task_types=C_,
        estimator=_factory(_SVC, {"kernel": "sigmoid"}, translate=_tr_gamma),
        search_space=_space_svc_sigmoid,
        default_config=dict(_D_SVC_SIGMOID),
        scale=True,
        lcdb_name="SVC_sigmoid",
        family="svm",
        description="Support vector classifier with a sigmoid kernel." + _PREDICT_ONLY,
    ),
    Learner(
        name="lda",
        task_types=C_,
        estimator=_factory(
            "sklearn.discriminant_analysis.LinearDiscriminantAnalysis", translate=_tr_shrinkage, seeded=False
        ),
        search_space=_space_lda,
        default_config={"solver": "svd"},
        scale=True,
        dense=True,
        lcdb_name="sklearn.discriminant_analysis.LinearDiscriminantAnalysis",
        family="discriminant_analysis",
        description="Linear discriminant analysis; default as in LCDB (svd solver), tuning adds the lsqr "
        "solver with Ledoit-Wolf or fixed shrinkage.",
    ),
    Learner(
        name="qda",
        task_types=C_,
        estimator=_factory(
            "sklearn.discriminant_analysis.QuadraticDiscriminantAnalysis",
            {"solver": "eigen"},
            translate=_tr_shrinkage,
            seeded=False,
        ),
        search_space=_space_qda,
        default_config={"shrinkage_kind": "auto"},
        scale=True,
        dense=True,
        lcdb_name="sklearn.discriminant_analysis.QuadraticDiscriminantAnalysis",
        family="discriminant_analysis",
        description="Quadratic discriminant analysis with the eigen solver and Ledoit-Wolf shrinkage by "
        "default (LCDB: svd solver, reg_param=0, which fails on collinear one-hot columns and on classes "
        "with fewer rows than features); still needs >= 2 rows per class.",
    ),
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
        name="logistic_regression",
        task_types=C_,
        estimator=_factory("sklearn.linear_model.LogisticRegression", translate=_tr_logreg),
        search_space=_space_logistic_regression,
        default_config={"C": 1.0, "regularization": "l2", "class_weight": None},
        scale=True,
        lcdb_name="sklearn.linear_model.LogisticRegression",
        family="linear",
        description="Logistic regression; L2 via l1_ratio=0 with lbfgs (the `penalty` argument is "
        "deprecated since scikit-learn 1.8), elastic net via the saga solver; max_iter=100 as in LCDB.",
    ),
    Learner(
        name="passive_aggressive",
        task_types=C_,
        estimator=_factory(
            "sklearn.linear_model.SGDClassifier",
            {"loss": "hinge", "penalty": None, "learning_rate": "pa1", "eta0": 1.0},
            translate=_tr_passive_aggressive,
        ),
        search_space=_space_passive_aggressive,
        default_config={"C": 1.0, "variant": "pa1"},
        scale=True,
        lcdb_name="sklearn.linear_model.PassiveAggressiveClassifier",
        family="linear",
        description="Passive-aggressive classifier built as SGDClassifier(loss='hinge', penalty=None, "
        "learning_rate='pa1'|'pa2', eta0=C), scikit-learn's replacement for PassiveAggressiveClassifier "
        "(deprecated in 1.8, removed in 1.10); default PA-I with C=1 as in LCDB.",
    ),
    Learner(
        name="perceptron",
        task_types=C_,
        estimator=_factory("sklearn.linear_model.Perceptron", translate=_tr_penalty),
        search_space=_space_perceptron,
        default_config={"penalty": None, "eta0": 1.0, "class_weight": None},
        scale=True,
        lcdb_name="sklearn.linear_model.Perceptron",
        family="linear",
        description="Perceptron; random_state is metarec's seed (scikit-learn's default is 0).",
    ),
    Learner(
        name="ridge",
        task_types=C_,
        estimator=_factory("sklearn.linear_model.RidgeClassifier"),
        search_space=_space_ridge_classifier,
        default_config={"alpha": 1.0, "class_weight": None},
        scale=True,
        lcdb_name="sklearn.linear_model.RidgeClassifier",
        family="linear",
        description="Ridge classifier (least squares on {-1, 1} targets).",
    ),
    Learner(
        name="sgd",
        task_types=C_,
        estimator=_factory("sklearn.linear_model.SGDClassifier", translate=_tr_penalty),
        search_space=_space_sgd,
        default_config={"loss": "hinge", "penalty": "l2", "alpha": 1e-4},
        scale=True,
        lcdb_name="sklearn.linear_model.SGDClassifier",
        family="linear",
        description="Linear model trained by stochastic gradient descent (default: linear SVM, hinge loss).",
    ),
    Learner(
        name="bernoulli_nb",
        task_types=C_,
        estimator=_factory("sklearn.naive_bayes.BernoulliNB", seeded=False),
        search_space=_space_bernoulli_nb,
        default_config={"alpha": 1.0, "binarize": 0.0, "fit_prior": True},
        scale=True,
        lcdb_name="sklearn.naive_bayes.BernoulliNB",
        family="naive_bayes",
        description="Bernoulli naive Bayes; numeric columns are standardised first, so the default "
        "binarize=0 thresholds them at their mean.",
    ),
    Learner(
        name="multinomial_nb",
        task_types=C_,
        estimator=_factory("sklearn.naive_bayes.MultinomialNB", seeded=False),
        search_space=_space_multinomial_nb,
        default_config={"alpha": 1.0, "fit_prior": True},
        nonnegative=True,
        lcdb_name="sklearn.naive_bayes.MultinomialNB",
        family="naive_bayes",
        description="Multinomial naive Bayes on min-max scaled (non-negative) numerics and one-hot "
        "categoricals.",
    ),
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
        name="mlp",
        task_types=C_,
        estimator=_factory("sklearn.neural_network.MLPClassifier", translate=_tr_mlp),
        search_space=_space_mlp,
        default_config=dict(_D_MLP),
        scale=True,
        lcdb_name="sklearn.neural_network.MLPClassifier",
        family="neural_network",
        description="Multi-layer perceptron (adam, max_iter=200 as in LCDB); hidden_layer_sizes is "
        "(n_units,) * n_layers.",
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
    # ---- classification: not in LCDB ------------------------------------------------------------------
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
    # ---- regression ---------------------------------------------------------------------------------
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
    Learner(
        name="ridge_regressor",
        task_types=R_,
        estimator=_factory("sklearn.linear_model.Ridge"),
        search_space=_space_ridge,
        default_config={"alpha": 1.0},
        scale=True,
        family="linear",
        description="Ridge regression on standardised numerics.",
    ),
    Learner(
        name="elastic_net_regressor",
        task_types=R_,
        estimator=_factory("sklearn.linear_model.ElasticNet", scale_target=True),
        search_space=_space_elastic_net,
        default_config={"alpha": 1.0, "l1_ratio": 0.5},
        scale=True,
        family="linear",
        description="Elastic net; the target is standardised (TransformedTargetRegressor) so alpha does "
        "not depend on the target's scale.",
    ),
    Learner(
        name="svr_regressor",
        task_types=R_,
        estimator=_factory(
            "sklearn.svm.SVR", {"kernel": "rbf"}, translate=_tr_gamma, seeded=False, scale_target=True
        ),
        search_space=_space_svr,
        default_config={"C": 1.0, "epsilon": 0.1, "gamma_kind": "scale"},
        scale=True,
        family="svm",
        description="Support vector regression with an RBF kernel; the target is standardised "
        "(TransformedTargetRegressor) so C and epsilon do not depend on the target's scale.",
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
    Learner(
        name="mlp_regressor",
        task_types=R_,
        estimator=_factory("sklearn.neural_network.MLPRegressor", translate=_tr_mlp, scale_target=True),
        search_space=_space_mlp,
        default_config=dict(_D_MLP),
        scale=True,
        family="neural_network",
        description="Multi-layer perceptron regressor (adam, max_iter=200); the target is standardised "
        "(TransformedTargetRegressor).",
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

#: metarec learner name -> LCDB ``learner`` string (the 20 LCDB classifiers).
LCDB_NAMES: dict[str, str] = {lr.name: lr.lcdb_name for lr in BUILTIN_LEARNERS if lr.lcdb_name}


@hookimpl
def register_learners(register):
    for learner in BUILTIN_LEARNERS:
        register(learner)
