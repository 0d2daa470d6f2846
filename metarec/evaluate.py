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

import logging
import os
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

from .exceptions import MetarecError

logger = logging.getLogger(__name__)

__all__ = [
    "regret",
    "regret_at_k",
    "ndcg_at_k",
    "spearman",
    "coverage",
    "gap_closed",
    "fit_time_error",
    "EvaluationResult",
    "evaluate_metamodels",
    "plot_regret",
]

WITHIN = 0.01  # "top-1 within 1 point"


# -- metrics (pure functions) -----------------------------------------------------------------------------
def _filled(scores) -> Any:
    """Scores of one dataset as floats with missing learners at the dataset's worst score."""
    import numpy as np

    s = np.asarray(scores, dtype=float)
    if np.isnan(s).all():
        raise ValueError("a dataset without any score cannot be evaluated")
    return np.where(np.isnan(s), np.nanmin(s), s)


def regret(scores, pick: int) -> float:
    """Best score minus the score of learner ``pick`` (an index into ``scores``; NaN = worst score)."""
    s = _filled(scores)
    return float(s.max() - s[int(pick)])


def regret_at_k(scores, ranking: Sequence[int], k: int = 3) -> float:
    """Best score minus the best score among the first ``k`` learners of ``ranking`` (indices)."""
    s = _filled(scores)
    top = [int(i) for i in list(ranking)[: max(1, int(k))]]
    return float(s.max() - s[top].max())


def ndcg_at_k(scores, ranking: Sequence[int], k: int = 5) -> float:
    """NDCG@k with gains = scores min-max scaled within the dataset (NaN = worst, i.e. gain 0).

    Returns 1.0 when all learners score the same.
    """
    import numpy as np

    s = _filled(scores)
    span = s.max() - s.min()
    if span <= 0:
        return 1.0
    gain = (s - s.min()) / span
    k = min(int(k), len(s))
    disc = 1.0 / np.log2(np.arange(2, k + 2))
    dcg = float((gain[[int(i) for i in list(ranking)[:k]]] * disc[: len(list(ranking)[:k])]).sum())
    ideal = float((np.sort(gain)[::-1][:k] * disc).sum())
    return dcg / ideal if ideal > 0 else 1.0


def _ranks(a):
    """Average ranks (1 = smallest) of a 1-D array."""
    import numpy as np

    a = np.asarray(a, dtype=float)
    order = np.argsort(a, kind="stable")
    ranks = np.empty(len(a))
    ranks[order] = np.arange(1, len(a) + 1)
    # average ties
    vals, inv, counts = np.unique(a, return_inverse=True, return_counts=True)
    if (counts > 1).any():
        sums = np.bincount(inv, weights=ranks)
        ranks = (sums / counts)[inv]
    return ranks


def spearman(scores, predicted) -> float:
    """Spearman correlation between true ``scores`` (NaN = worst) and ``predicted`` preferences.

    A NaN prediction counts as the lowest; NaN when either side is constant.
    """
    import numpy as np

    s = _filled(scores)
    p = np.asarray(predicted, dtype=float)
    if len(s) < 2:
        return float("nan")
    low = np.nanmin(p) - 1.0 if (~np.isnan(p)).any() else 0.0
    p = np.where(np.isnan(p), low, p)
    rs, rp = _ranks(s), _ranks(p)
    if rs.std() == 0 or rp.std() == 0:
        return float("nan")
    return float(np.corrcoef(rs, rp)[0, 1])


def coverage(true, lower, upper) -> float:
    """Share of entries with a true value (not NaN) that lie inside ``[lower, upper]``."""
    import numpy as np

    t = np.asarray(true, dtype=float)
    lo = np.asarray(lower, dtype=float)
    hi = np.asarray(upper, dtype=float)
    ok = ~np.isnan(t) & ~np.isnan(lo) & ~np.isnan(hi)
    if not ok.any():
        return float("nan")
    return float(((t[ok] >= lo[ok]) & (t[ok] <= hi[ok])).mean())


def gap_closed(model_regret: float, single_best_regret: float, oracle_regret: float = 0.0) -> float:
    """Share of the single-best-to-oracle gap that a model's mean regret closes (NaN if there is no gap)."""
    gap = float(single_best_regret) - float(oracle_regret)
    if not gap > 0:
        return float("nan")
    return (float(single_best_regret) - float(model_regret)) / gap


def fit_time_error(actual, predicted) -> float:
    """Median ``|log10(predicted / actual)|`` over entries where both are positive and finite."""
    import numpy as np

    a = np.asarray(actual, dtype=float)
    p = np.asarray(predicted, dtype=float)
    ok = np.isfinite(a) & np.isfinite(p) & (a > 0) & (p > 0)
    if not ok.any():
        return float("nan")
    return float(np.median(np.abs(np.log10(p[ok] / a[ok]))))


# -- the evaluation loop -----------------------------------------------------------------------------------
@dataclass
class EvaluationResult:
    """Outcome of :func:`evaluate_metamodels`.

    Attributes
    ----------
    summary : dict
        meta-model name -> metric name -> value (see :meth:`table`).
    per_dataset : pandas.DataFrame
        One row per (meta-model, dataset): ``metamodel, dataset_id, name, best, top1, top2, top3,
        regret, regret_at_3, ndcg_at_5, spearman``.
    settings : dict
        metric, task type, source, protocol, datasets, learners, interval.
    errors : dict
        meta-model name -> the error that stopped it (it is left out of ``summary``; the others are kept).
    """

    summary: dict
    per_dataset: Any
    settings: dict = field(default_factory=dict)
    errors: dict = field(default_factory=dict)

    COLUMNS = (
        "mean_regret",
        "median_regret",
        "regret_at_3",
        "top1_within_1pt",
        "ndcg_at_5",
        "spearman",
        "gap_closed",
        "coverage",
        "fit_time_error",
        "seconds",
    )

    def table(self):
        """One row per meta-model with the columns of :attr:`COLUMNS`."""
        import pandas as pd

        rows = [{"metamodel": name, **{c: vals.get(c) for c in self.COLUMNS}} for name, vals in self.summary.items()]
        return pd.DataFrame(rows).set_index("metamodel")

    def picks(self, metamodel: str) -> list[dict]:
        """Per-dataset top-3 picks and regrets of one meta-model."""
        part = self.per_dataset[self.per_dataset["metamodel"] == metamodel]
        out = []
        for r in part.itertuples(index=False):
            out.append(
                {
                    "dataset_id": r.dataset_id,
                    "name": r.name,
                    "top3": [r.top1, r.top2, r.top3],
                    "best": r.best,
                    "regret": r.regret,
                    "regret_at_3": r.regret_at_3,
                }
            )
        return out

    def to_dict(self, per_dataset: bool = True) -> dict:
        out: dict[str, Any] = {"settings": self.settings, "metamodels": self.summary, "errors": self.errors}
        if per_dataset:
            out["per_dataset"] = {name: self.picks(name) for name in self.summary}
        return out


def _splits(ids: list[str], folds: int | None, seed: int) -> list[list[str]]:
    import numpy as np

    if not folds or folds >= len(ids):
        return [[d] for d in ids]
    if folds < 2:
        raise MetarecError(f"--folds must be at least 2 (got {folds})")
    perm = np.random.default_rng(seed).permutation(len(ids))
    return [[ids[i] for i in sorted(perm[f::folds])] for f in range(folds)]


def _run_fold(name: str, factory: Callable | None, pt, test_ids: list[str]):
    """Fit ``name`` on every dataset but ``test_ids``; return predictions for ``test_ids`` and seconds."""
    if factory is None:
        from .metamodels import get_metamodel

        factory = get_metamodel(name).create  # a factory that fails or returns no meta-model: one line
    try:
        return _fit_predict_fold(factory, pt, test_ids)
    except Exception as exc:  # one broken meta-model (a plugin's) must not cost the others' results
        text = str(exc).strip().splitlines()
        return {"test_ids": test_ids, "error": f"{type(exc).__name__}: {text[0][:300] if text else ''}"}


def _fit_predict_fold(factory: Callable, pt, test_ids: list[str]) -> dict:
    train_ids = [d for d in pt.scores.index if d not in set(test_ids)]
    t0 = time.perf_counter()
    model = factory()
    model.fit(
        pt.metafeatures.loc[train_ids],
        pt.scores.loc[train_ids],
        fit_times=pt.fit_times.loc[train_ids],
        train_sizes=pt.train_sizes.loc[train_ids],
        observed=None if getattr(pt, "observed", None) is None else pt.observed.loc[train_ids],
    )
    pred = model.predict(pt.metafeatures.loc[test_ids])
    seconds = time.perf_counter() - t0
    pref = pred.score if pred.preference is None else pred.preference
    return {
        "test_ids": test_ids,
        "preference": pref.reindex(columns=pt.scores.columns),
        "lower": pred.lower.reindex(columns=pt.scores.columns),
        "upper": pred.upper.reindex(columns=pt.scores.columns),
        "fit_time": pred.fit_time.reindex(columns=pt.scores.columns),
        "seconds": seconds,
    }


def evaluate_metamodels(
    kb,
    metamodels: Sequence[str] = ("lightgbm",),
    metric: str | None = None,
    task_type: str = "classification",
    source: str | None = "lcdb",
    folds: int | None = None,
    n_jobs: int | None = None,
    seed: int = 0,
    factories: dict[str, Callable] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> EvaluationResult:
    """Leave-one-dataset-out (or ``folds``-fold) evaluation of registered meta-models on ``kb``.

    Parameters
    ----------
    kb : KnowledgeBase
    metamodels : sequence of str
        Registered meta-model names (``single-best`` is always evaluated too, for the gap closed).
    metric, task_type, source
        Passed to :func:`metarec.kb.performance.performance_table` (default: the LCDB part; metric: the
        task's default, accuracy for classification and r2 for regression).
    folds : int, optional
        K folds over datasets instead of leave-one-out.
    n_jobs : int, optional
        Parallel worker processes (default: the CPU count).
    factories : dict, optional
        name -> factory overriding the registry (tests, experiments).
    progress : callable, optional
        ``progress(done, total)`` after each fitted fold.
    """
    import numpy as np
    import pandas as pd

    from .metrics import DEFAULT_METRIC
    from .kb.performance import performance_table

    if metric is None:
        metric = DEFAULT_METRIC.get(task_type, "accuracy")
    pt = performance_table(kb, metric=metric, task_type=task_type, source=source)
    if len(pt.scores) < 3:
        raise MetarecError(f"evaluation needs at least 3 datasets with {metric} scores, the KB has {len(pt.scores)}")
    factories = dict(factories or {})
    names = list(dict.fromkeys(metamodels))
    if not names:
        raise MetarecError("no meta-model to evaluate")
    from .metamodels import get_metamodel

    for n in names:
        if n not in factories:
            get_metamodel(n)  # an unknown name fails here, with close matches, before any fitting
    if "single-best" not in names and "single-best" not in factories:
        from .plugins import get_plugin_host

        if "single-best" not in get_plugin_host().registry("metamodel"):
            from .metamodels.single_best import SingleBestMetaModel

            factories["single-best"] = SingleBestMetaModel
    run_names = names + (["single-best"] if "single-best" not in names else [])
    ids = list(pt.scores.index)
    splits = _splits(ids, folds, seed)
    jobs = [(n, s) for n in run_names for s in splits]
    n_jobs = int(n_jobs or os.cpu_count() or 1)
    outputs: dict[str, list] = {n: [] for n in run_names}
    done = 0
    if n_jobs > 1 and len(jobs) > 1:
        from joblib import Parallel, delayed

        # module-level callable and registry lookups in the workers: nothing unpicklable crosses over
        par = Parallel(n_jobs=n_jobs, return_as="generator", batch_size="auto")
        gen = par(delayed(_run_fold)(n, factories.get(n), pt, s) for n, s in jobs)
        for (n, _), out in zip(jobs, gen):
            outputs[n].append(out)
            done += 1
            if progress:
                progress(done, len(jobs))
    else:
        for n, s in jobs:
            outputs[n].append(_run_fold(n, factories.get(n), pt, s))
            done += 1
            if progress:
                progress(done, len(jobs))

    names_of = kb.datasets.set_index("dataset_id")["name"] if "name" in kb.datasets.columns else pd.Series(dtype=str)
    S = pt.scores
    learners = list(S.columns)
    observed = pt.observed if getattr(pt, "observed", None) is not None else S.notna() | True
    full = pt.train_sizes >= 0.98 * pt.train_sizes.max(axis=1).to_numpy()[:, None]
    rows = []
    summary: dict[str, dict] = {}
    errors = {n: next(o["error"] for o in outputs[n] if "error" in o)
              for n in run_names if any("error" in o for o in outputs[n])}
    for n, e in errors.items():
        logger.warning("meta-model %s failed and is left out: %s", n, e)
    if "single-best" in errors:
        raise MetarecError(f"the single-best baseline failed ({errors['single-best']}); cannot evaluate")
    run_names = [n for n in run_names if n not in errors]
    names = [n for n in names if n not in errors]
    for n in run_names:
        pref = pd.concat([o["preference"] for o in outputs[n]]).loc[ids]
        lower = pd.concat([o["lower"] for o in outputs[n]]).loc[ids]
        upper = pd.concat([o["upper"] for o in outputs[n]]).loc[ids]
        ftime = pd.concat([o["fit_time"] for o in outputs[n]]).loc[ids]
        seconds = float(sum(o["seconds"] for o in outputs[n]))
        regs, r3s, ndcgs, sps = [], [], [], []
        for d in ids:
            # only learners that were run on the dataset can be scored (all of them on the LCDB grid)
            ran = np.flatnonzero(observed.loc[d].to_numpy(dtype=bool))
            s = S.loc[d].to_numpy(dtype=float)[ran]
            p = pref.loc[d].to_numpy(dtype=float)[ran]
            order = list(np.argsort(-np.where(np.isnan(p), -np.inf, p), kind="stable"))
            r1, r3 = regret(s, order[0]), regret_at_k(s, order, 3)
            nd, sp = ndcg_at_k(s, order, 5), spearman(s, p)
            regs.append(r1)
            r3s.append(r3)
            ndcgs.append(nd)
            sps.append(sp)
            top = [learners[ran[i]] for i in order[:3]] + [None] * 3
            rows.append(
                {
                    "metamodel": n,
                    "dataset_id": d,
                    "name": str(names_of.get(d, d)),
                    "best": learners[ran[int(np.nanargmax(s))]],
                    "top1": top[0],
                    "top2": top[1],
                    "top3": top[2],
                    "regret": r1,
                    "regret_at_3": r3,
                    "ndcg_at_5": nd,
                    "spearman": sp,
                }
            )
        regs_a = np.asarray(regs)
        summary[n] = {
            "mean_regret": float(regs_a.mean()),
            "median_regret": float(np.median(regs_a)),
            "regret_at_3": float(np.mean(r3s)),
            "top1_within_1pt": float((regs_a <= WITHIN + 1e-12).mean()),
            "ndcg_at_5": float(np.mean(ndcgs)),
            "spearman": float(np.nanmean(sps)) if not np.isnan(sps).all() else float("nan"),
            "coverage": coverage(S.to_numpy(), lower.to_numpy(), upper.to_numpy()),
            "fit_time_error": fit_time_error(pt.fit_times.where(full).to_numpy(), ftime.to_numpy()),
            "seconds": seconds,
        }
    sb = summary["single-best"]["mean_regret"]
    for n in run_names:
        summary[n]["gap_closed"] = gap_closed(summary[n]["mean_regret"], sb)
    # report in the order asked, single-best last when it was only added for the gap
    ordered = {n: summary[n] for n in names}
    if "single-best" not in names:
        ordered["single-best"] = summary["single-best"]
    per = pd.DataFrame(rows)
    settings = {
        "metric": metric,
        "task_type": task_type,
        "source": source,
        "protocol": "leave-one-dataset-out" if len(splits) == len(ids) else f"{len(splits)}-fold over datasets",
        "datasets": len(ids),
        "learners": learners,
        "n_jobs": n_jobs,
    }
    return EvaluationResult(summary=ordered, per_dataset=per, settings=settings, errors=errors)


# -- plot ---------------------------------------------------------------------------------------------------
def _boxes(ax, data) -> None:
    """Box plots (quartiles, 1.5 IQR whiskers, outliers, mean) at x = 1, 2, ...; not ``Axes.boxplot``, which
    reads every rcParam and so makes matplotlib choose a backend through pyplot."""
    from matplotlib.cbook import boxplot_stats

    for x, st in enumerate(boxplot_stats(data), start=1):
        lo, q1, q3, hi = st["whislo"], st["q1"], st["q3"], st["whishi"]
        ax.plot([x - .25, x + .25, x + .25, x - .25, x - .25, None, x, x, None, x, x, None, x - .12, x + .12, None,
                 x - .12, x + .12], [q1, q1, q3, q3, q1, None, lo, q1, None, q3, hi, None, lo, lo, None, hi, hi], "k-")
        ax.plot([x - .25, x + .25], [st["med"]] * 2, color="tab:orange")
        ax.plot([x] * len(st["fliers"]), st["fliers"], "ko", mfc="none")
        ax.plot([x], [st["mean"]], "^", color="tab:green")
    ax.set_xlim(0.5, len(data) + 0.5)


def plot_regret(result: EvaluationResult, path) -> str:
    """Draw the distribution (ECDF) of each meta-model's per-dataset top-1 regret against single-best.

    Writes a PNG/PDF/SVG (by extension) and returns the path; drawn on its own Agg canvas (no pyplot).
    """
    import numpy as np
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from .fileio import atomic_write_figure

    per = result.per_dataset
    fig = Figure(figsize=(11, 4.2))
    FigureCanvasAgg(fig)
    ax1, ax2 = fig.subplots(1, 2)
    names = list(result.summary)
    for n in names:
        r = np.sort(per.loc[per["metamodel"] == n, "regret"].to_numpy())
        y = np.arange(1, len(r) + 1) / len(r)
        style = {"linestyle": "--", "color": "black"} if n == "single-best" else {}
        ax1.step(np.maximum(r, 1e-4), y, where="post", label=f"{n} (mean {r.mean():.4f})", **style)
    ax1.set(xscale="log", xlabel="top-1 regret (0 shown at 1e-4)", ylabel="share of datasets with regret <= x",
            title="regret distribution")
    ax1.legend(fontsize=8, loc="lower right")
    ax1.grid(alpha=0.3)
    data = [per.loc[per["metamodel"] == n, "regret"].to_numpy() for n in names]
    _boxes(ax2, data)
    ax2.set_xticks(range(1, len(names) + 1), names, rotation=20)
    ax2.set_yscale("symlog", linthresh=0.01)
    ax2.set(ylim=(0, None), ylabel="top-1 regret",
            title=f"{result.settings.get('protocol', '')}, {result.settings.get('metric', '')}")
    ax2.grid(alpha=0.3, axis="y")
    fig.tight_layout()
    atomic_write_figure(fig, path, dpi=120)  # never a half-written image
    return str(path)

