"""Column typing: how loading types each feature column (number, decimal comma, ISO date, category, free
text), shared by :func:`metarec.data.load_dataset` and :class:`metarec.coltypes.ColumnTyper`."""

from __future__ import annotations

from ..exceptions import DataError

__all__ = [
    "COLUMN_KINDS",
    "TEXT_CARDINALITY",
    "TEXT_MAX_CATEGORIES",
    "TEXT_MIN_FREQUENCY",
    "infer_column_kinds",
    "apply_column_kinds",
]

#: An object/string column with more distinct values than this share of rows stays free text.
TEXT_CARDINALITY = 0.5
#: Free-text columns (``object`` / ``string``; loading makes low-cardinality text ``category``) are one-hot
#: encoded by the learners (:mod:`metarec.learners.base`) as at most this many columns: the most frequent
#: values seen at least ``TEXT_MIN_FREQUENCY`` times get a column each, the rest (and unseen values) share one
#: "infrequent" column.
TEXT_MAX_CATEGORIES = 20
TEXT_MIN_FREQUENCY = 2
#: Declared categorical columns (``category`` dtype, e.g. an R factor) are one-hot encoded by the learners as
#: at most this many columns: past it, the least frequent levels share one "infrequent" column (a factor of
#: time stamps with thousands of levels would otherwise become thousands of columns).
CATEGORY_MAX_COLUMNS = 64
#: ISO 8601 dates / date-times (``2020-01-31``, ``2020-01-31 12:00``, ``2020-01-31T12:00:00Z``) in text columns.
_ISO_DATE = r"^\d{4}-\d{1,2}-\d{1,2}(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?(?:Z|[+-]\d{2}:?\d{2})?$"
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
                         f"times), put the rest in one 'infrequent' column, and target encode it"
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


def _missing(v) -> bool:
    """A missing cell: None, NaN, NaT or pandas' NA (whose truth value raises, so ``v != v`` cannot test it)."""
    import pandas as pd

    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):  # a list-like cell is a value
        return False


def _duplicates(columns) -> list[str]:
    seen: set = set()
    return sorted({str(c) for c in columns if (c in seen or seen.add(c))})


def _short(text, n: int = 60) -> str:
    text = str(text)
    return text if len(text) <= n else text[: n - 3] + "..."


def _cols(frame, n: int = 8) -> str:
    cols = [str(c) for c in frame.columns]
    return ", ".join(cols[:n]) + (", ..." if len(cols) > n else "")
