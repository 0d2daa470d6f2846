"""Warm-started tuning: one Optuna study over the recommended learners, and the sklearn-style estimators.

The study's search space is conditional: ``learner`` is a categorical choice and each learner's
parameters are namespaced ``"<learner>:<param>"``. Before TPE takes over, the K best suggested
configurations of the recommendation are enqueued (``study.enqueue_trial``), so tuning starts from what
worked on similar datasets. Studies live in an Optuna storage (SQLite by default), so a stopped run is
resumed by the same command and ``optuna-dashboard`` can open it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import math
import sys
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from .exceptions import DataError, MetarecError, MetarecWarning, ParameterError, PluginError, check_seconds
from .metrics import DEFAULT_METRIC, METRICS, check_metric, needs_probabilities, scorer_name

logger = logging.getLogger(__name__)

DEFAULT_STORAGE = "sqlite:///metarec-tune.db"
#: Suggested configurations enqueued before TPE takes over, by default
DEFAULT_WARM_START = 5
#: Fewer rows than this cannot be cross-validated meaningfully: tuning refuses them (recommend does not).
MIN_TUNE_ROWS = 10
#: What ``--report DIR`` writes (an existing one is overwritten only with ``force``).
REPORT_FILES = ("optimization_history.png", "summary.json")

def has_probabilities(learner) -> bool:
    """Whether the learner's default pipeline offers ``predict_proba`` (checked without fitting)."""
    try:
        return hasattr(learner.make_pipeline(dict(learner.default_config)), "predict_proba")
    except Exception:  # a pipeline that cannot even be built is reported by the trials themselves
        return True


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
        cut = _cut_numbers(self.study)
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
            "n_failed": sum(_failed(t, cut) for t in trials),
            "n_interrupted": sum(_is_cut(t, cut) for t in trials),
            "warm_start": self.warm_start_configs,
            "best_so_far": best_so_far,
            "trials_per_learner": _count(t.params.get("learner") for t in complete),
        }


#: study user attribute: numbers of the trials Ctrl-C cut (a finished trial's own attributes are read-only)
CUT_ATTR = "metarec_interrupted"


def _cut_numbers(study) -> frozenset:
    return frozenset(int(n) for n in study.user_attrs.get(CUT_ATTR, []))


def _is_cut(trial, cut: frozenset = frozenset()) -> bool:
    return bool(trial.user_attrs.get("interrupted")) or trial.number in cut


def _counts(trial, cut: frozenset = frozenset()) -> bool:
    """Whether a trial counts toward ``n_trials``: finished, and not stopped by Ctrl-C."""
    return trial.state.is_finished() and not _is_cut(trial, cut)


def _failed(trial, cut: frozenset = frozenset()) -> bool:
    """A trial whose configuration failed (an interrupted one did not)."""
    import optuna

    return trial.state == optuna.trial.TrialState.FAIL and not _is_cut(trial, cut)


class _CtrlC:
    """Ctrl-C during ``study.optimize``: the run stops cleanly wherever the key lands.

    Python raises KeyboardInterrupt wherever the main thread happens to be. Inside the cross-validation
    of a trial (where the time goes) that is what we want: the trial is cut, marked ``interrupted`` and
    closed by Optuna. Inside a write to the storage (creating a trial, a suggested parameter, its result)
    it is not: SQLite stays locked ("database is locked" when Optuna closes the trial), the trial stays
    RUNNING for ever and Optuna's clean-up ends in a traceback. Inside a weakref callback or a
    ``__del__`` (SQLAlchemy's) Python prints "Exception ignored" and goes on as if no key had been
    pressed. So outside the cross-validation a press is only recorded and the run stops after the trial
    in progress (which is kept: it finished); an interrupt Python drops is recorded too, not printed. A
    second press interrupts at once wherever it lands, as usual. Outside the main thread signals cannot
    be handled; there this does nothing.
    """

    def __init__(self):
        self.pressed = False
        self._in_cv = False
        self._previous = None

    def __enter__(self):
        import signal
        import threading

        if threading.current_thread() is threading.main_thread():
            previous = signal.getsignal(signal.SIGINT)
            if previous is signal.default_int_handler:  # a caller's own handler is left alone

                def handler(signum, frame):
                    again, self.pressed = self.pressed, True
                    if self._in_cv or again:
                        signal.default_int_handler(signum, frame)

                signal.signal(signal.SIGINT, handler)
                self._previous = previous
                self._hook = sys.unraisablehook

                def hook(unraisable):
                    if isinstance(unraisable.exc_value, KeyboardInterrupt):
                        self.pressed = True  # the press counts; Python's "Exception ignored" is noise
                    else:
                        self._hook(unraisable)

                sys.unraisablehook = hook
        return self

    def __exit__(self, *exc):
        if self._previous is not None:
            import signal

            signal.signal(signal.SIGINT, self._previous)
            sys.unraisablehook = self._hook
        return False

    def check(self) -> None:
        if self.pressed:
            raise KeyboardInterrupt

    def callback(self, study, trial) -> None:  # an Optuna callback: runs after every trial
        self.check()

    @contextlib.contextmanager
    def interruptible(self):
        """Where a Ctrl-C interrupts at once: the cross-validation of a trial (a press since the last
        trial cuts this one before it starts). Never around a write to the storage: a KeyboardInterrupt
        in the middle of one leaves SQLite locked for the writes that close the trial."""
        self.check()
        self._in_cv = True
        try:
            yield
        finally:
            self._in_cv = False


def _requeue_interrupted(study, since: int) -> None:
    """Record the trials (numbered ``since`` or later) that Ctrl-C cut, wherever it struck (in the objective
    they carry ``interrupted``; elsewhere Optuna closes them as failed without an error of theirs), and
    enqueue the cut warm-start configurations again, so a resumed run still tries them first."""
    import optuna

    trials = study.get_trials(deepcopy=False)
    cut = {t.number for t in trials if t.number >= since and (
        t.user_attrs.get("interrupted") or (t.state == optuna.trial.TrialState.FAIL and "error" not in t.user_attrs))}
    try:
        study.set_user_attr(CUT_ATTR, sorted(_cut_numbers(study) | cut))
    except Exception:  # pragma: no cover - the storage went away with the interrupt
        logger.info("could not record the interrupted trials %s", sorted(cut))
    for t in trials:
        if t.number in cut and t.user_attrs.get("warm_start"):
            fixed = t.system_attrs.get("fixed_params") or t.params
            try:
                study.enqueue_trial(dict(fixed), user_attrs={"warm_start": True})
            except Exception:  # pragma: no cover - the storage went away with the interrupt
                logger.info("could not re-enqueue interrupted trial %d", t.number)


def _count(values) -> dict[str, int]:
    out: dict[str, int] = {}
    for v in values:
        out[v] = out.get(v, 0) + 1
    return out


from sklearn.utils.metaestimators import available_if  # noqa: E402  (tune is imported lazily)


def _best_has(attr: str):
    """Whether the fitted best pipeline offers ``attr`` (False before fit: sklearn's available_if)."""
    return lambda self: hasattr(self, "best_pipeline_") and hasattr(self.best_pipeline_, attr)


from sklearn.base import BaseEstimator, ClassifierMixin  # noqa: E402  (tune is imported lazily)


class LabelEncodedClassifier(ClassifierMixin, BaseEstimator):
    """Fit a classification pipeline on integer class codes and predict the original labels.

    scikit-learn 1.9 mistakes numeric-looking string labels (``"1"``, ``"2"``, ``"U"``) for numbers in
    ``class_weight="balanced"``; fitting on codes sidesteps it. ``classes_`` are the user's labels, with
    their own dtype and order (``np.unique(y)``: 1, 2, 10 stay in that order), and the columns of
    ``predict_proba`` / ``decision_function`` follow ``classes_``. Labels of mixed types, which cannot be
    sorted, are ordered by their text.
    """

    def __init__(self, pipeline=None):
        self.pipeline = pipeline

    def fit(self, X, y):
        import numpy as np

        yv = np.asarray(y)
        try:
            self.classes_, codes = np.unique(yv, return_inverse=True)
        except TypeError:  # mixed types (e.g. 1 and "a"): order by text, keep each label's first value
            classes_str, codes = np.unique(np.asarray(y, dtype=object).astype(str), return_inverse=True)
            self.classes_ = _original_labels(y, classes_str)
        self.pipeline.fit(X, np.asarray(codes).ravel())
        return self

    def _labels_of(self):
        # models saved before this fix kept string-sorted classes_ and the original labels in `_labels`
        return self.__dict__.get("_labels", self.classes_)

    def predict(self, X):
        return self._labels_of()[self.pipeline.predict(X).astype(int)]

    @available_if(lambda self: hasattr(self.pipeline, "predict_proba"))
    def predict_proba(self, X):
        return self.pipeline.predict_proba(X)

    @available_if(lambda self: hasattr(self.pipeline, "decision_function"))
    def decision_function(self, X):
        return self.pipeline.decision_function(X)

    def __sklearn_tags__(self):
        return self.pipeline.__sklearn_tags__()


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


def make_objective(X, y, task_type: str, learners: list, metric: str, cv: int = 5, random_state: int = 0,
                   interruptible: Callable[[], Any] = contextlib.nullcontext):
    """An Optuna objective: pick a learner, sample its config, return the k-fold CV score.

    ``interruptible()`` is entered around the cross-validation only (see ``_CtrlC``)."""
    from sklearn.model_selection import cross_val_score

    by_name = {lr.name: lr for lr in learners}
    names = list(by_name)
    splitter = cv_splitter(y, task_type, cv, random_state)
    scorer = scorer_name(metric, int(y.nunique()) if task_type == "classification" else None)
    if task_type == "classification":  # integer codes; see LabelEncodedClassifier
        import numpy as np

        y = np.unique(y.astype(str).to_numpy(), return_inverse=True)[1]

    def objective(trial):
        try:
            name = trial.suggest_categorical("learner", names)
            learner = by_name[name]
            config = learner.suggest(trial, prefix=True)
            trial.set_user_attr("config", json.dumps(config, sort_keys=True, default=str))
            pipe = learner.make_pipeline(config, random_state=random_state)
            t0 = time.perf_counter()
            with warnings.catch_warnings(), interruptible():
                warnings.simplefilter("ignore")  # convergence and the like: the CV score is what counts
                scores = cross_val_score(pipe, X, y, cv=splitter, scoring=scorer, error_score="raise")
        except Exception as exc:  # recorded, so "no trial finished" can name the cause
            first = (str(exc).strip().splitlines() or [""])[0]
            trial.set_user_attr("error", f"{type(exc).__name__}: {first}")
            raise
        except KeyboardInterrupt:  # Optuna records the trial as failed: not a failure of its config
            trial.set_user_attr("interrupted", True)
            raise
        trial.set_user_attr("cv_seconds", time.perf_counter() - t0)
        value = float(scores.mean())
        if not math.isfinite(value):
            trial.set_user_attr("error", f"ValueError: {name}: non-finite CV score")
            raise ValueError(f"{name}: non-finite CV score")
        return value

    return objective


def cv_splitter(y, task_type: str, cv: int, random_state: int = 0):
    """The CV splitter of the objective: stratified k-fold (fewer folds when a class has fewer rows than
    ``cv``; plain k-fold when a class has a single row) for classification, shuffled k-fold for regression."""
    from sklearn.model_selection import KFold, StratifiedKFold

    if task_type == "classification":
        min_class = _min_class(y)
        if min_class >= 2:
            return StratifiedKFold(max(2, min(cv, min_class)), shuffle=True, random_state=random_state)
    return KFold(cv, shuffle=True, random_state=random_state)


def _class_counts(y):
    counts = y.value_counts()
    return counts[counts > 0]  # a categorical target may list categories without rows


def _min_class(y) -> int:
    return int(_class_counts(y).min())


def check_classes(ds, cv: int) -> None:
    """Refuse a classification target that is mostly one-row classes; warn when a class has fewer rows than
    the CV folds (stratified k-fold cannot then put every class in every fold)."""
    counts = _class_counts(ds.y)
    n_classes, singles = len(counts), int((counts == 1).sum())
    if singles * 2 > n_classes:
        import pandas as pd

        numeric = pd.to_numeric(pd.Series(counts.index.astype(str)), errors="coerce").notna().all()
        fix = ("if it is a quantity, pass --task regression (task_type='regression')" if numeric
               else "merge or drop the rare classes, or choose another target")
        raise DataError(f"{ds.source}: target {ds.target!r} has {n_classes} classes, {singles} of them with a single "
                        f"row: cross-validation cannot score a classifier on it; {fix}")
    small = counts[counts < cv]
    if len(small):
        label, n = small.idxmin(), int(small.min())
        how = (f"tuning uses {max(2, min(cv, n))}-fold stratified CV instead of {cv}" if n >= 2
               else f"tuning uses unstratified {cv}-fold CV")
        warnings.warn(f"{ds.source}: {len(small)} of {n_classes} classes have fewer rows than the {cv} CV folds "
                      f"(class {str(label)!r}: {n}): stratified k-fold cannot place every class in every fold, so "
                      f"{how} and the scores are unreliable", MetarecWarning, stacklevel=3)


def enqueue_warm_start(study, configs: list[tuple[str, dict]]) -> list[dict]:
    """Enqueue ``(learner, config)`` pairs as the study's first trials; returns what was enqueued."""
    queued = []
    for name, config in configs:
        params = {"learner": name, **{f"{name}:{k}": v for k, v in config.items()}}
        study.enqueue_trial(params, user_attrs={"warm_start": True}, skip_if_exists=True)
        queued.append({"learner": name, "config": config})
    return queued


def data_fingerprint(ds) -> str:
    """SHA-256 of the dataset's content: column names, feature values and target values, row by row."""
    import pandas as pd

    h = hashlib.sha256()
    h.update(json.dumps([[str(c) for c in ds.X.columns], str(ds.target)]).encode())
    for part in (ds.X, ds.y):
        try:
            rows = pd.util.hash_pandas_object(part, index=False)
        except TypeError:  # unhashable cells (lists, ...): hash their text
            rows = pd.util.hash_pandas_object(part.astype(str), index=False)
        h.update(rows.to_numpy().tobytes())
    return h.hexdigest()


def default_study_name(ds, metric: str, learner_names: list[str], cv: int | None = None,
                       random_state: int | None = None, data_hash: str | None = None) -> str:
    """``metarec-<name>-<target>-<hash>``: the hash covers the data's content, task, metric, learners, CV
    folds and seed, so only the same command on the same data resumes the same study."""
    data_hash = data_hash or data_fingerprint(ds)
    key = json.dumps([ds.source, ds.target, ds.task_type, metric, sorted(learner_names), ds.n_rows, data_hash,
                      cv, random_state])
    return f"metarec-{ds.name}-{ds.target}-{hashlib.sha256(key.encode()).hexdigest()[:8]}"


#: the study user attribute that records what a study was made for (see :func:`check_study`)
SPEC_ATTR = "metarec_spec"
_SPEC_LABELS = {"data": "data", "target": "target", "task_type": "task", "metric": "metric",
                "learners": "learners", "cv": "cv folds", "random_state": "seed"}


def check_study(study, spec: dict, storage: str | None) -> list[str]:
    """Record ``spec`` in a new study, or check that a resumed one was made for the same ``spec``.

    Returns the learners in the order the study knows them (Optuna's categorical choice must not change
    order). Raises a one-line :class:`MetarecError` naming what differs; a study made by an older version
    (no recorded spec) is resumed with a warning unless its trials chose among other learners.
    """
    name = study.study_name
    where = f"study {name!r}" + (f" in {storage}" if storage else "")
    fix = "pass a new --study-name or another --storage (study_name= / storage= in Python)"
    learners = list(spec["learners"])
    recorded = study.user_attrs.get(SPEC_ATTR)
    trials = study.get_trials(deepcopy=False)
    if recorded is None and not trials:
        study.set_user_attr(SPEC_ATTR, spec)
        return learners
    if recorded is None:  # made before studies recorded their spec: only the learner choice can be checked
        for t in trials:
            dist = t.distributions.get("learner")
            if dist is not None and set(dist.choices) != set(learners):
                raise MetarecError(f"{where} was made for other learners ({','.join(map(str, dist.choices))} vs "
                                   f"{','.join(learners)} now); {fix}")
            if dist is not None:
                learners = [str(c) for c in dist.choices]
                break
        warnings.warn(f"{where} was made by an older metarec that did not record its data, metric and CV; "
                      f"resuming it unchecked (from now on it records this run's)", MetarecWarning, stacklevel=3)
        study.set_user_attr(SPEC_ATTR, {**spec, "learners": learners})
        return learners
    diffs = []
    for key, label in _SPEC_LABELS.items():
        before, now = recorded.get(key), spec.get(key)
        if key == "learners":
            if set(before or []) != set(now):
                diffs.append(f"learners {','.join(before or [])} there, {','.join(now)} now")
        elif key == "data":
            if before != now:
                diffs.append("other data: the rows or values differ")
        elif before != now:
            diffs.append(f"{label} {before} there, {now} now")
    if diffs:
        raise MetarecError(f"{where} was made for another run ({'; '.join(diffs)}); {fix}")
    return list(recorded["learners"])


def _check_int(name: str, value, minimum: int, maximum: int | None = None, optional: bool = False):
    """``value`` as an int in ``[minimum, maximum]`` (numpy integers too; not bools or floats), else one
    readable MetarecError naming the parameter."""
    import numbers

    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum or (
            maximum is not None and value > maximum):
        bound = f"an integer from {minimum} to {maximum}" if maximum is not None else f"an integer >= {minimum}"
        raise ParameterError(f"{name} must be {bound}" + (" or None" if optional else "") + f", got {value!r}")
    return int(value)


def check_tune_params(n_trials, timeout, warm_start, cv, random_state, top_k) -> int:
    """Refuse impossible tuning parameters before any work, each in one line naming the parameter; returns
    the number of warm-start configurations (``warm_start``; a bool, scikit-learn's convention for that
    name, means 0 or :data:`DEFAULT_WARM_START`)."""
    _check_int("n_trials", n_trials, 1, optional=True)
    check_seconds("timeout", timeout)
    _check_int("cv", cv, 2)
    _check_int("random_state", random_state, 0, 2**32 - 1, optional=True)
    _check_int("top_k", top_k, 1)
    if isinstance(warm_start, bool):
        return DEFAULT_WARM_START if warm_start else 0
    return _check_int("warm_start", warm_start, 0)


def _load_kb(kb):
    from .kb import KnowledgeBase, load_kb

    return kb if isinstance(kb, KnowledgeBase) else load_kb(kb)


def ranking_metric(kb, metric: str, task_type: str, chosen_by: str = "learners and warm-start configurations are") -> str:
    """The metric the recommendation ranks by: ``metric`` when the KB has runs of it on ``task_type``
    datasets, else the task's default metric (the study still optimises ``metric``)."""
    if metric == DEFAULT_METRIC[task_type]:  # nothing to fall back to: recommend reports a KB without it
        return metric
    if metric in METRICS:
        runs, ds = kb.runs, kb.datasets
        ids = ds.loc[(ds["task_type"] == task_type).to_numpy(), "dataset_id"]
        ok = (runs["metric"] == metric) & (runs["status"] == "ok") & runs["dataset_id"].isin(set(ids))
        if bool(ok.any()):
            return metric
    fallback = DEFAULT_METRIC[task_type]
    logger.info("the knowledge base has no %s runs on %s tasks", metric, task_type)
    warnings.warn(f"the knowledge base has no {metric} runs on {task_type} tasks: {chosen_by} chosen by "
                  f"{fallback}; the study optimises {metric}", MetarecWarning, stacklevel=3)
    return fallback


def _round_robin(configs: dict[str, list[dict]]) -> list[tuple[str, dict]]:
    """Each learner's first config (in the dict's order), then each one's second, ..."""
    out: list[tuple[str, dict]] = []
    for i in range(max((len(c) for c in configs.values()), default=0)):
        out.extend((name, cfgs[i]) for name, cfgs in configs.items() if i < len(cfgs))
    return out


def explicit_warm_start(ds, names: list[str], recommendation=None, *, kb: Any = None, metamodel: str = "lightgbm",
                        metric: str | None = None) -> list[tuple[str, dict]]:
    """Warm-start configs of explicitly chosen learners: the KB's suggestions for them (the recommendation
    ranks every learner the KB has runs of), each learner's default where the KB has none; learners in the
    recommendation's order, round-robin."""
    from .learners import get_learner

    rec = recommendation
    if rec is None:
        from .recommend import recommend

        try:
            kb_obj = _load_kb(kb)
            rec = recommend(ds, kb=kb_obj, metamodel=metamodel, top_k=10_000,
                            metric=ranking_metric(kb_obj, metric or DEFAULT_METRIC[ds.task_type], ds.task_type,
                                                  "warm-start configurations are"))
        except MetarecError as exc:
            logger.warning("no knowledge-base configurations for the warm start (%s); using the learners' defaults",
                           exc)
            rec = None
    ranked = [r for r in rec.learners if r.learner in names] if rec is not None else []
    configs = {r.learner: [dict(c) for c in r.configs] for r in ranked if r.configs}
    for name in names:
        if not configs.get(name):
            configs[name] = [dict(get_learner(name).default_config)]
    return _round_robin(configs)


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
    on_start: Callable[[Any, int | None], None] | None = None,
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
        nearest KB tasks each learner was tuned on, or the learners' defaults) before TPE takes over; at
        most ``n_trials``, and only into a new study. 0 (or ``False``) = cold start; ``True`` = 5.
    storage : str or None
        Optuna storage URL; ``None`` keeps the study in memory.
    study_name : str, optional
        Default: derived from the dataset (its content), target, metric, learners, CV folds and seed, so the
        same command resumes. A study records what it was made for; resuming it for other data, task,
        metric, learners, folds or seed is refused.
    out : path, optional
        Save the best pipeline, refit on all data (joblib) with a JSON sidecar (learner, config, score).
    report : path, optional
        Directory for the optimization-history plot (optuna's matplotlib visualisation) and a JSON summary.
    on_start : callable, optional
        Called as ``on_start(study, trials_to_run)`` once every check has passed, just before the first
        trial (``trials_to_run`` is None with only a timeout, 0 when a resumed study is complete): where a
        caller starts a progress display.
    """
    import optuna

    from .data import load_dataset
    from .learners import get_learner
    from .recommend import _target_or_y

    warm_start = check_tune_params(n_trials, timeout, warm_start, cv, random_state, top_k)
    target, y = _target_or_y(target, y)  # tune(X, y) as in scikit-learn
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
    # warnings of the checks below wait until every check has passed: a refused run is its one error line
    with warnings.catch_warnings(record=True) as early:
        warnings.simplefilter("always")
        n_classes = int(_class_counts(ds.y).size) if ds.task_type == "classification" else None
        if ds.task_type == "classification":
            check_classes(ds, cv)
        proba = needs_probabilities(metric, n_classes)
        why_proba = f"metric {metric!r} needs predicted probabilities" + (
            f" on a {n_classes}-class target" if metric == "auc" else "")
        warm: list[tuple[str, dict]] | None = None
        if learners == "auto" or learners is None:
            from .recommend import recommend

            rec = recommendation
            if rec is None:
                kb_obj = _load_kb(kb)
                rec = recommend(ds, kb=kb_obj, metamodel=metamodel, metric=ranking_metric(kb_obj, metric, ds.task_type),
                                top_k=top_k + 10 if proba else top_k)
            # learners ranked from the KB whose plugin is not installed here cannot be tuned: skip them
            chosen, without = [], []
            for name in (r.learner for r in rec.learners if r.installed):
                if len(chosen) == top_k:
                    break
                (without if proba and not has_probabilities(get_learner(name)) else chosen).append(name)
            if without:
                warnings.warn(f"{why_proba}; skipped the recommended learners without predict_proba: "
                              f"{', '.join(without)}", MetarecWarning, stacklevel=2)
            if not chosen:
                raise MetarecError("the recommendation holds no learner with KB evidence"
                                   + (" that predicts probabilities" if proba else "") + "; pass --learners a,b (learners=[...] in Python)")
            warm = [(n, c) for n, c in rec.warm_start_configs(len(rec.learners) * 10) if n in chosen]
        else:
            names = [x.strip() for x in learners.split(",")] if isinstance(learners, str) else [str(x) for x in learners]
            chosen = list(dict.fromkeys(n for n in names if n))
            # a learners= the data cannot use is a parameter error: a ValueError too, as in scikit-learn
            if not chosen:
                raise ParameterError("no learner given; pass --learners a,b or 'auto' (learners=... in Python)")
            for name in chosen:
                try:
                    lr = get_learner(name)
                except PluginError as exc:  # unknown learner, with its did-you-mean
                    raise ParameterError(str(exc)) from None
                if ds.task_type not in lr.task_types:
                    raise ParameterError(f"learner {name!r} does not do {ds.task_type}; see `metarec learners --task {ds.task_type}`")
                if proba and not has_probabilities(lr):
                    raise ParameterError(f"learner {name!r} has no predict_proba and {why_proba}; choose other learners "
                                         f"or another --metric (metric=; e.g. accuracy)")
        data_hash = data_fingerprint(ds)
        spec = {"data": data_hash, "target": str(ds.target), "task_type": ds.task_type, "metric": metric,
                "learners": list(chosen), "cv": int(cv), "random_state": None if random_state is None else int(random_state)}
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        study_name = study_name or default_study_name(ds, metric, chosen, spec["cv"], spec["random_state"], data_hash)
        try:
            study = optuna.create_study(study_name=study_name, storage=storage, direction="maximize",
                                        sampler=optuna.samplers.TPESampler(seed=random_state), load_if_exists=True)
        except Exception as exc:
            from .kb.build import storage_error  # one line: first line only, a missing driver named

            raise MetarecError(storage_error(str(storage), exc)) from None
        chosen = check_study(study, spec, storage)  # refuses a study made for another run, before any trial
    for w in early:
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    existing = study.get_trials(deepcopy=False)
    cut = _cut_numbers(study)
    finished = sum(_counts(t, cut) for t in existing)
    remaining = None if n_trials is None else max(0, n_trials - finished)
    queued: list[dict] = []
    if not existing and warm_start and remaining != 0:  # a resumed study was warm-started when it was new
        if warm is None:
            warm = explicit_warm_start(ds, chosen, recommendation, kb=kb, metamodel=metamodel, metric=metric)
        cap = warm_start if remaining is None else min(warm_start, remaining)
        queued = enqueue_warm_start(study, warm[:cap])
    n_warm = sum(bool(t.user_attrs.get("warm_start")) for t in study.get_trials(deepcopy=False))
    study.sampler = optuna.samplers.TPESampler(seed=random_state, n_startup_trials=max(5, n_warm))
    learner_objs = [get_learner(n) for n in chosen]
    ctrl_c = _CtrlC()
    objective = make_objective(ds.X, ds.y, ds.task_type, learner_objs, metric, cv, random_state,
                               interruptible=ctrl_c.interruptible)
    if remaining == 0:
        warnings.warn(f"study {study_name!r} already has {finished} finished trials (n_trials={n_trials}): nothing "
                      f"left to run; using its best trial (raise --trials / n_trials to run more)", MetarecWarning, stacklevel=2)
    # what loading decided (task type, dropped rows, ...), once every check has passed: a user error stays
    # its one line
    for note in ds.warnings:
        warnings.warn(note, MetarecWarning, stacklevel=2)
    if on_start is not None:
        on_start(study, remaining)
    failed_before = sum(_failed(t, cut) for t in existing)
    if remaining is None or remaining > 0:
        # failed trials are summarised below in one line; -v (INFO logging) keeps Optuna's own lines
        quiet = not logger.isEnabledFor(logging.INFO)
        if quiet:
            optuna.logging.set_verbosity(optuna.logging.ERROR)
        try:
            with ctrl_c:
                study.optimize(objective, n_trials=remaining, timeout=timeout, catch=(Exception,),
                               callbacks=[*(callbacks or []), ctrl_c.callback])
                ctrl_c.check()
        except KeyboardInterrupt:
            _requeue_interrupted(study, since=len(existing))
            raise
        finally:
            if quiet:
                optuna.logging.set_verbosity(optuna.logging.WARNING)
    trials = study.get_trials(deepcopy=False)
    failed_all = [t for t in trials if _failed(t, cut)]
    n_failed, n_ran = len(failed_all) - failed_before, sum(_counts(t, cut) for t in trials) - finished
    if not queued:  # a resumed study: its warm start is what it began with
        queued = [{"learner": t.params.get("learner"), "config": json.loads(t.user_attrs.get("config", "{}"))}
                  for t in trials if t.user_attrs.get("warm_start") and t.state.is_finished()
                  and not _is_cut(t, cut)]
    try:
        best = study.best_trial
    except ValueError:
        reason = next((t.user_attrs["error"] for t in failed_all if t.user_attrs.get("error")), "")
        if failed_all:
            raise MetarecError(f"no trial finished: all {len(failed_all)} trials failed (first error: "
                               f"{reason[:200] or 'unknown'}); fix that cause, e.g. with other --learners or "
                               f"another --metric (learners= / metric= in Python)") from None
        raise MetarecError("no trial finished: the time budget was too short; raise --timeout or --trials (timeout= / n_trials= in Python)") from None
    if n_failed > 0:
        reason = next((t.user_attrs["error"] for t in failed_all[failed_before:] if t.user_attrs.get("error")), "")
        warnings.warn(f"{n_failed} of {n_ran} trials failed" + (f" (first error: {reason[:200]})" if reason else ""),
                      MetarecWarning, stacklevel=2)
    best_learner = best.params["learner"]
    prefix = best_learner + ":"
    best_config = {k[len(prefix):]: v for k, v in best.params.items() if k.startswith(prefix)}
    if "config" in best.user_attrs:
        best_config = json.loads(best.user_attrs["config"])
    # the refit model starts with the typing that loading applied (dates, numbers stored as text, ...), so it
    # predicts on raw rows (pd.read_csv of the training file, the DataFrame given to fit); it is idempotent
    # on ds.X, which is already typed
    pipeline = get_learner(best_learner).make_pipeline(best_config, random_state=random_state,
                                                       typer=ds.column_typer())
    if ds.task_type == "classification":
        pipeline = LabelEncodedClassifier(pipeline)
    with warnings.catch_warnings():  # convergence warnings of the refit, as in the trials
        warnings.simplefilter("ignore")
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
    inner = getattr(result.best_pipeline, "pipeline", result.best_pipeline)  # inside LabelEncodedClassifier
    steps = getattr(inner, "steps", None) or [("", None)]
    if steps[0][0] == "types" and hasattr(steps[0][1], "kinds_"):
        # what predict expects: these columns, raw as in the training file (the model types them itself)
        meta["input_columns"] = {str(c): k for c, k in steps[0][1].kinds_.items()}
        if result.task_type == "classification" and hasattr(result.best_pipeline, "classes_"):
            meta["classes"] = [c.item() if hasattr(c, "item") else c for c in result.best_pipeline.classes_]
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
        seed = 0 if self.random_state is None else _check_int("random_state", self.random_state, 0, 2**32 - 1)
        n_trials = self.n_trials if self.n_trials is not None else (None if self.time_budget else 50)
        result = tune(frame, y=yv, task_type=self._task_type, learners=self.learners,
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
        Seconds for tuning (the recommendation itself takes a few seconds more).
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
