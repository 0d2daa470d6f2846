"""Warm-started, budgeted Optuna tuning and the scikit-learn-style ``AutoClassifier`` / ``AutoRegressor``.

- :func:`tune` runs a study over the recommended learners (:mod:`.api`), scored by :mod:`.objective`,
  identified and resumed by :mod:`.study`, warm-started by :mod:`.warmstart`, stopped cleanly by Ctrl-C
  (:mod:`.interrupt`); the best pipeline is refit on all the data (:mod:`.refit`).
- :func:`save_model` / :func:`write_report` write what a run produced (:mod:`.output`).
"""

from .api import DEFAULT_WARM_START, MIN_TUNE_ROWS, TuneResult, check_tune_params, tune
from .estimators import AutoClassifier, AutoRegressor
from .output import REPORT_FILES, check_outputs, save_model, write_report
from .refit import LabelEncodedClassifier

__all__ = [
    "tune",
    "TuneResult",
    "AutoClassifier",
    "AutoRegressor",
    "LabelEncodedClassifier",
    "save_model",
    "write_report",
    "check_outputs",
    "check_tune_params",
    "REPORT_FILES",
    "DEFAULT_WARM_START",
    "MIN_TUNE_ROWS",
]
