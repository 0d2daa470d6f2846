"""Meta-models: conformance of every built-in, persistence, the cache, the performance table."""

import importlib.util
import json
import logging
import sys

import numpy as np
import pandas as pd
import pytest

from metarec.exceptions import KnowledgeBaseError, MetarecError, MissingDependencyError
from metarec.kb.format import DATASET_COLUMNS, RUN_COLUMNS, KnowledgeBase, new_manifest
from metarec.kb.performance import best_configs, performance_table
from metarec.kb.zeroshot import portfolio_configs
from metarec.metamodels import get_metamodel, get_metamodels
from metarec.metamodels._conformance import check_metamodel, make_metamodel_data
from metarec.metamodels.base import MetaModel, MetaPrediction, NotFittedError

HAS_TORCH = importlib.util.find_spec("torch") is not None
BUILTINS = ["lightgbm", "lightgbm-expected", "torch", "svm", "knn", "single-best"]


def _fast(name):
    """Registered factories, with the torch model made small enough for a fast test run."""
    factory = get_metamodel(name).factory
    if name == "torch":
        return lambda: factory().set_params(n_models=2, max_epochs=60, patience=10)
    return factory


def test_builtins_are_registered_by_the_builtin_plugin():
    from metarec.plugins import get_plugin_host

    reg = get_plugin_host().registry("metamodel")
    assert [n for n in BUILTINS if n in reg] == BUILTINS
    assert {reg.entry(n).plugin for n in BUILTINS} == {"metarec.metamodels.builtin"}
    assert all(spec.description for spec in get_metamodels())


@pytest.mark.parametrize("name", [pytest.param(n, marks=[pytest.mark.skipif(n == "torch" and not HAS_TORCH,
                                                                            reason="torch not installed")]
                                  + ([pytest.mark.slow] if n == "torch" else []))  # torch: ~15 s
                                  for n in BUILTINS])
def test_conformance(name):
    check_metamodel(_fast(name))


def test_conformance_catches_a_broken_model():
    from metarec.metamodels.single_best import SingleBestMetaModel

    class Sloppy(SingleBestMetaModel):
        def _predict(self, X):
            out = super()._predict(X)
            out["preference"] = out["preference"] + np.random.default_rng().normal(size=out["preference"].shape)
            return out

        def predict(self, X):
            pred = super().predict(X)
            pred.lower = pred.score + 1.0  # lower above the score
            return pred

    with pytest.raises(AssertionError, match="lower <= score <= upper"):
        check_metamodel(Sloppy)


# -- behaviour ------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def data():
    return make_metamodel_data(n_datasets=60, random_state=3)


def test_lightgbm_within_ranks_the_learner_most_often_near_the_best(tmp_path):
    from metarec.metamodels.lightgbm_model import LightGBMMetaModel
    from metarec.metamodels.base import load_metamodel

    # "peaky" is the best on 40% of datasets and 0.012 behind on the rest: the best on average (-0.0072);
    # "steady" is always 0.008 behind the best: never the best, always within a point of it
    rng = np.random.default_rng(0)
    n = 240
    X = pd.DataFrame({"noise": rng.normal(size=n), "more_noise": rng.normal(size=n)})
    peaky_wins = rng.random(n) < 0.4
    best = 0.9
    Y = pd.DataFrame({"peaky": np.where(peaky_wins, best, best - 0.012),
                      "steady": np.full(n, best - 0.008),
                      "baseline": np.where(peaky_wins, best - 0.05, best)})
    new = pd.DataFrame({"noise": rng.normal(size=20), "more_noise": rng.normal(size=20)})
    expected = LightGBMMetaModel(rank_by="expected").fit(X, Y).predict(new)
    within = LightGBMMetaModel().fit(X, Y)
    pred = within.predict(new)
    assert (expected.ranking()[1] == "peaky").mean() > 0.5  # noisy features: noisy expected scores
    assert (pred.ranking()[1] == "steady").all()
    assert np.allclose(pred.score, expected.score)  # the same scores and intervals: only the order differs
    within.save(tmp_path / "m")
    again = load_metamodel(tmp_path / "m").predict(new)
    assert np.allclose(again.preference, pred.preference) and again.ranking().equals(pred.ranking())
    with pytest.raises(MetarecError, match="rank_by must be one of expected, within"):
        LightGBMMetaModel(rank_by="best").fit(X, Y)
    # a model saved before rank_by existed (no rank_by, no 'near' classifiers) ranks by the expected score
    LightGBMMetaModel(rank_by="expected").fit(X, Y).save(tmp_path / "old")
    doc = json.loads((tmp_path / "old" / "metamodel.json").read_text())
    for part in (doc["params"], doc["state"]):
        part.pop("rank_by", None), part.pop("within", None)
    (tmp_path / "old" / "metamodel.json").write_text(json.dumps(doc))
    old = load_metamodel(tmp_path / "old")
    assert old.rank_by == "expected" and old.ranked_by == "expected score"
    assert old.predict(new).ranking().equals(expected.ranking())


def test_lightgbm_prediction_and_explain(data):
    from metarec.metamodels.lightgbm_model import LightGBMMetaModel

    X, Y, times, sizes = data
    model = LightGBMMetaModel(n_estimators=60, rank_by="expected").fit(X, Y, fit_times=times, train_sizes=sizes)
    pred = model.predict(X.iloc[:5])
    assert isinstance(pred, MetaPrediction) and pred.preference is not None
    # ranking follows the preference, and the score is best + preference (same order)
    assert list(pred.ranking().iloc[0]) == list(pred.preference.iloc[0].sort_values(ascending=False).index)
    assert list(pred.ranking().iloc[0]) == list(pred.score.iloc[0].sort_values(ascending=False).index)
    # ranked by the chance of being near the best (the default): the same scores, the order of that chance
    default = LightGBMMetaModel(n_estimators=60)
    assert default.rank_by == "within" and default.ranked_by == "chance of scoring within 0.01 of the best"
    assert model.ranked_by == "expected score"
    near = default.fit(X, Y, fit_times=times, train_sizes=sizes).predict(X.iloc[:5])
    assert np.allclose(near.score, pred.score)
    # its preference is a chance (plus a 1e-6 tie-break by the expected score), not the expected score
    assert ((near.preference.to_numpy() >= -1e-5) & (near.preference.to_numpy() <= 1 + 1e-5)).all()
    assert not np.allclose(near.preference, pred.preference)
    frame = pred.frame(0)
    assert list(frame.columns[:5]) == ["rank", "score", "lower", "upper", "fit_time"] and frame["rank"].iloc[0] == 1
    contrib = model.explain(X.iloc[0], "l2")
    assert list(contrib.index) == list(X.columns) and contrib.abs().sum() > 0
    assert contrib["always_missing"] == 0.0
    with pytest.raises(MetarecError, match="unknown learner"):
        model.explain(X.iloc[0], "nope")


def test_all_missing_metafeatures_and_unknown_columns(data):
    from metarec.metamodels.svm import SVMMetaModel

    X, Y, times, sizes = data
    model = SVMMetaModel().fit(X, Y)
    blank = pd.DataFrame([[np.nan] * X.shape[1]], columns=X.columns, index=["blank"])
    pred = model.predict(blank)
    assert np.isfinite(pred.score.to_numpy()).all()
    assert pred.fit_time.isna().all().all()  # fitted without fit times
    with pytest.raises(MetarecError, match="none of the"):
        model.predict(pd.DataFrame({"other": [1.0]}))


def test_fit_rejects_bad_input(data):
    from metarec.metamodels.knn import KNNMetaModel

    X, Y, _, _ = data
    with pytest.raises(TypeError):
        KNNMetaModel().fit(X.to_numpy(), Y)
    with pytest.raises(MetarecError, match="rows"):
        KNNMetaModel().fit(X.iloc[:5], Y)
    with pytest.raises(MetarecError, match="at least 2"):
        KNNMetaModel().fit(X.iloc[:1], Y.iloc[:1])
    with pytest.raises(NotFittedError):
        KNNMetaModel().rank(X)


def test_fit_time_model_extrapolates_with_size(data):
    from metarec.metamodels.single_best import SingleBestMetaModel

    X, Y, times, sizes = data
    model = SingleBestMetaModel().fit(X, Y, fit_times=times, train_sizes=sizes)
    small = X.iloc[[0]].assign(NumberOfInstances=1_000.0, NumberOfFeatures=20.0)
    big = small.assign(NumberOfInstances=1_000_000.0)
    assert (model.predict(big).fit_time.to_numpy() > 50 * model.predict(small).fit_time.to_numpy()).all()


def test_params_round_trip_and_repr():
    from metarec.metamodels.lightgbm_model import LightGBMMetaModel

    m = LightGBMMetaModel(n_estimators=10)
    assert m.get_params()["n_estimators"] == 10 and "n_estimators=10" in repr(m)
    with pytest.raises(ValueError, match="no parameter"):
        m.set_params(bogus=1)


def test_derived_features_by_hand():
    from metarec.metamodels.features import SOURCES, derived_features, fold_contributions

    X = pd.DataFrame({"NumberOfInstances": [1000.0, 50.0], "NumberOfFeatures": [10.0, np.nan],
                      "NumberOfFeaturesAfterBinarization": [100.0, np.nan], "NumberOfClasses": [4.0, 2.0],
                      "ClassEntropy": [1.0, 1.0], "MajorityClassSize": [400.0, 25.0]}, index=["a", "b"])
    d = derived_features(X)
    assert list(d.columns) == list(SOURCES) and list(d.index) == ["a", "b"]
    assert d.loc["a", "d_log_rows_x_features_x_classes"] == pytest.approx(np.log10(1000 * 100 * 4))
    assert d.loc["a", "d_log_rows_per_feature"] == pytest.approx(1.0)  # binarised features when known
    assert d.loc["a", "d_log_binarization_ratio"] == pytest.approx(1.0)
    assert d.loc["a", "d_class_entropy_ratio"] == pytest.approx(0.5)
    assert d.loc["a", "d_majority_share"] == pytest.approx(0.4)
    assert np.isnan(d.loc["b", "d_log_rows_per_feature"]) and np.isnan(d.loc["a", "d_naive_bayes_accuracy"])
    assert d.loc["b", "d_class_entropy_ratio"] == pytest.approx(1.0)
    # a derived column's contribution goes back to its sources, the total is kept
    contrib = pd.Series({"NumberOfInstances": 1.0, "ClassEntropy": 0.0, "d_log_rows_per_class": 0.5})
    folded = fold_contributions(contrib, ["NumberOfInstances", "NumberOfClasses", "ClassEntropy"])
    assert folded.to_dict() == {"NumberOfInstances": 1.25, "NumberOfClasses": 0.25, "ClassEntropy": 0.0}


def _work_threshold_data(n, seed):
    """Learner ``costly`` wins unless rows x features is large (there it is cut short and ``cheap`` wins)."""
    rng = np.random.default_rng(seed)
    rows = np.round(10 ** rng.uniform(2, 5, n))
    feats = np.round(10 ** rng.uniform(0.5, 3.5, n))
    X = pd.DataFrame({"NumberOfInstances": rows, "NumberOfFeatures": feats,
                      "NumberOfClasses": rng.integers(2, 6, n).astype(float), "noise": rng.normal(size=n)},
                     index=[f"s{seed}:{i}" for i in range(n)])
    big = np.log10(rows) + np.log10(feats) > 5.0
    Y = pd.DataFrame({"cheap": np.where(big, 0.80, 0.75), "costly": np.where(big, 0.70, 0.80), "mid": 0.74},
                     index=X.index) + 0.003 * rng.normal(size=(n, 3))
    return X, Y, np.where(big, "cheap", "costly")


def test_lightgbm_derived_features_find_a_product_threshold():
    from metarec.metamodels.lightgbm_model import LightGBMMetaModel

    X, Y, _ = _work_threshold_data(80, 0)
    Xt, _, right = _work_threshold_data(200, 100)
    acc = {d: float((LightGBMMetaModel(derived=d).fit(X, Y).predict(Xt).ranking()[1].to_numpy() == right).mean())
           for d in (True, False)}
    assert acc[True] >= 0.95 and acc[True] > acc[False] + 0.03, acc
    contrib = LightGBMMetaModel(derived=True).fit(X, Y).explain(Xt.iloc[0], "costly")
    assert list(contrib.index) == list(X.columns)  # derived columns folded back onto their sources
    assert abs(contrib["NumberOfInstances"]) + abs(contrib["NumberOfFeatures"]) > abs(contrib["noise"])


def test_lightgbm_saved_without_derived_state_loads_as_raw(data, tmp_path):
    from metarec.metamodels.lightgbm_model import LightGBMMetaModel

    X, Y, _, _ = data
    model = LightGBMMetaModel(n_bags=1, derived=False).fit(X, Y)
    model.save(tmp_path / "m")
    doc = json.loads((tmp_path / "m" / "metamodel.json").read_text())
    del doc["params"]["derived"], doc["state"]["derived"]  # as written before derived features existed
    (tmp_path / "m" / "metamodel.json").write_text(json.dumps(doc))
    loaded = MetaModel.load(tmp_path / "m")
    assert loaded.derived is False
    pd.testing.assert_frame_equal(loaded.predict(X).score, model.predict(X).score)


def test_lightgbm_conformal_interval_covers_new_datasets_at_the_nominal_rate():
    """Quantile boosters fitted on 150 datasets under-cover fresh ones; the cross-conformal margin fixes it."""
    from metarec.evaluate import coverage
    from metarec.metamodels.lightgbm_model import LightGBMMetaModel

    raw, cal = [], []
    for seed in (0, 1, 2):
        X, Y, _, _ = make_metamodel_data(n_datasets=300, random_state=seed)
        tr, te = X.index[:150], X.index[150:]
        for calibrate, out in ((False, raw), (True, cal)):
            model = LightGBMMetaModel(n_bags=1, calibrate=calibrate).fit(X.loc[tr], Y.loc[tr])
            pred = model.predict(X.loc[te])
            out.append(coverage(Y.loc[te].to_numpy(), pred.lower.to_numpy(), pred.upper.to_numpy()))
            if calibrate:
                assert model.interval_margin_ > 0  # these quantiles were too narrow out of sample
                assert (pred.lower.to_numpy() <= pred.score.to_numpy()).all()
    assert np.mean(raw) < 0.75 and 0.76 <= np.mean(cal) <= 0.86, (raw, cal)


def test_lightgbm_interval_follows_the_learner_on_a_small_kb():
    """With fewer datasets than LightGBM's min_data_per_group (100), the quantile boosters never split on
    the learner, so every learner of a 15-task KB got the same interval; now each learner's interval
    follows its own scores."""
    from metarec.metamodels.lightgbm_model import LightGBMMetaModel

    rng = np.random.default_rng(0)
    n = 30
    X = pd.DataFrame({"m0": rng.normal(size=n), "m1": rng.normal(size=n)}, index=[f"d{i}" for i in range(n)])
    base = 0.6 + 0.05 * X["m0"].to_numpy()
    # six learners: more than LightGBM's max_cat_to_onehot (4), where min_data_per_group applies
    offsets = {f"l{j}": -0.1 * j for j in range(6)}
    Y = pd.DataFrame({k: base + off + rng.normal(0, 0.01, n) for k, off in offsets.items()}, index=X.index)
    pred = LightGBMMetaModel(n_bags=1, calibrate=False).fit(X, Y).predict(X.iloc[:5])
    mid = ((pred.lower + pred.upper) / 2).mean()
    assert mid["l0"] - mid["l5"] > 0.25, mid


def _knn5(**kw):
    from metarec.metamodels.knn import KNNMetaModel

    return KNNMetaModel(n_neighbors=5, **kw)


def _torch_overfit(**kw):
    from metarec.metamodels.torch_model import TorchMetaModel

    # no dropout, no weight decay, no early stop: quantile heads that fit the training scores too closely
    return TorchMetaModel(n_models=1, max_epochs=60, patience=60, dropout=0.0, weight_decay=0.0, **kw)


@pytest.mark.parametrize("factory, n_train", [
    pytest.param(_knn5, 150, id="knn"),
    pytest.param(_torch_overfit, 100, id="torch",
                 marks=[pytest.mark.slow, pytest.mark.skipif(not HAS_TORCH, reason="torch not installed")]),
])
def test_conformal_interval_of_other_models_covers_new_datasets_at_the_nominal_rate(factory, n_train):
    """The base class's cross-conformal margin: five neighbours' score quantiles, or an MLP's quantile heads
    fitted on 100 datasets, under-cover fresh datasets; calibrated, they cover them at about 80%."""
    from metarec.evaluate import coverage

    raw, cal = [], []
    for seed in (0, 1, 2):
        X, Y, _, _ = make_metamodel_data(n_datasets=300, random_state=seed)
        tr, te = X.index[:n_train], X.index[150:]
        for calibrate, out in ((False, raw), (True, cal)):
            model = factory(calibrate=calibrate).fit(X.loc[tr], Y.loc[tr])
            pred = model.predict(X.loc[te])
            out.append(coverage(Y.loc[te].to_numpy(), pred.lower.to_numpy(), pred.upper.to_numpy()))
            if calibrate:
                assert model.interval_margin_ > 0  # too narrow out of sample
            else:
                assert model.interval_margin_ == 0
    assert np.mean(raw) < 0.75 and 0.76 <= np.mean(cal) <= 0.86, (raw, cal)


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.skipif(n == "torch" and not HAS_TORCH,
                                                                           reason="torch not installed"))
                                  for n in ["torch", "svm", "knn", "single-best"]])
def test_calibration_moves_only_the_interval(data, name):
    """Scores, preferences (so rankings) are those of the uncalibrated model; the interval is the model's own
    one widened by the margin (then made to hold the score), and the margin comes from refits on folds."""
    X, Y, _, _ = data
    raw = _fast(name)().set_params(calibrate=False).fit(X, Y)
    cal = _fast(name)().fit(X, Y)
    assert cal.calibrate is True and raw.interval_margin_ == 0.0 and cal.interval_margin_ != 0.0
    p, q = raw.predict(X), cal.predict(X)
    pd.testing.assert_frame_equal(p.score, q.score)
    pd.testing.assert_frame_equal(p.preference, q.preference)
    own = raw._predict(raw._validate_X(X))
    m = cal.interval_margin_
    np.testing.assert_allclose(q.lower.to_numpy(), np.minimum(np.asarray(own["lower"]) - m, q.score.to_numpy()))
    np.testing.assert_allclose(q.upper.to_numpy(), np.maximum(np.asarray(own["upper"]) + m, q.score.to_numpy()))
    # too few datasets for 5 folds of at least 2: no margin rather than a noisy one
    assert _fast(name)().fit(X.iloc[:9], Y.iloc[:9]).interval_margin_ == 0.0


def test_cross_conformal_margin_sees_only_the_training_datasets(data, monkeypatch):
    """Each refit holds out one fold of the datasets given to fit, every dataset exactly once."""
    from metarec.metamodels.knn import KNNMetaModel

    X, Y, _, _ = data
    seen = []
    real = KNNMetaModel._fit

    def spy(self, X, Y, observed=None):
        seen.append(list(X.index))
        return real(self, X, Y, observed=observed)

    monkeypatch.setattr(KNNMetaModel, "_fit", spy)
    model = KNNMetaModel().fit(X.iloc[:50], Y.iloc[:50])
    assert seen[0] == list(X.index[:50]) and len(seen) == 1 + model.conformal_folds
    held = [set(X.index[:50]) - set(s) for s in seen[1:]]
    assert sorted(d for h in held for d in h) == sorted(X.index[:50])  # a partition of the training datasets
    assert all(set(s) <= set(X.index[:50]) for s in seen)


def test_calibrated_margin_survives_save_and_load(data, tmp_path):
    from metarec.metamodels.knn import KNNMetaModel

    X, Y, times, sizes = data
    model = KNNMetaModel().fit(X, Y, fit_times=times, train_sizes=sizes)
    model.save(tmp_path / "m")
    doc = json.loads((tmp_path / "m" / "metamodel.json").read_text())
    assert doc["interval_margin"] == model.interval_margin_ > 0 and doc["params"]["calibrate"] is True
    loaded = MetaModel.load(tmp_path / "m")
    assert loaded.interval_margin_ == model.interval_margin_
    for attr in ("score", "lower", "upper"):
        pd.testing.assert_frame_equal(getattr(loaded.predict(X), attr), getattr(model.predict(X), attr))


def test_model_saved_before_calibration_loads_uncalibrated(data, tmp_path):
    """A save without the margin (and without the calibrate parameter) predicts what it did: margin 0."""
    from metarec.metamodels.knn import KNNMetaModel

    X, Y, _, _ = data
    old = KNNMetaModel(calibrate=False).fit(X, Y)
    KNNMetaModel().fit(X, Y).save(tmp_path / "m")
    doc = json.loads((tmp_path / "m" / "metamodel.json").read_text())
    del doc["interval_margin"], doc["params"]["calibrate"]  # as written before calibration existed
    (tmp_path / "m" / "metamodel.json").write_text(json.dumps(doc))
    loaded = MetaModel.load(tmp_path / "m")
    assert loaded.interval_margin_ == 0.0
    for attr in ("score", "lower", "upper"):
        pd.testing.assert_frame_equal(getattr(loaded.predict(X), attr), getattr(old.predict(X), attr))
    doc["interval_margin"] = "wide"
    (tmp_path / "m" / "metamodel.json").write_text(json.dumps(doc))
    with pytest.raises(MetarecError, match="interval_margin must be a number"):
        MetaModel.load(tmp_path / "m")


# -- persistence ---------------------------------------------------------------------------------------------
def test_lightgbm_saves_text_models_and_json(data, tmp_path):
    from metarec.metamodels.lightgbm_model import LightGBMMetaModel

    X, Y, times, sizes = data
    model = LightGBMMetaModel(n_estimators=30).fit(X, Y, fit_times=times, train_sizes=sizes)
    model.save(tmp_path / "m")
    files = sorted(p.name for p in (tmp_path / "m").iterdir())
    assert "metamodel.json" in files and all(f.endswith((".txt", ".json")) for f in files)
    assert (tmp_path / "m" / "bag0_mu_000.txt").read_text().startswith("tree")
    assert sum(f.startswith("bag2_") for f in files) > 0 and "best.txt" in files
    doc = json.loads((tmp_path / "m" / "metamodel.json").read_text())
    assert doc["name"] == "lightgbm" and doc["learners"] == list(Y.columns)
    loaded = MetaModel.load(tmp_path / "m")
    pd.testing.assert_frame_equal(loaded.predict(X).score, model.predict(X).score)
    assert doc["state"]["interval_margin"] == model.interval_margin_ != 0
    pd.testing.assert_frame_equal(loaded.predict(X).lower, model.predict(X).lower)


@pytest.mark.skipif(not HAS_TORCH, reason="torch not installed")
def test_torch_state_dict_loads_with_weights_only(data, tmp_path, monkeypatch):
    import torch

    from metarec.metamodels.torch_model import TorchMetaModel

    X, Y, _, _ = data
    model = TorchMetaModel(n_models=1, max_epochs=30).fit(X, Y)
    model.save(tmp_path / "t")
    assert (tmp_path / "t" / "torch_state.pt").exists()
    seen = {}
    real = torch.load

    def spy(*args, **kwargs):
        seen.update(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(torch, "load", spy)
    loaded = TorchMetaModel.load(tmp_path / "t")
    assert seen.get("weights_only") is True
    np.testing.assert_array_equal(loaded.predict(X).score.to_numpy(), model.predict(X).score.to_numpy())


def test_torch_missing_names_the_extra(data, monkeypatch):
    from metarec.metamodels.torch_model import TorchMetaModel

    X, Y, _, _ = data
    monkeypatch.setitem(sys.modules, "torch", None)  # import torch now fails
    with pytest.raises(MissingDependencyError, match=r"pip install 'metarec\[torch\]'"):
        TorchMetaModel().fit(X, Y)


def test_load_errors_are_clear(tmp_path, data):
    from metarec.metamodels.knn import KNNMetaModel

    with pytest.raises(MetarecError, match="no saved meta-model"):
        MetaModel.load(tmp_path)
    (tmp_path / "metamodel.json").write_text("{not json")
    with pytest.raises(MetarecError, match="unreadable"):
        MetaModel.load(tmp_path)
    (tmp_path / "metamodel.json").write_text(json.dumps({"format": "metarec-metamodel", "class": "os:system"}))
    with pytest.raises(MetarecError, match="not a metarec meta-model class"):
        MetaModel.load(tmp_path)
    (tmp_path / "metamodel.json").write_text(json.dumps({"format": "metarec-metamodel", "class": "antigravity:X"}))
    with pytest.raises(MetarecError, match="not from metarec or an installed plugin"):
        MetaModel.load(tmp_path)  # a saved model never makes metarec import an arbitrary module
    assert "antigravity" not in sys.modules
    X, Y, _, _ = data
    KNNMetaModel().fit(X, Y).save(tmp_path / "knn")
    from metarec.metamodels.svm import SVMMetaModel

    with pytest.raises(MetarecError, match="not a SVMMetaModel"):
        SVMMetaModel.load(tmp_path / "knn")


# -- the cache of fitted models -----------------------------------------------------------------------------
def small_kb() -> KnowledgeBase:
    X, Y, times, sizes = make_metamodel_data(n_datasets=20, random_state=5)
    ids = [f"openml:{i}" for i in range(len(X))]
    ds = pd.DataFrame({"dataset_id": ids, "name": ids, "source": "lcdb", "task_type": "classification",
                       "openml_id": np.nan, "n_rows": X["NumberOfInstances"].to_numpy(), "n_features": 1.0,
                       "n_classes": 2.0})
    ds = pd.concat([ds, X.reset_index(drop=True)], axis=1)
    long = Y.set_axis(ids).stack().rename("score").reset_index()
    long.columns = ["dataset_id", "learner", "score"]
    long["fit_time"] = times.set_axis(ids).stack().to_numpy()
    long["train_size"] = sizes.set_axis(ids).stack().to_numpy()
    runs = long.assign(source="lcdb", config_id="x", config="{}", metric="accuracy", score_std=0.0,
                       valid_score=np.nan, valid_score_std=np.nan, n_repeats=25.0, trial=np.nan,
                       status="ok")[list(RUN_COLUMNS)]
    kb = KnowledgeBase(ds[list(DATASET_COLUMNS) + list(X.columns)], runs, new_manifest())
    kb.validate()
    return kb


def test_fit_metamodel_caches_by_checksum_and_rebuilds_corrupt_entries(tmp_path, monkeypatch, caplog):
    from metarec.metamodels import fit_metamodel
    from metarec.metamodels.knn import KNNMetaModel

    monkeypatch.setenv("METAREC_CACHE_DIR", str(tmp_path / "cache"))
    kb = small_kb().save(tmp_path / "kb")
    from metarec.kb import load_kb

    kb = load_kb(tmp_path / "kb")
    first = fit_metamodel(kb, name="knn")
    entries = list((tmp_path / "cache").rglob("metamodel.json"))
    assert len(entries) == 1 and kb.checksum in str(entries[0])
    calls = []
    monkeypatch.setattr(KNNMetaModel, "fit", lambda self, *a, **k: calls.append(1) or self)
    again = fit_metamodel(kb, name="knn")  # from the cache: no refit
    assert calls == [] and type(again) is KNNMetaModel
    x = kb.datasets[kb.metafeature_names].iloc[:3]
    pd.testing.assert_frame_equal(again.predict(x).score, first.predict(x).score)
    monkeypatch.undo()
    monkeypatch.setenv("METAREC_CACHE_DIR", str(tmp_path / "cache"))
    entries[0].write_text("garbage")
    with caplog.at_level(logging.WARNING):
        rebuilt = fit_metamodel(kb, name="knn")
    assert "refitting" in caplog.text
    assert json.loads(entries[0].read_text())["name"] == "knn"
    pd.testing.assert_frame_equal(rebuilt.predict(x).score, first.predict(x).score)
    # other defaults of the registered meta-model: a new cache entry, not the stale one
    from metarec.metamodels import cache as cache_mod

    monkeypatch.setattr(cache_mod, "_params_hash", lambda model: "otherdefaults")
    fit_metamodel(kb, name="knn")
    assert len(list((tmp_path / "cache").rglob("metamodel.json"))) == 2
    monkeypatch.undo()
    monkeypatch.setenv("METAREC_CACHE_DIR", str(tmp_path / "cache"))
    # changed fitting code (an upgrade edits the model's module or the base class): a new entry too
    from metarec.metamodels.knn import KNNMetaModel as K

    assert cache_mod._code_digest(K()) == cache_mod._code_digest(K())  # stable between calls
    monkeypatch.setattr(cache_mod, "_code_digest", lambda model: "edited source")
    fit_metamodel(kb, name="knn")
    assert len(list((tmp_path / "cache").rglob("metamodel.json"))) == 3


# -- the performance table -------------------------------------------------------------------------------------
def _runs(rows):
    base = dict(source="lcdb", config_id="x", config="{}", metric="accuracy", score_std=0.0, valid_score=np.nan,
                valid_score_std=np.nan, fit_time=1.0, n_repeats=1.0, trial=np.nan, status="ok", train_size=100.0)
    return pd.DataFrame([{**base, **r} for r in rows])[list(RUN_COLUMNS)]


def _kb(runs, ids=("a", "b", "c")):
    ds = pd.DataFrame({"dataset_id": list(ids), "name": list(ids), "source": "x", "task_type": "classification",
                       "openml_id": np.nan, "n_rows": 1.0, "n_features": 1.0, "n_classes": 2.0, "q": [1.0, 2.0, 3.0]})
    return KnowledgeBase(ds, runs, new_manifest())


def test_performance_table_definitions():
    runs = _runs([
        {"dataset_id": "a", "learner": "x", "train_size": 50.0, "score": 0.9, "fit_time": 0.1},
        {"dataset_id": "a", "learner": "x", "train_size": 100.0, "score": 0.7, "fit_time": 0.2},
        {"dataset_id": "a", "learner": "y", "train_size": 80.0, "score": 0.8},
        {"dataset_id": "b", "learner": "y", "score": 0.6},
        {"dataset_id": "a", "learner": "x", "metric": "logloss", "score": 0.3},
        # kb build: the default configuration (trial 0) counts, not the best trial
        {"dataset_id": "b", "learner": "h", "source": "hpo", "trial": 0.0, "config_id": "c0", "score": 0.5},
        {"dataset_id": "b", "learner": "h", "source": "hpo", "trial": 1.0, "config_id": "c1", "score": 0.7,
         "fit_time": 3.0},
        {"dataset_id": "b", "learner": "h", "source": "hpo", "trial": 2.0, "config_id": "c2", "score": 0.99,
         "status": "failed"},
    ])
    pt = performance_table(_kb(runs))
    assert list(pt.scores.index) == ["a", "b"]  # c has no runs
    assert pt.scores.loc["a", "x"] == 0.7 and pt.fit_times.loc["a", "x"] == 0.2  # largest size, not best
    assert pt.train_sizes.loc["a", "y"] == 80.0
    assert pt.scores.loc["b", "h"] == 0.5 and pt.fit_times.loc["b", "h"] == 1.0  # trial 0, not the best (0.7)
    assert np.isnan(pt.scores.loc["b", "x"])
    assert pt.evidence.to_dict() == {"h": 1, "x": 1, "y": 2}
    assert list(pt.metafeatures.columns) == ["q"] and list(pt.metafeatures.index) == ["a", "b"]
    assert performance_table(_kb(runs), source="lcdb").scores.columns.tolist() == ["x", "y"]
    assert performance_table(_kb(runs), metric="logloss").scores.loc["a", "x"] == -0.3  # lower is better
    with pytest.raises(KnowledgeBaseError, match="no 'auc' runs"):
        performance_table(_kb(runs), metric="auc")
    with pytest.raises(KnowledgeBaseError, match="unknown metric"):
        performance_table(_kb(runs), metric="nope")


def test_performance_table_observed_tells_not_run_from_failed():
    runs = _runs([
        # LCDB is a full grid: y has no point on b, so y failed there
        {"dataset_id": "a", "learner": "x", "score": 0.9},
        {"dataset_id": "a", "learner": "y", "score": 0.8},
        {"dataset_id": "b", "learner": "x", "score": 0.6},
        # HPO: a plugin learner run on b only, and one whose only trial on c failed
        {"dataset_id": "b", "learner": "xgb", "source": "hpo", "trial": 0.0, "score": 0.7},
        {"dataset_id": "c", "learner": "h", "source": "hpo", "trial": 0.0, "score": 0.5},
        {"dataset_id": "c", "learner": "f", "source": "hpo", "trial": 0.0, "score": np.nan, "status": "failed"},
        {"dataset_id": "a", "learner": "f", "source": "hpo", "trial": 0.0, "score": 0.4},
    ])
    pt = performance_table(_kb(runs))
    obs = pt.observed
    assert obs.loc["b", "y"] and np.isnan(pt.scores.loc["b", "y"])  # failed in the LCDB grid
    assert obs.loc["b", "xgb"] and not obs.loc["a", "xgb"] and not obs.loc["c", "xgb"]  # not run
    assert not obs.loc["c", "x"]  # c is not an LCDB dataset
    assert obs.loc["c", "f"] and np.isnan(pt.scores.loc["c", "f"])  # ran and failed
    assert pt.subset(["a", "b"]).observed.shape == (2, obs.shape[1])


def test_cached_performance_table_is_the_computed_one(tmp_path, monkeypatch, caplog):
    from metarec.kb.format import KnowledgeBase as KB
    from metarec.kb.performance import _cache_path

    monkeypatch.setenv("METAREC_CACHE_DIR", str(tmp_path / "cache"))
    runs = _runs([
        {"dataset_id": "a", "learner": "x", "score": 0.9},
        {"dataset_id": "b", "learner": "x", "score": 0.6, "fit_time": 2.0},
        {"dataset_id": "b", "learner": "y", "score": 0.5},
        {"dataset_id": "c", "learner": "h", "source": "hpo", "trial": 0.0, "score": 0.4},
    ])
    assert _cache_path(_kb(runs), "accuracy", "classification", None) is None  # in memory: never cached
    kb = KB.load(_kb(runs).save(tmp_path / "kb"))
    want = performance_table(kb)
    for _ in range(2):  # the first call writes the entry, the second reads it
        got = performance_table(kb, cache=True)
        for f in ("scores", "fit_times", "train_sizes", "observed", "metafeatures"):
            pd.testing.assert_frame_equal(getattr(got, f), getattr(want, f), check_exact=True)
        pd.testing.assert_series_equal(got.evidence, want.evidence)
    entry = _cache_path(kb, "accuracy", "classification", None)
    assert entry.is_file() and not _cache_path(kb, "accuracy", "classification", "lcdb").exists()
    entry.write_bytes(entry.read_bytes()[:100])  # truncated: rebuilt
    with caplog.at_level(logging.WARNING):
        pd.testing.assert_frame_equal(performance_table(kb, cache=True).scores, want.scores)
    assert "unreadable" in caplog.text and entry.stat().st_size > 100


def test_partial_coverage_check_catches_a_model_that_ignores_observed():
    from metarec.metamodels._conformance import check_partial_coverage
    from metarec.metamodels.single_best import SingleBestMetaModel

    class Legacy(SingleBestMetaModel):
        def _fit(self, X, Y):  # no `observed`: "not run" counts as failed
            super()._fit(X, Y)

    with pytest.raises(AssertionError, match="partial coverage.*must not count as failed"):
        check_partial_coverage(Legacy)
    check_partial_coverage(SingleBestMetaModel)


def test_best_configs_round_robin_over_the_nearest_datasets():
    def trial(d, t, cfg, score, status="ok"):
        return {"dataset_id": d, "learner": "h", "source": "hpo", "trial": float(t), "config": json.dumps(cfg),
                "config_id": json.dumps(cfg), "score": score, "status": status}

    runs = _runs([
        trial("a", 0, {"k": 1}, 0.6), trial("a", 1, {"k": 2}, 0.9), trial("a", 2, {"k": 3}, 0.8),
        trial("b", 0, {"k": 4}, 0.5), trial("b", 1, {"k": 2}, 0.55), trial("b", 2, {"k": 9}, 0.99, "failed"),
    ])
    kb = _kb(runs)
    # a's best, b's best, a's second, ...; {"k": 2} is best on both and kept once
    assert best_configs(kb, ["a", "b"], "h", k=3) == [{"k": 2}, {"k": 3}, {"k": 4}]
    assert best_configs(kb, ["b", "a"], "h", k=2) == [{"k": 2}, {"k": 4}]
    assert best_configs(kb, ["c"], "h") == [] and best_configs(kb, ["a"], "other") == []


def _hpo_trial(d, t, cfg, score, status="ok"):
    return {"dataset_id": d, "learner": "h", "source": "hpo", "trial": float(t), "config": json.dumps(cfg),
            "config_id": json.dumps(cfg), "score": score, "status": status}


def test_portfolio_puts_the_config_good_everywhere_first():
    # {"k": 1} wins on the nearest task only and is the worst elsewhere; {"k": 5} is second everywhere
    runs = _runs([
        _hpo_trial("a", 0, {"k": 1}, 0.95), _hpo_trial("a", 1, {"k": 5}, 0.90), _hpo_trial("a", 2, {"k": 9}, 0.50),
        _hpo_trial("b", 0, {"k": 1}, 0.40), _hpo_trial("b", 1, {"k": 5}, 0.85), _hpo_trial("b", 2, {"k": 9}, 0.80),
        _hpo_trial("c", 0, {"k": 1}, 0.30), _hpo_trial("c", 1, {"k": 5}, 0.75), _hpo_trial("c", 2, {"k": 9}, 0.70),
        _hpo_trial("c", 3, {"k": 7}, 0.99, "failed"),
    ])
    kb = _kb(runs)
    assert best_configs(kb, ["a", "b", "c"], "h", k=1) == [{"k": 1}]  # the single nearest task's best
    # normalised (1 = the task's best, 0 = its median, clipped at -1) on a, b, c:
    # k=1: 1, -1, -1 (mean -1/3); k=5: 0, 1, 1 (2/3); k=9: -1, 0, 0 (-1/3)
    # greedy: k=5 first; then k=1 raises task a from 0 to 1; k=9 adds nothing but is the only one left
    assert portfolio_configs(kb, ["a", "b", "c"], "h", k=3) == [{"k": 5}, {"k": 1}, {"k": 9}]
    assert {"k": 7} not in portfolio_configs(kb, ["c"], "h", k=5)  # failed trials are never suggested
    assert portfolio_configs(kb, ["a"], "h", k=1) == [{"k": 1}]  # one task: its best
    assert portfolio_configs(kb, ["zz", "b"], "h", k=1) == [{"k": 5}]  # untuned tasks are skipped
    assert portfolio_configs(kb, ["a", "b", "c"], "h", k=1, n_tasks=1) == [{"k": 1}]  # only the nearest
    assert portfolio_configs(kb, ["zz"], "h") == [] and portfolio_configs(kb, ["a"], "other") == []
    assert portfolio_configs(kb, ["a", "b", "c"], "h", k=0) == []
    with pytest.raises(Exception, match="unknown metric"):
        portfolio_configs(kb, ["a"], "h", metric="nope")


def test_portfolio_predicts_untried_configs_from_nearby_trials():
    # on task b the robust config {"lr": 0.1} was not tried, but 0.11 was and did best: the kernel carries it
    runs = _runs([
        _hpo_trial("a", 0, {"lr": 0.1, "loss": "x"}, 0.9), _hpo_trial("a", 1, {"lr": 0.9, "loss": "x"}, 0.95),
        _hpo_trial("a", 2, {"lr": 0.001, "loss": "y"}, 0.5),
        _hpo_trial("b", 0, {"lr": 0.11, "loss": "x"}, 0.9), _hpo_trial("b", 1, {"lr": 0.9, "loss": "x"}, 0.2),
        _hpo_trial("b", 2, {"lr": 0.002, "loss": "y"}, 0.6),
    ])
    kb = _kb(runs)
    assert portfolio_configs(kb, ["a", "b"], "h", k=1)[0]["lr"] in (0.1, 0.11)
    assert best_configs(kb, ["a", "b"], "h", k=1) == [{"lr": 0.9, "loss": "x"}]


def test_r2_below_its_floor_counts_as_the_floor():
    runs = _runs([
        {"dataset_id": "a", "learner": "x", "metric": "r2", "source": "hpo", "trial": 0.0, "score": 0.5},
        {"dataset_id": "a", "learner": "y", "metric": "r2", "source": "hpo", "trial": 0.0, "score": -9.7e47},
        {"dataset_id": "b", "learner": "x", "metric": "r2", "source": "hpo", "trial": 0.0, "score": -3.0},
    ])
    kb = _kb(runs)
    kb = KnowledgeBase(kb.datasets.assign(task_type="regression"), kb.runs, kb.manifest)
    pt = performance_table(kb, metric="r2", task_type="regression", cache=False)
    assert pt.scores.loc["a", "y"] == -1.0 and pt.scores.loc["b", "x"] == -1.0 and pt.scores.loc["a", "x"] == 0.5


def test_a_default_two_builds_ran_counts_on_the_most_rows():
    # the everyday part ran h's default on 2,000 rows, a later portfolio build on 1,000: the larger one counts
    runs = _runs([
        {"dataset_id": "a", "learner": "h", "source": "hpo", "trial": 0.0, "config_id": "c0", "score": 0.6,
         "train_size": 667.0},
        {"dataset_id": "a", "learner": "h", "source": "hpo", "trial": 0.0, "config_id": "c0", "score": 0.8,
         "train_size": 1333.0},
        {"dataset_id": "a", "learner": "h", "source": "hpo", "trial": 1.0, "config_id": "c1", "score": 0.9,
         "train_size": 667.0},
    ])
    assert performance_table(_kb(runs)).scores.loc["a", "h"] == 0.8


def _landmarked(n, seed):
    """Datasets whose learners score near their learning-curve landmarkers: ``a`` and ``b`` near their own,
    ``c`` (no landmarker of its own) 0.03 below ``b``'s; the landmarkers span 0.5 - 0.95."""
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({"sub_a_accuracy": rng.uniform(0.5, 0.95, n), "sub_b_accuracy": rng.uniform(0.5, 0.95, n),
                      "m0": rng.normal(size=n)}, index=[f"d{seed}_{i}" for i in range(n)])
    Y = pd.DataFrame({"a": X["sub_a_accuracy"] + rng.normal(0, 0.01, n),
                      "b": X["sub_b_accuracy"] + rng.normal(0, 0.01, n),
                      "c": X["sub_b_accuracy"] - 0.03 + rng.normal(0, 0.01, n)}, index=X.index)
    return X, Y


def test_lightgbm_anchored_interval_follows_the_landmarkers(tmp_path):
    """Scores that track a landmarker get intervals around it: a learner without a landmarker of its own
    borrows the one its scores differ from least; unanchored quantile trees only approximate the tracking."""
    from metarec.evaluate import coverage
    from metarec.evaluate.scores import interval_width
    from metarec.metamodels.lightgbm_model import LightGBMMetaModel

    X, Y = _landmarked(200, 0)
    Xn, Yn = _landmarked(100, 1)
    out = {}
    for anchored in (True, False):
        model = LightGBMMetaModel(n_bags=1, anchored=anchored).fit(X, Y)
        pred = model.predict(Xn)
        assert (pred.lower.to_numpy() <= pred.score.to_numpy()).all()
        assert (pred.score.to_numpy() <= pred.upper.to_numpy()).all()
        out[anchored] = (coverage(Yn.to_numpy(), pred.lower.to_numpy(), pred.upper.to_numpy()),
                         interval_width(pred.lower.to_numpy(), pred.upper.to_numpy()), model, pred)
    model = out[True][2]
    assert [model.feature_names_[c] for c in model.anchor_columns_] == ["sub_a_accuracy", "sub_b_accuracy",
                                                                        "sub_b_accuracy"]
    assert out[True][0] >= 0.7 and out[True][1] < 0.6 * out[False][1], out
    # the best score too: the best landmarker plus a learnt offset
    best = Yn.max(axis=1).to_numpy()
    assert np.abs(out[True][3].score.max(axis=1).to_numpy() - best).mean() < 0.02
    model.save(tmp_path / "m")
    loaded = MetaModel.load(tmp_path / "m")
    assert loaded.anchored and loaded.anchor_columns_ == model.anchor_columns_
    pd.testing.assert_frame_equal(loaded.predict(Xn).lower, out[True][3].lower)


def test_lightgbm_saved_before_anchoring_loads_unanchored(tmp_path):
    from metarec.metamodels.lightgbm_model import LightGBMMetaModel

    X, Y = _landmarked(60, 0)
    model = LightGBMMetaModel(n_bags=1, anchored=False).fit(X, Y)
    model.save(tmp_path / "m")
    doc = json.loads((tmp_path / "m" / "metamodel.json").read_text())
    del doc["params"]["anchored"], doc["state"]["anchored"], doc["state"]["anchor_columns"]  # an older file
    (tmp_path / "m" / "metamodel.json").write_text(json.dumps(doc))
    loaded = MetaModel.load(tmp_path / "m")
    assert loaded.anchored is False
    pd.testing.assert_frame_equal(loaded.predict(X).upper, model.predict(X).upper)
