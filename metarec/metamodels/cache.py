"""Fit a registered meta-model on a knowledge base, cached in the user cache directory.

The cache key is the KB checksum + meta-model name + metric + task type + a short hash of the
meta-model's parameters (so a changed KB, or changed defaults of a meta-model, never reuse a stale model). Models are stored in their own formats (LightGBM text, torch ``state_dict``, JSON), never
pickle. A corrupt cache entry is rebuilt with a warning.
"""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

CACHE_ENV = "METAREC_CACHE_DIR"


def cache_dir() -> Path:
    """``$METAREC_CACHE_DIR``, else ``$XDG_CACHE_HOME/metarec``, else ``~/.cache/metarec``."""
    env = os.environ.get(CACHE_ENV)
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "metarec"


def _params_hash(model: Any) -> str:
    """First 10 hex digits of the SHA-256 of the model's class and parameters (JSON, sorted keys)."""
    import hashlib
    import json

    doc = {"class": f"{type(model).__module__}:{type(model).__qualname__}",
           "params": {k: repr(v) for k, v in sorted(model.get_params().items())}}
    return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()[:10]


def fit_metamodel(kb: Any, name: str = "lightgbm", metric: str = "accuracy",
                  task_type: str = "classification", cache: bool = True):
    """The meta-model ``name`` fitted on ``kb``'s performance table (from the cache when possible)."""
    from ..kb.performance import performance_table
    from . import get_metamodel
    from .base import load_metamodel

    spec = get_metamodel(name)
    key = f"{kb.checksum}-{name}-{metric}-{task_type}-{_params_hash(spec.create())}"
    path = cache_dir() / "metamodels" / key
    if cache and path.exists():
        try:
            return load_metamodel(path)
        except Exception as exc:  # corrupt or from an incompatible version: rebuild
            logger.warning("meta-model cache %s is unreadable (%s); refitting", path, exc)
            shutil.rmtree(path, ignore_errors=True)
    perf = performance_table(kb, metric=metric, task_type=task_type)
    model = spec.create().fit(perf.metafeatures, perf.scores, fit_times=perf.fit_times,
                              train_sizes=perf.train_sizes)
    if cache:
        tmp = path.with_name(path.name + f".tmp{os.getpid()}")
        try:
            shutil.rmtree(tmp, ignore_errors=True)
            model.save(tmp)
            shutil.rmtree(path, ignore_errors=True)
            os.replace(tmp, path)
        except OSError as exc:
            logger.warning("could not cache the meta-model in %s (%s)", path, exc)
            shutil.rmtree(tmp, ignore_errors=True)
    return model
