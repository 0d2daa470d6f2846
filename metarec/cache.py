"""Where metarec caches what it computes (fitted meta-models, performance tables): the user cache directory."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["CACHE_ENV", "cache_dir"]

CACHE_ENV = "METAREC_CACHE_DIR"


def cache_dir() -> Path:
    """``$METAREC_CACHE_DIR``, else ``$XDG_CACHE_HOME/metarec``, else ``~/.cache/metarec``."""
    env = os.environ.get(CACHE_ENV)
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "metarec"
