"""Meta-features: named, fixed sets of numbers describing a dataset, computed by plugin groups.

Built-in groups (see :mod:`metarec.metafeatures.builtin`):

``openml``
    OpenML's data qualities under their OpenML names (``NumberOfInstances``, ``ClassEntropy``, ...), so
    values line up with a knowledge base built from OpenML.
``statistical``
    ``stat_*``: shape, sparsity, correlation, PCA spectrum, canonical/feature-target correlation, class
    imbalance, regression-target shape.
``landmarkers``
    ``lm_*``: cross-validated scores of fast learners (1-NN, stump, random node, LDA, naive Bayes, linear
    regression).
``subsample``
    ``sub_*``: test accuracy of 10 LCDB learners trained on at most 512 rows (learning-curve landmarkers;
    the KB's LCDB part has the same points from LCDB's curves). Classification only.

:data:`DEFAULT_GROUPS` is all four, in that order. Third-party groups register through the
``register_metafeatures`` hook and are computed when asked for by name (or with ``groups="all"``).

Importing this package is cheap: numpy, pandas and scikit-learn are imported when features are computed.
"""

from __future__ import annotations

import logging
import math
import time
import warnings
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Iterable

from ..exceptions import MetaFeatureError, PluginError, check_seconds
from .base import Budget, BudgetExceeded, MetaFeatureGroup

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from ..data import Dataset

__all__ = [
    "extract_metafeatures",
    "get_group",
    "get_groups",
    "feature_names",
    "ExtractionReport",
    "GroupReport",
    "MetaFeatureGroup",
    "Budget",
    "BudgetExceeded",
    "DEFAULT_GROUPS",
]

logger = logging.getLogger(__name__)

#: The groups computed when ``groups`` is not given, in column order.
DEFAULT_GROUPS: tuple[str, ...] = ("openml", "statistical", "landmarkers", "subsample")

OK, PARTIAL, SKIPPED = "ok", "partial", "skipped"
_NO_REGRESSION = "the group does not support regression targets"


@dataclass
class GroupReport:
    """What happened to one group: ``status`` is ``ok``, ``partial`` (some features skipped) or
    ``skipped`` (every feature NaN; ``error`` says why); ``skipped`` maps feature -> reason."""

    name: str
    status: str = OK
    seconds: float = 0.0
    skipped: dict[str, str] = field(default_factory=dict)
    error: str | None = None


@dataclass
class ExtractionReport:
    """Per-group timing, status and skipped features of one :func:`extract_metafeatures` call."""

    dataset: str
    time_budget: float | None = None
    seconds: float = 0.0
    groups: dict[str, GroupReport] = field(default_factory=dict)

    @property
    def skipped_features(self) -> dict[str, str]:
        """Every skipped feature (all groups) -> reason."""
        return {f: r for g in self.groups.values() for f, r in g.skipped.items()}

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def problems(self) -> list[str]:
        """One readable line per group that was not computed in full (a classification-only group on
        regression data is not one: it does not apply)."""
        lines = []
        for g, r in self.groups.items():
            if r.status == OK or r.error == _NO_REGRESSION:  # a group that does not apply is not a problem
                continue
            why = r.error or (next(iter(r.skipped.values())) if r.skipped else "")
            what = "every feature NaN" if r.status != "partial" else f"{len(r.skipped)} feature(s) NaN"
            lines.append(f"meta-feature group {g} {r.status}: {what} ({why})")
        return lines


# -- registry access -----------------------------------------------------------------------------------


def _registry():
    from ..plugins import get_plugin_host

    return get_plugin_host().registry("metafeature group")


def get_group(name: str) -> MetaFeatureGroup:
    """The registered meta-feature group called ``name``.

    Raises
    ------
    MetaFeatureError
        If no plugin registered ``name`` (the message lists the known groups), or several did.
    """
    reg = _registry()
    try:
        return reg.get(name)
    except PluginError as exc:
        raise MetaFeatureError(str(exc)) from None


def get_groups() -> list[MetaFeatureGroup]:
    """All registered meta-feature groups, built-ins first, in registration order."""
    return [e.obj for e in _registry().entries()]


def _resolve(groups: str | Iterable[str | MetaFeatureGroup] | None) -> tuple[list[MetaFeatureGroup], list[str]]:
    """The groups to compute, and the default groups that are not registered (left out)."""
    if groups is None:
        reg = _registry()
        missing = [g for g in DEFAULT_GROUPS if g not in reg]
        return [reg.get(g) for g in DEFAULT_GROUPS if g in reg], missing
    if isinstance(groups, (str, MetaFeatureGroup)):
        groups = [groups]
    items: list[str | MetaFeatureGroup] = []
    for g in groups:
        if isinstance(g, str):
            items.extend(part.strip() for part in g.split(",") if part.strip())
        else:
            items.append(g)
    if any(g == "all" for g in items):
        return get_groups(), []
    chosen: list[MetaFeatureGroup] = []
    for g in items:
        if not isinstance(g, (str, MetaFeatureGroup)):
            raise MetaFeatureError(f"groups must be names or MetaFeatureGroup objects, got {type(g).__name__}")
        group = get_group(g) if isinstance(g, str) else g
        if all(group.name != c.name for c in chosen):
            chosen.append(group)
    if not chosen:
        raise MetaFeatureError("no meta-feature group given; pass names such as " + ", ".join(DEFAULT_GROUPS))
    return chosen, []


def _check_unique(groups: list[MetaFeatureGroup]) -> None:
    owner: dict[str, str] = {}
    for group in groups:
        for name in group.feature_names:
            if name in owner and owner[name] != group.name:
                raise MetaFeatureError(
                    f"meta-feature {name!r} is declared by both group {owner[name]!r} and group {group.name!r}; "
                    "compute them separately or uninstall one"
                )
            owner[name] = group.name


def feature_names(groups: str | Iterable[str | MetaFeatureGroup] | None = None) -> list[str]:
    """The declared feature names of ``groups`` (default: :data:`DEFAULT_GROUPS`), in column order."""
    chosen, _ = _resolve(groups)
    _check_unique(chosen)
    return [name for group in chosen for name in group.feature_names]


# -- extraction ----------------------------------------------------------------------------------------


def _as_dataset(data: Any, target: str | None, task_type: str | None) -> Dataset:
    from ..data import Dataset

    if isinstance(data, Dataset):
        if task_type is not None and task_type != data.task_type:
            raise MetaFeatureError(
                f"task_type={task_type!r} but the Dataset is a {data.task_type} task; "
                "pass the raw data to load it with another task type"
            )
        if target is not None and target != data.target:
            raise MetaFeatureError(f"target={target!r} but the Dataset's target is {data.target!r}")
        return data
    from ..data import load_dataset

    return load_dataset(data, target=target, task_type=task_type)


def _as_float(value: Any) -> float | None:
    """``value`` as a float (inf -> NaN), or None if it is not a number."""
    if isinstance(value, (str, bytes)):
        return None
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return out if math.isfinite(out) else math.nan


def _run_group(group: MetaFeatureGroup, dataset: Any, budget: Budget) -> tuple[dict[str, float], GroupReport]:
    report = GroupReport(group.name)
    names = tuple(group.feature_names)
    values = dict.fromkeys(names, math.nan)
    start = time.perf_counter()
    if dataset.task_type == "regression" and not group.supports_regression:
        report.status, report.error = SKIPPED, _NO_REGRESSION
        return values, report
    skipped: dict[str, str] = {}
    try:
        budget.check(f"group {group.name!r}")
        with warnings.catch_warnings():  # numpy's "invalid value" on degenerate data: the value is NaN
            warnings.simplefilter("ignore", RuntimeWarning)
            raw = dict(group.compute(dataset, budget, skipped))
    except BudgetExceeded as exc:
        report.status, report.error = SKIPPED, str(exc)
    except Exception as exc:  # a broken group costs its own features only
        report.status, report.error = SKIPPED, f"{type(exc).__name__}: {exc}"
    else:
        for name in names:
            if name not in raw:
                skipped.setdefault(name, "not returned by the group")
                continue
            value = _as_float(raw[name])
            if value is None:
                skipped.setdefault(name, f"not a number: {raw[name]!r}")
            else:
                values[name] = value
        extra = [k for k in raw if k not in values]
        if extra:
            logger.debug("group %r returned undeclared features, ignored: %s", group.name, extra)
        report.skipped = {k: v for k, v in skipped.items() if k in values}
        if report.skipped:
            report.status = SKIPPED if len(report.skipped) == len(names) else PARTIAL
    report.seconds = time.perf_counter() - start
    return values, report


def extract_metafeatures(
    data: Any,
    target: str | None = None,
    *,
    groups: str | Iterable[str | MetaFeatureGroup] | None = None,
    time_budget: float | None = None,
    task_type: str | None = None,
    return_report: bool = False,
) -> pd.Series | tuple[pd.Series, ExtractionReport]:
    """Compute meta-features of a dataset.

    Parameters
    ----------
    data : Dataset or anything :func:`metarec.data.load_dataset` accepts
        A :class:`~metarec.data.Dataset`, a DataFrame (with ``target`` naming the target column), a file
        path, or ``"openml:ID"``.
    target : str, optional
        Target column, when ``data`` is not a Dataset.
    groups : str or iterable, optional
        Group names (a list, or one comma-separated string), or group objects; ``"all"`` means every
        registered group. Default: :data:`DEFAULT_GROUPS` (``openml``, ``statistical``, ``landmarkers``;
        a default group that is not registered is left out with a warning).
    time_budget : float, optional
        Seconds for the whole extraction, shared by all groups (checked cooperatively between features, so
        one long step can overrun it). Groups not reached in time are NaN and reported as skipped.
    task_type : {"classification", "regression"}, optional
        Forces the task type when loading ``data``.
    return_report : bool
        Also return the :class:`ExtractionReport`.

    Returns
    -------
    pandas.Series
        Float values indexed by the declared feature names of the groups, in group order; NaN where a value
        is undefined, failed, or was skipped (never inf). Named after the dataset. The report is in
        ``series.attrs["report"]`` as a plain dict.
    ExtractionReport
        Only with ``return_report=True``.

    Raises
    ------
    MetaFeatureError
        For an unknown group name (the message lists the known groups) or a feature name declared by two
        of the chosen groups. A group that raises or runs out of time does not raise: its features are NaN
        and it is reported (and logged as a warning).
    """
    import pandas as pd

    chosen, missing = _resolve(groups)
    _check_unique(chosen)
    check_seconds("time_budget", time_budget, allow_zero=True)  # 0: a spent budget, every group skipped
    dataset = _as_dataset(data, target, task_type)  # after the cheap checks: it may read a file
    budget = Budget(time_budget)
    report = ExtractionReport(dataset=str(dataset.name), time_budget=time_budget)
    for name in missing:
        logger.warning("default meta-feature group %r is not registered (see `metarec plugins`); left out", name)
        report.groups[name] = GroupReport(name, SKIPPED, error="not registered; see `metarec plugins`")
    values: dict[str, float] = {}
    for group in chosen:
        group_values, group_report = _run_group(group, dataset, budget)
        values.update(group_values)
        report.groups[group.name] = group_report
        if group_report.status == SKIPPED:
            log = logger.info if group_report.error == _NO_REGRESSION else logger.warning
            log("meta-feature group %r skipped on %r: %s", group.name, report.dataset,
                group_report.error or "every feature was skipped")
        elif group_report.status == PARTIAL:
            logger.info("meta-feature group %r skipped %d feature(s) on %r", group.name,
                        len(group_report.skipped), report.dataset)
    report.seconds = time.perf_counter() - budget.start
    series = pd.Series(list(values.values()), index=list(values), dtype="float64", name=dataset.name)
    series.attrs["report"] = report.as_dict()
    if return_report:
        return series, report
    return series
