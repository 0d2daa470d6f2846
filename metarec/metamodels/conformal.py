"""Cross-conformal calibration of the predicted interval: the folds and the margin (see
:mod:`metarec.metamodels.base`)."""

from __future__ import annotations

__all__ = ["conformal_fold_ids", "conformal_quantile"]


def conformal_fold_ids(n: int, folds: int, random_state: int):
    """Fold (``0 .. folds-1``) of each of ``n`` datasets, a seeded permutation dealt round-robin."""
    import numpy as np

    return np.random.default_rng(int(random_state)).permutation(int(n)) % int(folds)


def conformal_quantile(scores, interval: float) -> float:
    """The conformal margin: the ``interval * (1 + 1/N)`` quantile (capped at 1) of ``N`` conformity scores
    ``max(lower - y, y - upper)``; 0 without scores."""
    import numpy as np

    e = np.asarray(scores, dtype=float)
    e = e[~np.isnan(e)]
    if not e.size:
        return 0.0
    level = min(1.0, float(interval) * (1.0 + 1.0 / e.size))
    return float(np.quantile(e, level))
