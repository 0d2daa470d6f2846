"""The one exception hierarchy of metarec.

Every user-facing failure raises a subclass of :class:`MetarecError`. Its message is one readable line that
names the problem and the fix; the CLI prints it as is (no traceback) and exits with code 2.
"""

from __future__ import annotations

__all__ = [
    "MetarecError",
    "DataError",
    "PluginError",
    "KnowledgeBaseError",
    "MetaFeatureError",
    "MissingDependencyError",
    "MetarecWarning",
    "ParameterError",
]


class MetarecError(Exception):
    """Root of metarec's errors."""


class DataError(MetarecError, ValueError):
    """A dataset could not be loaded or is unusable (missing file, bad target, ...)."""


class ParameterError(MetarecError, ValueError):
    """A parameter has an impossible value (a negative trial count, an unknown metric, ...): a ValueError,
    as scikit-learn's own parameter errors are, so generic ``except ValueError`` handlers see it."""


def check_seconds(name: str, value, allow_zero: bool = False):
    """``value`` unless it is not a number of seconds (None passes): positive, or ``>= 0`` with
    ``allow_zero``; NaN, bools and non-numbers are refused with one :class:`ParameterError` line."""
    import numbers

    if value is not None and (isinstance(value, bool) or not isinstance(value, numbers.Real)
                              or not (value >= 0 if allow_zero else value > 0)):  # NaN fails both
        bound = "a number of seconds >= 0" if allow_zero else "a positive number of seconds"
        raise ParameterError(f"{name} must be {bound} or None, got {value!r}")
    return value


class PluginError(MetarecError):
    """A plugin failed to load, raised in a hook, or registered a name that another plugin owns."""


class KnowledgeBaseError(MetarecError):
    """A knowledge base is missing, corrupt, of an unknown schema, or inconsistent."""


class MetaFeatureError(MetarecError):
    """A meta-feature group is unknown or cannot be computed."""


class MissingDependencyError(MetarecError, ImportError):
    """An optional dependency is not installed; the message names the extra to install."""


class MetarecWarning(UserWarning):
    """Something was recovered from (e.g. a corrupt cache rebuilt); the CLI prints it as one ``Warning:`` line."""


def require(module: str, extra: str):
    """Import ``module`` or raise :class:`MissingDependencyError` naming ``pip install 'metarec[extra]'``."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:  # pragma: no cover - exercised when the extra is absent
        raise MissingDependencyError(
            f"{module} is not installed; install it with: pip install 'metarec[{extra}]'"
        ) from exc
