"""Fit a registered meta-model on a knowledge base, cached in the user cache directory.

The cache key is the KB checksum + meta-model name + metric + task type + a short hash of the
meta-model's class, parameters and source files (its class's module and its base classes' modules), so a
changed KB, changed defaults or changed fitting code (an upgrade) never reuse a stale model. Models are stored in their own formats (LightGBM text, torch ``state_dict``, JSON), never
pickle. Each entry carries the SHA-256 of its files (``checksums.json``), checked before any file reaches a
loader (a truncated LightGBM model file aborts the process inside LightGBM). A corrupt cache entry is
rebuilt with a warning (logged, and a :class:`~metarec.exceptions.MetarecWarning` the CLI prints).
"""

from __future__ import annotations

import logging
import os
import shutil
import warnings
from pathlib import Path
from typing import Any

from ..cache import cache_dir
from ..exceptions import MetarecWarning

logger = logging.getLogger(__name__)

CHECKSUMS = "checksums.json"


def _digests(directory: Path) -> dict[str, str]:
    import hashlib

    out = {}
    for p in sorted(directory.rglob("*")):
        if p.is_file() and p.name != CHECKSUMS:
            out[p.relative_to(directory).as_posix()] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def _verify(directory: Path) -> None:
    """Raise ``ValueError`` unless every file of the entry is there, unchanged, and nothing was added."""
    import json

    try:
        want = json.loads((directory / CHECKSUMS).read_text())
    except (OSError, ValueError) as exc:
        raise ValueError(f"no readable {CHECKSUMS} ({type(exc).__name__})") from None
    have = _digests(directory)
    if have != want:
        changed = sorted(k for k in set(want) | set(have) if want.get(k) != have.get(k))
        raise ValueError(f"files changed, missing or added: {', '.join(changed[:3])}")


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0][:160]}" if text else type(exc).__name__


def _code_digest(model: Any) -> str:
    """SHA-256 of the source files that decide how ``model`` fits: the modules of its class and of every
    base class (``metarec.metamodels.base`` for the built-ins), and the modules of their package that these
    import from (preprocessing, fit times, conformal calibration), so a changed fitting code (an upgrade of
    metarec or of a plugin) never reuses a model the old code fitted. Empty when a source is not a file."""
    import hashlib
    import sys

    modules: list[str] = []
    for cls in type(model).__mro__:
        if cls is object or cls.__module__ in modules:
            continue
        modules.append(cls.__module__)
        package = cls.__module__.rpartition(".")[0]
        namespace = vars(sys.modules[cls.__module__]) if cls.__module__ in sys.modules else {}
        for value in list(namespace.values()):
            used = getattr(value, "__module__", None)
            if isinstance(used, str) and package and used.rpartition(".")[0] == package and used not in modules:
                modules.append(used)
    h = hashlib.sha256()
    for name in sorted(modules):
        path = getattr(sys.modules.get(name), "__file__", None)
        if not path or not str(path).endswith(".py"):
            continue
        try:
            h.update(Path(path).read_bytes())
        except OSError:
            continue
    return h.hexdigest()


def _params_hash(model: Any) -> str:
    """First 10 hex digits of the SHA-256 of the model's class, parameters (JSON, sorted keys) and fitting
    code (:func:`_code_digest`)."""
    import hashlib
    import json

    doc = {"class": f"{type(model).__module__}:{type(model).__qualname__}",
           "params": {k: repr(v) for k, v in sorted(model.get_params().items())},
           "code": _code_digest(model)}
    return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()[:10]


def fit_metamodel(kb: Any, name: str = "lightgbm", metric: str = "accuracy",
                  task_type: str = "classification", cache: bool = True):
    """The meta-model ``name`` fitted on ``kb``'s performance table (from the cache when possible)."""
    from ..kb.performance import performance_table
    from . import get_metamodel
    from .base import load_metamodel

    spec = get_metamodel(name)
    from ..kb.curves import DEFAULT_ANCHORS, add_curve_examples

    # v3: fitted with `observed` (a learner not run on a dataset is unknown there, not failed) and the LCDB
    # datasets' learning-curve rows at DEFAULT_ANCHORS
    anchors = "_".join(str(a) for a in DEFAULT_ANCHORS)
    key = f"{kb.checksum}-{name}-{metric}-{task_type}-{_params_hash(spec.create())}-c{anchors}-v3"
    path = cache_dir() / "metamodels" / key
    if cache and path.exists():
        try:
            _verify(path)
            return load_metamodel(path)
        except Exception as exc:  # corrupt or from an incompatible version: rebuild
            message = f"meta-model cache {path} is unreadable ({_one_line(exc)}); refitting"
            logger.warning("%s", message)
            warnings.warn(message, MetarecWarning, stacklevel=2)
            shutil.rmtree(path, ignore_errors=True)
    perf, _ = add_curve_examples(performance_table(kb, metric=metric, task_type=task_type), kb, DEFAULT_ANCHORS)
    model = spec.create().fit(perf.metafeatures, perf.scores, fit_times=perf.fit_times,
                              train_sizes=perf.train_sizes, observed=perf.observed)
    if cache:
        tmp = path.with_name(path.name + f".tmp{os.getpid()}")
        try:
            shutil.rmtree(tmp, ignore_errors=True)
            model.save(tmp)
            import json

            (tmp / CHECKSUMS).write_text(json.dumps(_digests(tmp), indent=1, sort_keys=True))
            shutil.rmtree(path, ignore_errors=True)
            os.replace(tmp, path)
        except OSError as exc:
            logger.warning("could not cache the meta-model in %s (%s)", path, exc)
            shutil.rmtree(tmp, ignore_errors=True)
    return model
