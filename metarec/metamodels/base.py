"""The meta-model contract: :class:`MetaModel` and :class:`MetaPrediction`.

A meta-model predicts, from a dataset's meta-features, how well each learner will do on it. Plugins
register one with ``register(name, factory, description="")`` in the ``register_metamodels`` hook (the
host records a :class:`metarec.records.MetaModelSpec`); ``factory()`` returns an unfitted :class:`MetaModel` with scikit-learn semantics:

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
times (:class:`~metarec.metamodels.fit_time.FitTimeModel`), ordering of the interval, ranking and the JSON envelope
(:mod:`metarec.metamodels.persistence`).

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

import inspect
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..exceptions import MetarecError
from ..records import MetaModelBase
from .conformal import conformal_fold_ids, conformal_quantile
from .fit_time import FitTimeModel
from .persistence import read_metamodel, write_metamodel

logger = logging.getLogger(__name__)

__all__ = [
    "MetaModel",
    "MetaPrediction",
    "NotFittedError",
    "load_metamodel",
]


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


# -- the base class --------------------------------------------------------------------------------------
class MetaModel(MetaModelBase):
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
    #: what learners are ranked by (``MetaPrediction.preference``), as ``recommend`` shows it
    ranked_by: str = "meta-model's own ranking"
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
        self._check_fitted()
        return write_metamodel(self, directory)

    @classmethod
    def load(cls, directory: str | os.PathLike) -> "MetaModel":
        """Read a model written by :meth:`save` (any built-in class when called on :class:`MetaModel`)."""
        return read_metamodel(cls, directory)



def load_metamodel(directory: str | os.PathLike) -> MetaModel:
    """Load any saved meta-model (the class is read from its ``metamodel.json``)."""
    return MetaModel.load(directory)


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
