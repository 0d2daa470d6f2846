"""Where metarec caches what it computes (fitted meta-models, performance tables): the user cache directory."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["CACHE_ENV", "cache_dir", "kb_table_path"]

CACHE_ENV = "METAREC_CACHE_DIR"


def cache_dir() -> Path:
    """``$METAREC_CACHE_DIR``, else ``$XDG_CACHE_HOME/metarec``, else ``~/.cache/metarec``."""
    env = os.environ.get(CACHE_ENV)
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "metarec"


def kb_table_path(kb, kind: str, args: list, source_file: str, suffix: str) -> Path | None:
    """Where a table derived from ``kb`` is cached: ``tables/<kind>-<hash><suffix>`` of :func:`cache_dir`, the
    hash over the KB checksum, ``args`` and the source of the module computing it (``source_file``: a changed
    definition is a new key). None for a KB without table checksums (built in memory: its checksum would hash
    every row) or an unreadable source."""
    import hashlib
    import json

    if not kb.manifest.get("tables"):
        return None
    try:
        code = hashlib.sha256(Path(source_file).read_bytes()).hexdigest()
    except OSError:
        return None
    key = json.dumps([kb.checksum, *args, code])
    return cache_dir() / "tables" / f"{kind}-{hashlib.sha256(key.encode()).hexdigest()[:24]}{suffix}"
