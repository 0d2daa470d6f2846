"""Meta-feature extraction: the built-in groups' conformance, robustness on random data, the budget, the report."""

from __future__ import annotations

import logging
import math
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from metarec.hookspecs import hookimpl
from metarec.data import Dataset
from metarec.exceptions import MetaFeatureError
from metarec.metafeatures import (
    DEFAULT_GROUPS,
    Budget,
    BudgetExceeded,
    ExtractionReport,
    MetaFeatureGroup,
    extract_metafeatures,
    feature_names,
    get_group,
    get_groups,
)
from metarec.metafeatures._conformance import check_metafeature_group, synthetic_datasets
from metarec.metafeatures.landmarkers import LandmarkerGroup
from metarec.metafeatures.statistical import StatisticalGroup, subsample_rows


def _openml_available() -> bool:
    try:
        import metarec.metafeatures.openml  # noqa: F401
    except ImportError:
        return False
    return True


BUILTIN_GROUPS = [
    "statistical",
    "landmarkers",
    pytest.param("openml", marks=pytest.mark.skipif(not _openml_available(), reason="openml group not written yet")),
]


def make_dataset(X: pd.DataFrame, y, task_type: str = "classification", name: str = "test") -> Dataset:
    cat = [not pd.api.types.is_numeric_dtype(X[c]) or pd.api.types.is_bool_dtype(X[c]) for c in X.columns]
    return Dataset(X=X, y=pd.Series(y, name="target"), task_type=task_type, name=name, categorical=cat)


def classification_data(n: int = 200, seed: int = 0) -> Dataset:
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(
        {"a": rng.normal(size=n), "b": rng.normal(size=n), "c": pd.Categorical(rng.choice(list("xyz"), n))}
    )
    y = pd.Categorical(np.where(X["a"] > 0, "pos", "neg"))
    return make_dataset(X, y)


def assert_finite_or_nan(series: pd.Series) -> None:
    assert series.dtype == np.float64
    assert not np.isinf(series.to_numpy()).any(), series[np.isinf(series.to_numpy())]


# -- conformance of the built-in groups ------------------------------------------------------------------


@pytest.mark.parametrize("name", BUILTIN_GROUPS)
def test_builtin_group_conforms(name):
    check_metafeature_group(get_group(name))


def test_builtin_groups_are_registered_in_order():
    names = [g.name for g in get_groups()]
    expected = [g for g in DEFAULT_GROUPS if g != "openml" or _openml_available()]
    assert names[: len(expected)] == expected


def test_feature_names_follow_group_order_and_prefixes():
    stat, lm = get_group("statistical"), get_group("landmarkers")
    assert feature_names("statistical,landmarkers") == list(stat.feature_names) + list(lm.feature_names)
    assert all(n.startswith("stat_") for n in stat.feature_names)
    assert all(n.startswith("lm_") for n in lm.feature_names)
    if _openml_available():
        assert feature_names() == [n for g in DEFAULT_GROUPS for n in get_group(g).feature_names]


def test_conformance_rejects_a_bad_group():
    class Infinite(MetaFeatureGroup):
        name = "infinite"
        feature_names = ("inf_a", "inf_b")

        def compute(self, dataset, budget, skipped):
            return {"inf_a": math.inf, "inf_b": 1.0}

    class Extra(MetaFeatureGroup):
        name = "extra"
        feature_names = ("extra_a",)

        def compute(self, dataset, budget, skipped):
            return {"extra_a": 1.0, "undeclared": 2.0}

    class Silent(MetaFeatureGroup):
        name = "silent"
        feature_names = ("silent_a", "silent_b")

        def compute(self, dataset, budget, skipped):
            return {"silent_a": 1.0}

    class Random(MetaFeatureGroup):
        name = "random"
        feature_names = ("random_a",)

        def compute(self, dataset, budget, skipped):
            return {"random_a": float(np.random.random())}

    class Raises(MetaFeatureGroup):
        name = "raises"
        feature_names = ("raises_a",)

        def compute(self, dataset, budget, skipped):
            return {"raises_a": float(dataset.X.iloc[:, 5].mean())}

    for group, message in [
        (Infinite(), "use NaN"),
        (Extra(), "undeclared"),
        (Silent(), "neither returned nor recorded"),
        (Random(), "not deterministic"),
        (Raises(), "raised IndexError"),
    ]:
        with pytest.raises(AssertionError, match=message):
            check_metafeature_group(group)

    class Skipping(Silent):
        def compute(self, dataset, budget, skipped):
            skipped["silent_b"] = "not applicable"
            return {"silent_a": 1.0}

    check_metafeature_group(Skipping())


# -- property tests over random data ---------------------------------------------------------------------

COLUMN_KINDS = ["float", "int", "constant", "nan_inf", "all_nan", "category", "category_unused", "all_missing_cat",
                "bool", "text", "str"]


@st.composite
def random_datasets(draw):
    n = draw(st.integers(1, 50))
    kinds = draw(st.lists(st.sampled_from(COLUMN_KINDS), min_size=0, max_size=6))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    cols = {}
    for j, kind in enumerate(kinds):
        if kind == "float":
            v = rng.normal(size=n) * 10.0 ** rng.integers(-3, 4)
        elif kind == "int":
            v = rng.integers(-5, 5, size=n)
        elif kind == "constant":
            v = np.full(n, 7.0)
        elif kind == "nan_inf":
            v = rng.choice([np.nan, np.inf, -np.inf, 0.0, 1.5, -2.0], size=n)
        elif kind == "all_nan":
            v = np.full(n, np.nan)
        elif kind == "category":
            v = pd.Categorical(rng.choice(["a", "b", "c", None], size=n))
        elif kind == "category_unused":
            v = pd.Categorical(rng.choice(["a", "b"], size=n), categories=["a", "b", "never", "seen"])
        elif kind == "all_missing_cat":
            v = pd.Categorical([None] * n, categories=["p", "q"])
        elif kind == "bool":
            v = rng.random(n) < 0.5
        elif kind == "text":
            v = pd.array(rng.choice(["foo bar", "baz", "qux quux"], size=n), dtype=object)
        else:  # pandas' default string dtype, with missing values
            v = pd.array(rng.choice(["x", "y", None], size=n), dtype="str")
        cols[f"{kind}_{j}"] = v
    X = pd.DataFrame(cols, index=pd.RangeIndex(n))
    if draw(st.booleans()):
        k = draw(st.integers(1, 4))
        labels = [f"class{i}" for i in rng.integers(0, k, size=n)]
        return make_dataset(X, pd.Categorical(labels, categories=[f"class{i}" for i in range(k)]), "classification")
    y = rng.normal(size=n) if draw(st.booleans()) else np.full(n, 2.5)
    return make_dataset(X, y.astype(float), "regression")


def _property_groups() -> list[str]:
    return ["openml", "statistical", "landmarkers"] if _openml_available() else ["statistical", "landmarkers"]


@pytest.mark.slow
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True, database=None)
@given(dataset=random_datasets())
def test_random_datasets_never_crash(dataset):
    groups = _property_groups()
    series, report = extract_metafeatures(dataset, groups=groups, return_report=True)
    assert list(series.index) == feature_names(groups)
    assert_finite_or_nan(series)
    for name, group_report in report.groups.items():
        assert group_report.error is None, f"{name}: {group_report.error}"
        assert not group_report.skipped, f"{name}: {group_report.skipped}"


# -- extraction API --------------------------------------------------------------------------------------


def test_extract_returns_named_float_series_with_report():
    dataset = classification_data()
    series = extract_metafeatures(dataset, groups=["statistical", "landmarkers"])
    assert series.name == "test"
    assert list(series.index) == feature_names(["statistical", "landmarkers"])
    assert_finite_or_nan(series)
    report = series.attrs["report"]
    assert set(report["groups"]) == {"statistical", "landmarkers"}
    assert all(g["status"] == "ok" and g["seconds"] >= 0 for g in report["groups"].values())
    assert series["lm_stump_accuracy"] > 0.9  # the class is a threshold on "a"


def test_extract_loads_a_dataframe():
    frame = pd.DataFrame({"x": np.arange(30.0), "z": np.tile([0.0, 1.0, 2.0], 10), "y": ["u", "v"] * 15})
    series = extract_metafeatures(frame, "y", groups="statistical")
    assert series["stat_log_n_rows"] == pytest.approx(math.log(30))
    assert series["stat_class_imbalance_ratio"] == 1.0


def test_unknown_group_names_the_known_ones():
    with pytest.raises(MetaFeatureError, match="known: landmarkers, openml, statistical"):
        extract_metafeatures(classification_data(), groups="statistical,nope")
    with pytest.raises(MetaFeatureError, match="nope"):
        feature_names(["nope"])
    with pytest.raises(MetaFeatureError, match="known: "):
        get_group("nope")


def test_mismatched_task_type_for_a_dataset_is_an_error():
    with pytest.raises(MetaFeatureError, match="task_type"):
        extract_metafeatures(classification_data(), groups="statistical", task_type="regression")


def test_zero_budget_skips_every_group(caplog):
    with caplog.at_level(logging.WARNING, logger="metarec.metafeatures"):
        series, report = extract_metafeatures(
            classification_data(), groups="statistical,landmarkers", time_budget=0, return_report=True
        )
    assert series.isna().all()
    assert {g.status for g in report.groups.values()} == {"skipped"}
    assert all("time budget" in g.error for g in report.groups.values())
    assert sum("skipped" in r.getMessage() for r in caplog.records) == 2


# -- fake plugin groups: budget, failures, odd values -----------------------------------------------------


#: per feature; the budget test allows 0.4 s of scheduling delay either way on a loaded machine
SLEEP = 0.6


class SleepyGroup(MetaFeatureGroup):
    """Sleeps before each feature and checks the budget cooperatively (lets BudgetExceeded propagate)."""

    name = "sleepy"
    feature_names = ("sleepy_a", "sleepy_b", "sleepy_c")

    def compute(self, dataset, budget, skipped):
        out = {}
        for name in self.feature_names:
            budget.check(name)
            time.sleep(SLEEP)
            out[name] = 1.0
        return out


class BrokenGroup(MetaFeatureGroup):
    name = "broken"
    feature_names = ("broken_a",)

    def compute(self, dataset, budget, skipped):
        raise RuntimeError("boom")


class OddGroup(MetaFeatureGroup):
    name = "odd"
    feature_names = ("odd_ok", "odd_inf", "odd_text", "odd_skipped", "odd_missing", "odd_int")

    def compute(self, dataset, budget, skipped):
        skipped["odd_skipped"] = "undefined here"
        return {"odd_ok": 0.5, "odd_inf": -math.inf, "odd_text": "high", "odd_skipped": math.nan, "odd_int": 3,
                "undeclared": 1.0}


class ClassificationOnlyGroup(MetaFeatureGroup):
    name = "classification_only"
    feature_names = ("cls_only",)
    supports_regression = False

    def compute(self, dataset, budget, skipped):
        return {"cls_only": 1.0}


class ClashGroup(MetaFeatureGroup):
    name = "clash"
    feature_names = ("odd_ok",)

    def compute(self, dataset, budget, skipped):
        return {"odd_ok": 1.0}


class FakePlugin:
    @hookimpl
    def register_metafeatures(self, register):
        for group in (SleepyGroup(), BrokenGroup(), OddGroup(), ClassificationOnlyGroup(), ClashGroup()):
            register(group)


@pytest.fixture
def fake_host():
    from metarec import plugins

    old = plugins._HOST
    host = plugins.PluginHost(autoload=False)
    host.register_plugin(FakePlugin(), name="fake-groups")
    plugins.reset_plugin_host(host)
    yield host
    plugins.reset_plugin_host(old)


def test_budget_exceeded_mid_group_skips_it_and_the_rest(fake_host, caplog):
    start = time.perf_counter()
    with caplog.at_level(logging.WARNING, logger="metarec.metafeatures"):
        series, report = extract_metafeatures(
            classification_data(), groups=["sleepy", "statistical"], time_budget=1.0, return_report=True
        )
    assert time.perf_counter() - start < 2 * SLEEP + 1.0  # two sleeps, then cut: nothing waits for the rest
    assert series.isna().all()
    assert report.groups["sleepy"].status == "skipped" and "before sleepy_c" in report.groups["sleepy"].error
    assert report.groups["statistical"].status == "skipped"
    assert "before group 'statistical'" in report.groups["statistical"].error
    assert {r.getMessage().split("'")[1] for r in caplog.records if r.name.startswith("metarec.metafeatures")} == {
        "sleepy", "statistical"}


def test_enough_budget_computes_everything(fake_host):
    series, report = extract_metafeatures(
        classification_data(), groups="sleepy,statistical", time_budget=30, return_report=True
    )
    assert (series[list(SleepyGroup.feature_names)] == 1.0).all()
    assert {g.status for g in report.groups.values()} == {"ok"}
    assert report.time_budget == 30 and report.seconds >= 3 * SLEEP


def test_a_raising_group_costs_only_its_own_features(fake_host, caplog):
    with caplog.at_level(logging.WARNING, logger="metarec.metafeatures"):
        series, report = extract_metafeatures(classification_data(), groups="broken,statistical", return_report=True)
    assert math.isnan(series["broken_a"])
    assert report.groups["broken"].status == "skipped"
    assert report.groups["broken"].error == "RuntimeError: boom"
    assert report.groups["statistical"].status == "ok"
    assert series["stat_log_n_rows"] == pytest.approx(math.log(200))
    assert any("broken" in r.getMessage() and "boom" in r.getMessage() for r in caplog.records)
    assert series.attrs["report"]["groups"]["broken"]["error"] == "RuntimeError: boom"


def test_odd_values_become_nan_and_are_reported(fake_host):
    series, report = extract_metafeatures(classification_data(), groups="odd", return_report=True)
    assert list(series.index) == list(OddGroup.feature_names)
    assert series["odd_ok"] == 0.5 and series["odd_int"] == 3.0
    assert series[["odd_inf", "odd_text", "odd_skipped", "odd_missing"]].isna().all()
    odd = report.groups["odd"]
    assert odd.status == "partial"
    assert set(odd.skipped) == {"odd_text", "odd_skipped", "odd_missing"}
    assert report.skipped_features["odd_skipped"] == "undefined here"
    assert isinstance(report, ExtractionReport)


def test_group_without_regression_support_is_nan_on_regression(fake_host):
    dataset = classification_data()
    reg = make_dataset(dataset.X, dataset.X["a"].to_numpy() * 2.0, "regression")
    series, report = extract_metafeatures(reg, groups="classification_only", return_report=True)
    assert series.isna().all() and report.groups["classification_only"].status == "skipped"
    assert extract_metafeatures(dataset, groups="classification_only")["cls_only"] == 1.0


def test_feature_declared_by_two_groups_is_an_error(fake_host):
    # a registered group may not take another's feature names: refused at registration, naming the plugin,
    # so an extraction of every group (what recommend does) keeps working
    assert "clash" not in {g.name for g in get_groups()} and "odd" in {g.name for g in get_groups()}
    (error,) = [e for e in fake_host.infos["fake-groups"].errors if "clash" in e]
    assert "'odd_ok'" in error and "group 'odd' (plugin fake-groups)" in error and "names of their own" in error
    with pytest.raises(MetaFeatureError, match="unknown metafeature group 'clash'"):
        extract_metafeatures(classification_data(), groups="odd,clash")
    # group objects passed directly are checked when they are extracted together
    with pytest.raises(MetaFeatureError, match="'odd_ok' is declared by both group 'odd' and group 'clash'"):
        extract_metafeatures(classification_data(), groups=[OddGroup(), ClashGroup()])


def test_a_plugin_group_cannot_take_a_builtin_features_name():
    from metarec import plugins

    class Dup(MetaFeatureGroup):
        name = "dupfeat"
        feature_names = ("NumberOfInstances", "dup_own")

        def compute(self, dataset, budget, skipped):
            return {"NumberOfInstances": 1.0, "dup_own": 1.0}

    class DupPlugin:
        @hookimpl
        def register_metafeatures(self, register):
            register(Dup())

    old = plugins._HOST
    host = plugins.PluginHost(autoload=False)
    host.register_plugin(DupPlugin(), name="dup-plugin")
    plugins.reset_plugin_host(host)
    try:
        assert "dupfeat" not in {g.name for g in get_groups()}
        assert any("'NumberOfInstances'" in e and "group 'openml'" in e for e in host.infos["dup-plugin"].errors)
        series = extract_metafeatures(classification_data())  # every group, as recommend asks: still works
        assert "NumberOfInstances" in series.index and "dup_own" not in series.index
    finally:
        plugins.reset_plugin_host(old)


def test_groups_all_and_group_objects(fake_host):
    assert {"sleepy", "broken", "statistical", "landmarkers"} <= {g.name for g in get_groups()}
    series = extract_metafeatures(classification_data(), groups=[StatisticalGroup(max_rows=50), "odd"])
    assert list(series.index) == list(StatisticalGroup.feature_names) + list(OddGroup.feature_names)


# -- landmarkers -----------------------------------------------------------------------------------------


def test_landmarker_subsampling_is_deterministic_and_stratified():
    y = np.repeat([0, 1, 2], [9000, 900, 100])
    a = subsample_rows(y.size, 1000, seed=3, strata=y)
    b = subsample_rows(y.size, 1000, seed=3, strata=y)
    c = subsample_rows(y.size, 1000, seed=4, strata=y)
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    assert np.all(np.diff(a) > 0)
    assert np.bincount(y[a]).tolist() == [900, 90, 10]
    assert subsample_rows(50, 1000, seed=0).tolist() == list(range(50))

    data = classification_data(n=3000, seed=1)
    group = LandmarkerGroup(max_rows=400)
    first = pd.Series(group.compute(data, Budget(None), {}))
    second = pd.Series(LandmarkerGroup(max_rows=400).compute(data, Budget(None), {}))
    pd.testing.assert_series_equal(first, second)
    other_seed = pd.Series(LandmarkerGroup(max_rows=400, random_state=1).compute(data, Budget(None), {}))
    assert not first.equals(other_seed)


def test_landmarkers_on_regression():
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.normal(size=300), "b": rng.normal(size=300)})
    y = 3 * X["a"] - X["b"] + rng.normal(scale=0.01, size=300)
    values = LandmarkerGroup().compute(make_dataset(X, y.to_numpy(), "regression"), Budget(None), {})
    assert values["lm_linear_r2"] > 0.99
    assert 0 < values["lm_stump_r2"] < values["lm_linear_r2"]
    assert math.isnan(values["lm_1nn_accuracy"])


def test_a_failing_landmarker_is_nan_and_recorded(monkeypatch):
    from metarec.metafeatures import landmarkers

    real = landmarkers._estimator

    def fake(landmarker, classification, seed):
        if landmarker == "lda":
            raise np.linalg.LinAlgError("singular")
        return real(landmarker, classification, seed)

    monkeypatch.setattr(landmarkers, "_estimator", fake)
    skipped: dict[str, str] = {}
    values = LandmarkerGroup().compute(classification_data(), Budget(None), skipped)
    assert math.isnan(values["lm_lda_accuracy"]) and math.isnan(values["lm_lda_kappa"])
    assert set(skipped) == {"lm_lda_accuracy", "lm_lda_kappa"} and "singular" in skipped["lm_lda_kappa"]
    assert values["lm_naive_bayes_accuracy"] > 0.5


class CountdownBudget(Budget):
    """A budget that runs out after ``checks`` calls of check()."""

    def __init__(self, checks: int):
        super().__init__(None)
        self.left = checks

    def check(self, what: str = "") -> None:
        self.left -= 1
        if self.left < 0:
            raise BudgetExceeded(f"budget exceeded before {what}")


def test_landmarkers_stop_when_the_budget_runs_out():
    skipped: dict[str, str] = {}
    # 1 check before preprocessing, then per landmarker 1 + 5 folds: the first (1-NN) completes
    values = LandmarkerGroup().compute(classification_data(), CountdownBudget(1 + 6 + 2), skipped)
    assert not math.isnan(values["lm_1nn_accuracy"])
    assert set(skipped) == {f"lm_{lm}_{m}" for lm in ("stump", "random_node", "lda", "naive_bayes")
                            for m in ("accuracy", "kappa")}
    assert "before landmarker stump fold 2" in skipped["lm_stump_accuracy"]


# -- statistical -----------------------------------------------------------------------------------------


def test_statistical_values_on_known_data():
    rng = np.random.default_rng(0)
    a = rng.normal(size=40)
    X = pd.DataFrame(
        {"a": a, "twice_a": 2 * a + 1, "zeros": np.zeros(40), "c": pd.Categorical(["u"] * 40, ["u", "v", "w"])}
    )
    y = pd.Categorical(["big"] * 30 + ["small"] * 10)
    skipped: dict[str, str] = {}
    values = StatisticalGroup().compute(make_dataset(X, y), Budget(None), skipped)
    assert not skipped
    assert values["stat_max_abs_correlation"] == pytest.approx(1.0)
    assert values["stat_pca_first_ratio"] == pytest.approx(1.0)  # "zeros" is constant and dropped
    assert values["stat_pca_fraction_95"] == pytest.approx(0.5)
    assert values["stat_class_imbalance_ratio"] == 3.0 and values["stat_minority_class_fraction"] == 0.25
    assert values["stat_fraction_categorical"] == 0.25
    assert values["stat_log_total_levels"] == pytest.approx(math.log(4))
    assert values["stat_sparsity"] == pytest.approx(40 / 120)
    assert math.isnan(values["stat_target_skewness"])


def test_statistical_degenerate_inputs_are_nan_not_errors():
    one_row = make_dataset(pd.DataFrame({"a": [1.0], "c": pd.Categorical(["x"])}), pd.Categorical(["k"]))
    no_numeric = make_dataset(pd.DataFrame({"c": pd.Categorical(list("xyxy"))}), pd.Categorical(list("klkl")))
    no_columns = make_dataset(pd.DataFrame(index=pd.RangeIndex(5)), np.arange(5.0), "regression")
    for dataset in (one_row, no_numeric, no_columns):
        skipped: dict[str, str] = {}
        values = StatisticalGroup().compute(dataset, Budget(None), skipped)
        assert not skipped
        assert math.isnan(values["stat_mean_abs_correlation"]) and math.isnan(values["stat_pca_first_ratio"])
    assert StatisticalGroup().compute(no_columns, Budget(None), {})["stat_target_skewness"] == pytest.approx(0.0)


def test_statistical_regression_target_shape():
    y = np.exp(np.random.default_rng(0).normal(size=2000))  # log-normal: right-skewed, heavy-tailed
    X = pd.DataFrame({"x": np.log(y) + np.random.default_rng(1).normal(scale=0.1, size=2000)})
    values = StatisticalGroup(max_rows=500).compute(make_dataset(X, y, "regression"), Budget(None), {})
    assert values["stat_target_skewness"] > 2 and values["stat_target_kurtosis"] > 5
    assert math.isnan(values["stat_class_imbalance_ratio"])
    assert 0.7 < values["stat_max_target_association"] <= 1.0


def test_synthetic_datasets_cover_the_documented_cases():
    names = [d.name for d in synthetic_datasets()]
    assert names == ["mixed", "numeric", "categorical", "regression", "missing", "two_rows"]


def test_importing_metafeatures_is_cheap():
    code = (
        "import sys, metarec.metafeatures, metarec.metafeatures.builtin; "
        "heavy = [m for m in ('numpy', 'pandas', 'sklearn', 'scipy') if m in sys.modules]; "
        "assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
