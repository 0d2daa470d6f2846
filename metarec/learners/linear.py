"""Linear models: logistic regression, passive-aggressive, perceptron, ridge, SGD; ridge and elastic-net
regression."""

from __future__ import annotations

from ._common import C_, R_, _factory, _class_weight
from .base import Learner


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


LEARNERS: tuple[Learner, ...] = (
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
)
