"""Ctrl-C during tune: a trial cut by the interrupt is neither a failure nor counted, a press anywhere stops
the run after the trial in progress, a second press interrupts at once, and `metarec tune` interrupted in a
terminal keeps the study so that the same command resumes it."""

import json
import os
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import optuna
import pytest

import metarec
from metarec.exceptions import MetarecWarning

from .frames import _clf

REPO = Path(metarec.__file__).resolve().parents[1]


@pytest.mark.slow
@pytest.mark.usefixtures("tune_env")  # in-process: the synthetic KB, in a scratch directory
def test_a_trial_cut_by_ctrl_c_is_neither_a_failure_nor_counted_and_its_warm_config_runs_again(monkeypatch):
    import metarec.tuning.objective

    real, calls = metarec.tuning.objective.cross_validate, []

    def cut_second(*a, **k):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(*a, **k)

    kw = dict(target="y", learners="knn", warm_start=3, storage="sqlite:///c.db", cv=2, n_trials=4)
    monkeypatch.setattr(metarec.tuning.objective, "cross_validate", cut_second)
    with pytest.raises(KeyboardInterrupt):
        metarec.tune(_clf(0), **kw)
    monkeypatch.setattr(metarec.tuning.objective, "cross_validate", real)
    res = metarec.tune(_clf(0), **kw)
    trials = res.study.get_trials(deepcopy=False)
    cut = [t for t in trials if t.user_attrs.get("interrupted")]
    assert len(cut) == 1 and cut[0].number == 1 and cut[0].state == optuna.trial.TrialState.FAIL
    s = res.summary()
    assert s["n_failed"] == 0 and s["n_interrupted"] == 1 and s["n_complete"] == 4  # --trials 4 ran 4
    warm = [t for t in trials if t.user_attrs.get("warm_start") and t.state == optuna.trial.TrialState.COMPLETE]
    assert len(warm) == 3 and cut[0].params in [t.params for t in warm]  # the cut config ran after all


@pytest.mark.slow
@pytest.mark.usefixtures("tune_env")
@pytest.mark.parametrize("where", ["__del__", "swallowed", "optuna"])
def test_a_ctrl_c_anywhere_stops_the_run_after_the_trial_in_progress(where, monkeypatch, capfd):
    """A SIGINT can strike inside SQLAlchemy's weakref callback (Python prints "Exception ignored" and goes
    on) or inside Optuna's own writes (a trial left RUNNING, Optuna's traceback). A press the objective does
    not see (dropped by Python, swallowed by a library, or landing in Optuna's bookkeeping) stops the run
    after that trial, quietly, and the same call resumes it."""
    import signal
    import sys

    import metarec.tuning.objective

    saved = signal.signal(signal.SIGINT, signal.default_int_handler)  # whatever the test runner set
    hook = sys.unraisablehook
    real, calls, seen = metarec.tuning.objective.cross_validate, [], []

    class Collected:  # like SQLAlchemy's weakref callback: Python cannot raise out of it
        def __del__(self):
            signal.raise_signal(signal.SIGINT)

    def press_in_the_second_cv(*a, **k):
        calls.append(1)
        if len(calls) == 2 and where == "__del__":
            Collected()
        elif len(calls) == 2 and where == "swallowed":
            try:  # a library that catches everything
                signal.raise_signal(signal.SIGINT)
            except KeyboardInterrupt:
                seen.append("raised in the objective")
        return real(*a, **k)

    def press_in_optuna(study, trial):  # runs between trials, like Optuna's writes
        if where == "optuna" and trial.number == 1:
            signal.raise_signal(signal.SIGINT)
            seen.append("not raised outside the objective")

    monkeypatch.setattr(metarec.tuning.objective, "cross_validate", press_in_the_second_cv)
    kw = dict(target="y", learners="knn", warm_start=0, storage="sqlite:///w.db", cv=2, n_trials=6)
    try:
        with pytest.raises(KeyboardInterrupt):
            metarec.tune(_clf(0), callbacks=[press_in_optuna], **kw)
        assert signal.signal(signal.SIGINT, saved) is signal.default_int_handler  # the handler was put back
        assert sys.unraisablehook is hook
    finally:
        signal.signal(signal.SIGINT, saved)
    assert seen == {"__del__": [], "swallowed": ["raised in the objective"],
                    "optuna": ["not raised outside the objective"]}[where]
    assert "Exception ignored" not in capfd.readouterr().err
    study = optuna.load_study(study_name=optuna.get_all_study_summaries("sqlite:///w.db")[0].study_name,
                              storage="sqlite:///w.db")
    states = [t.state for t in study.get_trials(deepcopy=False)]
    assert states == [optuna.trial.TrialState.COMPLETE] * 2  # stopped after trial 1, which is kept
    monkeypatch.setattr(metarec.tuning.objective, "cross_validate", real)
    with warnings.catch_warnings():  # a large n_neighbors may fail on this small frame: it still counts
        warnings.simplefilter("ignore", MetarecWarning)
        res = metarec.tune(_clf(0), **kw)  # and the same call resumes it to 6
    assert [t.number for t in res.study.get_trials(deepcopy=False) if t.state.is_finished()] == list(range(6))


@pytest.mark.usefixtures("tune_env")
def test_a_second_ctrl_c_outside_the_objective_interrupts_at_once():
    import signal

    from metarec.tuning.interrupt import CtrlC

    saved = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with CtrlC() as ctrl_c:
            signal.raise_signal(signal.SIGINT)  # recorded only
            assert ctrl_c.pressed
            with pytest.raises(KeyboardInterrupt):
                signal.raise_signal(signal.SIGINT)
    finally:
        signal.signal(signal.SIGINT, saved)


def _as_a_terminal_job() -> None:
    """In the child before exec: SIGINT as a shell's foreground job has it (default action, not blocked),
    whatever the test runner's worker process holds and a child would otherwise inherit."""
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _complete_trials(db) -> int:
    """Trials COMPLETE in the Optuna SQLite file ``db``, read-only: a poller that opened it through Optuna
    would create its schema too, racing the tune run that is creating it."""
    import sqlite3

    if not db.exists():
        return 0
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1)
        try:
            return con.execute("SELECT count(*) FROM trials WHERE state = 'COMPLETE'").fetchone()[0]
        finally:
            con.close()
    except sqlite3.Error:  # not created yet, or mid-creation
        return 0


def _trials(storage):
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    summaries = optuna.get_all_study_summaries(storage)
    if not summaries:
        return []
    (summary,) = summaries
    return optuna.load_study(study_name=summary.study_name, storage=storage).get_trials(deepcopy=False)


#: enough trials of a few tenths of a second that the interrupt lands among them on a loaded machine
N_TRIALS = 30


@pytest.mark.slow
@pytest.mark.parametrize("budget", [None, "600"])  # with a time budget, folds run in forked children
def test_ctrl_c_during_tune_keeps_the_study_and_the_same_command_resumes_it(tmp_path, budget):
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
               "knn,decision_tree", "--trials", str(N_TRIALS), "--cv", "5", "--storage", storage, "--out", str(model)]
    command += ["--time-budget", budget] if budget else []
    # a new session, like a terminal's foreground job: Ctrl-C sends SIGINT to the whole process group
    # this checkout's metarec, whatever is installed; a meta-model cache of its own, not the user's
    env = {**os.environ, "PYTHONPATH": str(REPO), "METAREC_CACHE_DIR": str(tmp_path / "cache")}
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True, cwd=tmp_path, env=env, preexec_fn=_as_a_terminal_job)
    deadline = time.time() + 240
    while time.time() < deadline and proc.poll() is None:
        time.sleep(0.3)
        if _complete_trials(db) >= 3:
            break
    try:
        os.killpg(proc.pid, signal.SIGINT)
    except ProcessLookupError:  # finished before the interrupt: checked below
        pass
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    assert "interrupted: the study is kept in the storage; run the same command to resume it" in err
    assert not model.exists() and not list(tmp_path.glob(".model.joblib.*"))  # no (half-)written model
    before = _trials(storage)
    done_before = {t.number: (t.params, t.value) for t in before if t.state == optuna.trial.TrialState.COMPLETE}
    assert 3 <= len(done_before) < N_TRIALS, "the interrupt came too late to test anything"
    assert not [t for t in before if t.state == optuna.trial.TrialState.RUNNING]  # the cut trial was closed

    again = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=tmp_path, env=env)
    assert again.returncode == 0, again.stderr
    after = _trials(storage)
    numbers = [t.number for t in after]
    assert numbers == list(range(len(after)))  # the trial count continued, nothing renumbered or doubled
    # the trial Ctrl-C cut is recorded (wherever the signal struck), and neither counts toward --trials nor
    # as a failed configuration
    (summary,) = optuna.get_all_study_summaries(storage)
    cut_numbers = set(optuna.load_study(study_name=summary.study_name, storage=storage)
                      .user_attrs.get("metarec_interrupted", []))
    cut = [t for t in after if t.user_attrs.get("interrupted") or t.number in cut_numbers]
    assert len(cut) <= 1 and all(t.state == optuna.trial.TrialState.FAIL for t in cut)
    assert not [t for t in after if t.state == optuna.trial.TrialState.FAIL and t not in cut]
    assert sum(t.state.is_finished() and t not in cut for t in after) == N_TRIALS
    for number, (params, value) in done_before.items():  # no finished trial lost or changed
        assert after[number].params == params and after[number].value == value
    assert after[-1].number > max(done_before)

    def fixed(t):
        return json.dumps(t.system_attrs.get("fixed_params") or t.params, sort_keys=True, default=str)

    # every configuration the first run enqueued (a cut one is enqueued again) ran to the end exactly once
    warm_before = {fixed(t) for t in before if t.user_attrs.get("warm_start")}
    warm_after = [fixed(t) for t in after if t.user_attrs.get("warm_start") and t not in cut]
    assert 1 <= len(warm_before) <= 5 and sorted(warm_after) == sorted(warm_before)
    assert all(t.state == optuna.trial.TrialState.COMPLETE for t in after
               if t.user_attrs.get("warm_start") and t not in cut)
    assert model.exists() and (tmp_path / "model.joblib.json").exists()
