"""The built-in learners: conformance of every learner, the LCDB mapping, names and light imports."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from metarec.learners import CLASSIFICATION, REGRESSION, Learner
from metarec.learners.builtin import BUILTIN_LEARNERS, LCDB_NAMES
from metarec.testing import check_learner, learner_conformance_cases, make_conformance_data

LCDB_LEARNERS = {
    "SVC_linear",
    "SVC_poly",
    "SVC_rbf",
    "SVC_sigmoid",
    "sklearn.discriminant_analysis.LinearDiscriminantAnalysis",
    "sklearn.discriminant_analysis.QuadraticDiscriminantAnalysis",
    "sklearn.ensemble.ExtraTreesClassifier",
    "sklearn.ensemble.GradientBoostingClassifier",
    "sklearn.ensemble.RandomForestClassifier",
    "sklearn.linear_model.LogisticRegression",
    "sklearn.linear_model.PassiveAggressiveClassifier",
    "sklearn.linear_model.Perceptron",
    "sklearn.linear_model.RidgeClassifier",
    "sklearn.linear_model.SGDClassifier",
    "sklearn.naive_bayes.BernoulliNB",
    "sklearn.naive_bayes.MultinomialNB",
    "sklearn.neighbors.KNeighborsClassifier",
    "sklearn.neural_network.MLPClassifier",
    "sklearn.tree.DecisionTreeClassifier",
    "sklearn.tree.ExtraTreeClassifier",
}

BY_NAME = {lr.name: lr for lr in BUILTIN_LEARNERS}


SLOW_LEARNERS = {"gradient_boosting"}  # ~3.5 s to check


@pytest.mark.parametrize("learner", [
    pytest.param(*case.values, id=case.id, marks=pytest.mark.slow) if case.id in SLOW_LEARNERS else case
    for case in learner_conformance_cases(BUILTIN_LEARNERS)])
def test_builtin_learner_conforms(learner):
    check_learner(learner, n_configs=3, random_state=0)


def test_at_least_22_classification_learners():
    cls = [lr for lr in BUILTIN_LEARNERS if CLASSIFICATION in lr.task_types]
    assert len(cls) >= 22
    assert {"lightgbm", "hist_gradient_boosting"} <= {lr.name for lr in cls}


def test_each_lcdb_learner_mapped_exactly_once():
    mapped = [lr.lcdb_name for lr in BUILTIN_LEARNERS if lr.lcdb_name is not None]
    assert sorted(mapped) == sorted(LCDB_LEARNERS)
    assert len(mapped) == len(set(mapped)) == 20
    assert set(LCDB_NAMES.values()) == LCDB_LEARNERS
    for name, lcdb in LCDB_NAMES.items():
        assert BY_NAME[name].task_types == (CLASSIFICATION,), name


def test_lcdb_names_match_the_installed_lcdb_package():
    import importlib.util
    import os

    import pandas as pd

    spec = importlib.util.find_spec("lcdb")  # located, not imported (its import needs extra packages)
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("lcdb not installed")
    path = os.path.join(list(spec.submodule_search_locations)[0], "database-accuracy.csv")
    if not os.path.exists(path):
        pytest.skip("LCDB database file not installed")
    learners = set(pd.read_csv(path, usecols=["learner"])["learner"].unique())
    assert learners == LCDB_LEARNERS


def test_regression_families_present():
    reg = {lr.name for lr in BUILTIN_LEARNERS if REGRESSION in lr.task_types}
    expected = {
        "lightgbm_regressor",
        "random_forest_regressor",
        "extra_trees_regressor",
        "hist_gradient_boosting_regressor",
        "ridge_regressor",
        "elastic_net_regressor",
        "svr_regressor",
        "knn_regressor",
        "mlp_regressor",
        "decision_tree_regressor",
    }
    assert expected <= reg
    assert all(name.endswith("_regressor") for name in reg)


def test_names_unique_snake_case_and_families_set():
    names = [lr.name for lr in BUILTIN_LEARNERS]
    assert len(names) == len(set(names))
    for lr in BUILTIN_LEARNERS:
        assert isinstance(lr, Learner)
        assert lr.name.isidentifier() and lr.name == lr.name.lower(), lr.name
        assert len(lr.task_types) == 1, lr.name
        assert lr.family, lr.name
        assert lr.description, lr.name


@pytest.mark.parametrize("learner", learner_conformance_cases(BUILTIN_LEARNERS))
def test_default_config_json_serialisable(learner):
    cfg = dict(learner.default_config)
    assert json.loads(json.dumps(cfg, allow_nan=False)) == cfg
    json.dumps(learner.as_dict(), allow_nan=False)


def test_importing_builtin_does_not_import_heavy_libraries():
    code = (
        "import sys, json\n"
        "import metarec.learners.builtin as b\n"
        "assert len(b.BUILTIN_LEARNERS) > 0\n"
        "print(json.dumps([m for m in ('sklearn', 'lightgbm', 'optuna', 'scipy') if m in sys.modules]))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


def test_learners_pickle():
    import pickle

    again = pickle.loads(pickle.dumps(BUILTIN_LEARNERS))
    assert [lr.name for lr in again] == [lr.name for lr in BUILTIN_LEARNERS]


def test_default_pipelines_use_current_api_for_replaced_estimators():
    pa = BY_NAME["passive_aggressive"].make_pipeline().named_steps["model"]
    assert type(pa).__name__ == "SGDClassifier"
    assert (pa.loss, pa.penalty, pa.learning_rate, pa.eta0) == ("hinge", None, "pa1", 1.0)
    lr = BY_NAME["logistic_regression"].make_pipeline().named_steps["model"]
    assert lr.l1_ratio == 0.0 and lr.C == 1.0 and lr.solver == "lbfgs"
    svc = BY_NAME["svc_rbf"].make_pipeline().named_steps["model"]
    assert (svc.kernel, svc.gamma, svc.C) == ("rbf", "scale", 1.0)
    qda = BY_NAME["qda"].make_pipeline().named_steps["model"]
    assert (qda.solver, qda.shrinkage) == ("eigen", "auto")


def test_qda_default_survives_collinear_one_hot_columns():
    X, y = make_conformance_data(CLASSIFICATION)
    X = X.assign(num_copy=X["num_a"] * 2.0, colour_copy=X["colour"])
    pipe = BY_NAME["qda"].make_pipeline().fit(X, y)
    assert len(pipe.predict(X)) == len(X)


def test_execution_settings_fixed_and_overridable():
    rf = BY_NAME["random_forest"].make_pipeline().named_steps["model"]
    assert rf.n_jobs == 1
    lgbm = BY_NAME["lightgbm"].make_pipeline({"subsample": 0.8}).named_steps["model"]
    assert (lgbm.n_jobs, lgbm.verbose, lgbm.subsample_freq) == (1, -1, 1)
    assert BY_NAME["random_forest"].make_pipeline({"n_jobs": 2}).named_steps["model"].n_jobs == 2


@pytest.mark.filterwarnings("ignore:Fixed parameter:UserWarning")
def test_check_learner_reports_a_broken_learner_by_name_and_step():
    from metarec.learners._common import _factory

    broken = Learner(
        name="broken_svc",
        task_types=(CLASSIFICATION,),
        estimator=_factory("sklearn.svm.SVC"),
        search_space=lambda trial: {"C": trial.suggest_float("C", -1.0, -0.5)},
        default_config={"C": 1.0},
    )
    with pytest.raises(AssertionError, match=r"'broken_svc'.*(default in space|sampled config)"):
        check_learner(broken, n_configs=1)
    with pytest.raises(AssertionError, match=r"'broken_svc', classification, sampled config 0.*fit raised"):
        check_learner(broken, n_configs=1, default_in_space=False)


def test_every_family_learner_is_registered_once():
    from metarec.learners import boosting, generative, linear, neighbors, neural, svm, trees

    defined = [lr.name for family in (svm, linear, trees, boosting, generative, neighbors, neural)
               for lr in family.LEARNERS]
    assert sorted(defined) == sorted(lr.name for lr in BUILTIN_LEARNERS)
    assert len(set(defined)) == len(defined)
