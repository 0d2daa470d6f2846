"""Recommend learners for a dataset: rank, predicted score with interval, fit time, evidence, configs.

:class:`Recommender` fits a meta-model on a knowledge base (cached by the KB checksum, so recommending
does not retrain) and ranks the learners for a new dataset from its meta-features, computed by the very
extractors the KB's meta-features came from. It explains a ranking by the most similar KB tasks and by
the meta-features that pushed the top pick up or down, and suggests configurations from the KB's search
evidence (its HPO studies and imported search results) on the most similar tasks: a greedy portfolio of
configs that did well across the nearest tasks the learner was searched on
(:func:`metarec.kb.zeroshot.zero_shot_configs`), led by the learner's default unless a configuration beats
it on significantly many of those tasks; the default alone when there are none.
"""

from __future__ import annotations

import logging
import math
import numbers
import shlex
from dataclasses import asdict, dataclass, field
from typing import Any

from .exceptions import MetarecError, ParameterError, check_seconds
from .metrics import DEFAULT_METRIC, check_metric, get_metric

logger = logging.getLogger(__name__)

#: how many of the nearest KB tasks :meth:`Recommendation.portfolio` complements the top pick on
PORTFOLIO_TASKS = 10


@dataclass
class LearnerRecommendation:
    """One recommended learner."""

    rank: int
    learner: str
    score: float
    lower: float
    upper: float
    fit_time: float
    evidence: int
    fits_budget: bool = True
    configs: list[dict] = field(default_factory=list)
    config_source: str = "default"
    installed: bool = True


@dataclass
class Recommendation:
    """The answer of :func:`recommend`; ``to_dict()`` is what ``metarec recommend --json`` prints."""

    dataset: dict
    task_type: str
    metric: str
    metamodel: str
    learners: list[LearnerRecommendation]
    no_evidence: list[dict]
    similar: list[dict]
    explanation: dict
    metafeatures: Any = None
    warnings: list[str] = field(default_factory=list)
    timings: dict = field(default_factory=dict)
    #: how far the dataset is from the KB's tasks (:func:`novelty`): ``far`` when farther than LOO ever sees
    novelty: dict = field(default_factory=dict)
    #: the :data:`PORTFOLIO_TASKS` nearest KB tasks (rows) x learners: each score less the task's best (0 for
    #: the task's winner, NaN where not run); what :meth:`portfolio` complements the top pick on
    neighbour_scores: Any = field(default=None, repr=False)
    #: every installed learner the meta-model ranked, in its order (``learners`` holds the first ``top_k``)
    ranking: list[str] = field(default_factory=list, repr=False)
    #: what the meta-model ranks by (its ``ranked_by``): the predicted scores need not be in rank order
    ranked_by: str = "meta-model's own ranking"

    @property
    def best(self) -> LearnerRecommendation:
        return self.learners[0]

    def warm_start_configs(self, k: int) -> list[tuple[str, dict]]:
        """Up to ``k`` (learner, config) pairs: each learner's best config by rank, then second bests..."""
        out: list[tuple[str, dict]] = []
        depth = max((len(r.configs) for r in self.learners), default=0)
        for i in range(depth):
            for r in self.learners:
                if i < len(r.configs) and len(out) < k:
                    out.append((r.learner, r.configs[i]))
        return out

    def portfolio(self, k: int = 3, candidates: list[str] | None = None, pool: int | None = None) -> list[str]:
        """``k`` learners to search together: the top pick, then greedily the learner that most raises the
        best score reached on the nearest KB tasks (``neighbour_scores``) by one of those chosen, among the
        ``pool`` (default ``2 k``) best ranked (:func:`metarec.kb.similarity.learner_portfolio`).
        ``candidates``: the learners allowed, in rank order (default: every installed learner ranked)."""
        from .kb.similarity import learner_portfolio

        if candidates is None:
            names = self.ranking or [r.learner for r in self.learners if r.installed]
        else:
            names = list(candidates)
        return learner_portfolio(names, self.neighbour_scores, k, pool)

    def to_frame(self):
        import pandas as pd

        return pd.DataFrame([{k: v for k, v in asdict(r).items() if k != "configs"} for r in self.learners])

    def to_dict(self) -> dict[str, Any]:
        mf = self.metafeatures
        return {
            "dataset": self.dataset,
            "task_type": self.task_type,
            "metric": self.metric,
            "metamodel": self.metamodel,
            "ranked_by": self.ranked_by,
            "learners": [asdict(r) for r in self.learners],
            "no_evidence": self.no_evidence,
            "similar_datasets": self.similar,
            "novelty": self.novelty,
            "portfolio": self.portfolio(3),
            "explanation": self.explanation,
            "warnings": self.warnings,
            "timings": self.timings,
            "metafeatures": None if mf is None else {k: (None if v != v else float(v)) for k, v in mf.items()},
        }


class Recommender:
    """Fit a meta-model on a knowledge base and rank learners for new datasets.

    Parameters
    ----------
    kb : KnowledgeBase, path or None
        Default: the shipped KB (or ``$METAREC_KB``).
    metamodel : str
        A registered meta-model (``metarec plugins``); ``lightgbm`` by default.
    metric : str, optional
        Default: accuracy for classification, r2 for regression.
    cache : bool
        Reuse a fitted meta-model and the KB's performance table from the user cache (keyed by the KB
        checksum), and the meta-features of data seen before (keyed by the data's checksum; see
        :mod:`metarec.metafeatures.cache`).
    """

    def __init__(self, kb: Any = None, metamodel: str = "lightgbm", metric: str | None = None, cache: bool = True):
        self.kb = kb
        self.metamodel = metamodel
        self.metric = metric
        self.cache = cache

    def _kb(self):
        from .kb import KnowledgeBase, load_kb

        if not isinstance(self.kb, KnowledgeBase):
            self.kb = load_kb(self.kb)
        return self.kb

    def recommend(
        self,
        data: Any,
        target: str | None = None,
        *,
        y: Any = None,
        task_type: str | None = None,
        top_k: int = 5,
        time_budget: float | None = None,
        n_configs: int = 3,
        n_similar: int = 3,
        metafeature_budget: float | None = 30.0,
    ) -> Recommendation:
        """Rank learners for ``data`` (file, ``openml:ID``, DataFrame + target, arrays)."""
        import time

        from .data import load_dataset
        from .kb.performance import performance_table
        from .kb.similarity import below_best, scaled
        from .kb.zeroshot import search_runs, zero_shot_configs
        from .learners import get_learners
        from .metafeatures.cache import cached_metafeatures
        from .metamodels import fit_metamodel

        t0 = time.perf_counter()
        target, y = _target_or_y(target, y)
        if isinstance(top_k, bool) or not isinstance(top_k, numbers.Integral) or top_k < 1:
            raise ParameterError(f"top_k must be a positive integer, got {top_k!r}")
        top_k = int(top_k)
        check_seconds("time_budget", time_budget)  # as the CLI's --time-budget
        ds = load_dataset(data, target=target, y=y, task_type=task_type)
        metric = check_metric(self.metric, ds.task_type)
        notes = []
        # the KB's values of a scale-dependent metric cannot be compared across datasets: rank by R^2 (on one
        # dataset RMSE orders learners as R^2 does)
        if get_metric(metric).scale_dependent:
            notes.append(f"{metric} depends on the scale of each dataset's target, so the knowledge base's values "
                         f"cannot be compared across datasets: ranked and predicted by r2 instead (tune can still "
                         f"optimise {metric})")
            metric = "r2"
        kb = self._kb()
        t_load = time.perf_counter()
        perf = performance_table(kb, metric=metric, task_type=ds.task_type, cache=self.cache)
        groups = _groups_for(kb.metafeature_names)
        # once per data checksum: a following tune (or recommend) of the same file reuses them
        mf, report = cached_metafeatures(ds, groups=groups, time_budget=metafeature_budget, cache=self.cache)
        t_mf = time.perf_counter()
        model = fit_metamodel(kb, name=self.metamodel, metric=metric, task_type=ds.task_type, cache=self.cache)
        x = mf.reindex(perf.metafeatures.columns).astype(float).to_frame().T
        x.index = [ds.name]
        pred = model.predict(x)
        t_pred = time.perf_counter()

        evidence = perf.evidence
        bounded = get_metric(metric).clip  # predictions and intervals stay within the metric's values

        ranked = []
        for learner in pred.score.columns:
            n = int(evidence.get(learner, 0))
            if n == 0:
                continue
            ft = float(pred.fit_time.iloc[0][learner]) if pred.fit_time is not None else math.nan
            ranked.append(LearnerRecommendation(
                rank=0, learner=learner, score=bounded(pred.score.iloc[0][learner]),
                lower=bounded(pred.lower.iloc[0][learner]), upper=bounded(pred.upper.iloc[0][learner]),
                fit_time=ft, evidence=n,
                fits_budget=time_budget is None or not (ft == ft) or ft <= time_budget,
            ))
        # the meta-model's own order (its `preference`, e.g. a ranker's), learners over budget last
        position = {name: i for i, name in enumerate(pred.ranking().iloc[0])}
        ranked.sort(key=lambda r: (not r.fits_budget, position[r.learner]))
        installed = {lr.name: lr for lr in get_learners()}
        scaling = scaled(perf.metafeatures)  # once, for both comparisons with the KB's tasks
        # one distance computation for the tasks shown and the tasks the portfolio learns from
        near = nearest_datasets(perf.metafeatures, x.iloc[0], kb, n=max(n_similar, PORTFOLIO_TASKS), scaling=scaling)
        similar = near[:n_similar]
        neighbour_scores = below_best(perf.scores.loc[[d["dataset_id"] for d in near[:PORTFOLIO_TASKS]]])
        far = novelty(perf.metafeatures, x.iloc[0], key=(kb.checksum, ds.task_type, metric), scaling=scaling)
        # filtered once for every learner below
        searched = search_runs(kb, metric, ds.task_type, learners=[r.learner for r in ranked[:top_k]],
                               cache=self.cache) \
            if ranked and top_k > 0 else None
        for i, r in enumerate(ranked, start=1):
            r.rank = i
            if i <= top_k:
                default = dict(installed[r.learner].default_config) if r.learner in installed else None
                cfgs, _ = zero_shot_configs(kb, mf, r.learner, metric, ds.task_type, k=n_configs, runs=searched,
                                            incumbent=default)
                if cfgs and not _only_default(cfgs, installed.get(r.learner)):
                    r.configs = cfgs
                    r.config_source = "kb: portfolio over the nearest searched tasks"
                elif r.learner in installed:
                    r.configs, r.config_source = [dict(installed[r.learner].default_config)], "default"
                else:
                    r.configs, r.config_source = [], "none (learner not installed)"
        known = set(evidence[evidence > 0].index)
        no_evidence = [
            {"learner": lr.name, "reason": "no runs in the knowledge base",
             "fix": f"metarec kb build {_build_spec(ds)} --learners {lr.name} --out my_kb && "
                    f"metarec kb merge {shlex.quote(_shown_path(kb.path)) if kb.path else 'KB'} my_kb --out merged_kb"}
            for lr in get_learners(ds.task_type) if lr.name not in known
        ]
        explanation = {}
        if ranked:
            top = ranked[0].learner
            contrib = model.explain(x.iloc[0], top)
            if contrib is not None and len(contrib):
                order = contrib.abs().sort_values(ascending=False).index[:6]
                explanation = {
                    "learner": top,
                    "method": getattr(model, "explain_method_", "per-feature contributions"),
                    "contributions": [
                        {"metafeature": f, "value": _num(x.iloc[0].get(f)), "contribution": float(contrib[f])}
                        for f in order
                    ],
                }
        warnings = list(ds.warnings) + notes
        if far["far"]:
            warnings.append(f"far from every knowledge-base task: the nearest is at distance "
                            f"{far['nearest_distance']:.3f}, above {far['threshold']:.3f}, the {far['quantile']:.0%} "
                            f"quantile of the distances between KB tasks and their nearest neighbours; the ranking "
                            f"and intervals extrapolate")
        warnings.extend(report.problems())
        for r in ranked:
            r.installed = r.learner in installed
        absent = [r.learner for r in ranked if not r.installed]
        if absent:
            providers = kb.manifest.get("learners", {})
            warnings.append("ranked from the knowledge base but not installed (no pipeline to tune): " + ", ".join(
                f"{n} (plugin {providers.get(n, '?')!r})" for n in absent))
        if time_budget is not None and any(not r.fits_budget for r in ranked):
            slow = [r.learner for r in ranked if not r.fits_budget]
            warnings.append(f"demoted for the time budget of {time_budget:g} s: {', '.join(slow)}")
        return Recommendation(
            dataset={"name": ds.name, "source": ds.source, "target": ds.target, "n_rows": ds.n_rows,
                     "n_features": ds.n_features, "n_classes": ds.n_classes, "task_decision": ds.task_decision},
            task_type=ds.task_type, metric=metric or DEFAULT_METRIC[ds.task_type], metamodel=self.metamodel,
            learners=ranked[:top_k], no_evidence=no_evidence, similar=similar, neighbour_scores=neighbour_scores,
            ranking=[r.learner for r in ranked if r.installed],
            ranked_by=str(getattr(model, "ranked_by", "meta-model's own ranking")),
            explanation=explanation, metafeatures=mf, warnings=warnings, novelty=far,
            timings={"load_kb": round(t_load - t0, 3), "metafeatures": round(t_mf - t_load, 3),
                     "metamodel": round(t_pred - t_mf, 3), "total": round(time.perf_counter() - t0, 3)},
        )


def recommend(data: Any, target: str | None = None, *, kb: Any = None, metamodel: str = "lightgbm",
              metric: str | None = None, top_k: int = 5, time_budget: float | None = None,
              task_type: str | None = None, y: Any = None, cache: bool = True) -> Recommendation:
    """Recommend learners for ``data``; see :class:`Recommender`.

    Examples
    --------
    >>> rec = metarec.recommend(df, target="y")          # doctest: +SKIP
    >>> rec = metarec.recommend(X, y)                    # doctest: +SKIP  (arrays, as in scikit-learn)
    >>> rec.best.learner, rec.best.score, rec.similar[0]  # doctest: +SKIP
    """
    return Recommender(kb, metamodel=metamodel, metric=metric, cache=cache).recommend(
        data, target, y=y, task_type=task_type, top_k=top_k, time_budget=time_budget
    )


def nearest_datasets(metafeatures, x, kb, n: int = 3, scaling=None) -> list[dict]:
    """KB datasets nearest to ``x``: mean L1 distance over shared meta-features, robustly scaled
    (``scaling``: :func:`metarec.kb.similarity.scaled` of ``metafeatures`` when the caller has it).

    Each meta-feature is centred on its KB median and divided by its inter-quartile range (signed log
    first, as counts span orders of magnitude); features missing on either side are skipped.
    """
    import numpy as np

    from .kb.similarity import distances, scaled, slog

    Z, med, scale = scaling if scaling is not None else scaled(metafeatures)
    z = (slog(x.reindex(metafeatures.columns).to_numpy(dtype=float)) - med) / scale
    dist, count = distances(Z, z)
    order = np.argsort(dist, kind="stable")[:n]
    names = kb.datasets.set_index("dataset_id")["name"]
    return [{"dataset_id": metafeatures.index[i], "name": str(names.get(metafeatures.index[i], "")),
             "distance": float(dist[i]), "shared_metafeatures": int(count[i])} for i in order]


_NOVELTY_THRESHOLDS: dict = {}
#: a new dataset is far from the knowledge base when its nearest KB task is farther than this quantile of
#: the distances of KB tasks to their own nearest other KB task
NOVELTY_QUANTILE = 0.95


def novelty(metafeatures, x, key=None, scaling=None) -> dict:
    """Is ``x`` far from every KB task? Its nearest KB task's distance (as :func:`nearest_datasets` measures
    it) against the :data:`NOVELTY_QUANTILE` quantile of the KB tasks' distances to their nearest other KB
    task (what leave-one-out sees). ``key`` caches that quantile (it depends on the KB only); ``scaling`` is
    :func:`metarec.kb.similarity.scaled` of ``metafeatures`` when the caller has it."""
    import numpy as np

    from .kb.similarity import distances, scaled, slog

    Z, med, scale = scaling if scaling is not None else scaled(metafeatures)
    threshold = _NOVELTY_THRESHOLDS.get(key) if key is not None else None
    if threshold is None:
        nearest = []
        for i in range(len(Z)):
            d, _ = distances(Z, Z[i])
            d[i] = np.inf
            nearest.append(d.min())
        finite = np.asarray([v for v in nearest if np.isfinite(v)])
        threshold = float(np.quantile(finite, NOVELTY_QUANTILE)) if len(finite) else float("inf")
        if key is not None:
            _NOVELTY_THRESHOLDS[key] = threshold
    z = (slog(x.reindex(metafeatures.columns).to_numpy(dtype=float)) - med) / scale
    dist, _ = distances(Z, z)
    nearest_new = float(dist.min()) if len(dist) else float("inf")
    return {"nearest_distance": nearest_new, "threshold": threshold, "quantile": NOVELTY_QUANTILE,
            "far": bool(nearest_new > threshold)}


def _only_default(configs: list, learner) -> bool:
    """Whether ``configs`` is just the learner's default (the KB ran it at its default only: not tuned)."""
    from .kb.format import config_id

    default = None if learner is None else config_id(dict(learner.default_config))
    return len(configs) == 1 and config_id(configs[0]) == default


def _shown_path(path) -> str:
    """``path`` as a user would type it here: relative to the working directory when it lies below it."""
    import os

    try:
        rel = os.path.relpath(path)
    except ValueError:  # another drive (Windows)
        return str(path)
    return str(path) if rel == ".." or rel.startswith(".." + os.sep) else rel


def _build_spec(ds) -> str:
    """The ``metarec kb build`` spec of the dataset (``FILE#TARGET``), quoted for a POSIX shell."""
    if ds.source in ("DataFrame", "ndarray"):
        return "DATA"
    if ds.source.startswith("openml:"):
        return ds.source
    return shlex.quote(f"{ds.source}#{ds.target}")


def _target_or_y(target, y):
    """``recommend(X, y)`` as in scikit-learn: an array-like second argument is the target values (a scalar,
    e.g. an integer column name, stays a column name)."""
    import numpy as np

    if target is None or isinstance(target, str) or np.ndim(target) == 0:
        return target, y
    if y is not None:
        raise MetarecError("pass the target either as a column name (target='col') or as values (y=...), not both")
    return None, target


def _num(v):
    try:
        v = float(v)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(v) else v


def _groups_for(names: list[str]) -> list[str]:
    """The registered meta-feature groups providing any of ``names`` (in registry order)."""
    from .plugins import get_plugin_host

    wanted = set(names)
    groups = [e.name for e in get_plugin_host().registry("metafeature group").entries()
              if wanted & set(e.obj.feature_names)]
    if not groups:
        raise MetarecError("no registered meta-feature group provides the knowledge base's meta-features; "
                           "install the plugin that built it (see `metarec kb info`)")
    return groups
