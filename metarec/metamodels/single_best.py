"""The baseline meta-model: ignore the meta-features, prefer the learner with the best mean rank.

Ranks are computed within each training dataset (1 = best; a learner without a score there counts as
that dataset's worst score; ties share the mean rank) and averaged over datasets. The predicted
``score`` of a learner is its mean score over the training datasets, ``[lower, upper]`` the central
quantiles of its scores widened by a cross-conformal margin (``calibrate``, see
:mod:`metarec.metamodels.base`); both are the same for every new dataset.
"""

from __future__ import annotations

from pathlib import Path

from .base import MetaModel
from .preprocessing import fill_failed


class SingleBestMetaModel(MetaModel):
    """Predict the same thing for every dataset: learners ordered by mean rank over the training datasets.

    Parameters
    ----------
    interval : float
        Coverage of ``[lower, upper]`` (quantiles of each learner's training scores, plus the margin).
    calibrate : bool
        Conformalize the interval: cross-conformal margin over 5 folds of the training datasets.
    random_state : int
        Seed of the calibration's folds (the model itself is deterministic).
    """

    name = "single-best"
    ranked_by = "mean rank over the knowledge base"

    def __init__(self, interval: float = 0.8, calibrate: bool = True, random_state: int = 0):
        self.interval = interval
        self.calibrate = calibrate
        self.random_state = random_state

    def _fit(self, X, Y, observed=None) -> None:
        import numpy as np
        import pandas as pd

        S = Y.to_numpy(dtype=float)
        F = fill_failed(S, observed)
        ranks = pd.DataFrame(F).rank(axis=1, ascending=False, method="average").to_numpy()
        self.mean_rank_ = np.nanmean(ranks, axis=0)
        self.mean_score_ = np.nanmean(F, axis=0)
        alpha = (1.0 - float(self.interval)) / 2.0
        self.lower_ = np.nanquantile(F, alpha, axis=0)
        self.upper_ = np.nanquantile(F, 1.0 - alpha, axis=0)

    def _predict(self, X) -> dict:
        import numpy as np

        n = len(X)

        def rep(v):
            return np.repeat(np.asarray(v, dtype=float)[None, :], n, axis=0)

        return {
            "score": rep(self.mean_score_),
            "lower": rep(self.lower_),
            "upper": rep(self.upper_),
            "preference": -rep(self.mean_rank_),
        }

    def _get_state(self, directory: Path) -> dict:
        return {
            "mean_rank": self.mean_rank_.tolist(),
            "mean_score": self.mean_score_.tolist(),
            "lower": self.lower_.tolist(),
            "upper": self.upper_.tolist(),
        }

    def _set_state(self, state: dict, directory: Path) -> None:
        import numpy as np

        for key in ("mean_rank", "mean_score", "lower", "upper"):
            setattr(self, key + "_", np.asarray(state[key], dtype=float))
