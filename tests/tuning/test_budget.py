"""A time-budgeted run: folds one by one, a running trial cut at the budget, hopeless configurations pruned."""

import json
import os
import time

import numpy as np
import optuna
import pytest

import metarec
import metarec.tuning.budget
import metarec.tuning.objective
from metarec.exceptions import MetarecError
from metarec.tuning.forked import CAN_FORK

needs_fork = pytest.mark.skipif(not CAN_FORK, reason="folds run in forked children on Linux only")

from .frames import _clf


def _objective(frame, **kw):
    from metarec.learners import get_learner
    from metarec.tuning.objective import make_objective

    return make_objective(frame[["a", "b", "c"]], frame["y"], "classification", [get_learner("decision_tree")], "accuracy",
                          cv=3, **kw)


def test_folds_one_by_one_score_as_scikit_learns_cross_val_score():
    from sklearn.metrics import get_scorer
    from sklearn.model_selection import cross_val_score

    from metarec.kb.evaluation import cv_splitter
    from metarec.learners import get_learner
    from metarec.tuning.objective import cross_validate

    frame = _clf(3, n=90, classes=("p", "q", "r"))
    X, y = frame[["a", "b", "c"]], np.unique(frame["y"], return_inverse=True)[1]
    learner = get_learner("random_forest")
    pipe = learner.make_pipeline(dict(learner.default_config), random_state=0)
    splitter = cv_splitter(y, "classification", 3, 0)
    ours = cross_validate(pipe, X, y, list(splitter.split(X, y)), get_scorer("accuracy"))
    assert np.allclose(ours, cross_val_score(pipe, X, y, cv=splitter, scoring="accuracy"))


@needs_fork
def test_a_fold_in_a_forked_child_is_killed_when_its_time_is_up():
    from metarec.tuning.forked import BudgetEnded, FoldError, run_forked

    assert run_forked(lambda: 42.5, 30) == 42.5
    t0 = time.perf_counter()
    with pytest.raises(BudgetEnded):
        run_forked(lambda: time.sleep(30), 0.5)
    assert time.perf_counter() - t0 < 5
    with pytest.raises(FoldError, match="ZeroDivisionError: division by zero"):
        run_forked(lambda: 1 / 0, 30)
    with pytest.raises(FoldError, match="died without a result"):
        run_forked(lambda: os._exit(3), 30)


@needs_fork
def test_killed_folds_leave_no_open_descriptor_and_no_child_behind():
    from metarec.tuning.forked import BudgetEnded, run_forked

    fds = set(os.listdir("/proc/self/fd"))
    before = _children()  # an earlier test's helpers (a resource tracker, a pool) may be children already
    for _ in range(5):
        with pytest.raises(BudgetEnded):
            run_forked(lambda: time.sleep(30), 0.05)
        assert run_forked(lambda: 1.0, 30) == 1.0
    assert set(os.listdir("/proc/self/fd")) == fds
    assert _children() - before == set()


def _children() -> set:
    return {p for p in os.listdir("/proc") if p.isdigit() and _parent(p) == os.getpid()}


def _parent(pid: str) -> int | None:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return int(fh.read().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return None


def test_a_trial_running_when_the_budget_ends_is_cut_before_its_next_fold(monkeypatch):
    monkeypatch.setattr(metarec.tuning.objective, "CAN_FORK", False)  # between folds: where fork is missing
    real = metarec.tuning.objective.cross_validate

    def one_slow_fold(pipe, X, y, folds, score, before_fold=None, run_fold=None):
        def slow(step, scores):
            before_fold(step, scores)
            time.sleep(0.4)
        return real(pipe, X, y, folds, score, slow, run_fold)

    monkeypatch.setattr(metarec.tuning.objective, "cross_validate", one_slow_fold)
    end = time.perf_counter() + 0.6  # the first fold ends past the trial's cut (half of the time left)
    study = optuna.create_study(direction="maximize")
    study.optimize(_objective(_clf(0), deadline=lambda: end, trial_share=0.5), n_trials=1)
    trial = study.trials[0]
    assert trial.state == optuna.trial.TrialState.PRUNED and trial.user_attrs["cut_by_budget"]
    assert trial.user_attrs["needs_seconds"] > 0.4 * 3 * 0.9  # one fold ran: the estimate is for three


def test_a_configuration_trailing_the_others_after_a_fold_is_pruned(monkeypatch):
    folds = iter([[0.9, 0.9, 0.9], [0.2, 0.9, 0.9], [0.95, 0.95, 0.95]])
    ran = []

    def fake(pipe, X, y, folds_, score, before_fold=None, run_fold=None):  # fold scores given per trial, no fitting
        values, scores = next(folds), []
        for step, v in enumerate(values):
            before_fold(step, scores)
            scores.append(v)
        ran.append(len(scores))
        return scores

    monkeypatch.setattr(metarec.tuning.objective, "cross_validate", fake)
    study = optuna.create_study(direction="maximize",
                                pruner=optuna.pruners.MedianPruner(n_startup_trials=1, n_warmup_steps=0))
    study.optimize(_objective(_clf(0), prune=True), n_trials=3)
    states = [t.state for t in study.trials]
    S = optuna.trial.TrialState
    assert states == [S.COMPLETE, S.PRUNED, S.COMPLETE] and ran == [3, 3]  # the pruned one stopped after 1 fold
    # without pruning every configuration runs all its folds
    folds = iter([[0.9, 0.9, 0.9], [0.2, 0.9, 0.9]])
    study = optuna.create_study(direction="maximize",
                                pruner=optuna.pruners.MedianPruner(n_startup_trials=1, n_warmup_steps=0))
    study.optimize(_objective(_clf(0)), n_trials=2)
    assert [t.state for t in study.trials] == [S.COMPLETE, S.COMPLETE]


@needs_fork
def test_a_budget_that_no_trial_fits_in_says_how_long_the_first_trial_needs(monkeypatch):
    real = metarec.tuning.objective.cross_validate

    def slow(pipe, X, y, folds, score, before_fold=None, run_fold=None):  # each fold takes 30 s, in its child
        assert run_fold is not None  # under a budget, folds run in forked children the budget can kill
        return real(pipe, X, y, folds, score, before_fold, lambda fn: run_fold(lambda: (time.sleep(30), fn())[1]))

    monkeypatch.setattr(metarec.tuning.objective, "cross_validate", slow)
    t0 = time.perf_counter()
    with pytest.raises(MetarecError, match=r"no trial finished within the time budget of 3 s: its first trial "
                                           r"alone needs about \d+ s; raise --time-budget"):
        metarec.tune(_clf(0), target="y", learners="knn", time_budget=3, cv=3, warm_start=0)
    assert time.perf_counter() - t0 < 4.5  # each trial was killed in its first fold, within the budget


@pytest.mark.parametrize("at_call, kept", [(3, True), (1, False)])
def test_ctrl_c_in_an_estimators_fit_keeps_the_best_trial_found(monkeypatch, at_call, kept):
    from metarec import AutoClassifier
    from metarec.exceptions import MetarecWarning

    real, calls = metarec.tuning.objective.cross_validate, []

    def press(*a, **k):  # Ctrl-C during the at_call-th trial's cross-validation
        calls.append(1)
        if len(calls) == at_call:
            raise KeyboardInterrupt
        return real(*a, **k)

    monkeypatch.setattr(metarec.tuning.objective, "cross_validate", press)
    frame = _clf(0)
    est = AutoClassifier(time_budget=None, n_trials=6, learners=["decision_tree"], warm_start=0, cv=2)
    if not kept:  # nothing finished: the interrupt goes on
        with pytest.raises(KeyboardInterrupt):
            est.fit(frame[["a", "b", "c"]], frame["y"])
        return
    with pytest.warns(MetarecWarning, match="interrupted: the best of the 2 trials that finished"):
        est.fit(frame[["a", "b", "c"]], frame["y"])
    complete = [t for t in est.study_.trials if t.state == optuna.trial.TrialState.COMPLETE]
    assert len(calls) == 3 and len(complete) == 2 and est.best_score_ == max(t.value for t in complete)
    assert est.predict(frame[["a", "b", "c"]]).shape == (len(frame),)


@needs_fork
def test_a_refit_that_cannot_finish_within_the_budget_gives_way_to_a_faster_trial(monkeypatch, tmp_path):
    from metarec.exceptions import MetarecWarning

    real, parent, first = metarec.tuning.budget.refit, os.getpid(), tmp_path / "first refit"

    def slow_in_a_child(ds, learner, config, random_state=0):  # the budgeted refits run in forked children
        if os.getpid() != parent and not first.exists():  # the best's refit hangs; the faster one's does not
            first.touch()
            time.sleep(60)
        return real(ds, learner, config, random_state)

    monkeypatch.setattr(metarec.tuning.budget, "refit", slow_in_a_child)
    t0 = time.perf_counter()
    with pytest.warns(MetarecWarning, match="did not finish within the time budget; refit a faster one instead"):
        res = metarec.tune(_clf(0), target="y", learners="knn,decision_tree", time_budget=3, cv=2, warm_start=0)
    assert time.perf_counter() - t0 < 3 * 1.1 + 1.5
    done = [t for t in res.study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    best = max(done, key=lambda t: t.value)
    cheap = [t for t in done if t.user_attrs["cv_seconds"] <= 0.25 * best.user_attrs["cv_seconds"]]
    fallback = max(cheap, key=lambda t: t.value) if cheap else min(done, key=lambda t: t.user_attrs["cv_seconds"])
    assert res.best_score == fallback.value and res.best_learner == fallback.params["learner"]
    assert len(res.best_pipeline.predict(_clf(1)[["a", "b", "c"]])) == 60


@needs_fork
def test_the_refit_that_gives_way_is_the_best_of_the_cheap_trials_not_a_degenerate_fastest(monkeypatch):
    """Trials: the best (CV 0.9, 8 s), a good cheap one (0.85, 1.5 s), a degenerate fastest (0.6, 0.1 s) and a
    slow one (0.8, 6 s): when the best's refit overruns, the good cheap one (at most a quarter of the best's
    CV time) is refit, not the fastest."""
    import optuna

    from metarec.exceptions import MetarecWarning
    from metarec.tuning.budget import refit_within

    parent = os.getpid()

    def fake_refit(ds, learner, config, random_state=0):
        if learner in slow:  # in the forked child: killed when its time is up
            time.sleep(60)
        return ("pipeline", learner, config, os.getpid() != parent)

    monkeypatch.setattr(metarec.tuning.budget, "refit", fake_refit)
    study = optuna.create_study(direction="maximize")
    dist = {"learner": optuna.distributions.CategoricalDistribution(["a", "b", "c", "d"])}
    for name, value, seconds in (("a", 0.9, 8.0), ("b", 0.85, 1.5), ("c", 0.6, 0.1), ("d", 0.8, 6.0)):
        study.add_trial(optuna.trial.create_trial(params={"learner": name}, distributions=dist, value=value,
                                                  user_attrs={"cv_seconds": seconds, "config": json.dumps({"k": name})}))
    slow = {"a"}
    with pytest.warns(MetarecWarning, match=r"refit a faster one instead \(b, CV 0.8500\)"):
        trial, pipe = refit_within(None, study, study.best_trial, time.perf_counter(), 2.0, 0)
    assert trial.params["learner"] == "b" and pipe == ("pipeline", "b", {"k": "b"}, True)  # refit in a child too
    # the faster one overruns as well (quick folds, slow on all the rows): a clear error within the budget, no hang
    slow = {"a", "b"}
    t0 = time.perf_counter()
    with pytest.warns(MetarecWarning), pytest.raises(MetarecError, match="could be refit on all the rows within the "
                                                                         "time budget of 2 s; give a larger"):
        refit_within(None, study, study.best_trial, time.perf_counter(), 2.0, 0)
    assert time.perf_counter() - t0 < 10


def test_the_trial_refit_under_a_budget_is_the_best_whose_refit_takes_at_most_a_quarter_of_it():
    """An SVC that wins by a hair but whose refit (and calibration) would take most of the budget is not the
    trial refit: the guard reserves, and tune refits, the best affordable one, with a warning."""
    from metarec.exceptions import MetarecWarning
    from metarec.tuning.budget import BudgetGuard, affordable

    study = optuna.create_study(direction="maximize")
    dist = {"learner": optuna.distributions.CategoricalDistribution(["svc_rbf", "random_forest", "knn"])}
    for name, value, seconds in (("svc_rbf", 0.84, 39.0), ("random_forest", 0.83, 1.4), ("knn", 0.70, 0.2)):
        study.add_trial(optuna.trial.create_trial(params={"learner": name}, distributions=dist, value=value,
                                                  user_attrs={"cv_seconds": seconds}))
    svc, forest = study.trials[0], study.trials[1]
    guard = BudgetGuard(time.perf_counter() + 1000, cv=3, calibrated=frozenset({"svc_rbf"}), budget=120)
    assert guard.refit_seconds(svc) == pytest.approx(39.0 / 2 * 4) and guard.refit_seconds(forest) == 0.7
    assert guard.choice(study.trials).number == forest.number
    guard(study, study.trials[-1])
    assert guard.reserve == pytest.approx(0.7)  # the forest's refit is reserved, not the SVC's 78 s
    with pytest.warns(MetarecWarning, match=r"svc_rbf, CV 0.8400\) needs about 78 s to refit, over 25% of the "
                                            r"time budget; refit the best that does not \(random_forest"):
        assert affordable(svc, study, guard).number == forest.number
    roomy = BudgetGuard(time.perf_counter() + 1000, cv=3, calibrated=frozenset({"svc_rbf"}), budget=600)
    assert affordable(svc, study, roomy) is svc and affordable(svc, study, None) is svc
