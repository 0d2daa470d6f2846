"""The metrics of an evaluation, as pure functions of one dataset's scores (see :mod:`metarec.evaluate`)."""

from __future__ import annotations

from typing import Any, Sequence

WITHIN = 0.01  # "top-1 within 1 point"


def _filled(scores) -> Any:
    """Scores of one dataset as floats with missing learners at the dataset's worst score."""
    import numpy as np

    s = np.asarray(scores, dtype=float)
    if np.isnan(s).all():
        raise ValueError("a dataset without any score cannot be evaluated")
    return np.where(np.isnan(s), np.nanmin(s), s)


def regret(scores, pick: int) -> float:
    """Best score minus the score of learner ``pick`` (an index into ``scores``; NaN = worst score)."""
    s = _filled(scores)
    return float(s.max() - s[int(pick)])


def regret_at_k(scores, ranking: Sequence[int], k: int = 3) -> float:
    """Best score minus the best score among the first ``k`` learners of ``ranking`` (indices)."""
    s = _filled(scores)
    top = [int(i) for i in list(ranking)[: max(1, int(k))]]
    return float(s.max() - s[top].max())


def ndcg_at_k(scores, ranking: Sequence[int], k: int = 5) -> float:
    """NDCG@k with gains = scores min-max scaled within the dataset (NaN = worst, i.e. gain 0).

    Returns 1.0 when all learners score the same.
    """
    import numpy as np

    s = _filled(scores)
    span = s.max() - s.min()
    if span <= 0:
        return 1.0
    gain = (s - s.min()) / span
    k = min(int(k), len(s))
    disc = 1.0 / np.log2(np.arange(2, k + 2))
    dcg = float((gain[[int(i) for i in list(ranking)[:k]]] * disc[: len(list(ranking)[:k])]).sum())
    ideal = float((np.sort(gain)[::-1][:k] * disc).sum())
    return dcg / ideal if ideal > 0 else 1.0


def _ranks(a):
    """Average ranks (1 = smallest) of a 1-D array."""
    import numpy as np

    a = np.asarray(a, dtype=float)
    order = np.argsort(a, kind="stable")
    ranks = np.empty(len(a))
    ranks[order] = np.arange(1, len(a) + 1)
    # average ties
    vals, inv, counts = np.unique(a, return_inverse=True, return_counts=True)
    if (counts > 1).any():
        sums = np.bincount(inv, weights=ranks)
        ranks = (sums / counts)[inv]
    return ranks


def spearman(scores, predicted) -> float:
    """Spearman correlation between true ``scores`` (NaN = worst) and ``predicted`` preferences.

    A NaN prediction counts as the lowest; NaN when either side is constant.
    """
    import numpy as np

    s = _filled(scores)
    p = np.asarray(predicted, dtype=float)
    if len(s) < 2:
        return float("nan")
    low = np.nanmin(p) - 1.0 if (~np.isnan(p)).any() else 0.0
    p = np.where(np.isnan(p), low, p)
    rs, rp = _ranks(s), _ranks(p)
    if rs.std() == 0 or rp.std() == 0:
        return float("nan")
    return float(np.corrcoef(rs, rp)[0, 1])


def coverage(true, lower, upper) -> float:
    """Share of entries with a true value (not NaN) that lie inside ``[lower, upper]``."""
    import numpy as np

    t = np.asarray(true, dtype=float)
    lo = np.asarray(lower, dtype=float)
    hi = np.asarray(upper, dtype=float)
    ok = ~np.isnan(t) & ~np.isnan(lo) & ~np.isnan(hi)
    if not ok.any():
        return float("nan")
    return float(((t[ok] >= lo[ok]) & (t[ok] <= hi[ok])).mean())


def interval_width(lower, upper) -> float:
    """Median width of the intervals that have both ends (NaN if none)."""
    import numpy as np

    w = np.asarray(upper, dtype=float) - np.asarray(lower, dtype=float)
    w = w[~np.isnan(w)]
    return float(np.median(w)) if len(w) else float("nan")


def gap_closed(model_regret: float, single_best_regret: float, oracle_regret: float = 0.0) -> float:
    """Share of the single-best-to-oracle gap that a model's mean regret closes (NaN if there is no gap)."""
    gap = float(single_best_regret) - float(oracle_regret)
    if not gap > 0:
        return float("nan")
    return (float(single_best_regret) - float(model_regret)) / gap


def fit_time_error(actual, predicted) -> float:
    """Median ``|log10(predicted / actual)|`` over entries where both are positive and finite."""
    import numpy as np

    a = np.asarray(actual, dtype=float)
    p = np.asarray(predicted, dtype=float)
    ok = np.isfinite(a) & np.isfinite(p) & (a > 0) & (p > 0)
    if not ok.any():
        return float("nan")
    return float(np.median(np.abs(np.log10(p[ok] / a[ok]))))


def constant_regrets(scores, observed):
    """Per-dataset top-1 regret of always picking each learner that was run on every dataset.

    ``scores`` and ``observed`` are datasets x learners frames (a :class:`PerformanceTable`'s). Returns a
    frame of the same rows with one column per such learner (none: an empty frame).
    """
    import numpy as np
    import pandas as pd

    S = scores.to_numpy(dtype=float)
    O = observed.to_numpy(dtype=bool)
    everywhere = np.flatnonzero(O.all(axis=0))
    out = np.full((len(S), len(everywhere)), np.nan)
    for i in range(len(S)):
        ran = np.flatnonzero(O[i])
        for k, j in enumerate(everywhere):
            out[i, k] = regret(S[i, ran], int(np.searchsorted(ran, j)))
    return pd.DataFrame(out, index=scores.index, columns=[scores.columns[j] for j in everywhere])


def best_constant(scores, observed) -> tuple[str, Any] | None:
    """The learner that, picked on every dataset, has the lowest mean top-1 regret *in hindsight* (chosen
    on the very datasets it is scored on: the fair bar a recommender must clear), with its per-dataset
    regrets; None when no learner was run on every dataset."""
    regrets = constant_regrets(scores, observed)
    if regrets.shape[1] == 0:
        return None
    name = str(regrets.mean().idxmin())
    return name, regrets[name]
