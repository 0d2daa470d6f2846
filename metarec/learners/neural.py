"""Multi-layer perceptrons, for classification and regression."""

from __future__ import annotations

from ._common import C_, R_, _factory
from .base import Learner


def _tr_mlp(cfg: dict) -> dict:
    if "n_layers" in cfg or "n_units" in cfg:
        cfg["hidden_layer_sizes"] = (int(cfg.pop("n_units", 100)),) * int(cfg.pop("n_layers", 1))
    return cfg


def _space_mlp(trial) -> dict:
    return {
        "n_layers": trial.suggest_int("n_layers", 1, 3),
        "n_units": trial.suggest_int("n_units", 16, 256, log=True),
        "activation": trial.suggest_categorical("activation", ["relu", "tanh"]),
        "alpha": trial.suggest_float("alpha", 1e-6, 1e-1, log=True),
        "learning_rate_init": trial.suggest_float("learning_rate_init", 1e-4, 1e-1, log=True),
    }


_D_MLP = {"n_layers": 1, "n_units": 100, "activation": "relu", "alpha": 1e-4, "learning_rate_init": 1e-3}
LEARNERS: tuple[Learner, ...] = (
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
)
