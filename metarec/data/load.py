"""Loading and validating a dataset into a :class:`~metarec.data.Dataset`: :func:`load_dataset` takes a
file, an OpenML id, a DataFrame or arrays, types the columns and the target, and warns about what it noticed."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..exceptions import DataError
from .columns import _cols, _duplicates, _short, apply_column_kinds, infer_column_kinds
from .dataset import CLASSIFICATION, REGRESSION, Dataset
from .openml_io import _load_openml
from .readers import _stem, read_table

__all__ = ["MIN_ROWS", "MAX_INT_CLASSES", "FEW_ROWS", "load_dataset"]

#: Fewest rows a dataset may have (fewer is a DataError naming this minimum).
MIN_ROWS = 2
#: An integer target with at most this many distinct values is treated as classification.
MAX_INT_CLASSES = 20
#: Fewer rows than this load, with a warning that meta-features and recommendations are unreliable.
FEW_ROWS = 20


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
    decision: list = [None]
    task, y = _type_target(yraw, task_type, src, warnings, decision)
    if X.shape[1] == 0:
        warnings.append("no feature columns besides the target")
    elif X.shape[1] > len(X):
        warnings.append(f"more feature columns ({X.shape[1]}) than rows ({len(X)}): scores and recommendations are "
                        f"uncertain; consider selecting features")
    _report_columns(X, warnings)
    cat = [not pd.api.types.is_numeric_dtype(t) or pd.api.types.is_bool_dtype(t) for t in X.dtypes]
    return Dataset(X, y, task, name, src, target, cat, warnings, openml_id, kinds, decision[0])


def _type_columns(X, warnings, decimal_comma: bool = False):
    """Type the feature columns as :class:`ColumnTyper` does: returns ``(typed X, {column: kind})``."""
    parsed: dict = {}  # the dates inference parsed, converted without parsing them again
    kinds, levels, notes = infer_column_kinds(X, decimal_comma=decimal_comma, parsed=parsed)
    warnings.extend(notes)
    return apply_column_kinds(X, kinds, levels, fitted_on_this=True, parsed=parsed), kinds


def _type_target(y, task_type, src, warnings, decision: list | None = None):
    """``(task type, typed target)``; ``decision[0]`` says how a numeric target's task type was read off it."""
    import numpy as np
    import pandas as pd

    decision = decision if decision is not None else [None]

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
                decision[0] = f"{what}, {n_unique} distinct{whole} values"
                if n_unique > 2:  # two values (0/1) can only be classes; 3 to 20 might be counts
                    warnings.append(
                        f"{what} with {n_unique} distinct{whole} values (at most {MAX_INT_CLASSES}) treated as "
                        f"classification; pass task_type='regression' (--task regression) to override"
                    )
            else:
                task_type = REGRESSION
                if integral:
                    decision[0] = f"{what}, {n_unique} distinct{whole} values"
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
