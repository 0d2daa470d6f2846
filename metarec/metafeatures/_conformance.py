"""Conformance checks for meta-feature groups (re-exported by :mod:`metarec.testing`).

Plugin authors run :func:`check_metafeature_group` on their group in their test suite; the built-in groups
run it too::

    from metarec.testing import check_metafeature_group

    def test_my_group():
        check_metafeature_group(MyGroup())
"""

from __future__ import annotations

import math
import numbers
import time
from typing import Any

from ..exceptions import PluginError
from .base import Budget, BudgetExceeded, MetaFeatureGroup

__all__ = ["check_metafeature_group", "synthetic_datasets"]


def _dataset(X: Any, y: Any, task_type: str, name: str):
    import pandas as pd

    from ..data import Dataset

    categorical = [
        not (pd.api.types.is_numeric_dtype(X[c].dtype) and not pd.api.types.is_bool_dtype(X[c].dtype)) for c in X
    ]
    return Dataset(X=X, y=y, task_type=task_type, name=name, source="synthetic", target="target",
                   categorical=categorical)


def synthetic_datasets(seed: int = 0) -> list:
    """Small datasets covering the awkward cases a group must survive (NaN where undefined, no errors).

    ``mixed`` (numeric, int, nominal with an unused level, bool, missing values; 3 classes), ``numeric``
    (with a constant column; 2 classes), ``categorical`` (with an all-missing nominal column), ``regression``
    (mixed columns, float target), ``missing`` (all-missing numeric column, many missing cells, missing
    targets) and ``two_rows``.
    """
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    n = 40

    def nominal(values, levels):
        return pd.Categorical(values, categories=levels)

    mixed = pd.DataFrame(
        {
            "x1": rng.normal(size=n),
            "x2": rng.integers(0, 10, size=n),
            "x3": np.where(rng.random(n) < 0.2, np.nan, rng.exponential(size=n)),
            "c1": nominal(rng.choice(["a", "b", None], size=n), ["a", "b", "unused"]),
            "b1": rng.random(n) < 0.5,
        }
    )
    y3 = pd.Series(nominal(rng.choice(["p", "q", "r"], size=n), ["p", "q", "r"]), name="target")
    numeric = pd.DataFrame(
        {"a": rng.normal(size=n), "b": rng.normal(size=n), "const": np.full(n, 3.0), "d": rng.uniform(size=n)}
    )
    y2 = pd.Series(nominal(np.where(numeric["a"] > 0, "yes", "no"), ["no", "yes"]), name="target")
    categorical = pd.DataFrame(
        {
            "u": nominal(rng.choice(["x", "y", "z"], size=n), ["x", "y", "z", "w"]),
            "v": nominal(rng.choice(["lo", "hi"], size=n), ["lo", "hi"]),
            "empty": nominal([None] * n, ["k", "l"]),
        }
    )
    y_reg = pd.Series(2.0 * mixed["x1"].to_numpy() + rng.normal(scale=0.1, size=n), name="target")
    missing = pd.DataFrame(
        {
            "all_nan": np.full(n, np.nan),
            "some_nan": np.where(rng.random(n) < 0.6, np.nan, rng.normal(size=n)),
            "cat": nominal(rng.choice(["a", "b", None, None], size=n), ["a", "b"]),
        }
    )
    y_missing = pd.Series(nominal(rng.choice(["s", "t", None], size=n), ["s", "t"]), name="target")
    two = pd.DataFrame({"x": [0.5, -1.0], "c": nominal(["a", "b"], ["a", "b"])})
    y_two = pd.Series(nominal(["m", "n"], ["m", "n"]), name="target")
    return [
        _dataset(mixed, y3, "classification", "mixed"),
        _dataset(numeric, y2, "classification", "numeric"),
        _dataset(categorical, y2.copy(), "classification", "categorical"),
        _dataset(mixed, y_reg, "regression", "regression"),
        _dataset(missing, y_missing, "classification", "missing"),
        _dataset(two, y_two, "classification", "two_rows"),
    ]


def _larger_dataset(seed: int = 0, n: int = 3000, p: int = 20):
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    X = pd.DataFrame({f"x{j}": rng.normal(size=n) for j in range(p)})
    X["c"] = pd.Categorical(rng.choice(list("abcdef"), size=n))
    y = pd.Series(pd.Categorical(np.where(X["x0"] + rng.normal(size=n) > 0, "pos", "neg")), name="target")
    return _dataset(X, y, "classification", "larger")


def _compute(group: MetaFeatureGroup, dataset: Any, budget: Budget) -> tuple[dict[str, Any], dict[str, str]]:
    skipped: dict[str, str] = {}
    result = group.compute(dataset, budget, skipped)
    if not hasattr(result, "keys") or not hasattr(result, "__getitem__"):
        raise AssertionError(
            f"group {group.name!r}: compute() must return a mapping of feature -> float, got {type(result).__name__}"
        )
    if not isinstance(skipped, dict):
        raise AssertionError(f"group {group.name!r}: compute() replaced the skipped dict")
    return dict(result), skipped


def _check_result(group: MetaFeatureGroup, where: str, values: dict[str, Any], skipped: dict[str, str]) -> None:
    declared = tuple(group.feature_names)
    extra = sorted(set(values) - set(declared))
    if extra:
        raise AssertionError(f"group {group.name!r} on {where}: returned undeclared features {extra}")
    unexplained = [f for f in declared if f not in values and f not in skipped]
    if unexplained:
        raise AssertionError(
            f"group {group.name!r} on {where}: features {unexplained} are neither returned nor recorded in skipped"
        )
    bad_skips = sorted(set(skipped) - set(declared))
    if bad_skips:
        raise AssertionError(f"group {group.name!r} on {where}: skipped names undeclared features {bad_skips}")
    for feature, value in values.items():
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise AssertionError(
                f"group {group.name!r} on {where}: {feature} is {value!r} ({type(value).__name__}), not a float"
            )
        if math.isinf(float(value)):
            raise AssertionError(f"group {group.name!r} on {where}: {feature} is {value}; use NaN for undefined values")


def _same(a: dict[str, Any], b: dict[str, Any]) -> bool:
    if a.keys() != b.keys():
        return False
    for k in a:
        if a[k] is None or b[k] is None:  # a feature missing from one run (skipped)
            if a[k] is not b[k]:
                return False
            continue
        x, y = float(a[k]), float(b[k])
        if math.isnan(x) and math.isnan(y):
            continue
        if not math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-12):
            return False
    return True


def check_metafeature_group(group: MetaFeatureGroup, *, zero_budget_seconds: float = 5.0) -> None:
    """Check that ``group`` honours the meta-feature group contract; raise AssertionError if not.

    Checks, in order:

    1. it is a :class:`~metarec.metafeatures.MetaFeatureGroup` with a name and unique, string feature
       names (``validate()``);
    2. on each of :func:`synthetic_datasets` (regression ones only if ``supports_regression``) it returns a
       mapping with no undeclared keys, every declared feature is returned or recorded in ``skipped``, and
       every value is a real number, finite or NaN; it neither raises nor modifies the dataset;
    3. a second run gives the same values (deterministic);
    4. with an exhausted budget (``Budget(0)``) on a 3,000-row dataset it returns within
       ``zero_budget_seconds`` (or raises :class:`~metarec.metafeatures.BudgetExceeded`), and what it
       returns still satisfies 2.
    """
    if not isinstance(group, MetaFeatureGroup):
        raise AssertionError(f"{group!r} is not a metarec.metafeatures.MetaFeatureGroup instance")
    try:
        group.validate()
    except PluginError as exc:
        raise AssertionError(f"invalid group: {exc}") from None
    bad_names = [f for f in group.feature_names if not isinstance(f, str) or not f]
    if bad_names:
        raise AssertionError(f"group {group.name!r}: feature names must be non-empty strings, got {bad_names}")
    if not isinstance(group.description, str):
        raise AssertionError(f"group {group.name!r}: description must be a string")

    first: dict[str, dict[str, Any]] = {}
    datasets = [d for d in synthetic_datasets() if d.task_type == "classification" or group.supports_regression]
    for dataset in datasets:
        where = f"dataset {dataset.name!r}"
        X_before, y_before = dataset.X.copy(), dataset.y.copy()
        try:
            values, skipped = _compute(group, dataset, Budget(None))
        except AssertionError:
            raise
        except Exception as exc:
            raise AssertionError(
                f"group {group.name!r} raised {type(exc).__name__} on {where}: {exc}; "
                "return NaN for undefined values instead"
            ) from exc
        _check_result(group, where, values, skipped)
        if not (dataset.X.equals(X_before) and dataset.y.equals(y_before)):
            raise AssertionError(f"group {group.name!r} modified the dataset ({where})")
        first[dataset.name] = values

    for dataset in datasets[:2]:
        again, _ = _compute(group, dataset, Budget(None))
        before = first[dataset.name]
        if not _same(before, again):
            diff = sorted(k for k in set(before) | set(again) if not _same({k: before.get(k)}, {k: again.get(k)}))
            raise AssertionError(f"group {group.name!r} is not deterministic on dataset {dataset.name!r}: {diff}")

    larger = _larger_dataset()
    start = time.perf_counter()
    try:
        values, skipped = _compute(group, larger, Budget(0))
    except BudgetExceeded:
        values = None
    except AssertionError:
        raise
    except Exception as exc:
        raise AssertionError(
            f"group {group.name!r} raised {type(exc).__name__} with an exhausted budget: {exc}; "
            "let BudgetExceeded propagate or record skipped features"
        ) from exc
    elapsed = time.perf_counter() - start
    if elapsed > zero_budget_seconds:
        raise AssertionError(
            f"group {group.name!r} took {elapsed:.1f} s with an exhausted budget (limit {zero_budget_seconds:g} s); "
            "call budget.check() before each costly step"
        )
    if values is not None:
        _check_result(group, "a 3,000-row dataset with Budget(0)", values, skipped)
