"""What the built-in learner families share: the estimator factory (a class path, fixed keyword arguments, a
config translation, seeding; the estimator class is imported only when a pipeline is built) and the
search-space piece for class weights.

Config translations and search spaces are module-level functions, so learners and pipelines pickle.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from functools import partial
from typing import Callable

from .base import CLASSIFICATION, REGRESSION

C_ = (CLASSIFICATION,)
R_ = (REGRESSION,)
CLASS_WEIGHT_CHOICES = (None, "balanced")


@dataclass(frozen=True)
class _Spec:
    """How to build one estimator: class path, fixed kwargs, config translation, seeding."""

    path: str
    fixed: dict = field(default_factory=dict)
    translate: Callable[[dict], dict] | None = None
    seeded: bool = True
    scale_target: bool = False


def _import(path: str):
    module, _, name = path.rpartition(".")
    return getattr(importlib.import_module(module), name)


def _build(spec: _Spec, config: dict, random_state: int | None):
    cfg = dict(config or {})
    if spec.translate is not None:
        cfg = spec.translate(cfg)
    kwargs = {**spec.fixed, **cfg}
    if spec.seeded:
        kwargs["random_state"] = random_state
    est = _import(spec.path)(**kwargs)
    if spec.scale_target:
        from sklearn.compose import TransformedTargetRegressor
        from sklearn.preprocessing import StandardScaler

        est = TransformedTargetRegressor(regressor=est, transformer=StandardScaler())
    return est


def _factory(path: str, fixed: dict | None = None, translate=None, seeded=True, scale_target=False):
    return partial(_build, _Spec(path, dict(fixed or {}), translate, seeded, scale_target))


def _class_weight(trial, cfg: dict) -> None:
    cfg["class_weight"] = trial.suggest_categorical("class_weight", list(CLASS_WEIGHT_CHOICES))
