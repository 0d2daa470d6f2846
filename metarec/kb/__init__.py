"""Knowledge bases: format, LCDB import, ``kb build``; see :mod:`metarec.kb.format`."""

from __future__ import annotations

import os
from pathlib import Path

from .format import KnowledgeBase

__all__ = ["KnowledgeBase", "default_kb_path", "load_kb"]

KB_ENV = "METAREC_KB"


def default_kb_path() -> Path:
    """``$METAREC_KB``, else the ``knowledge_base/`` shipped next to the package (source checkouts)."""
    env = os.environ.get(KB_ENV)
    if env:
        return Path(env).expanduser()
    return Path(__file__).resolve().parents[2] / "knowledge_base"


def load_kb(path: str | os.PathLike | None = None) -> KnowledgeBase:
    """Load the KB at ``path`` (default: :func:`default_kb_path`), validated."""
    return KnowledgeBase.load(path or default_kb_path())
