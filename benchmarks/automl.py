"""AutoML benchmark: metarec's ``AutoClassifier`` / ``AutoRegressor`` against FLAML's ``AutoML``, cold Optuna
TPE over the same learners, and HistGradientBoosting at its default, at the same time budget.

Tasks are public tables in no part of the knowledge base: R tables that qualified for the everyday-tables
part by every rule of ``knowledge_base/everyday_tables.py`` but were left out by its per-package cap
(``knowledge_base/everyday_datasets.txt`` lists them), whose table is in the KB under no target, whose
target is not an identifier or a date part (name ``id``, ``seqn``, ``subject``, ``school``, ``year``, ...),
with at least ``--min-rows`` rows; at most ``--per-package`` classification and as many regression tasks per R
package, in a fixed order (SHA-256 of the spec). A task that HistGradientBoosting's default already solves (3-fold CV accuracy
or R^2 of at least 0.98: a leak through a combination of columns, nothing left to search for) is skipped. A
table has at most ``--max-rows`` rows (stratified subsample, seed 0).

Each run: an outer 75/25 split (stratified for classification, the run's seed), a fit on the 75% within
the budget, the test score (accuracy; R^2) on the 25%. Methods:

- **metarec**: ``AutoClassifier`` / ``AutoRegressor(time_budget=B, random_state=seed)`` (recommended
  learners, warm start, Optuna TPE);
- **flaml**: ``flaml.AutoML().fit(time_budget=B, metric=accuracy|r2, seed=seed, n_jobs=1)``;
- **cold**: metarec's estimator with ``warm_start=0``: cold Optuna TPE over the same recommended learners;
- **hgb**: HistGradientBoosting's default configuration (metarec's pipeline), no search.

Every run is a fresh process with one thread (``--jobs`` runs side by side, one core each), so methods get
the same cores. Results go to ``OUT/runs.jsonl`` as they finish; an interrupted run resumes with the runs
not yet done. Printed per budget: mean test score, mean rank, metarec's wins / ties / losses against
FLAML (per task, mean over seeds; a tie is within 0.001), and the wall time of a fit against its budget. A
failed run is listed and scores as the worst finished run of its task and seed.

    python benchmarks/automl.py [--budgets 30,120] [--out benchmarks/results/automl] [--jobs 2]
    python benchmarks/automl.py --report-only --plot docs/img/automl.png

Needs ``pip install -e ".[bench]"`` (FLAML's AutoML).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import re
import statistics
import sys
import time
import warnings
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
METHODS = ("metarec", "flaml", "cold", "hgb")
#: regression / classification targets that name a unit or a time, not an outcome
NOT_OUTCOME = re.compile(r"(^|_|\.)(id|seqn|subject|school|schoolid|year|month|day|minute|hour|date|state|"
                         r"statefip|fips?|unitid|district|distid|dcode|studyid|student|number|row|nr|child|villnum|lat|"
                         r"latitude|longitude|x|pixel|team|city|county|country|name)(_|\.|$)", re.IGNORECASE)
TIE = 0.001


def automl_tasks(n_clf: int, n_reg: int, min_rows: int, per_package: int = 4,
                 max_rows: int = 10000) -> list[tuple[str, str]]:
    """(spec, task type): qualified everyday tables the KB left out by its per-package cap (see above)."""
    from metarec.data.sources import parse_specs

    lines = (ROOT / "knowledge_base" / "everyday_datasets.txt").read_text().splitlines()
    in_kb = {_table(x.split("//")[0].strip()) for x in lines if x.strip() and not x.startswith("//")}
    for name in ("portfolio_datasets.txt", "hpo_datasets.txt"):
        in_kb |= {_table(x.split("//")[0].strip()) for x in (ROOT / "knowledge_base" / name).read_text().splitlines()
                  if x.strip() and not x.startswith("//")}
    rows = []
    for line in lines:
        m = re.match(r"//- (\S+)\s+\S+ gives \d+ (classification|regression) tasks already", line)
        if not m or _table(m.group(1)) in in_kb or NOT_OUTCOME.search(m.group(1).split("#", 1)[1]):
            continue
        rows.append((hashlib.sha256(m.group(1).encode()).hexdigest(), m.group(1), m.group(2)))
    out, seen = [], []
    wanted = {"classification": n_clf, "regression": n_reg}
    for _, spec, task in sorted(rows):
        package = spec.split(":", 1)[1].split("/", 1)[0]
        if seen.count((package, task)) >= per_package or sum(t == task for _, t in out) >= wanted[task]:
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ds = parse_specs([spec])[0].load()
        except Exception:
            continue
        if ds.task_type != task or ds.n_rows < min_rows or _solved(ds, max_rows):
            continue
        seen.append((package, task))
        out.append((spec, task))
    return [s for s in out if s[1] == "classification"] + [s for s in out if s[1] == "regression"]


def _solved(ds, max_rows: int) -> bool:
    """Whether HistGradientBoosting's default reaches 0.98 (3-fold CV accuracy or R^2) on the task."""
    from metarec.kb.evaluation import cross_validate_config, subsample
    from metarec.learners import get_learner
    from metarec.metrics import DEFAULT_METRIC

    X, y = subsample(ds, max_rows, seed=0)
    learner = get_learner("hist_gradient_boosting" if ds.task_type == "classification"
                          else "hist_gradient_boosting_regressor")
    res = cross_validate_config(learner, dict(learner.default_config), X, y, ds.task_type, cv=3, seed=0)
    score = res.scores.get(DEFAULT_METRIC[ds.task_type]) if res.status == "ok" else None
    return score is not None and score >= 0.98


def _table(spec: str) -> str:
    return spec.split("#", 1)[0].split("@", 1)[0].lower()


def load_split(spec: str, seed: int, max_rows: int):
    """The task's table (at most ``max_rows`` rows), split 75/25 by ``seed``."""
    from sklearn.model_selection import train_test_split

    from metarec.data.sources import parse_specs
    from metarec.kb.evaluation import subsample

    ds = parse_specs([spec])[0].load()
    X, y = subsample(ds, max_rows, seed=0)
    X, y = X.reset_index(drop=True), y.reset_index(drop=True)
    strat = y.astype(str) if ds.task_type == "classification" else None
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.25, random_state=seed, stratify=strat)
    return ds.task_type, Xtr, Xte, ytr, yte


def run_one(spec: str, seed: int, budget: float, method: str, max_rows: int) -> dict:
    """One fit of ``method`` within ``budget`` seconds, scored on the held-out 25% (in a fresh process)."""
    from threadpoolctl import threadpool_limits

    import sklearn.utils._openmp_helpers  # noqa: F401  load OpenMP before limiting it
    import lightgbm  # noqa: F401

    task_type, Xtr, Xte, ytr, yte = load_split(spec, seed, max_rows)
    row = {"task": spec, "task_type": task_type, "seed": seed, "budget": budget, "method": method,
           "train_rows": len(Xtr), "columns": Xtr.shape[1]}
    with threadpool_limits(1), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t0 = time.perf_counter()
        try:
            model, info = _fit(method, task_type, Xtr, ytr, budget, seed)
            row["wall"] = round(time.perf_counter() - t0, 2)
            pred = model.predict(Xte)
            row["score"] = _score(task_type, yte, pred)
            row.update(info)
        except Exception as exc:  # recorded as a failed run, never an invented score
            row["wall"] = round(time.perf_counter() - t0, 2)
            row["score"] = None
            row["error"] = f"{type(exc).__name__}: {str(exc).splitlines()[0][:300] if str(exc) else ''}"
    return row


def _fit(method, task_type, Xtr, ytr, budget, seed):
    clf = task_type == "classification"
    if method in ("metarec", "cold"):
        from metarec import AutoClassifier, AutoRegressor

        est = (AutoClassifier if clf else AutoRegressor)(time_budget=budget, random_state=seed,
                                                         warm_start=5 if method == "metarec" else 0)
        est.fit(Xtr, ytr)
        return est, {"best": est.best_learner_, "trials": len(est.study_.trials)}
    if method == "flaml":
        from flaml import AutoML

        Xf = Xtr.copy()
        automl = AutoML()
        automl.fit(Xf, ytr, task="classification" if clf else "regression", time_budget=budget,
                   metric="accuracy" if clf else "r2", seed=seed, n_jobs=1, verbose=0)
        return automl, {"best": automl.best_estimator, "trials": len(automl.config_history)}
    if method == "hgb":
        from metarec.learners import get_learner

        learner = get_learner("hist_gradient_boosting" if clf else "hist_gradient_boosting_regressor")
        pipe = learner.make_pipeline(dict(learner.default_config), random_state=seed)
        ytrain = ytr.astype(str) if clf else ytr
        pipe.fit(Xtr, ytrain)
        return pipe, {"best": learner.name, "trials": 1}
    raise ValueError(method)


def _score(task_type, y, pred) -> float:
    import numpy as np
    from sklearn.metrics import accuracy_score, r2_score

    if task_type == "classification":
        return float(accuracy_score(np.asarray(y).astype(str), np.asarray(pred).astype(str)))
    return float(r2_score(np.asarray(y, float), np.asarray(pred, float)))


def plan(tasks, seeds: int, budgets: list[float], n_long: int, methods) -> list[tuple]:
    """Every (spec, seed, budget, method) to run: all tasks at the first budget, the first ``n_long`` (half
    classification, half regression) at the others; methods interleaved per task."""
    clf = [s for s, t in tasks if t == "classification"]
    reg = [s for s, t in tasks if t == "regression"]
    long = clf[:n_long - n_long // 2] + reg[:n_long // 2]
    out = []
    for i, budget in enumerate(budgets):
        for spec, _ in tasks:
            if i and spec not in long:
                continue
            for seed in range(seeds):
                out += [(spec, seed, budget, m) for m in methods]
    return out


def _key(r) -> tuple:
    return r["task"], r["seed"], float(r["budget"]), r["method"]


def summarize(records: list[dict]) -> dict:
    """Per budget, over the (task, seed) runs every method finished or failed: mean test score, mean rank,
    wins against FLAML, wall time. A failed run scores as the worst finished run of its task and seed (it
    neither drops out of a mean nor wins); a task's score is the mean over its seeds, and ranks, wins, ties
    (within 0.001) and losses are of those per-task means."""
    out = {}
    for budget in sorted({float(r["budget"]) for r in records}):
        runs = [r for r in records if float(r["budget"]) == budget]
        methods = [m for m in METHODS if any(r["method"] == m for r in runs)]
        by = {}
        for r in runs:
            by.setdefault((r["task"], r["seed"]), {})[r["method"]] = r
        per_task: dict[str, dict[str, list[float]]] = {}
        n_runs = 0
        for (task, _), v in sorted(by.items()):
            if not all(m in v for m in methods):
                continue
            finished = [v[m]["score"] for m in methods if v[m]["score"] is not None]
            if not finished:
                continue
            n_runs += 1
            for m in methods:
                score = v[m]["score"] if v[m]["score"] is not None else min(finished)
                per_task.setdefault(task, {}).setdefault(m, []).append(score)
        mean_task = {t: {m: statistics.fmean(v) for m, v in d.items()} for t, d in per_task.items()}
        ranks = {m: [] for m in methods}
        for scores in mean_task.values():
            for m in methods:
                ranks[m].append(1 + sum(scores[o] > scores[m] + TIE for o in methods)
                                + 0.5 * sum(abs(scores[o] - scores[m]) <= TIE for o in methods if o != m))
        kinds = {}
        for kind in ("all", "classification", "regression"):
            tasks = [t for t in mean_task if kind == "all" or any(r["task_type"] == kind for r in runs
                                                                   if r["task"] == t)]
            if not tasks:
                continue
            entry = {"tasks": len(tasks), "mean": {m: _fmean([mean_task[t][m] for t in tasks]) for m in methods}}
            if "metarec" in methods and "flaml" in methods:
                d = [mean_task[t]["metarec"] - mean_task[t]["flaml"] for t in tasks]
                entry["vs_flaml"] = [sum(x > TIE for x in d), sum(abs(x) <= TIE for x in d), sum(x < -TIE for x in d)]
            kinds[kind] = entry
        walls = {m: [r["wall"] / budget for r in runs if r["method"] == m and r.get("wall") is not None]
                 for m in methods if m != "hgb"}
        out[str(budget)] = {
            "runs": n_runs, "methods": methods, "by_kind": kinds,
            "mean_rank": {m: _fmean(ranks[m]) for m in methods},
            "wall_over_budget": {m: {"mean": _fmean(w), "max": max(w) if w else None,
                                     "over_10pct": sum(x > 1.1 for x in w), "n": len(w)} for m, w in walls.items()},
            "failed": {m: sum(r["method"] == m and r["score"] is None for r in runs) for m in methods},
            "per_task": mean_task,
        }
    return out


def _fmean(x):
    x = [v for v in x if v is not None and math.isfinite(v)]
    return statistics.fmean(x) if x else None


def print_report(summary: dict) -> None:
    for budget, s in summary.items():
        print(f"\n== budget {float(budget):g} s: {s['runs']} runs (task x seed) ==")
        ms = s["methods"]
        print(f"{'method':24}" + "".join(f"{m:>10}" for m in ms) + "   metarec vs flaml (win/tie/loss)")
        for kind, e in s["by_kind"].items():
            label = f"mean score, {kind[:5]} ({e['tasks']})"
            print(f"{label:24}" + "".join(f"{_f(e['mean'][m]):>10}" for m in ms) + (
                f"   {'/'.join(map(str, e['vs_flaml']))}" if "vs_flaml" in e else ""))
        print(f"{'mean rank':24}" + "".join(f"{_f(s['mean_rank'][m], 2):>10}" for m in ms))
        print(f"{'wall / budget, mean':24}" + "".join(
            f"{_f(s['wall_over_budget'][m]['mean'], 3) if m in s['wall_over_budget'] else '-':>10}" for m in ms))
        print(f"{'wall / budget, max':24}" + "".join(
            f"{_f(s['wall_over_budget'][m]['max'], 3) if m in s['wall_over_budget'] else '-':>10}" for m in ms))
        print(f"{'fits > 1.1 x budget':24}" + "".join(
            f"{s['wall_over_budget'][m]['over_10pct'] if m in s['wall_over_budget'] else '-':>10}" for m in ms))
        if any(s["failed"].values()):
            print(f"{'failed runs':24}" + "".join(f"{s['failed'][m]:>10}" for m in ms))


def print_per_task(summary: dict) -> None:
    """Per budget, a Markdown table of each task's mean score over its seeds (the best of a row in bold)."""
    names = {"metarec": "metarec", "flaml": "FLAML", "cold": "cold TPE", "hgb": "HistGB default"}
    for budget, s in summary.items():
        ms = s["methods"]
        print(f"\n{float(budget):g} s budget, per task (mean over seeds; accuracy or R^2):\n")
        print("| task | type | " + " | ".join(names.get(m, m) for m in ms) + " |")
        print("|---|---|" + "---|" * len(ms))
        for task in sorted(s["per_task"], key=lambda t: t.split(":", 1)[-1]):
            scores = s["per_task"][task]
            top = max(scores.values())
            cells = [f"**{scores[m]:.4f}**" if scores[m] >= top - 1e-9 else f"{scores[m]:.4f}" for m in ms]
            print(f"| {task.split(':', 1)[-1]} | {_kind(s, task)[:3]} | " + " | ".join(cells) + " |")


def _f(x, d=4):
    return "-" if x is None else f"{x:.{d}f}"


def plot(summary: dict, path: Path) -> None:
    """Mean test score against budget on the (task, seed) runs made at every budget, one line per method."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    budgets = sorted(summary, key=float)
    common = set.intersection(*(set(summary[b]["per_task"]) for b in budgets))
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.6))
    for ax, kind in zip(axes, ("classification", "regression")):
        for m in METHODS:
            ys = []
            for b in budgets:
                pt = summary[b]["per_task"]
                tasks = [t for t in common if kind in summary[b]["by_kind"] and _kind(summary[b], t) == kind]
                ys.append(_fmean([pt[t].get(m) for t in tasks]))
            if any(y is not None for y in ys):
                ax.plot([float(b) for b in budgets], ys, marker="o", label=m)
        ax.set_xscale("log")
        ax.minorticks_off()
        ax.set_xticks([float(b) for b in budgets], [f"{float(b):g}" for b in budgets])
        ax.set_xlabel("time budget (s)")
        ax.set_ylabel("mean test " + ("accuracy" if kind == "classification" else "R$^2$"))
        ax.set_title(f"{kind} ({len([t for t in common if _kind(summary[budgets[0]], t) == kind])} tasks)")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    print(f"plot: {path}")


def _kind(s, task) -> str:
    return s["kinds"].get(task, "classification") if "kinds" in s else _KINDS.get(task, "classification")


_KINDS: dict[str, str] = {}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tasks", default="", help="comma-separated dataset specs instead of the chosen tables")
    ap.add_argument("--classification", type=int, default=16)
    ap.add_argument("--regression", type=int, default=8)
    ap.add_argument("--min-rows", type=int, default=500)
    ap.add_argument("--max-rows", type=int, default=10000)
    ap.add_argument("--per-package", type=int, default=4)
    ap.add_argument("--seeds", type=int, default=2)
    ap.add_argument("--budgets", default="30,120", help="seconds; all tasks at the first, --long tasks at the rest")
    ap.add_argument("--long", type=int, default=8, help="tasks also run at the longer budgets")
    ap.add_argument("--methods", default=",".join(METHODS))
    ap.add_argument("--jobs", type=int, default=2, help="runs side by side (one core each)")
    ap.add_argument("--out", default=str(ROOT / "build" / "automl"))
    ap.add_argument("--rerun", default="", help="methods whose earlier runs are dropped and run again")
    ap.add_argument("--plot", default=None, help="write the score-against-budget plot here")
    ap.add_argument("--report-only", action="store_true", help="summarise what runs.jsonl holds; run nothing")
    ap.add_argument("--per-task", action="store_true", help="also print each task's scores (Markdown tables)")
    args = ap.parse_args(argv)

    os.environ.setdefault("METAREC_PLUGINS", "")  # the product as installed, without third-party learners
    out = Path(args.out)
    log = out / "runs.jsonl"
    tasks_file = out / "tasks.json"
    if args.report_only and args.rerun:
        sys.exit("--report-only runs nothing, so --rerun would only drop runs: leave one of them out")
    if args.report_only and not (args.tasks or tasks_file.exists()):
        sys.exit(f"--report-only: {tasks_file} does not exist, so nothing has run there; give the --out of a run")
    out.mkdir(parents=True, exist_ok=True)
    if args.tasks:
        from metarec.data.sources import parse_specs

        tasks = [(spec, parse_specs([spec])[0].load().task_type) for spec in args.tasks.split(",")]
    elif tasks_file.exists():
        tasks = [tuple(t) for t in json.loads(tasks_file.read_text())]
    else:
        tasks = automl_tasks(args.classification, args.regression, args.min_rows, args.per_package,
                             args.max_rows)
        tasks_file.write_text(json.dumps(tasks, indent=1))
    _KINDS.update(dict(tasks))
    records = [json.loads(x) for x in log.read_text().splitlines() if x.strip()] if log.exists() else []
    rerun = set(filter(None, args.rerun.split(",")))
    if rerun:
        records = [r for r in records if r["method"] not in rerun]
        log.write_text("".join(json.dumps(r) + "\n" for r in records))
    done = {_key(r) for r in records}
    budgets = [float(b) for b in args.budgets.split(",")]
    todo = [p for p in plan(tasks, args.seeds, budgets, args.long, args.methods.split(","))
            if (p[0], p[1], float(p[2]), p[3]) not in done]
    t_all = time.perf_counter()
    if todo and not args.report_only:
        print(f"{len(tasks)} tasks, {len(todo)} runs to do, {args.jobs} side by side", flush=True)
        with ProcessPoolExecutor(max_workers=args.jobs, max_tasks_per_child=1) as pool:
            futures = {pool.submit(run_one, spec, seed, budget, method, args.max_rows): (spec, seed, budget, method)
                       for spec, seed, budget, method in todo}
            for i, fut in enumerate(as_completed(futures), start=1):
                spec, seed, budget, method = futures[fut]
                try:
                    r = fut.result()
                except Exception as exc:  # the worker died: recorded, the rest goes on
                    r = {"task": spec, "task_type": _KINDS[spec], "seed": seed, "budget": budget, "method": method,
                         "score": None, "wall": None, "error": f"{type(exc).__name__}: {exc}"}
                with log.open("a") as fh:
                    fh.write(json.dumps(r, default=str) + "\n")
                records.append(r)
                print(f"[{i}/{len(todo)}] {spec} seed {seed} {budget:g} s {method}: score "
                      f"{_f(r['score'])} in {r['wall']} s ({r.get('best', r.get('error', ''))})", flush=True)
    wanted = {s for s, _ in tasks}
    summary = summarize([r for r in records if r["task"] in wanted])
    for s in summary.values():
        s["kinds"] = {t: k for t, k in tasks}
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    print("tasks: " + ", ".join(f"{s} ({t[:3]})" for s, t in tasks))
    print_report(summary)
    if args.per_task:
        print_per_task(summary)
    if args.plot:  # the (task, seed) runs every budget has, so that a line moves with the budget alone
        kept = [r for r in records if r["task"] in wanted]
        budgets_of: dict = {}
        for r in kept:
            budgets_of.setdefault((r["task"], r["seed"]), set()).add(float(r["budget"]))
        n_budgets = len({float(r["budget"]) for r in kept})
        common = summarize([r for r in kept if len(budgets_of[(r["task"], r["seed"])]) == n_budgets])
        for s in common.values():
            s["kinds"] = {t: k for t, k in tasks}
        plot(common, Path(args.plot))
    print(f"\n({time.perf_counter() - t_all:.0f} s this run; results in {log})")


if __name__ == "__main__":
    main()
