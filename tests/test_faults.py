"""Fault tests: a kb build killed with SIGKILL resumes; two builders share one storage; Ctrl-C in tune resumes."""

import json
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
    # this checkout's metarec, whatever is installed; a meta-model cache of its own, not the user's
    env = {**os.environ, "PYTHONPATH": str(REPO), "METAREC_CACHE_DIR": str(tmp_path / "cache")}
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
    assert 3 <= len(done_before) < 12, "the interrupt came too late to test anything"
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
    assert sum(t.state.is_finished() and t not in cut for t in after) == 12
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
    from .test_bad_input import _small_kb

    return _small_kb(tmp_path_factory.mktemp("faults_kb") / "kb")


@pytest.mark.parametrize("fault", list(KB_FAULTS))
def test_damaged_kb_is_one_clear_error(fault, good_kb, tmp_path, monkeypatch):
    import re
    import shutil

    from metarec.exceptions import KnowledgeBaseError

    from .test_bad_input import run_cli

    damage, problem, fix = KB_FAULTS[fault]
    kb = tmp_path / "kb"
    shutil.copytree(good_kb, kb)
    damage(kb)
    with pytest.raises(KnowledgeBaseError) as info:
        KnowledgeBase.load(kb)
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


# -- a corrupt meta-model cache is rebuilt, with a warning the CLI shows --------------------------------------------
@pytest.mark.parametrize("damage", ["garbage metadata", "truncated model file", "emptied entry"])
def test_corrupt_metamodel_cache_is_rebuilt_with_a_warning(damage, good_kb, tmp_path, monkeypatch):
    from metarec.exceptions import MetarecWarning

    from .test_bad_input import run_cli

    monkeypatch.setenv("METAREC_CACHE_DIR", str(tmp_path / "cache"))
    data = tmp_path / "d.csv"
    data.write_text("a,b,y\n" + "".join(f"{i},{i % 5},{i % 2}\n" for i in range(40)))
    cmd = ["recommend", str(data), "--target", "y", "--kb", str(good_kb), "--json"]
    code, first, err = run_cli(cmd)
    assert code == 0 and "Warning" not in err, err
    (entry,) = [p for p in (tmp_path / "cache" / "metamodels").iterdir()]
    files = sorted(p for p in entry.iterdir() if p.is_file())
    if damage == "garbage metadata":
        (entry / "metamodel.json").write_text("{garbage")
    elif damage == "truncated model file":
        victim = max(files, key=lambda p: p.stat().st_size)
        victim.write_bytes(victim.read_bytes()[: victim.stat().st_size // 3])
    else:
        for f in files:
            f.unlink()
    code, again, err = run_cli(cmd)
    assert code == 0, err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("Warning: meta-model cache ") and "refitting" in lines[0], err
    strip = lambda text: [(r["learner"], round(r["score"], 9)) for r in json.loads(text)["learners"]]  # noqa: E731
    assert strip(again) == strip(first)  # the rebuilt model predicts what the original did
    code, _, err = run_cli(cmd)  # rebuilt for good: no warning the next time
    assert code == 0 and err.strip() == "", err
    # the API: a MetarecWarning (and a logged warning)
    if damage == "garbage metadata":
        (entry / "metamodel.json").write_text("{garbage")
        with pytest.warns(MetarecWarning, match="unreadable .*refitting"):
            metarec.recommend(data, target="y", kb=good_kb)


def test_truncated_lightgbm_model_is_an_error_not_an_abort(tmp_path):
    """LightGBM itself aborts the process on a truncated model file; metarec checks the file first."""
    from metarec.exceptions import MetarecError
    from metarec.metamodels._conformance import make_metamodel_data
    from metarec.metamodels.base import load_metamodel
    from metarec.metamodels.lightgbm_model import LightGBMMetaModel

    X, Y, _, _ = make_metamodel_data(n_datasets=20, random_state=1)
    LightGBMMetaModel().fit(X, Y).save(tmp_path / "m")
    victim = max((tmp_path / "m").glob("*.txt"), key=lambda p: p.stat().st_size)
    victim.write_bytes(victim.read_bytes()[: victim.stat().st_size // 3])
    with pytest.raises(MetarecError, match="not a complete LightGBM model file"):
        load_metamodel(tmp_path / "m")
