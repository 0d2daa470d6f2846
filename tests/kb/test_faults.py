"""Knowledge-base faults: a kb build killed with SIGKILL resumes; two builders share one storage; every kind of
damage to a saved KB is one clear error through the API and the CLI."""

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

    from metarec.kb.storage import _recorded as rec

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


# -- a damaged knowledge base: one clear KnowledgeBaseError, through the API and the CLI --------------------------
def _truncate(kb):
    p = kb / "runs.parquet"
    p.write_bytes(p.read_bytes()[: p.stat().st_size // 2])


def _edit_table(kb):
    import pandas as pd

    frame = pd.read_parquet(kb / "datasets.parquet")
    frame.loc[0, "NumberOfInstances"] = 1.0
    frame.to_parquet(kb / "datasets.parquet")


def _edit_consistently(kb):
    """A duplicated run, with the manifest's checksum and row count updated to match: caught by validation."""
    import json as _json

    import pandas as pd

    from metarec.fileio import sha256

    frame = pd.read_parquet(kb / "runs.parquet")
    pd.concat([frame, frame.iloc[:1]]).to_parquet(kb / "runs.parquet", index=False)
    m = _json.loads((kb / "manifest.json").read_text())
    m["tables"]["runs.parquet"] = {"sha256": sha256(kb / "runs.parquet"), "rows": len(frame) + 1}
    (kb / "manifest.json").write_text(_json.dumps(m))


def _manifest(edit):
    def apply(kb):
        import json as _json

        m = _json.loads((kb / "manifest.json").read_text())
        edit(m)
        (kb / "manifest.json").write_text(_json.dumps(m))
    return apply


KB_FAULTS = {
    "truncated table": (_truncate, "runs.parquet: checksum does not match the manifest .*truncated", "rebuild the KB"),
    "edited table": (_edit_table, "datasets.parquet: checksum does not match .*edited", "restore it or rebuild"),
    "edited table, checksum forged": (_edit_consistently, "duplicate run", "restore it or rebuild it"),
    "row count edited": (_manifest(lambda m: m["tables"]["datasets.parquet"].update(rows=1)),
                         "rows, manifest says 1", "restore it or rebuild it"),
    "missing manifest": (lambda kb: (kb / "manifest.json").unlink(), "manifest missing", "rebuild the KB"),
    "manifest not JSON": (lambda kb: (kb / "manifest.json").write_text("{oops"), "unreadable manifest",
                          "rebuild the KB"),
    "manifest without schema version": (_manifest(lambda m: m.pop("schema_version")), "no integer schema_version",
                                        "rebuild the KB"),
    "newer schema": (_manifest(lambda m: m.update(schema_version=99)), "schema version 99 is newer",
                     r"upgrade metarec \(pip install -U metarec\)"),
    "missing table": (lambda kb: (kb / "datasets.parquet").unlink(), "datasets.parquet: table missing",
                      "rebuild the KB"),
    "table replaced by a pickle": (lambda kb: (kb / "runs.parquet").write_bytes(__import__("pickle").dumps([1])),
                                   "checksum does not match", "rebuild the KB"),
    "not a directory": (lambda kb: __import__("shutil").rmtree(kb), "no knowledge base here", "check the path"),
}


@pytest.fixture(scope="module")
def good_kb(tmp_path_factory):
    from ..synthetic_kb import _small_kb

    return _small_kb(tmp_path_factory.mktemp("faults_kb") / "kb")


@pytest.mark.parametrize("fault", list(KB_FAULTS))
def test_damaged_kb_is_one_clear_error(fault, good_kb, tmp_path, monkeypatch):
    import re
    import shutil

    from metarec.exceptions import KnowledgeBaseError

    from ..helpers import run_cli

    damage, problem, fix = KB_FAULTS[fault]
    kb = tmp_path / "kb"
    shutil.copytree(good_kb, kb)
    damage(kb)
    with pytest.raises(KnowledgeBaseError) as info:
        KnowledgeBase.load(kb).runs  # the runs table is read, and checked, when first used
    assert re.search(problem, str(info.value)) and re.search(fix, str(info.value)), str(info.value)
    monkeypatch.setenv("METAREC_CACHE_DIR", str(tmp_path / "cache"))
    data = tmp_path / "d.csv"
    data.write_text("a,y\n" + "".join(f"{i},{i % 2}\n" for i in range(30)))
    for args in (["kb", "validate", str(kb)], ["kb", "info", str(kb)],
                 ["recommend", str(data), "--target", "y", "--kb", str(kb)]):
        code, out, err = run_cli(args)
        lines = [ln for ln in err.splitlines() if ln.strip()]
        assert code == 2 and len(lines) == 1 and lines[0].startswith("Error: "), (args, err)
        assert re.search(problem, lines[0]) and re.search(fix, lines[0]) and "Traceback" not in out + err
