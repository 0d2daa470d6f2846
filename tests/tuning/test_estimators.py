"""AutoClassifier / AutoRegressor and the model `tune --out` saves: scikit-learn's conventions (X and y,
parameter errors as ValueError, classes in the labels' own order) and raw data typed as loading typed it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import metarec
from metarec.exceptions import MetarecError
from metarec.tuning import save_model

from ..helpers import run_cli
from .frames import _clf

pytestmark = pytest.mark.usefixtures("tune_env")


def test_auto_estimator_names_its_own_parameters_in_errors():
    with pytest.raises(MetarecError, match="time_budget must be a positive number"):
        metarec.AutoClassifier(time_budget=-5).fit(_clf(0)[["a", "b", "c"]], _clf(0)["y"])
    with pytest.raises(MetarecError, match="random_state must be an integer"):
        metarec.AutoClassifier(random_state=-1, n_trials=2).fit(_clf(0)[["a", "b", "c"]], _clf(0)["y"])


@pytest.mark.parametrize("labels", [(1, 2, 10), ("1", "2", "U"), ("b", "a", "c"), (False, True)])
def test_probability_columns_follow_classes_in_the_labels_own_order(labels, tmp_path):
    """Integer labels 1, 2, 10 used to be ordered as text ('1', '10', '2') inside the fitted pipeline, so
    the columns of predict_proba did not match classes_ (argmax agreed with predict on a third of rows)."""
    import joblib

    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(150, 3)), columns=list("abc"))
    y = np.asarray(labels, dtype=object if isinstance(labels[0], str) else None)[
        np.digitize(X["a"], np.quantile(X["a"], np.linspace(0, 1, len(labels) + 1)[1:-1]))]
    clf = metarec.AutoClassifier(time_budget=None, n_trials=2, learners=["decision_tree"]).fit(X, y)
    assert list(clf.classes_) == sorted(labels) and list(clf.best_pipeline_.classes_) == sorted(labels)
    proba = clf.predict_proba(X)
    assert (clf.classes_[proba.argmax(axis=1)] == clf.predict(X)).all()
    # the model `tune --out` saves: same classes, predictions of the labels' own type
    r = metarec.tune(X.assign(y=y), target="y", learners="decision_tree", n_trials=2)
    save_model(r, tmp_path / "m.joblib")
    m = joblib.load(tmp_path / "m.joblib")
    assert list(m.classes_) == sorted(labels)
    assert (m.classes_[m.predict_proba(X).argmax(axis=1)] == m.predict(X)).all()
    assert set(np.asarray(m.predict(X)).tolist()) <= set(labels)
    assert "LabelEncodedClassifier(pipeline=" in repr(m)


# -- the saved / fitted model types raw data as loading did ----------------------------------------------------
def _dated(n: int = 80, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    a = rng.normal(size=n)
    return pd.DataFrame({
        "a": a,
        "when": pd.date_range("2021-01-01", periods=n, freq="D").astype(str),
        "price": (rng.normal(size=n) * 100).round(2).astype(str),
        "cat": rng.choice(["u", "v"], size=n),
        "y": np.where(a > 0, "pos", "neg"),
    })


def test_the_saved_model_predicts_on_the_raw_csv(tmp_path):
    import json

    import joblib

    data = _dated()
    data.to_csv(tmp_path / "dates.csv", index=False)
    code, out, err = run_cli(["tune", str(tmp_path / "dates.csv"), "--target", "y", "--trials", "2", "--cv", "3",
                              "--learners", "decision_tree", "--storage", "sqlite:///t.db",
                              "--out", str(tmp_path / "model.joblib")])
    assert code == 0, err
    model = joblib.load(tmp_path / "model.joblib")
    raw = pd.read_csv(tmp_path / "dates.csv").drop(columns="y")
    pred = model.predict(raw)
    assert set(pred) <= {"pos", "neg"} and (pred == data["y"]).mean() > 0.8
    assert (model.predict(raw.to_numpy()) == pred).all()  # a numpy array takes the recorded column names
    assert (model.predict(raw[["cat", "price", "when", "a"]]) == pred).all()  # columns by name
    assert model.predict_proba(raw).shape == (len(raw), 2)
    with pytest.raises(ValueError, match=r"column 'when': value 'soon' is not an ISO date"):
        model.predict(raw.assign(when="soon"))
    meta = json.loads((tmp_path / "model.joblib.json").read_text())
    assert meta["input_columns"] == {"a": "number", "when": "date", "price": "number", "cat": "category"}
    assert meta["learner"] == "decision_tree" and meta["classes"] == ["neg", "pos"]


@pytest.mark.slow
@pytest.mark.parametrize("dates", ["text", "datetime64"])
def test_auto_estimators_predict_on_the_frame_they_were_fitted_on(dates):
    data = _dated()
    X, y = data.drop(columns="y"), data["y"].to_numpy()
    if dates == "datetime64":
        X = X.assign(when=pd.to_datetime(X["when"]))
    clf = metarec.AutoClassifier(time_budget=None, n_trials=2, learners=["decision_tree"], random_state=0).fit(X, y)
    assert (clf.predict(X) == y).mean() > 0.8
    assert clf.predict_proba(X.head(3)).shape == (3, 2)
    assert (clf.predict(X.to_numpy()) == clf.predict(X)).all()
    reg = metarec.AutoRegressor(time_budget=None, n_trials=2, learners=["ridge_regressor"], random_state=0)
    target = X["a"].to_numpy() * 2 + 1
    assert reg.fit(X, target).score(X, target) > 0.9


def test_parameter_errors_are_value_errors_as_in_scikit_learn():
    from metarec.exceptions import ParameterError

    assert issubclass(ParameterError, ValueError) and issubclass(ParameterError, MetarecError)
    with pytest.raises(ValueError, match="time_budget must be a positive number"):
        metarec.AutoClassifier(time_budget=0).fit(_clf(0)[["a", "b", "c"]], _clf(0)["y"])
    with pytest.raises(ValueError, match="metric 'r2' does not apply to classification"):
        metarec.AutoClassifier(metric="r2", n_trials=2).fit(_clf(0)[["a", "b", "c"]], _clf(0)["y"])
    with pytest.raises(ValueError, match="top_k must be a positive integer"):
        metarec.recommend(_clf(0), target="y", top_k=0)


def test_auto_classifier_names_missing_labels_and_a_single_class_plainly():
    X = _clf(0)[["a", "b", "c"]]
    y = _clf(0)["y"].astype(object)
    y.iloc[3] = np.nan
    with pytest.raises(ValueError, match=r"y has 1 missing label\(s\); drop those rows"):
        metarec.AutoClassifier(n_trials=2).fit(X, y)
    with pytest.raises(ValueError, match=r"only one class \('a'\)"):
        metarec.AutoClassifier(n_trials=2).fit(X, np.array(["a"] * len(X)))


def test_tune_and_auto_estimators_take_x_and_y_as_in_scikit_learn():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 3))
    y = np.where(X[:, 0] > 0, "p", "n")
    res = metarec.tune(X, y, learners="decision_tree", n_trials=2, warm_start=0, storage=None, cv=2)  # (X, y)
    assert res.summary()["n_complete"] == 2
    frame = pd.DataFrame(X, columns=["target", "b", "c"])  # a feature called "target"
    est = metarec.AutoClassifier(learners=["decision_tree"], n_trials=2, warm_start=0, time_budget=None, cv=2)
    est.fit(frame, y)
    assert list(est.feature_names_in_) == ["target", "b", "c"] and set(est.predict(frame)) <= {"p", "n"}


@pytest.mark.parametrize("learners,message", [
    (["ridge_regressor"], "learner 'ridge_regressor' does not do classification"),
    (["random_forrest"], "unknown learner 'random_forrest'; did you mean random_forest"),
    ([], "no learner given"),
])
def test_learners_the_data_cannot_use_are_value_errors_as_in_scikit_learn(learners, message):
    X = np.random.default_rng(0).normal(size=(40, 2))
    y = np.where(X[:, 0] > 0, "a", "b")
    with pytest.raises(ValueError, match=message) as info:
        metarec.AutoClassifier(learners=learners, n_trials=1, warm_start=0, time_budget=None).fit(X, y)
    assert isinstance(info.value, MetarecError)  # the CLI's one-line "Error: ..." still applies


@pytest.mark.parametrize("learner", ["svc_rbf", "ridge"])
def test_every_tuned_classifier_has_predict_proba_even_when_its_estimator_has_none(learner, tmp_path):
    """An SVC or a ridge classifier wins: the saved model and AutoClassifier still give probabilities (a
    sigmoid-calibrated copy), whose columns follow classes_; predict stays the estimator's own."""
    import joblib

    X = _clf(0).drop(columns="y")
    y = _clf(0)["y"]
    r = metarec.tune(X, y, learners=learner, n_trials=2, warm_start=0, cv=2)
    assert not hasattr(r.best_pipeline.pipeline, "predict_proba")
    save_model(r, tmp_path / "m.joblib")
    model = joblib.load(tmp_path / "m.joblib")
    proba = model.predict_proba(X)
    assert proba.shape == (len(X), len(model.classes_)) and np.allclose(proba.sum(axis=1), 1.0)
    assert (model.classes_[proba.argmax(axis=1)] == model.predict(X)).mean() > 0.9
    assert (model.predict(X) == model.classes_[model.pipeline.predict(X).astype(int)]).all()
    clf = metarec.AutoClassifier(time_budget=None, n_trials=2, learners=[learner], warm_start=0).fit(X, y)
    assert clf.predict_proba(X).shape == (len(X), 2)


def test_a_model_saved_when_the_tuning_code_was_one_module_still_loads(tmp_path):
    """Earlier versions pickled the refit classifier as ``metarec.tune.LabelEncodedClassifier``."""
    import joblib

    from metarec.tuning.refit import LabelEncodedClassifier

    r = metarec.tune(_clf(0), target="y", learners="decision_tree", n_trials=1, warm_start=0, cv=2)
    LabelEncodedClassifier.__module__ = "metarec.tune"  # as the class was named then
    try:
        joblib.dump(r.best_pipeline, tmp_path / "old.joblib")
    finally:
        LabelEncodedClassifier.__module__ = "metarec.tuning.refit"
    model = joblib.load(tmp_path / "old.joblib")
    assert isinstance(model, LabelEncodedClassifier)
    assert (model.predict(_clf(0).drop(columns="y")) == r.best_pipeline.predict(_clf(0).drop(columns="y"))).all()
    assert callable(metarec.tune) and metarec.tune.__module__ == "metarec.tuning.api"  # still the function
