"""``AutoClassifier`` / ``AutoRegressor``: recommend, warm-start and tune within a time budget, as estimators.

They follow scikit-learn's conventions: ``__init__`` stores its arguments, ``fit`` returns ``self``, what
fitting learned ends in ``_``, and using an unfitted one raises ``NotFittedError``.
"""

from __future__ import annotations

from typing import Any

from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils.metaestimators import available_if

from ..exceptions import check_seconds
from .api import check_int, tune


def _best_has(attr: str):
    """Whether the fitted best pipeline offers ``attr`` (False before fit: sklearn's available_if)."""
    return lambda self: hasattr(self, "best_pipeline_") and hasattr(self.best_pipeline_, attr)


def _numeric_if_possible(Xa):
    """Object arrays of numbers become float; text stays (categorical); anything else is a TypeError."""
    if Xa.dtype != object:
        return Xa
    try:
        return Xa.astype(float)
    except ValueError:  # text: categorical columns
        return Xa


def _kept_after_interrupt(frame, kw):
    """After Ctrl-C: the best of the trials that finished, refit (a warning says so); with none, the
    KeyboardInterrupt goes on."""
    import warnings

    import optuna

    from ..exceptions import MetarecWarning
    from . import interrupt

    studies = kw["storage"].get_all_studies()
    if not studies:
        raise KeyboardInterrupt
    study = optuna.load_study(study_name=studies[0].study_name, storage=kw["storage"])
    cut = interrupt.cut_numbers(study)
    trials = study.get_trials(deepcopy=False)
    if not any(t.state == optuna.trial.TrialState.COMPLETE for t in trials):
        raise KeyboardInterrupt
    finished = sum(interrupt.counts(t, cut) for t in trials)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MetarecWarning)  # "nothing left to run": what is wanted here
        result = tune(frame, n_trials=finished, study_name=study.study_name, **kw)
    complete = sum(t.state == optuna.trial.TrialState.COMPLETE for t in trials)
    warnings.warn(f"interrupted: the best of the {complete} trials that finished ({result.best_learner}, CV "
                  f"{result.best_score:.4f}) was refit on all the data", MetarecWarning, stacklevel=3)
    return result


class _AutoEstimator:
    """Shared body of :class:`AutoClassifier` and :class:`AutoRegressor` (scikit-learn semantics)."""

    _task_type = "classification"

    def __init__(self, time_budget: float | None = 60.0, metric: str | None = None, warm_start: int = 5,
                 random_state: int | None = None, n_trials: int | None = None, cv: int = 3,
                 learners: str | list[str] = "auto", top_k: int = 3, kb: Any = None, metamodel: str = "lightgbm"):
        self.time_budget = time_budget
        self.metric = metric
        self.warm_start = warm_start
        self.random_state = random_state
        self.n_trials = n_trials
        self.cv = cv
        self.learners = learners
        self.top_k = top_k
        self.kb = kb
        self.metamodel = metamodel

    def fit(self, X, y):
        """Recommend learners for (X, y), tune them within ``time_budget`` seconds, refit the best.

        Ctrl-C stops the search: the best configuration found so far is refit and ``fit`` returns (a
        warning says so); before any trial finished, the KeyboardInterrupt goes on."""
        import numpy as np
        import pandas as pd
        from sklearn.utils.validation import check_X_y

        if isinstance(X, pd.DataFrame):
            frame = X.reset_index(drop=True)
            self.feature_names_in_ = np.asarray([str(c) for c in X.columns], dtype=object)
            if len(frame) != len(y):
                raise ValueError(f"X has {len(frame)} rows but y has {len(y)}")
        else:
            Xa, _ = check_X_y(X, y, ensure_all_finite="allow-nan", dtype=None, y_numeric=False)
            frame = pd.DataFrame(self._array_values(Xa), columns=[f"x{i}" for i in range(Xa.shape[1])]).infer_objects()
        yv = np.asarray(y)
        if yv.ndim != 1:
            yv = yv.ravel() if yv.ndim == 2 and yv.shape[1] == 1 else yv
        self.n_features_in_ = frame.shape[1]
        if self._task_type == "classification":
            from sklearn.utils.multiclass import check_classification_targets

            missing = pd.isna(pd.Series(yv, dtype=object)).to_numpy()
            if missing.any():
                raise ValueError(f"y has {int(missing.sum())} missing label(s); drop those rows (or fill them) "
                                 f"before fit")
            check_classification_targets(yv)
            self.classes_ = np.unique(yv)
            if len(self.classes_) < 2:
                only = self.classes_[0].item() if hasattr(self.classes_[0], "item") else self.classes_[0]
                raise ValueError(f"y has only one class ({only!r}); classification needs at least two")
        else:
            yv = yv.astype(float)
        check_seconds("time_budget", self.time_budget)
        seed = 0 if self.random_state is None else check_int("random_state", self.random_state, 0, 2**32 - 1)
        n_trials = self.n_trials if self.n_trials is not None else (None if self.time_budget else 50)
        import optuna

        # an in-memory Optuna storage the estimator holds, so that Ctrl-C keeps the trials that finished
        kw = dict(y=yv, task_type=self._task_type, learners=self.learners, warm_start=self.warm_start,
                  storage=optuna.storages.InMemoryStorage(), metric=self.metric, cv=self.cv, random_state=seed,
                  top_k=self.top_k, kb=self.kb, metamodel=self.metamodel)
        try:
            result = tune(frame, n_trials=n_trials, time_budget=self.time_budget, **kw)
        except KeyboardInterrupt:
            result = _kept_after_interrupt(frame, kw)
        self.study_ = result.study
        self.best_learner_ = result.best_learner
        self.best_config_ = result.best_config
        self.best_score_ = result.best_score
        self.best_pipeline_ = result.best_pipeline
        return self

    def _frame(self, X):
        import pandas as pd
        from sklearn.utils.validation import check_array, check_is_fitted

        check_is_fitted(self, "best_pipeline_")
        if isinstance(X, pd.DataFrame):
            if X.shape[1] != self.n_features_in_:
                raise ValueError(f"X has {X.shape[1]} features, but {type(self).__name__} is expecting "
                                 f"{self.n_features_in_} features as input.")
            if hasattr(self, "feature_names_in_"):
                return X.set_axis([str(c) for c in X.columns], axis=1)
            return X.set_axis([f"x{i}" for i in range(X.shape[1])], axis=1)
        Xa = check_array(X, ensure_all_finite="allow-nan", dtype=None)
        if Xa.shape[1] != self.n_features_in_:
            raise ValueError(f"X has {Xa.shape[1]} features, but {type(self).__name__} is expecting "
                             f"{self.n_features_in_} features as input.")
        names = list(self.feature_names_in_) if hasattr(self, "feature_names_in_") else [f"x{i}" for i in range(Xa.shape[1])]
        return pd.DataFrame(self._array_values(Xa), columns=names).infer_objects()

    @staticmethod
    def _array_values(Xa):
        """Numbers as float; text and dates (typed column by column by the model's first step) kept."""
        import datetime
        import numbers

        import numpy as np

        try:
            return _numeric_if_possible(Xa)
        except TypeError:  # timestamps are fine; dicts, lists and the like are not (scikit-learn's TypeError)
            if all(v is None or isinstance(v, (str, numbers.Number, datetime.date, np.datetime64)) for v in Xa.ravel()):
                return Xa
            raise

    def predict(self, X):
        """Predictions of the best pipeline."""
        frame = self._frame(X)  # raises NotFittedError before fit
        return self.best_pipeline_.predict(frame)


class AutoClassifier(ClassifierMixin, _AutoEstimator, BaseEstimator):
    """Recommend, warm-start and tune a classifier within a time budget (scikit-learn estimator).

    Parameters
    ----------
    time_budget : float or None
        Seconds for the whole fit: the recommendation, the trials and the refit of the best configuration
        (no trial starts that the budget cannot see finished; see :func:`metarec.tune`'s ``time_budget``).
    metric : str, optional
        accuracy (default), balanced_accuracy, f1, auc, logloss.
    warm_start : int
        Suggested configurations enqueued before TPE takes over (0 = cold start; ``False`` / ``True``, as
        scikit-learn's estimator checks set it, mean 0 / 5).
    random_state : int, optional
    n_trials : int, optional
        Cap on trials (default: as many as fit in ``time_budget``).
    cv : int
        Folds of the cross-validation that scores each trial.
    learners : "auto" or list of str
        ``"auto"``: the ``top_k`` recommended learners.

    Attributes
    ----------
    best_learner_, best_config_, best_score_, best_pipeline_, study_, classes_, n_features_in_
    """

    _task_type = "classification"

    @available_if(_best_has("predict_proba"))
    def predict_proba(self, X):
        frame = self._frame(X)
        return self.best_pipeline_.predict_proba(frame)

    @available_if(_best_has("decision_function"))
    def decision_function(self, X):
        frame = self._frame(X)
        return self.best_pipeline_.decision_function(frame)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.non_deterministic = False
        return tags


class AutoRegressor(RegressorMixin, _AutoEstimator, BaseEstimator):
    """Recommend, warm-start and tune a regressor within a time budget (scikit-learn estimator).

    Same parameters as :class:`AutoClassifier`; ``metric`` is r2 (default), neg_rmse or neg_mae.
    """

    _task_type = "regression"

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags
