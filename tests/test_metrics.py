"""The one table of metrics: every metric named anywhere is in it, and the knowledge base's manifest agrees."""

import json
from pathlib import Path

import pytest

from metarec.exceptions import ParameterError
from metarec.metrics import (ALIASES, DEFAULT_METRIC, METRICS, check_metric, get_metric, needs_probabilities,
                             scorer_name, shown_name, task_metrics)

KB = Path(__file__).resolve().parents[1] / "knowledge_base"


def test_each_task_has_its_metrics_and_a_default_among_them():
    assert task_metrics("classification") == ("accuracy", "balanced_accuracy", "f1", "auc", "logloss")
    assert task_metrics("regression") == ("r2", "neg_rmse", "neg_mae")
    for task, metric in DEFAULT_METRIC.items():
        assert metric in task_metrics(task)
    assert set(ALIASES.values()) <= set(METRICS)


def test_scorers_and_probabilities_follow_the_number_of_classes():
    from sklearn.metrics import get_scorer

    assert scorer_name("auc", 2) == "roc_auc" and scorer_name("auc", 3) == "roc_auc_ovr"
    assert scorer_name("neg_mae") == "neg_mean_absolute_error"
    assert needs_probabilities("logloss", 2) and needs_probabilities("auc", 3) and not needs_probabilities("auc", 2)
    for m in METRICS.values():  # every scorer is one scikit-learn knows
        for n in (2, 3):
            get_scorer(m.scorer_name(n if m.task_type == "classification" else None))


def test_bounds_scale_and_labels():
    assert get_metric("accuracy").clip(1.2) == 1.0 and get_metric("logloss").clip(0.3) == 0.0
    assert get_metric("r2").clip(-5.0) == -5.0
    assert {m.name for m in METRICS.values() if m.scale_dependent} == {"neg_rmse", "neg_mae"}
    assert shown_name("logloss") == "neg_logloss" and shown_name("accuracy") == "accuracy"
    assert [m.name for m in METRICS.values() if not m.higher_is_better] == ["logloss"]


def test_the_shipped_manifest_records_the_table_s_definitions():
    manifest = json.loads((KB / "manifest.json").read_text())
    for name, entry in manifest["metrics"].items():
        assert METRICS[name].manifest_entry() == entry


@pytest.mark.parametrize("given, task, message", [
    ("r2", "classification", "does not apply to classification"),
    ("rmse", "regression", "did you mean 'neg_rmse'"),
    ("roc_auc", "regression", "did you mean 'auc'? (a classification metric"),
    ("zzz", "classification", "unknown metric 'zzz'; choose one of"),
])
def test_check_metric_refuses_in_one_line(given, task, message):
    with pytest.raises(ParameterError, match=message.replace("(", r"\(").replace("?", r"\?")):
        check_metric(given, task)
    assert check_metric(None, "regression") == "r2" and check_metric("neg_mae", "regression") == "neg_mae"


def test_the_metric_option_lists_every_metric_of_both_tasks():
    from click.testing import CliRunner

    from metarec.cli import cli
    from metarec.metrics import METRICS

    for command in ("recommend", "tune"):
        text = " ".join(CliRunner().invoke(cli, [command, "--help"], terminal_width=200).output.split())
        assert "..." not in text
        assert all(name in text for name in METRICS), (command, text)
        assert "accuracy (default)" in text and "r2 (default)" in text
