"""Learners: a stable name, task types, a scikit-learn pipeline factory, an Optuna search space."""

from __future__ import annotations

from .base import CLASSIFICATION, REGRESSION, TASK_TYPES, Learner, make_preprocessor

__all__ = [
    "Learner",
    "make_preprocessor",
    "get_learner",
    "get_learners",
    "CLASSIFICATION",
    "REGRESSION",
    "TASK_TYPES",
]


def get_learner(name: str) -> Learner:
    """The registered learner called ``name`` (raises :class:`~metarec.exceptions.PluginError`)."""
    from ..plugins import get_plugin_host

    return get_plugin_host().registry("learner").get(name)


def get_learners(task_type: str | None = None) -> list[Learner]:
    """All registered learners, optionally only those for ``task_type``."""
    from ..plugins import get_plugin_host

    reg = get_plugin_host().registry("learner")
    out = [e.obj for e in reg.entries()]
    if task_type is not None:
        out = [lr for lr in out if task_type in lr.task_types]
    return out
