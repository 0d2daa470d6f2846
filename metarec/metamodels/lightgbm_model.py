"""The default meta-model: a small ensemble of LightGBM models over relative scores.

Targets are relative to each dataset, so that datasets of different difficulty are comparable: the
*relative score* of a learner is its score minus the dataset's best score (0 for the best learner,
negative otherwise). A learner without a score on a dataset is taken to have failed there and gets the
dataset's worst score.

What is fitted (all on meta-features only; ``learner`` is a categorical feature where rows are
dataset x learner pairs):

``shared``
    one regressor of the relative score of learners that ran (rows: dataset x learner), one classifier
    of whether a learner yields a score at all, and one regressor of the dataset's worst relative
    score. The expected relative score is ``p * mu + (1 - p) * worst``.
``per_learner``
    one regressor per learner of its relative score (failures at the worst score).
``knn``
    the mean relative score of the learner on the ``knn_neighbors`` nearest training datasets (L1
    distance on standardised, signed-log meta-features).

The learners are ranked by the mean of the three expected relative scores (``preference``). The
predicted ``score`` is ``best + mu`` (``best``: a regressor of the dataset's best score), and
``[lower, upper]`` come from two quantile regressors of the score of learners that ran.

Hyper-parameters are fixed a priori (chosen on a development half of LCDB's datasets, see
:mod:`metarec.evaluate`); nothing is tuned on the data it is evaluated on. Fitted boosters are saved in
LightGBM's text format.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..exceptions import MetarecError
from .base import MetaModel, Standardizer, fill_failed

COMPONENTS = ("decomp", "per_learner", "shared", "knn")
DEFAULT_COMPONENTS = ("decomp", "per_learner", "shared")


class LightGBMMetaModel(MetaModel):
    """Ensemble of LightGBM models over relative scores (see the module docstring).

    Parameters
    ----------
    n_estimators : int
        Boosting rounds of the shared models (per-learner models use half).
    learning_rate : float
    num_leaves : int
        Leaves of the shared models (per-learner models use ``max(4, num_leaves // 2)``).
    min_data_in_leaf : int
    components : tuple of str
        Which of ``"shared"``, ``"per_learner"``, ``"knn"`` vote in the ranking.
    knn_neighbors : int
    interval : float
        Nominal coverage of ``[lower, upper]``.
    random_state : int
    num_threads : int
        LightGBM threads (1 is fastest on meta-learning's small tables).
    """

    name = "lightgbm"

    def __init__(
        self,
        n_estimators: int = 150,
        learning_rate: float = 0.1,
        num_leaves: int = 15,
        min_data_in_leaf: int = 10,
        components: tuple = DEFAULT_COMPONENTS,
        knn_neighbors: int = 10,
        interval: float = 0.8,
        random_state: int = 0,
        num_threads: int = 1,
    ):
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_data_in_leaf = min_data_in_leaf
        self.components = components
        self.knn_neighbors = knn_neighbors
        self.interval = interval
        self.random_state = random_state
        self.num_threads = num_threads

    # -- helpers -------------------------------------------------------------------------------------
    def _params(self, **kw) -> dict:
        p = {
            "learning_rate": self.learning_rate,
            "num_leaves": self.num_leaves,
            "min_data_in_leaf": self.min_data_in_leaf,
            "feature_fraction": 0.8,
            "bagging_fraction": 0.8,
            "bagging_freq": 1,
            "max_bin": 63,
            "min_data_in_bin": 1,
            "feature_pre_filter": False,
            "seed": int(self.random_state),
            "deterministic": True,
            "force_col_wise": True,
            "num_threads": int(self.num_threads),
            "verbose": -1,
        }
        p.update(kw)
        return p

    def _pred(self, booster, A, **kw):
        # an explicit thread count: LightGBM's default OpenMP pool costs milliseconds per call
        return booster.predict(A, num_threads=max(1, int(self.num_threads)), **kw)

    def _rows(self, A, n_learners: int):
        """Stack the meta-feature matrix once per learner, with the learner code as the last column."""
        import numpy as np

        n = A.shape[0]
        Z = np.tile(A, (n_learners, 1))
        code = np.repeat(np.arange(n_learners, dtype=float), n)
        return np.column_stack([Z, code])

    def _train(self, Z, y, rounds: int, categorical: bool, **kw):
        import lightgbm as lgb

        ds = lgb.Dataset(
            Z,
            y,
            categorical_feature=[Z.shape[1] - 1] if categorical else "auto",
            params={"max_bin": 63, "min_data_in_bin": 1, "feature_pre_filter": False, "verbose": -1,
                    "num_threads": max(1, int(self.num_threads))},
            free_raw_data=True,
        )
        return lgb.train(self._params(**kw), ds, num_boost_round=int(rounds))

    # -- fit -----------------------------------------------------------------------------------------
    def _fit(self, X, Y) -> None:
        import numpy as np

        bad = [c for c in self.components if c not in COMPONENTS]
        if bad or not self.components:
            raise MetarecError(f"unknown components {bad}; choose from {', '.join(COMPONENTS)}")
        A = X.to_numpy(dtype=float)
        S = Y.to_numpy(dtype=float)
        n, L = S.shape
        F = fill_failed(S)
        best = np.nanmax(F, axis=1)
        R = F - best[:, None]
        present = ~np.isnan(S)
        Robs = S - best[:, None]
        worst = np.nanmin(F, axis=1) - best
        self.boosters_: dict[str, Any] = {}
        self.constants_: dict[str, Any] = {}
        small = max(3, min(self.min_data_in_leaf // 2, n // 4))
        rounds = max(10, int(self.n_estimators) // 3)
        leaves = max(4, int(self.num_leaves) // 2)

        def per_dataset(y, **kw):
            kw = {"num_leaves": leaves, "min_data_in_leaf": small, **kw}
            return self._train(A, y, rounds, False, **kw)

        # dataset level: best score and worst relative score
        self.boosters_["best"] = per_dataset(best)
        self.boosters_["worst"] = per_dataset(worst)
        # shared over (dataset, learner) rows
        Z = self._rows(A, L)
        pres = present.T.reshape(-1)
        mdl = max(3, min(self.min_data_in_leaf, int(pres.sum()) // 8))
        self.boosters_["mu"] = self._train(Z[pres], Robs.T.reshape(-1)[pres], self.n_estimators, True,
                                           min_data_in_leaf=mdl)
        self.constants_["presence"] = float(pres.mean())
        if "shared" in self.components and 0.0 < pres.mean() < 1.0 and (~pres).sum() >= 3:
            self.boosters_["presence"] = self._train(
                Z, pres.astype(float), max(10, self.n_estimators * 2 // 3), True, objective="binary",
                num_leaves=7, min_data_in_leaf=max(5, 2 * mdl),
            )
        alpha = (1.0 - float(self.interval)) / 2.0
        absolute = S.T.reshape(-1)
        for key, q in (("lower", alpha), ("upper", 1.0 - alpha)):
            self.boosters_[key] = self._train(
                Z[pres], absolute[pres], max(10, self.n_estimators // 2), True, objective="quantile",
                alpha=q, min_data_in_leaf=max(5, 2 * mdl), num_leaves=7,
            )
        # per learner: presence and relative score where it ran ("decomp"), relative score ("per_learner")
        self.decomp_presence_: list[Any] = []
        self.decomp_mu_: list[Any] = []
        self.per_learner_: list[Any] = []
        rates = []
        for j in range(L):
            ok = present[:, j]
            rates.append(float((ok.sum() + 1.0) / (n + 2.0)))
            if "decomp" in self.components:
                if ok.sum() >= 3 and (~ok).sum() >= 3:
                    self.decomp_presence_.append(per_dataset(ok.astype(float), objective="binary",
                                                             num_leaves=4))
                else:
                    self.decomp_presence_.append(None)
                if ok.sum() >= 3:
                    self.decomp_mu_.append(self._train(A[ok], Robs[ok, j], rounds, False, num_leaves=leaves,
                                                       min_data_in_leaf=max(2, min(small, int(ok.sum()) // 4))))
                else:
                    self.decomp_mu_.append(None)
            if "per_learner" in self.components:
                self.per_learner_.append(per_dataset(R[:, j]))
        self.constants_["rates"] = rates
        self.constants_["mean_R"] = [float(v) for v in R.mean(axis=0)]
        if "knn" in self.components:
            self.scaler_ = Standardizer().fit(A)
            self.knn_X_ = self.scaler_.transform(A)
            self.knn_R_ = R
        else:
            self.scaler_ = None

    # -- predict -------------------------------------------------------------------------------------
    def _predict(self, X) -> dict:
        import numpy as np

        A = X.to_numpy(dtype=float)
        n, L = len(A), len(self.learners_)
        Z = self._rows(A, L)

        def shared(key):
            return self._pred(self.boosters_[key], Z).reshape(L, n).T

        best = self._pred(self.boosters_["best"], A)
        worst = np.minimum(self._pred(self.boosters_["worst"], A), 0.0)[:, None]
        mu = np.minimum(shared("mu"), 0.0)
        votes = []
        if "shared" in self.components:
            if "presence" in self.boosters_:
                p = np.clip(shared("presence"), 0.0, 1.0)
            else:
                p = np.full((n, L), self.constants_["presence"])
            votes.append(p * mu + (1.0 - p) * worst)
        if "decomp" in self.components:
            rates = self.constants_["rates"]
            mean_r = self.constants_["mean_R"]
            cols = []
            for j in range(L):
                pb, mb = self.decomp_presence_[j], self.decomp_mu_[j]
                pj = np.clip(self._pred(pb, A), 0.0, 1.0) if pb is not None else np.full(n, rates[j])
                mj = np.minimum(self._pred(mb, A), 0.0) if mb is not None else np.full(n, mean_r[j])
                cols.append(pj * mj + (1.0 - pj) * worst[:, 0])
            votes.append(np.column_stack(cols))
        if "per_learner" in self.components:
            votes.append(np.column_stack([self._pred(b, A) for b in self.per_learner_]))
        if "knn" in self.components:
            votes.append(self._knn(A))
        preference = np.mean(votes, axis=0)
        # the expected score, a failure counting as the dataset's worst score (what the ranking uses)
        score = best[:, None] + preference
        return {
            "score": score,
            "lower": shared("lower"),
            "upper": shared("upper"),
            "preference": preference,
        }

    def _knn(self, A):
        import numpy as np

        Q = self.scaler_.transform(A)
        k = max(1, min(int(self.knn_neighbors), len(self.knn_X_)))
        D = np.abs(Q[:, None, :] - self.knn_X_[None, :, :]).sum(axis=2)
        nb = np.argsort(D, axis=1, kind="stable")[:, :k]
        return self.knn_R_[nb].mean(axis=1)

    def explain(self, x_row, learner: str):
        """Contributions (LightGBM ``pred_contrib``) of each meta-feature to ``learner``'s relative score."""
        import numpy as np
        import pandas as pd

        super().explain(x_row, learner)
        X = self._validate_X(x_row if isinstance(x_row, pd.DataFrame) else pd.Series(x_row).to_frame().T)
        j = self.learners_.index(learner)
        A = X.to_numpy(dtype=float)[:1]
        Z = np.column_stack([A, np.full(1, float(j))])
        contrib = self._pred(self.boosters_["mu"], Z, pred_contrib=True)[0]
        return pd.Series(contrib[: len(self.feature_names_)], index=self.feature_names_, name=learner)

    # -- persistence ---------------------------------------------------------------------------------
    def _get_state(self, directory: Path) -> dict:
        def save(booster, fname):
            if booster is None:
                return None
            booster.save_model(str(directory / fname))
            return fname

        state: dict[str, Any] = {
            "boosters": {k: save(b, f"lgbm_{k}.txt") for k, b in self.boosters_.items()},
            "decomp_presence": [save(b, f"lgbm_presence_{j:03d}.txt") for j, b in enumerate(self.decomp_presence_)],
            "decomp_mu": [save(b, f"lgbm_mu_{j:03d}.txt") for j, b in enumerate(self.decomp_mu_)],
            "per_learner": [save(b, f"lgbm_relative_{j:03d}.txt") for j, b in enumerate(self.per_learner_)],
            "constants": self.constants_,
        }
        if self.scaler_ is not None:
            state["knn"] = {"scaler": self.scaler_.get_state(), "X": self.knn_X_.tolist(), "R": self.knn_R_.tolist()}
        return state

    def _set_state(self, state: dict, directory: Path) -> None:
        import lightgbm as lgb
        import numpy as np

        def load(fname):
            if fname is None:
                return None
            path = Path(directory) / fname
            if not path.is_file():
                raise MetarecError(f"{path}: model file missing")
            return lgb.Booster(model_file=str(path))

        self.boosters_ = {k: load(f) for k, f in state["boosters"].items()}
        self.decomp_presence_ = [load(f) for f in state.get("decomp_presence", [])]
        self.decomp_mu_ = [load(f) for f in state.get("decomp_mu", [])]
        self.per_learner_ = [load(f) for f in state.get("per_learner", [])]
        self.constants_ = dict(state.get("constants", {}))
        knn = state.get("knn")
        if knn:
            self.scaler_ = Standardizer.from_state(knn["scaler"])
            self.knn_X_ = np.asarray(knn["X"], dtype=float)
            self.knn_R_ = np.asarray(knn["R"], dtype=float)
        else:
            self.scaler_ = None
