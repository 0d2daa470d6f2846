"""Loading and validating datasets into a :class:`Dataset` (X, y, task type, categorical mask).

:func:`load_dataset` is the one data path: files (CSV/TSV, compressed or not, Parquet, Feather, ARFF),
``openml:ID``, DataFrames and arrays. :mod:`metarec.data.sources` parses the dataset specs of
``metarec kb build``; :class:`ColumnTyper` (in :mod:`metarec.coltypes`) repeats loading's column typing on
new raw data.
"""

from __future__ import annotations

from .columns import COLUMN_KINDS, TEXT_CARDINALITY, apply_column_kinds, infer_column_kinds
from .dataset import CLASSIFICATION, REGRESSION, Dataset
from .load import FEW_ROWS, MAX_INT_CLASSES, MIN_ROWS, load_dataset
from .readers import COMPRESSIONS, FILE_FORMATS, read_arff, read_table

__all__ = [
    "Dataset",
    "load_dataset",
    "read_table",
    "read_arff",
    "infer_column_kinds",
    "apply_column_kinds",
    "ColumnTyper",
    "CLASSIFICATION",
    "REGRESSION",
    "COLUMN_KINDS",
    "COMPRESSIONS",
    "FILE_FORMATS",
    "FEW_ROWS",
    "MAX_INT_CLASSES",
    "MIN_ROWS",
    "TEXT_CARDINALITY",
]


def __getattr__(name: str):
    # the scikit-learn transformer lives in metarec.coltypes (importing scikit-learn here would make
    # `import metarec.data` slow); `metarec.data.ColumnTyper` is the same class
    if name == "ColumnTyper":
        from ..coltypes import ColumnTyper

        return ColumnTyper
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
