"""The ``subsample`` meta-feature group (learning-curve landmarkers) and its LCDB counterpart."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from metarec.data import Dataset
from metarec.kb.lcdb import subsample_landmarkers
from metarec.learners import get_learner
from metarec.metafeatures import Budget, extract_metafeatures
from metarec.metafeatures._conformance import check_metafeature_group
from metarec.metafeatures.subsample import (
    ANCHORS,
    R2_FLOOR,
    REGRESSION_LEARNERS,
    SUBSAMPLE_LEARNERS,
    SubsampleGroup,
    _split,
    anchor_for,
    feature_names,
    repeats_for,
)


def _linear(n=1500, p=20, seed=0) -> Dataset:
    """A linear boundary in 20 dimensions: logistic regression learns it from a few hundred rows, a tree does not."""
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(rng.normal(size=(n, p)), columns=[f"x{i}" for i in range(p)])
    y = pd.Series(np.where(X.to_numpy() @ rng.normal(size=p) > 0, "yes", "no"), name="y")
    return Dataset(X=X, y=y, task_type="classification", name="linear", categorical=[False] * p)


def test_anchor_is_the_largest_lcdb_size_within_half_of_what_lcdb_could_train_on():
    assert anchor_for(100_000) == 512 and anchor_for(1024) == 512 and anchor_for(1023) == 362
    assert anchor_for(600) == 256 and anchor_for(100) == 45 and anchor_for(10) == ANCHORS[0]
    assert all(anchor_for(m) <= max(m / 2, ANCHORS[0]) for m in range(1, 3000, 7))


def test_test_rows_are_every_row_the_sample_does_not_need_and_at_least_a_fifth():
    y = np.arange(3000) % 2
    test, train = _split(y, 512, 1000, 0)
    assert test.size == 1000 and train.size == 512  # capped by max_test
    test, train = _split(y[:300], 91, 1000, 0)
    # stratified: each class keeps its share, rounded
    assert abs(test.size - 209) <= 2 and abs(train.size - 91) <= 2 and not set(test) & set(train)
    test, train = _split(y[:12], 16, 1000, 0)  # smaller than the smallest anchor
    assert test.size == 2 and train.size == 10


def test_small_tables_average_more_draws_by_default():
    assert repeats_for(512) == repeats_for(362) == 2 and repeats_for(256) == repeats_for(16) == 4
    # 200 rows: anchor 64, so 4 draws, unless told otherwise; every draw counts in the average
    ds = _linear(200, 5)
    default = pd.Series(SubsampleGroup(n_jobs=1).compute(ds, Budget(None), {}))
    assert default.equals(pd.Series(SubsampleGroup(repeats=4, n_jobs=1).compute(ds, Budget(None), {})))
    assert not default.equals(pd.Series(SubsampleGroup(repeats=2, n_jobs=1).compute(ds, Budget(None), {})))


def test_group_conformance():
    check_metafeature_group(SubsampleGroup(repeats=1))


@pytest.mark.slow
def test_values_are_the_learners_test_accuracy_on_the_documented_split():
    ds = _linear()
    mf = extract_metafeatures(ds, groups=["subsample"])
    assert list(mf.index) == list(feature_names())
    # one repeat by hand: logistic regression on 512 rows (0.81 * 1500 / 2 = 607 -> 512), scored on the test rows
    y = pd.factorize(ds.y, sort=True)[0]
    test, train = _split(y, 512, 1000, 0)
    assert train.size == 512 and test.size == 988 and not set(train) & set(test)  # 1500 - 512 rows
    one = SubsampleGroup(repeats=1).compute(ds, Budget(None), {})
    model = get_learner("logistic_regression").make_pipeline(random_state=0).fit(ds.X.iloc[train], y[train])
    assert one["sub_logistic_regression_accuracy"] == pytest.approx(np.mean(model.predict(ds.X.iloc[test]) == y[test]))
    # the linear learner beats the tree, `_rel` is relative to the best, repeats average, runs repeat exactly
    assert mf["sub_logistic_regression_accuracy"] > mf["sub_decision_tree_accuracy"] + 0.05
    acc = mf[[f"sub_{lr}_accuracy" for lr in SUBSAMPLE_LEARNERS]]
    assert ((acc >= 0) & (acc <= 1)).all()
    rel = mf[[f"sub_{lr}_rel" for lr in SUBSAMPLE_LEARNERS]].to_numpy()
    assert rel.max() == 0 and np.allclose(rel, acc.to_numpy() - acc.max())
    assert extract_metafeatures(ds, groups=["subsample"]).equals(mf)


def test_undefined_and_failing_cases_are_nan_not_errors():
    constant = Dataset(X=pd.DataFrame({"a": np.arange(50.0)}), y=pd.Series(np.ones(50)), task_type="regression",
                       name="r", categorical=[False])
    assert extract_metafeatures(constant, groups=["subsample"]).isna().all()
    one_class = Dataset(X=pd.DataFrame({"a": np.arange(50.0)}), y=pd.Series(["a"] * 50), task_type="classification",
                        name="c", categorical=[False])
    assert extract_metafeatures(one_class, groups=["subsample"]).isna().all()
    no_columns = Dataset(X=pd.DataFrame(index=range(50)), y=pd.Series(["a", "b"] * 25), task_type="classification",
                         name="n", categorical=[])
    series, report = extract_metafeatures(no_columns, groups=["subsample"], return_report=True)
    assert series.isna().all() and not report.problems()
    skipped: dict = {}
    out = SubsampleGroup().compute(_linear(300), Budget(0.0), skipped)
    assert all(math.isnan(v) for v in out.values()) and "sub_gradient_boosting_accuracy" in skipped


def _curve(d, learner, size, score):
    return {"dataset_id": d, "source": "lcdb", "learner": learner, "metric": "accuracy", "train_size": float(size),
            "score": score}


def test_lcdb_values_come_from_the_curve_at_the_same_anchor():
    runs = pd.DataFrame([
        # largest size 5000 -> anchor 512; 700 -> anchor 256 (the new-data rule applied to LCDB's largest size)
        _curve("big", "random_forest", 512, 0.80), _curve("big", "random_forest", 5000, 0.90),
        _curve("big", "knn", 512, 0.70), _curve("big", "knn", 256, 0.60), _curve("big", "knn", 5000, 0.75),
        _curve("small", "random_forest", 256, 0.55), _curve("small", "random_forest", 700, 0.65),
        _curve("small", "knn", 256, 0.58), _curve("small", "mlp", 256, 0.99),  # mlp is not one of the group's
    ])
    f = subsample_landmarkers(runs)
    assert list(f.columns) == list(feature_names())
    assert f.at["big", "sub_random_forest_accuracy"] == 0.80 and f.at["big", "sub_knn_accuracy"] == 0.70
    assert f.at["big", "sub_knn_rel"] == pytest.approx(-0.10) and f.at["big", "sub_random_forest_rel"] == 0
    assert f.at["small", "sub_random_forest_accuracy"] == 0.55 and f.at["small", "sub_knn_rel"] == 0
    assert math.isnan(f.at["small", "sub_lda_accuracy"])


def test_threads_do_not_change_the_values():
    ds = _linear(400, 6)
    one = SubsampleGroup(repeats=1, n_jobs=1).compute(ds, Budget(None), {})
    two = SubsampleGroup(repeats=1, n_jobs=2).compute(ds, Budget(None), {})
    assert pd.Series(one).equals(pd.Series(two))
    assert not any(math.isnan(one[f"sub_{lr}_accuracy"]) for lr in SUBSAMPLE_LEARNERS)


def test_a_learner_failing_in_its_thread_leaves_the_others(monkeypatch):
    import metarec.metafeatures.subsample as sub

    real = sub._score

    def knn_fails(learner, *args):
        if learner.name == "knn":
            raise ValueError("boom")
        return real(learner, *args)

    monkeypatch.setattr(sub, "_score", knn_fails)
    skipped: dict = {}
    out = SubsampleGroup(repeats=1, n_jobs=2).compute(_linear(300, 4), Budget(None), skipped)
    assert math.isnan(out["sub_knn_accuracy"]) and "boom" in skipped["sub_knn_accuracy"]
    assert not math.isnan(out["sub_lda_accuracy"]) and "sub_lda_accuracy" not in skipped


def test_regression_values_are_the_regressors_test_r2_floored_at_minus_one():
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(600, 5)), columns=list("abcde"))
    y = pd.Series(3 * X["a"] - 2 * X["b"] + rng.normal(scale=0.1, size=600), name="y")
    ds = Dataset(X=X, y=y, task_type="regression", name="lin", categorical=[False] * 5)
    mf = extract_metafeatures(ds, groups=["subsample"])
    assert mf[[f"sub_{lr}_accuracy" for lr in SUBSAMPLE_LEARNERS]].isna().all()
    r2 = mf[[f"sub_{lr}_r2" for lr in REGRESSION_LEARNERS]]
    assert r2.notna().all() and (r2 >= R2_FLOOR).all() and (r2 <= 1).all()
    # a linear target: ridge on 256 rows (0.81 * 600 / 2 = 243 -> 181) is near perfect, a single tree is not
    assert mf["sub_ridge_regressor_r2"] > 0.99 > mf["sub_decision_tree_regressor_r2"]
    assert mf["sub_ridge_regressor_rel"] == 0 and mf["sub_decision_tree_regressor_rel"] < 0
    # one repeat by hand: ridge's test R^2 on the documented (unstratified) split
    test, train = _split(y.to_numpy(), 181, 1000, 0, stratify=False)
    one = SubsampleGroup(repeats=1).compute(ds, Budget(None), {})
    model = get_learner("ridge_regressor").make_pipeline(random_state=0).fit(X.iloc[train], y.iloc[train])
    from sklearn.metrics import r2_score
    assert one["sub_ridge_regressor_r2"] == pytest.approx(r2_score(y.iloc[test], model.predict(X.iloc[test])))
    # noise the regressors cannot fit: a score below -1 is floored there
    wild = Dataset(X=X, y=pd.Series(rng.standard_cauchy(600) * 1e3, name="y"), task_type="regression",
                   name="wild", categorical=[False] * 5)
    assert (extract_metafeatures(wild, groups=["subsample"])[[f"sub_{lr}_r2" for lr in REGRESSION_LEARNERS]]
            >= R2_FLOOR).all()
