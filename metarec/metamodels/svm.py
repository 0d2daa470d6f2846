"""Support-vector regression meta-model: one RBF-kernel SVR per learner.

Meta-features are signed-log transformed and standardised on the training datasets; a missing value
becomes the mean plus a 0/1 "was missing" column. Each learner's SVR predicts its relative score
(score minus the dataset's best; a failed run counts as the dataset's worst score) and one more SVR the
dataset's best score; the predicted ``score`` is their sum. ``[lower, upper]`` add the central quantiles
of each learner's out-of-fold residuals (5-fold cross-validation inside ``fit``, a split-conformal
interval per learner), then a cross-conformal margin over all learners (``calibrate``, see
:mod:`metarec.metamodels.base`): the interval was close to nominal already (81% coverage of the nominal 80%
in 10-fold evaluation over LCDB's datasets), the margin is small, and it costs the 5 refits (each with
its own inner cross-validation) of the calibration.

Predictions are computed from the support vectors with NumPy, so a saved model (JSON) predicts exactly
what the fitted one did.
"""

from __future__ import annotations

import warnings

from pathlib import Path

from .base import MetaModel
from .preprocessing import Standardizer, fill_failed


class SVMMetaModel(MetaModel):
    """Per-learner RBF support-vector regression of relative scores.

    Parameters
    ----------
    C : float
        Regularisation of every SVR (small: strong shrinkage towards each learner's mean relative score,
        which is what works with ~200 training datasets).
    epsilon : float
        Width of the insensitive tube, in score units.
    gamma : float or "scale"
        RBF kernel width; ``"scale"`` is ``1 / (n_features * var(X))`` on the standardised features.
    cv : int
        Folds for the out-of-fold residuals behind ``[lower, upper]`` (0 disables: the interval is the
        in-sample residual quantiles).
    interval : float
    calibrate : bool
        Conformalize the interval: cross-conformal margin over 5 folds of the training datasets.
    random_state : int
        Seed of the cross-validation split and of the calibration's folds.
    """

    name = "svm"
    ranked_by = "predicted score"

    def __init__(
        self,
        C: float = 0.03,
        epsilon: float = 0.005,
        gamma: float | str = "scale",
        cv: int = 5,
        interval: float = 0.8,
        calibrate: bool = True,
        random_state: int = 0,
    ):
        self.C = C
        self.epsilon = epsilon
        self.gamma = gamma
        self.cv = cv
        self.interval = interval
        self.calibrate = calibrate
        self.random_state = random_state

    def _fit_svrs(self, Z, T):
        """Fit one SVR per column of ``T``; returns a list of (support vectors, dual coefs, intercept)."""
        import numpy as np
        from sklearn.svm import SVR

        out = []
        for j in range(T.shape[1]):
            y = T[:, j]
            ok = ~np.isnan(y)
            if ok.sum() < 2 or np.ptp(y[ok]) == 0:
                const = float(np.nanmean(y)) if ok.any() else 0.0
                out.append((np.zeros((0, Z.shape[1])), np.zeros(0), const))
                continue
            m = SVR(kernel="rbf", C=float(self.C), epsilon=float(self.epsilon), gamma=self.gamma_)
            m.fit(Z[ok], y[ok])
            out.append((np.asarray(m.support_vectors_, dtype=float), np.asarray(m.dual_coef_[0], dtype=float),
                        float(m.intercept_[0])))
        return out

    def _eval(self, models, Z):
        import numpy as np

        cols = []
        for sv, coef, b in models:
            if len(coef) == 0:
                cols.append(np.full(len(Z), b))
                continue
            d2 = (Z * Z).sum(1)[:, None] + (sv * sv).sum(1)[None, :] - 2.0 * Z @ sv.T
            cols.append(np.exp(-self.gamma_ * np.maximum(d2, 0.0)) @ coef + b)
        return np.column_stack(cols)

    def _fit(self, X, Y, observed=None) -> None:
        import numpy as np

        A = X.to_numpy(dtype=float)
        S = Y.to_numpy(dtype=float)
        F = fill_failed(S, observed)
        best = np.nanmax(F, axis=1)
        R = F - best[:, None]
        self.scaler_ = Standardizer(indicators=True).fit(A)
        Z = self.scaler_.transform(A)
        if self.gamma == "scale":
            var = float(Z.var())
            self.gamma_ = 1.0 / (Z.shape[1] * var) if var > 0 else 1.0
        else:
            self.gamma_ = float(self.gamma)
        T = np.column_stack([R, best])
        self.models_ = self._fit_svrs(Z, T)
        # residuals of the absolute score where the learner ran, out of fold
        n = len(Z)
        k = int(self.cv) if self.cv else 0
        pred = np.full_like(T, np.nan)
        if k >= 2 and n >= 2 * k:
            rng = np.random.default_rng(int(self.random_state))
            folds = rng.permutation(n) % k
            for f in range(k):
                te = folds == f
                pred[te] = self._eval(self._fit_svrs(Z[~te], T[~te]), Z[te])
        else:
            pred = self._eval(self.models_, Z)
        resid = S - (pred[:, :-1] + pred[:, -1:])
        alpha = (1.0 - float(self.interval)) / 2.0
        with np.errstate(all="ignore"), warnings.catch_warnings():  # a learner with no score anywhere: NaN
            warnings.simplefilter("ignore", RuntimeWarning)
            lo = np.nanquantile(resid, alpha, axis=0)
            hi = np.nanquantile(resid, 1.0 - alpha, axis=0)
        self.resid_lower_ = np.where(np.isfinite(lo), np.minimum(lo, 0.0), 0.0)
        self.resid_upper_ = np.where(np.isfinite(hi), np.maximum(hi, 0.0), 0.0)

    def _predict(self, X) -> dict:
        Z = self.scaler_.transform(X.to_numpy(dtype=float))
        P = self._eval(self.models_, Z)
        rel, best = P[:, :-1], P[:, -1:]
        score = best + rel
        return {
            "score": score,
            "lower": score + self.resid_lower_,
            "upper": score + self.resid_upper_,
            "preference": rel,
        }

    def _get_state(self, directory: Path) -> dict:
        return {
            "scaler": self.scaler_.get_state(),
            "gamma": self.gamma_,
            "models": [{"sv": sv.tolist(), "coef": c.tolist(), "intercept": b} for sv, c, b in self.models_],
            "resid_lower": self.resid_lower_.tolist(),
            "resid_upper": self.resid_upper_.tolist(),
        }

    def _set_state(self, state: dict, directory: Path) -> None:
        import numpy as np

        self.scaler_ = Standardizer.from_state(state["scaler"])
        self.gamma_ = float(state["gamma"])
        width = len(self.scaler_.center_) + int(self.scaler_.missing_.sum())
        self.models_ = [
            (np.asarray(m["sv"], dtype=float).reshape(-1, width), np.asarray(m["coef"], dtype=float),
             float(m["intercept"]))
            for m in state["models"]
        ]
        self.resid_lower_ = np.asarray(state["resid_lower"], dtype=float)
        self.resid_upper_ = np.asarray(state["resid_upper"], dtype=float)
