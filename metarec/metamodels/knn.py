"""Nearest-datasets meta-model, the auto-sklearn way (Feurer et al., 2015).

Meta-features are signed-log transformed and min-max scaled on the training datasets (a missing value
takes the training median); the nearest training datasets by L1 distance vote with their best learners:
the best learner of the nearest dataset is ranked first, then that of the second nearest (if new), and
so on; learners that are no neighbour's best follow by their mean relative score over the neighbours
(a failed run counts as the neighbour's worst score).

The predicted ``score`` is the neighbours' mean score of the learner (over neighbours where it ran), and
``[lower, upper]`` the central quantiles of those scores, widened by a cross-conformal margin
(``calibrate``, see :mod:`metarec.metamodels.base`): ten neighbours' 10% and 90% quantiles are too narrow
for a new dataset (73% of held-out scores inside the nominal 80% interval in 10-fold evaluation over
LCDB's datasets). The model fits in milliseconds, so the 5 refits of the calibration cost nothing. A
learner that was not run on every training dataset (``fit(..., observed=...)``) is judged on its own
nearest datasets among those it was run on.
"""

from __future__ import annotations

import warnings
from pathlib import Path

from .base import MetaModel
from .preprocessing import Standardizer, fill_failed


class KNNMetaModel(MetaModel):
    """Rank learners by the best learners of the nearest training datasets (L1, scaled meta-features).

    Parameters
    ----------
    n_neighbors : int
        How many nearest datasets vote.
    interval : float
        Coverage of ``[lower, upper]`` (quantiles of the neighbours' scores, plus the conformal margin).
    calibrate : bool
        Conformalize the interval: cross-conformal margin over 5 folds of the training datasets.
    random_state : int
        Seed of the calibration's folds (the neighbours are deterministic; ties keep the training order).
    """

    name = "knn"
    ranked_by = "best learners of the nearest datasets"

    def __init__(self, n_neighbors: int = 10, interval: float = 0.8, calibrate: bool = True, random_state: int = 0):
        self.n_neighbors = n_neighbors
        self.interval = interval
        self.calibrate = calibrate
        self.random_state = random_state

    def _fit(self, X, Y, observed=None) -> None:
        import numpy as np

        A = X.to_numpy(dtype=float)
        self.scaler_ = Standardizer(method="minmax").fit(A)
        self.X_ = self.scaler_.transform(A)
        self.S_ = Y.to_numpy(dtype=float)
        self.O_ = np.ones(self.S_.shape, dtype=bool) if observed is None else np.asarray(observed, dtype=bool)
        with warnings.catch_warnings():  # a learner with no score anywhere: NaN
            warnings.simplefilter("ignore", RuntimeWarning)
            self.mean_score_ = np.nanmean(fill_failed(self.S_, self.O_), axis=0)

    def _distances(self, X):
        import numpy as np

        Q = self.scaler_.transform(X.to_numpy(dtype=float))
        return np.abs(Q[:, None, :] - self.X_[None, :, :]).sum(axis=2)

    def neighbors(self, X):
        """Indices (into the training datasets) of each row's nearest datasets, nearest first, and distances."""
        import numpy as np

        D = self._distances(X)
        k = max(1, min(int(self.n_neighbors), len(self.X_)))
        order = np.argsort(D, axis=1, kind="stable")[:, :k]
        return order, np.take_along_axis(D, order, axis=1)

    def _predict(self, X) -> dict:
        import numpy as np

        D = self._distances(X)
        full = np.argsort(D, axis=1, kind="stable")
        k = max(1, min(int(self.n_neighbors), len(self.X_)))
        F = fill_failed(self.S_, self.O_)
        with np.errstate(all="ignore"):
            R = F - np.nanmax(F, axis=1, keepdims=True)
        n, L = len(X), self.S_.shape[1]
        alpha = (1.0 - float(self.interval)) / 2.0
        score = np.full((n, L), np.nan)
        lower = np.full((n, L), np.nan)
        upper = np.full((n, L), np.nan)
        rel = np.full((n, L), np.nan)
        pref = np.empty((n, L))
        for i in range(n):
            rows = full[i, :k]
            for j in range(L):
                # each learner's own nearest datasets among those it was run on (all of them for most)
                mine = rows if self.O_[rows, j].all() else full[i][self.O_[full[i], j]][:k]
                if not len(mine):
                    continue
                s = self.S_[mine, j]
                sx = s if (~np.isnan(s)).any() else F[mine, j]  # never ran ok there: failed-as-worst
                with np.errstate(all="ignore"), warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)
                    score[i, j] = np.nanmean(sx)
                    lower[i, j] = np.nanquantile(sx, alpha)
                    upper[i, j] = np.nanquantile(sx, 1.0 - alpha)
                    rel[i, j] = np.nanmean(R[mine, j])
            # auto-sklearn: best learners of the nearest datasets first, in order of distance
            order: list[int] = []
            for r in rows:
                b = int(np.nanargmax(F[r]))
                if b not in order:
                    order.append(b)
            key = np.where(np.isnan(rel[i]), -np.inf, rel[i])
            rest = [j for j in np.argsort(-key, kind="stable") if j not in order]
            order += [int(j) for j in rest]
            pref[i, order] = -np.arange(L, dtype=float)
        bad = np.isnan(score)
        score[bad] = np.broadcast_to(self.mean_score_, score.shape)[bad]
        lower = np.where(np.isnan(lower), score, lower)
        upper = np.where(np.isnan(upper), score, upper)
        return {"score": score, "lower": lower, "upper": upper, "preference": pref}

    def _get_state(self, directory: Path) -> dict:
        return {
            "scaler": self.scaler_.get_state(),
            "X": self.X_.tolist(),
            "S": self.S_.tolist(),
            "observed": self.O_.astype(int).tolist(),
            "mean_score": self.mean_score_.tolist(),
        }

    def _set_state(self, state: dict, directory: Path) -> None:
        import numpy as np

        self.scaler_ = Standardizer.from_state(state["scaler"])
        self.X_ = np.asarray(state["X"], dtype=float)
        self.S_ = np.asarray(state["S"], dtype=float)
        obs = state.get("observed")
        self.O_ = np.ones(self.S_.shape, dtype=bool) if obs is None else np.asarray(obs, dtype=bool).reshape(self.S_.shape)
        self.mean_score_ = np.asarray(state["mean_score"], dtype=float)
