"""Support vector machines: the four LCDB SVC kernels and RBF support-vector regression."""

from __future__ import annotations

from ._common import C_, R_, _factory, _class_weight
from .base import Learner


def _tr_gamma(cfg: dict) -> dict:
    kind = cfg.pop("gamma_kind", None)
    if kind == "scale":
        cfg["gamma"] = "scale"
    return cfg


def _gamma(trial, cfg: dict, high: float = 10.0) -> None:
    cfg["gamma_kind"] = trial.suggest_categorical("gamma_kind", ["scale", "value"])
    if cfg["gamma_kind"] == "value":
        cfg["gamma"] = trial.suggest_float("gamma", 1e-4, high, log=True)


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


_D_SVC_LINEAR = {"C": 1.0, "class_weight": None}
_D_SVC_POLY = {"C": 1.0, "degree": 3, "gamma_kind": "scale", "coef0": 0.0, "class_weight": None}
_D_SVC_RBF = {"C": 1.0, "gamma_kind": "scale", "class_weight": None}
_D_SVC_SIGMOID = {"C": 1.0, "gamma_kind": "scale", "coef0": 0.0, "class_weight": None}
_SVC = "sklearn.svm.SVC"
_PREDICT_ONLY = (
    " Built without probability estimates (SVC(probability=...) is deprecated in scikit-learn 1.9):"
    " predict and decision_function only."
)
LEARNERS: tuple[Learner, ...] = (
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
)
