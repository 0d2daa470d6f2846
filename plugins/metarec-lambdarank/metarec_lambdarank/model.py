"""A LambdaRank meta-model: learn to order learners per dataset, not to predict each learner's score.

Training rows are (dataset, learner) pairs: the dataset's meta-features plus the learner one-hot
encoded, grouped by dataset. A learner's relevance on a dataset is its score scaled to the dataset's
range of scores and cut into ``grades + 1`` integer grades (the best learner gets ``grades``); a learner
that ran and failed gets grade 0; a learner that was never run on a dataset (``observed`` False) has no
row there, so it is neither rewarded nor punished for that dataset. :class:`lightgbm.LGBMRanker`
(``objective="lambdarank"``) optimises NDCG over these groups; its output is the ``preference`` that
learners are ranked by.

Scores in the metric's units come from three boosters over the same rows, fitted where a learner has a
score: the mean (``score``) and the two quantiles of the interval (``lower``, ``upper``). Every booster is
saved in LightGBM's text format; nothing is pickled.
"""

from __future__ import annotations

from pathlib import Path

from metarec.exceptions import MetarecError
from metarec.metamodels.base import MetaModel
from metarec.metamodels.preprocessing import fill_failed


class LambdaRankMetaModel(MetaModel):
    """Rank learners with LightGBM's LambdaRank (see the module docstring).

    Parameters
    ----------
    n_estimators : int
        Boosting rounds of the ranker.
    learning_rate : float
    num_leaves : int
    min_child_samples : int
        Minimum rows per leaf (capped at a third of the training rows on tiny problems).
    grades : int
        Relevance grades per dataset (``0..grades``; at most 30, LightGBM's default label gains).
    interval : float
        Nominal coverage of ``[lower, upper]``.
    random_state : int
    num_threads : int
    """

    name = "lambdarank"

    def __init__(self, n_estimators: int = 100, learning_rate: float = 0.05, num_leaves: int = 15,
                 min_child_samples: int = 10, grades: int = 10, interval: float = 0.8, random_state: int = 0,
                 num_threads: int = 1):
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.grades = grades
        self.interval = interval
        self.random_state = random_state
        self.num_threads = num_threads

    # -- rows ---------------------------------------------------------------------------------------------
    @staticmethod
    def _rows(A, n_learners: int):
        """Meta-features once per (dataset, learner), dataset-major, then the learner one-hot encoded.

        (One-hot rather than a LightGBM categorical: a categorical split needs ``min_data_per_group``
        rows per learner, 100 by default, more than a meta-learning table has.)
        """
        import numpy as np

        n = len(A)
        return np.column_stack([np.repeat(A, n_learners, axis=0), np.tile(np.eye(n_learners), (n, 1))])

    def _common(self, n_rows: int) -> dict:
        return {
            "learning_rate": float(self.learning_rate),
            "num_leaves": int(self.num_leaves),
            "min_child_samples": max(1, min(int(self.min_child_samples), n_rows // 3)),
            "random_state": int(self.random_state),
            "n_jobs": max(1, int(self.num_threads)),
            "deterministic": True,
            "force_col_wise": True,
            "verbose": -1,
        }

    def grade(self, S, observed=None):
        """Integer relevance grades (datasets x learners), -1 where the learner was not run."""
        import numpy as np

        F = fill_failed(S, observed)
        with np.errstate(all="ignore"):
            lo = np.nanmin(F, axis=1, keepdims=True)
            hi = np.nanmax(F, axis=1, keepdims=True)
            rel = np.where(hi > lo, (F - lo) / (hi - lo), 1.0)
        g = np.floor(rel * int(self.grades) + 1e-9)
        g = np.where(np.isnan(S) & ~np.isnan(F), 0.0, g)  # ran and failed: the lowest grade
        return np.where(np.isnan(F), -1, g).astype(int)

    # -- fit ----------------------------------------------------------------------------------------------
    def _fit(self, X, Y, observed=None) -> None:
        import lightgbm as lgb
        import numpy as np

        if not 1 <= int(self.grades) <= 30:
            raise MetarecError(f"grades must be between 1 and 30, got {self.grades}")
        A = X.to_numpy(dtype=float)
        S = Y.to_numpy(dtype=float)
        n, L = S.shape
        G = self.grade(S, observed)
        Z = self._rows(A, L)
        g = G.reshape(-1)
        keep = g >= 0
        group = (G >= 0).sum(axis=1)
        ranker = lgb.LGBMRanker(objective="lambdarank", n_estimators=int(self.n_estimators),
                                **self._common(int(keep.sum())))
        ranker.fit(Z[keep], g[keep], group=group[group > 0])
        self.ranker_ = ranker.booster_
        s = S.reshape(-1)
        ok = ~np.isnan(s)
        alpha = (1.0 - float(self.interval)) / 2.0
        self.boosters_ = {}
        for key, objective, extra in (("score", "regression", {}), ("lower", "quantile", {"alpha": alpha}),
                                      ("upper", "quantile", {"alpha": 1.0 - alpha})):
            reg = lgb.LGBMRegressor(objective=objective, n_estimators=75, **{**self._common(int(ok.sum())),
                                                                             "learning_rate": 0.1}, **extra)
            reg.fit(Z[ok], s[ok])
            self.boosters_[key] = reg.booster_

    # -- predict ------------------------------------------------------------------------------------------
    def _pred(self, booster, Z):
        return booster.predict(Z, num_threads=max(1, int(self.num_threads)))

    def _predict(self, X) -> dict:
        A = X.to_numpy(dtype=float)
        n, L = len(A), len(self.learners_)
        Z = self._rows(A, L)
        out = {k: self._pred(b, Z).reshape(n, L) for k, b in self.boosters_.items()}
        out["preference"] = self._pred(self.ranker_, Z).reshape(n, L)
        return out

    # -- persistence --------------------------------------------------------------------------------------
    def _get_state(self, directory: Path) -> dict:
        files = {"ranker": "ranker.txt", **{k: f"{k}.txt" for k in self.boosters_}}
        self.ranker_.save_model(str(Path(directory) / files["ranker"]))
        for k, b in self.boosters_.items():
            b.save_model(str(Path(directory) / files[k]))
        return {"files": files}

    def _set_state(self, state: dict, directory: Path) -> None:
        import lightgbm as lgb

        def load(fname):
            path = Path(directory) / fname
            if not path.is_file():
                raise MetarecError(f"{path}: model file missing")
            return lgb.Booster(model_file=str(path))

        files = dict(state["files"])
        self.ranker_ = load(files.pop("ranker"))
        self.boosters_ = {k: load(f) for k, f in files.items()}
