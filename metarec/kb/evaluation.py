"""Cross-validated evaluation of one learner config, with a hard time limit (a forked child process)."""

from __future__ import annotations

import json
import os
import select
import signal
import time
import warnings
from dataclasses import dataclass
from typing import Any

from ..metrics import DEFAULT_METRIC

#: what a build scores besides the task's default metric
EXTRA_METRICS = {"classification": ("balanced_accuracy",), "regression": ("neg_rmse",)}


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


def cross_validate_config(learner, config: dict, X, y, task_type: str, cv: int = 3, seed: int = 0) -> CVResult:
    """k-fold CV (stratified for classification, shuffled, fixed seed) of ``learner`` with ``config``."""
    import numpy as np
    from sklearn import metrics as skm
    from sklearn.model_selection import KFold, StratifiedKFold

    if task_type == "classification":
        min_class = int(y.value_counts().min())
        k = max(2, min(cv, min_class)) if min_class >= 2 else cv
        splitter = StratifiedKFold(k, shuffle=True, random_state=seed) if min_class >= 2 else KFold(k, shuffle=True, random_state=seed)
    else:
        k = cv
        splitter = KFold(k, shuffle=True, random_state=seed)
    from sklearn.exceptions import ConvergenceWarning

    names = (DEFAULT_METRIC[task_type],) + EXTRA_METRICS[task_type]
    per_metric: dict[str, list[float]] = {m: [] for m in names}
    fit_times = []
    sizes = []
    yv = y.to_numpy()
    if task_type == "classification":
        # integer class codes: scikit-learn 1.9 mistakes numeric-looking string labels ("1", "2", "U")
        # for numbers in class_weight="balanced"; accuracy-type scores do not depend on the coding
        from sklearn.preprocessing import LabelEncoder

        yv = LabelEncoder().fit_transform(y.astype(str).to_numpy())
    with warnings.catch_warnings():  # convergence & co. (this call only): the score tells
        warnings.filterwarnings("ignore", category=UserWarning)
        warnings.filterwarnings("ignore", category=ConvergenceWarning)
        for train, test in splitter.split(X, yv if task_type == "classification" else None):
            pipe = learner.make_pipeline(config, random_state=seed)
            t0 = time.perf_counter()
            pipe.fit(X.iloc[train], yv[train])
            fit_times.append(time.perf_counter() - t0)
            sizes.append(len(train))
            pred = pipe.predict(X.iloc[test])
            truth = yv[test]
            for m in names:
                if m == "accuracy":
                    v = skm.accuracy_score(truth, pred)
                elif m == "balanced_accuracy":
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        v = skm.balanced_accuracy_score(truth, pred)
                elif m == "r2":
                    v = skm.r2_score(truth, pred)
                else:
                    v = -float(np.sqrt(skm.mean_squared_error(truth, pred)))
                per_metric[m].append(float(v))
    scores = {m: float(np.mean(v)) for m, v in per_metric.items()}
    stds = {m: float(np.std(v)) for m, v in per_metric.items()}
    ok = all(np.isfinite(list(scores.values())))
    return CVResult(scores, stds, float(np.mean(fit_times)), "ok" if ok else "failed",
                    "" if ok else "non-finite score", k, float(np.mean(sizes)))


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
    pid = os.fork()
    if pid == 0:  # child
        os.close(rfd)
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
    chunks = []
    deadline = t0 + timeout
    timed_out = False
    with os.fdopen(rfd, "r") as fh:
        while True:
            left = deadline - time.perf_counter()
            if left <= 0:
                timed_out = True
                break
            ready, _, _ = select.select([fh], [], [], left)
            if ready:
                data = fh.read()
                chunks.append(data)
                break
    if timed_out:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        os.waitpid(pid, 0)
        return CVResult({}, {}, float(timeout), "timeout", f"exceeded {timeout:g} s")
    os.waitpid(pid, 0)
    text = "".join(chunks)
    if not text:
        return CVResult({}, {}, float("nan"), "failed", "the evaluation process died without a result")
    d: dict[str, Any] = json.loads(text)
    return CVResult(**d)
