"""``tune()``: a warm-started, budgeted Optuna study over the recommended learners, and what it returns.

The study's search space is conditional: ``learner`` is a categorical choice and each learner's
parameters are namespaced ``"<learner>:<param>"``. Before TPE takes over, the K best suggested
configurations of the recommendation are enqueued (``study.enqueue_trial``), so tuning starts from what
worked on similar datasets. A study lives in an Optuna storage (in memory by default; ``metarec tune``
keeps it in SQLite), so a stopped run on a persistent storage is resumed by the same call and
``optuna-dashboard`` can open it.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import numbers
import time
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable

from ..exceptions import DataError, MetarecError, MetarecWarning, ParameterError, PluginError, check_seconds
from ..metrics import check_metric, needs_probabilities
from . import interrupt
from .budget import BudgetGuard, affordable, refit_within
from .forked import CAN_FORK
from .objective import check_classes, class_counts, has_probabilities, make_objective
from .refit import best_of, refit
from .study import check_study, default_study_name, open_study, study_spec
from .warmstart import (STARTUP_TRIALS, enqueue_warm_start, explicit_warm_start, load_kb, ranking_metric,
                        warm_sampler)

logger = logging.getLogger(__name__)

#: Suggested configurations enqueued before TPE takes over, by default
DEFAULT_WARM_START = 5
#: Under a time budget, a trial is cut after this share of the time left when it started (a slow
#: configuration leaves time for the others)
TRIAL_SHARE = 0.5
#: Fewer rows than this cannot be cross-validated meaningfully: tuning refuses them (recommend does not).
MIN_TUNE_ROWS = 10


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
        """The run in JSON-ready form (what ``--report`` writes as ``summary.json``)."""
        import optuna

        trials = self.study.get_trials(deepcopy=False)
        cut = interrupt.cut_numbers(self.study)
        complete = [t for t in trials if t.state == optuna.trial.TrialState.COMPLETE]
        best_so_far, best = [], -math.inf
        for t in complete:
            best = max(best, t.value)
            best_so_far.append(best)
        per_learner: dict[str, int] = {}
        for t in complete:
            per_learner[t.params.get("learner")] = per_learner.get(t.params.get("learner"), 0) + 1
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
            "n_failed": sum(interrupt.failed(t, cut) for t in trials),
            # stopped early by the pruner or cut when the time budget ended
            "n_pruned": sum(t.state == optuna.trial.TrialState.PRUNED for t in trials),
            "n_interrupted": sum(interrupt.is_cut(t, cut) for t in trials),
            "warm_start": self.warm_start_configs,
            "best_so_far": best_so_far,
            "trials_per_learner": per_learner,
        }


def check_int(name: str, value, minimum: int, maximum: int | None = None, optional: bool = False):
    """``value`` as an int in ``[minimum, maximum]`` (numpy integers too; not bools or floats), else one
    readable ParameterError naming the parameter."""
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
    check_int("n_trials", n_trials, 1, optional=True)
    check_seconds("timeout", timeout)
    check_int("cv", cv, 2)
    check_int("random_state", random_state, 0, 2**32 - 1, optional=True)
    check_int("top_k", top_k, 1)
    if isinstance(warm_start, bool):
        return DEFAULT_WARM_START if warm_start else 0
    return check_int("warm_start", warm_start, 0)


@contextlib.contextmanager
def optuna_verbosity(level: int):
    """Optuna's log verbosity at ``level`` inside the block, and what it was again after it."""
    import optuna

    before = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(level)
    try:
        yield
    finally:
        optuna.logging.set_verbosity(before)


def tune(
    data: Any,
    target: str | None = None,
    *,
    y: Any = None,
    learners: str | list[str] = "auto",
    n_trials: int | None = 50,
    timeout: float | None = None,
    time_budget: float | None = None,
    warm_start: int = DEFAULT_WARM_START,
    storage: str | None = None,
    study_name: str | None = None,
    metric: str | None = None,
    cv: int = 5,
    random_state: int = 0,
    top_k: int = 3,
    kb: Any = None,
    metamodel: str = "lightgbm",
    task_type: str | None = None,
    callbacks: list[Callable] | None = None,
    recommendation: Any = None,
    on_start: Callable[[Any, int | None], None] | None = None,
    show_progress_bar: bool = False,
) -> TuneResult:
    """Tune the recommended learners on ``data`` with a warm-started Optuna study.

    Parameters
    ----------
    data, target, y, task_type
        The dataset, as for :func:`metarec.data.load_dataset` (``tune(X, y)`` as in scikit-learn).
    learners : "auto" or list of str
        ``"auto"``: ``top_k`` learners of :func:`metarec.recommend`, the top pick and those that best
        complement it on the nearest KB tasks (:meth:`~metarec.recommend.Recommendation.portfolio`); under a
        ``time_budget``, learners predicted to fit in over ``time_budget / (5 cv)`` seconds rank last. Or
        explicit learner names.
    n_trials, timeout
        Stop after this many trials in the study (counting earlier runs of a resumed study) or seconds.
    time_budget : float, optional
        Seconds for the whole call: choosing the learners, the trials and the final refit. No trial starts
        that the budget cannot see finished, with the refit of the best configuration after it (both
        predicted from this run's trials); a budget spent before the first trial is one error saying how
        long choosing the learners took.
    warm_start : int
        Enqueue the first K suggested configurations (a portfolio of configs that did well across the
        nearest KB tasks each learner was searched on, or the learners' defaults) before TPE takes over; at
        most ``n_trials``, and only into a new study. 0 (or ``False``) = cold start; ``True`` = 5.
    storage : str or None
        Optuna storage URL (e.g. ``"sqlite:///metarec-tune.db"``, the CLI's default), where a stopped run
        resumes; ``None`` (default) keeps the study in memory.
    study_name : str, optional
        Default: derived from the dataset (its content), target, metric, learners, CV folds and seed, so the
        same call resumes. A study records what it was made for; resuming it for other data, task,
        metric, learners, folds or seed is refused.
    metric, cv, random_state
        The metric the study maximises (default: the task's, see :mod:`metarec.metrics`), the CV folds
        that score a trial, and the seed of the sampler, the splits and the learners.
    top_k, kb, metamodel, recommendation
        How ``learners="auto"`` is recommended (or the :class:`~metarec.recommend.Recommendation` to use).
    callbacks : list of callable, optional
        Optuna callbacks ``callback(study, trial)`` after every trial.
    on_start : callable, optional
        Called as ``on_start(study, trials_to_run)`` once every check has passed, just before the first
        trial (``trials_to_run`` is None with only a timeout, 0 when a resumed study is complete): where a
        caller starts a progress display.
    show_progress_bar : bool
        Optuna's progress bar (as ``study.optimize``).

    Returns
    -------
    TuneResult
        The study and its best learner, configuration, CV score and pipeline refit on all the data. Save
        them with :func:`metarec.tuning.save_model` / :func:`metarec.tuning.write_report`.
    """
    import optuna

    from ..data import load_dataset
    from ..recommend import _target_or_y

    started = time.perf_counter()
    warm_start = check_tune_params(n_trials, timeout, warm_start, cv, random_state, top_k)
    check_seconds("time_budget", time_budget)
    target, y = _target_or_y(target, y)  # tune(X, y) as in scikit-learn
    ds = load_dataset(data, target=target, y=y, task_type=task_type)
    metric = check_metric(metric, ds.task_type)
    _check_rows(ds)
    with optuna_verbosity(optuna.logging.WARNING):
        # warnings of the checks wait until every check has passed: a refused run is its one error line
        with warnings.catch_warnings(record=True) as early:
            warnings.simplefilter("always")
            chosen, warm = _choose_learners(ds, learners, metric, cv, top_k, kb, metamodel, recommendation,
                                            time_budget)
            spec = study_spec(ds, metric, chosen, cv, random_state)
            study_name = study_name or default_study_name(ds, metric, chosen, spec["cv"], spec["random_state"],
                                                          spec["data"])
            study = open_study(study_name, storage, random_state)
            chosen = check_study(study, spec, storage)  # refuses a study made for another run, before any trial
        for w in early:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
        existing = study.get_trials(deepcopy=False)
        cut = interrupt.cut_numbers(study)
        finished = sum(interrupt.counts(t, cut) for t in existing)
        remaining = None if n_trials is None else max(0, n_trials - finished)
        queued: list[dict] = []
        if not existing and warm_start and remaining != 0:  # a resumed study was warm-started when it was new
            if warm is None:
                warm = explicit_warm_start(ds, chosen, recommendation, kb=kb, metamodel=metamodel, metric=metric)
            queued = enqueue_warm_start(study, warm[:warm_start if remaining is None else min(warm_start, remaining)])
        n_warm = sum(bool(t.user_attrs.get("warm_start")) for t in study.get_trials(deepcopy=False))
        study.sampler = warm_sampler(random_state, n_warm)
        if remaining == 0:
            warnings.warn(f"study {study_name!r} already has {finished} finished trials (n_trials={n_trials}): "
                          f"nothing left to run; using its best trial (raise --trials / n_trials to run more)",
                          MetarecWarning, stacklevel=2)
        # what loading decided (task type, dropped rows, ...), once every check has passed: a user error stays
        # its one line
        for note in ds.warnings:
            warnings.warn(note, MetarecWarning, stacklevel=2)
        if time_budget is not None and (remaining is None or remaining > 0):
            deadline = started + time_budget
            left = deadline - time.perf_counter()
            if left <= 0:
                raise MetarecError(f"the time budget of {time_budget:g} s was spent before the first trial "
                                   f"(loading the data and choosing the learners took "
                                   f"{time.perf_counter() - started:.1f} s); raise --time-budget "
                                   f"(time_budget= in Python)")
            timeout = left if timeout is None else min(timeout, left)
            from ..learners import get_learner

            calibrated = frozenset() if ds.task_type != "classification" else frozenset(
                n for n in chosen if not has_probabilities(get_learner(n)))
            guard = BudgetGuard(deadline, cv, since=len(existing), calibrated=calibrated, budget=time_budget)
            callbacks = [*(callbacks or []), guard]
            # a configuration trailing the others' running CV mean stops early (the warm start runs in full)
            study.pruner = optuna.pruners.MedianPruner(n_startup_trials=max(STARTUP_TRIALS, n_warm), n_warmup_steps=0)
        else:
            guard = None
        if on_start is not None:
            on_start(study, remaining)
        if remaining is None or remaining > 0:
            _optimize(study, ds, chosen, metric, cv, random_state, remaining, timeout, callbacks, show_progress_bar,
                      since=len(existing), guard=guard)
    trials = study.get_trials(deepcopy=False)
    best = _best_trial(study, trials, existing, cut, finished, time_budget)
    if not queued:  # a resumed study: its warm start is what it began with
        queued = [{"learner": t.params.get("learner"), "config": json.loads(t.user_attrs.get("config", "{}"))}
                  for t in trials if t.user_attrs.get("warm_start") and t.state.is_finished()
                  and not interrupt.is_cut(t, cut)]
    best = affordable(best, study, guard)
    if time_budget is not None and CAN_FORK:
        best, pipeline = refit_within(ds, study, best, started + time_budget, time_budget, random_state)
        best_learner, best_config = best_of(best)
    else:
        best_learner, best_config = best_of(best)
        pipeline = refit(ds, best_learner, best_config, random_state)
    return TuneResult(study, best_learner, best_config, float(best.value), pipeline, metric, ds.task_type,
                      len(study.trials), queued, storage)


def _check_rows(ds) -> None:
    if ds.n_features == 0:
        raise DataError(f"{ds.source}: no feature column besides the target {ds.target!r}; a model needs at least one")
    if ds.n_rows < MIN_TUNE_ROWS:
        raise DataError(f"{ds.source}: only {ds.n_rows} rows, too few to cross-validate; tuning needs at least "
                        f"{MIN_TUNE_ROWS} (add rows; `metarec recommend` works on fewer)")


def _choose_learners(ds, learners, metric, cv, top_k, kb, metamodel, recommendation, time_budget=None):
    """The learners to tune, and (for ``"auto"``) the recommendation's warm-start configurations of them."""
    from ..learners import get_learner

    n_classes = int(class_counts(ds.y).size) if ds.task_type == "classification" else None
    if ds.task_type == "classification":
        check_classes(ds, cv)
    proba = needs_probabilities(metric, n_classes)
    why_proba = f"metric {metric!r} needs predicted probabilities" + (
        f" on a {n_classes}-class target" if metric == "auc" else "")
    if learners == "auto" or learners is None:
        from ..recommend import recommend

        rec = recommendation
        if rec is None:
            kb_obj = load_kb(kb)
            # under a time budget, a learner whose predicted fit takes more than a fifth of the budget's
            # share per CV fold (fewer than 5 trials) is ranked after those that fit it
            per_fit = None if time_budget is None else time_budget / (5 * cv)
            rec = recommend(ds, kb=kb_obj, metamodel=metamodel, metric=ranking_metric(kb_obj, metric, ds.task_type),
                            top_k=2 * top_k + (10 if proba else 0), time_budget=per_fit)
        # learners ranked from the KB whose plugin is not installed here cannot be tuned: skip them
        allowed, without = [], []
        for name in (r.learner for r in rec.learners if r.installed):
            (without if proba and not has_probabilities(get_learner(name)) else allowed).append(name)
        # the top pick and the learners that best complement it on the nearest KB tasks
        chosen = rec.portfolio(top_k, candidates=allowed)
        rank = {r.learner: i for i, r in enumerate(rec.learners)}
        last = max((rank[n] for n in chosen), default=-1)
        without = [n for n in without if rank[n] < last]  # those passed over on the way to the chosen
        if without:
            warnings.warn(f"{why_proba}; skipped the recommended learners without predict_proba: "
                          f"{', '.join(without)}", MetarecWarning, stacklevel=3)
        if not chosen:
            raise MetarecError("the recommendation holds no learner with KB evidence"
                               + (" that predicts probabilities" if proba else "")
                               + "; pass --learners a,b (learners=[...] in Python)")
        return chosen, [(n, c) for n, c in rec.warm_start_configs(len(rec.learners) * 10) if n in chosen]
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
    return chosen, None


def _optimize(study, ds, chosen, metric, cv, random_state, remaining, timeout, callbacks, show_progress_bar, since,
              guard=None):
    """Run the trials; Ctrl-C keeps the study resumable (see :class:`~metarec.tuning.interrupt.CtrlC`): the
    trials numbered ``since`` or later that it cut are recorded and their warm-start configurations queued again."""
    import optuna

    from ..learners import get_learner

    ctrl_c = interrupt.CtrlC()
    objective = make_objective(ds.X, ds.y, ds.task_type, [get_learner(n) for n in chosen], metric, cv, random_state,
                               interruptible=ctrl_c.interruptible, deferred=ctrl_c.deferred,
                               deadline=guard and guard.cut_time,
                               trial_share=TRIAL_SHARE if guard is not None else 1.0, prune=guard is not None)
    # failed trials are summarised afterwards in one line; -v (INFO logging) keeps Optuna's own lines
    quiet = not logger.isEnabledFor(logging.INFO)
    with optuna_verbosity(optuna.logging.ERROR if quiet else optuna.logging.WARNING):
        try:
            with ctrl_c:
                study.optimize(objective, n_trials=remaining, timeout=timeout, catch=(Exception,),
                               callbacks=[*(callbacks or []), ctrl_c.callback], show_progress_bar=show_progress_bar)
                ctrl_c.check()
        except KeyboardInterrupt:
            interrupt.requeue_interrupted(study, since=since)
            raise


def _best_trial(study, trials, existing, cut, finished, time_budget=None):
    """The study's best trial; no finished trial is one MetarecError line naming the first error; failures of
    this run are summarised in one warning."""
    failed_all = [t for t in trials if interrupt.failed(t, cut)]
    failed_before = sum(interrupt.failed(t, cut) for t in existing)
    n_failed = len(failed_all) - failed_before
    n_ran = sum(interrupt.counts(t, cut) for t in trials) - finished
    try:
        best = study.best_trial
    except ValueError:
        reason = next((t.user_attrs["error"] for t in failed_all if t.user_attrs.get("error")), "")
        cut_by_budget = [t for t in trials[len(existing):] if t.user_attrs.get("cut_by_budget")]
        if failed_all and not cut_by_budget:
            raise MetarecError(f"no trial finished: all {len(failed_all)} trials failed (first error: "
                               f"{reason[:200] or 'unknown'}); fix that cause, e.g. with other --learners or "
                               f"another --metric (learners= / metric= in Python)") from None
        if time_budget is not None:
            need = next((t.user_attrs["needs_seconds"] for t in cut_by_budget if t.user_attrs.get("needs_seconds")),
                        None)
            more = f": its first trial alone needs about {need:.0f} s" if need else ""
            also = f" ({len(failed_all)} trials failed, first error: {reason[:200]})" if failed_all else ""
            raise MetarecError(f"no trial finished within the time budget of {time_budget:g} s{more}{also}; raise "
                               f"--time-budget (time_budget= in Python)") from None
        raise MetarecError("no trial finished: the time budget was too short; raise --timeout or --trials "
                           "(timeout= / n_trials= in Python)") from None
    if n_failed > 0:
        reason = next((t.user_attrs["error"] for t in failed_all[failed_before:] if t.user_attrs.get("error")), "")
        warnings.warn(f"{n_failed} of {n_ran} trials failed" + (f" (first error: {reason[:200]})" if reason else ""),
                      MetarecWarning, stacklevel=3)
    return best

