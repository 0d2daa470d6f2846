"""The objective of a study: pick a learner, sample its configuration, score it by cross-validation."""

from __future__ import annotations

import contextlib
import json
import math
import time
import warnings
from typing import Any, Callable

from ..exceptions import DataError, MetarecWarning
from ..kb.evaluation import class_counts, cv_splitter
from ..metrics import scorer_name
from .forked import CAN_FORK, BudgetEnded, FoldError, run_forked

__all__ = ["check_classes", "class_counts", "cross_validate", "cv_splitter", "has_probabilities", "make_objective"]


#: Up to this many rows, each CV fit runs with one OpenMP / BLAS thread.
SMALL_ROWS = 5000


def make_objective(X, y, task_type: str, learners: list, metric: str, cv: int = 5, random_state: int = 0,
                   interruptible: Callable[[], Any] = contextlib.nullcontext,
                   deferred: Callable[[], Any] = contextlib.nullcontext,
                   deadline: Callable[[], float] | None = None, trial_share: float = 1.0,
                   prune: bool = False):
    """An Optuna objective: pick a learner, sample its config, return the k-fold CV score.

    The folds are fitted one after the other (the splits, scorer and fits of scikit-learn's
    ``cross_val_score``). With ``deadline`` (returning a ``time.perf_counter()`` value) a trial still running then,
    or after ``trial_share`` of the time left when it started, is cut and recorded as pruned (``user_attr``
    ``cut_by_budget``): each fold runs in a forked child killed at that moment (Linux; elsewhere the check is
    between folds, see :mod:`metarec.tuning.forked`); with ``prune`` the
    running mean after each fold is reported to the study's pruner, which may stop a hopeless
    configuration early. ``interruptible()`` is entered around the cross-validation only, ``deferred()``
    around the storage writes inside it (see :class:`metarec.tuning.interrupt.CtrlC`)."""
    import numpy as np
    import optuna
    from sklearn.metrics import get_scorer

    from threadpoolctl import threadpool_limits

    # OpenMP / BLAS threads cost more than they save on small data, and oversubscribe the cores of a busy
    # machine (HistGradientBoosting: 69 s instead of 5 s for one configuration): one thread per fit there
    # (a new limit per trial: threadpool_limits applies when made, and restores when its block ends)
    threads = (lambda: threadpool_limits(limits=1)) if len(y) <= SMALL_ROWS else contextlib.nullcontext
    by_name = {lr.name: lr for lr in learners}
    names = list(by_name)
    splitter = cv_splitter(y, task_type, cv, random_state)
    scorer = scorer_name(metric, int(y.nunique()) if task_type == "classification" else None)
    if task_type == "classification":  # integer codes; see LabelEncodedClassifier
        y = np.unique(y.astype(str).to_numpy(), return_inverse=True)[1]
    folds = list(splitter.split(X, y))
    score = get_scorer(scorer)

    def objective(trial):
        try:
            name = trial.suggest_categorical("learner", names)
            learner = by_name[name]
            config = learner.suggest(trial, prefix=True)
            if trial.user_attrs.get("warm_config"):  # a warm-start configuration runs as given (enqueue_warm_start)
                config.update(json.loads(trial.user_attrs["warm_config"]))
            trial.set_user_attr("config", json.dumps(config, sort_keys=True, default=str))
            pipe = learner.make_pipeline(config, random_state=random_state)
            t0 = time.perf_counter()
            step = [0]
            # this trial's end: the budget's, or sooner, so that one slow configuration leaves time for others
            cut_at = None if deadline is None else t0 + trial_share * (deadline() - t0)

            def before_fold(k: int, scores: list) -> None:
                step[0] = k
                if prune and k:  # the running mean so far, to the study's pruner
                    with deferred():
                        trial.report(float(np.mean(scores)), k - 1)
                        hopeless = trial.should_prune()
                    if hopeless:
                        raise optuna.TrialPruned(f"pruned after {k} of {len(folds)} folds")
                if cut_at is not None and time.perf_counter() >= cut_at:
                    with deferred():
                        trial.set_user_attr("cut_by_budget", True)
                        if k:  # what the whole trial would take, from its folds so far
                            trial.set_user_attr("needs_seconds", (time.perf_counter() - t0) * len(folds) / k)
                    raise optuna.TrialPruned(f"the time budget ended after {k} of {len(folds)} folds")

            def in_child(fn):  # a fold the budget's end can cut (see metarec.tuning.forked)
                try:
                    return run_forked(fn, cut_at - time.perf_counter())
                except BudgetEnded:
                    with deferred():
                        trial.set_user_attr("cut_by_budget", True)
                        # at least: this fold (step[0] done before it) took as long as the others so far
                        trial.set_user_attr("needs_seconds", (time.perf_counter() - t0) * len(folds) / (step[0] + 1))
                    raise optuna.TrialPruned("the time budget ended during a fold") from None

            with warnings.catch_warnings(), interruptible(), threads():
                warnings.simplefilter("ignore")  # convergence and the like: the CV score is what counts
                scores = cross_validate(pipe, X, y, folds, score, before_fold,
                                        run_fold=in_child if deadline is not None and CAN_FORK else None)
        except optuna.TrialPruned:
            raise
        except Exception as exc:  # recorded, so "no trial finished" can name the cause
            first = (str(exc).strip().splitlines() or [""])[0]
            trial.set_user_attr("error", first if isinstance(exc, FoldError) else f"{type(exc).__name__}: {first}")
            raise
        except KeyboardInterrupt:  # Optuna records the trial as failed: not a failure of its config
            trial.set_user_attr("interrupted", True)
            raise
        trial.set_user_attr("cv_seconds", time.perf_counter() - t0)
        value = float(np.mean(scores))
        if not math.isfinite(value):
            trial.set_user_attr("error", f"ValueError: {name}: non-finite CV score")
            raise ValueError(f"{name}: non-finite CV score")
        return value

    return objective


def cross_validate(pipe, X, y, folds, score, before_fold: Callable[[int, list], None] | None = None,
                   run_fold: Callable[[Callable[[], float]], float] | None = None) -> list:
    """Fit a clone of ``pipe`` on each (train, test) fold in turn and score it (what scikit-learn's
    ``cross_val_score`` does without ``n_jobs``); ``before_fold(step, scores_so_far)`` runs before each fold
    and may stop the rest by raising; ``run_fold(fn)`` runs a fold's fit and score (``fn()``), e.g. in a
    child process."""
    from sklearn.base import clone
    from sklearn.utils import _safe_indexing

    scores: list = []
    for step, (train, test) in enumerate(folds):
        if before_fold is not None:
            before_fold(step, scores)

        def fold(train=train, test=test):
            fitted = clone(pipe).fit(_safe_indexing(X, train), _safe_indexing(y, train))
            return score(fitted, _safe_indexing(X, test), _safe_indexing(y, test))

        scores.append(fold() if run_fold is None else run_fold(fold))
    return scores


def check_classes(ds, cv: int) -> None:
    """Refuse a classification target that is mostly one-row classes; warn when a class has fewer rows than
    the CV folds (stratified k-fold cannot then put every class in every fold)."""
    counts = class_counts(ds.y)
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
                      f"{how} and the scores are unreliable", MetarecWarning, stacklevel=4)


def has_probabilities(learner) -> bool:
    """Whether the learner's default pipeline offers ``predict_proba`` (checked without fitting)."""
    try:
        return hasattr(learner.make_pipeline(dict(learner.default_config)), "predict_proba")
    except Exception:  # a pipeline that cannot even be built is reported by the trials themselves
        return True
