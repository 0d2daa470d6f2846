"""Fault tests: a kb build killed with SIGKILL resumes; two builders share one storage."""

import os
import signal
import subprocess
import sys
import time

import pytest

from metarec.kb import KnowledgeBase

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
