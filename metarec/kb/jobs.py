"""Running the (dataset, learner) studies of a knowledge-base build: one pair (:func:`run_pair`, an Optuna
study whose trials are cross-validated in forked children with a hard time limit), and many pairs in fresh
worker processes, in this process, or on a Dask cluster (:func:`run_jobs`)."""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass, field
from typing import Any, Iterator

from ..exceptions import MetarecError
from .storage import _recorded, open_storage, quiet_optuna, study_name

__all__ = ["BuildSettings", "PairJob", "fork_safe_arrow", "run_jobs", "run_pair"]


@dataclass
class BuildSettings:
    """How each (dataset, learner) study runs."""

    n_trials: int = 20
    cv: int = 3
    fit_timeout: float | None = 60.0
    max_rows: int | None = 5000
    seed: int = 0
    groups: tuple[str, ...] | None = None
    metafeature_budget: float | None = 120.0
    #: per learner, configurations tried first on every dataset (trials 1, 2, ... after the default's trial 0),
    #: before the sampler's own: a dense evidence matrix of given candidates
    configs: dict[str, list[dict]] | None = None


@dataclass
class PairJob:
    """One unit of work: tune ``learner`` on the dataset of ``spec``."""

    spec: str
    dataset_id: str
    task_type: str
    learner: str
    storage: str
    settings: BuildSettings = field(default_factory=BuildSettings)


class _TrialFailed(Exception):
    pass


#: The environment variable that makes pyarrow allocate from the system allocator (read when pyarrow first
#: allocates in a process).
ARROW_POOL_ENV = "ARROW_DEFAULT_MEMORY_POOL"


@contextlib.contextmanager
def fork_safe_arrow() -> Iterator[None]:
    """Inside the block, pyarrow allocates from glibc's malloc, which survives ``fork``; afterwards the
    previous memory pool (and ``ARROW_DEFAULT_MEMORY_POOL``) is put back.

    pandas keeps strings in pyarrow arrays, allocated by default from mimalloc/jemalloc, whose background
    thread (``jemalloc_bg_thd``) purges freed pages while data is loaded. A trial child forked at that
    moment inherits a held allocator lock and hangs on its first allocation: the shipped build saw 3 of 540
    pairs (all at trial 0, right after loading the data) hit the hard time limit that way. Trial children are
    forked, so they inherit the pool; the environment variable covers processes a learner starts itself.
    """
    saved_env = os.environ.get(ARROW_POOL_ENV)
    try:
        import pyarrow as pa
    except ImportError:  # pragma: no cover - pandas without pyarrow keeps strings as objects
        pa = None
    saved_pool = pa.default_memory_pool() if pa is not None else None
    os.environ[ARROW_POOL_ENV] = "system"
    if pa is not None:
        pa.set_memory_pool(pa.system_memory_pool())
    try:
        yield
    finally:
        if pa is not None:
            pa.set_memory_pool(saved_pool)
        if saved_env is None:
            os.environ.pop(ARROW_POOL_ENV, None)
        else:
            os.environ[ARROW_POOL_ENV] = saved_env


def _system_arrow_pool() -> None:
    """The system allocator for the whole of a build worker (a process started for the build): set before
    the worker allocates anything, so mimalloc/jemalloc never start there (see :func:`fork_safe_arrow`)."""
    os.environ[ARROW_POOL_ENV] = "system"
    try:
        import pyarrow as pa
    except ImportError:  # pragma: no cover
        return
    pa.set_memory_pool(pa.system_memory_pool())


#: the last dataset a process loaded for a pair, with its subsample: (spec, max_rows, seed) -> (ds, X, y)
_LAST_DATA: dict = {}


@quiet_optuna()
def run_pair(job: PairJob) -> dict[str, Any]:
    """Run (or finish) the study of one (dataset, learner) pair; returns a small summary."""
    storage = open_storage(job.storage)
    try:
        return _run_pair(job, storage)
    finally:  # a worker runs thousands of pairs: each one's connections are closed with it
        storage.remove_session()
        storage.engine.dispose()


def _run_pair(job: PairJob, storage) -> dict[str, Any]:
    import optuna

    from ..data.sources import parse_specs
    from ..learners import get_learner
    from ..metrics import DEFAULT_METRIC
    from .evaluation import cross_validate_config, run_with_timeout, subsample

    s = job.settings
    sampler = optuna.samplers.TPESampler(seed=s.seed, n_startup_trials=min(10, max(1, s.n_trials // 2)))
    study = optuna.create_study(storage=storage, study_name=study_name(job.dataset_id, job.learner),
                                direction="maximize", sampler=sampler, load_if_exists=True)
    done = len(_recorded(study))
    remaining = s.n_trials - done
    if remaining <= 0:
        return {"dataset_id": job.dataset_id, "learner": job.learner, "new_trials": 0, "skipped": True}
    learner = get_learner(job.learner)
    with fork_safe_arrow():
        key = (job.spec, s.max_rows, s.seed)
        if key not in _LAST_DATA:  # a worker runs a dataset's pairs one after another: load it once for them
            _LAST_DATA.clear()
            ds = parse_specs([job.spec])[0].load()
            _LAST_DATA[key] = (ds, *subsample(ds, s.max_rows, s.seed))
        ds, X, y = _LAST_DATA[key]
        primary = DEFAULT_METRIC[ds.task_type]
        hard_limit = None if s.fit_timeout is None else s.fit_timeout * (s.cv + 1)

        listed = (s.configs or {}).get(job.learner, [])

        def objective(trial):
            # trial 0 of a fresh study is the default config: always part of the record; then the listed ones
            if trial.number == 0 and done == 0:
                config = learner.default_config
            elif 1 <= trial.number <= len(listed):
                config = {**learner.default_config, **listed[trial.number - 1]}
            else:
                config = learner.suggest(trial)
            config = dict(config)
            trial.set_user_attr("config", json.dumps(config, sort_keys=True, default=str))
            res = run_with_timeout(
                lambda: cross_validate_config(learner, config, X, y, ds.task_type, s.cv, s.seed), hard_limit
            )
            if res.status == "ok" and s.fit_timeout is not None and res.fit_time > s.fit_timeout:
                res.status, res.error = "timeout", f"mean fit {res.fit_time:.1f} s exceeds {s.fit_timeout:g} s"
            trial.set_user_attr("scores", res.scores)
            trial.set_user_attr("stds", res.stds)
            trial.set_user_attr("fit_time", res.fit_time)
            trial.set_user_attr("n_folds", res.n_folds)
            trial.set_user_attr("train_size", res.train_size)
            trial.set_user_attr("error", res.error)
            trial.set_user_attr("status", res.status)
            if res.status != "ok":
                raise _TrialFailed(res.error)
            return res.scores[primary]

        # one thread per job: parallel jobs (--n-jobs, Dask workers) must not oversubscribe the cores, and
        # OpenMP learners (HistGradientBoosting) slow down by orders of magnitude when they do
        from threadpoolctl import threadpool_limits

        import sklearn.utils._openmp_helpers  # noqa: F401  load OpenMP now, so the limit below reaches it

        try:
            import lightgbm  # noqa: F401  (its own OpenMP runtime)
        except ImportError:  # pragma: no cover
            pass
        with threadpool_limits(1):
            # one trial at a time until n_trials are recorded (failed ones count): a second builder on the
            # same storage overshoots by at most one trial, and `assemble` exports the first n_trials only
            while len(_recorded(study)) < s.n_trials:
                study.optimize(objective, n_trials=1, catch=(_TrialFailed,))
    study.set_user_attr("finished", True)
    return {"dataset_id": job.dataset_id, "learner": job.learner, "new_trials": s.n_trials - done, "skipped": False}


def _watch_parent(parent_pid: int) -> None:
    """Worker initializer: exit when the process that started us is gone (killed builder, no orphans), and
    allocate Arrow data from the system allocator (see :func:`fork_safe_arrow`)."""
    import threading
    import time

    def watch():
        while os.getppid() == parent_pid:
            time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch, name="metarec-parent-watch", daemon=True).start()
    _system_arrow_pool()


def run_jobs(jobs, n_jobs: int = 1, dask_scheduler: str | None = None, progress=None,
             isolate: bool = True) -> list[dict]:
    """Run pair jobs in fresh worker processes (``n_jobs`` at once), in-process, or on a Dask cluster.

    Trials are evaluated in children forked from the process that runs the pair. Forking a process whose
    state we do not control (a notebook that already ran OpenMP code on several threads, locks held by
    other threads) can leave a child hung until its time limit, so by default every pair runs in a worker
    started with ``spawn`` (a fresh interpreter). ``isolate=False`` runs them in this process instead
    (only with ``n_jobs=1``; useful to debug or to monkeypatch in tests).
    """
    results = []
    total = len(jobs)

    def done(res):
        results.append(res)
        if progress:
            progress(len(results), total, res)

    if dask_scheduler:
        try:
            from distributed import Client, as_completed
        except ImportError:
            raise MetarecError("Dask is not installed; install it with: pip install 'metarec[distributed]'") from None
        with Client(dask_scheduler) as client:
            futures = client.map(run_pair, jobs, pure=False)
            for fut in as_completed(futures):
                done(fut.result())
        return results
    if not isolate and n_jobs <= 1:
        for job in jobs:
            done(run_pair(job))
        return results
    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    n_jobs = max(1, n_jobs)
    pool = ProcessPoolExecutor(max_workers=n_jobs, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_watch_parent, initargs=(os.getpid(),))
    todo = iter(jobs)
    running: set = set()
    try:
        # at most n_jobs pairs submitted at a time: an interruption leaves nothing queued behind it
        while True:
            while len(running) < n_jobs:
                job = next(todo, None)
                if job is None:
                    break
                running.add(pool.submit(run_pair, job))
            if not running:
                break
            finished, running = wait(running, return_when=FIRST_COMPLETED)
            for fut in finished:
                done(fut.result())
    except BaseException:
        # stop the workers now (the trial in flight carries no result and is redone on resume)
        for proc in list(getattr(pool, "_processes", {}).values()):
            proc.terminate()
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return results
