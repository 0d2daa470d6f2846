"""Cross-validated evaluation of one learner config, with a hard time limit (a forked child process)."""

from __future__ import annotations

import gc
import json
import os
import select
import signal
import time
import warnings
from dataclasses import dataclass
from typing import Any

from ..metrics import DEFAULT_METRIC, get_metric

#: what a build scores on each task (the default metric first)
SCORED_METRICS = {"classification": ("accuracy", "balanced_accuracy", "auc", "logloss"),
                  "regression": ("r2", "neg_rmse")}


@dataclass
class CVResult:
    """Scores (mean and std over folds) per metric, mean fit seconds, and status ok/failed/timeout."""

    scores: dict[str, float]
    stds: dict[str, float]
    fit_time: float
    status: str
    error: str = ""
    n_folds: int = 0
    train_size: float = float("nan")


def subsample(ds, max_rows: int | None, seed: int = 0):
    """``(X, y)`` with at most ``max_rows`` rows, stratified for classification, fixed seed."""
    X, y = ds.X, ds.y
    if max_rows is None or len(X) <= max_rows:
        return X, y
    from sklearn.model_selection import train_test_split

    strat = y if ds.task_type == "classification" and y.value_counts().min() >= 2 else None
    Xs, _, ys, _ = train_test_split(X, y, train_size=max_rows, random_state=seed, stratify=strat)
    return Xs.reset_index(drop=True), ys.reset_index(drop=True)


def cv_splitter(y, task_type: str, cv: int, random_state: int = 0):
    """The CV splitter of every score metarec records or optimises (``kb build`` and ``tune``): stratified
    k-fold (fewer folds when a class has fewer rows than ``cv``; plain k-fold when a class has a single row)
    for classification, shuffled k-fold for regression."""
    from sklearn.model_selection import KFold, StratifiedKFold

    if task_type == "classification":
        min_class = int(class_counts(y).min())
        if min_class >= 2:
            return StratifiedKFold(max(2, min(cv, min_class)), shuffle=True, random_state=random_state)
    return KFold(cv, shuffle=True, random_state=random_state)


def class_counts(y):
    """Rows per class of the target (classes without rows left out)."""
    import pandas as pd

    counts = pd.Series(y).value_counts()
    return counts[counts > 0]  # a categorical target may list categories without rows


def cross_validate_config(learner, config: dict, X, y, task_type: str, cv: int = 3, seed: int = 0) -> CVResult:
    """k-fold CV of ``learner`` with ``config`` (:func:`cv_splitter`'s folds, the scorers of
    :mod:`metarec.metrics`, as ``tune`` scores a trial), on every metric of the task.

    The task's default metric decides the status: a configuration that cannot be scored on it failed. A
    metric the learner cannot give (log loss without ``predict_proba``) is NaN for that configuration.
    Scores are recorded in each metric's own direction (log loss: lower is better)."""
    import numpy as np
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.metrics import get_scorer

    primary = DEFAULT_METRIC[task_type]
    yv = y.to_numpy()
    n_classes = None
    if task_type == "classification":
        # integer class codes: scikit-learn 1.9 mistakes numeric-looking string labels ("1", "2", "U")
        # for numbers in class_weight="balanced"; the scores do not depend on the coding
        from sklearn.preprocessing import LabelEncoder

        yv = LabelEncoder().fit_transform(y.astype(str).to_numpy())
        n_classes = int(len(np.unique(yv)))
    names = (primary,) + tuple(m for m in SCORED_METRICS[task_type] if m != primary)
    scorers = {m: (get_scorer(get_metric(m).scorer_name(n_classes)), get_metric(m).higher_is_better) for m in names}
    splitter = cv_splitter(yv, task_type, cv, seed)  # class_counts takes arrays
    per_metric: dict[str, list[float]] = {m: [] for m in names}
    fit_times = []
    sizes = []
    with warnings.catch_warnings():  # convergence & co. (this call only): the score tells
        warnings.filterwarnings("ignore", category=UserWarning)
        warnings.filterwarnings("ignore", category=ConvergenceWarning)
        warnings.filterwarnings("ignore", category=RuntimeWarning)
        for train, test in splitter.split(X, yv if task_type == "classification" else None):
            pipe = learner.make_pipeline(config, random_state=seed)
            t0 = time.perf_counter()
            pipe.fit(X.iloc[train], yv[train])
            fit_times.append(time.perf_counter() - t0)
            sizes.append(len(train))
            for m, (scorer, higher) in scorers.items():
                try:
                    v = float(scorer(pipe, X.iloc[test], yv[test]))
                except Exception:
                    if m == primary:
                        raise
                    v = float("nan")
                per_metric[m].append(v if higher else -v)  # scikit-learn's scorers are higher-is-better
    scores = {m: float(np.mean(v)) for m, v in per_metric.items()}
    stds = {m: float(np.std(v)) for m, v in per_metric.items()}
    for m in names[1:]:  # a metric the learner cannot give is left out, not recorded as NaN
        if not np.isfinite(scores[m]):
            del scores[m], stds[m]
    ok = bool(np.isfinite(scores[primary]))
    return CVResult(scores, stds, float(np.mean(fit_times)), "ok" if ok else "failed",
                    "" if ok else "non-finite score", splitter.get_n_splits(), float(np.mean(sizes)))


def run_with_timeout(fn, timeout: float | None) -> CVResult:
    """Run ``fn() -> CVResult`` in a forked child killed after ``timeout`` seconds.

    A fit inside C code (libsvm, liblinear) cannot be interrupted from Python, so the limit is enforced
    by running it in a child process. Without a timeout, ``fn`` runs in this process.
    """
    if timeout is None:
        try:
            return fn()
        except Exception as exc:  # a failing config is a result, not a crash
            return CVResult({}, {}, float("nan"), "failed", f"{type(exc).__name__}: {exc}"[:500])
    rfd, wfd = os.pipe()
    t0 = time.perf_counter()
    # The child must never collect an object it inherited: the garbage collector finalising an inherited
    # SQLite connection (the build's Optuna storage) blocks for good on a mutex held at the fork, which
    # turned fast configurations into hard-limit timeouts. Frozen objects are out of the collector's reach.
    already_frozen = gc.get_freeze_count()
    gc.freeze()
    pid = -1
    try:
        pid = os.fork()
    finally:
        if pid != 0 and not already_frozen:  # this process (or a failed fork); a caller's own freeze stays
            gc.unfreeze()
    if pid == 0:  # child
        os.close(rfd)
        _die_with_parent()
        code = 0
        try:
            res = fn()
            payload = json.dumps(res.__dict__)
        except BaseException as exc:  # noqa: BLE001 - report anything to the parent
            payload = json.dumps(CVResult({}, {}, float("nan"), "failed", f"{type(exc).__name__}: {exc}"[:500]).__dict__)
            code = 1
        with os.fdopen(wfd, "w") as fh:
            fh.write(payload)
        os._exit(code)
    os.close(wfd)
    with os.fdopen(rfd, "r") as fh:
        text = read_before(fh, t0 + timeout)
    if text is None:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        os.waitpid(pid, 0)
        return CVResult({}, {}, float(timeout), "timeout", f"exceeded {timeout:g} s")
    os.waitpid(pid, 0)
    if not text:
        return CVResult({}, {}, float("nan"), "failed", "the evaluation process died without a result")
    d: dict[str, Any] = json.loads(text)
    return CVResult(**d)


def read_before(fh, deadline: float):
    """Everything a child writes to the pipe ``fh`` (until it closes it), or None when nothing came before
    ``deadline`` (a ``time.perf_counter()`` value)."""
    poller = select.poll()  # not select.select: it fails on descriptors numbered 1024 and above
    poller.register(fh, select.POLLIN | select.POLLHUP | select.POLLERR)
    while True:
        left = deadline - time.perf_counter()
        if left <= 0:
            return None
        if poller.poll(left * 1000.0):
            return fh.read()


def _die_with_parent() -> None:
    """Linux: this process is killed when its parent dies (a killed build leaves no trial child holding the
    storage's file open and locked). Elsewhere nothing happens."""
    try:
        import ctypes

        ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
