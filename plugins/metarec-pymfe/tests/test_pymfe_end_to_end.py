"""A KB built with the pymfe group carries its columns, and recommend computes them for a new dataset."""

import json
from importlib.metadata import entry_points
from pathlib import Path

import pytest
from click.testing import CliRunner

pytest.importorskip("pymfe")
pytest.importorskip("metarec_pymfe")

DATA = Path(__file__).resolve().parents[3] / "examples" / "rwm1984.csv"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not any(ep.name == "pymfe" for ep in entry_points(group="metarec")),
                       reason="metarec-pymfe is not installed (pip install -e plugins/metarec-pymfe)"),
]


@pytest.fixture
def pymfe_enabled(monkeypatch, tmp_path):
    from metarec import plugins

    monkeypatch.setenv("METAREC_DISABLE_PLUGIN_AUTOLOAD", "0")
    monkeypatch.setenv("METAREC_PLUGINS", "pymfe")
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


def test_kb_build_with_the_pymfe_group_then_recommend(pymfe_enabled, tmp_path):
    _metarec("kb", "build", "sklearn:iris", "sklearn:wine", "--learners", "decision_tree,knn", "--trials", "1",
             "--max-rows", "200", "--groups", "openml,pymfe", "--out", tmp_path / "kb")
    info = json.loads(_metarec("kb", "info", tmp_path / "kb", "--json"))
    from metarec.kb import load_kb

    kb = load_kb(tmp_path / "kb")
    assert "pymfe_nr_inst" in kb.metafeature_names and kb.manifest["metafeatures"]["pymfe_nr_inst"] == "pymfe:pymfe"  # plugin:group
    assert info["datasets"] == 2
    rec = json.loads(_metarec("recommend", DATA, "--target", "outwork", "--kb", tmp_path / "kb", "--json"))
    assert rec["metafeatures"]["pymfe_nr_inst"] == 3874
    assert {r["learner"] for r in rec["learners"]} == {"decision_tree", "knn"}
