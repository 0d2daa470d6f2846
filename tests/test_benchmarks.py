"""The benchmarks run end to end (tiny settings): their figures in README come from these very scripts."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_warmstart_benchmark_smoke(tmp_path, monkeypatch):
    monkeypatch.setenv("METAREC_CACHE_DIR", str(tmp_path / "cache"))
    cmd = [sys.executable, str(ROOT / "benchmarks" / "warmstart.py"), "--tasks", "sklearn:wine,sklearn:diabetes",
           "--seeds", "1", "--trials", "6", "--out", str(tmp_path / "ws"), "--plot", str(tmp_path / "ws.png")]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "trials warm needs to reach cold's best-of-6" in out.stdout
    runs = [json.loads(x) for x in (tmp_path / "ws" / "runs.jsonl").read_text().splitlines()]
    assert {(r["task"], r["arm"]) for r in runs} == {(t, a) for t in ("sklearn:wine", "sklearn:diabetes")
                                                      for a in ("warm", "cold")}
    for r in runs:
        assert len(r["values"]) == 6 and r["learners"]
    for spec in ("sklearn:wine", "sklearn:diabetes"):  # held out: not among its own nearest KB tasks
        line = next(x for x in out.stdout.splitlines() if x.startswith(spec + ":"))
        assert "nearest [" in line and f"'{spec}'" not in line.split("nearest")[1]
    warm = [r for r in runs if r["arm"] == "warm"]
    assert all(len(r["warm_configs"]) == 5 for r in warm)
    assert (tmp_path / "ws.png").stat().st_size > 10_000
    # resuming does not redo finished runs
    again = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0 and "seed 0 warm" not in again.stdout
    assert len((tmp_path / "ws" / "runs.jsonl").read_text().splitlines()) == 4


def test_unscored_as_missing_rescoring_by_hand(tmp_path):
    """helena (openml:41169) has no LCDB score for logistic regression: excluded, the pick is svc_poly."""
    import re

    import numpy as np

    from metarec.kb import load_kb
    from metarec.kb.performance import performance_table

    scores = performance_table(load_kb(None), metric="accuracy", task_type="classification", source="lcdb").scores
    row = scores.loc["openml:41169"]
    assert np.isnan(row["logistic_regression"])
    doc = {"settings": {"metric": "accuracy", "task_type": "classification", "source": "lcdb"},
           "metamodels": {"lightgbm": {"mean_regret": 0.229}},
           "per_dataset": {"lightgbm": [{"dataset_id": "openml:41169", "name": "helena", "regret": 0.229,
                                         "top3": ["logistic_regression", "svc_poly", "svc_rbf"]}]}}
    (tmp_path / "loo.json").write_text(json.dumps(doc))
    out = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "unscored_as_missing.py"), str(tmp_path / "loo.json")],
                         capture_output=True, text=True, check=True).stdout
    value = float(re.search(r"mean top-1 regret (\d\.\d+)", out).group(1))
    assert value == pytest.approx(row.max() - row["svc_poly"], abs=1e-4) and "helena" in out


@pytest.mark.slow
def test_automl_benchmark_smoke(tmp_path, monkeypatch):
    monkeypatch.setenv("METAREC_CACHE_DIR", str(tmp_path / "cache"))
    # the meta-models a user's first `recommend` fits and caches, so that the short budgets below go to the search
    from metarec.kb import load_kb
    from metarec.metamodels import fit_metamodel

    for metric, task in (("accuracy", "classification"), ("r2", "regression")):
        fit_metamodel(load_kb(None), "lightgbm", metric, task)
    cmd = [sys.executable, str(ROOT / "benchmarks" / "automl.py"), "--tasks", "sklearn:wine,sklearn:diabetes",
           "--seeds", "1", "--budgets", "15,20", "--long", "2", "--methods", "metarec,hgb", "--jobs", "2",
           "--out", str(tmp_path / "am"), "--plot", str(tmp_path / "am.png")]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    runs = [json.loads(x) for x in (tmp_path / "am" / "runs.jsonl").read_text().splitlines()]
    assert {(r["task"], r["budget"], r["method"]) for r in runs} == {
        (t, b, m) for t in ("sklearn:wine", "sklearn:diabetes") for b in (15.0, 20.0) for m in ("metarec", "hgb")}
    for r in runs:
        assert r["score"] is not None and r["score"] > 0.1, r.get("error")  # wine: accuracy; diabetes: R^2
        if r["method"] == "metarec":  # the whole fit held its budget (loose: a shared machine)
            assert r["wall"] < 2 * r["budget"] and r["trials"] >= 1
    assert "== budget 15 s: 2 runs" in out.stdout and "wall / budget, max" in out.stdout
    assert (tmp_path / "am.png").stat().st_size > 10_000
    again = subprocess.run(cmd, capture_output=True, text=True, timeout=600)  # resumes: nothing to redo
    assert again.returncode == 0 and "runs to do" not in again.stdout
    assert len((tmp_path / "am" / "runs.jsonl").read_text().splitlines()) == 8
    report = subprocess.run(cmd + ["--report-only", "--per-task"], capture_output=True, text=True, timeout=600)
    wine = {r["method"]: r["score"] for r in runs if r["task"] == "sklearn:wine" and r["budget"] == 15.0}
    row = next(x for x in report.stdout.splitlines() if x.startswith("| wine | cla |"))
    assert f"{wine['metarec']:.4f}" in row and f"{wine['hgb']:.4f}" in row and "**" in row


def test_automl_report_only_refuses_what_would_run_or_drop_work(tmp_path):
    script = [sys.executable, str(ROOT / "benchmarks" / "automl.py"), "--out", str(tmp_path / "empty")]
    nothing = subprocess.run(script + ["--report-only"], capture_output=True, text=True, timeout=120)
    assert nothing.returncode != 0 and "tasks.json does not exist" in nothing.stderr
    assert not (tmp_path / "empty").exists()  # no task selection ran, nothing was written
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "tasks.json").write_text('[["sklearn:wine", "classification"]]')
    (tmp_path / "empty" / "runs.jsonl").write_text('{"task": "sklearn:wine", "method": "hgb"}\n')
    drop = subprocess.run(script + ["--report-only", "--rerun", "hgb"], capture_output=True, text=True, timeout=120)
    assert drop.returncode != 0 and "--rerun would only drop runs" in drop.stderr
    assert "hgb" in (tmp_path / "empty" / "runs.jsonl").read_text()
