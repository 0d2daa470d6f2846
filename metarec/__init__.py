"""metarec: recommend and warm-start learners for a new dataset from meta-knowledge of OpenML tasks.

The public API is small; heavy parts are imported lazily on first use so that ``import metarec`` and
``metarec --help`` stay fast.
"""

from __future__ import annotations

import importlib
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

# the module ``metarec.recommend`` and its function share a name: imported here, before any other import of
# the module can bind the package attribute to it, the name is the function (its heavy imports are inside
# the functions, so this stays light)
from .recommend import Recommendation, Recommender, recommend  # noqa: E402

_LAZY = {
    "Dataset": "metarec.data",
    "load_dataset": "metarec.data",
    "extract_metafeatures": "metarec.metafeatures",
    "Learner": "metarec.learners",
    "get_learner": "metarec.learners",
    "get_learners": "metarec.learners",
    "KnowledgeBase": "metarec.kb",
    "load_kb": "metarec.kb",
    "tune": "metarec.tuning",
    "AutoClassifier": "metarec.tuning",
    "AutoRegressor": "metarec.tuning",
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
    "recommend",
    "Recommender",
    "Recommendation",
    *_LAZY,
]


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value  # found directly from now on
        return value
    raise AttributeError(f"module 'metarec' has no attribute {name!r}")


def __dir__():
    return sorted(__all__)


def _saved_model_path() -> None:
    """Models saved by earlier versions name ``metarec.tune.LabelEncodedClassifier`` (the tuning code was
    one module then). ``metarec.tune`` is the function now; a module registered under that name in
    ``sys.modules`` only (never set as the package attribute) lets those pickles load, and resolves any
    name from :mod:`metarec.tuning` lazily."""
    import sys
    import types

    alias = types.ModuleType(__name__ + ".tune", "Saved models' path of metarec.tuning's classes.")

    def resolve(name: str):
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(importlib.import_module(__name__ + ".tuning"), name)

    alias.__getattr__ = resolve  # type: ignore[method-assign]
    sys.modules.setdefault(alias.__name__, alias)


_saved_model_path()


if TYPE_CHECKING:  # pragma: no cover
    from .data import Dataset, load_dataset
    from .learners import Learner, get_learner, get_learners
    from .kb import KnowledgeBase, load_kb
    from .metafeatures import extract_metafeatures
    from .tuning import AutoClassifier, AutoRegressor, tune

