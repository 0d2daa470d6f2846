"""Zero-shot configurations: which configurations of a learner a new dataset should try first, learned
from every task in the knowledge base on which that learner was *searched*.

Search evidence is any (dataset, source) where the KB holds at least :data:`MIN_SEARCH_CONFIGS` distinct
``ok`` configurations of the learner: ``kb build``'s Optuna studies, the portfolio part (``kb build
--configs``: the same candidate configurations on every task) and the imported public search results
(``kb import-hpo``: random forest, AdaBoost, SVC on the OpenML100; LightGBM on the AutoML benchmark). A
source that ran only the default (LCDB, the everyday-tables part) is no search evidence and drops out.
Evidence scored by metarec's own protocol is preferred: imported results choose a learner's
configurations only when the KB holds none of the former (AdaBoost, SVC). The imports' best configurations
are what the portfolio part's candidates were drawn from (``knowledge_base/zero_shot_candidates.py``).

Scores of different sources and protocols are never compared raw: each configuration's score is taken
relative to the best of its own (dataset, source), as a regret (what picking it costs there) or in units of
that task's best-minus-median (:func:`portfolio`). A (dataset, source) scores configurations by the metric
asked for when it has it, else by the first of :data:`SEARCH_METRICS` it has (one dataset orders
configurations by AUC or log loss much as by accuracy, and by RMSE exactly as by R^2).

:func:`zero_shot_configs` conditions the choice on the new dataset: the evidence tasks nearest to it in
meta-feature space (:mod:`metarec.kb.similarity`, over the meta-features both have: imported tasks carry
OpenML's stored qualities only) form a greedy portfolio (:func:`portfolio`), the construction of
auto-sklearn 2.0's portfolios: first the configuration with the least mean regret over those tasks, then
each time the one that most lowers the mean of the per-task best of the portfolio. ``recommend`` makes the
learner's default the incumbent: it comes first unless a configuration beats it on those tasks in mean and
on significantly many of them (a sign test).
"""

from __future__ import annotations

import json
import math
from typing import Any

from ..exceptions import KnowledgeBaseError
from ..metrics import METRICS

#: a (dataset, source) with fewer distinct configurations of a learner is no search evidence for it (a
#: source that ran the default alone says nothing about which configuration to start from)
MIN_SEARCH_CONFIGS = 2

#: runs scored by metarec's own protocol (``kb build``: the splitter and scorers of ``tune``)
OWN_SOURCE = "hpo"

#: the metrics a (dataset, source) may score configurations by, in order of preference after the one asked for
SEARCH_METRICS = {"classification": ("accuracy", "balanced_accuracy", "auc", "logloss", "f1"),
                  "regression": ("r2", "neg_rmse")}

#: a candidate replaces the incumbent (the learner's default) as the first configuration only when it beats it on
#: significantly many of the nearest tasks, by a one-sided sign test at this level (:func:`portfolio`)
INCUMBENT_ALPHA = 0.05

#: the columns of :func:`search_runs`'s table
SEARCH_COLUMNS = ["dataset_id", "source", "learner", "config", "metric", "key", "trial"]

__all__ = ["search_runs", "zero_shot_configs", "portfolio_configs", "portfolio", "beats_significantly",
           "MIN_SEARCH_CONFIGS", "INCUMBENT_ALPHA"]


def search_runs(kb, metric: str, task_type: str, min_configs: int = MIN_SEARCH_CONFIGS, sources=None,
                learners=None, cache: bool = False):
    """The KB's search evidence for ``task_type`` datasets: one row per ``ok`` run, with columns
    ``dataset_id, source, learner, config, metric, key, trial`` (``key``: the score, higher is better).

    ``sources`` and ``learners`` limit the evidence to runs of those (default: all). Filtering the whole
    runs table is most of the cost; pass the result as ``runs`` to :func:`zero_shot_configs` for several
    learners of one recommendation. With ``cache``, the evidence of every learner and source is kept in the
    user cache (``tables/``, keyed like cached performance tables by the KB checksum, the arguments and this
    module's source) and read from there next time, without reading the KB's runs table.
    """
    if metric not in METRICS:
        raise KnowledgeBaseError(f"unknown metric {metric!r}; known: {', '.join(sorted(METRICS))}")
    if cache:
        path = _cache_path(kb, metric, task_type, min_configs)
        r = _read_cached(path, learners) if path is not None else None
        if r is None:
            r = search_runs(kb, metric, task_type, min_configs)
            if path is not None:
                _write_cached(r, path)
            if learners is not None:
                r = r[r["learner"].isin(list(learners)).to_numpy()].reset_index(drop=True)
        if sources is not None:
            r = r[r["source"].isin(list(sources)).to_numpy()].reset_index(drop=True)
        return r
    prefs = (metric,) + tuple(m for m in SEARCH_METRICS.get(task_type, ()) if m != metric)
    runs, ds = kb.runs, kb.datasets
    ids = set(ds.loc[(ds["task_type"] == task_type).to_numpy(), "dataset_id"])
    keep = ((runs["status"] == "ok") & runs["score"].notna() & runs["metric"].isin(prefs)
            & runs["dataset_id"].isin(ids))
    if sources is not None:
        keep &= runs["source"].isin(list(sources))
    if learners is not None:
        keep &= runs["learner"].isin(list(learners))
    r = runs.loc[keep.to_numpy(),
                 ["dataset_id", "source", "learner", "config_id", "config", "metric", "score", "trial"]]
    r = r.assign(_pref=r["metric"].map({m: i for i, m in enumerate(prefs)}).astype(int))
    group = [r["dataset_id"], r["source"], r["learner"]]
    r = r[(r["_pref"] == r.groupby(group)["_pref"].transform("min")).to_numpy()]
    group = [r["dataset_id"], r["source"], r["learner"]]
    r = r[(r.groupby(group)["config_id"].transform("nunique") >= min_configs).to_numpy()]
    sign = r["metric"].map({m: 1.0 if METRICS[m].higher_is_better else -1.0 for m in prefs}).astype(float)
    return r.assign(key=sign * r["score"].astype(float))[SEARCH_COLUMNS].reset_index(drop=True)


def _cache_path(kb, metric: str, task_type: str, min_configs: int):
    """Where the search evidence of these arguments is cached; None for a KB without table checksums."""
    from ..cache import kb_table_path

    return kb_table_path(kb, "search", [metric, task_type, int(min_configs)], __file__, ".parquet")


def _write_cached(runs, path) -> None:
    """Store the evidence sorted by learner in small row groups (a read of a few learners skips the rest),
    atomically; failures are logged."""
    import logging

    from ..fileio import atomic_write_parquet

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_parquet(runs.sort_values("learner", kind="stable").reset_index(drop=True), path,
                             row_group_size=4096)
    except Exception as exc:
        logging.getLogger(__name__).warning("could not cache the search evidence in %s (%s)", path, exc)


def _read_cached(path, learners):
    """The cached evidence of ``learners`` (all: None), or None when there is none or it is unreadable."""
    import pandas as pd

    if not path.is_file():
        return None
    try:
        filters = None if learners is None else [("learner", "in", sorted(set(map(str, learners))) or [""])]
        r = pd.read_parquet(path, filters=filters)
        if list(r.columns) != SEARCH_COLUMNS:
            raise ValueError("unexpected columns")
        return r.reset_index(drop=True)
    except Exception as exc:  # corrupt or foreign: rebuilt and overwritten
        import logging

        logging.getLogger(__name__).warning("search evidence cache %s is unreadable (%s); rebuilding", path, exc)
        return None


def zero_shot_configs(kb, x, learner: str, metric: str, task_type: str, k: int = 3, n_tasks: int = 8, *,
                      runs=None, normalise: str = "regret", **portfolio_options) -> tuple[list[dict], list[str]]:
    """Up to ``k`` configurations of ``learner`` for a dataset with meta-features ``x`` (a Series named by
    meta-feature), and the evidence tasks (``dataset_id``) they were chosen on, nearest first.

    The evidence is the learner's runs scored by metarec's own protocol (:data:`OWN_SOURCE`: ``kb build``'s
    studies and the portfolio part) when the KB holds any, else every source's (imported search results).
    The ``n_tasks`` evidence tasks nearest to ``x`` (:mod:`metarec.kb.similarity`, the KB's datasets of
    ``task_type`` as the scaling population) make a greedy :func:`portfolio` of configurations ranked by
    their normalised score there (``normalise="regret"``: minus the loss to each task's best, what a pick
    costs). ``incumbent`` (``recommend`` passes the learner's default) comes first unless a configuration
    beats it there in mean and on significantly many of those tasks (:func:`portfolio`).
    Returns ``([], [])`` when the KB holds no search evidence of ``learner``.
    """
    import numpy as np

    from .similarity import distances, slog

    if k <= 0:
        return [], []
    if runs is None:
        runs = search_runs(kb, metric, task_type)
    runs = runs[(runs["learner"] == learner).to_numpy()]
    if runs.empty:
        return [], []
    own = (runs["source"] == OWN_SOURCE).to_numpy()
    if own.any():
        runs = runs[own]
    columns = [c for c in kb.metafeature_names if c in x.index]
    population, med, scale = _population(kb, task_type, tuple(columns))
    evidence = runs[["dataset_id", "source"]].drop_duplicates()
    Z = (slog(population.reindex(evidence["dataset_id"]).to_numpy(dtype=float)) - med) / scale
    z = (slog(x.reindex(columns).to_numpy(dtype=float)) - med) / scale
    dist, _ = distances(Z, z)
    order = np.argsort(dist, kind="stable")[:n_tasks]
    tasks = [(evidence["dataset_id"].iloc[i], evidence["source"].iloc[i]) for i in order]
    per_task = []
    for dataset_id, source in tasks:
        r = runs[((runs["dataset_id"] == dataset_id) & (runs["source"] == source)).to_numpy()]
        per_task.append(list(zip(r["config"], r["key"], r["trial"])))
    return portfolio(per_task, k, normalise=normalise, **portfolio_options), [t[0] for t in tasks]


_POPULATION: list = []  # [(datasets frame, task type, columns), (population, median, scale)]: the last one


def _population(kb, task_type: str, columns: tuple):
    """The KB's ``task_type`` datasets' meta-features (``columns``) and their comparison scale, computed once
    for the learners of one recommendation (the KB's datasets table, by identity, task type and columns)."""
    from .similarity import scaled

    ds = kb.datasets
    if not _POPULATION or _POPULATION[0][0] is not ds or _POPULATION[0][1:] != (task_type, columns):
        population = ds.loc[(ds["task_type"] == task_type).to_numpy()].set_index("dataset_id")[list(columns)]
        _, med, scale = scaled(population)
        _POPULATION[:] = [(ds, task_type, columns), (population, med, scale)]
    return _POPULATION[1]


def portfolio_configs(kb, dataset_ids, learner: str, metric: str = "accuracy", k: int = 3, n_tasks: int = 8,
                      bandwidth: float = 0.15, prior_weight: float = 0.5, *, runs=None) -> list[dict]:
    """``k`` configs of ``learner`` that do well *together* on the first ``n_tasks`` of ``dataset_ids``
    (nearest first) on which the KB's HPO part tuned it with ``metric``: a greedy :func:`portfolio`.

    ``runs`` is :func:`metarec.kb.performance.hpo_runs` of ``kb`` and ``metric`` when the caller has it.
    Returns at most ``k`` config dicts (empty when the KB has no HPO trials of ``learner`` there).
    """
    from .performance import hpo_runs

    if metric not in METRICS:
        raise KnowledgeBaseError(f"unknown metric {metric!r}; known: {', '.join(sorted(METRICS))}")
    if k <= 0:
        return []
    if runs is None:
        runs = hpo_runs(kb, metric)
    runs = runs[(runs["learner"] == learner).to_numpy()]
    tuned = set(runs["dataset_id"].unique())
    tasks = [d for d in dict.fromkeys(dataset_ids) if d in tuned][:n_tasks]
    sign = 1.0 if METRICS[metric].higher_is_better else -1.0
    per_task = []
    for task in tasks:
        r = runs[(runs["dataset_id"] == task).to_numpy()]
        per_task.append(list(zip(r["config"], sign * r["score"].astype(float), r["trial"])))
    return portfolio(per_task, k, bandwidth=bandwidth, prior_weight=prior_weight)


def portfolio(per_task: list[list[tuple[str, float, Any]]], k: int, bandwidth: float = 0.15,
              prior_weight: float = 0.5, candidates_per_task: int | None = None,
              normalise: str = "spread", incumbent: dict | None = None,
              alpha: float = INCUMBENT_ALPHA) -> list[dict]:
    """A greedy portfolio of ``k`` configurations over tasks, each task a list of ``(config JSON, score
    (higher is better), trial)`` runs.

    1. the candidates: every config tried on those tasks (the ``candidates_per_task`` best of each, when
       given), the first task's best first;
    2. each candidate's *normalised* score on each task: ``normalise="spread"``: ``(score - median) /
       (best - median)`` of that task's runs (clipped to [-1, 1]); ``"regret"``: ``score - best`` (what
       picking it loses there, in the metric's units); where a candidate was not run, a Gaussian-kernel
       average over the runs there in the scaled config space (numbers min-max scaled, on a log scale when
       they span over 20x; categories match or not; a parameter a config lacks is a category of its own),
       shrunk towards the task's median by ``prior_weight`` pseudo-runs, so a config far from anything tried
       there is not trusted;
    3. greedy selection: first the candidate with the best mean over the tasks, then each time the one that
       raises the mean of the per-task best of the portfolio the most.

    ``incumbent`` (the learner's default, say) is a candidate too, and comes first unless another candidate
    beats it in mean *and* on significantly many of the tasks: a one-sided sign test at level ``alpha``
    (:func:`beats_significantly`; on 8 tasks, 7 or more; a tie counts against the candidate); then the best in
    mean of those candidates comes first, and step 3 continues from it. A mean alone is carried by a few tasks where a
    candidate gains much, while the tasks where it loses much (a low ``colsample_bytree`` on a table whose
    signal sits in one column) are the ones a new dataset may resemble.

    Only ``ok`` runs are given: a config that failed on a task is not penalised there.
    """
    import numpy as np

    configs: dict[str, dict] = {}  # config text -> dict, first seen (nearest task, best run) first
    tasks: list[tuple[list[str], np.ndarray, float]] = []
    candidates: dict[str, None] = {}
    for runs in per_task:
        texts, values = [], []
        for text, value, _ in sorted(runs, key=lambda t: (-t[1], t[2])):
            try:
                cfg = json.loads(text)
            except (TypeError, ValueError):
                continue
            if not isinstance(cfg, dict) or not math.isfinite(value):
                continue
            key = json.dumps(cfg, sort_keys=True)
            configs.setdefault(key, cfg)
            if candidates_per_task is None or len(texts) < candidates_per_task:
                candidates.setdefault(key, None)
            texts.append(key)
            values.append(value)
        if not texts:
            continue
        v = np.asarray(values, dtype=float)
        med, best = np.median(v), v.max()
        if normalise == "regret":  # the score minus the task's best: what a pick loses there
            norm, centre = v - best, med - best
        else:
            norm, centre = (np.clip((v - med) / (best - med), -1.0, 1.0) if best > med else np.zeros_like(v)), 0.0
        tasks.append((texts, norm, centre))
    if not tasks or k <= 0:
        return []
    everything = list(configs)  # the runs' configs: every config of a task informs the smoothing
    extra, incumbent_key = [], None  # an incumbent no task ran: placed in the runs' config space, not scaling it
    if incumbent is not None:
        incumbent_key = json.dumps(dict(incumbent), sort_keys=True, default=str)
        if incumbent_key not in configs:
            extra = [configs.setdefault(incumbent_key, dict(incumbent))]
        candidates.setdefault(incumbent_key, None)
    X = _encode_configs([configs[c] for c in everything], extra)
    everything += [incumbent_key] if extra else []
    keys = list(candidates)  # rows of P
    sq = (X ** 2).sum(axis=1)
    index = {c: i for i, c in enumerate(everything)}
    cand = np.array([index[c] for c in keys])
    position = {int(i): r for r, i in enumerate(cand)}
    # predicted normalised score of every candidate (rows) on every task (columns)
    P = np.empty((len(keys), len(tasks)))
    for j, (texts, norm, centre) in enumerate(tasks):
        rows = np.array([index[t] for t in texts])
        d2 = np.maximum(sq[cand, None] + sq[None, rows] - 2.0 * X[cand] @ X[rows].T, 0.0) / X.shape[1]
        w = np.exp(-0.5 * d2 / bandwidth ** 2)
        P[:, j] = centre + (w @ (norm - centre)) / (w.sum(axis=1) + prior_weight)
        seen: dict[int, list[float]] = {}
        for i, value in zip(rows, norm):  # a candidate run on this task: its own (mean) result
            if int(i) in position:
                seen.setdefault(position[int(i)], []).append(float(value))
        for i, vals in seen.items():
            P[i, j] = float(np.mean(vals))
    chosen: list[int] = []
    covered = np.full(len(tasks), -np.inf)
    if incumbent_key is not None:
        d = keys.index(incumbent_key)
        mean = P.mean(axis=1)
        wins = (P > P[d] + 1e-12).sum(axis=1)  # a tie with the incumbent counts against the candidate
        challengers = (mean > mean[d]) & np.array([beats_significantly(int(w), len(tasks), alpha) for w in wins])
        # the incumbent, or the best in mean of the candidates that beat it significantly
        first = int(np.argmax(np.where(challengers, mean, -np.inf))) if challengers.any() else d
        chosen.append(first)
        covered = P[first].copy()
    for _ in range(min(k, len(keys)) - len(chosen)):
        gain = np.maximum(P, covered).mean(axis=1)
        gain[chosen] = -np.inf
        best_i = int(np.argmax(gain))  # ties: the first seen (nearest task's best)
        chosen.append(best_i)
        covered = np.maximum(covered, P[best_i])
    return [configs[keys[i]] for i in chosen]


def beats_significantly(wins: int, n: int, alpha: float = INCUMBENT_ALPHA) -> bool:
    """Whether ``wins`` of ``n`` tasks is significantly more than chance under a one-sided sign test: the
    binomial probability of at least ``wins`` successes in ``n`` fair trials is at most ``alpha``."""
    tail = sum(math.comb(n, i) for i in range(wins, n + 1)) / 2 ** n
    return n > 0 and tail <= alpha


def _encode_configs(configs: list[dict], extra: list[dict] = ()):
    """Configs as rows of numbers in [0, 1] (categories one-hot), for distances between configs; the rows of
    ``extra`` follow, placed by the scaling and levels of ``configs`` alone (a value outside their range
    falls outside [0, 1]; a level or parameter they lack matches nothing)."""
    import numpy as np

    names = sorted({n for c in configs for n in c})
    rows = list(configs) + list(extra)
    columns = []
    for name in names:
        values = [c.get(name, _ABSENT) for c in configs]
        everyone = [c.get(name, _ABSENT) for c in rows]
        numeric = [v for v in values if _is_number(v)]
        if numeric and len(numeric) == sum(v is not _ABSENT for v in values):
            lo, hi = min(numeric), max(numeric)
            log = lo > 0 and hi / lo > 20
            f = (lambda x: math.log(x)) if log else (lambda x: x)
            span = (f(hi) - f(lo)) or 1.0
            # absent (a conditional parameter), or not a number this scale can place: half a range below the smallest
            columns.append([(f(v) - f(lo)) / span if _is_number(v) and (v > 0 or not log) else -0.5
                            for v in everyone])
        else:
            codes = [json.dumps(v, sort_keys=True, default=str) if v is not _ABSENT else "<absent>" for v in everyone]
            for level in dict.fromkeys(codes[:len(configs)]):
                columns.append([float(c == level) for c in codes])
    if not columns:
        return np.zeros((len(rows), 1))
    return np.asarray(columns, dtype=float).T


def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


_ABSENT = object()
