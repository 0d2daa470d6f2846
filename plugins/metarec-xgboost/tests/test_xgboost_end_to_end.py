"""The plugin promise, as a user types it: a plugin learner is "no evidence" until `kb build` gives it runs.

metarec recommend (shipped KB)  -> xgboost listed under no_evidence, with the command that fixes it
metarec kb build ... --learners xgboost,lightgbm   (3 tiny tasks, 2 trials)
metarec kb merge knowledge_base <built> --out <merged>
metarec recommend (merged KB)   -> xgboost ranked, with its evidence count
"""

import json
from importlib.metadata import entry_points
from pathlib import Path

import pytest
from click.testing import CliRunner

pytest.importorskip("xgboost")
pytest.importorskip("metarec_xgboost")

ROOT = Path(__file__).resolve().parents[3]
SHIPPED_KB = ROOT / "knowledge_base"
DATA = ROOT / "examples" / "rwm1984.csv"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.integration,
    pytest.mark.skipif(not any(ep.name == "xgboost" for ep in entry_points(group="metarec")),
                       reason="metarec-xgboost is not installed (pip install -e plugins/metarec-xgboost)"),
]


@pytest.fixture
def xgboost_enabled(monkeypatch, tmp_path):
    """Entry-point autoload on (the kb build workers inherit it), only this plugin, a private model cache."""
    from metarec import plugins

    monkeypatch.setenv("METAREC_DISABLE_PLUGIN_AUTOLOAD", "0")
    monkeypatch.setenv("METAREC_PLUGINS", "xgboost")
    monkeypatch.setenv("METAREC_CACHE_DIR", str(tmp_path / "cache"))
    old = plugins._HOST
    plugins.reset_plugin_host(None)
    yield
    plugins.reset_plugin_host(old)


def _metarec(*args):
    from metarec.cli import cli

    result = CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_build_merge_recommend_ranks_the_plugin_learner(xgboost_enabled, tmp_path):
    assert "xgboost" in _metarec("learners", "--task", "classification")

    before = json.loads(_metarec("recommend", DATA, "--target", "outwork", "--kb", SHIPPED_KB, "--top-k", "50",
                                 "--json"))
    assert "xgboost" not in [r["learner"] for r in before["learners"]]
    missing = {x["learner"]: x for x in before["no_evidence"]}
    assert "xgboost" in missing
    fix = missing["xgboost"]["fix"]
    assert "metarec kb build" in fix and "--learners xgboost" in fix and "metarec kb merge" in fix

    built, merged = tmp_path / "built", tmp_path / "merged"
    out = _metarec("kb", "build", "sklearn:iris", "sklearn:wine", "sklearn:breast_cancer",
                   "--learners", "xgboost,lightgbm", "--trials", "2", "--max-rows", "200", "--out", built)
    assert "3 datasets, 2 learners" in out
    _metarec("kb", "merge", SHIPPED_KB, built, "--out", merged)

    after = json.loads(_metarec("recommend", DATA, "--target", "outwork", "--kb", merged, "--top-k", "50",
                                "--json"))
    ranked = {r["learner"]: r for r in after["learners"]}
    assert "xgboost" in ranked and "xgboost" not in {x["learner"] for x in after["no_evidence"]}
    assert ranked["xgboost"]["evidence"] == 3
    assert ranked["xgboost"]["lower"] <= ranked["xgboost"]["score"] <= ranked["xgboost"]["upper"]
    # warm-start configs: its best trials on the nearest tasks it was tuned on
    assert ranked["xgboost"]["config_source"].startswith("kb") and ranked["xgboost"]["configs"]
    # run on 3 of the KB's tasks, xgboost is not taken to have failed on the others: it is not ranked last
    assert ranked["xgboost"]["rank"] < len(ranked)
    table = _metarec("recommend", DATA, "--target", "outwork", "--kb", merged, "--top-k", "50")
    unranked = [line for line in table.splitlines() if line.startswith("No knowledge-base evidence")]
    assert "xgboost" in table and not any("xgboost" in line for line in unranked)
