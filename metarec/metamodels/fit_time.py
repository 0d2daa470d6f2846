"""The fit-time model every meta-model carries: predicted seconds to fit each learner on a dataset."""

from __future__ import annotations

from typing import Any

from .preprocessing import size_columns

__all__ = ["FitTimeModel"]


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
