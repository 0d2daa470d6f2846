"""The meta-feature group contract and the time budget handed to groups."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any, Mapping

from ..exceptions import PluginError
from ..records import MetaFeatureGroupBase


class BudgetExceeded(Exception):
    """Raised by :meth:`Budget.check` when the extraction's time budget is spent."""


@dataclass
class Budget:
    """A wall-clock deadline shared by all groups of one extraction.

    Groups call :meth:`check` between features (cooperative: a long single feature cannot be stopped
    midway, so groups check before each costly step).
    """

    seconds: float | None = None
    start: float = field(default_factory=time.perf_counter)

    @property
    def remaining(self) -> float:
        if self.seconds is None:
            return math.inf
        return self.seconds - (time.perf_counter() - self.start)

    def check(self, what: str = "") -> None:
        if self.remaining <= 0:
            raise BudgetExceeded(f"time budget of {self.seconds:g} s exceeded" + (f" before {what}" if what else ""))


class MetaFeatureGroup(MetaFeatureGroupBase):
    """A named set of meta-features computed from a :class:`metarec.data.Dataset`.

    Subclasses set ``name``, ``feature_names`` (declared up front, the same for every dataset) and
    ``description``, and implement :meth:`compute`. Undefined values are NaN, not exceptions.

    ``compute`` may skip single features itself by returning NaN for them and noting the reason in
    ``skipped`` (a dict ``feature -> reason`` passed in). If ``compute`` raises, every feature of the
    group is NaN and the group is reported as skipped with the error.
    """

    name: str = ""
    feature_names: tuple[str, ...] = ()
    description: str = ""
    #: Whether the group works on regression targets (else it yields all NaN there).
    supports_regression: bool = True

    def compute(self, dataset: Any, budget: Budget, skipped: dict[str, str]) -> Mapping[str, float]:
        raise NotImplementedError

    def applicable_features(self, task_type: str) -> tuple[str, ...]:
        """The features defined for a ``task_type`` task (the others are always NaN there, e.g. a class
        entropy on a regression target). Default: every feature, or none on regression when the group
        does not support it. Groups with task-specific features override this."""
        if task_type == "regression" and not self.supports_regression:
            return ()
        return tuple(self.feature_names)

    def validate(self) -> None:
        if not self.name or not isinstance(self.name, str):
            raise PluginError(f"{type(self).__name__}: a meta-feature group needs a non-empty name")
        names = tuple(self.feature_names)
        if not names:
            raise PluginError(f"meta-feature group {self.name!r} declares no feature names")
        if len(set(names)) != len(names):
            raise PluginError(f"meta-feature group {self.name!r} declares a feature name twice")

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}: {len(self.feature_names)} features>"
