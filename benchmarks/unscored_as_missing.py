"""Mean top-1 regret of a leave-one-out run under another rule for unscored learners.

The default rule (what `metarec evaluate` reports): a learner with no score on a dataset counts as that
dataset's worst score. LCDB's shipped database, though, holds scores of only 8-11 of the 20 learners on 35 of
its datasets. This script re-scores the picks of `metarec evaluate --json` with such learners excluded from
a dataset's candidates instead: the pick is the first learner of the dataset's top 3 that has a score (the
pick's regret otherwise unchanged). It refits nothing.

    metarec evaluate --metamodel lightgbm --jobs 2 --json > loo.json
    python benchmarks/unscored_as_missing.py loo.json [--metamodel lightgbm] [--kb PATH]

(``--metamodel``: the meta-model's name in the JSON, as given to ``metarec evaluate``.)
"""

from __future__ import annotations

import argparse
import json


def main() -> None:
    import numpy as np

    from metarec.kb import load_kb
    from metarec.kb.performance import performance_table

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("json_file")
    ap.add_argument("--metamodel", default="lightgbm")
    ap.add_argument("--kb", default=None)
    a = ap.parse_args()
    r = json.load(open(a.json_file))
    s = r["settings"]
    pt = performance_table(load_kb(a.kb), metric=s["metric"], task_type=s["task_type"], source=s["source"])
    regrets, moved = [], []
    for d in r["per_dataset"][a.metamodel]:
        scores = pt.scores.loc[d["dataset_id"]]
        scored = [lr for lr in d["top3"] if not np.isnan(scores[lr])]
        regret = float(scores.max() - scores[scored[0]]) if scored else d["regret"]
        if scored and scored[0] != d["top3"][0]:
            moved.append(f"{d['name']} {d['regret']:.3f} -> {regret:.3f} ({scored[0]})")
        regrets.append(regret)
    print(f"{a.metamodel}: mean top-1 regret {np.mean(regrets):.4f} with unscored learners excluded "
          f"(counted as `metarec evaluate` counts them: {r['metamodels'][a.metamodel]['mean_regret']:.4f})")
    for line in moved:
        print("  picks an unscored learner:", line)


if __name__ == "__main__":
    main()
