"""tune's safety: a study resumes only for the run it was made for; metrics, warm start, progress, tiny classes.

A synthetic knowledge base (``conftest.py``) keeps the recommendation cheap. Trials are few and data small:
the whole file runs in well under a minute.
"""

from __future__ import annotations

import importlib
import logging
import re
import warnings
from pathlib import Path

import numpy as np
import optuna
import pandas as pd
import pytest

import metarec
from metarec.exceptions import DataError, MetarecError, MetarecWarning
from metarec.metrics import check_metric

from ..helpers import run_cli
from ..synthetic_kb import synthetic_kb
from .frames import _clf, _reg

pytestmark = pytest.mark.usefixtures("tune_env")


def _one_line_error(code, out, err) -> str:
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert code == 2 and "Traceback" not in out + err and len(lines) == 1 and lines[0].startswith("Error: "), err
    return lines[0]


def _trials(storage: str, name: str) -> list:
    return optuna.load_study(study_name=name, storage=storage).get_trials(deepcopy=False)


# -- 1. a study resumes only for the data and settings it was made for ----------------------------------------
@pytest.mark.slow
def test_default_study_name_covers_the_data_and_cv():
    storage = "sqlite:///s.db"
    kw = dict(target="y", learners=["decision_tree"], n_trials=2, warm_start=0, storage=storage)
    a = metarec.tune(_clf(0), cv=3, **kw)
    b = metarec.tune(_clf(1), cv=3, **kw)  # same shape and names, other values: a study of its own
    assert a.study.study_name != b.study.study_name and len(b.study.trials) == 2
    assert b.best_score == max(t.value for t in b.study.trials)
    c = metarec.tune(_clf(0), cv=2, **kw)  # other folds: scores not comparable, so not mixed
    assert c.study.study_name not in (a.study.study_name, b.study.study_name) and len(c.study.trials) == 2
    with pytest.warns(MetarecWarning, match="nothing left to run"):
        again = metarec.tune(_clf(0), cv=3, **kw)  # the same call resumes
    assert again.study.study_name == a.study.study_name and len(again.study.trials) == 2


@pytest.mark.slow
def test_a_named_study_refuses_other_data_or_settings():
    kw = dict(target="y", learners=["decision_tree"], n_trials=2, warm_start=0, storage="sqlite:///s.db",
              study_name="S", cv=3)
    metarec.tune(_clf(0), **kw)
    assert optuna.load_study(study_name="S", storage="sqlite:///s.db").user_attrs["metarec_spec"]["cv"] == 3
    with pytest.raises(MetarecError, match=r"study 'S' in sqlite:///s.db was made for another run \(other data"
                                           r".*pass a new --study-name or another --storage"):
        metarec.tune(_clf(1), **kw)
    with pytest.raises(MetarecError, match="cv folds 3 there, 2 now"):
        metarec.tune(_clf(0), **{**kw, "cv": 2})
    with pytest.raises(MetarecError, match="seed 0 there, 7 now"):
        metarec.tune(_clf(0), random_state=7, **kw)
    assert len(_trials("sqlite:///s.db", "S")) == 2


def test_a_study_of_an_older_version_is_resumed_with_a_warning(caplog):
    storage = "sqlite:///old.db"
    old = optuna.create_study(study_name="old", storage=storage, direction="maximize")
    old.enqueue_trial({"learner": "decision_tree"})
    old.optimize(lambda t: [t.suggest_categorical("learner", ["decision_tree"]), 0.5][1], n_trials=1)
    with pytest.warns(MetarecWarning, match="older metarec"):
        res = metarec.tune(_clf(0), target="y", learners=["decision_tree"], n_trials=2, warm_start=0,
                           storage=storage, study_name="old", cv=2)
    assert len(res.study.trials) == 2
    with pytest.raises(MetarecError, match="learners decision_tree there, knn now"):  # recorded on that resume
        metarec.tune(_clf(0), target="y", learners=["knn"], n_trials=3, warm_start=0, storage=storage,
                     study_name="old", cv=2)
    older = optuna.create_study(study_name="older", storage=storage, direction="maximize")
    older.optimize(lambda t: [t.suggest_categorical("learner", ["decision_tree"]), 0.5][1], n_trials=1)
    with pytest.raises(MetarecError, match="was made for other learners"):  # its trials chose among others
        metarec.tune(_clf(0), target="y", learners=["knn"], n_trials=3, warm_start=0, storage=storage,
                     study_name="older", cv=2)


@pytest.mark.slow
def test_numpy_integers_work_and_warnings_wait_for_the_study_check():
    X = _clf(0)
    res = metarec.tune(X, target="y", learners="knn", n_trials=1, warm_start=0, storage=None,
                       cv=np.int64(2), random_state=np.int64(3))
    assert res.best_learner == "knn"
    assert metarec.recommend(X, target="y", top_k=np.int64(2)).learners
    small = _clf(0, n=30, classes=("p", "q", "r"))
    small.loc[:27, "y"] = np.where(small.loc[:27, "y"] == "r", "p", small.loc[:27, "y"])  # class r: 2 rows
    small.to_csv("t.csv", index=False)
    args = ["tune", "t.csv", "--target", "y", "--learners", "knn", "--trials", "1", "--cv", "3", "--warm-start",
            "0", "--storage", "sqlite:///w2.db", "--study-name", "S"]
    code, out, err = run_cli(args)
    assert code == 0 and "fewer rows than the 3 CV folds" in err, err
    _one_line_error(*run_cli(args[:-4] + ["--metric", "balanced_accuracy"] + args[-4:]))


def test_cli_refuses_to_resume_a_study_made_for_other_data(tmp_path):
    _clf(0).to_csv("a.csv", index=False)
    _clf(1).to_csv("b.csv", index=False)
    args = ["--target", "y", "--learners", "decision_tree", "--trials", "2", "--cv", "2", "--warm-start", "0",
            "--storage", "sqlite:///s.db", "--study-name", "S"]
    code, out, err = run_cli(["tune", "a.csv"] + args)
    assert code == 0, err
    line = _one_line_error(*run_cli(["tune", "b.csv"] + args + ["--out", "m.joblib"]))
    assert "was made for another run (other data" in line and "pass a new --study-name" in line
    assert not Path("m.joblib").exists() and len(_trials("sqlite:///s.db", "S")) == 2


# -- 2. another task or other learners in a named study: the same refusal, before any trial or file ----------
def test_cli_refuses_regression_data_or_other_learners_in_a_study():
    _clf(0).to_csv("clf.csv", index=False)
    _reg().to_csv("reg.csv", index=False)
    common = ["--trials", "2", "--cv", "2", "--warm-start", "0", "--storage", "sqlite:///s.db", "--study-name", "S"]
    code, out, err = run_cli(["tune", "clf.csv", "--target", "y", "--learners", "decision_tree"] + common)
    assert code == 0, err
    line = _one_line_error(*run_cli(["tune", "reg.csv", "--target", "y", "--learners", "ridge_regressor",
                                     "--out", "m.joblib"] + common))
    assert "task classification there, regression now" in line
    line = _one_line_error(*run_cli(["tune", "clf.csv", "--target", "y", "--learners", "knn",
                                     "--out", "m.joblib"] + common[:1] + ["4"] + common[2:]))
    assert "learners decision_tree there, knn now" in line
    assert not Path("m.joblib").exists()
    trials = _trials("sqlite:///s.db", "S")
    assert len(trials) == 2 and {t.params["learner"] for t in trials} == {"decision_tree"}


# -- 3. AUC without predict_proba ------------------------------------------------------------------------------
def test_binary_auc_scores_decision_function_learners():
    res = metarec.tune(_clf(0), target="y", learners="ridge", metric="auc", n_trials=2, warm_start=0, storage=None,
                       cv=2)
    assert res.summary()["n_failed"] == 0 and 0.5 < res.best_score <= 1.0


def test_multiclass_auc_needs_probabilities(recwarn):
    data = _clf(0, n=90, classes=("u", "v", "w"))
    with pytest.raises(MetarecError, match="learner 'ridge' has no predict_proba and metric 'auc' needs predicted "
                                           "probabilities on a 3-class target"):
        metarec.tune(data, target="y", learners="decision_tree,ridge", metric="auc", n_trials=2, storage=None)
    # auto: the recommended learner without probabilities is skipped, with a warning
    res = metarec.tune(data, target="y", metric="auc", n_trials=2, warm_start=1, storage=None, cv=2, top_k=3)
    assert set(res.summary()["trials_per_learner"]) <= {"decision_tree", "knn"} and res.summary()["n_failed"] == 0
    assert any("skipped the recommended learners without predict_proba: ridge" in str(w.message) for w in recwarn)


def test_when_every_trial_fails_the_error_shows_the_first_error(monkeypatch):
    tune_module = importlib.import_module("metarec.tuning.api")  # where tune() finds make_objective

    def failing(*args, **kwargs):
        def objective(trial):
            trial.suggest_categorical("learner", ["decision_tree"])
            trial.set_user_attr("error", f"ValueError: broken {trial.number}")
            raise ValueError("broken")
        return objective

    monkeypatch.setattr(tune_module, "make_objective", failing)
    with pytest.raises(MetarecError) as info:
        metarec.tune(_clf(0), target="y", learners="decision_tree", n_trials=2, warm_start=0, storage=None)
    assert "first error: ValueError: broken 0" in str(info.value) and "--timeout" not in str(info.value)


# -- 4. a metric the KB has no runs of ranks by the task's default ---------------------------------------------
@pytest.mark.parametrize("metric, data", [("neg_mae", _reg), ("auc", lambda: _clf(0))])
def test_a_metric_without_kb_runs_ranks_by_the_default_metric(metric, data):
    with pytest.warns(MetarecWarning, match=f"no {metric} runs .* chosen by (r2|accuracy); the study optimises {metric}"):
        res = metarec.tune(data(), target="y", metric=metric, n_trials=2, warm_start=1, storage=None, cv=2, top_k=1)
    assert res.metric == metric and res.summary()["n_complete"] == 2
    if metric == "neg_mae":
        assert res.best_score < 0


# -- 5. unknown metric names -----------------------------------------------------------------------------------
def test_unknown_metrics_get_a_suggestion():
    cases = {("roc_auc", "classification"): "unknown metric 'roc_auc'; did you mean 'auc'?",
             ("rmse", "regression"): "unknown metric 'rmse'; did you mean 'neg_rmse'?",
             ("mae", "regression"): "unknown metric 'mae'; did you mean 'neg_mae'?",
             ("acuracy", "classification"): "unknown metric 'acuracy'; did you mean 'accuracy'?",
             ("r2", "classification"): "metric 'r2' does not apply to classification; choose one of accuracy",
             ("auc", "regression"): "metric 'auc' does not apply to regression; choose one of r2"}
    for (metric, task), message in cases.items():
        with pytest.raises(MetarecError) as info:
            check_metric(metric, task)
        assert str(info.value).startswith(message), str(info.value)
    assert check_metric("neg_mae", "regression") == "neg_mae"


# -- 6. explicit learners are warm-started from the KB's configs -----------------------------------------------
def test_explicit_learners_start_from_kb_configs():
    from metarec.learners import get_learner

    res = metarec.tune(_clf(0), target="y", learners="knn,lda", n_trials=4, warm_start=4, storage=None, cv=2)
    warm = res.warm_start_configs
    knn = [w["config"] for w in warm if w["learner"] == "knn"]
    assert len(warm) == 4 and len(knn) == 3 and {c["n_neighbors"] for c in knn} == {5, 7, 9}
    assert [w["config"] for w in warm if w["learner"] == "lda"] == [dict(get_learner("lda").default_config)]


# -- 7. the warm start never exceeds the trials; a complete study says so --------------------------------------
@pytest.mark.slow
def test_warm_start_is_capped_at_the_trials_and_not_enqueued_on_resume():
    kw = dict(target="y", learners="knn", warm_start=5, storage="sqlite:///s.db", cv=2)
    started = []
    res = metarec.tune(_clf(0), n_trials=2, on_start=lambda study, n: started.append(n), **kw)
    assert len(res.warm_start_configs) == 2 and started == [2]
    states = [t.state for t in res.study.get_trials(deepcopy=False)]
    assert states == [optuna.trial.TrialState.COMPLETE] * 2  # nothing left WAITING
    with pytest.warns(MetarecWarning, match="already has 2 finished trials .* nothing left to run"):
        again = metarec.tune(_clf(0), n_trials=2, **kw)
    # nothing enqueued again; the result reports the warm start the study began with
    assert again.warm_start_configs == res.warm_start_configs and len(again.study.trials) == 2
    assert started == [2]


@pytest.mark.slow
def test_cli_progress_counts_only_the_trials_that_run():
    _clf(0).to_csv("a.csv", index=False)
    args = ["tune", "a.csv", "--target", "y", "--learners", "knn", "--trials", "2", "--cv", "2",
            "--storage", "sqlite:///s.db"]
    code, out, err = run_cli(args)
    assert code == 0, err
    # knn has 3 KB configs: only 2 are enqueued, so the bar never counts waiting trials (was "3/2")
    assert re.search(r"\b2/2\b", out) and not re.search(r"\b[3-9]/2\b", out) and "warm start: 2 configs" in out
    code, out, err = run_cli(args)
    assert code == 0 and "nothing left to run" in err and "warm start: 2 configs" in out  # the study's own


def test_cli_tune_prints_what_loading_decided_but_an_error_stays_one_line():
    frame = _clf(0)
    # an integer target of 3 values: loading decides classification and says so (0/1 needs no warning)
    frame["y"] = (frame["y"] == "p").astype(int) + (frame.index % 5 == 0).astype(int)
    frame.to_csv("i.csv", index=False)
    args = ["tune", "i.csv", "--target", "y", "--learners", "knn", "--trials", "2", "--cv", "2",
            "--storage", "sqlite:///w.db"]
    code, out, err = run_cli(args)
    assert code == 0 and "Warning: integer target with 3 distinct values" in err, err
    _one_line_error(*run_cli(args[:4] + ["--learners", "nosuch"] + args[6:]))


# -- 8. classes with fewer rows than folds ---------------------------------------------------------------------
def test_tiny_classes_warn_and_singleton_classes_are_refused():
    rng = np.random.default_rng(0)
    tiny = pd.DataFrame({"a": rng.normal(size=10), "b": rng.normal(size=10), "y": list("abcde") * 2})
    with pytest.warns(MetarecWarning, match="5 of 5 classes have fewer rows than the 5 CV folds .* stratified k-fold "
                                            "cannot place every class in every fold"):
        metarec.tune(tiny, target="y", learners="decision_tree", n_trials=1, warm_start=0, storage=None, cv=5)
    price = pd.DataFrame({"a": rng.normal(size=120), "y": np.round(rng.normal(size=120) * 100, 3)})
    with pytest.raises(DataError, match="120 classes, 120 of them with a single row.*--task regression"):
        metarec.tune(price, target="y", task_type="classification", learners="decision_tree", n_trials=1,
                     storage=None)


# -- 9. no raw scikit-learn warnings, no Optuna line per failed trial; failures summarised ---------------------
@pytest.mark.slow
def test_trial_noise_is_silenced_and_failures_summarised(monkeypatch):
    tune_module = importlib.import_module("metarec.tuning.api")  # where tune() finds make_objective
    verbosity = optuna.logging.get_verbosity()
    real = tune_module.make_objective

    def half_failing(*args, **kwargs):
        objective = real(*args, **kwargs)

        def wrapped(trial):
            if trial.number == 2:
                trial.suggest_categorical("learner", ["mlp"])
                trial.set_user_attr("error", "ValueError: last trial broken")
                raise ValueError("last trial broken")
            return objective(trial)
        return wrapped

    monkeypatch.setattr(tune_module, "make_objective", half_failing)
    records = []
    handler = logging.Handler(logging.DEBUG)
    handler.emit = records.append
    logging.getLogger("optuna").addHandler(handler)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 5))
    data = pd.DataFrame(X).add_prefix("x").assign(y=np.where(X[:, 0] > 0, "p", "q"))
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            # the default MLP (the warm start) stops at max_iter here: scikit-learn's ConvergenceWarning
            res = metarec.tune(data, target="y", learners="mlp", n_trials=3, warm_start=1, storage=None, cv=2)
    finally:
        logging.getLogger("optuna").removeHandler(handler)
    assert not [w for w in caught if not issubclass(w.category, MetarecWarning)], [str(w.message) for w in caught]
    assert [str(w.message) for w in caught if issubclass(w.category, MetarecWarning)] == [
        "1 of 3 trials failed (first error: ValueError: last trial broken)"]
    assert not [r for r in records if r.levelno >= logging.WARNING]
    assert res.summary()["n_failed"] == 1 and optuna.logging.get_verbosity() == verbosity  # as it was


@pytest.mark.parametrize("kw, message", [
    ({"n_trials": 0}, "n_trials must be an integer >= 1"),
    ({"n_trials": -3}, "n_trials must be an integer >= 1"),
    ({"timeout": -1}, "timeout must be a positive number"),
    ({"timeout": float("nan")}, "timeout must be a positive number"),
    ({"warm_start": -2}, "warm_start must be an integer >= 0"),
    ({"cv": 1}, "cv must be an integer >= 2"),
    ({"cv": 2.5}, "cv must be an integer >= 2"),
    ({"random_state": 1.0}, "random_state must be an integer from 0 to 4294967295"),
    ({"random_state": -1}, "random_state must be an integer from 0 to 4294967295"),
    ({"top_k": 0}, "top_k must be an integer >= 1"),
])
def test_impossible_tune_parameters_are_refused_by_name_before_any_work(kw, message, tmp_path):
    """Each is one MetarecError naming the parameter (a bad seed used to surface as a storage error, a
    negative warm start silently dropped the last suggestions), and no study is created."""
    storage = f"sqlite:///{tmp_path / 'p.db'}"
    with pytest.raises(MetarecError, match=re.escape(message)):
        metarec.tune(_clf(0), target="y", learners="decision_tree", storage=storage, **{"n_trials": 2, **kw})
    assert not (tmp_path / "p.db").exists()


def test_cli_refuses_a_negative_seed_in_one_line():
    code, out, err = run_cli(["tune", "x.csv", "--target", "y", "--seed", "-1"])
    assert code == 2 and "Traceback" not in out + err
    assert "--seed" in err and "-1" in err


def test_warm_start_false_is_a_cold_start_as_scikit_learn_checks_set_it():
    r = metarec.tune(_clf(0), target="y", learners="decision_tree", storage=None, n_trials=2, warm_start=False)
    assert r.warm_start_configs == []
    r = metarec.tune(_clf(0), target="y", learners="decision_tree", storage=None, n_trials=2, warm_start=True)
    assert len(r.warm_start_configs) == 2  # True = 5, capped at n_trials


def test_recommend_table_never_cuts_a_learner_name(tmp_path):
    """The name is what --learners takes; hist_gradient_boosting_regressor used to end in '…'."""
    long_names = {"classification": ("decision_tree",),
                  "regression": ("hist_gradient_boosting_regressor", "random_forest_regressor", "ridge_regressor")}
    kb = synthetic_kb(tmp_path / "long_kb", long_names)
    _reg().to_csv("r.csv", index=False)
    code, out, err = run_cli(["recommend", "r.csv", "--target", "y", "--task", "regression", "--kb", str(kb)])
    assert code == 0, err
    assert "hist_gradient_boosting_regressor" in out and "random_forest_regressor" in out, out


@pytest.mark.parametrize("ranked_by, caption", [
    ("chance of scoring within 0.01 of the best", "order: by the chance of scoring within 0.01 of the best, not the "
                                                  "predicted accuracy"),
    (None, "order: by the meta-model's own ranking, not the predicted accuracy"),
])
def test_the_table_says_what_the_order_is_when_the_scores_are_not_in_it(monkeypatch, ranked_by, caption):
    from metarec.recommend import LearnerRecommendation, Recommendation

    rec_module = importlib.import_module("metarec.recommend")  # the module (metarec.recommend is also the function)

    def fake(data, target=None, **kw):
        rows = [LearnerRecommendation(rank=i + 1, learner=n, score=s, lower=0.7, upper=0.95, fit_time=0.1, evidence=9)
                for i, (n, s) in enumerate([("forest", 0.85), ("boosting", 0.86)])]
        rec = Recommendation(dataset={"name": "d", "n_rows": 10, "n_features": 2}, task_type="classification",
                             metric="accuracy", metamodel="m", learners=rows, no_evidence=[], similar=[],
                             explanation={})
        if ranked_by:
            rec.ranked_by = ranked_by
        return rec

    monkeypatch.setattr(rec_module, "recommend", fake)
    code, out, err = run_cli(["recommend", "x.csv", "--target", "y"])
    assert code == 0, err
    assert caption in " ".join(out.split()), out
    assert fake("x").to_dict()["ranked_by"] == (ranked_by or "meta-model's own ranking")


def test_impossible_time_budgets_are_refused_alike_by_api_and_cli():
    """recommend's fit-time budget must be positive (API as CLI); a meta-feature budget of 0 is a spent
    budget (every group skipped, reported), a negative one an error."""
    from metarec.exceptions import ParameterError

    with pytest.raises(ParameterError, match="time_budget must be a positive number"):
        metarec.recommend(_clf(0), target="y", time_budget=0)
    with pytest.raises(ParameterError, match="time_budget must be a number of seconds >= 0"):
        metarec.extract_metafeatures(metarec.load_dataset(_clf(0), target="y"), time_budget=-1)
    _clf(0).to_csv("z.csv", index=False)
    code, out, err = run_cli(["metafeatures", "z.csv", "--target", "y", "--time-budget", "-1"])
    assert code == 2 and "--time-budget" in err and len(err.strip().splitlines()) == 1


def test_cv_fits_of_small_data_run_on_one_thread_and_the_limit_is_restored(monkeypatch):
    from threadpoolctl import threadpool_info

    import metarec.tuning.objective

    seen = []
    real = metarec.tuning.objective.cross_validate

    def spy(*args, **kwargs):
        seen.append({p["user_api"]: p["num_threads"] for p in threadpool_info()})
        return real(*args, **kwargs)

    before = {p["user_api"]: p["num_threads"] for p in threadpool_info()}
    monkeypatch.setattr(metarec.tuning.objective, "cross_validate", spy)
    metarec.tune(_clf(0), target="y", learners="hist_gradient_boosting", n_trials=1, warm_start=0, cv=2)
    assert seen and all(n == 1 for n in seen[0].values())
    assert {p["user_api"]: p["num_threads"] for p in threadpool_info()} == before


def test_a_warm_start_config_the_search_space_cannot_hold_runs_as_given():
    import json

    from metarec.learners import get_learner
    from metarec.tuning.objective import make_objective
    from metarec.tuning.warmstart import enqueue_warm_start

    frame = _clf(0)
    # max_features 0.37 is none of the space's choices and 900 trees lie above its upper bound (500): a
    # configuration of the knowledge base's imported or portfolio evidence; extra_trees is not in lightgbm's space
    forest = {"n_estimators": 900, "max_features": 0.37, "criterion": "entropy", "min_samples_leaf": 3}
    boost = {"n_estimators": 40, "learning_rate": 0.05, "extra_trees": True}
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.RandomSampler(seed=0))
    enqueue_warm_start(study, [("random_forest", forest), ("lightgbm", boost)])
    learners = [get_learner("random_forest"), get_learner("lightgbm")]
    study.optimize(make_objective(frame[list("abc")], frame["y"], "classification", learners, "accuracy", cv=2),
                   n_trials=3)
    first, second, third = study.trials
    assert first.state == second.state == optuna.trial.TrialState.COMPLETE
    ran = json.loads(first.user_attrs["config"])
    assert {k: ran[k] for k in forest} == forest
    # the values the space holds are the trial's parameters (the sampler learns from them); the others are not
    assert first.params["random_forest:criterion"] == "entropy" and first.params["random_forest:min_samples_leaf"] == 3
    assert first.params["random_forest:max_features"] != 0.37
    ran = json.loads(second.user_attrs["config"])
    assert {k: ran[k] for k in boost} == boost and second.params["lightgbm:n_estimators"] == 40
    assert not third.user_attrs.get("warm_config")  # the sampler's own trial is not overridden


def test_the_budget_guard_starts_no_trial_the_budget_cannot_see_finished():
    import time

    from metarec.tuning.api import BudgetGuard

    def objective(trial):  # each trial reports 4 s of cross-validation (without taking them)
        trial.set_user_attr("cv_seconds", 4.0)
        return trial.suggest_float("x", 0, 1)

    for seconds_left, expected in ((3.0, 1), (1000.0, 10)):
        study = optuna.create_study(direction="maximize")
        guard = BudgetGuard(time.perf_counter() + seconds_left, cv=5)
        study.optimize(objective, n_trials=10, callbacks=[guard])
        # 3 s left: the next trial (4 s) and the refit (4 / 4 = 1 s) cannot finish, so the study stops after one
        assert len(study.trials) == expected


def test_a_time_budget_spent_before_the_first_trial_is_one_clear_error():
    with pytest.raises(MetarecError, match=r"time budget of 0.001 s was spent before the first trial .*raise "
                                           r"--time-budget"):
        metarec.tune(_clf(0), target="y", learners="knn", time_budget=0.001, cv=2)
    with pytest.raises(MetarecError, match="time_budget"):
        metarec.tune(_clf(0), target="y", learners="knn", time_budget=-1, cv=2)


def test_cli_time_budget_too_small_is_one_line_before_any_progress_bar():
    _clf(0).to_csv("a.csv", index=False)
    code, out, err = run_cli(["tune", "a.csv", "--target", "y", "--learners", "knn", "--time-budget", "0.0001",
                              "--storage", "sqlite:///s.db"])
    assert code == 2 and "spent before the first trial" in err and "--time-budget" in err
    assert len(err.strip().splitlines()) == 1 and "trials" not in out


def test_warm_start_configs_that_differ_only_where_the_space_cannot_hold_them_are_both_enqueued():
    from metarec.tuning.warmstart import enqueue_warm_start

    a = {"n_estimators": 100, "max_features": 0.37, "criterion": "gini"}
    b = {"n_estimators": 100, "max_features": 0.81, "criterion": "gini"}  # same parameters the space holds
    study = optuna.create_study(direction="maximize")
    queued = enqueue_warm_start(study, [("random_forest", a), ("random_forest", b), ("random_forest", dict(a))])
    waiting = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.WAITING,))
    assert [q["config"] for q in queued] == [a, b] and len(waiting) == 2  # the repeat of a is enqueued once


def test_recommend_offers_each_learners_default_as_the_incumbent_of_its_zero_shot_portfolio(tmp_path, monkeypatch):
    """The default comes first unless a configuration beats it significantly on the nearest searched tasks
    (tests/kb/test_zeroshot.py): recommend must hand the default to that rule."""
    import metarec.kb.zeroshot as zs
    from metarec.learners import get_learner

    kb = synthetic_kb(tmp_path / "kb", {"classification": ("decision_tree", "knn"), "regression": ("ridge_regressor",)},
                      configs={"decision_tree": [{}, {"max_depth": 3}, {"max_depth": 5}]})
    seen = {}
    real = zs.zero_shot_configs

    def spy(kb_, x, learner, *args, **kwargs):
        seen[learner] = kwargs.get("incumbent")
        return real(kb_, x, learner, *args, **kwargs)

    monkeypatch.setattr(zs, "zero_shot_configs", spy)
    rec = metarec.recommend(_clf(0), target="y", kb=kb, top_k=2)
    assert seen["decision_tree"] == dict(get_learner("decision_tree").default_config)
    assert seen["knn"] == dict(get_learner("knn").default_config)
    tree = next(r for r in rec.learners if r.learner == "decision_tree")
    assert tree.configs and len(tree.configs) <= 3
