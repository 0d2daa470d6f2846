"""Candidate configurations for the knowledge base's portfolio part, from the search evidence it holds.

For each learner below, a greedy portfolio (``metarec.kb.zeroshot.portfolio``: the configuration with the
best mean normalised score over the tasks, then each time the one that most raises the mean of the per-task
best) over *all* tasks of one source where the learner was searched:

- ``lightgbm`` / ``lightgbm_regressor``: 8 from TabRepo's 104 AutoGluon configurations (dense: every
  configuration on every task), and 7 from the HPO part's Optuna studies;
- ``random_forest`` / ``random_forest_regressor``: 8 from the OpenML100 random search (openml-pimp, 500
  random configurations per task; its ``criterion`` gini / entropy is dropped for regression), and 7 from
  the HPO part's studies.

TabRepo's configurations were trained with early stopping (dropped on import), so they carry no number of
trees: a candidate gets ``n_estimators = 20 / learning_rate`` (at most 1,000), the boosting rounds that keep
the product of rate and rounds at twice the default's (0.1 x 100). That rule only proposes candidates:
``metarec kb build --configs`` then scores every candidate by metarec's own protocol on every task of the
portfolio part, and the zero-shot choice learns from those scores.

    python knowledge_base/zero_shot_candidates.py --kb build/kb_full > knowledge_base/zero_shot_candidates.json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

#: learner -> [(source, task type, how many)]
PLAN = {
    "lightgbm": [("tabrepo", "classification", 8), ("hpo", "classification", 7)],
    "lightgbm_regressor": [("tabrepo", "regression", 8), ("hpo", "regression", 7)],
    "random_forest": [("openml-pimp", "classification", 8), ("hpo", "classification", 7)],
    "random_forest_regressor": [("openml-pimp", "classification", 8), ("hpo", "regression", 7)],
}
MAX_TREES = 1000


def source_learner(learner: str, source: str) -> str:
    """The learner whose runs a source holds (the forest search of openml-pimp is a classifier's)."""
    return "random_forest" if source == "openml-pimp" else learner


def adapt(learner: str, source: str, config: dict) -> dict:
    config = dict(config)
    if source == "tabrepo" and "n_estimators" not in config:
        config["n_estimators"] = int(min(MAX_TREES, round(20 / config.get("learning_rate", 0.1))))
    if learner == "random_forest_regressor":
        config.pop("criterion", None)
        config.pop("class_weight", None)
    return config


def candidates(kb, learner: str) -> list[dict]:
    from metarec.kb.zeroshot import portfolio, search_runs
    from metarec.learners import get_learner

    default = dict(get_learner(learner).default_config)
    out: list[dict] = []
    for source, task_type, k in PLAN[learner]:
        metric = "accuracy" if task_type == "classification" else "r2"
        runs = search_runs(kb, metric, task_type)
        runs = runs[((runs["source"] == source) & (runs["learner"] == source_learner(learner, source))).to_numpy()]
        per_task = [list(zip(g["config"], g["key"], g["trial"])) for _, g in runs.groupby("dataset_id", sort=True)]
        picked = portfolio(per_task, k + 2, candidates_per_task=5)
        added = 0
        for cfg in picked:
            full = {**default, **adapt(learner, source, cfg)}
            if full != default and full not in out and added < k:
                out.append(full)
                added += 1
        print(f"{learner}: {added} from {source} ({len(per_task)} tasks)", file=sys.stderr)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--kb", default=None, help="the KB with the HPO part and the imported search results")
    args = ap.parse_args()
    from metarec.kb import load_kb

    kb = load_kb(args.kb)
    print(json.dumps({name: candidates(kb, name) for name in PLAN}, indent=1, sort_keys=True))


if __name__ == "__main__":
    main()
