"""Zero-shot benchmark: metarec's first configuration of a learner family against FLAML's zero-shot
estimator of the same family and against the learner's default, on everyday tables.

The tasks are tables of the knowledge base's everyday-tables part (``knowledge_base/everyday_datasets.txt``;
R packages, none of them reserved), at most one classification and one regression task per R package, with
at least ``--min-rows`` rows, chosen in a fixed order (SHA-256 of the spec). The KB holds only the default
configuration of each learner on them, so no task's own search results can inform its configurations
(configurations come from tasks where a learner was *searched*: the HPO part and the imported OpenML
search results); the task's own default runs are removed from the KB all the same (``KnowledgeBase.subset``).

For each task (at most ``--max-rows`` rows, stratified, seed 0) and family (LightGBM, random forest, extra
trees; XGBoost when the metarec-xgboost plugin is installed), three configurations are scored by the
objective ``metarec tune`` uses (k-fold CV, the same folds for all):

- **metarec**: the first configuration ``metarec.recommend`` suggests for the family's learner;
- **flaml**: FLAML's zero-shot estimator (``flaml.default``: meta-learned, data-dependent hyper-parameters,
  no search), fitted on each training fold as FLAML ships it;
- **default**: the learner's default configuration.

Regret on a task = the best score any configuration of any family reached on it minus the configuration's
score (accuracy for classification, R^2 for regression). Printed: mean regret and wins per family, and the
per-task scores. Results are appended to ``OUT/runs.jsonl`` as they finish, so an interrupted run resumes.

    python benchmarks/zeroshot.py [--classification 30] [--regression 20] [--out build/zeroshot]

Needs ``pip install -e ".[bench]"`` (FLAML).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import re
import statistics
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: the learners' preprocessing, part of a cached score's key (scores of an earlier preprocessing are not reused):
#: columns past their one-hot cap are target encoded
PIPELINE = "target-coded"
#: family -> (classification learner, regression learner, flaml.default classes)
FAMILIES = {
    "lightgbm": ("lightgbm", "lightgbm_regressor", ("LGBMClassifier", "LGBMRegressor")),
    "random_forest": ("random_forest", "random_forest_regressor",
                      ("RandomForestClassifier", "RandomForestRegressor")),
    "extra_trees": ("extra_trees", "extra_trees_regressor", ("ExtraTreesClassifier", "ExtraTreesRegressor")),
    "xgboost": ("xgboost", "xgboost_regressor", ("XGBClassifier", "XGBRegressor")),
}
ARMS = ("metarec", "flaml", "default")


def everyday_tasks(n_clf: int, n_reg: int, min_rows: int) -> list[tuple[str, str]]:
    """(spec, task type) of at most one classification and one regression task per R package."""
    rows = []
    for line in (ROOT / "knowledge_base" / "everyday_datasets.txt").read_text().splitlines():
        if not line.strip() or line.startswith("//"):
            continue
        spec, _, comment = line.partition("//")
        m = re.search(r",\s*(\d+)\s*x\s*(\d+)", comment)
        if not m or int(m.group(1)) < min_rows:
            continue
        task = "classification" if "classes" in comment else "regression"
        rows.append((hashlib.sha256(spec.strip().encode()).hexdigest(), spec.strip(), task))
    out, seen = [], set()
    for _, spec, task in sorted(rows):
        package = spec.split(":", 1)[1].split("/", 1)[0]
        if (package, task) in seen:
            continue
        seen.add((package, task))
        out.append((spec, task))
    clf = [s for s in out if s[1] == "classification"][:n_clf]
    reg = [s for s in out if s[1] == "regression"][:n_reg]
    return clf + reg


def flaml_score(family: str, X, y, task_type: str, splitter, seed: int) -> float:
    """CV score of FLAML's zero-shot estimator of ``family`` on ``splitter``'s folds (metarec's metric)."""
    import flaml.default as fd
    from sklearn.model_selection import cross_val_score

    klass = getattr(fd, FAMILIES[family][2][task_type == "regression"])
    Xn = X.copy()
    for c in Xn.columns:  # FLAML's own transformer handles categories; give it pandas categoricals
        if Xn[c].dtype.kind not in "biuf":
            Xn[c] = Xn[c].astype("category")
    est = klass()
    params = est.get_params()
    extra = {k: v for k, v in (("random_state", seed), ("n_jobs", 1)) if k in params}
    if family == "lightgbm":
        extra["verbose"] = -1
    est.set_params(**extra)
    scoring = "accuracy" if task_type == "classification" else "r2"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return float(cross_val_score(est, Xn, y, cv=splitter, scoring=scoring).mean())


class ScoreCache:
    """Scores of (task, learner, config, cv, rows) already measured, in a JSON-lines file: the default and
    FLAML arms do not depend on the knowledge base, and are not re-run when only metarec's choice changes."""

    def __init__(self, path: Path):
        self.path = path
        self.scores = {}
        if path.exists():
            for line in path.read_text().splitlines():
                if line.strip():
                    r = json.loads(line)
                    self.scores[r["key"]] = (r["score"], r["seconds"])

    def get(self, key: tuple, compute):
        k = json.dumps(key, sort_keys=True, default=str)
        if k not in self.scores:
            t0 = time.perf_counter()
            score = compute()
            self.scores[k] = (score, round(time.perf_counter() - t0, 2))
            with self.path.open("a") as fh:
                fh.write(json.dumps({"key": k, "score": score, "seconds": self.scores[k][1]}) + "\n")
        return self.scores[k]


def _cv(learner, cfg, X, y, task_type, cv, metric):
    from metarec.kb.evaluation import cross_validate_config

    res = cross_validate_config(learner, cfg, X, y, task_type, cv=cv, seed=0)
    return res.scores.get(metric) if res.status == "ok" else None


def _flaml(family, X, yv, task_type, splitter):
    try:
        return flaml_score(family, X, yv, task_type, splitter, 0)
    except Exception as exc:  # report, do not invent a score
        print(f"  flaml {family} failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return None


def run_task(spec: str, kb, families: list[str], args, cache: ScoreCache) -> list[dict]:
    from sklearn.preprocessing import LabelEncoder

    from metarec.data.sources import parse_specs
    from metarec.kb.evaluation import cv_splitter, subsample
    from metarec.learners import get_learner
    from metarec.metrics import DEFAULT_METRIC
    from metarec.recommend import Recommender

    p = parse_specs([spec])[0]
    ds = p.load()
    X, y = subsample(ds, args.max_rows, seed=0)
    task_type = ds.task_type
    held_out = kb.subset([d for d in kb.datasets["dataset_id"] if d != p.dataset_id])
    # the configurations do not depend on the meta-model's ranking (every learner's are asked for): the cheapest
    # meta-model is fitted on each held-out KB
    rec = Recommender(held_out, metamodel=args.metamodel).recommend(X, y=y, top_k=1000)
    by_learner = {r.learner: r for r in rec.learners}
    yv = LabelEncoder().fit_transform(y.astype(str)) if task_type == "classification" else y.to_numpy(float)
    splitter = cv_splitter(yv, task_type, args.cv, 0)
    metric = DEFAULT_METRIC[task_type]
    out = []
    for family in families:
        name = FAMILIES[family][task_type == "regression"]
        try:
            learner = get_learner(name)
        except Exception:
            continue
        r = by_learner.get(name)
        first = dict(r.configs[0]) if r is not None and r.configs else dict(learner.default_config)
        source = r.config_source if r is not None and r.configs else "default"
        row = {"task": spec, "task_type": task_type, "family": family, "rows": len(X),
               "metarec_config": first, "metarec_source": source}
        for arm, cfg in (("metarec", first), ("default", dict(learner.default_config))):
            row[arm], row[f"{arm}_seconds"] = cache.get((spec, name, cfg, args.cv, args.max_rows, PIPELINE), lambda: _cv(
                learner, cfg, X, y, task_type, args.cv, metric))
        row["flaml"], row["flaml_seconds"] = cache.get((spec, "flaml." + family, {}, args.cv, args.max_rows),
                                                       lambda: _flaml(family, X, yv, task_type, splitter))
        out.append(row)
    return out


def summarize(records: list[dict]) -> dict:
    best: dict[str, float] = {}
    for r in records:
        for arm in ARMS:
            if r.get(arm) is not None:
                best[r["task"]] = max(best.get(r["task"], -math.inf), r[arm])
    fam: dict[tuple, dict] = {}
    for r in records:
        if any(r.get(a) is None for a in ARMS):
            continue
        for task_type in (r["task_type"], "all"):
            d = fam.setdefault((task_type, r["family"]), {a: [] for a in ARMS} | {"wins": 0, "losses": 0,
                                                                                "wins_default": 0})
            for arm in ARMS:
                d[arm].append(best[r["task"]] - r[arm])
            d["wins"] += r["metarec"] > r["flaml"] + 1e-12
            d["losses"] += r["metarec"] < r["flaml"] - 1e-12
            d["wins_default"] += r["metarec"] > r["default"] + 1e-12
    return {f"{t}/{f}": {"tasks": len(d["metarec"]), **{a: statistics.mean(d[a]) for a in ARMS},
                         "wins_vs_flaml": d["wins"], "losses_vs_flaml": d["losses"],
                         "wins_vs_default": d["wins_default"]}
            for (t, f), d in sorted(fam.items())}


def print_report(summary: dict) -> None:
    print("\nmean regret of a zero-shot configuration (lower is better; regret to the best score of any "
          "configuration on the task)")
    print(f"{'task / family':<32} {'tasks':>5} {'metarec':>8} {'flaml':>8} {'default':>8} "
          f"{'metarec>flaml':>14} {'<flaml':>7} {'>default':>9}")
    for k, v in summary.items():
        print(f"{k:<32} {v['tasks']:>5} {v['metarec']:>8.4f} {v['flaml']:>8.4f} {v['default']:>8.4f} "
              f"{v['wins_vs_flaml']:>14} {v['losses_vs_flaml']:>7} {v['wins_vs_default']:>9}")


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--classification", type=int, default=30)
    ap.add_argument("--regression", type=int, default=20)
    ap.add_argument("--min-rows", type=int, default=300)
    ap.add_argument("--max-rows", type=int, default=2000)
    ap.add_argument("--cv", type=int, default=5)
    ap.add_argument("--families", default=",".join(FAMILIES))
    ap.add_argument("--kb", default=None)
    ap.add_argument("--metamodel", default="single-best",
                    help="fitted on each held-out KB; the configurations do not depend on it")
    ap.add_argument("--out", default=str(ROOT / "build" / "zeroshot"))
    ap.add_argument("--cache", default=str(ROOT / "build" / "zeroshot-scores.jsonl"),
                    help="scores measured before (JSON lines), reused by every run")
    ap.add_argument("--report-only", action="store_true", help="summarise what runs.jsonl holds; run nothing")
    args = ap.parse_args(argv)

    from threadpoolctl import threadpool_limits

    import sklearn.utils._openmp_helpers  # noqa: F401  load OpenMP before limiting it
    import lightgbm  # noqa: F401

    from metarec.kb import load_kb

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    log = out / "runs.jsonl"
    records = [json.loads(x) for x in log.read_text().splitlines() if x.strip()] if log.exists() else []
    done = {r["task"] for r in records}
    cache = ScoreCache(Path(args.cache))
    tasks = everyday_tasks(args.classification, args.regression, args.min_rows)
    families = args.families.split(",")
    kb = load_kb(args.kb)
    t_all = time.perf_counter()
    with threadpool_limits(1), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for i, (spec, _) in enumerate([] if args.report_only else tasks, start=1):
            if spec in done:
                continue
            t0 = time.perf_counter()
            rows = run_task(spec, kb, families, args, cache)
            with log.open("a") as fh:
                for r in rows:
                    fh.write(json.dumps(r, default=str) + "\n")
            records.extend(rows)
            print(f"[{i}/{len(tasks)}] {spec} ({time.perf_counter() - t0:.0f} s): "
                  + ", ".join(f"{r['family']} {r['metarec'] or math.nan:.4f}/{r['flaml'] or math.nan:.4f}/"
                              f"{r['default'] or math.nan:.4f}" for r in rows), flush=True)
    wanted = {s for s, _ in tasks}
    summary = summarize([r for r in records if r["task"] in wanted])
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    print_report(summary)
    print(f"\n({time.perf_counter() - t_all:.0f} s this run; results in {log})")


if __name__ == "__main__":
    main()
