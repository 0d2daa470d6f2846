"""Learner performance per dataset, as the meta-models see it.

:func:`performance_table` turns a knowledge base's long ``runs`` table into wide datasets x learners
frames: one score per (dataset, learner), higher is always better. Definitions:

LCDB part (``source == "lcdb"``)
    a learner's score on a dataset is its mean test score over seeds at the largest training size it
    reached there; its fit time and training size are those of that point.
``kb build`` part (``source == "hpo"``)
    the score of its default configuration (trial 0 of the study, cross-validated), as LCDB scores learners
    at their defaults, so that every source answers one question; fit time and training size are that
    trial's. A default that failed or timed out is a failure of the learner there.

Was a learner run on a dataset at all (``observed``)? The LCDB part is a full grid (every LCDB learner on
every LCDB dataset), so an LCDB learner without a point on an LCDB dataset failed there. Elsewhere a
learner was run on a dataset when the KB holds any run of it there (``kb build`` records failed and
timed-out trials too); a learner without runs on a dataset (e.g. a plugin learner built on a few tasks)
was not tried there, which meta-models must not count as a failure.

A metric where lower is better (e.g. log loss) is negated; a score below its metric's ``floor`` (R^2: -1)
counts as the floor. Runs imported from public search results (:data:`metarec.kb.hpo_import.HPO_SOURCES`:
other protocols) are left out unless ``source`` names one (then each pair's best ``ok`` configuration
counts). Datasets without any score are dropped. :func:`best_configs` returns the best configs of a learner
on some datasets (HPO part) for warm starts.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from ..exceptions import KnowledgeBaseError
from ..metrics import METRICS
from .format import KnowledgeBase
from .hpo_import import HPO_SOURCES

__all__ = ["PerformanceTable", "performance_table", "best_configs", "hpo_runs"]


@dataclass
class PerformanceTable:
    """Wide views of a KB's performance (rows: datasets, aligned across all frames).

    Attributes
    ----------
    scores : pandas.DataFrame
        datasets x learners, higher is better; NaN where the learner has no score on the dataset.
    fit_times : pandas.DataFrame
        datasets x learners, mean seconds per fit at the scored point.
    train_sizes : pandas.DataFrame
        datasets x learners, training rows at the scored point.
    evidence : pandas.Series
        learner -> number of datasets where it has a score.
    observed : pandas.DataFrame
        datasets x learners, bool: whether the learner was run on the dataset at all. A missing score
        where it is True is a failure; where it is False the learner was never tried there (see
        :func:`performance_table`). Meta-models take it as ``fit(..., observed=...)``.
    metafeatures : pandas.DataFrame
        datasets x meta-feature columns of ``kb.datasets`` (NaN allowed), rows aligned with ``scores``.
    metric, task_type, source : str
        What the table was built from (``source`` None means every source).
    """

    scores: Any
    fit_times: Any
    train_sizes: Any
    evidence: Any
    metafeatures: Any
    metric: str = "accuracy"
    task_type: str = "classification"
    source: str | None = None
    observed: Any = None

    @property
    def datasets(self) -> list[str]:
        return list(self.scores.index)

    @property
    def learners(self) -> list[str]:
        return list(self.scores.columns)

    def subset(self, dataset_ids) -> "PerformanceTable":
        """The table restricted to ``dataset_ids`` (in that order)."""
        ids = list(dataset_ids)
        scores = self.scores.loc[ids]
        return PerformanceTable(
            scores=scores,
            fit_times=self.fit_times.loc[ids],
            train_sizes=self.train_sizes.loc[ids],
            evidence=scores.notna().sum().astype(int),
            metafeatures=self.metafeatures.loc[ids],
            metric=self.metric,
            task_type=self.task_type,
            source=self.source,
            observed=None if self.observed is None else self.observed.loc[ids],
        )


def performance_table(
    kb: KnowledgeBase,
    metric: str = "accuracy",
    task_type: str = "classification",
    source: str | None = None,
    cache: bool = False,
) -> PerformanceTable:
    """Wide datasets x learners performance of ``kb`` for ``metric`` on ``task_type`` datasets.

    Parameters
    ----------
    kb : KnowledgeBase
    metric : str
        A metric of the KB (see :data:`metarec.metrics.METRICS`).
    task_type : {"classification", "regression"}
    source : {"lcdb", "hpo"}, optional
        Only runs of this source; default every source (per dataset x learner, LCDB's point when the
        pair has LCDB runs, else the best HPO trial).
    cache : bool
        Reuse the table from the user cache (``tables/`` of :func:`metarec.cache.cache_dir`),
        keyed by the KB checksum, the arguments and the source of this module, like cached meta-models.
        Only KBs with table checksums (loaded from disk) are cached; an unreadable entry is rebuilt.

    Raises
    ------
    KnowledgeBaseError
        When the KB has no ``ok`` runs of ``metric`` on ``task_type`` datasets (of ``source``).
    """
    path = _cache_path(kb, metric, task_type, source) if cache else None
    if path is not None:
        table = _read_cached(path, metric, task_type, source)
        if table is not None:
            return table
    table = _performance_table(kb, metric, task_type, source)
    if path is not None:
        _write_cached(table, path)
    return table


def _performance_table(kb: KnowledgeBase, metric: str, task_type: str, source: str | None) -> PerformanceTable:
    import numpy as np
    import pandas as pd

    if metric not in METRICS:
        raise KnowledgeBaseError(f"unknown metric {metric!r}; known: {', '.join(sorted(METRICS))}")
    ds = kb.datasets[kb.datasets["task_type"] == task_type]
    # Only the columns used below are carried through the row filters: taking rows of the long text
    # columns (configs) of a large runs table costs more than everything else here.
    runs = kb.runs[["dataset_id", "source", "learner", "metric", "status", "score", "fit_time", "train_size",
                    "trial"]]
    if source is None:  # imported search results (other protocols) stay out unless asked for by name
        runs = runs[~runs["source"].isin(HPO_SOURCES).to_numpy()]
    all_runs = runs if source is None else runs[(runs["source"] == source).to_numpy()]
    keep = (runs["metric"] == metric) & (runs["status"] == "ok") & runs["score"].notna()
    if source is not None:
        keep &= runs["source"] == source
    runs = runs[keep.to_numpy()]
    runs = runs[runs["dataset_id"].isin(ds["dataset_id"]).to_numpy()]
    if runs.empty:
        where = f" from source {source!r}" if source else ""
        have = ", ".join(kb.metrics) or "none"
        raise KnowledgeBaseError(
            f"the knowledge base has no {metric!r} runs on {task_type} datasets{where} (its metrics: {have})"
        )
    cols = ["dataset_id", "learner", "score", "fit_time", "train_size"]
    parts = []
    lcdb = runs[runs["source"] == "lcdb"]
    if len(lcdb):
        # the largest anchor each learner reached on each dataset
        idx = lcdb.groupby(["dataset_id", "learner"], sort=False)["train_size"].idxmax()
        parts.append(lcdb.loc[idx, cols].assign(_prio=0))
    # kb build: the default configuration (trial 0), on the most rows a build ran it (two builds may hold it)
    built = (runs["source"] == "hpo").to_numpy()
    defaults = runs[built & (runs["trial"] == 0).to_numpy()][cols]
    parts.append(defaults.sort_values("train_size", ascending=False, kind="stable").assign(_prio=1))
    other = runs[~built & (runs["source"] != "lcdb").to_numpy()]  # imports, named: their best configuration
    if len(other):
        sign = 1.0 if METRICS[metric].higher_is_better else -1.0
        order = other.assign(_key=sign * other["score"]).sort_values(["_key", "trial"], ascending=[False, True])
        parts.append(order.drop_duplicates(["dataset_id", "learner"], keep="first")[cols].assign(_prio=1))
    long = pd.concat(parts, ignore_index=True).sort_values("_prio", kind="stable")
    long = long.drop_duplicates(["dataset_id", "learner"], keep="first")
    if not METRICS[metric].higher_is_better:
        long["score"] = -long["score"]
    floor = METRICS[metric].floor
    if floor is not None:  # below it a score no longer tells learners apart (R^2 of -1e47)
        long["score"] = long["score"].clip(lower=floor)

    present = set(long["dataset_id"].unique())
    order_ds = [d for d in ds["dataset_id"] if d in present]
    learners = sorted(long["learner"].unique())

    def wide(col: str):
        return (
            long.pivot(index="dataset_id", columns="learner", values=col)
            .reindex(index=order_ds, columns=learners)
            .astype(float)
        )

    scores = wide("score")
    scores.index.name = "dataset_id"
    scores.columns.name = "learner"
    tried = (all_runs["dataset_id"].isin(order_ds) & all_runs["learner"].isin(learners)).to_numpy()
    pairs = all_runs.loc[tried, ["dataset_id", "learner"]].drop_duplicates()
    seen = np.zeros(scores.shape, dtype=bool)
    seen[scores.index.get_indexer(pairs["dataset_id"]), scores.columns.get_indexer(pairs["learner"])] = True
    lcdb_all = (all_runs["source"] == "lcdb").to_numpy()
    if lcdb_all.any():
        grid_ds = scores.index.isin(all_runs["dataset_id"][lcdb_all].unique())
        grid_l = scores.columns.isin(all_runs["learner"][lcdb_all].unique())
        seen[np.ix_(grid_ds, grid_l)] = True
    observed = pd.DataFrame(seen, index=scores.index, columns=scores.columns)
    observed |= scores.notna()
    mf = ds.set_index("dataset_id").reindex(order_ds)[kb.metafeature_names].astype(float)
    mf = mf.replace([np.inf, -np.inf], np.nan)
    return PerformanceTable(
        scores=scores,
        fit_times=wide("fit_time"),
        train_sizes=wide("train_size"),
        evidence=scores.notna().sum().astype(int),
        metafeatures=mf,
        metric=metric,
        task_type=task_type,
        source=source,
        observed=observed,
    )


_FRAMES = ("scores", "fit_times", "train_sizes", "observed", "metafeatures")


def _cache_path(kb: KnowledgeBase, metric: str, task_type: str, source: str | None):
    """Where the table of these arguments is cached; None for a KB without table checksums."""
    from ..cache import kb_table_path

    return kb_table_path(kb, "performance", [metric, task_type, source], __file__, ".npz")


def _write_cached(table: PerformanceTable, path) -> None:
    """Store the frames' values and labels as plain arrays (no pickle), atomically; failures are logged."""
    import logging
    import os
    import threading

    import numpy as np

    labels = {"datasets": table.scores.index, "learners": table.scores.columns,
              "metafeature_names": table.metafeatures.columns}
    if any(len(v) == 0 or not all(isinstance(x, str) for x in v) for v in labels.values()):
        return  # only plain string labels round-trip exactly
    arrays = {k: np.array(list(v), dtype=str) for k, v in labels.items()}
    arrays.update({f: getattr(table, f).to_numpy() for f in _FRAMES})  # np.save keeps the memory order
    tmp = path.with_name(path.name + f".tmp{os.getpid()}-{threading.get_ident()}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(tmp, "wb") as fh:
            np.savez(fh, **arrays)
        os.replace(tmp, path)
    except OSError as exc:
        logging.getLogger(__name__).warning("could not cache the performance table in %s (%s)", path, exc)
        try:
            os.unlink(tmp)
        except OSError:
            pass


def _read_cached(path, metric: str, task_type: str, source: str | None) -> PerformanceTable | None:
    """The cached table, or None when there is none or it is unreadable (then it is rebuilt)."""
    import numpy as np
    import pandas as pd

    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in ("datasets", "learners", "metafeature_names", *_FRAMES)}
        index = pd.Index(arrays["datasets"].tolist(), name="dataset_id")
        learners = pd.Index(arrays["learners"].tolist(), name="learner")
        shapes = {f: arrays[f].shape for f in _FRAMES}
        if any(shapes[f] != (len(index), len(learners)) for f in _FRAMES[:4]) or \
                shapes["metafeatures"] != (len(index), len(arrays["metafeature_names"])) or \
                arrays["observed"].dtype != bool:
            raise ValueError("inconsistent shapes")
        # copy=False keeps each array's memory order, which then matches the computed table's (reductions
        # over rows or columns give bit-identical results)
        frames = {f: pd.DataFrame(arrays[f], index=index, columns=learners, copy=False) for f in _FRAMES[:4]}
        frames["metafeatures"] = pd.DataFrame(arrays["metafeatures"], index=index, copy=False,
                                              columns=pd.Index(arrays["metafeature_names"].tolist()))
    except Exception as exc:  # corrupt or foreign: rebuilt and overwritten
        import logging

        logging.getLogger(__name__).warning("performance table cache %s is unreadable (%s); rebuilding", path, exc)
        return None
    scores = frames["scores"]
    return PerformanceTable(evidence=scores.notna().sum().astype(int), metric=metric, task_type=task_type,
                            source=source, **frames)


def hpo_runs(kb: KnowledgeBase, metric: str = "accuracy"):
    """The KB's ``ok`` HPO trials of ``metric`` that have a score: the rows :func:`best_configs` and
    :func:`metarec.kb.zeroshot.portfolio_configs` draw from.

    Filtering the whole runs table is most of their cost; pass this table as their ``runs`` to filter once
    for several calls on the same KB and metric.
    """
    if metric not in METRICS:
        raise KnowledgeBaseError(f"unknown metric {metric!r}; known: {', '.join(sorted(METRICS))}")
    runs = kb.runs
    keep = (runs["source"] == "hpo") & (runs["metric"] == metric) & (runs["status"] == "ok") & runs["score"].notna()
    return runs.loc[keep.to_numpy(), ["dataset_id", "learner", "config_id", "config", "score", "trial"]]


def best_configs(
    kb: KnowledgeBase,
    dataset_ids,
    learner: str,
    metric: str = "accuracy",
    k: int = 5,
    *,
    runs=None,
) -> list[dict]:
    """The top-``k`` distinct configs of ``learner`` on ``dataset_ids`` from the KB's HPO part, for warm starts.

    Scores of different datasets are not comparable, so configs are ranked within each dataset by their
    ``ok`` score (higher is better after negating lower-is-better metrics; ties keep the earlier trial),
    then taken round-robin in the order of ``dataset_ids`` (pass the most similar dataset first): every
    dataset's best config, then every dataset's second best, and so on; duplicates are kept once.
    ``runs`` is :func:`hpo_runs` of ``kb`` and ``metric`` when the caller has it already.

    Returns a list of at most ``k`` config dicts (empty when the KB has no such HPO trials).
    """
    if metric not in METRICS:
        raise KnowledgeBaseError(f"unknown metric {metric!r}; known: {', '.join(sorted(METRICS))}")
    ids = list(dict.fromkeys(dataset_ids))
    if runs is None:
        runs = hpo_runs(kb, metric)
    runs = runs[((runs["learner"] == learner) & runs["dataset_id"].isin(set(ids))).to_numpy()]
    if runs.empty or k <= 0:
        return []
    sign = 1.0 if METRICS[metric].higher_is_better else -1.0
    position = {d: i for i, d in enumerate(ids)}
    ranked = runs.assign(_key=sign * runs["score"], _pos=runs["dataset_id"].map(position))
    ranked = ranked.sort_values(["_pos", "_key", "trial"], ascending=[True, False, True])
    ranked = ranked.drop_duplicates(["dataset_id", "config_id"], keep="first")
    ranked = ranked.assign(_rank=ranked.groupby("dataset_id", sort=False).cumcount())
    ranked = ranked.sort_values(["_rank", "_pos"], kind="stable").drop_duplicates("config_id", keep="first")
    out: list[dict] = []
    for text in ranked["config"]:
        try:
            cfg = json.loads(text)
        except (TypeError, ValueError):
            continue
        if isinstance(cfg, dict):
            out.append(cfg)
        if len(out) >= k:
            break
    return out
