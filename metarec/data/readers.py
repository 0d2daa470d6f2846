"""Reading data files: CSV/TSV (sniffed delimiter, also compressed), Parquet, Feather and ARFF; every
failure is a :class:`~metarec.exceptions.DataError` naming the fix."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from ..exceptions import DataError
from .columns import _duplicates

__all__ = ["COMPRESSIONS", "FILE_FORMATS", "read_table", "read_arff"]

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
