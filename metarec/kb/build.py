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

import logging
import math
from dataclasses import asdict
from pathlib import Path
from typing import Callable

from ..exceptions import KnowledgeBaseError, MetarecError
from ..metrics import DEFAULT_METRIC, METRICS
from .format import RUN_COLUMNS, KnowledgeBase, config_id, new_manifest
from .jobs import BuildSettings, PairJob, run_jobs
from .storage import _recorded, _storage_holds_work, open_storage, quiet_optuna

logger = logging.getLogger(__name__)

DEFAULT_LEARNERS = {
    "classification": ["lightgbm", "random_forest", "extra_trees", "hist_gradient_boosting",
                       "logistic_regression", "svc_rbf", "knn"],
    "regression": ["lightgbm_regressor", "random_forest_regressor", "extra_trees_regressor",
                   "hist_gradient_boosting_regressor", "ridge_regressor", "svr_regressor", "knn_regressor"],
}


@quiet_optuna()
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


@quiet_optuna()
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
        Dataset specs (see :mod:`metarec.data.sources`).
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
    from ..data.sources import parse_specs
    from ..learners import get_learner

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
    skipped: list[dict] = []
    try:
        for spec in parsed:
            try:
                did, task = store_metafeatures(storage, spec, settings)
            except Exception as exc:
                # one table that fails to load or has a degenerate target never aborts a build of several
                if len(parsed) == 1:
                    raise
                first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
                skipped.append({"spec": str(spec), "reason": first})
                logger.info("skipped %s: %s", spec, first)
                if len(skipped) == len(parsed):
                    raise
                continue
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
    kb.manifest["sources"][-1]["skipped"] = skipped  # the build's report: tables left out and why
    kb.save(out)
    return kb


def read_configs(path: str | Path) -> dict[str, list[dict]]:
    """The configurations of ``kb build --configs``: a JSON file ``{learner: [config, ...]}`` (every problem
    one error naming the file; an unknown learner is refused by its name)."""
    import json

    from ..learners import get_learner

    try:
        data = json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise KnowledgeBaseError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise KnowledgeBaseError(f"{path}: not a readable JSON file ({exc})") from None
    if not isinstance(data, dict) or not all(isinstance(v, list) and all(isinstance(c, dict) for c in v)
                                             for v in data.values()):
        raise KnowledgeBaseError(f"{path}: expected a JSON object {{learner: [config, ...]}}")
    for name in data:
        get_learner(name)
    return {str(k): [dict(c) for c in v] for k, v in data.items()}


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


def ensure_buildable(out: Path, storage: str, force: bool) -> None:
    """Refuse to overwrite a KB at ``out`` that another build (or import/merge) wrote, unless ``force``.

    A KB whose manifest names ``storage`` as its HPO source is this build's own: re-running resumes it.
    """
    import json

    from .format import MANIFEST

    from ..fileio import ensure_writable_dir

    if out.exists() and not out.is_dir():
        raise MetarecError(f"{out}: exists and is not a directory; choose another --out")
    ensure_writable_dir(out, out, "--out", new_dirs=1)  # the KB directory may be new, its parent must exist
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


@quiet_optuna()
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
