"""The :class:`Dataset` record: a validated supervised dataset (X, y, task type, categorical mask)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

__all__ = ["CLASSIFICATION", "REGRESSION", "Dataset", "data_fingerprint"]

CLASSIFICATION = "classification"
REGRESSION = "regression"


@dataclass
class Dataset:
    """A validated supervised dataset.

    Attributes
    ----------
    X : pandas.DataFrame
        Features. Nominal columns are ``category`` dtype whose categories are the *declared* levels (ARFF /
        OpenML) or the sorted observed values (CSV and other files); ``object`` columns hold free text
        (OpenML's STRING attributes); numbers are float/int; ``bool`` is kept as bool.
    y : pandas.Series
        The target, in file order (row order matters to some meta-features). Classification targets are
        ``category``; regression targets are float.
    task_type : str
        ``"classification"`` or ``"regression"``.
    name, source, target : str
        Human-readable name, where it came from (path, ``openml:ID``, ``DataFrame``), target column name.
    categorical : list of bool
        One flag per column of ``X``: True for nominal (category/bool/object) columns.
    warnings : list of str
        Things noticed while loading (constant columns, ID-like columns, dropped rows...).
    column_kinds : dict
        How loading typed each feature column (``"number"``, ``"decimal_comma"``, ``"date"``,
        ``"category"``, ``"text"`` or ``"keep"``); :meth:`column_typer` repeats it on new data.
    task_decision : str or None
        How the task type was read off a numeric target when none was given (e.g. ``"integer target with
        2 distinct values"``); None when the target's type decided it or the task type was given.
    """

    X: Any
    y: Any
    task_type: str
    name: str = "dataset"
    source: str = "DataFrame"
    target: str = "target"
    categorical: list[bool] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    openml_id: int | None = None
    column_kinds: dict = field(default_factory=dict)
    task_decision: str | None = None

    def column_typer(self):
        """An unfitted :class:`ColumnTyper` that types new raw data as loading typed this dataset."""
        from ..coltypes import ColumnTyper

        return ColumnTyper(kinds=dict(self.column_kinds) or None)

    @property
    def n_rows(self) -> int:
        return int(self.X.shape[0])

    @property
    def n_features(self) -> int:
        return int(self.X.shape[1])

    @property
    def n_classes(self) -> int | None:
        if self.task_type != CLASSIFICATION:
            return None
        return int(self.y.dropna().nunique())

    def summary(self) -> dict[str, Any]:
        """A JSON-able description: shape, task type, column kinds, warnings."""
        return {
            "name": self.name,
            "source": self.source,
            "target": self.target,
            "task_type": self.task_type,
            "task_decision": self.task_decision,
            "n_rows": self.n_rows,
            "n_features": self.n_features,
            "n_categorical": int(sum(self.categorical)),
            "n_classes": self.n_classes,
            "columns": {str(c): str(t) for c, t in self.X.dtypes.items()},
            "warnings": list(self.warnings),
        }


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
