"""Meta-features cached per data checksum, so ``recommend`` then ``tune`` on one file computes them once.

An entry is keyed by a SHA-256 of the data (feature values, column names and dtypes, target, task type),
the groups asked for and the source code of their modules (a changed extractor never reuses old
values). It is JSON (values and the extraction report), written atomically under
``<cache dir>/metafeatures/``. An extraction that ran out of its time budget is not cached: another
call with more time computes what was skipped. An unreadable entry is recomputed.
``METAREC_METAFEATURE_CACHE=0`` turns the reuse off (``cache=False`` turns off every cache).
"""

from __future__ import annotations

import hashlib
import inspect
import json
import logging
import math
import os
from typing import Any

from ..cache import cache_dir
from . import ExtractionReport, GroupReport, _resolve, extract_metafeatures

logger = logging.getLogger(__name__)

__all__ = ["cached_metafeatures"]

FORMAT = 1
#: set to 0 to compute meta-features every time
CACHE_SWITCH = "METAREC_METAFEATURE_CACHE"


def _code_digest(groups) -> str:
    h = hashlib.sha256()
    for group in groups:
        h.update(group.name.encode())
        for cls in type(group).__mro__:
            try:
                path = inspect.getsourcefile(cls)
            except TypeError:  # builtins (object)
                continue
            if path and path.endswith(".py"):
                with open(path, "rb") as fh:
                    h.update(fh.read())
    return h.hexdigest()[:16]


def _budget_cut(report: ExtractionReport) -> bool:
    reasons = [g.error or "" for g in report.groups.values()] + list(report.skipped_features.values())
    return any("time budget" in r for r in reasons)


def cached_metafeatures(ds, groups=None, time_budget: float | None = None, cache: bool = True):
    """``extract_metafeatures(ds, groups=..., time_budget=..., return_report=True)``, reusing an earlier
    result for the same data, groups and extractor code when ``cache`` is on."""
    import pandas as pd

    if not cache or os.environ.get(CACHE_SWITCH, "1") == "0":
        return extract_metafeatures(ds, groups=groups, time_budget=time_budget, return_report=True)
    chosen, _ = _resolve(groups)
    from ..data.dataset import data_fingerprint

    key = hashlib.sha256(json.dumps([FORMAT, data_fingerprint(ds), ds.task_type, [str(t) for t in ds.X.dtypes],
                                     [g.name for g in chosen], _code_digest(chosen)]).encode()).hexdigest()[:32]
    path = cache_dir() / "metafeatures" / f"{key}.json"
    if path.exists():
        try:
            doc = json.loads(path.read_text())
            values = pd.Series({k: (math.nan if v is None else float(v)) for k, v in doc["values"].items()},
                               dtype="float64", name=ds.name)
            rep = doc["report"]
            report = ExtractionReport(dataset=str(ds.name), time_budget=time_budget, seconds=rep["seconds"],
                                      groups={n: GroupReport(**g) for n, g in rep["groups"].items()})
            values.attrs["report"] = report.as_dict()
            return values, report
        except (OSError, ValueError, KeyError, TypeError) as exc:
            logger.info("meta-feature cache entry %s unreadable (%s); recomputing", path, exc)
    values, report = extract_metafeatures(ds, groups=groups, time_budget=time_budget, return_report=True)
    if not _budget_cut(report):
        from ..fileio import atomic_write_bytes

        doc: dict[str, Any] = {"values": {k: (None if v != v else float(v)) for k, v in values.items()},
                               "report": report.as_dict()}
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_bytes(path, json.dumps(doc, allow_nan=False).encode())
        except OSError as exc:  # a read-only cache costs the reuse, nothing else
            logger.info("meta-feature cache %s not written (%s)", path, exc)
    return values, report
