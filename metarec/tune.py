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

from .exceptions import MetarecError

logger = logging.getLogger(__name__)

DEFAULT_STORAGE = "sqlite:///metarec-tune.db"

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


def make_objective(X, y, task_type: str, learners: list, metric: str, cv: int = 5, random_state: int = 0):
    """An Optuna objective: pick a learner, sample its config, return the k-fold CV score."""
    from sklearn.model_selection import KFold, StratifiedKFold, cross_val_score

    by_name = {lr.name: lr for lr in learners}
    names = list(by_name)
    if task_type == "classification":
        min_class = int(y.value_counts().min())
        folds = max(2, min(cv, min_class))
        splitter = StratifiedKFold(folds, shuffle=True, random_state=random_state)
    else:
        splitter = KFold(cv, shuffle=True, random_state=random_state)
    scorer = SCORERS[metric]

    def objective(trial):
        name = trial.suggest_categorical("learner", names)
        learner = by_name[name]
        config = learner.suggest(trial, prefix=True)
        trial.set_user_attr("config", json.dumps(config, sort_keys=True, default=str))
        pipe = learner.make_pipeline(config, random_state=random_state)
        t0 = time.perf_counter()
        scores = cross_val_score(pipe, X, y, cv=splitter, scoring=scorer, error_score="raise")
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
        Enqueue the K best suggested configurations (from the KB's runs on the most similar tasks, or
        the learners' defaults) before TPE takes over. 0 = cold start.
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
    for path in (out,):
        if path is not None and Path(path).exists() and not force:
            raise MetarecError(f"{path}: already exists; pass --force (force=True) to overwrite it")
    warm: list[tuple[str, dict]] = []
    if learners == "auto" or learners is None:
        from .recommend import recommend

        rec = recommendation or recommend(ds, kb=kb, metamodel=metamodel, metric=metric, top_k=top_k)
        chosen = [r.learner for r in rec.learners[:top_k]]
        if not chosen:
            raise MetarecError("the recommendation holds no learner with KB evidence; pass --learners a,b")
        warm = rec.warm_start_configs(warm_start)
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
        raise MetarecError("no trial finished: every configuration failed or the time budget was too short; "
                           "raise --timeout or --trials") from None
    best_learner = best.params["learner"]
    prefix = best_learner + ":"
    best_config = {k[len(prefix):]: v for k, v in best.params.items() if k.startswith(prefix)}
    if "config" in best.user_attrs:
        best_config = json.loads(best.user_attrs["config"])
    pipeline = get_learner(best_learner).make_pipeline(best_config, random_state=random_state).fit(ds.X, ds.y)
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

    from .kb.format import atomic_write_bytes

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        ax = optuna.visualization.matplotlib.plot_optimization_history(result.study)
    ax.set_title(f"{result.study.study_name}: {result.metric}")
    ax.figure.tight_layout()
    ax.figure.savefig(directory / "optimization_history.png", dpi=110)
    plt.close(ax.figure)
    atomic_write_bytes(directory / "summary.json",
                       json.dumps(result.summary(), indent=2, default=str, allow_nan=False).encode())
    return directory
