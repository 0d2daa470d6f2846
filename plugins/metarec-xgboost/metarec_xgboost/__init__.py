"""metarec-xgboost: XGBoost learners for metarec.

Registers two learners through the ``register_learners`` hook:

``xgboost``
    :class:`xgboost.XGBClassifier` (histogram trees) behind a label encoder, so it takes the string or
    categorical labels metarec's datasets have.
``xgboost_regressor``
    :class:`xgboost.XGBRegressor` (squared error).

Both share one search space over the usual XGBoost knobs; the default config is XGBoost's own default.
Nothing is imported from xgboost until a pipeline is built, so ``metarec --help`` stays fast.

A new learner has no knowledge-base evidence until it is run on tasks::

    metarec kb build sklearn:iris sklearn:wine --learners xgboost --trials 20 --out xgb_kb
    metarec kb merge knowledge_base xgb_kb --out merged_kb
    metarec recommend data.csv --target y --kb merged_kb
"""

from __future__ import annotations

from metarec import hookimpl
from metarec.learners import Learner

__version__ = "0.1.0"
__all__ = ["LEARNERS", "register_learners", "search_space", "DEFAULT_CONFIG"]

#: XGBoost's own defaults, expressed in the search space's parameter names.
DEFAULT_CONFIG = {
    "n_estimators": 100,
    "learning_rate": 0.3,
    "max_depth": 6,
    "min_child_weight": 1.0,
    "subsample": 1.0,
    "colsample_bytree": 1.0,
    "reg_lambda": 1.0,
    "reg_alpha": 0.0,
}


def search_space(trial) -> dict:
    """Sample an XGBoost config with an Optuna trial (ranges as in common HPO benchmarks)."""
    return {
        "n_estimators": trial.suggest_int("n_estimators", 10, 500, log=True),
        "learning_rate": trial.suggest_float("learning_rate", 0.01, 1.0, log=True),
        "max_depth": trial.suggest_int("max_depth", 1, 12),
        "min_child_weight": trial.suggest_float("min_child_weight", 0.01, 100.0, log=True),
        "subsample": trial.suggest_float("subsample", 0.5, 1.0),
        "colsample_bytree": trial.suggest_float("colsample_bytree", 0.3, 1.0),
        "reg_lambda": trial.suggest_float("reg_lambda", 0.001, 100.0, log=True),
        "reg_alpha": trial.suggest_float("reg_alpha", 0.0, 10.0),
    }


def _classifier(config: dict, random_state: int | None):
    from ._estimators import XGBLabelClassifier

    return XGBLabelClassifier(random_state=random_state, **config)


def _regressor(config: dict, random_state: int | None):
    from ._estimators import make_regressor

    return make_regressor(config, random_state)


LEARNERS = (
    Learner(
        name="xgboost",
        task_types=("classification",),
        estimator=_classifier,
        search_space=search_space,
        default_config=DEFAULT_CONFIG,
        family="boosting",
        description="XGBoost gradient-boosted trees (hist), labels encoded to 0..k-1 (metarec-xgboost plugin)",
    ),
    Learner(
        name="xgboost_regressor",
        task_types=("regression",),
        estimator=_regressor,
        search_space=search_space,
        default_config=DEFAULT_CONFIG,
        family="boosting",
        description="XGBoost gradient-boosted trees (hist), squared error (metarec-xgboost plugin)",
    ),
)


@hookimpl
def register_learners(register):
    for learner in LEARNERS:
        register(learner)
