"""The ``landmarkers`` meta-feature group: cross-validated scores of fast learners.

A landmarker is the performance of a cheap learner on the dataset; how the cheap learners fare relative to
each other hints at which expensive learner will do well. Classification: 1-nearest neighbour, decision
stump (depth-1 tree), random node (depth-1 tree on one randomly drawn feature), linear discriminant
analysis, Gaussian naive Bayes, each scored by accuracy and Cohen's kappa of its pooled out-of-fold
predictions. Regression: 1-nearest neighbour, stump, random node and least-squares linear regression,
scored by out-of-fold R^2. The other task type's features are NaN. All names start with ``lm_``.

Procedure (fixed ``random_state`` throughout, so repeated runs give identical values):

1. rows with a missing target are dropped; above ``max_rows`` rows a sample is drawn (stratified by class
   for classification);
2. nominal columns keep their ``max_levels`` most frequent levels (the rest are pooled; entirely missing
   ones are dropped), then
   :func:`metarec.learners.base.make_preprocessor` (``scale=True, dense=True``) imputes, one-hot encodes
   and standardises, once for the whole sample (a small leak that does not matter for meta-features);
3. k-fold cross-validation with ``n_folds`` folds (stratified for classification, fewer folds on tiny
   data), the same folds for every learner. 1-NN, LDA and linear regression see at most ``max_columns``
   encoded columns (a fixed-seed sample of them) to bound their cost. A training fold with a single class
   predicts that class. LDA is a small pooled-covariance implementation with a tiny ridge, so singular
   covariances (collinear one-hot columns, tiny folds) need no special case.

Everything runs single-threaded (``threadpoolctl``): on matrices this small, BLAS/OpenMP threads cost more
than they save, and several extractions can then run side by side. The budget is checked before each
landmarker and each fold; a landmarker that fails or runs out of time is NaN and recorded in ``skipped``.
Fewer than two labelled rows (or classes) leave everything NaN.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

from .base import Budget, BudgetExceeded, MetaFeatureGroup
from .statistical import NAN, is_numeric_column, numeric_values, run_steps, subsample_rows

CLASSIFICATION_LANDMARKERS = ("1nn", "stump", "random_node", "lda", "naive_bayes")
REGRESSION_LANDMARKERS = ("1nn", "stump", "random_node", "linear")
_CLASSIFICATION_METRICS = ("accuracy", "kappa")
#: landmarkers whose cost grows with the number of encoded columns beyond O(n p)
_COLUMN_CAPPED = {"1nn", "lda", "linear"}


def _estimator(landmarker: str, classification: bool, seed: int):
    from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

    tree = DecisionTreeClassifier if classification else DecisionTreeRegressor
    if landmarker == "1nn":
        from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor

        knn = KNeighborsClassifier if classification else KNeighborsRegressor
        return knn(n_neighbors=1, algorithm="brute")
    if landmarker == "stump":
        return tree(max_depth=1, random_state=seed)
    if landmarker == "random_node":
        return tree(max_depth=1, max_features=1, random_state=seed)
    if landmarker == "lda":
        return _LinearDiscriminant()
    if landmarker == "naive_bayes":
        from sklearn.naive_bayes import GaussianNB

        return GaussianNB()
    if landmarker == "linear":
        from sklearn.linear_model import LinearRegression

        return LinearRegression()
    raise ValueError(f"unknown landmarker {landmarker!r}")


class _LinearDiscriminant:
    """Linear discriminant analysis: Gaussian classes sharing one pooled covariance, class priors.

    Solved with a tiny ridge (1e-6 of the mean variance), so singular covariances (collinear one-hot
    columns, constant data, fewer rows than columns) are fine; much faster than scikit-learn's SVD/lstsq
    solvers on a few hundred columns, and the same decision rule on well-conditioned data.
    """

    def fit(self, X, y):
        import numpy as np

        self.classes_, codes = np.unique(y, return_inverse=True)
        n, p = X.shape
        k = self.classes_.size
        counts = np.bincount(codes, minlength=k).astype(np.float64)
        onehot = np.zeros((n, k))
        onehot[np.arange(n), codes] = 1.0
        means = (onehot.T @ X) / counts[:, None]
        centred = X - means[codes]
        cov = centred.T @ centred / max(n - k, 1)
        scale = float(np.trace(cov)) / p if p else 0.0
        ridge = 1e-6 * scale if scale > 0 else 1.0
        self.coef_ = np.linalg.solve(cov + ridge * np.eye(p), means.T).T
        self.intercept_ = -0.5 * np.sum(means * self.coef_, axis=1) + np.log(counts / n)
        return self

    def predict(self, X):
        import numpy as np

        return self.classes_[np.argmax(X @ self.coef_.T + self.intercept_, axis=1)]


def _kappa(y, pred) -> float:
    """Cohen's kappa of integer labels; NaN when chance agreement is 1 (a single label everywhere)."""
    import numpy as np

    k = int(max(y.max(), pred.max())) + 1
    p_true = np.bincount(y, minlength=k) / y.size
    p_pred = np.bincount(pred, minlength=k) / y.size
    chance = float(p_true @ p_pred)
    if chance >= 1.0 - 1e-12:
        return NAN
    return (float(np.mean(y == pred)) - chance) / (1.0 - chance)


def _r2(y, pred) -> float:
    import numpy as np

    ss_total = float(np.sum((y - y.mean()) ** 2))
    if not ss_total > 0:
        return NAN
    return 1.0 - float(np.sum((y - pred) ** 2)) / ss_total


class LandmarkerGroup(MetaFeatureGroup):
    """Cross-validated scores of fast learners (names ``lm_<learner>_<metric>``).

    Classification: ``lm_{1nn,stump,random_node,lda,naive_bayes}_{accuracy,kappa}``. Regression:
    ``lm_{1nn,stump,random_node,linear}_r2``. See the module docstring for the procedure.

    Parameters
    ----------
    max_rows : int
        Row cap; larger datasets are subsampled (stratified for classification) with ``random_state``.
    n_folds : int
        Cross-validation folds.
    max_columns : int
        Encoded-column cap for 1-NN, LDA and linear regression.
    max_levels : int
        Most frequent levels kept per nominal column before one-hot encoding.
    random_state : int
        Seed of the row sample, the folds, the column sample and the trees.
    """

    name = "landmarkers"
    feature_names = tuple(
        f"lm_{lm}_{metric}" for lm in CLASSIFICATION_LANDMARKERS for metric in _CLASSIFICATION_METRICS
    ) + tuple(f"lm_{lm}_r2" for lm in REGRESSION_LANDMARKERS)
    description = "Cross-validated accuracy/kappa (classification) or R^2 (regression) of fast learners"
    supports_regression = True

    def __init__(
        self,
        max_rows: int = 5_000,
        n_folds: int = 5,
        max_columns: int = 256,
        max_levels: int = 32,
        random_state: int = 0,
    ):
        self.max_rows = int(max_rows)
        self.n_folds = int(n_folds)
        self.max_columns = int(max_columns)
        self.max_levels = int(max_levels)
        self.random_state = int(random_state)

    def compute(self, dataset: Any, budget: Budget, skipped: dict[str, str]) -> Mapping[str, float]:
        import warnings

        from threadpoolctl import threadpool_limits

        out: dict[str, float] = dict.fromkeys(self.feature_names, NAN)
        classification = dataset.task_type == "classification"
        landmarkers = CLASSIFICATION_LANDMARKERS if classification else REGRESSION_LANDMARKERS
        all_names = [n for lm in landmarkers for n in self._names(lm, classification)]
        # single-threaded: on these small matrices threads cost more than they save (and oversubscribe
        # the CPUs when several extractions run in parallel)
        with warnings.catch_warnings(), threadpool_limits(limits=1):
            warnings.simplefilter("ignore")
            try:
                budget.check("landmarkers")
                prepared = self._prepare(dataset, classification)
            except BudgetExceeded as exc:
                skipped.update(dict.fromkeys(all_names, str(exc)))
                return out
            except Exception as exc:  # nothing can be scored without the encoded matrix
                skipped.update(dict.fromkeys(all_names, f"preprocessing failed: {type(exc).__name__}: {exc}"))
                return out
            if prepared is None:  # undefined: too few labelled rows or classes, or no usable column
                return out
            steps = [
                (self._names(lm, classification), self._runner(lm, classification, prepared, budget))
                for lm in landmarkers
            ]
            run_steps(steps, out, budget, skipped, "landmarker")
        return out

    def applicable_features(self, task_type: str) -> tuple[str, ...]:
        classification = task_type == "classification"
        landmarkers = CLASSIFICATION_LANDMARKERS if classification else REGRESSION_LANDMARKERS
        return tuple(n for lm in landmarkers for n in self._names(lm, classification))

    @staticmethod
    def _names(landmarker: str, classification: bool) -> tuple[str, ...]:
        if classification:
            return tuple(f"lm_{landmarker}_{m}" for m in _CLASSIFICATION_METRICS)
        return (f"lm_{landmarker}_r2",)

    def _prepare(self, dataset: Any, classification: bool) -> dict[str, Any] | None:
        """The encoded matrix, target and folds; None when landmarkers are undefined."""
        import numpy as np
        import pandas as pd

        from ..learners.base import make_preprocessor

        if classification:
            codes, _ = pd.factorize(dataset.y, sort=True)
            labelled = np.flatnonzero(np.asarray(codes) >= 0)
            y = np.asarray(codes, dtype=np.int64)[labelled]
        else:
            target = numeric_values(pd.Series(dataset.y))
            labelled = np.flatnonzero(~np.isnan(target))
            y = target[labelled]
        rows = subsample_rows(y.size, self.max_rows, self.random_state, strata=y if classification else None)
        y = y[rows]
        if classification:
            _, y = np.unique(y, return_inverse=True)
            counts = np.bincount(y) if y.size else np.zeros(0, dtype=np.int64)
            if counts.size < 2:
                return None
        k = min(self.n_folds, y.size)
        if k < 2:
            return None
        frame = self._encodable_frame(dataset.X.iloc[labelled[rows]])
        if frame.shape[1] == 0:
            return None
        X = np.asarray(make_preprocessor(scale=True, dense=True).fit_transform(frame), dtype=np.float64)
        if X.shape[1] == 0:
            return None
        X = np.nan_to_num(X, nan=0.0, posinf=0.0, neginf=0.0)
        from sklearn.model_selection import KFold, StratifiedKFold

        if classification and counts.max() >= k:
            splitter = StratifiedKFold(n_splits=k, shuffle=True, random_state=self.random_state)
        else:
            splitter = KFold(n_splits=k, shuffle=True, random_state=self.random_state)
        folds = list(splitter.split(X, y))
        capped = X
        if X.shape[1] > self.max_columns:
            rng = np.random.default_rng(self.random_state)
            capped = X[:, np.sort(rng.choice(X.shape[1], self.max_columns, replace=False))]
        return {"X": X, "capped": capped, "y": y, "folds": folds}

    def _encodable_frame(self, X: Any):
        """Numeric columns as float (inf -> NaN); other columns as a category of their top levels (dropped
        when entirely missing)."""
        import numpy as np
        import pandas as pd

        cols: dict[str, Any] = {}
        for j in range(X.shape[1]):
            col = X.iloc[:, j]
            if is_numeric_column(col):
                cols[f"c{j}"] = numeric_values(col)
                continue
            codes, _ = pd.factorize(col, sort=False)
            codes = np.asarray(codes, dtype=np.int64)
            present = codes >= 0
            if not present.any():  # no information (and make_preprocessor rejects all-missing nominals)
                continue
            counts = np.bincount(codes[present])
            if counts.size > self.max_levels:  # keep the most frequent levels, pool the rest
                top = np.argsort(-counts, kind="stable")[: self.max_levels]
                remap = np.full(counts.size, self.max_levels, dtype=np.int64)
                remap[top] = np.arange(self.max_levels)
                codes = np.where(present, remap[np.where(present, codes, 0)], -1)
                n_levels = self.max_levels + 1
            else:
                n_levels = counts.size
            cols[f"c{j}"] = pd.Categorical.from_codes(codes, categories=[f"l{i}" for i in range(n_levels)])
        return pd.DataFrame(cols, index=pd.RangeIndex(X.shape[0]))

    def _runner(
        self, landmarker: str, classification: bool, prepared: dict[str, Any], budget: Budget
    ) -> Callable[[], dict[str, float]]:
        def run() -> dict[str, float]:
            import numpy as np

            X = prepared["capped"] if landmarker in _COLUMN_CAPPED else prepared["X"]
            y = prepared["y"]
            pred = np.empty_like(y)
            for i, (train, test) in enumerate(prepared["folds"]):
                budget.check(f"landmarker {landmarker} fold {i + 1}")
                y_train = y[train]
                if classification and np.all(y_train == y_train[0]):
                    pred[test] = y_train[0]
                    continue
                model = _estimator(landmarker, classification, self.random_state)
                pred[test] = model.fit(X[train], y_train).predict(X[test])
            if classification:
                return {
                    f"lm_{landmarker}_accuracy": float(np.mean(pred == y)),
                    f"lm_{landmarker}_kappa": _kappa(y, pred),
                }
            return {f"lm_{landmarker}_r2": _r2(y, pred)}

        return run


