"""Knowledge base format: round-trip, validation failures, merge, the `kb` commands, checksums."""

import json
import shutil

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from metarec.cli import cli
from metarec.exceptions import KnowledgeBaseError
from metarec.kb import KnowledgeBase

from ..synthetic_kb import _toy_kb


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


def test_runs_are_read_when_first_used_and_a_loaded_kb_pickles(tmp_path):
    import pickle

    kb = _toy_kb()
    kb.save(tmp_path / "kb")
    (tmp_path / "kb" / "runs.parquet").rename(tmp_path / "runs.parquet")  # gone: a read would fail
    with pytest.raises(KnowledgeBaseError, match="runs.parquet: table missing"):
        KnowledgeBase.load(tmp_path / "kb")
    (tmp_path / "runs.parquet").rename(tmp_path / "kb" / "runs.parquet")
    back = KnowledgeBase.load(tmp_path / "kb")
    assert "runs" not in vars(back) and back.checksum == kb.checksum and len(back.datasets) == len(kb.datasets)
    (tmp_path / "kb" / "runs.parquet").write_bytes(b"not parquet")  # replaced after loading: read on first use
    for _ in range(2):  # and again on the next use
        with pytest.raises(KnowledgeBaseError, match="runs.parquet: not a readable Parquet table"):
            back.runs
    kb.save(tmp_path / "kb")
    back = pickle.loads(pickle.dumps(KnowledgeBase.load(tmp_path / "kb")))
    pd.testing.assert_frame_equal(back.runs, kb.runs, check_dtype=False)
    with pytest.raises(AttributeError):
        back.no_such_attribute


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


def test_merge_fills_the_first_kbs_gaps_unless_told_not_to(tmp_path):
    a = _toy_kb(("a", "b"))
    b = _toy_kb(("b", "c"))
    a.datasets["q"] = [1.0, np.nan]
    b.datasets["q"] = [5.0, 6.0]
    b.datasets["only_b"] = [7.0, 8.0]
    a.manifest["metafeatures"]["q"] = "x"
    b.manifest["metafeatures"].update(q="x", only_b="x")
    filled = a.merge(b).datasets.set_index("dataset_id")
    assert filled.loc["a", "q"] == 1.0 and filled.loc["b", "q"] == 5.0 and filled.loc["b", "only_b"] == 7.0
    kept = a.merge(b, fill=False).datasets.set_index("dataset_id")
    assert np.isnan(kept.loc["b", "q"]) and np.isnan(kept.loc["b", "only_b"]) and kept.loc["c", "q"] == 6.0
    a.save(tmp_path / "a")
    b.save(tmp_path / "b")
    r = CliRunner().invoke(cli, ["kb", "merge", str(tmp_path / "a"), str(tmp_path / "b"), "--no-fill", "--out",
                                 str(tmp_path / "m")])
    assert r.exit_code == 0, r.output
    assert np.isnan(KnowledgeBase.load(tmp_path / "m").datasets.set_index("dataset_id").loc["b", "q"])


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
