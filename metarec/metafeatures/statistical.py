"""The ``statistical`` meta-feature group: descriptive statistics beyond OpenML's qualities.

Shape and type summaries, sparsity, correlation between numeric features, PCA spectrum, the first
canonical correlation between the numeric features and the target, feature-target association, class
imbalance and the shape of a regression target. All names start with ``stat_``.

Cheap O(n p) parts (shape, levels, sparsity, target distribution) use every row. The O(n p^2) parts use
at most ``max_rows`` rows (a fixed-seed sample, stratified by class for classification) and at most
``max_columns`` numeric columns (a fixed-seed sample of them); there the numeric columns are
median-imputed, standardised, and constant ones dropped. Undefined values (no numeric columns, one row,
a constant target...) are NaN, never exceptions.

This module also holds small helpers shared with :mod:`metarec.metafeatures.landmarkers`
(:func:`subsample_rows`, :func:`is_numeric_column`, :func:`run_steps`).
"""

from __future__ import annotations

import math
from typing import Any, Callable, Iterable, Mapping, Sequence

from .base import Budget, BudgetExceeded, MetaFeatureGroup

NAN = float("nan")


# -- shared helpers ------------------------------------------------------------------------------------


def is_numeric_column(series: Any) -> bool:
    """True for number columns (bool excluded: metarec treats bool as nominal)."""
    import pandas as pd

    dtype = series.dtype
    return bool(pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype))


def numeric_values(series: Any):
    """A float64 numpy array of ``series`` with missing values and +-inf as NaN."""
    import numpy as np

    values = series.to_numpy(dtype=np.float64, na_value=np.nan)
    values = np.array(values, dtype=np.float64, copy=True)
    values[~np.isfinite(values)] = np.nan
    return values


def subsample_rows(n: int, max_rows: int, seed: int, strata: Any = None):
    """Sorted row positions of a fixed-seed sample of at most about ``max_rows`` of ``n`` rows.

    With ``strata`` (non-negative integer codes, one per row) the sample is stratified: each stratum keeps
    its share of rows (rounded, at least one row). Returns all rows when ``n <= max_rows``.
    """
    import numpy as np

    if n <= max_rows:
        return np.arange(n)
    rng = np.random.default_rng(seed)
    perm = rng.permutation(n)
    if strata is None:
        return np.sort(perm[:max_rows])
    codes = np.asarray(strata, dtype=np.int64)[perm]
    counts = np.bincount(codes)
    quota = np.minimum(counts, np.maximum(np.rint(counts * (max_rows / n)), counts > 0)).astype(np.int64)
    order = np.argsort(codes, kind="stable")  # within a stratum, rows keep their random order
    sorted_codes = codes[order]
    rank = np.arange(n) - np.searchsorted(sorted_codes, sorted_codes, side="left")
    return np.sort(perm[order[rank < quota[sorted_codes]]])


Step = tuple[Sequence[str], Callable[[], Mapping[str, float]]]


def run_steps(steps: Iterable[Step], out: dict[str, float], budget: Budget, skipped: dict[str, str], what: str) -> None:
    """Run ``(feature names, function)`` steps in order, checking the budget before each.

    A step's results update ``out``. A step that raises leaves its features NaN and records the error in
    ``skipped``; once the budget is spent, the step and all later ones are recorded as skipped.
    """
    steps = list(steps)
    for i, (names, fn) in enumerate(steps):
        try:
            budget.check(f"{what} {names[0] if names else ''}".strip())
            out.update(fn())
        except BudgetExceeded as exc:
            for later_names, _ in steps[i:]:
                for name in later_names:
                    skipped[name] = str(exc)
            return
        except Exception as exc:  # a failing step costs its own features only
            for name in names:
                skipped[name] = f"{type(exc).__name__}: {exc}"


def _skewness(x) -> float:
    """Bias-corrected sample skewness (G1); NaN for n < 3 or (numerically) constant data."""
    import numpy as np

    n = x.size
    if n < 3:
        return NAN
    mean = x.mean()
    sd = x.std(ddof=1)
    if not sd > 1e-12 * max(1.0, abs(mean)):
        return NAN
    return float(n / ((n - 1) * (n - 2)) * np.sum(((x - mean) / sd) ** 3))


def _kurtosis(x) -> float:
    """Bias-corrected excess kurtosis (G2); NaN for n < 4 or (numerically) constant data."""
    import numpy as np

    n = x.size
    if n < 4:
        return NAN
    mean = x.mean()
    sd = x.std(ddof=1)
    if not sd > 1e-12 * max(1.0, abs(mean)):
        return NAN
    m4 = np.sum(((x - mean) / sd) ** 4)
    return float(n * (n + 1) / ((n - 1) * (n - 2) * (n - 3)) * m4 - 3 * (n - 1) ** 2 / ((n - 2) * (n - 3)))


def _whitener(S):
    """``W`` with ``W.T @ S @ W = I`` on the numerical range of the PSD matrix ``S`` (rank by tolerance)."""
    import numpy as np

    if S.size == 0:
        return np.zeros((S.shape[0], 0))
    lam, V = np.linalg.eigh(S)
    keep = lam > 1e-10 * max(float(lam[-1]), 0.0) if lam[-1] > 0 else np.zeros(lam.size, dtype=bool)
    return V[:, keep] / np.sqrt(lam[keep])


# -- the group -----------------------------------------------------------------------------------------

_SHAPE = (
    "stat_log_n_rows",
    "stat_log_n_features",
    "stat_log_rows_per_feature",
    "stat_fraction_categorical",
    "stat_log_total_levels",
    "stat_levels_per_row",
    "stat_sparsity",
)
_CORRELATION = ("stat_mean_abs_correlation", "stat_max_abs_correlation")
_PCA = ("stat_pca_fraction_95", "stat_pca_first_ratio", "stat_pca_eigen_skewness")
_TARGET_LINK = ("stat_canonical_correlation", "stat_mean_target_association", "stat_max_target_association")
_CLASS_TARGET = ("stat_class_imbalance_ratio", "stat_minority_class_fraction")
_REGRESSION_TARGET = ("stat_target_skewness", "stat_target_kurtosis")
_TARGET = _CLASS_TARGET + _REGRESSION_TARGET


class StatisticalGroup(MetaFeatureGroup):
    """Descriptive statistics beyond OpenML's qualities (names start with ``stat_``).

    ==================================  ===================================================================
    ``stat_log_n_rows``                 log(number of rows)
    ``stat_log_n_features``             log(number of feature columns), target excluded
    ``stat_log_rows_per_feature``       log(rows / feature columns)
    ``stat_fraction_categorical``       nominal columns (category, bool, object) / feature columns
    ``stat_log_total_levels``           log(1 + levels summed over nominal columns); declared levels for
                                        ``category``, 2 for bool, observed distinct values otherwise
    ``stat_levels_per_row``             those summed levels / rows (high-cardinality indicator)
    ``stat_sparsity``                   fraction of zeros among non-missing numeric cells
    ``stat_mean_abs_correlation``       mean |Pearson r| over pairs of numeric columns
    ``stat_max_abs_correlation``        max |Pearson r| over pairs of numeric columns
    ``stat_pca_fraction_95``            principal components for 95 % of the variance / numeric columns
    ``stat_pca_first_ratio``            explained variance ratio of the first principal component
    ``stat_pca_eigen_skewness``         skewness of the PCA eigenvalues (at least 3 needed)
    ``stat_canonical_correlation``      first canonical correlation, numeric columns vs target (one-hot
                                        classes, or the regression target)
    ``stat_mean_target_association``    mean over numeric columns of |r| with a regression target, or of
                                        the correlation ratio eta with the classes
    ``stat_max_target_association``     max of the same
    ``stat_class_imbalance_ratio``      largest / smallest observed class count (classification)
    ``stat_minority_class_fraction``    smallest observed class count / labelled rows (classification)
    ``stat_target_skewness``            bias-corrected skewness of a regression target
    ``stat_target_kurtosis``            bias-corrected excess kurtosis of a regression target
    ==================================  ===================================================================

    Correlation, PCA and target links use the median-imputed, standardised numeric columns of a sample of
    at most ``max_rows`` rows and ``max_columns`` columns (fixed ``random_state``).
    """

    name = "statistical"
    feature_names = _SHAPE + _CORRELATION + _PCA + _TARGET_LINK + _TARGET
    description = (
        "Shape, sparsity, numeric correlation, PCA spectrum, canonical and feature-target correlation, "
        "class imbalance and regression-target shape"
    )
    supports_regression = True

    def applicable_features(self, task_type: str) -> tuple[str, ...]:
        other = _REGRESSION_TARGET if task_type == "classification" else _CLASS_TARGET
        return tuple(n for n in self.feature_names if n not in other)

    def __init__(self, max_rows: int = 10_000, max_columns: int = 300, random_state: int = 0):
        self.max_rows = int(max_rows)
        self.max_columns = int(max_columns)
        self.random_state = int(random_state)

    def compute(self, dataset: Any, budget: Budget, skipped: dict[str, str]) -> Mapping[str, float]:
        import warnings

        from threadpoolctl import threadpool_limits

        out: dict[str, float] = dict.fromkeys(self.feature_names, NAN)
        state: dict[str, Any] = {}
        steps: list[Step] = [
            (_SHAPE, lambda: self._shape(dataset)),
            (_TARGET, lambda: self._target(dataset)),
            (_CORRELATION, lambda: self._correlation(self._matrix(dataset, state))),
            (_PCA, lambda: self._pca(self._matrix(dataset, state))),
            (_TARGET_LINK, lambda: self._target_link(self._matrix(dataset, state))),
        ]
        # single-threaded: on these small matrices threads cost more than they save (and oversubscribe
        # the CPUs when several extractions run in parallel)
        with warnings.catch_warnings(), threadpool_limits(limits=1):
            warnings.simplefilter("ignore")
            run_steps(steps, out, budget, skipped, "statistical")
        return out

    # -- O(n p) parts on all rows ------------------------------------------------------------------------
    def _shape(self, dataset: Any) -> dict[str, float]:
        import numpy as np
        import pandas as pd

        X = dataset.X
        n, p = X.shape
        n_cat = 0
        levels = 0
        zeros = 0
        cells = 0
        for j in range(p):
            col = X.iloc[:, j]
            if is_numeric_column(col):
                v = numeric_values(col)
                finite = v[~np.isnan(v)]
                zeros += int(np.count_nonzero(finite == 0))
                cells += int(finite.size)
            else:
                n_cat += 1
                if isinstance(col.dtype, pd.CategoricalDtype):
                    levels += len(col.cat.categories)
                elif pd.api.types.is_bool_dtype(col.dtype):
                    levels += 2
                else:
                    levels += int(col.nunique(dropna=True))
        return {
            "stat_log_n_rows": math.log(n) if n > 0 else NAN,
            "stat_log_n_features": math.log(p) if p > 0 else NAN,
            "stat_log_rows_per_feature": math.log(n / p) if n > 0 and p > 0 else NAN,
            "stat_fraction_categorical": n_cat / p if p > 0 else NAN,
            "stat_log_total_levels": math.log1p(levels),
            "stat_levels_per_row": levels / n if n > 0 else NAN,
            "stat_sparsity": zeros / cells if cells > 0 else NAN,
        }

    def _target(self, dataset: Any) -> dict[str, float]:
        import numpy as np
        import pandas as pd

        out: dict[str, float] = {}
        if dataset.task_type == "classification":
            codes, _ = pd.factorize(dataset.y, sort=True)
            counts = np.bincount(codes[codes >= 0]) if codes.size else np.zeros(0, dtype=np.int64)
            counts = counts[counts > 0]
            if counts.size:
                out["stat_class_imbalance_ratio"] = float(counts.max() / counts.min())
                out["stat_minority_class_fraction"] = float(counts.min() / counts.sum())
        else:
            y = numeric_values(pd.Series(dataset.y))
            y = y[~np.isnan(y)]
            out["stat_target_skewness"] = _skewness(y)
            out["stat_target_kurtosis"] = _kurtosis(y)
        return out

    # -- O(n p^2) parts on a sample ------------------------------------------------------------------------
    def _matrix(self, dataset: Any, state: dict[str, Any]) -> dict[str, Any]:
        """The sampled, imputed, standardised numeric matrix ``Z``, its correlation matrix ``C`` and the sampled
        target (built once)."""
        if "Z" in state:
            return state
        import numpy as np
        import pandas as pd

        X = dataset.X
        classification = dataset.task_type == "classification"
        if classification:
            codes, _ = pd.factorize(dataset.y, sort=True)
            codes = np.asarray(codes, dtype=np.int64)
            rows = subsample_rows(len(codes), self.max_rows, self.random_state, strata=codes + 1)
            target = codes[rows]
        else:
            y = numeric_values(pd.Series(dataset.y))
            rows = subsample_rows(len(y), self.max_rows, self.random_state)
            target = y[rows]
        numeric = [j for j in range(X.shape[1]) if is_numeric_column(X.iloc[:, j])]
        if len(numeric) > self.max_columns:
            rng = np.random.default_rng(self.random_state)
            numeric = sorted(rng.choice(numeric, self.max_columns, replace=False).tolist())
        sub = X.iloc[rows, numeric] if numeric else None
        cols = [numeric_values(sub.iloc[:, k]) for k in range(len(numeric))]
        n = len(rows)
        M = np.column_stack(cols) if cols else np.zeros((n, 0))
        if M.shape[1]:
            med = np.nanmedian(np.where(np.isnan(M).all(axis=0), 0.0, M), axis=0) if n else np.zeros(M.shape[1])
            M = np.where(np.isnan(M), med, M)
        if n >= 2 and M.shape[1]:
            mean = M.mean(axis=0)
            sd = M.std(axis=0, ddof=1)
            keep = sd > 1e-12 * np.maximum(1.0, np.abs(mean))
            Z = (M[:, keep] - mean[keep]) / sd[keep]
        else:
            Z = np.zeros((n, 0))
        C = Z.T @ Z / (n - 1) if Z.shape[1] else np.zeros((0, 0))
        state.update(Z=Z, C=C, target=target, classification=classification)
        return state

    @staticmethod
    def _correlation(state: dict[str, Any]) -> dict[str, float]:
        import numpy as np

        n, q = state["Z"].shape
        if n < 3 or q < 2:
            return {}
        upper = np.clip(np.abs(state["C"][np.triu_indices(q, k=1)]), 0.0, 1.0)
        return {"stat_mean_abs_correlation": float(upper.mean()), "stat_max_abs_correlation": float(upper.max())}

    @staticmethod
    def _pca(state: dict[str, Any]) -> dict[str, float]:
        import numpy as np

        n, q = state["Z"].shape
        if n < 2 or q < 1:
            return {}
        # eigenvalues of the correlation matrix, largest first (as many as the SVD of Z would give)
        eig = np.clip(np.linalg.eigvalsh(state["C"])[::-1][: min(n, q)], 0.0, None)
        total = eig.sum()
        if not total > 0:
            return {}
        ratio = eig / total
        k = int(np.searchsorted(np.cumsum(ratio), 0.95 - 1e-12) + 1)
        out = {"stat_pca_fraction_95": min(k, q) / q, "stat_pca_first_ratio": float(ratio[0])}
        out["stat_pca_eigen_skewness"] = _skewness(eig)
        return out

    @staticmethod
    def _target_link(state: dict[str, Any]) -> dict[str, float]:
        import numpy as np

        Z, target = state["Z"], state["target"]
        if state["classification"]:
            labelled = target >= 0
            Z, codes = Z[labelled], target[labelled]
            _, codes = np.unique(codes, return_inverse=True)
            if codes.size == 0 or codes.max() < 1:  # fewer than 2 classes
                return {}
            Y = np.zeros((codes.size, codes.max() + 1))
            Y[np.arange(codes.size), codes] = 1.0
        else:
            labelled = ~np.isnan(target)
            Z, Y = Z[labelled], target[labelled][:, None]
        n, q = Z.shape
        if n < 3 or q < 1:
            return {}
        Zc = Z - Z.mean(axis=0)
        Yc = Y - Y.mean(axis=0)
        out: dict[str, float] = {}
        # canonical correlations: singular values of the cross-covariance between whitened blocks
        Wx, Wy = _whitener(Zc.T @ Zc), _whitener(Yc.T @ Yc)
        if Wx.shape[1] and Wy.shape[1]:
            cross = Wx.T @ (Zc.T @ Yc) @ Wy
            out["stat_canonical_correlation"] = float(np.clip(np.linalg.norm(cross, ord=2), 0.0, 1.0))
        ss_total = np.sum(Zc**2, axis=0)
        valid = ss_total > 0
        if not valid.any() or not np.any(np.sum(Yc**2, axis=0) > 0):
            return out
        if state["classification"]:
            # correlation ratio eta: between-class sum of squares / total sum of squares
            n_c = Y.sum(axis=0)
            means = (Y.T @ Zc) / n_c[:, None]
            assoc = np.sqrt(np.clip((n_c[:, None] * means**2).sum(axis=0)[valid] / ss_total[valid], 0.0, 1.0))
        else:
            y = Yc[:, 0]
            r = (Zc[:, valid].T @ y) / np.sqrt(ss_total[valid] * np.sum(y**2))
            assoc = np.clip(np.abs(r), 0.0, 1.0)
        out["stat_mean_target_association"] = float(assoc.mean())
        out["stat_max_target_association"] = float(assoc.max())
        return out
