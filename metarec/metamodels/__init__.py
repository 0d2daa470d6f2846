"""Meta-models: predict learner performance from meta-features (registered through plugins)."""

from __future__ import annotations

from ..records import MetaModelSpec

__all__ = ["MetaModelSpec", "get_metamodel", "get_metamodels", "fit_metamodel"]


def get_metamodel(name: str) -> MetaModelSpec:
    """The registered meta-model called ``name``."""
    from ..plugins import get_plugin_host

    return get_plugin_host().registry("metamodel").get(name)


def get_metamodels() -> list[MetaModelSpec]:
    """All registered meta-models."""
    from ..plugins import get_plugin_host

    return [e.obj for e in get_plugin_host().registry("metamodel").entries()]


def fit_metamodel(kb, name: str = "lightgbm", metric: str = "accuracy", task_type: str = "classification",
                  cache: bool = True):
    """The meta-model ``name`` fitted on ``kb`` (cached by KB checksum); see :mod:`metarec.metamodels.cache`."""
    from .cache import fit_metamodel as _fit

    return _fit(kb, name=name, metric=metric, task_type=task_type, cache=cache)
