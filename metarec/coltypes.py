"""The typing step of :func:`metarec.data.load_dataset` as a fitted scikit-learn transformer.

Loading re-types columns before any pipeline sees them: numbers stored as text become numbers (also with a
decimal comma in ``;``-separated files), ISO dates and ``datetime64`` become epoch milliseconds,
low-cardinality text becomes ``category`` and high-cardinality text stays free text. :class:`ColumnTyper`
records, per column, the conversion that loading applied and repeats it on new data, so a model that
starts with it (``metarec tune --out``, ``AutoClassifier`` / ``AutoRegressor``) predicts on raw rows read
the same way as the training file, e.g. ``model.predict(pd.read_csv("data.csv").drop(columns="y"))``.
Both use the same functions (:func:`metarec.data.infer_column_kinds`, :func:`metarec.data.apply_column_kinds`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from .data.columns import COLUMN_KINDS, apply_column_kinds, infer_column_kinds
from .exceptions import DataError

__all__ = ["ColumnTyper"]


class ColumnTyper(TransformerMixin, BaseEstimator):
    """Type the columns of a raw DataFrame as :func:`metarec.data.load_dataset` does.

    Parameters
    ----------
    kinds : dict, optional
        ``{column: kind}`` with kind one of ``"number"``, ``"decimal_comma"``, ``"date"``, ``"category"``,
        ``"text"``, ``"keep"`` (what :attr:`metarec.data.Dataset.column_kinds` holds). Columns not named
        are inferred at fit from their values, as loading does.
    decimal_comma : bool
        Whether inference reads text such as ``1,5`` as numbers (loading sets it for ``;``-separated files).

    Attributes
    ----------
    kinds_ : dict
        Each input column's kind.
    levels_ : dict
        The category levels seen at fit (``category`` columns); unseen values at transform are kept as
        extra levels (the one-hot encoders downstream ignore them).
    notes_ : list of str
        What inference decided, one line per converted column (loading's warnings).
    feature_names_in_, n_features_in_
        The input columns; :meth:`transform` accepts a numpy array with that many columns.

    :meth:`transform` returns a DataFrame of exactly the fitted columns, in the fitted order (other
    columns are dropped). It is idempotent: an already converted column is kept. A missing column or a value
    that cannot be converted is a one-line ``ValueError`` (:class:`metarec.DataError`) naming the column.
    """

    def __init__(self, kinds: dict | None = None, decimal_comma: bool = False):
        self.kinds = kinds
        self.decimal_comma = decimal_comma

    def fit(self, X, y=None):
        frame = self._input_frame(X, fitting=True)
        given = {str(c): k for c, k in (self.kinds or {}).items()}
        unknown = sorted({k for k in given.values() if k not in COLUMN_KINDS})
        if unknown:
            raise DataError(f"unknown column kind(s) {', '.join(map(repr, unknown))}; use one of {', '.join(COLUMN_KINDS)}")
        inferred, levels, notes = infer_column_kinds(frame[[c for c in frame.columns if c not in given]],
                                                     decimal_comma=bool(self.decimal_comma))
        self.kinds_ = {c: given.get(c, inferred.get(c)) for c in frame.columns}
        for c, kind in self.kinds_.items():  # the levels of the given category columns, as they are now
            if kind == "category" and c not in levels:
                col = frame[c]
                if isinstance(col.dtype, pd.CategoricalDtype):
                    levels[c] = list(col.cat.categories)
                else:
                    levels[c] = sorted({str(v) for v in col.dropna().unique()})
        self.levels_ = levels
        self.notes_ = notes
        self.feature_names_in_ = np.asarray(list(frame.columns), dtype=object)
        self.n_features_in_ = len(frame.columns)
        return self

    def transform(self, X):
        check_is_fitted(self, "kinds_")
        frame = self._input_frame(X)
        return apply_column_kinds(frame, self.kinds_, self.levels_)

    def get_feature_names_out(self, input_features=None):
        check_is_fitted(self, "kinds_")
        return np.asarray(self.feature_names_in_, dtype=object)

    def _input_frame(self, X, fitting: bool = False):
        """X as a DataFrame with string column names (the fitted ones, in order, after fit)."""
        if not isinstance(X, pd.DataFrame):
            arr = np.asarray(X) if not hasattr(X, "toarray") else X.toarray()
            if arr.ndim != 2:
                raise DataError(f"X must be 2-dimensional, got shape {arr.shape}; reshape it to (n_rows, n_features)")
            if fitting:
                names = [f"x{i}" for i in range(arr.shape[1])]
            else:
                names = list(self.feature_names_in_)
                if arr.shape[1] != len(names):
                    raise DataError(f"X has {arr.shape[1]} features, but the model is expecting {len(names)} "
                                    f"features as input (columns: {_shown(names)})")
            return pd.DataFrame(arr, columns=names)
        frame = X.set_axis([str(c) for c in X.columns], axis=1)
        if fitting:
            dups = sorted(frame.columns[frame.columns.duplicated()].unique())
            if dups:
                raise DataError(f"duplicate column names {', '.join(dups)}; give every column a unique name")
            return frame
        names = list(self.feature_names_in_)
        present = set(frame.columns)
        missing = [c for c in names if c not in present]
        if missing:  # names that differ only by surrounding spaces (the CSV reader strips them) are the same
            stripped = {c.strip(): c for c in frame.columns}
            renames = {stripped[c.strip()]: c for c in missing if c.strip() in stripped and stripped[c.strip()] not in names}
            frame = frame.rename(columns=renames)
            missing = [c for c in names if c not in set(frame.columns)]
        if missing:
            raise DataError(f"X has no column{'s' if len(missing) > 1 else ''} {_shown(missing)}, which the model "
                            f"was fitted with; pass the same feature columns (without the target)")
        return frame[names] if list(frame.columns) != names else frame


def _shown(names, n: int = 8) -> str:
    shown = ", ".join(repr(c) for c in names[:n])
    return shown + (", ..." if len(names) > n else "")
