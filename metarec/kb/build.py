"""``metarec kb build``: meta-features + an Optuna study per (dataset, learner), every trial recorded.

All state lives in one Optuna storage (SQLite by default, any RDB URL works), so a build resumes where it
stopped and several processes or machines can share it:

- study ``mf/<dataset_id>`` holds the dataset's description and meta-features (user attributes);
- study ``hpo/<dataset_id>/<learner>`` holds the trials (TPE), each with its config (JSON), scores of
  every metric, fit time and status (ok / failed / timeout) as user attributes.

A (dataset, learner) pair is finished once it holds ``n_trials`` recorded trials; finished pairs are
skipped. Trials are written as they finish, so an interruption loses at most the trial in flight; trials
left RUNNING by a killed process carry no result and are never exported. At the end the storage is
assembled into a :class:`KnowledgeBase` and saved (atomically) to the output directory.
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

from ..exceptions import KnowledgeBaseError, MetarecError
from ..metrics import DEFAULT_METRIC, METRICS
from .format import RUN_COLUMNS, KnowledgeBase, config_id, new_manifest

logger = logging.getLogger(__name__)

DEFAULT_LEARNERS = {
    "classification": ["lightgbm", "random_forest", "extra_trees", "hist_gradient_boosting",
                       "logistic_regression", "svc_rbf", "knn"],
    "regression": ["lightgbm_regressor", "random_forest_regressor", "extra_trees_regressor",
                   "hist_gradient_boosting_regressor", "ridge_regressor", "svr_regressor", "knn_regressor"],
}


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


@dataclass
class PairJob:
    """One unit of work: tune ``learner`` on the dataset of ``spec``."""

    spec: str
    dataset_id: str
    task_type: str
    learner: str
    storage: str
    settings: BuildSettings = field(default_factory=BuildSettings)


def study_name(dataset_id: str, learner: str) -> str:
    return f"hpo/{dataset_id}/{learner}"


def open_storage(url: str):
    """An Optuna RDB storage (SQLite waits for locks instead of failing) with heartbeats."""
    import warnings

    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    kwargs: dict[str, Any] = {}
    if url.startswith("sqlite"):
        kwargs["engine_kwargs"] = {"connect_args": {"timeout": 120}}
    import time

    for attempt in range(5):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                return optuna.storages.RDBStorage(url, heartbeat_interval=30, grace_period=120, **kwargs)
        except Exception as exc:
            # two builders creating one new database race on its tables: the loser retries
            if attempt < 4 and type(exc).__name__ in ("IntegrityError", "OperationalError"):
                time.sleep(0.5 * (attempt + 1))
                continue
            raise KnowledgeBaseError(storage_error(url, exc)) from None


#: Python module of a database driver -> the package that provides it.
DRIVER_PACKAGES = {
    "psycopg": "psycopg[binary]", "psycopg2": "psycopg2-binary", "pg8000": "pg8000", "asyncpg": "asyncpg",
    "MySQLdb": "mysqlclient", "pymysql": "PyMySQL", "mysql": "mysql-connector-python", "mariadb": "mariadb",
    "oracledb": "oracledb", "cx_Oracle": "cx_Oracle", "pyodbc": "pyodbc", "pymssql": "pymssql",
}


def storage_error(url: str, exc: BaseException) -> str:
    """One line saying why the Optuna storage ``url`` did not open, and what to do.

    SQLAlchemy appends "(Background on this error at: ...)" on a second line and, for a missing database
    driver, says only "Failed to import DB access module": the line keeps the first line and names the
    driver's package.
    """
    import re

    url = re.sub(r"(://[^:/@]*:)[^@/]*@", r"\1***@", str(url))  # never echo a password
    missing = None
    seen: BaseException | None = exc
    for _ in range(5):  # the ModuleNotFoundError behind optuna's ImportError
        if seen is None:
            break
        if isinstance(seen, ModuleNotFoundError) and seen.name:
            missing = seen.name.split(".")[0]
            break
        seen = seen.__cause__ or seen.__context__
    scheme = url.split(":", 1)[0]
    if missing:
        package = DRIVER_PACKAGES.get(missing, missing)
        return (f"cannot open the Optuna storage {url!r}: its database driver {missing!r} is not installed; "
                f"install it (pip install '{package}') or name an installed driver in the URL "
                f"({scheme.split('+')[0]}+DRIVER://...)")
    lines = [ln.strip() for ln in str(exc).strip().splitlines() if ln.strip()]
    first = lines[0] if lines else ""
    if first.startswith("(") and ") " in first:  # "(sqlite3.OperationalError) unable to open database file"
        first = first.split(") ", 1)[1]
    detail = f"{type(exc).__name__}: {first}" if first else type(exc).__name__
    fix = ("check that the database file's directory exists and is writable" if scheme.startswith("sqlite")
           else "check the URL and that the database server is reachable")
    return f"cannot open the Optuna storage {url!r} ({detail}); {fix}"


def _recorded(study) -> list:
    """Trials that finished with a result (the ones a resume counts and the KB exports)."""
    import optuna

    states = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.FAIL)
    return [t for t in study.get_trials(deepcopy=False, states=states) if "status" in t.user_attrs]


class _TrialFailed(Exception):
    pass


def _fork_safe_arrow() -> None:
    """Make the data of a pair live in glibc's malloc, which survives ``fork``.

    pandas keeps strings in pyarrow arrays, allocated by default from mimalloc/jemalloc, whose background
    thread (``jemalloc_bg_thd``) purges freed pages while data is loaded. A trial child forked at that
    moment inherits a held allocator lock and hangs on its first allocation: the shipped build saw 3 of 540
    pairs (all at trial 0, right after loading the data) hit the hard time limit that way.
    """
    import os

    os.environ["ARROW_DEFAULT_MEMORY_POOL"] = "system"  # for processes started from here
    try:
        import pyarrow as pa
    except ImportError:  # pragma: no cover - pandas without pyarrow keeps strings as objects
        return
    pa.set_memory_pool(pa.system_memory_pool())


def run_pair(job: PairJob) -> dict[str, Any]:
    """Run (or finish) the study of one (dataset, learner) pair; returns a small summary."""
    import optuna

    from ..learners import get_learner
    from ..sources import parse_specs
    from .evaluation import cross_validate_config, run_with_timeout, subsample

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    s = job.settings
    storage = open_storage(job.storage)
    sampler = optuna.samplers.TPESampler(seed=s.seed, n_startup_trials=min(10, max(1, s.n_trials // 2)))
    study = optuna.create_study(storage=storage, study_name=study_name(job.dataset_id, job.learner),
                                direction="maximize", sampler=sampler, load_if_exists=True)
    done = len(_recorded(study))
    remaining = s.n_trials - done
    if remaining <= 0:
        return {"dataset_id": job.dataset_id, "learner": job.learner, "new_trials": 0, "skipped": True}
    learner = get_learner(job.learner)
    _fork_safe_arrow()
    ds = parse_specs([job.spec])[0].load()
    X, y = subsample(ds, s.max_rows, s.seed)
    primary = DEFAULT_METRIC[ds.task_type]
    hard_limit = None if s.fit_timeout is None else s.fit_timeout * (s.cv + 1)

    def objective(trial):
        config = learner.default_config if trial.number == 0 and done == 0 else learner.suggest(trial)
        config = dict(config)  # trial 0 of a fresh study is the default config: always part of the record
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


def store_metafeatures(storage_url: str, spec, settings: BuildSettings) -> tuple[str, str]:
    """Compute (once) and store a dataset's meta-features; returns ``(dataset_id, task_type)``."""
    import optuna

    from ..metafeatures import extract_metafeatures

    storage = open_storage(storage_url)
    name = f"mf/{spec.dataset_id}"
    study = optuna.create_study(storage=storage, study_name=name, load_if_exists=True)
    attrs = study.user_attrs
    if "metafeatures" in attrs:
        return spec.dataset_id, attrs["dataset"]["task_type"]
    ds = spec.load()
    values, report = extract_metafeatures(ds, groups=settings.groups, time_budget=settings.metafeature_budget,
                                          return_report=True)
    info = {
        "dataset_id": spec.dataset_id,
        "spec": str(spec),
        "name": ds.name,
        "source": spec.kind,
        "task_type": ds.task_type,
        "openml_id": ds.openml_id,
        "n_rows": ds.n_rows,
        "n_features": ds.n_features,
        "n_classes": ds.n_classes,
        "target": ds.target,
    }
    study.set_user_attr("dataset", info)
    study.set_user_attr("groups", list(report.groups))
    study.set_user_attr("metafeatures", {k: (None if v != v else float(v)) for k, v in values.items()})
    return spec.dataset_id, ds.task_type


def build_kb(
    specs: list[str],
    out: str | Path,
    learners: list[str] | None = None,
    settings: BuildSettings | None = None,
    storage: str | None = None,
    n_jobs: int = 1,
    dask_scheduler: str | None = None,
    target: str | None = None,
    task_type: str | None = None,
    progress: Callable[[int, int, dict], None] | None = None,
    isolate: bool = True,
    force: bool = False,
    metafeatures_progress: Callable[[int, int, str], None] | None = None,
) -> KnowledgeBase:
    """Build (or resume) a knowledge base of tuned runs on ``specs`` and save it to ``out``.

    Parameters
    ----------
    specs : list of str
        Dataset specs (see :mod:`metarec.sources`).
    out : path
        The KB directory written at the end (the default SQLite storage lives there too).
    learners : list of str, optional
        Learner names; those not matching a dataset's task type are skipped for it. Default:
        :data:`DEFAULT_LEARNERS` of each task type.
    storage : str, optional
        Optuna storage URL (default ``sqlite:///<out>/build.db``).
    n_jobs : int
        Parallel (dataset, learner) jobs on this machine.
    dask_scheduler : str, optional
        Address of a Dask distributed scheduler to run the jobs on.
    progress : callable, optional
        ``progress(done, total, summary)`` after each finished job.
    isolate : bool
        Run the pairs in fresh worker processes (default); see :func:`run_jobs`.
    force : bool
        Overwrite a KB at ``out`` that was not built from ``storage`` (one that was is resumed and rewritten).
    metafeatures_progress : callable, optional
        ``metafeatures_progress(done, total, dataset_id)`` after each dataset's meta-features are stored
        (the first call is where a caller can start a progress display: a build refused before it wrote
        nothing, and a fresh ``out`` is removed again).
    """
    from ..learners import get_learner
    from ..sources import parse_specs

    settings = settings or BuildSettings()
    out = Path(out)
    default_storage = storage is None
    storage = storage or f"sqlite:///{out.resolve() / 'build.db'}"
    ensure_buildable(out, storage, force)
    # everything that can be checked without loading data is checked before anything is written
    parsed = parse_specs(specs, target=target, task_type=task_type)
    if learners:
        for name in learners:
            get_learner(name)  # unknown names fail now, with suggestions
    new_dirs = _missing_dirs(out)
    new_db = default_storage and not (out / "build.db").exists()
    out.mkdir(parents=True, exist_ok=True)
    jobs: list[PairJob] = []
    stored = 0
    try:
        for spec in parsed:
            did, task = store_metafeatures(storage, spec, settings)
            stored += 1
            if metafeatures_progress:
                metafeatures_progress(stored, len(parsed), did)
            names = learners or DEFAULT_LEARNERS[task]
            for name in names:
                if task in get_learner(name).task_types:
                    jobs.append(PairJob(str(spec), did, task, name, storage, settings))
    except BaseException:
        # refused before any work (a bad target, an unknown or unreachable dataset): leave no --out behind
        if not stored:
            _remove_unused_build(out, new_dirs, storage if new_db else None)
        raise
    if not jobs:
        raise MetarecError("no (dataset, learner) pair to run: no learner matches the datasets' task types")
    run_jobs(jobs, n_jobs=n_jobs, dask_scheduler=dask_scheduler, progress=progress, isolate=isolate)
    kb = assemble(storage, settings)
    kb.save(out)
    return kb


def _missing_dirs(path: Path) -> list[Path]:
    """``path`` and those of its parents that do not exist yet, deepest first."""
    missing = []
    p = Path(path)
    while not p.exists() and not p.is_symlink() and p != p.parent:
        missing.append(p)
        p = p.parent
    return missing


def _remove_unused_build(out: Path, new_dirs: list[Path], default_storage: str | None) -> None:
    """Remove what a failed build created (directories, the default SQLite storage) when nothing was recorded.

    ``new_dirs`` are the directories this call created; ``default_storage`` is the URL of the default
    storage ``out/build.db`` when this call created it, else None. The storage is deleted only while it holds
    no meta-features and no trials (a concurrent builder's work is kept); a directory only when empty.
    """
    if default_storage is not None:
        db = out / "build.db"
        try:
            if db.exists() and not _storage_holds_work(default_storage):
                for suffix in ("", "-journal", "-wal", "-shm"):
                    extra = db.with_name(db.name + suffix)
                    if extra.exists():
                        extra.unlink()
        except Exception:  # pragma: no cover - cleanup is best effort; the original error is what matters
            logger.debug("could not remove the unused %s", db, exc_info=True)
    for d in new_dirs:  # deepest first
        try:
            d.rmdir()
        except OSError:
            break


def _storage_holds_work(storage_url: str) -> bool:
    """True when the storage has any stored meta-features or any study of trials."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = open_storage(storage_url)
    try:
        for summ in optuna.get_all_study_summaries(storage, include_best_trial=False):
            if not summ.study_name.startswith("mf/") or "metafeatures" in summ.user_attrs or summ.n_trials:
                return True
        return False
    finally:
        engine = getattr(storage, "engine", None)
        if engine is not None:
            engine.dispose()


def ensure_buildable(out: Path, storage: str, force: bool) -> None:
    """Refuse to overwrite a KB at ``out`` that another build (or import/merge) wrote, unless ``force``.

    A KB whose manifest names ``storage`` as its HPO source is this build's own: re-running resumes it.
    """
    import json

    from .format import MANIFEST

    if out.exists() and not out.is_dir():
        raise MetarecError(f"{out}: exists and is not a directory; choose another --out")
    mpath = out / MANIFEST
    if force or not mpath.exists():
        return
    try:
        sources = json.loads(mpath.read_text()).get("sources", [])
    except (OSError, ValueError, AttributeError):
        sources = []
    where = storage.split("@")[-1]
    if any(isinstance(s, dict) and s.get("storage") == where for s in sources):
        return
    raise MetarecError(f"{out}: a knowledge base not built from {where} is already there; pass --force to "
                       f"overwrite it, or choose another --out")


def _watch_parent(parent_pid: int) -> None:
    """Worker initializer: exit when the process that started us is gone (killed builder, no orphans)."""
    import os
    import threading
    import time

    def watch():
        while os.getppid() == parent_pid:
            time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch, name="metarec-parent-watch", daemon=True).start()
    _fork_safe_arrow()


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
    import os
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


def assemble(storage_url: str, settings: BuildSettings | None = None) -> KnowledgeBase:
    """Turn everything recorded in the storage into a :class:`KnowledgeBase`."""
    import optuna
    import pandas as pd

    from ..plugins import get_plugin_host

    storage = open_storage(storage_url)
    summaries = optuna.get_all_study_summaries(storage, include_best_trial=False)
    rows, names = [], []
    for summ in summaries:
        if summ.study_name.startswith("mf/") and "metafeatures" in summ.user_attrs:
            info = summ.user_attrs["dataset"]
            mf = summ.user_attrs["metafeatures"]
            names.extend(k for k in mf if k not in names)
            rows.append({**{k: info.get(k) for k in ("dataset_id", "name", "source", "task_type")},
                         "openml_id": info.get("openml_id"), "n_rows": info["n_rows"],
                         "n_features": info["n_features"], "n_classes": info.get("n_classes"),
                         **{k: (math.nan if v is None else v) for k, v in mf.items()}})
    if not rows:
        raise KnowledgeBaseError(f"the storage {storage_url} holds no datasets; run `metarec kb build` first")
    datasets = pd.DataFrame(rows)
    for c in ("openml_id", "n_rows", "n_features", "n_classes", *names):
        datasets[c] = pd.to_numeric(datasets[c], errors="coerce").astype(float)
    runs = []
    for summ in summaries:
        if not summ.study_name.startswith("hpo/"):
            continue
        dataset_id, learner = summ.study_name[len("hpo/"):].rsplit("/", 1)  # ids may hold "/"
        study = optuna.load_study(study_name=summ.study_name, storage=storage)
        recorded = sorted(_recorded(study), key=lambda t: t.number)
        for t in recorded[: settings.n_trials] if settings else recorded:
            a = t.user_attrs
            scores = a.get("scores") or {}
            metrics = list(scores) or [None]
            for metric in metrics:
                runs.append({
                    "dataset_id": dataset_id, "source": "hpo", "learner": learner,
                    "config_id": config_id(a["config"]), "config": a["config"],
                    "metric": metric or _primary(datasets, dataset_id),
                    "train_size": float(a.get("train_size") or math.nan),
                    "score": float(scores.get(metric, math.nan)) if metric else math.nan,
                    "score_std": float((a.get("stds") or {}).get(metric, math.nan)) if metric else math.nan,
                    "valid_score": math.nan, "valid_score_std": math.nan,
                    "fit_time": float(a.get("fit_time") if a.get("fit_time") is not None else math.nan),
                    "n_repeats": float(a.get("n_folds") or math.nan),
                    "trial": float(t.number), "status": a["status"],
                })
    runs_df = pd.DataFrame(runs, columns=list(RUN_COLUMNS))
    for c, kind in RUN_COLUMNS.items():
        if kind == "float":
            runs_df[c] = runs_df[c].astype(float)
    host = get_plugin_host()
    lreg = host.registry("learner")
    manifest = new_manifest()
    s = settings or BuildSettings()
    manifest["sources"].append({
        "name": "hpo",
        "kind": "metarec kb build",
        "storage": storage_url.split("@")[-1],
        "datasets": sorted(datasets["dataset_id"].tolist()),
        "settings": {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(s).items()},
        "protocol": "Optuna TPE per (dataset, learner); trial 0 = the learner's default config; k-fold CV "
                    "(stratified for classification, shuffled, seed); rows above max_rows stratified-subsampled",
    })
    used = set(runs_df["metric"]) if len(runs_df) else set()
    manifest["metrics"] = {m: METRICS[m].manifest_entry() for m in sorted(used)}
    from .format import metafeature_providers

    providers = metafeature_providers()
    manifest["metafeatures"] = {n: providers.get(n, "?") for n in names}
    manifest["learners"] = {n: (lreg.entry(n).plugin if n in lreg else "?") for n in sorted(set(runs_df["learner"]))}
    kb = KnowledgeBase(datasets, runs_df, manifest)
    kb.validate()
    return kb


def _primary(datasets, dataset_id):
    task = datasets.loc[datasets["dataset_id"] == dataset_id, "task_type"].iloc[0]
    return DEFAULT_METRIC[task]
