"""The default meta-model: bagged per-learner LightGBM models of relative scores and of failures.

Targets are relative to each dataset, so that datasets of different difficulty are comparable: the
*relative score* of a learner is its score minus the dataset's best score (0 for the best learner,
negative otherwise). A learner without a score on a dataset is taken to have failed there, which costs
the dataset's worst score (that is how :mod:`metarec.evaluate` scores a pick of it).

Inputs are the meta-features (with ``derived=True``, plus derived ones from
:mod:`metarec.metamodels.features`: logs of rows x features x classes, rows per feature, rows per class,
the class-entropy ratio, ..., which trees cannot build from the raw columns on ~200 training datasets. For each learner, on these inputs only:

- a classifier of whether the learner yields a score at all (``p``; the smoothed training rate for a
  learner with fewer than 3 failures or successes);
- a regressor of its relative score on the datasets where it ran (``mu``);

and for the dataset, a regressor of its worst relative score (``worst``), which make the expected relative
score ``p * mu + (1 - p) * worst``; and one more classifier per learner of whether it scores within
``within`` (0.01) of the dataset's best (a failure is never within). Learners are ranked (``preference``)
by that chance of being near the best (``rank_by="within"``, the default), or by the expected relative
score (``rank_by="expected"``, registered as ``lightgbm-expected``); each is averaged over ``n_bags``
copies fitted with different seeds (row and column subsampling), which steadies the ranking. Across
sources (10 folds of R packages) ranking by the chance put the pick within a point of the best on 57% of
everyday tables instead of 51%, with a lower mean regret (0.0243 against 0.0263) and regret@3 (0.0081
against 0.0116).
The predicted ``score`` is ``best`` plus the expected relative score (``best``: a regressor of the dataset's
best score), whatever the ranking, and
``[lower, upper]`` come from two quantile regressors of the score of learners that ran (one model over
dataset x learner rows, the learner a categorical feature), widened (or narrowed) by a conformal margin
(conformalized quantile regression, Romano et al. 2019, cross-conformal over 5 folds of datasets): alone,
the quantile boosters covered 74% of held-out scores for a nominal 80% (10-fold over LCDB's datasets);
with the margin, 82%. With ``anchored`` (the default) the best score and the quantiles are learnt as
offsets from the dataset's learning-curve landmarkers (:mod:`metarec.metamodels.anchors`): across sources
(10 folds of R packages) the median width of the 80% interval fell from 0.147 to 0.096 accuracy and from
0.348 to 0.180 R^2, covering 80% and 82% of held-out scores.

Hyper-parameters are fixed a priori: they were chosen by leave-one-dataset-out on a development half
of LCDB's datasets (those whose id's SHA-256 is even) and then evaluated, unchanged, on all of them;
nothing is tuned on the held-out dataset. The derived meta-features are off by default: in 10-fold
screening over datasets (two split seeds) they lowered the mean top-1 regret on both halves (even:
0.0158 -> 0.0123, odd: 0.0178 -> 0.0168), but full leave-one-dataset-out did not confirm it (mean top-1
regret 0.0164 with and without, regret@3 0.0095 with vs 0.0091 without) and they cost fitting time.
Per-learner z-scored, rank, pairwise and LambdaRank targets, one global model over (dataset, learner)
rows, Huber or clipped targets, more bags and blends with the SVM did not improve on it. Fitted boosters
are saved in LightGBM's text format.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..exceptions import MetarecError
from .anchors import anchor_values, choose_anchors, landmarker_columns
from .base import MetaModel
from .conformal import conformal_fold_ids, conformal_quantile
from .preprocessing import fill_failed

#: boosting rounds and LightGBM parameters of the interval's two quantile models
QUANTILE_ROUNDS = 75
QUANTILE_PARAMS = {"num_leaves": 7, "min_data_in_leaf": 20, "learning_rate": 0.1}

#: what :class:`LightGBMMetaModel` can rank learners by (``rank_by``)
RANK_BY = ("expected", "within")


class LightGBMMetaModel(MetaModel):
    """Bagged per-learner LightGBM models of relative scores and failures (see the module docstring).

    Parameters
    ----------
    n_bags : int
        Copies of the per-learner models fitted with different seeds and averaged.
    n_estimators : int
        Boosting rounds of each per-learner model.
    learning_rate : float
    num_leaves : int
    min_data_in_leaf : int
    feature_fraction, bagging_fraction : float
        Column and row subsampling of every tree.
    derived : bool
        Add the derived size/ratio meta-features of :mod:`metarec.metamodels.features` (logs of rows x
        features x classes, rows per feature, class-entropy ratio, ...) to the model's inputs.
    interval : float
        Nominal coverage of ``[lower, upper]``.
    calibrate : bool
        Conformalize the interval (CQR, cross-conformal over 5 folds of datasets): widen or narrow both
        quantiles by the margin that makes the out-of-fold intervals cover ``interval`` of the scores.
    rank_by : {"expected", "within"}
        What learners are ranked by: ``"within"`` (default), the chance that the learner scores within
        ``within`` of the dataset's best, from one more classifier per learner and bag (a failure is never
        within), which puts first the learner most often near the top rather than the best on average;
        ``"expected"``, the expected relative score (above).
    within : float
        The margin of ``rank_by="within"``, in score units (0.01: a point of accuracy).
    random_state : int
    num_threads : int
        LightGBM threads (1 is fastest on meta-learning's small tables).
    anchored : bool
        Learn the dataset's best score and the interval's quantiles as offsets from the dataset's
        learning-curve landmarkers (``sub_<learner>_accuracy`` / ``sub_<learner>_r2``, see
        :mod:`metarec.metamodels.anchors`): the best score from the best landmarker, a learner's quantiles
        from the landmarker its training scores differ from least (its own, or a relative's), which are also
        inputs of the quantile models. Datasets without landmarkers keep absolute targets.
    """

    name = "lightgbm"
    _openmp_modules = ("lightgbm",)
    # CQR refits only the quantile models, not the whole ensemble (cheaper than the base class's refits)
    _own_conformal = True

    @property
    def ranked_by(self) -> str:
        if self.rank_by == "within":
            return f"chance of scoring within {self.within:g} of the best"
        return "expected score"
    explain_method_ = "LightGBM pred_contrib of the learner's relative-score models"

    def __init__(
        self,
        n_bags: int = 3,
        n_estimators: int = 30,
        learning_rate: float = 0.1,
        num_leaves: int = 6,
        min_data_in_leaf: int = 8,
        feature_fraction: float = 0.7,
        bagging_fraction: float = 0.8,
        derived: bool = False,
        interval: float = 0.8,
        calibrate: bool = True,
        rank_by: str = "within",
        within: float = 0.01,
        random_state: int = 0,
        num_threads: int = 1,
        anchored: bool = True,
    ):
        self.n_bags = n_bags
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_data_in_leaf = min_data_in_leaf
        self.feature_fraction = feature_fraction
        self.bagging_fraction = bagging_fraction
        self.derived = derived
        self.interval = interval
        self.calibrate = calibrate
        self.rank_by = rank_by
        self.within = within
        self.random_state = random_state
        self.num_threads = num_threads
        self.anchored = anchored

    # -- LightGBM plumbing ---------------------------------------------------------------------------
    def _threads(self) -> int:
        return max(1, int(self.num_threads))

    def _train(self, Z, y, rounds: int, seed: int, categorical: bool = False, **kw):
        import lightgbm as lgb

        params = {
            "objective": "regression",
            "learning_rate": float(self.learning_rate),
            "num_leaves": int(self.num_leaves),
            "min_data_in_leaf": int(self.min_data_in_leaf),
            "feature_fraction": float(self.feature_fraction),
            "bagging_fraction": float(self.bagging_fraction),
            "bagging_freq": 1,
            "max_bin": 63,
            "min_data_in_bin": 1,
            "feature_pre_filter": False,
            "seed": int(seed),
            "deterministic": True,
            "force_col_wise": True,
            "num_threads": self._threads(),
            "verbose": -1,
        }
        params.update(kw)
        params["min_data_in_leaf"] = max(1, min(int(params["min_data_in_leaf"]), len(y) // 3))
        ds = lgb.Dataset(
            Z,
            y,
            categorical_feature=[Z.shape[1] - 1] if categorical else "auto",
            params={"max_bin": 63, "min_data_in_bin": 1, "feature_pre_filter": False, "verbose": -1,
                    "num_threads": self._threads()},
        )
        return lgb.train(params, ds, num_boost_round=max(1, int(rounds)))

    def _pred(self, booster, A, **kw):
        # an explicit thread count: LightGBM's default OpenMP pool costs milliseconds per call
        return booster.predict(A, num_threads=self._threads(), **kw)

    @staticmethod
    def _rows(A, n_learners: int):
        """The meta-feature matrix once per learner, with the learner's index as the last column."""
        import numpy as np

        return np.column_stack([np.tile(A, (n_learners, 1)), np.repeat(np.arange(n_learners, dtype=float), len(A))])

    def _anchors(self, A):
        """The offsets' origins when ``anchored`` (:func:`~metarec.metamodels.anchors.anchor_values`): each
        dataset's best landmarker (n) and each learner's anchor (n x learners); zeros when not ``anchored``."""
        import numpy as np

        if not self.anchored:
            return np.zeros(len(A)), np.zeros((len(A), len(self.learners_)))
        return anchor_values(A, self.anchor_columns_, landmarker_columns(self.feature_names_))

    def _quantile_rows(self, A, top, base):
        """The quantile models' rows: :meth:`_rows`, with the learner's anchor and the best landmarker
        (:meth:`_anchors`' ``base`` and ``top``) before the learner's index when ``anchored``."""
        import numpy as np

        L = len(self.learners_)
        if not self.anchored:
            return self._rows(A, L)
        return np.column_stack([np.tile(A, (L, 1)), base.T.reshape(-1), np.tile(top, L),
                                np.repeat(np.arange(L, dtype=float), len(A))])

    def _inputs(self, X):
        """The model's input matrix: the meta-features, plus the derived ones when ``derived``."""
        import numpy as np
        import pandas as pd

        if not self.derived:
            return X.to_numpy(dtype=float)
        from .features import derived_features

        return pd.concat([X, derived_features(X)], axis=1).to_numpy(dtype=float)

    def _input_names(self) -> list[str]:
        from .features import SOURCES

        return list(self.feature_names_) + (list(SOURCES) if self.derived else [])

    # -- fit -----------------------------------------------------------------------------------------
    def _fit(self, X, Y, observed=None) -> None:
        import numpy as np

        if int(self.n_bags) < 1:
            raise MetarecError(f"n_bags must be at least 1, got {self.n_bags}")
        if self.rank_by not in RANK_BY:
            raise MetarecError(f"rank_by must be one of {', '.join(RANK_BY)}, got {self.rank_by!r}")
        A = self._inputs(X)
        S = Y.to_numpy(dtype=float)
        n, L = S.shape
        F = fill_failed(S, observed)
        best = np.nanmax(F, axis=1)
        present = ~np.isnan(S)
        # a learner never run on a dataset is unknown there: its failure model learns where it ran only
        ran = np.ones_like(present) if observed is None else np.asarray(observed, dtype=bool) | present
        Robs = S - best[:, None]
        worst = np.nanmin(F, axis=1) - best
        seed0 = int(self.random_state)
        rounds = int(self.n_estimators)

        self.rates_ = [float((present[:, j].sum() + 1.0) / (ran[:, j].sum() + 2.0)) for j in range(L)]
        self.fallback_ = [float(np.nanmean(Robs[:, j])) if present[:, j].any() else float(np.min(worst))
                          for j in range(L)]
        within = self.rank_by == "within"
        near = F >= best[:, None] - float(self.within)  # within the margin of the best (a failure: never)
        self.near_rates_ = [float((near[:, j].sum() + 1.0) / (n + 2.0)) for j in range(L)] if within else []
        self.bags_: list[dict[str, Any]] = []
        for b in range(int(self.n_bags)):
            seed = seed0 * 1000 + b
            bag: dict[str, Any] = {
                "worst": self._train(A, worst, 50, seed, learning_rate=0.05, num_leaves=8, min_data_in_leaf=5),
                "presence": [],
                "mu": [],
                "near": [],
            }
            for j in range(L):
                ok = present[:, j]
                tried = ran[:, j]
                if ok.sum() >= 3 and (tried & ~ok).sum() >= 3:
                    bag["presence"].append(self._train(A[tried], ok[tried].astype(float), rounds, seed,
                                                       objective="binary", num_leaves=4, min_data_in_leaf=5))
                else:
                    bag["presence"].append(None)
                bag["mu"].append(self._train(A[ok], Robs[ok, j], rounds, seed) if ok.sum() >= 3 else None)
                if within:
                    t = near[:, j]
                    bag["near"].append(
                        self._train(A, t.astype(float), 200, seed, objective="binary", learning_rate=0.03,
                                    num_leaves=15, min_data_in_leaf=10)
                        if min(t.sum(), (~t).sum()) >= 3 else None)
            self.bags_.append(bag)
        self.anchor_columns_ = choose_anchors(A, S, landmarker_columns(self.feature_names_)) if self.anchored else []
        top, base = self._anchors(A)
        self.best_ = self._train(A, best - top, 50, seed0, learning_rate=0.05, num_leaves=8, min_data_in_leaf=5)
        # interval: quantiles of the score where the learner ran, one model over (dataset, learner) rows
        Z = self._quantile_rows(A, top, base)
        pres = present.T.reshape(-1)
        absolute = S.T.reshape(-1) - base.T.reshape(-1)
        alpha = (1.0 - float(self.interval)) / 2.0
        # LightGBM splits a categorical feature only on categories with min_data_per_group rows (100 by
        # default): with fewer datasets than that (a small KB, e.g. the regression part's 15) the learner
        # never splits and every learner got the same interval
        per_group = {} if n >= 100 else {"min_data_per_group": max(5, n // 3), "cat_smooth": 1.0}

        def quantiles(rows):
            return {
                key: self._train(Z[rows], absolute[rows], QUANTILE_ROUNDS, seed0, categorical=True,
                                 objective="quantile", alpha=q, **QUANTILE_PARAMS, **per_group)
                for key, q in (("lower", alpha), ("upper", 1.0 - alpha))
            }

        self.quantiles_ = quantiles(pres)
        self.interval_margin_ = self._conformal_margin(quantiles, Z, absolute, pres, n, L) if self.calibrate else 0.0

    def _conformal_margin(self, quantiles, Z, absolute, pres, n: int, L: int, folds: int | None = None) -> float:
        """CQR margin (Romano et al., 2019), cross-conformal: quantile models fitted without a fold of
        datasets score that fold; the margin is the ``interval`` quantile of ``max(lower - y, y - upper)``.

        The folds and the quantile are the base class's (:func:`~metarec.metamodels.conformal.conformal_fold_ids`,
        :func:`~metarec.metamodels.conformal.conformal_quantile`); only the quantile models are refitted."""
        import numpy as np

        folds = int(self.conformal_folds if folds is None else folds)
        if n < 2 * folds:
            return 0.0
        fold_of = conformal_fold_ids(n, folds, int(self.random_state))
        row_fold = np.tile(fold_of, L)  # rows are learner-major: row j * n + i is (dataset i, learner j)
        scores = []
        for f in range(folds):
            held = pres & (row_fold == f)
            if not held.any():
                continue
            models = quantiles(pres & (row_fold != f))
            lo = self._pred(models["lower"], Z[held])
            hi = self._pred(models["upper"], Z[held])
            y = absolute[held]
            scores.append(np.maximum(lo - y, y - hi))
        if not scores:
            return 0.0
        return conformal_quantile(np.concatenate(scores), float(self.interval))

    # -- predict -------------------------------------------------------------------------------------
    def _expected(self, A):
        """Mean over bags of ``p * mu + (1 - p) * worst`` (datasets x learners)."""
        import numpy as np

        n, L = len(A), len(self.learners_)
        total = np.zeros((n, L))
        for bag in self.bags_:
            worst = np.minimum(self._pred(bag["worst"], A), 0.0)
            for j in range(L):
                pb, mb = bag["presence"][j], bag["mu"][j]
                p = np.clip(self._pred(pb, A), 0.0, 1.0) if pb is not None else np.full(n, self.rates_[j])
                mu = np.minimum(self._pred(mb, A), 0.0) if mb is not None else np.full(n, self.fallback_[j])
                total[:, j] += p * mu + (1.0 - p) * worst
        return total / len(self.bags_)

    def _near(self, A):
        """Mean over bags of the chance that each learner scores within ``within`` of the best."""
        import numpy as np

        n, L = len(A), len(self.learners_)
        total = np.zeros((n, L))
        for bag in self.bags_:
            for j, m in enumerate(bag["near"]):
                total[:, j] += np.clip(self._pred(m, A), 0.0, 1.0) if m is not None else self.near_rates_[j]
        return total / len(self.bags_)

    def _predict(self, X) -> dict:
        A = self._inputs(X)
        L = len(self.learners_)
        expected = preference = self._expected(A)
        top, base = self._anchors(A)
        best = self._pred(self.best_, A) + top
        Z = self._quantile_rows(A, top, base)
        # the conformal margin (interval_margin_) is applied by MetaModel.predict
        lower = self._pred(self.quantiles_["lower"], Z).reshape(L, len(A)).T + base
        upper = self._pred(self.quantiles_["upper"], Z).reshape(L, len(A)).T + base
        # the expected score, a failure counting as the dataset's worst score (what rank_by="expected" ranks by)
        score = best[:, None] + expected
        if self.rank_by == "within":  # the expected score breaks ties (learners without a classifier)
            preference = self._near(A) + 1e-6 * expected
        return {"score": score, "lower": lower, "upper": upper, "preference": preference}

    def explain(self, x_row, learner: str):
        """Per-meta-feature contributions (LightGBM ``pred_contrib``) to ``learner``'s relative score.

        The contributions of the learner's relative-score models (``mu``), averaged over the bags; they
        sum, with the models' mean, to the predicted relative score where the learner runs. A derived
        meta-feature's contribution is split equally among the meta-features it is computed from
        (:func:`metarec.metamodels.features.fold_contributions`).
        """
        import numpy as np
        import pandas as pd

        super().explain(x_row, learner)
        frame = x_row if isinstance(x_row, pd.DataFrame) else pd.Series(x_row).to_frame().T
        A = self._inputs(self._validate_X(frame))[:1]
        j = self.learners_.index(learner)
        parts = [self._pred(bag["mu"][j], A, pred_contrib=True)[0] for bag in self.bags_ if bag["mu"][j] is not None]
        if not parts:
            return pd.Series(0.0, index=self.feature_names_, name=learner)
        names = self._input_names()
        contrib = pd.Series(np.mean(parts, axis=0)[: len(names)], index=names)
        if self.derived:
            from .features import fold_contributions

            contrib = fold_contributions(contrib, self.feature_names_)
        return pd.Series(contrib.to_numpy(dtype=float), index=self.feature_names_, name=learner)

    # -- persistence ---------------------------------------------------------------------------------
    def _get_state(self, directory: Path) -> dict:
        def save(booster, fname):
            if booster is None:
                return None
            booster.save_model(str(Path(directory) / fname))
            return fname

        bags = []
        for b, bag in enumerate(self.bags_):
            bags.append({
                "worst": save(bag["worst"], f"bag{b}_worst.txt"),
                "presence": [save(m, f"bag{b}_presence_{j:03d}.txt") for j, m in enumerate(bag["presence"])],
                "mu": [save(m, f"bag{b}_mu_{j:03d}.txt") for j, m in enumerate(bag["mu"])],
                "near": [save(m, f"bag{b}_near_{j:03d}.txt") for j, m in enumerate(bag["near"])],
            })
        return {
            "bags": bags,
            "best": save(self.best_, "best.txt"),
            "quantiles": {k: save(m, f"quantile_{k}.txt") for k, m in self.quantiles_.items()},
            "rates": self.rates_,
            "fallback": self.fallback_,
            "interval_margin": float(self.interval_margin_),
            "derived": bool(self.derived),
            "rank_by": self.rank_by,
            "within": float(self.within),
            "near_rates": self.near_rates_,
            "anchored": bool(self.anchored),
            "anchor_columns": [self.feature_names_[c] if c >= 0 else None for c in self.anchor_columns_],
        }

    def _set_state(self, state: dict, directory: Path) -> None:
        from concurrent.futures import ThreadPoolExecutor

        import lightgbm as lgb

        from .._parallel import usable_cpus

        def read(fname):
            if fname is None:
                return None
            path = Path(directory) / fname
            if not path.is_file():
                raise MetarecError(f"{path}: model file missing")
            text = path.read_bytes()
            # LightGBM aborts the whole process (C++ terminate) on a truncated model: check its last section
            if not text.startswith(b"tree\n") or b"\nend of trees\n" not in text or b"end of parameters" not in text:
                raise MetarecError(f"{path}: not a complete LightGBM model file (truncated or edited)")
            return lgb.Booster(model_str=text.decode("utf-8", errors="replace"))

        # parsing a model is C++ work outside the GIL: the ~200 models of a ranking load in parallel threads
        names = [f for b in state["bags"] for f in (b["worst"], *b["presence"], *b["mu"], *b.get("near", []))]
        names += [state["best"], *state["quantiles"].values()]
        with ThreadPoolExecutor(usable_cpus()) as pool:
            loaded = dict(zip(names, pool.map(read, names)))
        load = loaded.__getitem__  # each file read once, looked up below

        self.bags_ = [
            {"worst": load(b["worst"]), "presence": [load(f) for f in b["presence"]], "mu": [load(f) for f in b["mu"]],
             "near": [load(f) for f in b.get("near", [])]}
            for b in state["bags"]
        ]
        self.best_ = load(state["best"])
        self.quantiles_ = {k: load(f) for k, f in state["quantiles"].items()}
        self.rates_ = [float(v) for v in state["rates"]]
        self.fallback_ = [float(v) for v in state["fallback"]]
        # models saved before the conformal margin existed have none
        self.interval_margin_ = float(state.get("interval_margin", 0.0))
        # models saved before derived meta-features existed were fitted on the raw ones
        self.derived = bool(state.get("derived", False))
        # models saved before rank_by existed rank by the expected score
        self.rank_by = str(state.get("rank_by", "expected"))
        self.within = float(state.get("within", 0.01))
        self.near_rates_ = [float(v) for v in state.get("near_rates", [])]
        # models saved before anchored existed learnt absolute best scores and quantiles
        self.anchored = bool(state.get("anchored", False))
        names = {c: i for i, c in enumerate(self.feature_names_)}
        self.anchor_columns_ = [names[c] if c is not None else -1 for c in state.get("anchor_columns", [])]
        if self.anchored and len(self.anchor_columns_) != len(self.learners_):
            raise MetarecError("anchor_columns: one per learner expected in an anchored model's state")
