"""metarec: recommend and warm-start learners for a new dataset from meta-knowledge of OpenML tasks.

The public API is small; heavy parts are imported lazily on first use so that ``import metarec`` and
``metarec --help`` stay fast.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING

from ._version import __version__  # noqa: E402

from .exceptions import (  # noqa: E402  (light)
    DataError,
    KnowledgeBaseError,
    MetaFeatureError,
    MetarecError,
    MissingDependencyError,
    ParameterError,
    PluginError,
)
from .hookspecs import hookimpl  # noqa: E402  (light: pluggy only)

_LAZY = {
    "Dataset": "metarec.data",
    "load_dataset": "metarec.data",
    "extract_metafeatures": "metarec.metafeatures",
    "Learner": "metarec.learners",
    "get_learner": "metarec.learners",
    "get_learners": "metarec.learners",
    "KnowledgeBase": "metarec.kb",
    "load_kb": "metarec.kb",
    "recommend": "metarec.recommend",
    "Recommender": "metarec.recommend",
    "Recommendation": "metarec.recommend",
    "tune": "metarec.tune",
    "AutoClassifier": "metarec.tune",
    "AutoRegressor": "metarec.tune",
}

__all__ = [
    "__version__",
    "hookimpl",
    "MetarecError",
    "DataError",
    "ParameterError",
    "PluginError",
    "KnowledgeBaseError",
    "MetaFeatureError",
    "MissingDependencyError",
    *_LAZY,
]


def __getattr__(name: str):
    if name in _LAZY:
        module = importlib.import_module(_LAZY[name])
        # bind every public name of that module now: importing ``metarec.tune`` (the module) sets the
        # package attribute ``tune`` to the module, which must not shadow the function ``tune``
        for other, modname in _LAZY.items():
            if modname == _LAZY[name]:
                globals()[other] = getattr(module, other)
        return globals()[name]
    raise AttributeError(f"module 'metarec' has no attribute {name!r}")


def __dir__():
    return sorted(__all__)


if TYPE_CHECKING:  # pragma: no cover
    from .data import Dataset, load_dataset
    from .learners import Learner, get_learner, get_learners
    from .kb import KnowledgeBase, load_kb
    from .metafeatures import extract_metafeatures
    from .recommend import Recommendation, Recommender, recommend
    from .tune import AutoClassifier, AutoRegressor, tune


class _Package(types.ModuleType):
    """Keep ``metarec.tune`` / ``metarec.recommend`` the functions when their modules get imported.

    Importing a submodule sets the package attribute of the same name to the module; for these two the
    public API is the function, so the function is bound instead (``from metarec.tune import X`` still
    works through ``sys.modules``).
    """

    def __setattr__(self, name, value):
        if name in ("tune", "recommend") and isinstance(value, types.ModuleType):
            value = getattr(value, name, value)
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
