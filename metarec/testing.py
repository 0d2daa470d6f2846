"""Conformance checks that plugin authors (and the built-ins) run.

Each ``check_*`` function raises :class:`AssertionError` with a message naming the object and the step
that failed, and returns ``None`` when everything conforms. They are plain functions, usable from any
test runner; with pytest::

    import pytest
    from metarec.testing import check_learner, learner_conformance_cases

    @pytest.mark.parametrize("learner", learner_conformance_cases([MY_LEARNER]))
    def test_conformance(learner):
        check_learner(learner)

Sections
--------
- Learners: :func:`make_conformance_data`, :func:`check_learner`, :func:`learner_conformance_cases`.
- Meta-feature groups: :func:`check_metafeature_group`.
- Meta-models: :func:`check_metamodel` (which includes :func:`check_partial_coverage`).

Nothing heavy is imported at module import time.
"""

from __future__ import annotations

import json
import warnings
from typing import Any, Iterable

__all__ = [
    "make_conformance_data",
    "check_learner",
    "learner_conformance_cases",
    "check_metafeature_group",
    "check_metamodel",
    "check_partial_coverage",
]


# =====================================================================================================
# Learners
# =====================================================================================================

UNSEEN_LEVEL = "__metarec_unseen_level__"

_DEPRECATIONS = (DeprecationWarning, PendingDeprecationWarning, FutureWarning)


def make_conformance_data(task_type: str, n_rows: int = 120, random_state: int = 0):
    """A small synthetic dataset shaped like what :mod:`metarec.data` produces.

    Columns: three numeric (two with missing values, one integer, on very different scales), a
    ``category`` column with missing values and a declared level that never occurs, a 12-level
    ``category`` column (so that the one-hot encoded matrix is sparse for learners that accept sparse
    input), and a ``bool`` column. The target is a ``category`` Series of three string labels (plus an
    unused declared level) for classification, a float Series for regression. Both carry signal.

    Returns ``(X, y)``: a :class:`pandas.DataFrame` and a :class:`pandas.Series`.
    """
    import numpy as np
    import pandas as pd

    from .learners.base import CLASSIFICATION, REGRESSION

    if task_type not in (CLASSIFICATION, REGRESSION):
        raise ValueError(f"task_type must be {CLASSIFICATION!r} or {REGRESSION!r}, got {task_type!r}")
    rng = np.random.default_rng(random_state)
    n = int(n_rows)
    num_a = rng.normal(size=n)
    num_b = rng.lognormal(mean=3.0, sigma=1.0, size=n)
    num_int = rng.integers(0, 10, size=n)
    colour = rng.choice(["red", "green", "blue"], size=n, p=[0.5, 0.3, 0.2])
    many = rng.choice([f"l{i:02d}" for i in range(12)], size=n)
    flag = rng.random(n) < 0.4

    X = pd.DataFrame(
        {
            "num_a": num_a,
            "num_b": num_b,
            "num_int": num_int.astype("int64"),
            "colour": pd.Categorical(colour, categories=["red", "green", "blue", "unused"]),
            "many": pd.Categorical(many, categories=sorted(set(f"l{i:02d}" for i in range(12)))),
            "flag": flag,
        }
    )
    X.loc[rng.random(n) < 0.1, "num_a"] = np.nan
    X.loc[rng.random(n) < 0.1, "num_b"] = np.nan
    X.loc[rng.random(n) < 0.1, "colour"] = np.nan

    signal = 1.5 * num_a + 1.0 * (colour == "red") - 0.8 * flag + 0.1 * num_int + 0.3 * rng.normal(size=n)
    if task_type == REGRESSION:
        y = pd.Series(3.0 * signal + 10.0, name="target", dtype="float64")
    else:
        cuts = np.quantile(signal, [1 / 3, 2 / 3])
        labels = np.array(["low", "mid", "high"], dtype=object)[np.searchsorted(cuts, signal)]
        y = pd.Series(pd.Categorical(labels, categories=["high", "low", "mid", "never"]), name="target")
    return X, y


def check_learner(
    learner: Any,
    n_configs: int = 3,
    random_state: int = 0,
    *,
    default_in_space: bool = True,
    allow_deprecations: bool = False,
) -> None:
    """Check that a learner conforms to metarec's learner contract.

    Steps (each failure is an :class:`AssertionError` naming the learner and the step):

    1. ``validate``: it is a :class:`~metarec.learners.Learner` and :meth:`~metarec.learners.Learner.validate`
       passes; ``default_config`` is strict JSON (no NaN/inf, round-trips unchanged).
    2. ``search space``: ``n_configs`` configs sampled with a seeded random sampler through
       ``learner.suggest`` (every other one with ``prefix=True``, whose trial parameters must all be
       namespaced ``"<learner>:"``) are dicts of strict JSON.
    3. ``default in space`` (unless ``default_in_space=False``): the default config, enqueued into a
       study, is reproduced by ``suggest`` with and without prefix and lies inside the distributions,
       so the default can warm-start a study.
    4. For each supported task type, on :func:`make_conformance_data`, for the default and each sampled
       config: the pipeline fits without modifying ``X``, predicts one value per row (classification:
       only training labels; regression: finite floats), ``sklearn.base.clone`` works, and (default
       config) predicts on a frame whose categoricals hold an unseen level and gives identical
       predictions when rebuilt and refitted with the same ``random_state``. Fits run with native
       thread pools (OpenMP, BLAS) limited to one thread.
    5. Unless ``allow_deprecations=True``: no ``DeprecationWarning`` / ``FutureWarning`` is raised while
       building, fitting or predicting (use the estimator's current API).
    """
    from .learners.base import Learner

    if not isinstance(learner, Learner):
        raise AssertionError(
            f"check_learner: expected a metarec.learners.Learner, got {type(learner).__name__}"
        )
    name = learner.name

    def fail(step: str, msg: str) -> AssertionError:
        return AssertionError(f"learner {name!r}, {step}: {msg}")

    # 1. validate ----------------------------------------------------------------------------------
    try:
        learner.validate()
    except Exception as exc:
        raise fail("validate", f"{type(exc).__name__}: {exc}") from exc
    _check_json(dict(learner.default_config), fail, "default_config")

    # 2. search space ------------------------------------------------------------------------------
    configs = _sample_configs(learner, n_configs, random_state, fail)

    # 3. default in space --------------------------------------------------------------------------
    if default_in_space:
        _check_default_in_space(learner, fail)

    # 4./5. pipelines (native thread pools limited to one thread: fast and stable on busy machines) ---
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        _check_task_types(learner, configs, random_state, fail, allow_deprecations)


def _check_task_types(learner, configs, random_state, fail, allow_deprecations) -> None:
    for task_type in learner.task_types:
        X, y = make_conformance_data(task_type, random_state=random_state)
        all_configs = [("default config", dict(learner.default_config))] + [
            (f"sampled config {i} {cfg!r}", cfg) for i, cfg in enumerate(configs)
        ]
        for i, (label, cfg) in enumerate(all_configs):
            step = f"{task_type}, {label}"
            _check_pipeline(
                learner,
                cfg,
                X,
                y,
                task_type,
                random_state,
                fail,
                step,
                thorough=(i == 0),
                allow_deprecations=allow_deprecations,
            )


def learner_conformance_cases(learners: Iterable[Any] | None = None) -> list:
    """Learners as ``pytest.param(learner, id=learner.name)`` for ``pytest.mark.parametrize``.

    ``learners`` defaults to every registered learner (this loads the plugins).
    """
    import pytest

    if learners is None:
        from .learners import get_learners

        learners = get_learners()
    return [pytest.param(lr, id=lr.name) for lr in learners]


# -- learner helpers ------------------------------------------------------------------------------------
def _check_json(cfg: Any, fail, what: str) -> None:
    if not isinstance(cfg, dict):
        raise fail(what, f"must be a dict, got {type(cfg).__name__}")
    try:
        text = json.dumps(cfg, allow_nan=False, sort_keys=True)
    except (TypeError, ValueError) as exc:
        raise fail(what, f"not JSON-serialisable ({exc}): {cfg!r}") from None
    if json.loads(text) != cfg:
        raise fail(what, f"does not round-trip through JSON unchanged (tuples? int/float keys?): {cfg!r}")
    bad = [k for k in cfg if not isinstance(k, str)]
    if bad:
        raise fail(what, f"keys must be strings, got {bad!r}")


def _new_study(seed: int):
    import optuna

    return optuna.create_study(
        sampler=optuna.samplers.RandomSampler(seed=seed), study_name=f"metarec-conformance-{seed}"
    )


def _sample_configs(learner, n_configs: int, random_state: int, fail) -> list[dict]:
    study = _new_study(random_state)
    prefix = learner.name + ":"
    configs = []
    for i in range(int(n_configs)):
        prefixed = i % 2 == 1
        trial = study.ask()
        step = f"search space (sample {i}, prefix={prefixed})"
        try:
            cfg = learner.suggest(trial, prefix=prefixed)
        except Exception as exc:
            raise fail(step, f"suggest raised {type(exc).__name__}: {exc}") from exc
        _check_json(cfg, fail, step)
        if prefixed:
            bare = [p for p in trial.params if not p.startswith(prefix)]
            if bare:
                raise fail(step, f"parameters {bare} are not namespaced {prefix!r}; use only trial.suggest_*")
        else:
            leaked = [p for p in trial.params if p.startswith(prefix)]
            if leaked:
                raise fail(step, f"parameters {leaked} are prefixed although prefix=False")
        configs.append(cfg)
    return configs


def _in_distribution(dist: Any, value: Any) -> bool:
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    if isinstance(dist, CategoricalDistribution):
        return any(value == c and type(value) is type(c) for c in dist.choices)
    if isinstance(dist, (FloatDistribution, IntDistribution)):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return False
        return dist.low <= value <= dist.high
    return True


def _check_default_in_space(learner, fail) -> None:
    default = dict(learner.default_config)
    for prefixed in (False, True):
        step = f"default in space (prefix={prefixed})"
        study = _new_study(0)
        key = (learner.name + ":") if prefixed else ""
        if default:
            study.enqueue_trial({key + k: v for k, v in default.items()})
        trial = study.ask()
        try:
            cfg = learner.suggest(trial, prefix=prefixed)
        except Exception as exc:
            raise fail(step, f"suggest raised {type(exc).__name__} on the enqueued default: {exc}") from exc
        if cfg != default:
            raise fail(
                step,
                f"the default config enqueued into a study gives {cfg!r}, not {default!r}: "
                "the default config must use the search space's parameter names and only its active "
                "(conditional) parameters",
            )
        outside = {
            k: v for k, v in trial.params.items() if not _in_distribution(trial.distributions[k], v)
        }
        if outside:
            raise fail(step, f"default values outside the search space's distributions: {outside!r}")


def _check_predictions(pred: Any, n: int, task_type: str, labels: set, fail, step: str) -> Any:
    import numpy as np

    from .learners.base import CLASSIFICATION

    pred = np.asarray(pred)
    if pred.ndim != 1 or pred.shape[0] != n:
        raise fail(step, f"predict returned shape {pred.shape}, expected ({n},)")
    if task_type == CLASSIFICATION:
        unknown = {p for p in pred.tolist() if p not in labels}
        if unknown:
            shown = sorted(map(repr, unknown))[:5]
            raise fail(step, f"predicted labels {shown} not among the training labels {sorted(labels)}")
    else:
        if not np.issubdtype(pred.dtype, np.floating):
            raise fail(step, f"regression predictions have dtype {pred.dtype}, expected a float dtype")
        if not np.all(np.isfinite(pred)):
            raise fail(step, "regression predictions contain NaN or inf")
    return pred


def _fingerprint(pipe, X):
    """The most sensitive numeric output of a fitted pipeline: probabilities, decision values, predictions."""
    import numpy as np

    for method in ("predict_proba", "decision_function"):
        if hasattr(pipe, method):
            return method, np.asarray(getattr(pipe, method)(X), dtype=float)
    pred = np.asarray(pipe.predict(X))
    if pred.dtype.kind in "fiub":
        return "predictions", pred.astype(float)
    _, codes = np.unique(pred.astype(str), return_inverse=True)
    return "predictions", codes.astype(float)


def _with_unseen_level(X):
    import pandas as pd

    X2 = X.copy()
    for col in X2.columns:
        if isinstance(X2[col].dtype, pd.CategoricalDtype):
            cats = list(X2[col].cat.categories) + [UNSEEN_LEVEL]
            X2[col] = pd.Categorical([UNSEEN_LEVEL] * len(X2), categories=cats)
    return X2


def _check_pipeline(
    learner, cfg, X, y, task_type, random_state, fail, step, *, thorough: bool, allow_deprecations: bool
) -> None:
    import numpy as np
    from sklearn.base import clone

    from .learners.base import CLASSIFICATION

    labels = set(y.dropna().tolist()) if task_type == CLASSIFICATION else set()
    n = len(X)
    X_before = X.copy()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            pipe = learner.make_pipeline(cfg, random_state=random_state)
        except Exception as exc:
            raise fail(step, f"make_pipeline raised {type(exc).__name__}: {exc}") from exc
        try:
            cloned = clone(pipe)
        except Exception as exc:
            raise fail(step, f"sklearn.base.clone raised {type(exc).__name__}: {exc}") from exc
        if cloned is pipe:
            raise fail(step, "clone returned the same object")
        try:
            pipe.fit(X, y)
        except Exception as exc:
            raise fail(step, f"fit raised {type(exc).__name__}: {exc}") from exc
        if not X.equals(X_before):
            raise fail(step, "fit modified the input DataFrame X")
        try:
            pred = pipe.predict(X)
        except Exception as exc:
            raise fail(step, f"predict raised {type(exc).__name__}: {exc}") from exc
        pred = _check_predictions(pred, n, task_type, labels, fail, step + ", predict")

        if thorough:
            s = step + ", unseen category level"
            X_unseen = _with_unseen_level(X)
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", message=".*unknown categor.*", category=UserWarning)
                try:
                    pred_unseen = pipe.predict(X_unseen)
                except Exception as exc:
                    raise fail(s, f"predict raised {type(exc).__name__}: {exc}") from exc
            _check_predictions(pred_unseen, n, task_type, labels, fail, s)

            s = step + ", same random_state"
            try:
                again = learner.make_pipeline(cfg, random_state=random_state).fit(X, y)
            except Exception as exc:
                raise fail(s, f"refit raised {type(exc).__name__}: {exc}") from exc
            what, out1 = _fingerprint(pipe, X)
            _, out2 = _fingerprint(again, X)
            if out1.shape != out2.shape or not np.allclose(out1, out2, rtol=1e-9, atol=1e-12):
                raise fail(s, f"two fits with random_state={random_state} give different {what}")

    if not allow_deprecations:
        deps = [w for w in caught if issubclass(w.category, _DEPRECATIONS)]
        if deps:
            w = deps[0]
            raise fail(
                step,
                f"{len(deps)} deprecation warning(s), first: {w.category.__name__}: {w.message} "
                f"({w.filename}:{w.lineno}); use the estimator's current API",
            )


# =====================================================================================================
# Meta-feature groups
# =====================================================================================================


def check_metafeature_group(group) -> None:
    """A meta-feature group declares its names, returns exactly them (finite or NaN), is deterministic,
    survives degenerate data and respects a spent time budget. See
    :func:`metarec.metafeatures._conformance.check_metafeature_group`."""
    from .metafeatures._conformance import check_metafeature_group as _check

    _check(group)


# =====================================================================================================
# Meta-models
# =====================================================================================================


def check_metamodel(factory) -> None:
    """A meta-model fits with NaNs in meta-features and scores, predicts ordered intervals and positive
    fit times, is deterministic, and round-trips through save/load without pickle. See
    :func:`metarec.metamodels._conformance.check_metamodel`."""
    from .metamodels._conformance import check_metamodel as _check

    _check(factory)


def check_partial_coverage(factory) -> None:
    """A meta-model fitted with ``observed`` (a learner run on only some datasets) does not count "not run"
    as "failed": the learner, best wherever it ran, ranks in the better half on new datasets. See
    :func:`metarec.metamodels._conformance.check_partial_coverage`."""
    from .metamodels._conformance import check_partial_coverage as _check

    _check(factory)
