"""The warm start: which configurations a new study tries first, and the metric the recommendation ranks by."""

from __future__ import annotations

import logging
import warnings
from typing import Any

from ..exceptions import MetarecError, MetarecWarning
from ..metrics import DEFAULT_METRIC, METRICS

logger = logging.getLogger(__name__)


def load_kb(kb):
    """``kb`` as a :class:`~metarec.kb.KnowledgeBase` (a path or None, the shipped one, is loaded)."""
    from ..kb import KnowledgeBase, load_kb as _load

    return kb if isinstance(kb, KnowledgeBase) else _load(kb)


def enqueue_warm_start(study, configs: list[tuple[str, dict]]) -> list[dict]:
    """Enqueue ``(learner, config)`` pairs as the study's first trials; returns what was enqueued.

    A configuration runs as given (the objective reads it from the trial's ``warm_config``), also where the
    learner's search space cannot hold a value (a forest's ``max_features`` fraction where the space offers
    ``"sqrt"``, ``"log2"`` and a few fractions; more trees than the space's upper bound; a parameter it does
    not tune): only the values the space holds are enqueued as the trial's parameters, which the sampler
    learns from."""
    import json

    from ..learners import get_learner

    queued, seen = [], set()
    for name, config in configs:
        text = json.dumps(config, sort_keys=True, default=str)
        if (name, text) in seen:  # a repeat (not judged by the trial's parameters: they may hold only part of it)
            continue
        seen.add((name, text))
        probe = _SpaceProbe(config)
        try:
            get_learner(name).suggest(probe)
        except Exception:  # a learner no longer installed, or a space this probe cannot walk: enqueue it all
            probe.held = dict(config)
        params = {"learner": name, **{f"{name}:{k}": v for k, v in probe.held.items()}}
        study.enqueue_trial(params, user_attrs={"warm_start": True, "warm_config": text})
        queued.append({"learner": name, "config": config})
    return queued


#: random trials the sampler draws before TPE models the study, besides the warm start's
STARTUP_TRIALS = 5


def warm_sampler(random_state: int | None, n_warm: int, random_after: bool = False):
    """The study's sampler: TPE, which starts modelling after ``max(STARTUP_TRIALS, n_warm)`` trials, so that a
    warm-started study models from its warm start at once; with ``random_after``, only after
    ``STARTUP_TRIALS`` random trials follow the warm start."""
    import optuna

    startup = n_warm + STARTUP_TRIALS if random_after else max(STARTUP_TRIALS, n_warm)
    return optuna.samplers.TPESampler(seed=random_state, n_startup_trials=startup)


class _SpaceProbe:
    """Walks a learner's search space along a given config, collecting the values the space can hold."""

    def __init__(self, config: dict):
        self.config, self.held = config, {}

    def _take(self, name, fits, fallback):
        if name in self.config and fits(self.config[name]):
            self.held[name] = self.config[name]
            return self.config[name]
        return fallback

    def suggest_categorical(self, name, choices):
        return self._take(name, lambda v: any(type(v) is type(c) and v == c for c in choices), choices[0])

    def suggest_int(self, name, low, high, step=1, log=False):
        return self._take(name, lambda v: type(v) is int and low <= v <= high, low)

    def suggest_float(self, name, low, high, *, step=None, log=False):
        return self._take(name, lambda v: type(v) in (int, float) and low <= v <= high, low)


def ranking_metric(kb, metric: str, task_type: str, chosen_by: str = "learners and warm-start configurations are") -> str:
    """The metric the recommendation ranks by: ``metric`` when the KB has runs of it on ``task_type``
    datasets, else the task's default metric (the study still optimises ``metric``)."""
    if metric == DEFAULT_METRIC[task_type]:  # nothing to fall back to: recommend reports a KB without it
        return metric
    if metric in METRICS:
        runs, ds = kb.runs, kb.datasets
        ids = ds.loc[(ds["task_type"] == task_type).to_numpy(), "dataset_id"]
        ok = (runs["metric"] == metric) & (runs["status"] == "ok") & runs["dataset_id"].isin(set(ids))
        if bool(ok.any()):
            return metric
    fallback = DEFAULT_METRIC[task_type]
    logger.info("the knowledge base has no %s runs on %s tasks", metric, task_type)
    warnings.warn(f"the knowledge base has no {metric} runs on {task_type} tasks: {chosen_by} chosen by "
                  f"{fallback}; the study optimises {metric}", MetarecWarning, stacklevel=4)
    return fallback


def round_robin(configs: dict[str, list[dict]]) -> list[tuple[str, dict]]:
    """Each learner's first config (in the dict's order), then each one's second, ..."""
    out: list[tuple[str, dict]] = []
    for i in range(max((len(c) for c in configs.values()), default=0)):
        out.extend((name, cfgs[i]) for name, cfgs in configs.items() if i < len(cfgs))
    return out


def explicit_warm_start(ds, names: list[str], recommendation=None, *, kb: Any = None, metamodel: str = "lightgbm",
                        metric: str | None = None) -> list[tuple[str, dict]]:
    """Warm-start configs of explicitly chosen learners: the KB's suggestions for them (the recommendation
    ranks every learner the KB has runs of), each learner's default where the KB has none; learners in the
    recommendation's order, round-robin."""
    from ..learners import get_learner

    rec = recommendation
    if rec is None:
        from ..recommend import recommend

        try:
            kb_obj = load_kb(kb)
            rec = recommend(ds, kb=kb_obj, metamodel=metamodel, top_k=10_000,
                            metric=ranking_metric(kb_obj, metric or DEFAULT_METRIC[ds.task_type], ds.task_type,
                                                  "warm-start configurations are"))
        except MetarecError as exc:
            logger.warning("no knowledge-base configurations for the warm start (%s); using the learners' defaults",
                           exc)
            rec = None
    ranked = [r for r in rec.learners if r.learner in names] if rec is not None else []
    configs = {r.learner: [dict(c) for c in r.configs] for r in ranked if r.configs}
    for name in names:
        if not configs.get(name):
            configs[name] = [dict(get_learner(name).default_config)]
    return round_robin(configs)
