"""Warm-start benchmark: Optuna warm-started by metarec vs the same Optuna cold, on held-out KB tasks.

For each task of the shipped KB's HPO part (by default the first 7 classification and 3 regression datasets
of ``knowledge_base/hpo_datasets.txt`` in build order, leaving out ``sklearn:digits``, whose 10-class 64-feature
studies took 5-13 minutes each on the shared 2-core machine; ``--tasks`` / ``--exclude`` change the set):

1. the task is held out: the meta-model is fitted on the KB *without* that dataset and its twins (the same
   data under another id, e.g. LCDB's ``openml:31`` for ``file:credit-g``; ``KnowledgeBase.subset``);
2. the data is what the KB build used (at most 1,000 rows, stratified, seed 0), and ``metarec.recommend``
   runs on it with the held-out KB: its top-3 learners form the search space of both arms;
3. for each seed, two Optuna studies of ``--trials`` trials over that same space, the very objective
   ``metarec tune`` uses (3-fold CV): **warm** enqueues the 5 configurations metarec suggests (from the KB's
   runs on the most similar tasks) before TPE takes over; **cold** is the same TPE sampler without them;
4. FLAML's zero-shot estimators (``flaml.default``; meta-learned, data-dependent defaults, no search) are
   scored with the same folds, next to metarec's first suggested configuration (zero search too).

Printed: mean regret of the best-so-far CV score after 1, 5, 10, 25, 50 trials (regret = the best score any
run found on the task minus the arm's best so far; accuracy for classification, R^2 for regression), the
number of trials warm needs to reach cold's best-of-50 (median over tasks x seeds; ">N" when never), and
the zero-shot comparison. Results are appended to ``OUT/runs.jsonl`` as they finish, so an interrupted run
resumes where it stopped. ``--plot FILE`` draws the mean regret curves.

    python benchmarks/warmstart.py [--trials 50] [--seeds 3] [--out build/warmstart] [--plot docs/img/warmstart.png]

Needs ``pip install flaml`` (a benchmark-only dependency; without it the FLAML columns are skipped).
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHECKPOINTS = (1, 5, 10, 25, 50)


def kb_tasks(n_clf: int, n_reg: int, exclude: tuple[str, ...] = ()) -> list[str]:
    """The first ``n_clf`` classification and ``n_reg`` regression specs of hpo_datasets.txt."""
    specs = []
    for line in (ROOT / "knowledge_base" / "hpo_datasets.txt").read_text().splitlines():
        if not line.strip() or line.startswith("//"):
            continue
        spec, _, comment = line.partition("  //")
        if spec.strip() not in exclude:
            specs.append((spec.strip(), "regression" in comment))
    clf = [s for s, reg in specs if not reg][:n_clf]
    reg = [s for s, reg in specs if reg][:n_reg]
    return clf + reg


def load_task(spec: str, max_rows: int):
    from metarec.kb.evaluation import subsample
    from metarec.data.sources import parse_specs

    p = parse_specs([spec])[0]
    ds = p.load()
    X, y = subsample(ds, max_rows, seed=0)
    return p.dataset_id, ds.task_type, X, y


def held_out_recommendation(kb, dataset_id: str, X, y):
    from metarec.recommend import Recommender

    ds = kb.datasets
    me = ds[ds["dataset_id"] == dataset_id]
    assert len(me) == 1, f"{dataset_id} is not in the KB"
    # hold out the task and its twins: the same data under another id (credit-g is both the HPO part's
    # file:credit-g and LCDB's openml:31), matched by exact name or OpenML id
    twin = (ds["dataset_id"] == dataset_id) | (ds["name"] == me["name"].iloc[0])
    if me["openml_id"].notna().iloc[0]:
        twin |= ds["openml_id"] == me["openml_id"].iloc[0]
    held_out = kb.subset(ds.loc[~twin, "dataset_id"].tolist())
    return Recommender(held_out).recommend(X, y=y, top_k=3)


def run_arm(X, y, task_type, learners, warm, seed: int, n_trials: int, cv: int, random_after: bool = False) -> list[float]:
    import optuna

    from metarec.learners import get_learner
    from metarec.metrics import DEFAULT_METRIC
    from metarec.tuning.objective import make_objective
    from metarec.tuning.warmstart import enqueue_warm_start, warm_sampler

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    # exactly what `metarec tune` does, minus storage and the final refit
    study = optuna.create_study(direction="maximize", sampler=warm_sampler(seed, len(warm), random_after))
    if warm:
        enqueue_warm_start(study, warm)
    objective = make_objective(X, y, task_type, [get_learner(n) for n in learners], DEFAULT_METRIC[task_type],
                               cv, seed)
    study.optimize(objective, n_trials=n_trials, catch=(Exception,))
    return [t.value if t.value is not None and math.isfinite(t.value) else None for t in study.trials]


def flaml_zero_shot(X, y, task_type: str, seed: int, cv: int) -> dict[str, float]:
    """CV score of FLAML's zero-shot LightGBM / RandomForest / ExtraTrees on the same folds (the estimator
    ``benchmarks/zeroshot.py`` scores)."""
    try:
        import flaml.default  # noqa: F401
    except ImportError:
        return {}
    from sklearn.preprocessing import LabelEncoder

    from metarec.kb.evaluation import cv_splitter
    from zeroshot import flaml_score

    yv = LabelEncoder().fit_transform(y.astype(str)) if task_type == "classification" else y.to_numpy(dtype=float)
    splitter = cv_splitter(yv, task_type, cv, seed)
    out = {}
    for name, family in (("lgbm", "lightgbm"), ("rf", "random_forest"), ("extra_tree", "extra_trees")):
        try:
            out[name] = flaml_score(family, X, yv, task_type, splitter, seed)
        except Exception as exc:  # report, do not invent a score
            print(f"  flaml {name} failed: {type(exc).__name__}: {exc}", file=sys.stderr)
    return out


def best_so_far(values: list) -> list[float]:
    out, best = [], -math.inf
    for v in values:
        if v is not None and v > best:
            best = v
        out.append(best)
    return out


def latest(records: list[dict]) -> list[dict]:
    """The last logged run of each (task, seed, arm): a rerun (changed code) replaces an earlier one."""
    return list({(r["task"], r["seed"], r["arm"]): r for r in records}.values())


def summarize(records: list[dict], trials: int) -> dict:
    records = latest(records)
    by_task: dict[str, dict] = {}
    for r in records:
        by_task.setdefault(r["task"], {}).setdefault(r["seed"], {})[r["arm"]] = r
    rows, reach, per_task = {"warm": {c: [] for c in CHECKPOINTS}, "cold": {c: [] for c in CHECKPOINTS}}, [], []
    zero = {"metarec first config": [], "flaml lgbm": [], "flaml rf": [], "flaml extra_tree": []}
    for task, seeds in by_task.items():
        complete = {s: v for s, v in seeds.items() if {"warm", "cold"} <= set(v)}
        if not complete:
            continue
        best_known = max(max(x for x in r["values"] if x is not None)
                         for v in complete.values() for r in (v["warm"], v["cold"]))
        for extra in complete.values():
            best_known = max([best_known] + list(extra["warm"].get("flaml", {}).values()))
        t_rows = {"task": task, "task_type": next(iter(complete.values()))["warm"]["task_type"]}
        reach_t = []
        for s, v in complete.items():
            curves = {arm: best_so_far(v[arm]["values"]) for arm in ("warm", "cold")}
            for arm in ("warm", "cold"):
                for c in CHECKPOINTS:
                    if c <= len(curves[arm]):
                        rows[arm][c].append(best_known - curves[arm][c - 1])
            target = curves["cold"][-1]
            hit = next((i + 1 for i, b in enumerate(curves["warm"]) if b >= target - 1e-12), None)
            reach_t.append(hit if hit is not None else math.inf)
            first = v["warm"]["values"][0]
            fl = v["warm"].get("flaml", {})
            if first is not None:
                zero["metarec first config"].append(best_known - first)
            for k in ("lgbm", "rf", "extra_tree"):
                if k in fl:
                    zero[f"flaml {k}"].append(best_known - fl[k])
        reach.extend(reach_t)
        w = [best_so_far(v["warm"]["values"]) for v in complete.values()]
        c_ = [best_so_far(v["cold"]["values"]) for v in complete.values()]
        t_rows.update({
            "seeds": len(complete),
            "best_known": best_known,
            "warm@5": statistics.mean(x[4] for x in w), "cold@5": statistics.mean(x[4] for x in c_),
            "warm@50": statistics.mean(x[-1] for x in w), "cold@50": statistics.mean(x[-1] for x in c_),
            "trials_to_cold_best": statistics.median(reach_t),
            "metarec_first": statistics.mean(v["warm"]["values"][0] or math.nan for v in complete.values()),
            "flaml_lgbm": statistics.mean(v["warm"].get("flaml", {}).get("lgbm", math.nan) for v in complete.values()),
            "learners": next(iter(complete.values()))["warm"]["learners"],
        })
        per_task.append(t_rows)
    return {
        "regret": {arm: {c: (statistics.mean(v) if v else math.nan) for c, v in d.items()} for arm, d in rows.items()},
        "trials_to_reach_cold_best": {"median": statistics.median(reach) if reach else math.nan,
                                      "never": sum(math.isinf(x) for x in reach), "runs": len(reach)},
        "zero_shot_regret": {k: (statistics.mean(v) if v else math.nan) for k, v in zero.items()},
        "zero_shot_wins": _wins(records),
        "tasks": per_task,
    }


def _wins(records) -> dict:
    """On how many (task, seed) metarec's first config beats FLAML's zero-shot LightGBM."""
    wins = losses = 0
    for r in records:
        if r["arm"] == "warm" and "lgbm" in r.get("flaml", {}) and r["values"][0] is not None:
            if r["values"][0] > r["flaml"]["lgbm"] + 1e-12:
                wins += 1
            elif r["values"][0] < r["flaml"]["lgbm"] - 1e-12:
                losses += 1
    return {"metarec_first_beats_flaml_lgbm": wins, "loses": losses}


def plot(records: list[dict], path: Path, trials: int) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    by = {}
    for r in records:
        by.setdefault((r["task"], r["seed"]), {})[r["arm"]] = r
    curves = {"warm": [], "cold": []}
    for key, v in by.items():
        if {"warm", "cold"} <= set(v):
            best_known = max(max(x for x in v[a]["values"] if x is not None) for a in ("warm", "cold"))
            others = [max(x for x in w[a]["values"] if x is not None)
                      for (t, _), w in by.items() if t == key[0] and {"warm", "cold"} <= set(w) for a in w]
            best_known = max([best_known] + others)
            for arm in ("warm", "cold"):
                curves[arm].append(best_known - np.array(best_so_far(v[arm]["values"])[:trials]))
    fig, ax = plt.subplots(figsize=(6.4, 4))
    colors = {"warm": "tab:blue", "cold": "tab:gray"}
    labels = {"warm": "Optuna TPE warm-started by metarec", "cold": "Optuna TPE cold"}
    for arm in ("warm", "cold"):
        a = np.vstack(curves[arm])
        x = np.arange(1, a.shape[1] + 1)
        mean = a.mean(axis=0)
        se = a.std(axis=0, ddof=1) / np.sqrt(len(a))
        ax.plot(x, mean, color=colors[arm], label=labels[arm])
        ax.fill_between(x, mean - se, mean + se, color=colors[arm], alpha=0.2)
    ax.set_xscale("log")
    ax.set_xlabel("trials")
    ax.set_ylabel("regret of the best-so-far CV score")
    n_tasks = len({t for (t, _), v in by.items() if {"warm", "cold"} <= set(v)})
    ax.set_title(f"{len(curves['warm'])} runs ({n_tasks} held-out tasks x seeds); band: ±1 s.e.")
    ax.legend()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _reach(x, trials: int) -> str:
    return f">{trials}" if math.isinf(x) else f"{x:g}"


def print_report(summary: dict, trials: int) -> None:
    cps = [c for c in CHECKPOINTS if c <= trials]
    print(f"\nmean regret of the best-so-far CV score (lower is better) after N trials, "
          f"{len(summary['tasks'])} held-out tasks")
    print(f"{'arm':<6}" + "".join(f"{'N=' + str(c):>10}" for c in cps))
    for arm in ("warm", "cold"):
        print(f"{arm:<6}" + "".join(f"{summary['regret'][arm][c]:>10.4f}" for c in cps))
    t = summary["trials_to_reach_cold_best"]
    print(f"\ntrials warm needs to reach cold's best-of-{trials}: median {_reach(t['median'], trials)} "
          f"(never within {trials}: {t['never']} of {t['runs']} runs)")
    print("\nzero-shot (no search) mean regret:")
    for k, v in summary["zero_shot_regret"].items():
        print(f"  {k:<22} {v:.4f}")
    print(f"  metarec's first config vs FLAML zero-shot LightGBM: {summary['zero_shot_wins']}")
    print(f"\n{'task':<42} {'type':<5} {'learners':<48} {'warm@5':>7} {'cold@5':>7} {'warm@50':>8} "
          f"{'cold@50':>8} {'reach':>6} {'first':>7} {'flaml':>7}")
    for r in summary["tasks"]:
        print(f"{r['task'][:42]:<42} {r['task_type'][:4]:<5} {','.join(r['learners'])[:48]:<48} "
              f"{r['warm@5']:>7.4f} {r['cold@5']:>7.4f} {r['warm@50']:>8.4f} {r['cold@50']:>8.4f} "
              f"{_reach(r['trials_to_cold_best'], trials):>6} {r['metarec_first']:>7.4f} {r['flaml_lgbm']:>7.4f}")


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--classification", type=int, default=7, help="classification tasks (build order)")
    ap.add_argument("--exclude", default="sklearn:digits", help="comma-separated specs to leave out")
    ap.add_argument("--regression", type=int, default=3, help="regression tasks (build order)")
    ap.add_argument("--tasks", default=None, help="comma-separated specs instead (must be in the KB)")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--seed-list", default=None, help="run only these seeds (e.g. 1,2: split work across processes)")
    ap.add_argument("--trials", type=int, default=50)
    ap.add_argument("--warm-start", type=int, default=5)
    ap.add_argument("--random-after", action="store_true",
                    help="warm arm: random trials after the warm start before TPE models the study")
    ap.add_argument("--cv", type=int, default=3)
    ap.add_argument("--max-rows", type=int, default=1000)
    ap.add_argument("--out", default=str(ROOT / "build" / "warmstart"))
    ap.add_argument("--plot", default=None)
    ap.add_argument("--report-only", action="store_true", help="summarise what runs.jsonl holds; run nothing")
    ap.add_argument("--kb", default=None)
    args = ap.parse_args(argv)

    from threadpoolctl import threadpool_limits

    import sklearn.utils._openmp_helpers  # noqa: F401  load OpenMP before limiting it
    import lightgbm  # noqa: F401

    from metarec.kb import load_kb

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    log = out / "runs.jsonl"
    records = [json.loads(x) for x in log.read_text().splitlines() if x.strip()] if log.exists() else []
    done = {(r["task"], r["seed"], r["arm"]) for r in records}
    specs = args.tasks.split(",") if args.tasks else kb_tasks(args.classification, args.regression,
                                                                tuple(args.exclude.split(",")) if args.exclude else ())
    kb = load_kb(args.kb)
    seeds = [int(x) for x in args.seed_list.split(",")] if args.seed_list else list(range(args.seeds))
    t_all = time.perf_counter()
    with threadpool_limits(1), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for spec in [] if args.report_only else specs:
            dataset_id, task_type, X, y = load_task(spec, args.max_rows)
            rec = held_out_recommendation(kb, dataset_id, X, y)
            learners = [r.learner for r in rec.learners[:3]]
            warm = rec.warm_start_configs(args.warm_start)
            print(f"{spec}: {len(X)} rows, {task_type}, learners {learners}, "
                  f"nearest {[s['dataset_id'] for s in rec.similar]}", flush=True)
            # a logged run of another search space (the recommendation changed since) is run again; so is a
            # warm run whose warm-start configs differ (cold runs do not depend on them and are kept)
            stale = [r for r in records if r["task"] == spec and (r["learners"] != learners or (
                r["arm"] == "warm" and (r.get("warm_configs") != [{"learner": n, "config": c} for n, c in warm]
                                        or r.get("random_after", False) != args.random_after)))]
            if stale:
                print(f"  {len(stale)} logged run(s) of another space or warm start: run again", flush=True)
                records = [r for r in records if all(r is not x for x in stale)]
                done = {(r["task"], r["seed"], r["arm"]) for r in records}
            if all((spec, s, a) in done for s in seeds for a in ("warm", "cold")):
                continue
            for seed in seeds:
                flaml = None
                for arm in ("warm", "cold"):
                    if (spec, seed, arm) in done:
                        continue
                    t0 = time.perf_counter()
                    values = run_arm(X, y, task_type, learners, warm if arm == "warm" else [], seed,
                                     args.trials, args.cv, args.random_after)
                    rec_ = {"task": spec, "dataset_id": dataset_id, "task_type": task_type, "seed": seed,
                            "arm": arm, "learners": learners, "values": values,
                            "seconds": round(time.perf_counter() - t0, 1)}
                    if arm == "warm":
                        rec_["warm_configs"] = [{"learner": n, "config": c} for n, c in warm]
                        rec_["random_after"] = args.random_after
                        flaml = flaml_zero_shot(X, y, task_type, seed, args.cv)
                        rec_["flaml"] = flaml
                    with log.open("a") as fh:
                        fh.write(json.dumps(rec_, default=str) + "\n")
                    records.append(rec_)
                    best = max(v for v in values if v is not None)
                    print(f"  seed {seed} {arm}: best {best:.4f} in {rec_['seconds']} s"
                          + (f"; flaml zero-shot {flaml}" if arm == "warm" else ""), flush=True)
    records = [r for r in latest(records) if r["task"] in specs]  # the tasks asked for (the log may hold others)
    summary = summarize(records, args.trials)
    (out / "summary.json").write_text(json.dumps(summary, indent=2, default=str))
    print_report(summary, args.trials)
    print(f"\n({time.perf_counter() - t_all:.0f} s this run; results in {log})")
    if args.plot:
        plot(records, Path(args.plot), args.trials)
        print(f"plot: {args.plot}")


if __name__ == "__main__":
    main()
