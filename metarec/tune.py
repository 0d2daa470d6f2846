"""Warm-started tuning: one Optuna study over the recommended learners, and the sklearn-style estimators.

The study's search space is conditional: ``learner`` is a categorical choice and each learner's
parameters are namespaced ``"<learner>:<param>"``. Before TPE takes over, the K best suggested
configurations of the recommendation are enqueued (``study.enqueue_trial``), so tuning starts from what
worked on similar datasets. Studies live in an Optuna storage (SQLite by default), so a stopped run is
resumed by the same command and ``optuna-dashboard`` can open it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from .exceptions import DataError, MetarecError

logger = logging.getLogger(__name__)

DEFAULT_STORAGE = "sqlite:///metarec-tune.db"
#: Fewer rows than this cannot be cross-validated meaningfully: tuning refuses them (recommend does not).
MIN_TUNE_ROWS = 10
#: What ``--report DIR`` writes (an existing one is overwritten only with ``force``).
REPORT_FILES = ("optimization_history.png", "summary.json")

#: metarec metric name -> scikit-learn scorer name
SCORERS = {
    "accuracy": "accuracy",
    "balanced_accuracy": "balanced_accuracy",
    "f1": "f1_macro",
    "auc": "roc_auc_ovr",
    "logloss": "neg_log_loss",
    "r2": "r2",
    "neg_rmse": "neg_root_mean_squared_error",
    "neg_mae": "neg_mean_absolute_error",
}
TASK_METRICS = {
    "classification": ("accuracy", "balanced_accuracy", "f1", "auc", "logloss"),
    "regression": ("r2", "neg_rmse", "neg_mae"),
}
DEFAULT_METRIC = {"classification": "accuracy", "regression": "r2"}


def check_metric(metric: str | None, task_type: str) -> str:
    metric = metric or DEFAULT_METRIC[task_type]
    if metric not in TASK_METRICS[task_type]:
        raise MetarecError(
            f"metric {metric!r} does not apply to {task_type}; choose one of {', '.join(TASK_METRICS[task_type])}"
        )
    return metric


@dataclass
class TuneResult:
    """What a tuning run produced."""

    study: Any
    best_learner: str
    best_config: dict
    best_score: float
    best_pipeline: Any
    metric: str
    task_type: str
    n_trials: int
    warm_start_configs: list[dict] = field(default_factory=list)
    storage: str | None = None

    def summary(self) -> dict[str, Any]:
        import optuna

        trials = self.study.get_trials(deepcopy=False)
        complete = [t for t in trials if t.state == optuna.trial.TrialState.COMPLETE]
        best_so_far, best = [], -math.inf
        for t in complete:
            best = max(best, t.value)
            best_so_far.append(best)
        return {
            "study_name": self.study.study_name,
            "storage": self.storage,
            "metric": self.metric,
            "task_type": self.task_type,
            "best_learner": self.best_learner,
            "best_config": self.best_config,
            "best_score": self.best_score,
            "n_trials": len(trials),
            "n_complete": len(complete),
            "n_failed": sum(t.state == optuna.trial.TrialState.FAIL for t in trials),
            "warm_start": self.warm_start_configs,
            "best_so_far": best_so_far,
            "trials_per_learner": _count(t.params.get("learner") for t in complete),
        }


def _count(values) -> dict[str, int]:
    out: dict[str, int] = {}
    for v in values:
        out[v] = out.get(v, 0) + 1
    return out


from sklearn.utils.metaestimators import available_if  # noqa: E402  (tune is imported lazily)


def _best_has(attr: str):
    """Whether the fitted best pipeline offers ``attr`` (False before fit: sklearn's available_if)."""
    return lambda self: hasattr(self, "best_pipeline_") and hasattr(self.best_pipeline_, attr)


class LabelEncodedClassifier:
    """Fit a classification pipeline on integer class codes and predict the original labels.

    scikit-learn 1.9 mistakes numeric-looking string labels (``"1"``, ``"2"``, ``"U"``) for numbers in
    ``class_weight="balanced"``; fitting on codes sidesteps it and keeps ``classes_`` as the user's labels.
    """

    _estimator_type = "classifier"

    def __init__(self, pipeline):
        self.pipeline = pipeline

    def fit(self, X, y):
        import numpy as np

        self.classes_, codes = np.unique(np.asarray(y, dtype=object).astype(str), return_inverse=True)
        self._labels = _original_labels(y, self.classes_)
        self.pipeline.fit(X, codes)
        return self

    def predict(self, X):
        return self._labels[self.pipeline.predict(X).astype(int)]

    @available_if(lambda self: hasattr(self.pipeline, "predict_proba"))
    def predict_proba(self, X):
        return self.pipeline.predict_proba(X)

    @available_if(lambda self: hasattr(self.pipeline, "decision_function"))
    def decision_function(self, X):
        return self.pipeline.decision_function(X)

    def score(self, X, y):
        from sklearn.metrics import accuracy_score

        return accuracy_score(y, self.predict(X))

    def __sklearn_tags__(self):
        return self.pipeline.__sklearn_tags__()

    def get_params(self, deep=True):
        return {"pipeline": self.pipeline}

    def set_params(self, **params):
        for k, v in params.items():
            setattr(self, k, v)
        return self


def _original_labels(y, classes_str):
    """The first original label for each string class (keeps ints as ints, bools as bools)."""
    import numpy as np

    values = np.asarray(y, dtype=object)
    first = {}
    for v in values:
        first.setdefault(str(v), v)
    out = np.empty(len(classes_str), dtype=object)
    out[:] = [first[c] for c in classes_str]
    try:
        return out.astype(np.asarray(y).dtype) if np.asarray(y).dtype.kind in "biuf" else out
    except (TypeError, ValueError):
        return out


def make_objective(X, y, task_type: str, learners: list, metric: str, cv: int = 5, random_state: int = 0):
    """An Optuna objective: pick a learner, sample its config, return the k-fold CV score."""
    from sklearn.model_selection import KFold, StratifiedKFold, cross_val_score

    by_name = {lr.name: lr for lr in learners}
    names = list(by_name)
    if task_type == "classification":
        min_class = int(y.value_counts().min())
        folds = max(2, min(cv, min_class))
        splitter = StratifiedKFold(folds, shuffle=True, random_state=random_state) if min_class >= 2 \
            else KFold(cv, shuffle=True, random_state=random_state)
    else:
        splitter = KFold(cv, shuffle=True, random_state=random_state)
    scorer = SCORERS[metric]
    if task_type == "classification":  # integer codes; see LabelEncodedClassifier
        import numpy as np

        y = np.unique(y.astype(str).to_numpy(), return_inverse=True)[1]

    def objective(trial):
        name = trial.suggest_categorical("learner", names)
        learner = by_name[name]
        config = learner.suggest(trial, prefix=True)
        trial.set_user_attr("config", json.dumps(config, sort_keys=True, default=str))
        pipe = learner.make_pipeline(config, random_state=random_state)
        t0 = time.perf_counter()
        try:
            scores = cross_val_score(pipe, X, y, cv=splitter, scoring=scorer, error_score="raise")
        except Exception as exc:  # recorded, so "no trial finished" can name the cause
            first = (str(exc).strip().splitlines() or [""])[0]
            trial.set_user_attr("error", f"{type(exc).__name__}: {first}")
            raise
        trial.set_user_attr("cv_seconds", time.perf_counter() - t0)
        value = float(scores.mean())
        if not math.isfinite(value):
            raise ValueError(f"{name}: non-finite CV score")
        return value

    return objective


def enqueue_warm_start(study, configs: list[tuple[str, dict]]) -> list[dict]:
    """Enqueue ``(learner, config)`` pairs as the study's first trials; returns what was enqueued."""
    queued = []
    for name, config in configs:
        params = {"learner": name, **{f"{name}:{k}": v for k, v in config.items()}}
        study.enqueue_trial(params, user_attrs={"warm_start": True}, skip_if_exists=True)
        queued.append({"learner": name, "config": config})
    return queued


def default_study_name(ds, metric: str, learner_names: list[str]) -> str:
    key = json.dumps([ds.source, ds.target, ds.task_type, metric, sorted(learner_names), ds.n_rows])
    return f"metarec-{ds.name}-{ds.target}-{hashlib.sha256(key.encode()).hexdigest()[:8]}"


def tune(
    data: Any,
    target: str | None = None,
    *,
    y: Any = None,
    learners: str | list[str] = "auto",
    n_trials: int | None = 50,
    timeout: float | None = None,
    warm_start: int = 5,
    storage: str | None = DEFAULT_STORAGE,
    study_name: str | None = None,
    metric: str | None = None,
    cv: int = 5,
    random_state: int = 0,
    top_k: int = 3,
    kb: Any = None,
    metamodel: str = "lightgbm",
    task_type: str | None = None,
    out: str | Path | None = None,
    report: str | Path | None = None,
    force: bool = False,
    callbacks: list[Callable] | None = None,
    recommendation: Any = None,
) -> TuneResult:
    """Tune the recommended learners on ``data`` with a warm-started Optuna study.

    Parameters
    ----------
    data, target, y, task_type
        The dataset, as for :func:`metarec.data.load_dataset`.
    learners : "auto" or list of str
        ``"auto"``: the ``top_k`` learners of :func:`metarec.recommend`; or explicit learner names.
    n_trials, timeout
        Stop after this many trials in the study (counting earlier runs of a resumed study) or seconds.
    warm_start : int
        Enqueue the first K suggested configurations (a portfolio of configs that did well across the
        nearest KB tasks each learner was tuned on, or the learners' defaults) before TPE takes over.
        0 = cold start.
    storage : str or None
        Optuna storage URL; ``None`` keeps the study in memory.
    study_name : str, optional
        Default: derived from the dataset, target, metric and learners, so the same command resumes.
    out : path, optional
        Save the best pipeline, refit on all data (joblib) with a JSON sidecar (learner, config, score).
    report : path, optional
        Directory for the optimization-history plot (optuna's matplotlib visualisation) and a JSON summary.
    """
    import optuna

    from .data import load_dataset
    from .learners import get_learner

    ds = load_dataset(data, target=target, y=y, task_type=task_type)
    metric = check_metric(metric, ds.task_type)
    if ds.n_features == 0:
        raise DataError(f"{ds.source}: no feature column besides the target {ds.target!r}; a model needs at least one")
    if ds.n_rows < MIN_TUNE_ROWS:
        raise DataError(f"{ds.source}: only {ds.n_rows} rows, too few to cross-validate; tuning needs at least "
                        f"{MIN_TUNE_ROWS} (add rows; `metarec recommend` works on fewer)")
    from .kb.format import ensure_new_file

    if out is not None:
        ensure_new_file(out, force)
    for name in REPORT_FILES if report is not None else ():
        ensure_new_file(Path(report) / name, force, "--report")
    warm: list[tuple[str, dict]] = []
    if learners == "auto" or learners is None:
        from .recommend import recommend

        rec = recommendation or recommend(ds, kb=kb, metamodel=metamodel, metric=metric, top_k=top_k)
        # learners ranked from the KB whose plugin is not installed here cannot be tuned: skip them
        chosen = [r.learner for r in rec.learners if r.installed][:top_k]
        if not chosen:
            raise MetarecError("the recommendation holds no learner with KB evidence; pass --learners a,b")
        warm = [(n, c) for n, c in rec.warm_start_configs(len(rec.learners) * 10) if n in chosen][:warm_start]
    else:
        names = [x.strip() for x in learners.split(",")] if isinstance(learners, str) else list(learners)
        chosen = names
        for name in names:
            lr = get_learner(name)
            if ds.task_type not in lr.task_types:
                raise MetarecError(f"learner {name!r} does not do {ds.task_type}; see `metarec learners --task {ds.task_type}`")
        if warm_start:
            if recommendation is not None:
                warm = [(n, c) for n, c in recommendation.warm_start_configs(warm_start) if n in names]
            warm = warm or [(n, dict(get_learner(n).default_config)) for n in names][:warm_start]
    learner_objs = [get_learner(n) for n in chosen]
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study_name = study_name or default_study_name(ds, metric, chosen)
    sampler = optuna.samplers.TPESampler(seed=random_state, n_startup_trials=max(5, len(warm)))
    try:
        study = optuna.create_study(study_name=study_name, storage=storage, direction="maximize",
                                    sampler=sampler, load_if_exists=True)
    except Exception as exc:
        raise MetarecError(f"cannot open the Optuna storage {storage!r} ({type(exc).__name__}: {exc})") from None
    existing = study.get_trials(deepcopy=False)
    queued = enqueue_warm_start(study, warm) if not existing and warm else []
    objective = make_objective(ds.X, ds.y, ds.task_type, learner_objs, metric, cv, random_state)
    remaining = None if n_trials is None else max(0, n_trials - len(
        [t for t in existing if t.state.is_finished()]))
    if remaining is None or remaining > 0:
        study.optimize(objective, n_trials=remaining, timeout=timeout, catch=(Exception,), callbacks=callbacks)
    try:
        best = study.best_trial
    except ValueError:
        failed = [t for t in study.get_trials(deepcopy=False) if t.state == optuna.trial.TrialState.FAIL]
        reason = failed[-1].user_attrs.get("error", "") if failed else ""
        reason = f" (last failure: {reason[:200]})" if reason else ""
        raise MetarecError("no trial finished: every configuration failed or the time budget was too short"
                           f"{reason}; raise --timeout or --trials") from None
    best_learner = best.params["learner"]
    prefix = best_learner + ":"
    best_config = {k[len(prefix):]: v for k, v in best.params.items() if k.startswith(prefix)}
    if "config" in best.user_attrs:
        best_config = json.loads(best.user_attrs["config"])
    pipeline = get_learner(best_learner).make_pipeline(best_config, random_state=random_state)
    if ds.task_type == "classification":
        pipeline = LabelEncodedClassifier(pipeline)
    pipeline.fit(ds.X, ds.y)
    result = TuneResult(study, best_learner, best_config, float(best.value), pipeline, metric, ds.task_type,
                        len(study.trials), queued, storage)
    if out is not None:
        save_model(result, out)
    if report is not None:
        write_report(result, report)
    return result


def save_model(result: TuneResult, path: str | Path) -> Path:
    """Save the refit pipeline with joblib (your own model; load only files you trust) + a JSON sidecar."""
    import joblib

    from .kb.format import atomic_write_bytes

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    import io

    buf = io.BytesIO()
    joblib.dump(result.best_pipeline, buf)
    atomic_write_bytes(path, buf.getvalue())
    meta = {"learner": result.best_learner, "config": result.best_config, "cv_score": result.best_score,
            "metric": result.metric, "task_type": result.task_type, "study": result.study.study_name}
    atomic_write_bytes(path.with_suffix(path.suffix + ".json"), json.dumps(meta, indent=2, default=str).encode())
    return path


def write_report(result: TuneResult, directory: str | Path) -> Path:
    """Write ``optimization_history.png`` (optuna.visualization.matplotlib) and ``summary.json``."""
    import matplotlib

    matplotlib.use("Agg")
    import warnings

    import matplotlib.pyplot as plt
    import optuna

    from .kb.format import atomic_write_bytes, atomic_write_figure

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        ax = optuna.visualization.matplotlib.plot_optimization_history(result.study)
    ax.set_title(f"{result.study.study_name}: {result.metric}")
    ax.figure.tight_layout()
    atomic_write_figure(ax.figure, directory / "optimization_history.png", dpi=110)
    plt.close(ax.figure)
    atomic_write_bytes(directory / "summary.json",
                       json.dumps(result.summary(), indent=2, default=str, allow_nan=False).encode())
    return directory


from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin  # noqa: E402  (tune is imported lazily)


def _numeric_if_possible(Xa):
    """Object arrays of numbers become float; text stays (categorical); anything else is a TypeError."""
    if Xa.dtype != object:
        return Xa
    try:
        return Xa.astype(float)
    except ValueError:  # text: categorical columns
        return Xa


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
        """Recommend learners for (X, y), tune them within ``time_budget`` seconds, refit the best."""
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
            frame = pd.DataFrame(_numeric_if_possible(Xa), columns=[f"x{i}" for i in range(Xa.shape[1])])
        yv = np.asarray(y)
        if yv.ndim != 1:
            yv = yv.ravel() if yv.ndim == 2 and yv.shape[1] == 1 else yv
        self.n_features_in_ = frame.shape[1]
        if self._task_type == "classification":
            from sklearn.utils.multiclass import check_classification_targets

            check_classification_targets(yv)
            self.classes_ = np.unique(yv)
            if len(self.classes_) < 2:
                raise ValueError(f"y has only one class ({self.classes_[0]!r}); classification needs at least two")
        else:
            yv = yv.astype(float)
        seed = 0 if self.random_state is None else int(self.random_state)
        n_trials = self.n_trials if self.n_trials is not None else (None if self.time_budget else 50)
        result = tune(frame, y=pd.Series(yv, name="target"), task_type=self._task_type, learners=self.learners,
                      n_trials=n_trials, timeout=self.time_budget, warm_start=self.warm_start, storage=None,
                      metric=self.metric, cv=self.cv, random_state=seed, top_k=self.top_k, kb=self.kb,
                      metamodel=self.metamodel)
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
        return pd.DataFrame(_numeric_if_possible(Xa), columns=names).infer_objects()

    def predict(self, X):
        """Predictions of the best pipeline."""
        frame = self._frame(X)  # raises NotFittedError before fit
        return self.best_pipeline_.predict(frame)


class AutoClassifier(ClassifierMixin, _AutoEstimator, BaseEstimator):
    """Recommend, warm-start and tune a classifier within a time budget (scikit-learn estimator).

    Parameters
    ----------
    time_budget : float or None
        Seconds for tuning (the recommendation itself takes a few seconds more).
    metric : str, optional
        accuracy (default), balanced_accuracy, f1, auc, logloss.
    warm_start : int
        Suggested configurations enqueued before TPE takes over (0 = cold start).
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
