"""The meta-model registration contract.

A meta-model predicts, from a dataset's meta-features, how well each learner will do. Plugins register
one with ``register(name, factory, description="")`` in the ``register_metamodels`` hook; ``factory()``
returns an unfitted object with scikit-learn semantics (``fit(kb) -> self``, ``predict(metafeatures)``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable


@dataclass(frozen=True)
class MetaModelSpec:
    """A registered meta-model: its name, the factory that builds an unfitted instance, a description."""

    name: str
    factory: Callable[[], Any]
    description: str = ""

    def create(self) -> Any:
        return self.factory()
