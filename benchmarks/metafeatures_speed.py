"""How fast is meta-feature extraction, and does it scale linearly in the number of rows?

Synthetic mixed data: 35 numeric columns (normal, skewed, integer) and 15 categorical ones (2 to 30
levels), a 3-class target that depends on a few of them; no missing values (pymfe does not take them).
Each size is extracted ``--repeat`` times with the default groups; it prints the best seconds of

* each group (from the extraction report): ``openml`` (OpenML's qualities), ``statistical``, ``landmarkers``,
* the whole extraction,
* pymfe on a comparable subset (groups ``general``, ``statistical``, ``info-theory`` with summaries
  ``mean`` and ``sd``; fit + extract, one run), if pymfe is installed (``pip install pymfe``; a
  benchmark-only dependency) and the size is at most ``--pymfe-max-rows``, with its ratio to ``openml``,

and the time per row relative to the smallest size (1.0 = linear scaling).

Usage::

    python benchmarks/metafeatures_speed.py                      # 10k, 100k, 1M rows
    python benchmarks/metafeatures_speed.py --rows 10000,100000
    python benchmarks/metafeatures_speed.py --quick              # CI: 2,000 and 20,000 rows, 1 repeat
"""

from __future__ import annotations

import argparse
import os
import platform
import time
import warnings

N_NUMERIC = 35
N_CATEGORICAL = 15


def make_frame(n_rows: int, seed: int = 0):
    """A mixed DataFrame with ``N_NUMERIC`` numeric and ``N_CATEGORICAL`` categorical columns plus ``target``."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    cols = {}
    for j in range(N_NUMERIC):
        if j % 5 == 3:
            cols[f"num{j}"] = rng.lognormal(size=n_rows)
        elif j % 5 == 4:
            cols[f"num{j}"] = rng.integers(0, 100, size=n_rows).astype(np.float64)
        else:
            cols[f"num{j}"] = rng.normal(loc=j, scale=1 + j % 3, size=n_rows)
    for j in range(N_CATEGORICAL):
        levels = [f"v{k}" for k in range(2 + 2 * j)]
        codes = rng.integers(0, len(levels), size=n_rows)
        cols[f"cat{j}"] = pd.Categorical.from_codes(codes, categories=levels)
    frame = pd.DataFrame(cols)
    score = frame["num0"] - frame["num1"] + 0.5 * (frame["cat0"].cat.codes == 1) + rng.normal(size=n_rows)
    frame["target"] = pd.Categorical(np.digitize(score, np.quantile(score, [0.5, 0.8])).astype(str))
    return frame


def pymfe_time(frame) -> float | None:
    """Seconds for pymfe (fit + extract) on the same data, or None if pymfe is not installed."""
    try:
        from pymfe.mfe import MFE
    except ImportError:
        return None
    X = frame.drop(columns="target")
    cat_cols = [i for i, c in enumerate(X.columns) if str(X[c].dtype) == "category"]
    X_arr = X.astype(object).to_numpy()
    y = frame["target"].astype(str).to_numpy()
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mfe = MFE(groups=["general", "statistical", "info-theory"], summary=["mean", "sd"], random_state=0)
        mfe.fit(X_arr, y, cat_cols=cat_cols, suppress_warnings=True)
        mfe.extract(suppress_warnings=True)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", default="10000,100000,1000000", help="comma-separated row counts")
    parser.add_argument("--quick", action="store_true", help="small sizes, one repeat (for CI)")
    parser.add_argument("--repeat", type=int, default=3, help="timings per measurement; the best is kept")
    parser.add_argument("--pymfe-max-rows", type=int, default=100_000,
                        help="largest size on which pymfe is run (it is slow and memory-hungry)")
    args = parser.parse_args(argv)
    sizes = [2_000, 20_000] if args.quick else [int(r) for r in args.rows.split(",") if r.strip()]
    repeat = 1 if args.quick else args.repeat

    import logging

    logging.getLogger("metarec").setLevel(logging.ERROR)
    from metarec.data import load_dataset
    from metarec.metafeatures import DEFAULT_GROUPS, extract_metafeatures

    try:
        import pymfe

        pymfe_version = pymfe.__version__
    except ImportError:
        pymfe_version = None
    print(f"metarec meta-feature speed: {N_NUMERIC} numeric + {N_CATEGORICAL} categorical columns, 3 classes; "
          f"best of {repeat}; python {platform.python_version()}, {os.cpu_count()} CPUs")
    if pymfe_version is None:
        print("pymfe is not installed: comparison skipped (pip install pymfe)")
    else:
        print(f"pymfe {pymfe_version}: groups general+statistical+info-theory, summaries mean+sd, one run")
    print()
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())} (timings are noisy on a busy machine)")
    print()
    header = (f"{'rows':>10} {'openml s':>9} {'stat s':>7} {'landm s':>8} {'total s':>8} {'pymfe s':>8} "
              f"{'pymfe/openml':>12} {'openml/row':>10} {'total/row':>9}")
    print(header)
    print("-" * len(header))
    # warm-up: imports and first-call costs are not what is measured
    extract_metafeatures(load_dataset(make_frame(500), target="target"), groups=list(DEFAULT_GROUPS))
    first: tuple[float, float] | None = None
    for n in sizes:
        frame = make_frame(n)
        dataset = load_dataset(frame, target="target", name=f"synthetic{n}")
        reports = [extract_metafeatures(dataset, groups=list(DEFAULT_GROUPS), return_report=True)[1]
                   for _ in range(repeat)]
        best = {g: min(r.groups[g].seconds for r in reports) for g in DEFAULT_GROUPS}
        total = min(r.seconds for r in reports)
        t_pymfe = pymfe_time(frame) if pymfe_version and n <= args.pymfe_max_rows else None
        per_row = (best["openml"] / n, total / n)
        first = first or per_row
        pymfe_cell = f"{t_pymfe:8.2f}" if t_pymfe is not None else f"{'-':>8}"
        ratio_cell = f"{t_pymfe / best['openml']:12.1f}" if t_pymfe is not None else f"{'-':>12}"
        print(f"{n:>10,} {best['openml']:9.3f} {best['statistical']:7.3f} {best['landmarkers']:8.3f} {total:8.3f} "
              f"{pymfe_cell} {ratio_cell} {per_row[0] / first[0]:10.2f} {per_row[1] / first[1]:9.2f}", flush=True)
    print()
    print("Each group's seconds are its best over the runs (from the extraction report); total = best whole run.")
    print("openml/row, total/row: seconds per row relative to the smallest size (1.00 = linear scaling; below 1")
    print("means fixed costs, and the row caps of the statistical and landmarkers groups, dominate).")


if __name__ == "__main__":
    main()
