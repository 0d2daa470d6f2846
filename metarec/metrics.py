"""The one table of metrics: what each one scores, how scikit-learn names it, its direction and bounds.

Every part of metarec that names a metric reads it here: the checks of ``--metric`` / ``metric=``
(:func:`check_metric`, with a "did you mean" for the names people type), the scorer the tuning objective
uses (:func:`scorer_name`), whether it needs ``predict_proba`` (:func:`needs_probabilities`), the values
a recommendation is clipped to, whether values can be compared across datasets, the name shown next to
a score, and the definition a knowledge base's manifest records.

Scores are higher-is-better throughout metarec (a study maximises them, a meta-model predicts them):
log loss, the one metric where lower is better, is scored and shown negated (``neg_logloss``).
"""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass
from typing import Callable, Union

from .exceptions import ParameterError

#: a scorer name, or a function of the number of classes (None for regression) returning one
Scorer = Union[str, Callable[[Union[int, None]], str]]
#: a flag, or a function of the number of classes returning one
ProbaRule = Union[bool, Callable[[Union[int, None]], bool]]


@dataclass(frozen=True)
class Metric:
    """One metric.

    Attributes
    ----------
    name : str
        metarec's name (``--metric``, the ``metric`` column of a knowledge base's runs).
    task_type : str
        ``"classification"`` or ``"regression"``.
    scorer : str or callable
        The scikit-learn scorer name, or a function of the number of classes returning it (AUC: binary
        ``roc_auc`` takes ``decision_function`` scores, multiclass ``roc_auc_ovr`` needs probabilities).
    higher_is_better : bool
        The metric's own direction, as a knowledge base records its values (log loss: False).
    bounds : (float or None, float or None)
        The values the higher-is-better score can take; None where unbounded.
    scale_dependent : bool
        Values depend on the scale of each dataset's target, so they cannot be compared across datasets.
    needs_proba : bool or callable
        Whether it can only be scored from ``predict_proba`` (a function of the number of classes where
        that depends on it).
    label : str
        The name shown next to a (higher-is-better) score.
    definition : str
        One line recorded in a knowledge base's manifest.
    floor : float or None
        Where a score stops telling learners apart: lower scores count as this value when learners are
        compared across datasets (R^2: -1, twice the error of predicting the mean; a heavy-tailed target
        gave R^2 of -1e47).
    """

    name: str
    task_type: str
    scorer: Scorer
    higher_is_better: bool = True
    bounds: tuple[float | None, float | None] = (None, None)
    scale_dependent: bool = False
    needs_proba: ProbaRule = False
    label: str = ""
    definition: str = ""
    floor: float | None = None

    @property
    def shown(self) -> str:
        """The label, or the name when the metric has no label of its own."""
        return self.label or self.name

    def scorer_name(self, n_classes: int | None = None) -> str:
        """The scikit-learn scorer for a target with ``n_classes`` classes (None: regression or unknown)."""
        return self.scorer(n_classes) if callable(self.scorer) else self.scorer

    def needs_probabilities(self, n_classes: int | None = None) -> bool:
        """Whether scoring needs ``predict_proba`` on a target with ``n_classes`` classes."""
        return bool(self.needs_proba(n_classes) if callable(self.needs_proba) else self.needs_proba)

    def clip(self, value: float) -> float:
        """``value`` clipped to the metric's bounds."""
        lo, hi = self.bounds
        lo = -math.inf if lo is None else lo
        hi = math.inf if hi is None else hi
        return float(min(max(float(value), lo), hi))

    def manifest_entry(self) -> dict:
        """What a knowledge base's manifest records of this metric."""
        return {"higher_is_better": self.higher_is_better, "definition": self.definition}


def _auc_scorer(n_classes: int | None) -> str:
    # binary: response_method=("decision_function", "predict_proba"), so learners without probabilities work
    return "roc_auc" if n_classes is not None and n_classes <= 2 else "roc_auc_ovr"


def _auc_needs_proba(n_classes: int | None) -> bool:
    return (n_classes or 0) > 2


_UNIT = (0.0, 1.0)

#: every metric metarec knows, by name
METRICS: dict[str, Metric] = {m.name: m for m in (
    Metric("accuracy", "classification", "accuracy", bounds=_UNIT,
           definition="share of correctly classified test rows"),
    Metric("balanced_accuracy", "classification", "balanced_accuracy", bounds=_UNIT,
           definition="mean recall over classes"),
    Metric("f1", "classification", "f1_macro", bounds=_UNIT,
           definition="F1 score (LCDB: macro average for multiclass)"),
    Metric("auc", "classification", _auc_scorer, bounds=_UNIT, needs_proba=_auc_needs_proba,
           definition="ROC AUC (LCDB: one-vs-rest, weighted for multiclass)"),
    Metric("logloss", "classification", "neg_log_loss", higher_is_better=False, bounds=(None, 0.0),
           needs_proba=True, label="neg_logloss", definition="log loss of predicted probabilities"),
    Metric("r2", "regression", "r2", bounds=(None, 1.0), definition="coefficient of determination", floor=-1.0),
    Metric("neg_rmse", "regression", "neg_root_mean_squared_error", bounds=(None, 0.0), scale_dependent=True,
           definition="minus the root mean squared error"),
    Metric("neg_mae", "regression", "neg_mean_absolute_error", bounds=(None, 0.0), scale_dependent=True,
           definition="minus the mean absolute error"),
)}

#: the metric of a task when none is given
DEFAULT_METRIC = {"classification": "accuracy", "regression": "r2"}

#: names people type for metarec's metrics (scikit-learn's and common short names), for "did you mean"
ALIASES = {
    "roc_auc": "auc", "roc_auc_ovr": "auc", "auroc": "auc", "log_loss": "logloss", "neg_log_loss": "logloss",
    "f1_macro": "f1", "acc": "accuracy", "rmse": "neg_rmse", "neg_root_mean_squared_error": "neg_rmse",
    "mae": "neg_mae", "neg_mean_absolute_error": "neg_mae",
}


def task_metrics(task_type: str) -> tuple[str, ...]:
    """The names of the metrics of ``task_type``, in the table's order."""
    return tuple(name for name, m in METRICS.items() if m.task_type == task_type)


def metric_help() -> str:
    """Every metric by task, for ``--metric``'s help: ``classification: accuracy (default), ...; regression: ...``."""
    parts = []
    for task in ("classification", "regression"):
        names = [n + (" (default)" if n == DEFAULT_METRIC[task] else "") for n in task_metrics(task)]
        parts.append(f"{task}: {', '.join(names)}")
    return "; ".join(parts) + "."


def get_metric(name: str) -> Metric:
    """The :class:`Metric` called ``name`` (metarec's name; see :func:`check_metric` for user input)."""
    try:
        return METRICS[name]
    except KeyError:
        raise ParameterError(f"unknown metric {name!r}; choose one of {', '.join(METRICS)}") from None


def check_metric(metric: str | None, task_type: str) -> str:
    """``metric`` (default: the task's) if it applies to ``task_type``; else a one-line ParameterError,
    with a "did you mean" for an alias or a near miss."""
    metric = metric or DEFAULT_METRIC[task_type]
    own = task_metrics(task_type)
    if metric in own:
        return metric
    choices = ", ".join(own)
    known = list(METRICS)
    if metric in known:
        raise ParameterError(f"metric {metric!r} does not apply to {task_type}; choose one of {choices}")
    text = str(metric).strip().lower()
    guess = text if text in known else ALIASES.get(text)
    if guess is None:
        close = difflib.get_close_matches(text, known + list(ALIASES), n=1)
        guess = (ALIASES.get(close[0], close[0])) if close else None
    if guess is None:
        raise ParameterError(f"unknown metric {metric!r}; choose one of {choices} ({task_type})")
    if guess in own:
        raise ParameterError(f"unknown metric {metric!r}; did you mean {guess!r}? (metrics for {task_type}: {choices})")
    other = METRICS[guess].task_type
    raise ParameterError(f"unknown metric {metric!r}; did you mean {guess!r}? (a {other} metric; for {task_type} "
                         f"choose one of {choices})")


def scorer_name(metric: str, n_classes: int | None = None) -> str:
    """The scikit-learn scorer of ``metric``: binary AUC uses decision_function when there is no predict_proba."""
    return get_metric(metric).scorer_name(n_classes)


def needs_probabilities(metric: str, n_classes: int | None) -> bool:
    """Whether ``metric`` can only be scored from ``predict_proba`` (log loss; AUC over more than 2 classes)."""
    return get_metric(metric).needs_probabilities(n_classes)


def shown_name(metric: str) -> str:
    """How a metric is named next to its values (log loss, scored negated, as ``neg_logloss``)."""
    m = METRICS.get(metric)
    return m.shown if m is not None else metric
