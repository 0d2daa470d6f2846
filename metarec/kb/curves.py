"""Learning-curve meta-examples: an LCDB dataset at a smaller training size is another task.

LCDB scores each learner at training sizes 16, 23, 32, ... up to the dataset's largest anchor. The
performance table uses the largest; :func:`add_curve_examples` adds, for each LCDB dataset, the same
dataset at smaller anchors (by default 64, 181 and 512 training rows, where below 70% of its largest
anchor) as rows of their own, so that a meta-model sees how the winner changes with size. The meta-models
metarec fits (:func:`metarec.metamodels.fit_metamodel`) and evaluates learn from these rows.

Which meta-features change with size, and how (the rest describe the distribution of the data and stay
as they are, since a random subsample has the same distribution in expectation):

- counts of rows scale with the subsample's share ``r = anchor / largest anchor``: ``NumberOfInstances``,
  ``MajorityClassSize``, ``MinorityClassSize``, ``NumberOfInstancesWithMissingValues``,
  ``NumberOfMissingValues``;
- ratios to the rows follow: ``Dimensionality`` (features / rows) and ``stat_levels_per_row`` divide by
  ``r``; ``stat_log_n_rows`` and ``stat_log_rows_per_feature`` shift by ``log(r)`` (in the base the column
  uses, read off ``NumberOfInstances``);
- landmarkers (``lm_*``, OpenML's ``NaiveBayes*``) and the subsample landmarkers (``sub_*``, measured at
  512 rows or fewer) are kept: they are estimates of the same quantities at any size.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

#: Training sizes (LCDB anchors) added as meta-examples, where below :data:`MAX_SHARE` of the largest
DEFAULT_ANCHORS = (64, 181, 512)
MAX_SHARE = 0.7
#: meta-features that count rows, scaled by the subsample's share
ROW_COUNTS = ("NumberOfInstances", "MajorityClassSize", "MinorityClassSize", "NumberOfInstancesWithMissingValues",
              "NumberOfMissingValues")
#: separator of a curve example's id: ``"<dataset id> @ <anchor> rows"``
SEP = " @ "


def curve_id(dataset_id: str, anchor: int) -> str:
    return f"{dataset_id}{SEP}{int(anchor)} rows"


def add_curve_examples(pt, kb, anchors=DEFAULT_ANCHORS):
    """``pt`` with learning-curve rows added (see the module docstring); returns ``(table, base_of)`` where
    ``base_of`` maps each added row's id to its dataset's id (a dataset held out takes its rows along)."""
    from .performance import PerformanceTable

    runs = kb.runs
    lcdb = runs[(runs["source"] == "lcdb").to_numpy() & (runs["metric"] == pt.metric).to_numpy()
                & (runs["status"] == "ok").to_numpy() & runs["score"].notna().to_numpy()]
    lcdb = lcdb[lcdb["dataset_id"].isin(pt.scores.index).to_numpy()]
    if lcdb.empty:
        return pt, {}
    largest = lcdb.groupby("dataset_id")["train_size"].max()
    rows_s, rows_t, rows_f, base_of, mf_rows = [], [], [], {}, []
    sign = 1.0
    from ..metrics import METRICS

    if not METRICS[pt.metric].higher_is_better:
        sign = -1.0
    at = lcdb[lcdb["train_size"].isin(anchors).to_numpy()]
    for (dataset_id, anchor), g in at.groupby(["dataset_id", "train_size"], sort=True):
        share = float(anchor) / float(largest[dataset_id])
        if share > MAX_SHARE:
            continue
        by = g.groupby("learner")
        scores = (sign * by["score"].mean()).reindex(pt.scores.columns)
        if scores.notna().sum() < 2:
            continue
        cid = curve_id(dataset_id, anchor)
        base_of[cid] = dataset_id
        rows_s.append(scores.rename(cid))
        rows_f.append(by["fit_time"].mean().reindex(pt.scores.columns).rename(cid))
        rows_t.append(pd.Series(float(anchor), index=pt.scores.columns, name=cid).where(scores.notna()))
        mf_rows.append(_resized(pt.metafeatures.loc[dataset_id], share).rename(cid))
    if not base_of:
        return pt, {}
    scores = pd.concat([pt.scores, pd.DataFrame(rows_s)])
    observed = None
    if pt.observed is not None:
        observed = pd.concat([pt.observed, pd.DataFrame(rows_s).notna()]).astype(bool)
    table = PerformanceTable(
        scores=scores,
        fit_times=pd.concat([pt.fit_times, pd.DataFrame(rows_f)]),
        train_sizes=pd.concat([pt.train_sizes, pd.DataFrame(rows_t)]),
        evidence=scores.notna().sum().astype(int),
        metafeatures=pd.concat([pt.metafeatures, pd.DataFrame(mf_rows)]),
        metric=pt.metric, task_type=pt.task_type, source=pt.source, observed=observed,
    )
    return table, base_of


def _resized(mf: pd.Series, share: float) -> pd.Series:
    """The meta-features of a random ``share`` of the dataset's rows (see the module docstring)."""
    out = mf.copy()
    n = out.get("NumberOfInstances", np.nan)
    for name in ROW_COUNTS:
        if name in out.index:
            out[name] = out[name] * share
    for name in ("Dimensionality", "stat_levels_per_row"):
        if name in out.index:
            out[name] = out[name] / share
    if "stat_log_n_rows" in out.index and np.isfinite(out["stat_log_n_rows"]) and np.isfinite(n) and n > 1:
        base = 10.0 if abs(out["stat_log_n_rows"] - math.log10(n)) < abs(out["stat_log_n_rows"] - math.log(n)) else math.e
        shift = math.log(share, base)
        for name in ("stat_log_n_rows", "stat_log_rows_per_feature"):
            if name in out.index:
                out[name] = out[name] + shift
    return out
