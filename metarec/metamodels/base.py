"""The meta-model contract: :class:`MetaModel`, :class:`MetaPrediction`, and the registration record.

A meta-model predicts, from a dataset's meta-features, how well each learner will do on it. Plugins
register one with ``register(name, factory, description="")`` in the ``register_metamodels`` hook;
``factory()`` returns an unfitted :class:`MetaModel` with scikit-learn semantics:

- ``__init__`` stores its keyword arguments and nothing else (:meth:`MetaModel.get_params`);
- :meth:`MetaModel.fit` takes ``X`` (datasets x meta-features, NaN allowed) and ``Y`` (datasets x
  learners scores, higher is better, NaN where a learner has no score) and returns ``self``; what it
  learned lives in attributes ending in ``_`` (``learners_``, ``feature_names_``, ...);
- :meth:`MetaModel.predict` returns a :class:`MetaPrediction`;
- :meth:`MetaModel.save` / :meth:`MetaModel.load` write and read a directory of JSON (plus LightGBM text
  models or a torch ``state_dict`` where a model has them); never pickle.

A learner without a score on a training dataset (NaN in ``Y``) is taken to have failed there: the built-in
models count it as that dataset's worst score when they rank, which is how :mod:`metarec.evaluate`
scores a pick of it. Unless ``fit`` is told otherwise with ``observed`` (was the learner run there at
all): a learner that was never run on a dataset (a plugin learner with runs on a few KB tasks) is
unknown there, not failed, and the built-ins learn about it from the datasets where it ran.

Subclasses implement ``_fit(X, Y, observed=None)`` and ``_predict(X)`` on validated frames, and ``_get_state()`` /
``_set_state(state, directory)`` for persistence; this base class does validation, the predicted fit
times (:class:`FitTimeModel`), ordering of the interval, ranking and the JSON envelope.

Conformal calibration of the interval. A model with a ``calibrate`` parameter set to True gets, inside
:meth:`MetaModel.fit`, a cross-conformal margin (conformalized quantile regression, Romano et al., 2019):
a clone of the model (same parameters, ``calibrate=False``) is fitted ``conformal_folds`` times, each time
without one fold of the training datasets (folds seeded by ``random_state``); every held-out score ``y``
with a predicted interval ``[lo, hi]`` gives ``max(lo - y, y - hi)``, and the margin
``interval_margin_`` is the ``interval * (1 + 1/N)`` quantile of those N scores. :meth:`MetaModel.predict`
widens (or, for a negative margin, narrows) every interval by it, ``lower - margin`` and ``upper + margin``,
before putting the score inside it. Only training datasets are used, so a held-out dataset of
:mod:`metarec.evaluate` stays unseen. The margin is saved with the model; a model saved before margins
existed loads with margin 0. Calibrating costs about ``1 + conformal_folds`` fits (less, since each refit
sees fewer datasets). A subclass that calibrates in a cheaper way of its own (LightGBM refits only its
quantile models) sets ``_own_conformal = True`` and sets ``interval_margin_`` in ``_fit``.
"""

from __future__ import annotations

import importlib
import inspect
import json
import logging
import math
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from ..exceptions import MetarecError

logger = logging.getLogger(__name__)

__all__ = [
    "conformal_fold_ids",
    "conformal_quantile",
    "MetaModelSpec",
    "MetaModel",
    "MetaPrediction",
    "FitTimeModel",
    "Standardizer",
    "NotFittedError",
    "load_metamodel",
]

FORMAT = "metarec-metamodel"
FORMAT_VERSION = 1
META_FILE = "metamodel.json"


@dataclass(frozen=True)
class MetaModelSpec:
    """A registered meta-model: its name, the factory that builds an unfitted instance, a description."""

    name: str
    factory: Callable[[], Any]
    description: str = ""

    def create(self) -> Any:
        """A new unfitted meta-model; a factory that raises or returns something else is one readable
        :class:`MetarecError` naming the meta-model, never a traceback from deep inside the caller."""
        try:
            model = self.factory()
        except MetarecError:  # the factory's own message (e.g. torch not installed, with the extra to install)
            raise
        except Exception as exc:
            first = (str(exc).strip().splitlines() or [""])[0]
            raise MetarecError(
                f"meta-model {self.name!r} could not be created ({type(exc).__name__}: {first}); fix or "
                f"uninstall the plugin that registers it (see `metarec plugins`), or choose another --metamodel"
            ) from None
        if not isinstance(model, MetaModel):
            raise MetarecError(
                f"meta-model {self.name!r}: its factory returned a {type(model).__name__!r} object, not a "
                f"metarec.metamodels.MetaModel; fix the plugin that registers it (see `metarec plugins`), or "
                f"choose another --metamodel"
            )
        return model


class NotFittedError(MetarecError, AttributeError):
    """A meta-model was used before :meth:`MetaModel.fit` (or :meth:`MetaModel.load`)."""


@dataclass
class MetaPrediction:
    """What a meta-model predicts for some datasets (rows, indexed like ``X``) and learners (columns).

    Attributes
    ----------
    score : pandas.DataFrame
        Predicted score of each learner (the units of the ``Y`` it was fitted on, higher is better).
    lower, upper : pandas.DataFrame
        A central interval around ``score`` (``interval`` coverage, e.g. 0.8); ``lower <= score <= upper``.
    fit_time : pandas.DataFrame
        Predicted seconds to fit the learner on a dataset of ``NumberOfInstances`` rows (NaN when the
        model was fitted without fit times).
    preference : pandas.DataFrame or None
        What the model ranks by, higher is preferred (e.g. the expected score when a failure counts as
        the worst score, or a mean rank); ``None`` means rank by ``score``.
    interval : float
        Nominal coverage of ``[lower, upper]``.
    """

    score: Any
    lower: Any
    upper: Any
    fit_time: Any
    preference: Any = None
    interval: float = 0.8

    @property
    def learners(self) -> list[str]:
        return list(self.score.columns)

    def ranking(self) -> Any:
        """A DataFrame (rows like ``score``) of learner names, best first (columns 1..n_learners)."""
        import numpy as np
        import pandas as pd

        key = self.score if self.preference is None else self.preference
        values = key.to_numpy(dtype=float)
        values = np.where(np.isnan(values), -np.inf, values)
        # stable order: ties keep the column order
        order = np.argsort(-values, axis=1, kind="stable")
        names = np.asarray(key.columns, dtype=object)[order]
        return pd.DataFrame(names, index=key.index, columns=range(1, key.shape[1] + 1))

    def top(self, k: int = 3) -> list[list[str]]:
        """The ``k`` preferred learners of each row."""
        return [list(r)[:k] for r in self.ranking().itertuples(index=False)]

    def frame(self, row: int | str = 0) -> Any:
        """One dataset's prediction as a learner-indexed DataFrame, best first."""
        import pandas as pd

        idx = self.score.index[row] if isinstance(row, int) else row
        out = pd.DataFrame(
            {
                "score": self.score.loc[idx],
                "lower": self.lower.loc[idx],
                "upper": self.upper.loc[idx],
                "fit_time": self.fit_time.loc[idx],
            }
        )
        if self.preference is not None:
            out["preference"] = self.preference.loc[idx]
        order = list(self.ranking().loc[idx])
        out = out.loc[order]
        out.insert(0, "rank", range(1, len(out) + 1))
        return out


# -- preprocessing shared by the built-ins ------------------------------------------------------------
def signed_log(a):
    """``sign(a) * log1p(|a|)``: tames the heavy tails of counts and moments (NaN stays NaN)."""
    import numpy as np

    a = np.asarray(a, dtype=float)
    return np.sign(a) * np.log1p(np.abs(a))


class Standardizer:
    """Signed-log transform, then centre/scale with training mean and std; NaN -> 0 (the mean).

    With ``indicators=True`` a 0/1 column per feature that had missing values in training is appended.
    ``method="minmax"`` scales to [0, 1] instead (auto-sklearn's kNN) and fills NaN with the training
    median's scaled value.
    """

    def __init__(self, method: str = "standard", indicators: bool = False, log: bool = True):
        self.method = method
        self.indicators = indicators
        self.log = log

    def fit(self, X) -> "Standardizer":
        import numpy as np

        A = self._tf(X)
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns
            if self.method == "minmax":
                lo, hi = np.nanmin(A, axis=0), np.nanmax(A, axis=0)
                self.center_ = np.where(np.isfinite(lo), lo, 0.0)
                span = hi - lo
                self.scale_ = np.where(np.isfinite(span) & (span > 0), span, 1.0)
                med = np.nanmedian(A, axis=0)
                self.fill_ = np.where(np.isfinite(med), (med - self.center_) / self.scale_, 0.0)
            else:
                mu, sd = np.nanmean(A, axis=0), np.nanstd(A, axis=0)
                self.center_ = np.where(np.isfinite(mu), mu, 0.0)
                self.scale_ = np.where(np.isfinite(sd) & (sd > 1e-12), sd, 1.0)
                self.fill_ = np.zeros(A.shape[1])
        self.missing_ = np.isnan(A).any(axis=0) if self.indicators else np.zeros(A.shape[1], dtype=bool)
        return self

    def _tf(self, X):
        import numpy as np

        A = np.asarray(X, dtype=float)
        A = np.where(np.isinf(A), np.nan, A)
        return signed_log(A) if self.log else A

    def transform(self, X):
        import numpy as np

        A = self._tf(X)
        Z = (A - self.center_) / self.scale_
        nan = np.isnan(Z)
        Z = np.where(nan, self.fill_, Z)
        if self.method == "standard":
            Z = np.clip(Z, -6.0, 6.0)
        if self.missing_.any():
            Z = np.hstack([Z, nan[:, self.missing_].astype(float)])
        return Z

    def get_state(self) -> dict:
        return {
            "method": self.method,
            "indicators": self.indicators,
            "log": self.log,
            "center": self.center_.tolist(),
            "scale": self.scale_.tolist(),
            "fill": self.fill_.tolist(),
            "missing": self.missing_.astype(int).tolist(),
        }

    @classmethod
    def from_state(cls, state: dict) -> "Standardizer":
        import numpy as np

        self = cls(state["method"], state["indicators"], state.get("log", True))
        self.center_ = np.asarray(state["center"], dtype=float)
        self.scale_ = np.asarray(state["scale"], dtype=float)
        self.fill_ = np.asarray(state["fill"], dtype=float)
        self.missing_ = np.asarray(state["missing"], dtype=bool)
        return self


def size_columns(columns) -> dict[str, str | None]:
    """OpenML quality names of rows, features (after binarisation when known) and classes in ``columns``."""
    cols = set(columns)
    feats = next((c for c in ("NumberOfFeaturesAfterBinarization", "NumberOfFeatures") if c in cols), None)
    return {
        "rows": "NumberOfInstances" if "NumberOfInstances" in cols else None,
        "features": feats,
        "classes": "NumberOfClasses" if "NumberOfClasses" in cols else None,
    }


def fill_failed(Y, observed=None):
    """``Y`` with each dataset's missing scores set to that dataset's worst score (rows all NaN stay NaN).

    With ``observed`` (a boolean array shaped like ``Y``: was the learner run on the dataset at all), only
    missing scores of learners that ran are failures and get the worst score; a learner that was never
    run on a dataset stays NaN there (unknown, not failed).
    """
    import numpy as np

    A = np.asarray(Y, dtype=float)
    with np.errstate(all="ignore"):
        worst = np.nanmin(np.where(np.isnan(A), np.inf, A), axis=1)
    worst = np.where(np.isfinite(worst), worst, np.nan)
    failed = np.isnan(A) if observed is None else np.isnan(A) & np.asarray(observed, dtype=bool)
    return np.where(failed, worst[:, None], A)


class FitTimeModel:
    """Predicted fit seconds per learner: a ridge regression in log space, one per learner.

    Inputs are ``log10`` of training rows, features (after binarisation when known) and classes. It is
    fitted on the (dataset, learner) points where the learner reached that dataset's largest training
    size (a learner cut short by a time limit would bias it), and predicts for a training set of
    ``ratio x NumberOfInstances`` rows, ``ratio`` being the median share of a dataset's rows that the
    largest training size used (LCDB: 0.81). Linear in logs, it extrapolates to larger datasets.
    """

    def __init__(self, alpha: float = 1.0):
        self.alpha = alpha

    def _design(self, X, rows) -> Any:
        import numpy as np

        cols = self.columns_
        n = len(X)
        parts = [np.ones(n), np.log10(np.clip(np.asarray(rows, dtype=float), 1.0, None))]
        for key in ("features", "classes"):
            c = cols.get(key)
            if c is not None:
                v = np.asarray(X[c], dtype=float) if c in X.columns else np.full(n, np.nan)
                parts.append(np.log10(np.clip(v, 1.0, None)))
        D = np.column_stack(parts)
        return D

    def fit(self, X, fit_times, train_sizes=None) -> "FitTimeModel":
        import numpy as np

        self.columns_ = size_columns(X.columns)
        self.learners_ = list(fit_times.columns)
        T = fit_times.reindex(index=X.index).to_numpy(dtype=float)
        n_rows = (
            np.asarray(X[self.columns_["rows"]], dtype=float)
            if self.columns_["rows"]
            else np.full(len(X), np.nan)
        )
        if train_sizes is not None:
            TS = train_sizes.reindex(index=X.index, columns=fit_times.columns).to_numpy(dtype=float)
        else:
            TS = np.repeat(n_rows[:, None], T.shape[1], axis=1)
        with np.errstate(all="ignore"):
            full = TS >= 0.98 * np.nanmax(np.where(np.isnan(TS), -np.inf, TS), axis=1, keepdims=True)
            ratio = TS / n_rows[:, None]
        ok_ratio = ratio[full & np.isfinite(ratio) & (ratio > 0)]
        self.ratio_ = float(np.median(ok_ratio)) if ok_ratio.size else 1.0
        self.coef_: dict[str, list[float]] = {}
        self.sigma_: dict[str, float] = {}
        # a pooled fit is the fallback for learners with too few points
        Dall = []
        yall = []
        for j, learner in enumerate(self.learners_):
            ok = full[:, j] & np.isfinite(T[:, j]) & (T[:, j] > 0) & np.isfinite(TS[:, j])
            D = self._design(X, TS[:, j])
            ok &= np.isfinite(D).all(axis=1)
            Dall.append(D[ok])
            yall.append(np.log10(T[ok, j]))
        pooled = self._ridge(np.vstack(Dall), np.concatenate(yall)) if sum(len(y) for y in yall) else None
        for learner, D, y in zip(self.learners_, Dall, yall):
            if len(y) >= max(5, D.shape[1] + 2):
                coef = self._ridge(D, y)
            elif pooled is not None:
                coef = pooled
            else:
                coef = None
            if coef is not None:
                self.coef_[learner] = [float(c) for c in coef]
                res = y - D @ coef if len(y) else np.array([])
                self.sigma_[learner] = float(np.std(res)) if len(res) > 1 else float("nan")
        return self

    def _ridge(self, D, y):
        import numpy as np

        p = D.shape[1]
        reg = self.alpha * np.eye(p)
        reg[0, 0] = 0.0  # no penalty on the intercept
        return np.linalg.solve(D.T @ D + reg, D.T @ y)

    def predict(self, X, learners: list[str]):
        import numpy as np
        import pandas as pd

        out = np.full((len(X), len(learners)), np.nan)
        rows_col = self.columns_.get("rows")
        if rows_col is not None and rows_col in X.columns:
            rows = self.ratio_ * np.asarray(X[rows_col], dtype=float)
            D = self._design(X, rows)
            for j, learner in enumerate(learners):
                coef = self.coef_.get(learner)
                if coef is not None:
                    with np.errstate(all="ignore"):
                        out[:, j] = 10.0 ** np.clip(D @ np.asarray(coef), -6.0, 9.0)
        return pd.DataFrame(out, index=X.index, columns=learners)

    def get_state(self) -> dict:
        return {
            "alpha": self.alpha,
            "columns": self.columns_,
            "learners": self.learners_,
            "ratio": self.ratio_,
            "coef": self.coef_,
            "sigma": self.sigma_,
        }

    @classmethod
    def from_state(cls, state: dict) -> "FitTimeModel":
        self = cls(state.get("alpha", 1.0))
        self.columns_ = state["columns"]
        self.learners_ = state["learners"]
        self.ratio_ = state["ratio"]
        self.coef_ = state["coef"]
        self.sigma_ = state.get("sigma", {})
        return self


# -- conformal calibration ---------------------------------------------------------------------------------
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


# -- the base class --------------------------------------------------------------------------------------
class MetaModel:
    """Base class of meta-models (scikit-learn semantics; see the module docstring).

    Parameters common to the built-ins
    ----------------------------------
    interval : float
        Nominal coverage of the predicted ``[lower, upper]`` interval (default 0.8: 10% and 90% quantiles).
    calibrate : bool
        Conformalize the interval (see the module docstring): a cross-conformal margin, computed in
        ``fit`` from ``conformal_folds`` refits on folds of the training datasets, widens ``[lower, upper]``
        to ``interval`` coverage of new datasets' scores. Only models with this parameter calibrate.
    random_state : int
        Seed of everything random; two fits with the same seed give identical predictions.
    """

    #: registered name of the model family (set by subclasses)
    name: str = "metamodel"
    #: folds of datasets of the cross-conformal calibration (``calibrate``); each costs a refit
    conformal_folds: int = 5
    #: True when ``_fit`` computes ``interval_margin_`` itself (the base class then leaves it alone)
    _own_conformal: bool = False

    # -- parameters ----------------------------------------------------------------------------------
    @classmethod
    def _param_names(cls) -> list[str]:
        sig = inspect.signature(cls.__init__)
        return [
            p.name
            for p in sig.parameters.values()
            if p.name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
        ]

    def get_params(self, deep: bool = False) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self._param_names()}

    def set_params(self, **params) -> "MetaModel":
        valid = set(self._param_names())
        for k, v in params.items():
            if k not in valid:
                raise ValueError(f"{type(self).__name__} has no parameter {k!r}; valid: {sorted(valid)}")
            setattr(self, k, v)
        return self

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"

    # -- fitting -------------------------------------------------------------------------------------
    def fit(self, X, Y, fit_times=None, train_sizes=None, observed=None) -> "MetaModel":
        """Learn from meta-features ``X`` and scores ``Y`` (rows aligned by index).

        Parameters
        ----------
        X : pandas.DataFrame
            datasets x meta-features (floats, NaN allowed).
        Y : pandas.DataFrame
            datasets x learners, higher is better, NaN where the learner has no score.
        fit_times, train_sizes : pandas.DataFrame, optional
            Same shape as ``Y``: seconds per fit and training rows at the scored point; with them the
            model predicts fit times (else ``fit_time`` is NaN).
        observed : pandas.DataFrame of bool, optional
            Same shape as ``Y``: whether the learner was run on the dataset at all. A missing score where
            ``observed`` is True is a failure (it costs the dataset's worst score); where it is False the
            learner was never tried there and the model must not count it as a failure (a plugin learner
            run on a few of the KB's tasks). Default: every learner was run on every dataset.

        Returns
        -------
        self
        """
        import numpy as np
        import pandas as pd

        X, Y = _validate_xy(X, Y)
        if observed is None:
            obs = np.ones(Y.shape, dtype=bool)
        else:
            obs = (pd.DataFrame(observed).reindex(index=Y.index, columns=Y.columns).fillna(False)
                   .to_numpy(dtype=bool))
        obs = obs | Y.notna().to_numpy()
        # a learner run on none of these datasets (a held-out fold took them all): nothing to learn from,
        # so it counts as failed everywhere, as without `observed`
        obs[:, ~obs.any(axis=0)] = True
        self.feature_names_ = [str(c) for c in X.columns]
        self.learners_ = [str(c) for c in Y.columns]
        self.n_datasets_ = int(len(X))
        if fit_times is not None:
            ft = pd.DataFrame(fit_times).reindex(index=Y.index, columns=Y.columns)
            ts = None if train_sizes is None else pd.DataFrame(train_sizes).reindex(index=Y.index, columns=Y.columns)
            self.fit_time_model_ = FitTimeModel().fit(X, ft, ts)
        else:
            self.fit_time_model_ = None
        partial = not obs.all()
        if not self._own_conformal:
            self.interval_margin_ = 0.0
        if "observed" in inspect.signature(self._fit).parameters:
            self._fit(X, Y, observed=obs if partial else None)
        else:
            if partial:
                logger.warning(
                    "%s does not take `observed`: a learner's missing scores on datasets where it was never "
                    "run count as failures", type(self).__name__)
            self._fit(X, Y)
        if not self._own_conformal and getattr(self, "calibrate", False):
            self.interval_margin_ = self._cross_conformal_margin(X, Y, obs if partial else None)
        self.fitted_ = True
        return self

    def _cross_conformal_margin(self, X, Y, observed=None) -> float:
        """CQR margin, cross-conformal over ``conformal_folds`` folds of the (validated) training datasets.

        A clone (same parameters, ``calibrate=False``) fitted without a fold predicts that fold's
        intervals (the model's own ``lower`` / ``upper``, before the score is put inside them); the
        margin is :func:`conformal_quantile` of ``max(lower - y, y - upper)`` over the held-out scores.
        0 with fewer than two datasets per fold.
        """
        import numpy as np
        import pandas as pd

        folds = int(self.conformal_folds)
        n = len(X)
        if folds < 2 or n < 2 * folds:
            return 0.0
        fold_of = conformal_fold_ids(n, folds, getattr(self, "random_state", 0) or 0)
        obs = None if observed is None else pd.DataFrame(np.asarray(observed, dtype=bool), index=Y.index,
                                                         columns=Y.columns)
        params = {**self.get_params(), "calibrate": False}
        scores = []
        for f in range(folds):
            held = fold_of == f
            clone = type(self)(**params)
            clone.fit(X[~held], Y[~held], observed=None if obs is None else obs[~held])
            out = clone._predict(clone._validate_X(X[held]))
            score = np.asarray(out["score"], dtype=float)
            lo = np.asarray(out.get("lower", score), dtype=float)
            hi = np.asarray(out.get("upper", score), dtype=float)
            y = Y[held].to_numpy(dtype=float)
            ok = ~np.isnan(y) & ~np.isnan(lo) & ~np.isnan(hi)
            scores.append(np.maximum(lo - y, y - hi)[ok])
        return conformal_quantile(np.concatenate(scores), float(getattr(self, "interval", 0.8)))

    def _fit(self, X, Y, observed=None) -> None:  # pragma: no cover - abstract
        """Fit on validated frames; ``observed`` is None (all run) or a boolean array shaped like ``Y``."""
        raise NotImplementedError

    # -- prediction ----------------------------------------------------------------------------------
    def _check_fitted(self) -> None:
        if not getattr(self, "fitted_", False):
            raise NotFittedError(
                f"this {type(self).__name__} is not fitted yet; call fit(X, Y) or {type(self).__name__}.load(dir)"
            )

    def _validate_X(self, X):
        import numpy as np
        import pandas as pd

        if isinstance(X, pd.Series):
            X = X.to_frame().T
        if not isinstance(X, pd.DataFrame):
            raise TypeError(f"X must be a pandas DataFrame of meta-features, got {type(X).__name__}")
        X = X.copy()
        X.columns = [str(c) for c in X.columns]
        missing = [c for c in self.feature_names_ if c not in X.columns]
        if len(missing) == len(self.feature_names_) and self.feature_names_:
            raise MetarecError(
                f"none of the {len(self.feature_names_)} meta-features this model was fitted on are in X "
                f"(e.g. {self.feature_names_[0]!r}); compute them with metarec.extract_metafeatures"
            )
        if missing:
            logger.info("%d meta-feature(s) missing from X are treated as NaN, e.g. %s", len(missing), missing[0])
        X = X.reindex(columns=self.feature_names_)
        try:
            if not all(pd.api.types.is_numeric_dtype(t) for t in X.dtypes):  # numeric columns need no parsing
                X = X.apply(pd.to_numeric, errors="coerce")
            X = X.astype(float)
        except (TypeError, ValueError) as exc:  # pragma: no cover - defensive
            raise MetarecError(f"meta-features must be numeric: {exc}") from None
        return X.replace([np.inf, -np.inf], np.nan)

    def predict(self, X) -> MetaPrediction:
        """Predict every learner's score, interval and fit time for the datasets (rows) of ``X``."""
        import numpy as np
        import pandas as pd

        self._check_fitted()
        X = self._validate_X(X)
        out = self._predict(X)
        cols = self.learners_

        def frame(a):
            return pd.DataFrame(np.asarray(a, dtype=float), index=X.index, columns=cols)

        # the conformal margin (0 when not calibrated) widens the model's own interval, then the interval
        # is made to hold the score
        margin = float(getattr(self, "interval_margin_", 0.0) or 0.0)
        raw_lower = np.asarray(out.get("lower", out["score"]), dtype=float) - margin
        raw_upper = np.asarray(out.get("upper", out["score"]), dtype=float) + margin
        score = frame(out["score"])
        lower = frame(np.minimum(raw_lower, out["score"]))
        upper = frame(np.maximum(raw_upper, out["score"]))
        pref = out.get("preference")
        if self.fit_time_model_ is not None:
            fit_time = self.fit_time_model_.predict(X, cols)
        else:
            fit_time = frame(np.full((len(X), len(cols)), np.nan))
        return MetaPrediction(
            score=score,
            lower=lower,
            upper=upper,
            fit_time=fit_time,
            preference=None if pref is None else frame(pref),
            interval=float(getattr(self, "interval", 0.8)),
        )

    def _predict(self, X) -> dict:  # pragma: no cover - abstract
        raise NotImplementedError

    def rank(self, X) -> Any:
        """Learner names per dataset (rows of ``X``), most preferred first."""
        return self.predict(X).ranking()

    def explain(self, x_row, learner: str) -> Any:
        """Per-meta-feature contributions to ``learner``'s predicted score for one dataset.

        The base implementation returns an empty Series (the model cannot attribute its prediction).
        """
        import pandas as pd

        self._check_fitted()
        if learner not in self.learners_:
            raise MetarecError(f"unknown learner {learner!r}; this model knows {', '.join(self.learners_)}")
        return pd.Series(dtype=float, name=learner)

    # -- persistence ---------------------------------------------------------------------------------
    def _get_state(self, directory: Path) -> dict:  # pragma: no cover - abstract
        """JSON-able fitted state; may write extra (non-pickle) files into ``directory``."""
        raise NotImplementedError

    def _set_state(self, state: dict, directory: Path) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def save(self, directory: str | os.PathLike) -> Path:
        """Write the fitted model to ``directory`` (created): ``metamodel.json`` plus model files."""
        from ..kb.format import atomic_write_bytes

        self._check_fitted()
        root = Path(directory)
        root.mkdir(parents=True, exist_ok=True)
        from .. import __version__

        state = self._get_state(root)
        doc = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "created_by": f"metarec {__version__}",
            "class": f"{type(self).__module__}:{type(self).__qualname__}",
            "name": self.name,
            "params": _jsonable(self.get_params()),
            "learners": self.learners_,
            "feature_names": self.feature_names_,
            "n_datasets": self.n_datasets_,
            "fit_time_model": None if self.fit_time_model_ is None else self.fit_time_model_.get_state(),
            "interval_margin": float(getattr(self, "interval_margin_", 0.0) or 0.0),
            "state": state,
        }
        text = json.dumps(doc, indent=1, allow_nan=True)
        atomic_write_bytes(root / META_FILE, text.encode())
        return root

    @classmethod
    def load(cls, directory: str | os.PathLike) -> "MetaModel":
        """Read a model written by :meth:`save` (any built-in class when called on :class:`MetaModel`)."""
        root = Path(directory)
        path = root / META_FILE
        if not path.exists():
            raise MetarecError(f"{path}: no saved meta-model here")
        try:
            doc = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise MetarecError(f"{path}: unreadable meta-model file ({exc})") from None
        if not isinstance(doc, dict) or doc.get("format") != FORMAT:
            raise MetarecError(f"{path}: not a metarec meta-model file")
        if int(doc.get("format_version", 0)) > FORMAT_VERSION:
            raise MetarecError(f"{path}: written by a newer metarec; upgrade metarec (pip install -U metarec)")
        klass = _resolve_class(str(doc.get("class", "")), path)
        if not issubclass(klass, cls):
            raise MetarecError(f"{path}: holds a {klass.__name__}, not a {cls.__name__}")
        params = doc.get("params") or {}
        valid = set(klass._param_names())
        self = klass(**{k: v for k, v in params.items() if k in valid})
        self.learners_ = list(doc["learners"])
        self.feature_names_ = list(doc["feature_names"])
        self.n_datasets_ = int(doc.get("n_datasets", 0))
        ftm = doc.get("fit_time_model")
        self.fit_time_model_ = FitTimeModel.from_state(ftm) if ftm else None
        # the conformal margin; models saved before it existed have none (_set_state may set its own)
        try:
            margin = float(doc.get("interval_margin") or 0.0)
        except (TypeError, ValueError):
            raise MetarecError(f"{path}: interval_margin must be a number") from None
        self.interval_margin_ = margin if math.isfinite(margin) else 0.0
        try:
            # parsing saved boosters starts an OpenMP team per model: on a busy machine one thread is
            # several times faster than spinning threads that wait for a core
            import importlib

            from threadpoolctl import threadpool_limits

            for module in getattr(klass, "_openmp_modules", ()):
                importlib.import_module(module)  # load its OpenMP runtime first, or the limit misses it
            with threadpool_limits(1, user_api="openmp"):
                self._set_state(doc.get("state") or {}, root)
        except MetarecError:
            raise
        except Exception as exc:
            raise MetarecError(f"{root}: corrupt meta-model files ({type(exc).__name__}: {exc})") from None
        self.fitted_ = True
        return self


def load_metamodel(directory: str | os.PathLike) -> MetaModel:
    """Load any saved meta-model (the class is read from its ``metamodel.json``)."""
    return MetaModel.load(directory)


def _resolve_class(spec: str, path: Path) -> type:
    import sys

    module, _, qualname = spec.partition(":")
    if not module or not qualname:
        raise MetarecError(f"{path}: no meta-model class recorded")
    top = module.split(".")[0]
    if top != "metarec" and module not in sys.modules:
        # a saved model may come from others: import only metarec's and installed plugins' modules
        from ..plugins import get_plugin_host

        known = {str(i.module).split(".")[0].split(":")[0] for i in get_plugin_host().infos.values()}
        if top not in known:
            raise MetarecError(f"{path}: meta-model class {spec} is not from metarec or an installed plugin")
    try:
        obj: Any = importlib.import_module(module)
        for part in qualname.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError) as exc:
        raise MetarecError(f"{path}: meta-model class {spec} is not available ({exc}); is its plugin installed?") from None
    if not (isinstance(obj, type) and issubclass(obj, MetaModel)):
        raise MetarecError(f"{path}: {spec} is not a metarec meta-model class")
    return obj


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, float) and (math.isnan(obj) or math.isinf(obj)):
        return None
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if hasattr(obj, "item") and callable(obj.item):
        return obj.item()
    return obj


def _validate_xy(X, Y):
    import numpy as np
    import pandas as pd

    if not isinstance(X, pd.DataFrame):
        raise TypeError(f"X must be a pandas DataFrame of meta-features, got {type(X).__name__}")
    if not isinstance(Y, pd.DataFrame):
        raise TypeError(f"Y must be a pandas DataFrame of scores (datasets x learners), got {type(Y).__name__}")
    if len(X) != len(Y):
        raise MetarecError(f"X has {len(X)} rows but Y has {len(Y)}; they must describe the same datasets")
    if not X.index.equals(Y.index):
        if set(X.index) == set(Y.index) and not X.index.has_duplicates:
            Y = Y.loc[X.index]
        else:
            Y = Y.set_axis(X.index, axis=0)
    X = X.copy()
    X.columns = [str(c) for c in X.columns]
    Y = Y.copy()
    Y.columns = [str(c) for c in Y.columns]
    X = X.apply(pd.to_numeric, errors="coerce").astype(float).replace([np.inf, -np.inf], np.nan)
    Y = Y.apply(pd.to_numeric, errors="coerce").astype(float).replace([np.inf, -np.inf], np.nan)
    keep = Y.notna().any(axis=1).to_numpy()
    if not keep.all():
        logger.info("dropping %d dataset(s) without any score", int((~keep).sum()))
        X, Y = X[keep], Y[keep]
    if len(Y) < 2:
        raise MetarecError(f"a meta-model needs scores on at least 2 datasets, got {len(Y)}")
    if Y.shape[1] < 1:
        raise MetarecError("Y has no learner columns")
    if X.shape[1] < 1:
        raise MetarecError("X has no meta-feature columns")
    return X, Y
