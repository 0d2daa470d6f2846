"""What the plugin host registers: the base classes it checks registrations against, and the record of a
registered meta-model.

:class:`metarec.learners.Learner`, :class:`metarec.metafeatures.MetaFeatureGroup` and
:class:`metarec.metamodels.base.MetaModel` derive from :class:`LearnerBase`, :class:`MetaFeatureGroupBase` and
:class:`MetaModelBase`, so that :mod:`metarec.plugins` checks what a plugin registers without importing the
layers above it. Plugins subclass the layers' classes, never these.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from .exceptions import MetarecError

__all__ = ["LearnerBase", "MetaFeatureGroupBase", "MetaModelBase", "MetaModelSpec"]


class LearnerBase:
    """Base of :class:`metarec.learners.Learner`: what ``register_learners`` accepts (``name``, ``validate()``)."""

    __slots__ = ()


class MetaFeatureGroupBase:
    """Base of :class:`metarec.metafeatures.MetaFeatureGroup`: what ``register_metafeatures`` accepts
    (``name``, ``feature_names``, ``validate()``)."""

    __slots__ = ()


class MetaModelBase:
    """Base of :class:`metarec.metamodels.base.MetaModel`: what a registered meta-model's factory returns."""

    __slots__ = ()


@dataclass(frozen=True)
class MetaModelSpec:
    """A registered meta-model: its name, the factory that builds an unfitted instance, a description."""

    name: str
    factory: Callable[[], Any]
    description: str = ""

    def create(self) -> Any:
        """A new unfitted meta-model; a factory that raises or returns something else is one readable
        :class:`MetarecError` naming the meta-model, never a traceback from deep inside the caller."""
        try:
            model = self.factory()
        except MetarecError:  # the factory's own message (e.g. torch not installed, with the extra to install)
            raise
        except Exception as exc:
            first = (str(exc).strip().splitlines() or [""])[0]
            raise MetarecError(
                f"meta-model {self.name!r} could not be created ({type(exc).__name__}: {first}); fix or "
                f"uninstall the plugin that registers it (see `metarec plugins`), or choose another --metamodel"
            ) from None
        if not isinstance(model, MetaModelBase):
            raise MetarecError(
                f"meta-model {self.name!r}: its factory returned a {type(model).__name__!r} object, not a "
                f"metarec.metamodels.base.MetaModel; fix the plugin that registers it (see `metarec plugins`), or "
                f"choose another --metamodel"
            )
        return model
