"""Leave-one-dataset-out evaluation of meta-models, and the metrics it reports.

Definitions (the usual ones of algorithm-selection papers, so that figures compare with other systems):

- The *score* of a learner on a dataset comes from :func:`metarec.kb.performance.performance_table`
  (LCDB: mean test score over seeds at the largest training size that learner reached on that dataset;
  higher is better). A learner without a score on a dataset counts as that dataset's worst score. A
  learner that was never run on a dataset (``PerformanceTable.observed``: an HPO-part learner on an LCDB
  dataset, a plugin learner built on a few tasks) cannot be scored there: on each held-out dataset the
  metrics rank only the learners that were run on it (every learner on the LCDB grid).
- *Regret* of a pick = the dataset's best learner score minus the picked learner's score; *regret@k* =
  the best score minus the best score among the top ``k`` picks (:func:`regret`, :func:`regret_at_k`).
- *Top-1 within 1 point*: share of datasets whose top-1 regret is at most 0.01.
- *NDCG@5*: gains are scores min-max scaled within the dataset (best 1, worst 0), discounted by
  ``log2(position + 1)``, divided by the ideal ordering's DCG (:func:`ndcg_at_k`).
- *Spearman*: rank correlation, per dataset, between the model's preference and the true scores over all
  learners, averaged over datasets (:func:`spearman`).
- *Gap closed*: ``(regret(single-best) - regret(model)) / regret(single-best)`` of the mean top-1
  regrets (1 = as good as the oracle, 0 = no better than single-best; :func:`gap_closed`).
- *Coverage*: share of (dataset, learner) pairs with a score that lies inside the predicted interval
  (:func:`coverage`; nominal 80% for the built-ins).
- *Fit-time error*: median ``|log10(predicted / actual)|`` fit seconds over the pairs where the learner
  reached the dataset's largest training size (0.3 is a factor of 2).

Every meta-model is refitted once per held-out dataset on the other datasets' meta-features and scores
only: the held-out dataset's runs (including its learning curve) are never seen. ``folds=K`` uses K
folds over datasets instead (faster, slightly pessimistic).
"""

from __future__ import annotations

from .plot import plot_regret
from .protocol import EvaluationResult, evaluate_metamodels
from .scores import WITHIN, coverage, fit_time_error, gap_closed, ndcg_at_k, regret, regret_at_k, spearman

__all__ = [
    "regret",
    "regret_at_k",
    "ndcg_at_k",
    "spearman",
    "coverage",
    "gap_closed",
    "fit_time_error",
    "WITHIN",
    "EvaluationResult",
    "evaluate_metamodels",
    "plot_regret",
]
