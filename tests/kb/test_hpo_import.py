"""Importing public search results on OpenML tasks (openml-pimp, sklearn-bot, TabRepo) as KB runs, on small
slices of the raw files (tests/fixtures/hpo/, 3 tasks each, the files' own format)."""

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from metarec.cli import cli

from ..helpers import run_cli
from metarec.exceptions import KnowledgeBaseError
from metarec.kb import KnowledgeBase
from metarec.kb.hpo_import import import_hpo

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "hpo"


def test_tabrepo_lightgbm_runs_scored_higher_is_better_with_todays_names():
    kb = import_hpo("tabrepo", FIXTURES / "tabrepo")
    runs = kb.runs
    assert set(runs["source"]) == {"tabrepo"}
    assert kb.datasets["dataset_id"].str.startswith("openml:").all()  # TabRepo states each task's dataset id
    assert set(kb.datasets["task_type"]) == {"classification", "regression"}
    by_metric = runs.groupby("metric")["learner"].agg(set).to_dict()
    assert by_metric == {"auc": {"lightgbm"}, "logloss": {"lightgbm"}, "neg_rmse": {"lightgbm_regressor"}}
    assert (runs.loc[runs["metric"] == "neg_rmse", "score"] < 0).all()
    auc = runs[runs["metric"] == "auc"]["score"]
    assert ((auc > 0.5) & (auc <= 1)).all()  # 1 - metric_error
    configs = [json.loads(c) for c in runs["config"]]
    keys = set().union(*configs)
    assert keys <= {"num_leaves", "learning_rate", "colsample_bytree", "min_child_samples", "extra_trees"}
    assert "colsample_bytree" in keys and "feature_fraction" not in keys
    src = kb.manifest["sources"][0]
    assert src["name"] == "tabrepo" and src["licence"] == "Apache-2.0" and src["repository"] == "autogluon/tabrepo"
    assert kb.datasets["NumberOfInstances"].notna().all() and kb.datasets["ClassEntropy"].isna().all()


def test_sklearn_bot_svc_runs_per_kernel_with_qualities_of_the_sibling_openml100_files():
    kb = import_hpo("sklearn-bot", FIXTURES / "sklearn-bot")
    runs = kb.runs
    assert set(runs["learner"]) <= {"svc_rbf", "svc_poly", "svc_sigmoid"} and set(runs["metric"]) == {"accuracy", "auc"}
    for learner, cfg in zip(runs["learner"], runs["config"]):
        cfg = json.loads(cfg)
        assert cfg["gamma_kind"] == "value" and ("degree" in cfg) == (learner == "svc_poly")
        assert ("coef0" in cfg) == (learner != "svc_rbf")
    ds = kb.datasets.set_index("name")
    assert ds.loc["kr-vs-kp", "NumberOfInstances"] == 3196  # OpenML's stored quality, not recomputed
    assert ds.loc["balance-scale", "n_classes"] == 3
    assert (runs["n_repeats"] == 10).all()


def test_sklearn_bot_without_qualities_names_the_fix(tmp_path):
    shutil.copytree(FIXTURES / "sklearn-bot", tmp_path / "svc")
    with pytest.raises(KnowledgeBaseError, match="--qualities"):
        import_hpo("sklearn-bot", tmp_path / "svc")


def test_openml_pimp_forest_and_adaboost_drop_what_no_longer_exists():
    kb = import_hpo("openml-pimp", FIXTURES / "openml-pimp")
    runs = kb.runs
    assert set(runs["learner"]) == {"random_forest", "adaboost"} and set(runs["metric"]) == {"accuracy"}
    ada = [json.loads(c) for c in runs.loc[runs["learner"] == "adaboost", "config"]]
    assert ada and all(set(c) == {"learning_rate", "max_depth", "n_estimators"} for c in ada)
    dropped = kb.manifest["sources"][0]["dropped"]["adaboost.arff"]["unmapped_configurations"]
    raw = (FIXTURES / "openml-pimp" / "adaboost.arff").read_text()
    assert dropped == raw.count("SAMME.R,") > 0  # SAMME.R runs are dropped, not relabelled
    forest = json.loads(runs.loc[runs["learner"] == "random_forest", "config"].iloc[0])
    assert 0 < forest["max_features"] <= 1 and isinstance(forest["bootstrap"], bool)


def _cli(*args):
    """(exit code, stdout + stderr) of ``metarec kb import-hpo ARGS`` as the console script runs it."""
    code, out, err = run_cli(["kb", "import-hpo", *map(str, args)])
    return code, out + err


def test_cli_writes_a_valid_kb_that_merges(tmp_path):
    code, output = _cli("tabrepo", FIXTURES / "tabrepo", "--out", tmp_path / "lgb")
    assert code == 0, output
    assert "wrote" in output and "3 datasets" in output
    kb = KnowledgeBase.load(tmp_path / "lgb")
    assert kb.manifest["sources"][0]["name"] == "tabrepo"
    r = CliRunner().invoke(cli, ["kb", "validate", str(tmp_path / "lgb")])
    assert r.exit_code == 0, r.output


@pytest.mark.parametrize("damage", ["truncated", "missing", "no columns"])
def test_a_malformed_raw_file_is_one_line_naming_it_and_nothing_is_written(tmp_path, damage):
    raw = tmp_path / "svc"
    shutil.copytree(FIXTURES / "sklearn-bot", raw)
    target = raw / "svc__area_under_roc_curve.arff"
    if damage == "truncated":
        text = target.read_text()
        target.write_text(text[: int(len(text) * 0.6)].rsplit("\n", 1)[0] + "\n1.0,rbf,")
    elif damage == "missing":
        target.unlink()
    else:
        target.write_text("@RELATION x\n@ATTRIBUTE a NUMERIC\n@DATA\n1\n")
    code, output = _cli("sklearn-bot", raw, "--out", tmp_path / "out", "--qualities",
                        FIXTURES / "openml-pimp" / "task_qualities.json")
    assert code == 2, output
    lines = output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and "svc__area_under_roc_curve.arff" in lines[0]
    assert "Traceback" not in output and not (tmp_path / "out").exists()


def test_unknown_directory_and_misplaced_option_are_one_line(tmp_path):
    code, output = _cli("tabrepo", tmp_path / "nowhere", "--out", tmp_path / "out")
    assert code == 2 and "not a directory" in output and not (tmp_path / "out").exists()
    code, output = _cli("tabrepo", FIXTURES / "tabrepo", "--out", tmp_path / "out", "--qualities", tmp_path / "q.json")
    assert code == 2 and "sklearn-bot only" in output and not (tmp_path / "out").exists()


def test_an_out_whose_parent_is_missing_is_refused_not_created(tmp_path):
    code, output = _cli("tabrepo", FIXTURES / "tabrepo", "--out", tmp_path / "typo" / "kb")
    assert code == 2 and f"directory {tmp_path / 'typo'} does not exist" in output
    assert not (tmp_path / "typo").exists()


@pytest.mark.parametrize("source, name, column, value", [
    ("openml-pimp", "openml100_task_names.csv", "task_id", "many"),
    ("openml-pimp", "openml100_task_names.csv", "task_id", None),
    ("openml-pimp", "openml100_task_names.csv", "NumberOfInstances", "many"),
    ("tabrepo", "task_metadata_244.csv", "tid", "many"),
    ("tabrepo", "task_metadata_244.csv", "NumberOfInstances", "many"),
])
def test_a_non_numeric_task_column_is_one_line_naming_the_file_and_column(tmp_path, source, name, column, value):
    import pandas as pd

    raw = tmp_path / source
    shutil.copytree(FIXTURES / source, raw)
    frame = pd.read_csv(raw / name)
    frame[column] = frame[column].astype(object)
    frame.loc[0, column] = value
    frame.to_csv(raw / name, index=False)
    code, output = _cli(source, raw, "--out", tmp_path / "out")
    assert code == 2, output
    lines = output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and name in lines[0] and column in lines[0], output
    assert "Traceback" not in output and not (tmp_path / "out").exists()


def test_sklearn_bot_qualities_that_are_missing_or_without_the_task_names_are_named(tmp_path):
    code, output = _cli("sklearn-bot", FIXTURES / "sklearn-bot", "--out", tmp_path / "out", "--qualities",
                        tmp_path / "nowhere.json")
    assert code == 2 and f"{tmp_path / 'nowhere.json'}: missing" in output, output
    alone = tmp_path / "alone"
    alone.mkdir()
    shutil.copy(FIXTURES / "openml-pimp" / "task_qualities.json", alone)
    code, output = _cli("sklearn-bot", FIXTURES / "sklearn-bot", "--out", tmp_path / "out", "--qualities",
                        alone / "task_qualities.json")
    assert code == 2 and "openml100_task_names.csv: missing" in output and "beside task_qualities.json" in output
    assert len(output.strip().splitlines()) == 1 and not (tmp_path / "out").exists()


def test_merged_imports_stay_out_of_what_the_meta_models_learn_unless_asked_for():
    """Imported scores come from other protocols (best of hundreds of configurations, OpenML's CV): a
    performance table of every source leaves them out, one of their own source has them."""
    from metarec.kb.performance import performance_table

    from ..synthetic_kb import _toy_kb

    pimp = import_hpo("openml-pimp", FIXTURES / "openml-pimp")
    base = _toy_kb(ids=("openml:3", "b", "c"))
    merged = base.merge(pimp)
    assert "adaboost" in set(merged.runs["learner"])
    table = performance_table(merged, metric="accuracy", task_type="classification", cache=False)
    assert "adaboost" not in table.scores.columns and set(table.scores.index) == {"openml:3", "b", "c"}
    own = performance_table(merged, metric="accuracy", task_type="classification", source="openml-pimp",
                            cache=False)
    assert {"adaboost", "random_forest"} <= set(own.scores.columns)
