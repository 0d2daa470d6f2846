"""Meta-models: predict learner performance from meta-features (registered through plugins)."""

from __future__ import annotations

from .base import MetaModelSpec

__all__ = ["MetaModelSpec", "get_metamodel", "get_metamodels"]


def get_metamodel(name: str) -> MetaModelSpec:
    """The registered meta-model called ``name``."""
    from ..plugins import get_plugin_host

    return get_plugin_host().registry("metamodel").get(name)


def get_metamodels() -> list[MetaModelSpec]:
    """All registered meta-models."""
    from ..plugins import get_plugin_host

    return [e.obj for e in get_plugin_host().registry("metamodel").entries()]
