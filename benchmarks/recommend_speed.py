"""How long does `metarec recommend` take on a 10,000 x 20 CSV, interpreter start included?

Prints the median wall time of the full CLI call (default meta-model cached by a first, untimed run) on
data it has not seen (meta-features computed each time) and on the same file again (meta-features
reused from the cache, as a following ``tune`` does), side by side with three baselines measured in the
same run: `python -c pass` (interpreter start),
`metarec --help` (CLI start-up) and the import floor (`python -c "import ..."` of the libraries the
recommend path imports: :data:`FLOOR_IMPORTS`), so that recommend = floor + metarec's own work. Machine
noise affects all rows alike, so read the ratios.

    python benchmarks/recommend_speed.py [--rows 10000] [--cols 20] [--repeat 5] [--kb PATH]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def make_csv(path: Path, rows: int, cols: int, seed: int = 0) -> None:
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    n_cat = cols // 4
    data = {f"num{i}": rng.normal(size=rows) * (i + 1) for i in range(cols - n_cat)}
    for i in range(n_cat):
        data[f"cat{i}"] = rng.choice([f"l{j}" for j in range(3 + i)], size=rows)
    frame = pd.DataFrame(data)
    logit = frame["num0"] - 0.5 * frame["num1"] / 2 + (frame["cat0"] == "l1")
    frame["y"] = np.where(logit + rng.normal(size=rows) > 0, "yes", "no")
    frame.to_csv(path, index=False)


#: The third-party modules `metarec recommend --json` imports (pyarrow.dataset: by pandas.read_parquet;
#: importlib.metadata: plugin entry points). Importing them is the floor no change inside metarec can
#: go below; the rest of a recommend call is metarec's own work. (rich is not listed: the JSON output does
#: not use it; scikit-learn imports parts of it anyway.)
FLOOR_IMPORTS = (
    "pandas", "pyarrow.parquet", "pyarrow.dataset", "sklearn.compose", "sklearn.impute", "sklearn.pipeline",
    "sklearn.preprocessing", "sklearn.model_selection", "sklearn.tree", "sklearn.naive_bayes", "sklearn.neighbors",
    "lightgbm", "threadpoolctl", "click", "pluggy", "importlib.metadata",
)

CPU: dict[str, list[float]] = {}


def timed(cmd: list[str], repeat: int, env: dict | None = None, key: str | None = None) -> list[float]:
    """Wall seconds of each run; the CPU seconds (user + sys) of each run go to ``CPU[key]``."""
    import os
    import resource

    out, cpu = [], []
    for _ in range(repeat):
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, **(env or {})})
        out.append(time.perf_counter() - t0)
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append((r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime))
        if proc.returncode != 0:
            raise SystemExit(f"{' '.join(cmd)} failed:\n{proc.stderr}")
    CPU[key or " ".join(cmd)] = cpu
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=10_000)
    ap.add_argument("--cols", type=int, default=20)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--kb", default=None, help="knowledge base (default: the shipped one)")
    args = ap.parse_args()
    metarec = [sys.executable, "-m", "metarec.cli"]
    with tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp) / "data.csv"
        make_csv(csv, args.rows, args.cols)
        rec = [*metarec, "recommend", str(csv), "--target", "y", "--json"] + (["--kb", args.kb] if args.kb else [])
        t0 = time.perf_counter()
        timed(rec, 1)  # fills the meta-model cache if it is empty
        first = time.perf_counter() - t0
        floor = [sys.executable, "-c", "import " + ", ".join(FLOOR_IMPORTS)]
        fresh = {"METAREC_METAFEATURE_CACHE": "0"}  # as on a file never seen: meta-features computed
        cmds = [("python -c pass", [sys.executable, "-c", "pass"], None),
                ("metarec --help", [*metarec, "--help"], None),
                ("import floor (libraries recommend imports)", floor, None),
                (f"metarec recommend ({args.rows:,} x {args.cols} CSV)", rec, fresh),
                ("  the same file again (meta-features cached)", rec, None)]
        rows = [(name, timed(cmd, args.repeat, env, name), CPU[name]) for name, cmd, env in cmds]
    base = statistics.median(rows[0][1])
    print(f"first call (may fit and cache the meta-model): {first:.2f} s")
    print("wall = elapsed; cpu = user + sys of the process (close to the wall time of an idle machine,")
    print("since the call is single-threaded: read it when the machine is shared)")
    print(f"{'command':<45} {'median wall s':>14} {'min wall s':>11} {'median cpu s':>13} {'x python start':>15}")
    for name, ts, cpu in rows:
        print(f"{name:<45} {statistics.median(ts):>14.2f} {min(ts):>11.2f} {statistics.median(cpu):>13.2f} "
              f"{statistics.median(ts) / base:>15.1f}")
    (_, floor_wall, floor_cpu), (_, rec_wall, rec_cpu) = rows[2], rows[3]
    own_cpu = statistics.median(rec_cpu) - statistics.median(floor_cpu)
    print(f"recommend = import floor + metarec's own work: cpu {statistics.median(rec_cpu):.2f} = "
          f"{statistics.median(floor_cpu):.2f} + {own_cpu:.2f} s (recommend / floor = "
          f"{statistics.median(rec_cpu) / statistics.median(floor_cpu):.2f} by cpu, "
          f"{statistics.median(rec_wall) / statistics.median(floor_wall):.2f} by wall; own work "
          f"{own_cpu / statistics.median(rec_cpu):.0%} of the cpu)")
    print("\nimport floor: python -c 'import " + ", ".join(FLOOR_IMPORTS) + "'")


if __name__ == "__main__":
    main()
