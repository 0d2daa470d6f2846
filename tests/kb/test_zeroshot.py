"""Zero-shot configurations: search evidence from every source, normalised within (dataset, source), chosen
by the new dataset's nearest searched tasks."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from metarec.kb.format import RUN_COLUMNS, KnowledgeBase, new_manifest
from metarec.kb.zeroshot import beats_significantly, portfolio, search_runs, zero_shot_configs


def _run(d, source, t, cfg, score, metric="accuracy", status="ok", learner="h"):
    return {"dataset_id": d, "source": source, "learner": learner, "config_id": json.dumps(cfg, sort_keys=True),
            "config": json.dumps(cfg), "metric": metric, "train_size": 100.0, "score": score, "score_std": 0.0,
            "valid_score": np.nan, "valid_score_std": np.nan, "fit_time": 1.0, "n_repeats": 1.0, "trial": float(t),
            "status": status}


def _search(d, source, best_k, scale=1.0, metric="accuracy", offset=0.5):
    """Six configs {"k": 0..5} on dataset d: the one with k == best_k scores highest, the others fall off."""
    return [_run(d, source, t, {"k": k}, offset + scale * (0.3 - 0.05 * abs(k - best_k)), metric)
            for t, k in enumerate(range(6))]


def _kb(runs, size):
    ids = list(size)
    ds = pd.DataFrame({"dataset_id": ids, "name": ids, "source": "x", "task_type": "classification",
                       "openml_id": np.nan, "n_rows": 1.0, "n_features": 1.0, "n_classes": 2.0,
                       "NumberOfInstances": [float(size[i]) for i in ids]})
    return KnowledgeBase(ds, pd.DataFrame(runs)[list(RUN_COLUMNS)], new_manifest())


def _x(n):
    return pd.Series({"NumberOfInstances": float(n)})


def test_zero_shot_configs_follow_the_nearest_searched_tasks():
    # small tables want k=1, large ones k=4; a new dataset takes the configs of the tasks nearest in size
    runs = (_search("s1", "tabrepo", 1) + _search("s2", "sklearn-bot", 1) + _search("s3", "tabrepo", 1, metric="auc")
            + _search("l1", "tabrepo", 4) + _search("l2", "openml-pimp", 4) + _search("l3", "tabrepo", 4))
    kb = _kb(runs, {"s1": 100, "s2": 150, "s3": 120, "l1": 1e5, "l2": 2e5, "l3": 3e5})
    cfgs, tasks = zero_shot_configs(kb, _x(110), "h", "accuracy", "classification", k=2, n_tasks=3)
    assert cfgs[0] == {"k": 1} and set(tasks) == {"s1", "s2", "s3"} and tasks[0] == "s3"
    cfgs, tasks = zero_shot_configs(kb, _x(150_000), "h", "accuracy", "classification", k=1, n_tasks=3)
    assert cfgs == [{"k": 4}] and set(tasks) == {"l1", "l2", "l3"}
    assert zero_shot_configs(kb, _x(110), "other", "accuracy", "classification") == ([], [])
    assert zero_shot_configs(kb, _x(110), "h", "accuracy", "classification", k=0) == ([], [])


def test_evidence_of_metarecs_own_protocol_is_preferred_to_imported_results():
    # imported results on the nearest tasks favour k=1; kb build's studies, farther away, favour k=4
    runs = _search("s1", "tabrepo", 1) + _search("s2", "openml-pimp", 1) + _search("l1", "hpo", 4)
    kb = _kb(runs, {"s1": 100, "s2": 150, "l1": 1e5})
    cfgs, tasks = zero_shot_configs(kb, _x(110), "h", "accuracy", "classification", k=1)
    assert cfgs == [{"k": 4}] and tasks == ["l1"]
    # a learner without any: the imported results
    runs = [dict(r, learner="svc") for r in _search("s1", "sklearn-bot", 2)] + _search("l1", "hpo", 4)
    cfgs, _ = zero_shot_configs(_kb(runs, {"s1": 100, "l1": 1e5}), _x(110), "svc", "accuracy", "classification", k=1)
    assert cfgs == [{"k": 2}]


def test_search_runs_normalise_within_dataset_and_source_never_across():
    # dataset a under two sources: tabrepo's raw scores are all above openml-pimp's and favour k=4; compared
    # raw, k=1 (best of openml-pimp on a and b) would sit below tabrepo's median
    runs = (_search("a", "openml-pimp", 1) + _search("b", "openml-pimp", 1)
            + _search("a", "tabrepo", 4, offset=0.9))
    kb = _kb(runs, {"a": 100, "b": 100})
    r = search_runs(kb, "accuracy", "classification")
    assert set(zip(r["dataset_id"], r["source"])) == {("a", "openml-pimp"), ("b", "openml-pimp"), ("a", "tabrepo")}
    for normalise in ("regret", "spread"):
        cfgs, tasks = zero_shot_configs(kb, _x(100), "h", "accuracy", "classification", k=2, n_tasks=3,
                                        normalise=normalise)
        assert cfgs == [{"k": 1}, {"k": 4}] and sorted(tasks) == ["a", "a", "b"]


def test_search_runs_fall_back_to_another_metric_and_drop_default_only_sources():
    runs = (_search("a", "tabrepo", 2, metric="auc")  # no accuracy there: AUC orders its configs
            + _search("a", "hpo", 3, metric="accuracy") + _search("a", "hpo", 0, metric="auc")
            + [_run("b", "lcdb", 0, {}, 0.8)]  # one config (a default): no search evidence
            + [_run("b", "hpo", t, {"k": 1}, 0.7) for t in range(3)]  # one config, three times: no search
            + [_run("c", "hpo", t, {"k": t}, 0.7, status="failed") for t in range(6)])  # none ok
    kb = _kb(runs, {"a": 1, "b": 2, "c": 3})
    r = search_runs(kb, "accuracy", "classification")
    assert set(r["dataset_id"]) == {"a"}
    assert set(r.loc[r["source"] == "tabrepo", "metric"]) == {"auc"}
    assert set(r.loc[r["source"] == "hpo", "metric"]) == {"accuracy"}  # the metric asked for wins where it exists
    assert len(search_runs(kb, "accuracy", "classification", min_configs=1).query("dataset_id == 'b'")) == 4
    assert search_runs(kb, "accuracy", "regression").empty
    with pytest.raises(Exception, match="unknown metric"):
        search_runs(kb, "nope", "classification")


def test_lower_is_better_metrics_are_negated_before_ranking():
    losses = [0.9, 0.2, 0.5, 0.7, 0.8]
    runs = [_run("a", "tabrepo", t, {"k": t}, loss, metric="logloss") for t, loss in enumerate(losses)]
    kb = _kb(runs, {"a": 1})
    cfgs, _ = zero_shot_configs(kb, _x(1), "h", "accuracy", "classification", k=1)
    assert cfgs == [{"k": 1}]  # the lowest log loss


def test_portfolio_candidates_per_task_limits_the_candidates_not_the_evidence():
    per_task = [[(json.dumps({"k": k}), float(s), k) for k, s in enumerate([0.9, 0.8, 0.1, 0.95])]]
    assert portfolio(per_task, 4, candidates_per_task=2) == [{"k": 3}, {"k": 0}]
    assert len(portfolio(per_task, 4)) == 4
    assert portfolio([], 3) == [] and portfolio(per_task, 0) == []


def test_search_runs_of_some_sources_and_learners():
    runs = (_search("a", "hpo", 1) + _search("a", "tabrepo", 2)
            + [dict(r, learner="other") for r in _search("b", "hpo", 3)])
    kb = _kb(runs, {"a": 1, "b": 2})
    r = search_runs(kb, "accuracy", "classification", sources=["tabrepo"])
    assert set(r["source"]) == {"tabrepo"}
    r = search_runs(kb, "accuracy", "classification", learners=["other"])
    assert set(r["learner"]) == {"other"} and set(r["dataset_id"]) == {"b"}


def test_the_sign_test_that_lets_a_configuration_replace_the_default():
    assert beats_significantly(7, 8) and beats_significantly(8, 8)  # P(>= 7 of 8) = 9/256 < 0.05
    assert not beats_significantly(6, 8)  # 37/256 = 0.14
    assert beats_significantly(10, 12) and not beats_significantly(9, 12)
    assert not beats_significantly(0, 0) and not beats_significantly(3, 3)  # 1/8 > 0.05: too few tasks to tell


def _tasks(gains):
    """One task per gain: the default {"d": 1} scores 0.8, the candidate {"c": 1} 0.8 + gain, a third 0.7."""
    return [[(json.dumps({"d": 1}), 0.8, 0), (json.dumps({"c": 1}), 0.8 + g, 1), (json.dumps({"o": 1}), 0.7, 2)]
            for g in gains]


def test_the_default_stays_first_unless_a_configuration_beats_it_on_significantly_many_tasks():
    default = {"d": 1}
    # better in mean (+0.30 +0.30 on two tasks) but worse on six of eight: the mean alone would pick it
    lopsided = _tasks([0.3, 0.3, -0.02, -0.02, -0.02, -0.02, -0.02, -0.02])
    assert portfolio(lopsided, 1, normalise="regret") == [{"c": 1}]
    assert portfolio(lopsided, 2, normalise="regret", incumbent=default) == [default, {"c": 1}]
    # better on seven of eight and in mean: it replaces the default
    steady = _tasks([0.02] * 7 + [-0.01])
    assert portfolio(steady, 1, normalise="regret", incumbent=default) == [{"c": 1}]
    # better on six of eight only: not significant, the default stays
    assert portfolio(_tasks([0.02] * 6 + [-0.01] * 2), 1, normalise="regret", incumbent=default) == [default]
    # better on every task but worse in mean is impossible; worse in mean, better on seven: the default stays
    assert portfolio(_tasks([0.001] * 7 + [-0.5]), 1, normalise="regret", incumbent=default) == [default]
    # an incumbent no task ran is a candidate too; on three tasks nothing can beat it significantly
    assert portfolio(_tasks([0.3, 0.3, 0.3]), 2, normalise="regret", incumbent={"z": 1}) == [{"z": 1}, {"c": 1}]


def test_when_the_default_is_beaten_the_first_pick_is_a_candidate_that_beat_it_significantly():
    default = {"d": 1}
    # A beats the default by 0.01 on all 8 tasks; B gains 0.3 on 2 and loses 0.02 on 6: B has the better mean
    tasks = [[(json.dumps(default), 0.8, 0), (json.dumps({"a": 1}), 0.81, 1), (json.dumps({"b": 1}), 0.8 + g, 2)]
             for g in [0.3, 0.3] + [-0.02] * 6]
    assert portfolio(tasks, 1, normalise="regret") == [{"b": 1}]
    assert portfolio(tasks, 2, normalise="regret", incumbent=default) == [{"a": 1}, {"b": 1}]
    # the incumbent is matched whatever the order of its keys
    shuffled = [[(json.dumps({"y": 2, "x": 1}), 0.8, 0), (json.dumps({"c": 1}), 0.79, 1)] for _ in range(8)]
    assert portfolio(shuffled, 2, normalise="regret", incumbent={"x": 1, "y": 2}) == [{"x": 1, "y": 2}, {"c": 1}]


def test_an_incumbent_no_task_ran_leaves_the_other_picks_as_they_were():
    rng = np.random.default_rng(0)
    tasks = [[(json.dumps({"lr": float(lr), "leaves": int(n)}), float(0.8 - abs(np.log(lr / 0.05)) / 20
                                                                          + rng.normal(0, 0.005)), t)
              for t, (lr, n) in enumerate(zip(rng.uniform(0.005, 0.5, 12), rng.integers(4, 256, 12)))]
             for _ in range(8)]
    alone = portfolio(tasks, 4, normalise="regret")
    # a default outside every run's range, with a parameter none has, beaten on every task: the picks are the
    # runs' own, as without it (placing it must not rescale the runs' config space, which moves the smoothing)
    with_default = portfolio(tasks, 4, normalise="regret", incumbent={"lr": 5.0, "leaves": 1000, "extra": "x"})
    assert with_default == alone


def test_cached_search_evidence_is_the_same_and_needs_no_runs_table(tmp_path, monkeypatch):
    monkeypatch.setenv("METAREC_CACHE_DIR", str(tmp_path / "cache"))
    runs = (_search("a", "hpo", 1) + _search("a", "tabrepo", 2)
            + [dict(r, learner="other") for r in _search("b", "hpo", 3)])
    _kb(runs, {"a": 1, "b": 2}).save(tmp_path / "kb")
    key = ["dataset_id", "source", "learner", "config", "trial"]

    def same(a, b):
        return a.sort_values(key).reset_index(drop=True).equals(b.sort_values(key).reset_index(drop=True))

    kb = KnowledgeBase.load(tmp_path / "kb")
    plain = search_runs(kb, "accuracy", "classification")
    first = search_runs(kb, "accuracy", "classification", learners=["h"], cache=True)  # computes, then caches
    assert same(first, plain[plain["learner"] == "h"]) and len(first) == 12
    assert list((tmp_path / "cache" / "tables").glob("search-*.parquet"))
    again = KnowledgeBase.load(tmp_path / "kb")
    for learners, sources in ((["h"], None), (None, ["tabrepo"]), (["other", "h"], ["hpo"]), ([], None)):
        got = search_runs(again, "accuracy", "classification", learners=learners, sources=sources, cache=True)
        want = search_runs(kb, "accuracy", "classification", learners=learners, sources=sources)
        assert same(got, want), (learners, sources)
    assert "runs" not in vars(again)  # read from the cache alone
    for f in (tmp_path / "cache" / "tables").glob("search-*.parquet"):
        f.write_bytes(b"junk")  # an unreadable entry is rebuilt
    assert same(search_runs(KnowledgeBase.load(tmp_path / "kb"), "accuracy", "classification", cache=True), plain)
