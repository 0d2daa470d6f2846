"""The meta-model conformance check (re-exported by :mod:`metarec.testing`).

:func:`check_metamodel` fits a meta-model on a small synthetic problem with gaps in the meta-features and
in the scores and checks the contract of :class:`metarec.metamodels.base.MetaModel`. Each failure is an
:class:`AssertionError` naming the model and the step.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any, Callable

__all__ = ["make_metamodel_data", "make_partial_coverage_data", "check_metamodel", "check_partial_coverage"]

PICKLE_SUFFIXES = (".pkl", ".pickle", ".joblib", ".dill", ".cloudpickle")


def make_metamodel_data(n_datasets: int = 40, n_learners: int = 5, random_state: int = 0):
    """A synthetic meta-learning problem: ``(X, Y, fit_times, train_sizes)``.

    ``X`` holds OpenML-named size qualities plus a few other meta-features, with missing values (one
    column is 40% NaN, one is entirely NaN). ``Y`` holds scores in [0, 1] in which which learner wins
    depends on the meta-features; learner ``l1`` has no score on a quarter of the datasets and one
    dataset has a single scored learner. Fit times grow with rows and features.
    """
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(random_state)
    n = int(n_datasets)
    rows = np.round(10 ** rng.uniform(2, 5, n))
    feats = np.round(10 ** rng.uniform(0.5, 3, n))
    classes = rng.integers(2, 10, n).astype(float)
    a = rng.normal(size=n)
    b = rng.normal(size=n)
    X = pd.DataFrame(
        {
            "NumberOfInstances": rows,
            "NumberOfFeatures": feats,
            "NumberOfClasses": classes,
            "ClassEntropy": np.log2(classes) * rng.uniform(0.6, 1.0, n),
            "quality_a": a,
            "quality_b": np.where(rng.random(n) < 0.4, np.nan, b),
            "always_missing": np.full(n, np.nan),
        },
        index=[f"synthetic:{i}" for i in range(n)],
    )
    learners = [f"l{j}" for j in range(int(n_learners))]
    base = 0.75 + 0.1 * np.tanh(a)[:, None]
    effects = np.column_stack([0.05 * np.tanh(a * (j - 2) + b * (j % 2)) for j in range(len(learners))])
    Y = pd.DataFrame(np.clip(base + effects + 0.01 * rng.normal(size=effects.shape), 0, 1), index=X.index,
                     columns=learners)
    Y.loc[Y.index[rng.random(n) < 0.25], "l1"] = np.nan
    Y.iloc[0, 1:] = np.nan
    sizes = pd.DataFrame(np.repeat(0.8 * rows[:, None], len(learners), axis=1), index=X.index, columns=learners)
    times = pd.DataFrame(
        1e-5 * sizes.to_numpy() * np.log2(feats[:, None] + 1) * (1 + np.arange(len(learners)))[None, :]
        * np.exp(0.1 * rng.normal(size=sizes.shape)),
        index=X.index,
        columns=learners,
    )
    times = times.where(Y.notna())
    sizes = sizes.where(Y.notna())
    return X, Y, times, sizes


def _new_rows(X, n: int = 8, random_state: int = 1):
    import numpy as np

    rng = np.random.default_rng(random_state)
    new = X.sample(n=n, random_state=random_state).copy()
    new.index = [f"new:{i}" for i in range(n)]
    new["quality_a"] = new["quality_a"] + 0.1 * rng.normal(size=n)
    new.iloc[0, new.columns.get_loc("quality_a")] = np.nan  # a gap never seen in training
    return new


def check_metamodel(factory: Callable[[], Any], random_state: int = 0) -> None:
    """Check that ``factory()`` builds a meta-model that honours the :class:`MetaModel` contract.

    Steps: construction (no fitted attributes, ``get_params``); ``fit`` returns ``self`` and does not
    modify its inputs; ``learners_`` / ``feature_names_``; ``predict`` shapes, index and columns,
    finite scores, ``lower <= score <= upper``, positive finite fit times, the same answer for
    reordered/extra columns; ``rank`` agrees with the prediction; ``explain`` returns a Series;
    determinism (a second fit gives identical predictions); ``save``/``load`` round-trip gives identical
    predictions and writes no pickle file; a model used before ``fit`` raises; partial coverage (a
    learner run on only some datasets, ``fit(..., observed=...)``): see :func:`check_partial_coverage`.
    """
    import numpy as np
    import pandas as pd

    from .base import MetaModel, MetaPrediction

    model = factory()
    name = getattr(model, "name", type(model).__name__)

    def fail(step: str, msg: str) -> AssertionError:
        return AssertionError(f"meta-model {name!r}, {step}: {msg}")

    # construction -------------------------------------------------------------------------------------
    if not isinstance(model, MetaModel):
        raise fail("construction", f"factory() must return a metarec MetaModel, got {type(model).__name__}")
    fitted = [k for k in vars(model) if k.endswith("_") and not k.startswith("_")]
    if fitted:
        raise fail("construction", f"__init__ sets fitted attributes {fitted}; set them in fit")
    try:
        params = model.get_params()
    except Exception as exc:
        raise fail("get_params", f"{type(exc).__name__}: {exc}") from exc
    if not isinstance(params, dict):
        raise fail("get_params", "must return a dict")

    X, Y, times, sizes = make_metamodel_data(random_state=random_state)
    new = _new_rows(X)
    # unfitted use -----------------------------------------------------------------------------------------
    try:
        model.predict(new)
    except Exception:
        pass
    else:
        raise fail("unfitted", "predict before fit must raise")

    # fit ----------------------------------------------------------------------------------------------------
    X0, Y0 = X.copy(), Y.copy()
    try:
        out = model.fit(X, Y, fit_times=times, train_sizes=sizes)
    except Exception as exc:
        raise fail("fit", f"{type(exc).__name__}: {exc}") from exc
    if out is not model:
        raise fail("fit", "must return self")
    if not (X.equals(X0) and Y.equals(Y0)):
        raise fail("fit", "modified its input X or Y")
    if list(model.learners_) != list(Y.columns):
        raise fail("fit", f"learners_ {model.learners_} != Y's columns {list(Y.columns)}")
    if list(model.feature_names_) != list(X.columns):
        raise fail("fit", "feature_names_ must be X's columns in order")

    # predict ------------------------------------------------------------------------------------------------
    pred = model.predict(new)
    if not isinstance(pred, MetaPrediction):
        raise fail("predict", f"must return a MetaPrediction, got {type(pred).__name__}")
    for attr in ("score", "lower", "upper", "fit_time"):
        frame = getattr(pred, attr)
        if not isinstance(frame, pd.DataFrame):
            raise fail("predict", f"{attr} must be a DataFrame")
        if list(frame.index) != list(new.index) or list(frame.columns) != list(Y.columns):
            raise fail("predict", f"{attr} must be indexed like X with one column per learner")
    if not np.isfinite(pred.score.to_numpy()).all():
        raise fail("predict", "scores must be finite (even with missing meta-features)")
    lo, sc, hi = pred.lower.to_numpy(), pred.score.to_numpy(), pred.upper.to_numpy()
    if not (np.isfinite(lo).all() and np.isfinite(hi).all()):
        raise fail("predict", "interval bounds must be finite")
    if not ((lo <= sc + 1e-12).all() and (sc <= hi + 1e-12).all()):
        raise fail("predict", "needs lower <= score <= upper")
    ft = pred.fit_time.to_numpy()
    if not (np.isfinite(ft).all() and (ft > 0).all()):
        raise fail("predict", "fit_time must be positive and finite when fitted with fit times")
    shuffled = new[list(reversed(new.columns))].assign(unknown_quality=1.0)
    again = model.predict(shuffled)
    if not np.allclose(again.score.to_numpy(), sc, rtol=0, atol=1e-12, equal_nan=True):
        raise fail("predict", "reordered columns or an extra column changed the prediction")
    one = model.predict(new.iloc[[2]])
    if not np.allclose(one.score.to_numpy()[0], sc[2], rtol=1e-6, atol=1e-6):  # float32 networks: ~1e-7
        raise fail("predict", "a single row predicts differently from the same row in a batch")

    # rank / explain -------------------------------------------------------------------------------------
    ranking = model.rank(new)
    if not isinstance(ranking, pd.DataFrame) or ranking.shape != (len(new), len(Y.columns)):
        raise fail("rank", "must return a DataFrame with one row per dataset and one column per learner")
    for i in range(len(new)):
        if sorted(ranking.iloc[i]) != sorted(Y.columns):
            raise fail("rank", f"row {i} is not a permutation of the learners")
    if not ranking.equals(pred.ranking()):
        raise fail("rank", "rank(X) disagrees with predict(X).ranking()")
    contrib = model.explain(new.iloc[0], Y.columns[0])
    if not isinstance(contrib, pd.Series):
        raise fail("explain", f"must return a pandas Series, got {type(contrib).__name__}")
    if len(contrib) and not set(contrib.index) <= set(X.columns):
        raise fail("explain", "contributions must be indexed by meta-feature names")

    # determinism ----------------------------------------------------------------------------------------
    twin = factory().fit(X, Y, fit_times=times, train_sizes=sizes)
    pred2 = twin.predict(new)
    for attr in ("score", "lower", "upper", "fit_time"):
        if not np.allclose(getattr(pred2, attr).to_numpy(), getattr(pred, attr).to_numpy(), rtol=1e-9, atol=1e-12):
            raise fail("determinism", f"two fits with the same random_state give different {attr}")

    # persistence ----------------------------------------------------------------------------------------
    with tempfile.TemporaryDirectory(prefix="metarec-conformance-") as tmp:
        root = Path(tmp) / "model"
        try:
            model.save(root)
        except Exception as exc:
            raise fail("save", f"{type(exc).__name__}: {exc}") from exc
        for path in root.rglob("*"):
            if path.is_file():
                if path.suffix.lower() in PICKLE_SUFFIXES:
                    raise fail("save", f"wrote {path.name}: pickle-like files are not allowed")
                with open(path, "rb") as fh:
                    head = fh.read(2)
                if head[:1] == b"\x80" and head[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05"):
                    raise fail("save", f"{path.name} is a pickle stream; use JSON / LightGBM text / state_dict")
        try:
            loaded = type(model).load(root)
        except Exception as exc:
            raise fail("load", f"{type(exc).__name__}: {exc}") from exc
        pred3 = loaded.predict(new)
        for attr in ("score", "lower", "upper", "fit_time"):
            if not np.allclose(getattr(pred3, attr).to_numpy(), getattr(pred, attr).to_numpy(), rtol=1e-9, atol=1e-12):
                raise fail("load", f"the loaded model predicts a different {attr}")
        if not loaded.rank(new).equals(ranking):
            raise fail("load", "the loaded model ranks differently")
        base = MetaModel.load(root)
        if type(base) is not type(model):
            raise fail("load", "MetaModel.load did not restore the model's own class")

    check_partial_coverage(factory, random_state=random_state)


def make_partial_coverage_data(random_state: int = 0, n_runs: int = 10):
    """:func:`make_metamodel_data` plus a learner ``plugin`` run on only ``n_runs`` of the datasets.

    Where it ran, ``plugin`` is the best learner (0.03 above the best other score); elsewhere it has no
    score and was not run (``observed`` False): like a plugin learner built on a few KB tasks.
    Returns ``(X, Y, fit_times, train_sizes, observed)``.
    """
    import numpy as np

    X, Y, times, sizes = make_metamodel_data(random_state=random_state)
    ran = np.zeros(len(Y), dtype=bool)
    ran[1:1 + int(n_runs)] = True  # row 0 has a single scored learner
    Y = Y.copy()
    Y["plugin"] = np.where(ran, Y.max(axis=1).to_numpy() + 0.03, np.nan)
    times = times.assign(plugin=np.where(ran, times["l0"].to_numpy(), np.nan))
    sizes = sizes.assign(plugin=np.where(ran, sizes["l0"].to_numpy(), np.nan))
    observed = Y.notna() | True
    observed["plugin"] = ran
    return X, Y, times, sizes, observed


def check_partial_coverage(factory: Callable[[], Any], random_state: int = 0) -> None:
    """A learner run on only some training datasets is not taken to have failed everywhere else.

    Fits ``factory()`` on :func:`make_partial_coverage_data` with ``observed``; predictions must be finite
    with ordered intervals, and the learner ``plugin`` (the best wherever it ran) must rank in the better
    half on average over new datasets; a model that counts "not run" as "failed" ranks it near the bottom.
    """
    import numpy as np

    model = factory()
    name = getattr(model, "name", type(model).__name__)
    X, Y, times, sizes, observed = make_partial_coverage_data(random_state)
    new = _new_rows(X)
    try:
        model.fit(X, Y, fit_times=times, train_sizes=sizes, observed=observed)
    except Exception as exc:
        raise AssertionError(f"meta-model {name!r}, partial coverage: fit(..., observed=...) raised "
                             f"{type(exc).__name__}: {exc}") from exc
    pred = model.predict(new)
    sc = pred.score.to_numpy()
    if not np.isfinite(sc).all():
        raise AssertionError(f"meta-model {name!r}, partial coverage: scores must be finite")
    if not ((pred.lower.to_numpy() <= sc + 1e-12).all() and (sc <= pred.upper.to_numpy() + 1e-12).all()):
        raise AssertionError(f"meta-model {name!r}, partial coverage: needs lower <= score <= upper")
    ranking = pred.ranking()
    positions = [list(row).index("plugin") + 1 for row in ranking.itertuples(index=False)]
    middle = (ranking.shape[1] + 1) / 2.0
    if float(np.mean(positions)) > middle:
        raise AssertionError(
            f"meta-model {name!r}, partial coverage: the learner 'plugin', best on every dataset where it ran, "
            f"has mean rank {np.mean(positions):.2f} of {ranking.shape[1]} on new datasets (positions {positions}): "
            "a learner that was not run on a dataset (observed False) must not count as failed there; "
            "accept `observed` in _fit (see metarec.metamodels.preprocessing.fill_failed)"
        )
