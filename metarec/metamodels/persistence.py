"""Saving and loading meta-models: a directory with ``metamodel.json`` (the JSON envelope: format, class,
parameters, learners, meta-feature names, fit-time model, conformal margin, the model's own state) plus the
model's files (LightGBM text models, a torch ``state_dict``); never pickle.

The envelope names the model's class (``module:qualname``); loading imports it only from metarec or an
installed plugin, since a saved model may come from others.
"""

from __future__ import annotations

import importlib
import json
import math
import os
from pathlib import Path
from typing import Any

from .._version import __version__
from ..exceptions import MetarecError
from ..fileio import atomic_write_bytes
from ..records import MetaModelBase
from .fit_time import FitTimeModel

__all__ = ["FORMAT", "FORMAT_VERSION", "META_FILE", "write_metamodel", "read_metamodel"]

FORMAT = "metarec-metamodel"
FORMAT_VERSION = 1
META_FILE = "metamodel.json"


def write_metamodel(model: Any, directory: str | os.PathLike) -> Path:
    """Write the fitted ``model`` to ``directory`` (created): ``metamodel.json`` plus model files."""
    root = Path(directory)
    root.mkdir(parents=True, exist_ok=True)
    state = model._get_state(root)
    doc = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "created_by": f"metarec {__version__}",
        "class": f"{type(model).__module__}:{type(model).__qualname__}",
        "name": model.name,
        "params": _jsonable(model.get_params()),
        "learners": model.learners_,
        "feature_names": model.feature_names_,
        "n_datasets": model.n_datasets_,
        "fit_time_model": None if model.fit_time_model_ is None else model.fit_time_model_.get_state(),
        "interval_margin": float(getattr(model, "interval_margin_", 0.0) or 0.0),
        "state": state,
    }
    text = json.dumps(doc, indent=1, allow_nan=True)
    atomic_write_bytes(root / META_FILE, text.encode())
    return root


def read_metamodel(cls: type, directory: str | os.PathLike) -> Any:
    """Read a model written by :func:`write_metamodel`; its class must be ``cls`` or a subclass."""
    root = Path(directory)
    path = root / META_FILE
    if not path.exists():
        raise MetarecError(f"{path}: no saved meta-model here")
    try:
        doc = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise MetarecError(f"{path}: unreadable meta-model file ({exc})") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise MetarecError(f"{path}: not a metarec meta-model file")
    if int(doc.get("format_version", 0)) > FORMAT_VERSION:
        raise MetarecError(f"{path}: written by a newer metarec; upgrade metarec (pip install -U metarec)")
    klass = _resolve_class(str(doc.get("class", "")), path)
    if not issubclass(klass, cls):
        raise MetarecError(f"{path}: holds a {klass.__name__}, not a {cls.__name__}")
    params = doc.get("params") or {}
    valid = set(klass._param_names())
    self = klass(**{k: v for k, v in params.items() if k in valid})
    self.learners_ = list(doc["learners"])
    self.feature_names_ = list(doc["feature_names"])
    self.n_datasets_ = int(doc.get("n_datasets", 0))
    ftm = doc.get("fit_time_model")
    self.fit_time_model_ = FitTimeModel.from_state(ftm) if ftm else None
    # the conformal margin; models saved before it existed have none (_set_state may set its own)
    try:
        margin = float(doc.get("interval_margin") or 0.0)
    except (TypeError, ValueError):
        raise MetarecError(f"{path}: interval_margin must be a number") from None
    self.interval_margin_ = margin if math.isfinite(margin) else 0.0
    try:
        # parsing saved boosters starts an OpenMP team per model: on a busy machine one thread is
        # several times faster than spinning threads that wait for a core
        from threadpoolctl import threadpool_limits

        for module in getattr(klass, "_openmp_modules", ()):
            importlib.import_module(module)  # load its OpenMP runtime first, or the limit misses it
        with threadpool_limits(1, user_api="openmp"):
            self._set_state(doc.get("state") or {}, root)
    except MetarecError:
        raise
    except Exception as exc:
        raise MetarecError(f"{root}: corrupt meta-model files ({type(exc).__name__}: {exc})") from None
    self.fitted_ = True
    return self


def _resolve_class(spec: str, path: Path) -> type:
    import sys

    module, _, qualname = spec.partition(":")
    if not module or not qualname:
        raise MetarecError(f"{path}: no meta-model class recorded")
    top = module.split(".")[0]
    if top != "metarec" and module not in sys.modules:
        # a saved model may come from others: import only metarec's and installed plugins' modules
        from ..plugins import get_plugin_host

        known = {str(i.module).split(".")[0].split(":")[0] for i in get_plugin_host().infos.values()}
        if top not in known:
            raise MetarecError(f"{path}: meta-model class {spec} is not from metarec or an installed plugin")
    try:
        obj: Any = importlib.import_module(module)
        for part in qualname.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError) as exc:
        raise MetarecError(f"{path}: meta-model class {spec} is not available ({exc}); is its plugin installed?") from None
    if not (isinstance(obj, type) and issubclass(obj, MetaModelBase)):
        raise MetarecError(f"{path}: {spec} is not a metarec meta-model class")
    return obj


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, float) and (math.isnan(obj) or math.isinf(obj)):
        return None
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if hasattr(obj, "item") and callable(obj.item):
        return obj.item()
    return obj
