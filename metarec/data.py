"""Loading and validating datasets into a :class:`Dataset` (X, y, task type, categorical mask)."""

from __future__ import annotations

import contextlib
import io
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .exceptions import DataError

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

    def column_typer(self):
        """An unfitted :class:`ColumnTyper` that types new raw data as loading typed this dataset."""
        from .coltypes import ColumnTyper

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
            "n_rows": self.n_rows,
            "n_features": self.n_features,
            "n_categorical": int(sum(self.categorical)),
            "n_classes": self.n_classes,
            "columns": {str(c): str(t) for c, t in self.X.dtypes.items()},
            "warnings": list(self.warnings),
        }


#: Fewest rows a dataset may have (fewer is a DataError naming this minimum).
MIN_ROWS = 2
#: An integer target with at most this many distinct values is treated as classification.
MAX_INT_CLASSES = 20
#: An object/string column with more distinct values than this share of rows stays free text.
TEXT_CARDINALITY = 0.5
#: Fewer rows than this load, with a warning that meta-features and recommendations are unreliable.
FEW_ROWS = 20
#: ISO 8601 dates / date-times (``2020-01-31``, ``2020-01-31 12:00``, ``2020-01-31T12:00:00Z``) in text columns.
_ISO_DATE = r"^\d{4}-\d{1,2}-\d{1,2}(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?(?:Z|[+-]\d{2}:?\d{2})?$"

#: Compressions of CSV/TSV files read transparently (``data.csv.gz``, ``data.tsv.bz2``, ``data.csv.zip``, ...).
COMPRESSIONS = (".gz", ".bz2", ".zip", ".xz")

FILE_FORMATS = {
    ".csv": "csv",
    ".tsv": "csv",
    ".txt": "csv",
    ".data": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".feather": "feather",
    ".arrow": "feather",
    ".arff": "arff",
}


def load_dataset(
    source: Any,
    target: str | None = None,
    task_type: str | None = None,
    *,
    y: Any = None,
    name: str | None = None,
    min_rows: int = MIN_ROWS,
    openml_cache: str | None = None,
) -> Dataset:
    """Load and validate a dataset from a file, an OpenML id, a DataFrame or numpy arrays.

    Parameters
    ----------
    source : Dataset, str, path, pandas.DataFrame or numpy.ndarray
        A :class:`Dataset` (returned as is); a file (CSV/TSV with sniffed delimiter, also compressed as
        ``.gz``, ``.bz2``, ``.zip`` or ``.xz``; Parquet, Feather, ARFF); ``"openml:ID"``; a DataFrame
        holding the target column; or a feature matrix with ``y``.
    target : str, optional
        The target column. Required for files and DataFrames (there is no silent guess); OpenML datasets
        default to their declared default target.
    task_type : {"classification", "regression"}, optional
        Overrides inference. Inferred as classification for categorical, boolean and string targets and
        for integer targets with at most ``MAX_INT_CLASSES`` distinct values; regression otherwise.
    y : array-like, optional
        The target when ``source`` holds features only.
    name : str, optional
        A display name (default: file stem, ``openml`` name, or ``"dataset"``).
    min_rows : int
        Fewer rows (after dropping rows with a missing target) is a :class:`DataError`.
    openml_cache : str, optional
        The ``openml`` cache directory (default: ``$METAREC_OPENML_CACHE`` or openml's own default).

    Raises
    ------
    DataError
        With a message naming the problem and the fix.
    """
    if isinstance(source, Dataset):
        return source
    if task_type is not None and task_type not in (CLASSIFICATION, REGRESSION):
        raise DataError(f"unknown task type {task_type!r}; use 'classification' or 'regression'")
    import numpy as np
    import pandas as pd

    warnings: list[str] = []
    openml_id = None
    decimal_comma = False
    if isinstance(source, (str, os.PathLike)) and str(source).startswith("openml:"):
        frame, target, name, declared_target, openml_id = _load_openml(str(source), target, openml_cache)
        src = str(source)
    elif isinstance(source, (str, os.PathLike)):
        path = Path(source)
        frame = read_table(path, warnings)
        decimal_comma = frame.attrs.pop("delimiter", None) == ";"  # European CSVs: 1,5 is one and a half
        src = str(path)
        name = name or _stem(path)
    elif isinstance(source, pd.DataFrame):
        frame = source.copy()
        src = "DataFrame"
    elif isinstance(source, (np.ndarray, list, tuple)) or hasattr(source, "__array__"):  # arrays, as in scikit-learn
        arr = np.asarray(source)
        if arr.ndim != 2:
            raise DataError(f"X must be 2-dimensional, got shape {arr.shape}; reshape it to (n_rows, n_features)")
        frame = pd.DataFrame(arr, columns=[f"x{i}" for i in range(arr.shape[1])])
        src = "ndarray"
    else:
        raise DataError(
            f"cannot load a dataset from {type(source).__name__}; pass a file path, 'openml:ID', a DataFrame or arrays"
        )
    if y is not None:
        named = target if target is not None else getattr(y, "name", None)  # y's own name, as pandas gives it
        ys = pd.Series(np.asarray(y) if not isinstance(y, pd.Series) else y.to_numpy())
        if ys.ndim != 1 or len(ys) != len(frame):
            raise DataError(f"X has {len(frame)} rows but y has {len(ys)}; pass a target of the same length")
        columns = {str(c) for c in frame.columns}
        if named is not None and str(named) in columns:  # the target is in X too: it would be its own feature
            raise DataError(f"X already has a column named {str(named)!r}, the name of the target; drop it from X, "
                            f"or pass the column name alone (target={str(named)!r}) without y")
        target = str(named) if named is not None else "target"
        while target in columns:  # an unnamed y never clashes with a feature called "target"
            target = "_" + target
        frame = frame.reset_index(drop=True)
        frame[target] = ys.to_numpy()
    return _validate(frame, target, task_type, name or "dataset", src, warnings, min_rows, openml_id,
                     decimal_comma=decimal_comma)


def _duplicates(columns) -> list[str]:
    seen: set = set()
    return sorted({str(c) for c in columns if (c in seen or seen.add(c))})


def _validate(frame, target, task_type, name, src, warnings, min_rows, openml_id,
              decimal_comma: bool = False) -> Dataset:
    import numpy as np
    import pandas as pd

    dups = _duplicates(frame.columns)
    if dups:
        raise DataError(f"{src}: duplicate column names {', '.join(dups)}; give every column a unique name")
    frame.columns = [str(c) for c in frame.columns]
    if target is not None and not isinstance(target, str) and np.ndim(target) == 0:
        target = str(target)  # an integer column name, e.g. of pd.DataFrame(ndarray), as the columns now are
    if frame.shape[1] == 0:
        raise DataError(f"{src}: no columns; check the file")
    if target is None:
        raise DataError(f"{src}: no target given; name the target column with --target (target= in Python; columns: {_cols(frame)})")
    if target not in frame.columns and frame.shape[1] == 1 and any(d in str(frame.columns[0]) for d in " ,;|\t:"):
        raise DataError(
            f"{src}: only one column {_short(frame.columns[0])!r} was found, so the delimiter was not recognised; "
            f"save the file with commas, semicolons, tabs or | between the columns"
        )
    if target not in frame.columns:
        import difflib

        lowered = {c.lower(): c for c in frame.columns}
        close = [lowered[target.lower()]] if target.lower() in lowered else []
        close += [c for c in difflib.get_close_matches(target, list(frame.columns), n=3, cutoff=0.5) if c not in close]
        hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else f" (columns: {_cols(frame)})"
        raise DataError(f"{src}: target column {target!r} not found{hint}")
    if frame.shape[0] == 0:
        raise DataError(f"{src}: the data has a header but no rows; add data rows")
    yraw = frame[target]
    X = frame.drop(columns=[target])
    # infinities are undefined values to every learner here
    num = X.select_dtypes("number")
    if num.shape[1] and np.isinf(num.to_numpy(dtype=float, na_value=np.nan)).any():
        n_inf = int(np.isinf(num.to_numpy(dtype=float, na_value=np.nan)).sum())
        X[num.columns] = num.replace([np.inf, -np.inf], np.nan)
        warnings.append(f"{n_inf} infinite values treated as missing")
    missing = yraw.isna()
    if pd.api.types.is_numeric_dtype(yraw) and not pd.api.types.is_bool_dtype(yraw):
        missing = missing | np.isinf(yraw.astype(float))
    if missing.all():
        raise DataError(f"{src}: target {target!r} is missing in every row; choose another target column")
    if missing.any():
        warnings.append(f"dropped {int(missing.sum())} rows with a missing target")
        X = X.loc[~missing.to_numpy()].reset_index(drop=True)
        yraw = yraw.loc[~missing.to_numpy()].reset_index(drop=True)
    if len(X) < min_rows:
        raise DataError(f"{src}: {len(X)} row(s) with a target (n_samples={len(X)}), fewer than the minimum of {min_rows}; add rows")
    if len(X) < FEW_ROWS:
        warnings.append(f"only {len(X)} rows: meta-features and recommendations are unreliable below {FEW_ROWS} rows")
    X, kinds = _type_columns(X, warnings, decimal_comma=decimal_comma)
    task, y = _type_target(yraw, task_type, src, warnings)
    if X.shape[1] == 0:
        warnings.append("no feature columns besides the target")
    elif X.shape[1] > len(X):
        warnings.append(f"more feature columns ({X.shape[1]}) than rows ({len(X)}): scores and recommendations are "
                        f"uncertain; consider selecting features")
    _report_columns(X, warnings)
    cat = [not pd.api.types.is_numeric_dtype(t) or pd.api.types.is_bool_dtype(t) for t in X.dtypes]
    return Dataset(X, y, task, name, src, target, cat, warnings, openml_id, kinds)


def _short(text, n: int = 60) -> str:
    text = str(text)
    return text if len(text) <= n else text[: n - 3] + "..."


def _cols(frame, n: int = 8) -> str:
    cols = [str(c) for c in frame.columns]
    return ", ".join(cols[:n]) + (", ..." if len(cols) > n else "")


def _type_columns(X, warnings, decimal_comma: bool = False):
    """Type the feature columns as :class:`ColumnTyper` does: returns ``(typed X, {column: kind})``."""
    parsed: dict = {}  # the dates inference parsed, converted without parsing them again
    kinds, levels, notes = infer_column_kinds(X, decimal_comma=decimal_comma, parsed=parsed)
    warnings.extend(notes)
    return apply_column_kinds(X, kinds, levels, fitted_on_this=True, parsed=parsed), kinds


#: What :func:`infer_column_kinds` calls a column (see :class:`metarec.coltypes.ColumnTyper`).
COLUMN_KINDS = ("number", "decimal_comma", "date", "category", "text", "keep")
#: A number written with a decimal comma (``1,5``, ``-0,25``, ``3``, ``1,5e3``), as in ``;``-separated files.
_DECIMAL_COMMA = r"^[+-]?(?:\d+(?:,\d*)?|,\d+)(?:[eE][+-]?\d+)?$"


def infer_column_kinds(X, decimal_comma: bool = False, parsed: dict | None = None):
    """How each column of ``X`` is typed, its category levels, and a warning line per conversion.

    Category columns (declared levels) are ``"category"``; bool is ``"keep"``; numbers are ``"number"``;
    datetime64 is ``"date"``. A text column whose values are all numbers is ``"number"`` (with
    ``decimal_comma``, numbers written ``1,5`` make it ``"decimal_comma"``), all ISO 8601 dates
    ``"date"`` (epoch milliseconds), more than ``max(20, TEXT_CARDINALITY * rows)`` distinct values
    ``"text"`` (free text), otherwise ``"category"`` with the sorted values as levels. ``parsed`` (optional)
    receives the parsed dates of each date column, for :func:`apply_column_kinds` on the same ``X``.
    """
    import pandas as pd

    from .learners.base import TEXT_MAX_CATEGORIES, TEXT_MIN_FREQUENCY

    kinds: dict = {}
    levels: dict = {}
    notes: list[str] = []
    for c, dtype in X.dtypes.items():
        if isinstance(dtype, pd.CategoricalDtype):
            kinds[c] = "category"
            levels[c] = list(dtype.categories)
            continue
        if pd.api.types.is_bool_dtype(dtype):
            kinds[c] = "keep"
            continue
        col = X[c]
        if pd.api.types.is_datetime64_any_dtype(dtype):
            kinds[c] = "date"
            notes.append(f"column {c!r}: dates converted to epoch milliseconds")
            continue
        if pd.api.types.is_numeric_dtype(dtype):
            kinds[c] = "number"
            continue
        nonnull = col.dropna()
        # the tests below depend on the set of distinct values only; for a string column (every value
        # a str) they run on its distinct values, which is much cheaper than on every row
        text = isinstance(dtype, pd.StringDtype)
        distinct = pd.Series(nonnull.unique(), dtype=dtype) if text else nonnull
        as_num = pd.to_numeric(distinct, errors="coerce")
        if len(nonnull) and as_num.notna().all():
            kinds[c] = "number"
            notes.append(f"column {c!r}: numbers stored as text read as numbers")
            continue
        values = distinct.map(str)
        stripped = values.str.strip()
        if (decimal_comma and len(values) and stripped.str.match(_DECIMAL_COMMA).all()
                and stripped.str.contains(",", regex=False).any()):
            kinds[c] = "decimal_comma"
            example = _short(stripped[stripped.str.contains(",", regex=False)].iloc[0], 20)
            notes.append(f"column {c!r}: numbers with a decimal comma (e.g. {example!r}) read as numbers")
            continue
        if len(values) and stripped.str.match(_ISO_DATE).all():
            dates = _parse_dates(col)
            if dates.notna().sum() == len(nonnull):
                if parsed is not None:
                    parsed[c] = dates
                kinds[c] = "date"
                notes.append(f"column {c!r}: dates converted to epoch milliseconds")
                continue
        n_unique = values.nunique()
        mixed = bool(as_num.notna().any())
        if len(nonnull) and n_unique > max(20, TEXT_CARDINALITY * len(nonnull)):
            kinds[c] = "text"
            notes.append(f"column {c!r}: free text ({n_unique} distinct values); the learners one-hot encode only its "
                         f"{TEXT_MAX_CATEGORIES - 1} most frequent values (each seen at least {TEXT_MIN_FREQUENCY} "
                         f"times) and put the rest in one 'infrequent' column"
                         + ("; it also holds numbers" if mixed else ""))
        else:
            if mixed:
                notes.append(f"column {c!r}: mixes numbers and text; treated as categorical")
            kinds[c] = "category"
            levels[c] = sorted(values.unique())
    return kinds, levels, notes


def _parse_dates(col):
    """ISO 8601 text (or datetime64) as UTC timestamps; NaT where a value is not a date."""
    import pandas as pd

    return pd.to_datetime(col.map(lambda v: None if _missing_text(v) else str(v).strip()),
                          errors="coerce", format="ISO8601", utc=True)


def _missing_text(v) -> bool:
    """Missing, or a missing-value token of the CSV reader (empty, ``?``) in a column converted to numbers/dates."""
    return _missing(v) or (isinstance(v, str) and v.strip() in ("", "?"))


def apply_column_kinds(X, kinds: dict, levels: dict, fitted_on_this: bool = False, parsed: dict | None = None):
    """Convert the columns of ``X`` as ``kinds`` say (the transform of :class:`ColumnTyper`).

    Idempotent: a column already of the converted type is kept. A value that cannot be converted is a
    :class:`DataError` (a ``ValueError``) naming the column. ``fitted_on_this`` skips the checks that
    cannot fail on the data the kinds were inferred from; ``parsed`` holds dates :func:`infer_column_kinds`
    already parsed from this ``X``.
    """
    import numpy as np
    import pandas as pd

    out = {}
    floats: list = []
    dtypes = X.dtypes
    for c, kind in kinds.items():
        if kind == "keep" or c not in dtypes.index:
            continue
        dtype = dtypes[c]
        if kind in ("number", "decimal_comma") and pd.api.types.is_numeric_dtype(dtype):
            if not fitted_on_this and not pd.api.types.is_bool_dtype(dtype) and dtype.kind == "f":
                floats.append(c)  # infinities are missing values, as loading says (checked at once below)
            continue  # the common case, without taking the column out (10,000 columns stay fast)
        col = X[c]
        if kind in ("number", "decimal_comma"):
            if pd.api.types.is_datetime64_any_dtype(dtype):
                raise DataError(f"column {c!r} holds dates, but the model was fitted on numbers in it; "
                                f"pass the column as numbers")
            num = pd.to_numeric(col, errors="coerce") if kind == "number" else None
            if num is None or (not fitted_on_this and (num.isna() & col.notna()).any()):
                blank = col.map(_missing_text).astype(bool)  # "", " ", "?" are missing, as the CSV reader says
                s = col.where(~blank, None).map(lambda v: v if v is None else str(v).strip())
                if kind == "decimal_comma":
                    s = s.map(lambda v: v if v is None else v.replace(",", "."))
                num = pd.to_numeric(s, errors="coerce")
                bad = num.isna() & ~blank
                if bad.any():
                    example = col[bad].iloc[0]
                    what = "a number (with a decimal comma)" if kind == "decimal_comma" else "a number"
                    raise DataError(f"column {c!r}: value {_short(example, 30)!r} is not {what}, "
                                    f"but the model was fitted on numbers in this column; fix or blank that value")
            if num.dtype == object:
                num = num.astype(float)
            if num.dtype.kind == "f" and np.isinf(num.to_numpy(dtype=float, na_value=np.nan)).any():
                num = num.replace([np.inf, -np.inf], np.nan)
            out[c] = num
        elif kind == "date":
            if pd.api.types.is_datetime64_any_dtype(dtype):
                out[c] = _epoch_ms(col)
                continue
            if pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype):
                continue  # already epoch milliseconds
            dates = parsed[c] if parsed and c in parsed else _parse_dates(col)
            bad = None if fitted_on_this else dates.isna() & ~col.map(_missing_text).astype(bool)
            if bad is not None and bad.any():
                raise DataError(f"column {c!r}: value {_short(col[bad].iloc[0], 30)!r} is not an ISO date "
                                f"(YYYY-MM-DD[ HH:MM[:SS]]), but the model was fitted on dates in this column; "
                                f"fix or blank that value")
            out[c] = _epoch_ms(dates)
        elif kind == "category":
            if isinstance(dtype, pd.CategoricalDtype):
                continue
            text = isinstance(dtype, pd.StringDtype)
            s = col.astype(object).where(col.notna(), None) if text else col.map(lambda v: None if _missing(v) else str(v))
            known = [str(v) for v in levels.get(c, [])]
            if not fitted_on_this:
                seen = set(known)
                known = known + sorted({v for v in pd.unique(s.dropna()) if v not in seen})
            out[c] = pd.Categorical(s, categories=known)
        elif kind == "text":
            if dtype == object and not fitted_on_this and not col.isna().any():
                continue
            out[c] = col.astype(object).where(col.notna(), None)
        else:
            raise DataError(f"column {c!r}: unknown column kind {kind!r}; use one of {', '.join(COLUMN_KINDS)}")
    if floats:
        block = X[floats].to_numpy(dtype=float, na_value=np.nan)
        for j in np.flatnonzero(np.isinf(block).any(axis=0)):
            out[floats[j]] = X[floats[j]].replace([np.inf, -np.inf], np.nan)
    if out:
        X = X.copy()
        for c, values in out.items():  # not X.assign(**out): a column may be called "self"
            X[c] = values
    return X


def _epoch_ms(col):
    """Milliseconds since 1970-01-01 UTC as float (NaN for missing), whatever the datetime unit or zone."""
    import pandas as pd

    if getattr(col.dt, "tz", None) is not None:
        col = col.dt.tz_convert("UTC").dt.tz_localize(None)
    return ((col - pd.Timestamp("1970-01-01")) / pd.Timedelta(milliseconds=1)).astype(float)


def _type_target(y, task_type, src, warnings):
    import numpy as np
    import pandas as pd

    if task_type is None:
        if isinstance(y.dtype, pd.CategoricalDtype) or pd.api.types.is_bool_dtype(y) or not pd.api.types.is_numeric_dtype(y):
            task_type = CLASSIFICATION
        else:
            values = y.to_numpy(dtype=float)
            integral = np.all(np.mod(values, 1) == 0)
            n_unique = len(np.unique(values))
            # a float column of whole numbers (1.0, 2.0) is not an "integer target": say what it is
            whole = "" if pd.api.types.is_integer_dtype(y) else " whole-number"
            what = "integer target" if not whole else "float target"
            if integral and n_unique <= MAX_INT_CLASSES:
                task_type = CLASSIFICATION
                warnings.append(
                    f"{what} with {n_unique} distinct{whole} values (at most {MAX_INT_CLASSES}) treated as "
                    f"classification; pass task_type='regression' (--task regression) to override"
                )
            else:
                task_type = REGRESSION
                if integral:
                    warnings.append(
                        f"{what} with {n_unique} distinct{whole} values (more than {MAX_INT_CLASSES}) treated as "
                        f"regression; pass task_type='classification' (--task classification) to override"
                    )
    if task_type == REGRESSION:
        try:
            y = pd.to_numeric(y, errors="raise").astype(float)
        except (ValueError, TypeError):
            raise DataError(f"{src}: target {y.name!r} is not numeric, so it cannot be a regression target; "
                            f"use --task classification (task_type='classification' in Python)") from None
        if y.nunique() < 2:
            raise DataError(f"{src}: target {y.name!r} is constant; choose a target that varies")
        return task_type, y
    if not isinstance(y.dtype, pd.CategoricalDtype):
        if pd.api.types.is_bool_dtype(y):
            y = pd.Series(pd.Categorical(y, categories=[True, False]), name=y.name)
        elif pd.api.types.is_numeric_dtype(y):
            vals = np.sort(y.unique())
            y = pd.Series(pd.Categorical(y, categories=vals), name=y.name)
        else:
            s = y.map(str)
            y = pd.Series(pd.Categorical(s, categories=sorted(s.unique())), name=y.name)
    if y.nunique() < 2:
        only = y.iloc[0].item() if hasattr(y.iloc[0], "item") else y.iloc[0]  # 1, not np.int64(1)
        raise DataError(f"{src}: target {y.name!r} has a single class ({only!r}); classification needs at least two")
    return task_type, y


def _report_columns(X, warnings):
    import pandas as pd

    n = len(X)
    if X.shape[1] == 0:
        return
    nunique = _nunique(X)
    allnan = X.isna().all()
    for c, dtype in X.dtypes.items():
        nun = nunique[c]
        if allnan[c]:
            warnings.append(f"column {c!r} is missing in every row")
        elif nun <= 1 and n > 1:
            warnings.append(f"column {c!r} is constant")
        elif n >= 20 and nun == n and (pd.api.types.is_integer_dtype(dtype) or dtype == object):
            warnings.append(f"column {c!r} looks like an ID (a distinct value in every row); consider dropping it")


def _nunique(X):
    """Distinct non-missing values per column; numeric columns in one sorted array (10,000 columns stay fast)."""
    import numpy as np
    import pandas as pd

    num = [c for c, t in X.dtypes.items() if pd.api.types.is_numeric_dtype(t) and not pd.api.types.is_bool_dtype(t)]
    out = {}
    if num:
        a = np.sort(X[num].to_numpy(dtype=float, na_value=np.nan), axis=0)  # NaN sorts last
        ok = ~np.isnan(a)
        changes = (np.diff(a, axis=0) != 0) & ok[1:]
        counts = np.where(ok.any(axis=0), 1 + changes.sum(axis=0), 0)
        out = dict(zip(num, counts.tolist()))
    rest = [c for c in X.columns if c not in out]
    for c in rest:
        out[c] = int(X[c].nunique(dropna=True))
    return pd.Series(out)


def read_table(path: Path, warnings: list[str] | None = None):
    """Read a data file by its extension; every failure is a :class:`DataError` naming the fix."""
    import pandas as pd

    warnings = warnings if warnings is not None else []
    if not path.exists():
        raise DataError(f"{path}: no such file; check the path")
    if path.is_dir():
        raise DataError(f"{path}: is a directory, not a data file; pass a file inside it")
    suffix, compression = _suffixes(path)
    fmt = FILE_FORMATS.get(suffix)
    if compression and fmt != "csv":
        fmt = None
    if fmt is None:
        shown = (suffix + (compression or "")) or "(no extension)"
        raise DataError(
            f"{path}: unknown format {shown!r}; use one of {', '.join(sorted(FILE_FORMATS))} "
            f"(CSV/TSV may be compressed: {', '.join(sorted(COMPRESSIONS))})"
        )
    if path.stat().st_size == 0:
        raise DataError(f"{path}: the file is empty; check the path or re-export the data")
    try:
        if fmt == "parquet":
            return pd.read_parquet(path)
        if fmt == "feather":
            return pd.read_feather(path)
    except Exception as exc:
        raise DataError(f"{path}: not a readable {fmt} file ({type(exc).__name__}); check the file") from None
    if fmt == "arff":
        frame, _ = read_arff(path)
        return frame
    return _read_csv(path, warnings, suffix, compression)


def _suffixes(path: Path) -> tuple[str, str | None]:
    """The format suffix and the compression suffix (``data.csv.gz`` -> ``(".csv", ".gz")``)."""
    suffixes = [x.lower() for x in path.suffixes]
    if suffixes and suffixes[-1] in COMPRESSIONS:
        return (suffixes[-2] if len(suffixes) > 1 else ""), suffixes[-1]
    return path.suffix.lower(), None


def _stem(path: Path) -> str:
    """The file name without its format and compression suffixes (``data.csv.gz`` -> ``data``)."""
    suffix, compression = _suffixes(path)
    name = path.name
    for x in (compression, suffix):
        if x and name.lower().endswith(x):
            name = name[: -len(x)]
    return name or path.stem


def _decompress(path: Path, raw: bytes, compression: str) -> bytes:
    import bz2
    import gzip
    import lzma
    import zipfile

    try:
        if compression == ".gz":
            return gzip.decompress(raw)
        if compression == ".bz2":
            return bz2.decompress(raw)
        if compression == ".xz":
            return lzma.decompress(raw)
        with zipfile.ZipFile(io.BytesIO(raw)) as zf:
            members = [m for m in zf.infolist() if not m.is_dir()]
            if len(members) != 1:
                raise DataError(f"{path}: a .zip file must hold exactly one data file, it holds {len(members)}; "
                                f"extract the one you want")
            return zf.read(members[0])
    except DataError:
        raise
    except Exception as exc:
        raise DataError(f"{path}: not a readable {compression} file ({type(exc).__name__}); check the file") from None


def _read_csv(path: Path, warnings: list[str], suffix: str | None = None, compression: str | None = None):
    import csv

    import pandas as pd

    suffix = suffix if suffix is not None else path.suffix.lower()
    raw = path.read_bytes()
    if compression:
        raw = _decompress(path, raw, compression)
        if not raw.strip():
            raise DataError(f"{path}: the compressed file is empty; check the path or re-export the data")
    if b"\x00" in raw[:65536]:
        raise DataError(f"{path}: looks like a binary file, not text; export the data as CSV")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
        warnings.append(f"{path.name} is not UTF-8; read it as Latin-1")
    sample = text[:65536]
    if not sample.strip():
        raise DataError(f"{path}: the file holds only whitespace; check the path or re-export the data")
    first_line = sample.split("\n", 1)[0]
    if suffix == ".tsv" and "\t" in first_line:
        sep = "\t"
    else:
        try:
            sep = csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
        except csv.Error:
            sep = ","
        if suffix == ".tsv":
            warnings.append(f"{path.name}: a .tsv file without tabs; read it with {sep!r} as the delimiter")
    header = next(csv.reader(io.StringIO(sample), delimiter=sep))
    dups = _duplicates([h.strip() for h in header])
    if dups:
        raise DataError(f"{path}: duplicate column names {', '.join(dups)}; give every column a unique name")
    try:
        frame = pd.read_csv(io.StringIO(text), sep=sep, skipinitialspace=True, na_values=["?", "NA", "nan", ""])
    except Exception as exc:
        raise DataError(f"{path}: not a readable CSV file ({type(exc).__name__}: {exc}); check the delimiter and quoting") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    if frame.shape[1] == 1 and len(header) == 1 and any(d in sample for d in ";\t|"):
        warnings.append(f"{path.name}: only one column was found; check the delimiter")
    frame.attrs["delimiter"] = sep
    return frame


def _load_openml(source: str, target: str | None, cache: str | None):
    import openml

    ident = source.split(":", 1)[1]
    try:
        did = int(ident)
    except ValueError:
        raise DataError(f"{source}: an OpenML dataset is written openml:ID with a number, e.g. openml:31") from None
    cache = cache or os.environ.get("METAREC_OPENML_CACHE")
    with _openml_config(cache, os.environ.get("METAREC_OPENML_SERVER")):
        try:
            d = openml.datasets.get_dataset(
                did, download_data=True, download_qualities=False, download_features_meta_data=True
            )
        except Exception as exc:
            where = cache or "openml's default cache"
            raise DataError(
                f"{source}: OpenML dataset {did} is neither in the cache ({where}) nor reachable "
                f"({type(exc).__name__}); download it on a connected machine or pass a local file"
            ) from None
        declared = d.default_target_attribute
        target = target or declared
        if not target:
            raise DataError(f"{source}: the dataset declares no default target; name one with --target (target= in Python)")
        try:
            frame, _, _, _ = d.get_data(target=None, include_row_id=False, include_ignore_attribute=False)
        except Exception as exc:
            raise DataError(f"{source}: OpenML data could not be read ({type(exc).__name__}: {exc})") from None
    return frame, target, d.name, declared, did


@contextlib.contextmanager
def _openml_config(cache: str | None, server: str | None):
    """openml's process-wide settings for one load (the cache, the server, one connection attempt), put back
    afterwards: a library call must not change the openml configuration of the program that calls it."""
    import openml

    config = openml.config
    saved = {"server": config.server, "connection_n_retries": config.connection_n_retries,
             "root": getattr(config, "_root_cache_directory", None)}
    try:
        if cache:
            config.set_root_cache_directory(os.path.expanduser(cache))
        if server:
            config.server = server
        config.connection_n_retries = 1  # offline: fail at once, the message says what to do
        yield
    finally:
        config.server = saved["server"]
        config.connection_n_retries = saved["connection_n_retries"]
        if cache and saved["root"] is not None:
            config.set_root_cache_directory(saved["root"])


def read_arff(path) -> tuple[Any, dict[str, Any]]:
    """Read an ARFF file into a DataFrame keeping Weka/OpenML semantics.

    Nominal attributes become ``category`` columns whose categories are the *declared* levels in declared
    order (unused levels included); numeric attributes become float64; STRING attributes stay ``object``;
    DATE attributes become float64 epoch milliseconds (what Weka uses). ``?`` becomes missing. Returns the
    frame and ``{"relation": name, "types": {column: arff type}}``.
    """
    import arff  # liac-arff, a dependency of openml
    import numpy as np
    import pandas as pd

    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            decoded = arff.load(fh)
    except Exception as exc:
        raise DataError(f"{path}: not a readable ARFF file ({type(exc).__name__}: {exc}); check the file") from None
    attrs = decoded["attributes"]
    names = [a[0] for a in attrs]
    data = decoded["data"]
    if isinstance(data, tuple):  # COO from sparse files
        raise DataError(f"{path}: sparse ARFF is not supported; convert it to a dense file")
    cols: dict[str, Any] = {}
    types: dict[str, Any] = {}
    rows = list(zip(*data)) if data else [[] for _ in names]
    for (name, atype), values in zip(attrs, rows):
        if isinstance(atype, list):
            cat = pd.Categorical(list(values), categories=pd.Index(atype, dtype=object), ordered=False)
            cols[name] = cat
            types[name] = "nominal"
        elif isinstance(atype, str) and atype.upper() in ("NUMERIC", "REAL", "INTEGER"):
            cols[name] = np.array([np.nan if v is None else v for v in values], dtype=np.float64)
            types[name] = "numeric"
        elif isinstance(atype, str) and atype.upper().startswith("DATE"):
            ts = pd.to_datetime(pd.Series(list(values), dtype=object), errors="coerce", utc=True)
            ms = ts.astype("int64", copy=False).astype(np.float64) / 1e6
            cols[name] = np.where(ts.isna(), np.nan, ms)
            types[name] = "date"
        else:
            cols[name] = pd.array(list(values), dtype=object)
            types[name] = "string"
    frame = pd.DataFrame(cols, columns=names)
    return frame, {"relation": decoded.get("relation", ""), "types": types}


def _missing(v) -> bool:
    """A missing cell: None, NaN, NaT or pandas' NA (whose truth value raises, so ``v != v`` cannot test it)."""
    import pandas as pd

    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):  # a list-like cell is a value
        return False


def __getattr__(name: str):
    # the scikit-learn transformer lives in metarec.coltypes (importing scikit-learn here would make
    # `import metarec.data` slow); `metarec.data.ColumnTyper` is the same class
    if name == "ColumnTyper":
        from .coltypes import ColumnTyper

        return ColumnTyper
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
