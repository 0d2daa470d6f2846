"""Knowledge base: format round-trip, validation failures, merge, LCDB import, kb build and resume."""

import json
import os
import shutil

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from metarec.cli import cli
from metarec.exceptions import KnowledgeBaseError
from metarec.kb import KnowledgeBase
from metarec.kb.build import BuildSettings, build_kb
from metarec.kb.format import RUN_COLUMNS, config_id, new_manifest
from metarec.kb.lcdb import find_lcdb_dir, import_lcdb
from metarec.metafeatures.subsample import anchor_for
from metarec.metafeatures.subsample import feature_names as subsample_feature_names


def _toy_kb(ids=("a", "b"), learners=("random_forest", "knn")) -> KnowledgeBase:
    ds = pd.DataFrame({
        "dataset_id": list(ids), "name": list(ids), "source": "test", "task_type": "classification",
        "openml_id": np.nan, "n_rows": 100.0, "n_features": 5.0, "n_classes": 2.0,
        "NumberOfInstances": 100.0, "ClassEntropy": [0.5 + i / 10 for i in range(len(ids))],
    })
    rows = []
    for d in ids:
        for lr in learners:
            rows.append({"dataset_id": d, "source": "hpo", "learner": lr, "config_id": config_id("{}"),
                         "config": "{}", "metric": "accuracy", "train_size": 66.0, "score": 0.8,
                         "score_std": 0.01, "valid_score": np.nan, "valid_score_std": np.nan, "fit_time": 0.1,
                         "n_repeats": 3.0, "trial": 0.0, "status": "ok"})
    m = new_manifest()
    m["sources"] = [{"name": "test"}]
    m["metafeatures"] = {"NumberOfInstances": "x", "ClassEntropy": "x"}
    m["learners"] = {lr: "metarec.learners.builtin" for lr in learners}
    return KnowledgeBase(ds, pd.DataFrame(rows, columns=list(RUN_COLUMNS)), m)


def test_round_trip(tmp_path):
    kb = _toy_kb()
    kb.save(tmp_path / "kb")
    files = sorted(p.name for p in (tmp_path / "kb").iterdir())
    assert files == ["datasets.parquet", "manifest.json", "runs.parquet"]  # no temp files, no pickle
    back = KnowledgeBase.load(tmp_path / "kb")
    pd.testing.assert_frame_equal(back.runs, kb.runs, check_dtype=False)
    assert back.metafeature_names == ["NumberOfInstances", "ClassEntropy"]
    manifest = json.loads((tmp_path / "kb" / "manifest.json").read_text())
    assert set(manifest["tables"]) == {"datasets.parquet", "runs.parquet"}
    assert all(len(t["sha256"]) == 64 for t in manifest["tables"].values())
    assert back.checksum == kb.checksum


@pytest.fixture
def saved(tmp_path):
    path = tmp_path / "kb"
    _toy_kb().save(path)
    return path


def test_truncated_table(saved):
    p = saved / "runs.parquet"
    p.write_bytes(p.read_bytes()[:100])
    with pytest.raises(KnowledgeBaseError, match="runs.parquet: checksum does not match"):
        KnowledgeBase.load(saved)


def test_edited_table(saved):
    frame = pd.read_parquet(saved / "runs.parquet")
    frame.loc[0, "score"] = 1.0
    frame.to_parquet(saved / "runs.parquet")
    with pytest.raises(KnowledgeBaseError, match="edited or truncated"):
        KnowledgeBase.load(saved)


def test_missing_manifest_and_table(saved, tmp_path):
    other = tmp_path / "other"
    shutil.copytree(saved, other)
    (saved / "manifest.json").unlink()
    with pytest.raises(KnowledgeBaseError, match="manifest missing"):
        KnowledgeBase.load(saved)
    (other / "datasets.parquet").unlink()
    with pytest.raises(KnowledgeBaseError, match="datasets.parquet: table missing"):
        KnowledgeBase.load(other)


def test_newer_schema(saved):
    m = json.loads((saved / "manifest.json").read_text())
    m["schema_version"] = 99
    (saved / "manifest.json").write_text(json.dumps(m))
    with pytest.raises(KnowledgeBaseError, match="schema version 99 is newer.*upgrade metarec"):
        KnowledgeBase.load(saved)


def test_not_a_directory(tmp_path):
    with pytest.raises(KnowledgeBaseError, match="no knowledge base here"):
        KnowledgeBase.load(tmp_path / "nope")


def test_validation_catches_inconsistencies():
    kb = _toy_kb()
    kb.runs.loc[0, "dataset_id"] = "ghost"
    with pytest.raises(KnowledgeBaseError, match="not in datasets.parquet"):
        kb.validate()
    kb = _toy_kb()
    kb.runs = pd.concat([kb.runs, kb.runs.iloc[:1]], ignore_index=True)
    with pytest.raises(KnowledgeBaseError, match="duplicate run"):
        kb.validate()
    kb = _toy_kb()
    kb.runs.loc[0, "status"] = "weird"
    with pytest.raises(KnowledgeBaseError, match="unknown statuses"):
        kb.validate()
    kb = _toy_kb()
    kb.manifest["learners"] = {"knn": "x"}
    with pytest.raises(KnowledgeBaseError, match="not declared"):
        kb.validate()


def test_merge():
    a = _toy_kb(("a", "b"))
    b = _toy_kb(("b", "c"), learners=("knn", "lightgbm"))
    m = a.merge(b)
    assert sorted(m.datasets["dataset_id"]) == ["a", "b", "c"]
    # (b, knn) was in both: kept once
    assert len(m.runs[(m.runs.dataset_id == "b") & (m.runs.learner == "knn")]) == 1
    assert len(m.runs) == 4 + 4 - 1
    assert set(m.manifest["learners"]) == {"random_forest", "knn", "lightgbm"}


def test_cli_kb_commands(saved, tmp_path):
    runner = CliRunner()
    r = runner.invoke(cli, ["kb", "info", str(saved), "--json"])
    assert r.exit_code == 0, r.output
    info = json.loads(r.stdout)
    assert info["datasets"] == 2 and info["learners"] == 2
    r = runner.invoke(cli, ["kb", "validate", str(saved)])
    assert r.exit_code == 0 and r.output.startswith("OK")
    other = tmp_path / "other"
    _toy_kb(("c",)).save(other)
    r = runner.invoke(cli, ["kb", "merge", str(saved), str(other), "--out", str(tmp_path / "m")])
    assert r.exit_code == 0, r.output
    assert len(KnowledgeBase.load(tmp_path / "m").datasets) == 3
    # refuses to overwrite without --force
    from metarec.cli import main

    with pytest.raises(SystemExit) as exc:
        main(["kb", "merge", str(saved), str(other), "--out", str(tmp_path / "m")])
    assert exc.value.code == 2
    (saved / "runs.parquet").write_bytes(b"garbage")
    with pytest.raises(SystemExit) as exc:
        main(["kb", "validate", str(saved)])
    assert exc.value.code == 2


@pytest.fixture
def lcdb_slice(tmp_path):
    """Two datasets of the real LCDB files."""
    src = find_lcdb_dir()
    out = tmp_path / "lcdb"
    out.mkdir()
    keep = [3, 6]
    pd.read_csv(src / "datasets.csv").query("openmlid in @keep").to_csv(out / "datasets.csv", index=False)
    for metric in ("accuracy", "auc", "f1", "logloss"):
        chunks = pd.read_csv(src / f"database-{metric}.csv", chunksize=500_000)
        pd.concat(c[c.openmlid.isin(keep + [44])] for c in chunks).to_csv(out / f"database-{metric}.csv", index=False)
    return out


def test_lcdb_import_slice(lcdb_slice, tmp_path):
    kb = import_lcdb(lcdb_slice)
    assert sorted(kb.datasets["dataset_id"]) == ["openml:3", "openml:6"]
    # OpenML's 64 qualities, then the subsample group's 20 columns read off the accuracy curves
    assert len(kb.metafeature_names) == 84 and "NumberOfFeaturesAfterBinarization" in kb.metafeature_names
    assert kb.metafeature_names[64:] == list(subsample_feature_names())
    assert set(kb.metrics) <= {"accuracy", "auc", "f1", "logloss"} and "accuracy" in kb.metrics
    assert kb.runs["learner"].isin(["svc_linear", "random_forest", "lda"]).any()
    src = kb.manifest["sources"][0]
    assert src["name"] == "lcdb" and src["dropped"]["accuracy"]["datasets_without_qualities"] == 1
    # the aggregation is a mean over seeds: check one cell by hand
    raw = pd.read_csv(lcdb_slice / "database-accuracy.csv")
    cell = raw[(raw.openmlid == 3) & (raw.learner == "SVC_linear")]
    size = cell.size_train.max()
    want = cell[cell.size_train == size].score_test.mean()
    got = kb.runs.query("dataset_id == 'openml:3' and learner == 'svc_linear' and metric == 'accuracy' "
                        "and train_size == @size")
    assert len(got) == 1 and got.score.iloc[0] == pytest.approx(want)
    assert got.n_repeats.iloc[0] == len(cell[cell.size_train == size])
    # learning-curve landmarker: the mean test accuracy at the anchor for half of the largest training size
    anchor = anchor_for(raw[raw.openmlid == 3].size_train.max())
    rf = raw[(raw.openmlid == 3) & (raw.learner == "sklearn.ensemble.RandomForestClassifier")]
    want = rf[rf.size_train == anchor].score_test.mean()
    row = kb.datasets.set_index("dataset_id").loc["openml:3"]
    assert row["sub_random_forest_accuracy"] == pytest.approx(want)
    kb.save(tmp_path / "kb")
    loaded = KnowledgeBase.load(tmp_path / "kb").manifest["metafeatures"]
    assert loaded["ClassEntropy"].endswith(":openml") and loaded["sub_knn_rel"].endswith(":subsample")


def _settings(n=3):
    return BuildSettings(n_trials=n, cv=2, fit_timeout=30, max_rows=200, groups=("openml",))


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


def test_kb_build_records_failures_and_timeouts(tmp_path, monkeypatch):
    from metarec.kb import evaluation

    real = evaluation.cross_validate_config
    counter = tmp_path / "calls"  # evaluations run in forked children: count on disk

    def flaky(learner, config, X, y, task_type, cv=3, seed=0):
        with open(counter, "a") as fh:
            fh.write("x")
        n = len(counter.read_text())
        if n == 2:
            raise ValueError("this config cannot fit")
        if n == 3:
            import time

            time.sleep(60)
        return real(learner, config, X, y, task_type, cv, seed)

    monkeypatch.setattr(evaluation, "cross_validate_config", flaky)
    # hard limit per trial = fit_timeout x (cv + 1) = 15 s: far above a tree on iris even on a loaded machine
    # (3 s flaked once under the full parallel suite), far below the sleep
    settings = BuildSettings(n_trials=4, cv=2, fit_timeout=5, max_rows=100, groups=("openml",))
    # isolate=False: the pair runs in this process, so the monkeypatch reaches the forked trial children
    kb = build_kb(["sklearn:iris"], tmp_path / "kb", learners=["decision_tree"], settings=settings, isolate=False)
    statuses = kb.runs[kb.runs.metric == "accuracy"].sort_values("trial").status.tolist()
    assert statuses.count("failed") == 1 and statuses.count("timeout") == 1 and statuses.count("ok") == 2
    failed = kb.runs[kb.runs.status != "ok"]
    assert failed.score.isna().all()


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


def test_kb_build_pairs_run_in_a_fresh_process(tmp_path, monkeypatch):
    # by default a pair runs in a spawned worker: this process's state (here a patched evaluator; in a
    # notebook, OpenMP pools or locks that would hang a forked child) does not reach the trials
    from metarec.kb import evaluation

    def broken(*args, **kwargs):
        raise RuntimeError("the parent's state leaked into the build")

    monkeypatch.setattr(evaluation, "cross_validate_config", broken)
    kb = build_kb(["sklearn:iris"], tmp_path / "kb", learners=["decision_tree"], settings=_settings(2))
    assert set(kb.runs.status) == {"ok"}


def test_subset_and_in_memory_kbs_have_their_own_checksum(saved):
    # the checksum keys the meta-model cache: a leave-one-out subset must never reuse its parent's model
    kb = KnowledgeBase.load(saved)
    ids = sorted(kb.datasets["dataset_id"])
    sub = kb.subset(ids[1:])
    assert sub.checksum != kb.checksum
    assert sub.checksum == kb.subset(ids[1:]).checksum != kb.subset(ids[:-1]).checksum
    fresh = KnowledgeBase(kb.datasets, kb.runs, {}, None)
    other = KnowledgeBase(kb.datasets.iloc[1:], kb.runs, {}, None)
    assert fresh.checksum != other.checksum
