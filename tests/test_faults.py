"""Fault tests: a kb build killed with SIGKILL resumes; two builders share one storage; Ctrl-C in tune resumes."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import metarec
from metarec.kb import KnowledgeBase

REPO = Path(metarec.__file__).resolve().parents[1]

BUILD = ["-m", "metarec.cli", "kb", "build", "sklearn:iris", "sklearn:wine", "--learners", "decision_tree,knn",
         "--trials", "6", "--cv", "2", "--max-rows", "150"]


def _recorded(storage):
    import optuna

    from metarec.kb.build import _recorded as rec

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    out = {}
    for s in optuna.get_all_study_summaries(storage):
        if s.study_name.startswith("hpo/"):
            study = optuna.load_study(study_name=s.study_name, storage=storage)
            out[s.study_name] = {t.number: t.user_attrs["config"] for t in rec(study)}
    return out


@pytest.mark.slow
def test_sigkill_mid_build_resumes_without_loss_or_duplicates(tmp_path):
    out = tmp_path / "kb"
    storage = f"sqlite:///{out / 'build.db'}"
    proc = subprocess.Popen([sys.executable, *BUILD, "--out", str(out)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 240
    before = {}
    while time.time() < deadline:
        time.sleep(0.5)
        if (out / "build.db").exists():
            try:
                before = _recorded(storage)
            except Exception:  # the database may be mid-creation
                continue
            if sum(len(v) for v in before.values()) >= 5:
                break
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    before = _recorded(storage)
    assert 5 <= sum(len(v) for v in before.values()) < 24, "the kill came too late to test anything"
    assert not (out / "manifest.json").exists()
    done = subprocess.run([sys.executable, *BUILD, "--out", str(out)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    after = _recorded(storage)
    for study, trials in before.items():  # nothing finished was lost or changed
        for number, config in trials.items():
            assert after[study][number] == config
    kb = KnowledgeBase.load(out)
    per_pair = kb.runs[kb.runs.metric == "accuracy"].groupby(["dataset_id", "learner"]).trial.nunique()
    assert per_pair.tolist() == [6, 6, 6, 6]
    assert not kb.runs.duplicated(["dataset_id", "learner", "trial", "metric"]).any()


@pytest.mark.slow
def test_two_builders_on_one_storage(tmp_path):
    storage = f"sqlite:///{tmp_path / 'shared.db'}"
    procs = [subprocess.Popen([sys.executable, *BUILD, "--out", str(tmp_path / f"kb{i}"), "--storage", storage],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True) for i in range(2)]
    for p in procs:
        _, err = p.communicate(timeout=600)
        assert p.returncode == 0, err
    for i in range(2):
        kb = KnowledgeBase.load(tmp_path / f"kb{i}")
        acc = kb.runs[kb.runs.metric == "accuracy"]
        assert acc.groupby(["dataset_id", "learner"]).trial.nunique().tolist() == [6, 6, 6, 6]
        assert not kb.runs.duplicated(["dataset_id", "learner", "trial", "metric"]).any()


def _trials(storage):
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    summaries = optuna.get_all_study_summaries(storage)
    if not summaries:
        return []
    (summary,) = summaries
    return optuna.load_study(study_name=summary.study_name, storage=storage).get_trials(deepcopy=False)


@pytest.mark.slow
def test_ctrl_c_during_tune_keeps_the_study_and_the_same_command_resumes_it(tmp_path):
    import numpy as np
    import optuna
    import pandas as pd

    rng = np.random.default_rng(0)
    X = rng.normal(size=(3000, 12))
    y = np.where(X[:, 0] + X[:, 1] ** 2 + rng.normal(size=3000) > 1, "a", "b")
    data = tmp_path / "data.csv"
    pd.DataFrame(X).add_prefix("x").assign(y=y).to_csv(data, index=False)
    db, model = tmp_path / "tune.db", tmp_path / "model.joblib"
    storage = f"sqlite:///{db}"
    command = [sys.executable, "-m", "metarec.cli", "tune", str(data), "--target", "y", "--learners",
               "knn,decision_tree", "--trials", "12", "--cv", "5", "--storage", storage, "--out", str(model)]
    # a new session, like a terminal's foreground job: Ctrl-C sends SIGINT to the whole process group
    env = {**os.environ, "PYTHONPATH": str(REPO)}  # this checkout's metarec, whatever is installed
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True, cwd=tmp_path, env=env)
    complete = []
    deadline = time.time() + 240
    while time.time() < deadline and proc.poll() is None:
        time.sleep(0.3)
        try:
            complete = [t for t in _trials(storage) if t.state == optuna.trial.TrialState.COMPLETE]
        except Exception:  # the database may be mid-creation
            continue
        if len(complete) >= 3:
            break
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    assert "interrupted: the study is kept in the storage; run the same command to resume it" in err
    assert not model.exists() and not list(tmp_path.glob(".model.joblib.*"))  # no (half-)written model
    before = _trials(storage)
    done_before = {t.number: (t.params, t.value) for t in before if t.state == optuna.trial.TrialState.COMPLETE}
    assert 3 <= len(done_before) < 12, "the interrupt came too late to test anything"
    assert not [t for t in before if t.state == optuna.trial.TrialState.RUNNING]  # the cut trial was closed

    again = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=tmp_path, env=env)
    assert again.returncode == 0, again.stderr
    after = _trials(storage)
    numbers = [t.number for t in after]
    assert numbers == list(range(len(after)))  # the trial count continued, nothing renumbered or doubled
    assert sum(t.state.is_finished() for t in after) == 12  # the run counted its earlier trials
    for number, (params, value) in done_before.items():  # no finished trial lost or changed
        assert after[number].params == params and after[number].value == value
    assert after[-1].number > max(done_before)
    assert sum(t.user_attrs.get("warm_start", False) for t in after) <= 2  # warm start not enqueued twice
    assert model.exists() and (tmp_path / "model.joblib.json").exists()
