"""Preprocessing of meta-features and scores shared by the built-in meta-models (and open to plugins):
the signed-log :class:`Standardizer`, the OpenML size columns, and :func:`fill_failed`."""

from __future__ import annotations

import warnings

__all__ = ["signed_log", "Standardizer", "size_columns", "fill_failed"]


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
