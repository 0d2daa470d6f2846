"""`metarec metafeatures` as a user types it, and the speed benchmark on a small size."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from metarec.cli import cli, main
from metarec.metafeatures.openml import OPENML_QUALITY_NAMES

from ..helpers import ORACLES

ROOT = Path(__file__).resolve().parents[2]
CREDIT = ORACLES / "credit-g" / "dataset.arff"


def test_metafeatures_json_openml_group_matches_lcdb_row():
    r = CliRunner().invoke(cli, ["metafeatures", str(CREDIT), "--target", "class", "--groups", "openml", "--json"])
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    mf = data["metafeatures"]
    assert list(mf) == list(OPENML_QUALITY_NAMES)
    assert mf["NumberOfInstances"] == 1000 and mf["NumberOfFeaturesAfterBinarization"] == 63
    assert data["report"]["groups"]["openml"]["status"] == "ok"


def test_metafeatures_table_and_groups():
    r = CliRunner().invoke(cli, ["metafeatures", str(CREDIT), "-t", "class", "-g", "openml,statistical"])
    assert r.exit_code == 0, r.output
    assert "ClassEntropy" in r.output and "stat_log_n_rows" in r.output and "lm_1nn_accuracy" not in r.output


def test_metafeatures_budget_reports_skips():
    r = CliRunner().invoke(cli, ["metafeatures", str(CREDIT), "-t", "class", "--time-budget", "0", "--json"])
    assert r.exit_code == 0
    data = json.loads(r.stdout)
    assert all(v is None for v in data["metafeatures"].values())
    assert "Warning: meta-feature group openml skipped" in r.stderr


def test_metafeatures_regression_csv(tmp_path):
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(1)
    df = pd.DataFrame({"a": rng.normal(size=80), "b": rng.choice(["u", "v"], 80)})
    df["y"] = df.a * 3 + rng.normal(size=80)
    df.to_csv(tmp_path / "r.csv", index=False)
    r = CliRunner().invoke(cli, ["metafeatures", str(tmp_path / "r.csv"), "-t", "y", "--json", "-g", "openml"])
    data = json.loads(r.stdout)
    assert data["task_type"] == "regression"
    assert data["metafeatures"]["NumberOfClasses"] == 0 and data["metafeatures"]["ClassEntropy"] is None


@pytest.mark.parametrize("args,fragment", [
    (["metafeatures", "nope.csv", "-t", "y"], "no such file"),
    (["metafeatures", str(CREDIT), "-t", "klass"], "did you mean 'class'"),
    (["metafeatures", str(CREDIT), "-t", "class", "-g", "nope"], "unknown metafeature group 'nope'"),
])
def test_metafeatures_errors_are_one_line(args, fragment, capsys):
    with pytest.raises(SystemExit) as exc:
        main(args)
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("Error: ") and fragment in err and "\n" not in err


@pytest.mark.slow
def test_speed_benchmark_runs_small():
    out = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "metafeatures_speed.py"), "--rows",
                          "2000,4000", "--repeat", "1", "--pymfe-max-rows", "0"],
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    assert "2,000" in out.stdout and "4,000" in out.stdout


@pytest.mark.parametrize("task", ["classification", "regression"])
def test_metafeatures_table_shows_groups_and_only_the_features_of_the_task(task, tmp_path):
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    x = rng.normal(size=120)
    y = (x > 0).astype(int) if task == "classification" else x * 3 + rng.normal(size=120)
    path = tmp_path / "d.csv"
    pd.DataFrame({"x": x, "z": rng.normal(size=120), "y": y}).to_csv(path, index=False)
    args = ["metafeatures", str(path), "-t", "y", "--task", task, "-g", "openml,statistical,landmarkers"]
    r = CliRunner().invoke(cli, args, terminal_width=200)
    assert r.exit_code == 0, r.output
    other = {"classification": ["stat_target_skewness", "lm_linear_r2"],
             "regression": ["ClassEntropy", "NaiveBayesErrRate", "stat_minority_class_fraction", "lm_1nn_kappa"]}
    own = {"classification": ["ClassEntropy", "lm_1nn_kappa"], "regression": ["stat_target_skewness", "lm_linear_r2"]}
    rows = {line.split("│")[2].strip(): line.split("│")[1].strip() for line in r.output.splitlines()
            if line.count("│") == 4}
    assert all(name not in rows for name in other[task])
    assert all(name in rows for name in own[task])
    assert rows["stat_log_n_rows"] == "statistical" and rows["NumberOfInstances"] == "openml"
    assert "not shown" in r.output
    data = json.loads(CliRunner().invoke(cli, args + ["--json"]).stdout)
    assert set(other[task]) <= set(data["not_applicable"]) and not set(own[task]) & set(data["not_applicable"])
    assert data["groups"]["lm_1nn_kappa"] == "landmarkers" and set(data["groups"]) == set(data["metafeatures"])
