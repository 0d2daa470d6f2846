"""Security: no artifact is unpickled, torch loads weights only, outputs need --force (the plugin allow-list is
in test_plugins.py)."""

from __future__ import annotations

import ast
import json
import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import metarec
from metarec.exceptions import KnowledgeBaseError, MetarecError
from metarec.kb import KnowledgeBase
from metarec.tuning import save_model, write_report

from .helpers import run_cli
from .synthetic_kb import _small_kb, _toy_kb

PACKAGE = Path(metarec.__file__).resolve().parent


class _Evil:
    """Unpickling this creates the marker file: proof that something was unpickled."""

    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def _evil_bytes(marker: Path) -> bytes:
    return pickle.dumps(_Evil(marker))


# -- static: the package has no way to unpickle --------------------------------------------------------------
def _calls(tree):
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            f = node.func
            name = f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", "")
            owner = f.value.id if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) else ""
            yield node, owner, name


#: modules that may import pickle, and why it is safe there
PICKLE_ALLOWED = {
    # reads only the bytes its own forked child wrote to a private pipe (a fold's score, a refit pipeline)
    "metarec/tuning/forked.py",
}


def test_no_module_can_unpickle():
    problems = []
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(), str(path))
        rel = path.relative_to(PACKAGE.parent)
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                mods = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
                for m in mods:
                    if m.split(".")[0] in ("pickle", "cPickle", "dill", "cloudpickle", "shelve", "marshal") and (
                            m != "pickle" or str(rel) not in PICKLE_ALLOWED):
                        problems.append(f"{rel}:{node.lineno}: imports {m}")
        for node, owner, name in _calls(tree):
            kw = {k.arg: k.value for k in node.keywords}
            where = f"{rel}:{node.lineno}"
            if owner == "joblib" and name == "load" or name in ("read_pickle", "Unpickler"):
                problems.append(f"{where}: {owner}.{name}")
            if owner == "torch" and name == "load":
                wo = kw.get("weights_only")
                if not (isinstance(wo, ast.Constant) and wo.value is True):
                    problems.append(f"{where}: torch.load without weights_only=True")
            if owner in ("np", "numpy") and name == "load":
                ap = kw.get("allow_pickle")
                if ap is not None and not (isinstance(ap, ast.Constant) and ap.value is False):
                    problems.append(f"{where}: np.load with allow_pickle")
    assert problems == []


def test_the_only_joblib_use_is_saving_the_users_own_model():
    """joblib appears for `tune --out` (dump, the user's model) and for parallel evaluation; never to load."""
    users = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        for node, owner, name in _calls(ast.parse(path.read_text())):
            if owner == "joblib":
                users.setdefault(path.name, set()).add(name)
    assert users == {"output.py": {"dump"}}


# -- behaviour: pickles placed in a KB or a cache are never read ----------------------------------------------
def test_pickles_in_a_kb_are_never_read(tmp_path):
    marker = tmp_path / "UNPICKLED"
    kb_dir = tmp_path / "kb"
    _toy_kb().save(kb_dir)
    for name in ("runs.pkl", "datasets.pickle", "model.joblib", "kb.pkl"):
        (kb_dir / name).write_bytes(_evil_bytes(marker))
    kb = KnowledgeBase.load(kb_dir)  # extra files are ignored, not opened
    assert len(kb.runs) == 4 and not marker.exists()
    # a table swapped for a pickle is caught by its checksum, and without validation it is not Parquet
    (kb_dir / "runs.parquet").write_bytes(_evil_bytes(marker))
    with pytest.raises(KnowledgeBaseError, match="checksum does not match"):
        KnowledgeBase.load(kb_dir)
    with pytest.raises(KnowledgeBaseError, match="not a readable Parquet table"):
        KnowledgeBase.load(kb_dir, validate=False).runs  # read when first used
    manifest = kb_dir / "manifest.json"
    manifest.write_bytes(_evil_bytes(marker))
    with pytest.raises(KnowledgeBaseError, match="unreadable manifest"):
        KnowledgeBase.load(kb_dir)
    assert not marker.exists()


@pytest.mark.filterwarnings("ignore::metarec.exceptions.MetarecWarning")
@pytest.mark.parametrize("forged", [False, True], ids=["checksums stale", "checksums forged"])
@pytest.mark.parametrize("name", ["lightgbm", "knn", "svm", "single-best"])
def test_pickles_in_the_metamodel_cache_are_never_read(name, forged, tmp_path, monkeypatch, caplog):
    import logging

    from metarec.kb import load_kb
    from metarec.metamodels import fit_metamodel
    from metarec.cache import cache_dir
    from metarec.metamodels.cache import CHECKSUMS, _digests

    monkeypatch.setenv("METAREC_CACHE_DIR", str(tmp_path / "cache"))
    kb = load_kb(_small_kb(tmp_path / "kb"))
    first = fit_metamodel(kb, name=name)
    (entry,) = [p for p in (cache_dir() / "metamodels").iterdir() if p.is_dir()]
    marker = tmp_path / "UNPICKLED"
    for f in entry.iterdir():  # every artifact file replaced by a pickle that would run code
        if f.name != CHECKSUMS:
            f.write_bytes(_evil_bytes(marker))
    (entry / "model.pkl").write_bytes(_evil_bytes(marker))
    if forged:  # checksums matching the pickles: now every loader itself must refuse them
        (entry / CHECKSUMS).write_text(json.dumps(_digests(entry)))
    with caplog.at_level(logging.WARNING):
        again = fit_metamodel(kb, name=name)
    assert "refitting" in caplog.text  # rebuilt with a warning
    assert not marker.exists()
    x = kb.datasets[kb.metafeature_names].iloc[:3]
    pd.testing.assert_frame_equal(again.predict(x).score, first.predict(x).score)
    assert not (entry / "model.pkl").exists()  # the corrupt entry was replaced as a whole


def test_recommend_never_calls_an_unpickler(tmp_path, monkeypatch):
    """A full recommend (fit + cache, then from the cache) with every unpickling entry point booby-trapped."""
    import joblib

    monkeypatch.setenv("METAREC_CACHE_DIR", str(tmp_path / "cache"))
    kb = _small_kb(tmp_path / "kb")
    frame = pd.DataFrame({"a": np.arange(40.0), "b": np.arange(40) % 3, "y": np.arange(40) % 2})
    calls = []

    def trap(*a, **k):
        calls.append(a)
        raise AssertionError("unpickling attempted")

    class TrapUnpickler(pickle.Unpickler):
        def __init__(self, *a, **k):
            trap()

    monkeypatch.setattr(pickle, "load", trap)
    monkeypatch.setattr(pickle, "loads", trap)
    monkeypatch.setattr(pickle, "Unpickler", TrapUnpickler)
    monkeypatch.setattr(joblib, "load", trap)
    for _ in range(2):  # fitted and cached, then loaded from the cache
        rec = metarec.recommend(frame, target="y", kb=kb)
        assert rec.learners
    assert calls == []


# -- --force on every command that writes an output path ------------------------------------------------------
@pytest.fixture
def small(tmp_path, monkeypatch, tmp_path_factory):
    monkeypatch.setenv("METAREC_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "security_cache"))
    kb = _small_kb(tmp_path / "smallkb")
    data = tmp_path / "d.csv"
    pd.DataFrame({"a": np.arange(40.0), "b": np.arange(40) % 3, "y": np.arange(40) % 2 == 0}).to_csv(data, index=False)
    return kb, data


def _refused(code, out, err, fragment="already exists; pass --force"):
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert code == 2 and len(lines) == 1 and lines[0].startswith("Error: ") and "Traceback" not in out + err, err
    assert fragment in lines[0], lines[0]


def test_tune_out_and_report_need_force(small, tmp_path):
    kb, data = small
    model, report = tmp_path / "model.joblib", tmp_path / "report"
    base = ["tune", str(data), "--target", "y", "--learners", "decision_tree", "--trials", "1", "--cv", "2",
            "--kb", str(kb), "--storage", f"sqlite:///{tmp_path / 't.db'}"]
    model.write_bytes(b"precious")
    _refused(*run_cli(base + ["--out", str(model)]))
    assert model.read_bytes() == b"precious" and not (tmp_path / "t.db").exists()
    report.mkdir()
    (report / "summary.json").write_text("precious")
    _refused(*run_cli(base + ["--report", str(report)]))
    assert (report / "summary.json").read_text() == "precious"
    assert sorted(p.name for p in report.iterdir()) == ["summary.json"]
    code, out, err = run_cli(base + ["--out", str(model), "--report", str(report), "--force"])
    assert code == 0, err
    assert model.read_bytes() != b"precious" and json.loads((report / "summary.json").read_text())["n_trials"] == 1
    result = metarec.tune(data, "y", learners="decision_tree", n_trials=1, kb=kb)
    with pytest.raises(MetarecError, match="already exists"):
        save_model(result, model)
    code, out, err = run_cli(base + ["--out", str(tmp_path)])  # click's own usage error
    assert code == 2 and "is a directory" in err and "Traceback" not in out + err
    with pytest.raises(MetarecError, match="is a directory; give --out a file name"):
        save_model(result, tmp_path)
    with pytest.raises(MetarecError, match="already exists"):
        write_report(result, report)


def test_kb_merge_and_import_need_force(tmp_path):
    a, b, out = tmp_path / "a", tmp_path / "b", tmp_path / "out"
    _toy_kb(("a",)).save(a)
    _toy_kb(("b",)).save(b)
    _toy_kb(("c",)).save(out)
    before = (out / "runs.parquet").read_bytes()
    _refused(*run_cli(["kb", "merge", str(a), str(b), "--out", str(out)]),
             fragment="a knowledge base is already there; pass --force")
    _refused(*run_cli(["kb", "import-lcdb", "--out", str(out)]), fragment="a knowledge base is already there")
    assert (out / "runs.parquet").read_bytes() == before
    code, _, err = run_cli(["kb", "merge", str(a), str(b), "--out", str(out), "--force"])
    assert code == 0, err
    assert sorted(KnowledgeBase.load(out).datasets.dataset_id) == ["a", "b"]


def test_kb_build_refuses_a_foreign_kb_and_resumes_its_own(tmp_path):
    from metarec.kb.build import BuildSettings, build_kb

    foreign = tmp_path / "foreign"
    _toy_kb(("c",)).save(foreign)
    before = (foreign / "manifest.json").read_bytes()
    _refused(*run_cli(["kb", "build", "sklearn:iris", "--learners", "decision_tree", "--out", str(foreign)]),
             fragment="a knowledge base not built from")
    assert (foreign / "manifest.json").read_bytes() == before and not (foreign / "build.db").exists()
    settings = BuildSettings(n_trials=1, cv=2, max_rows=60, groups=("openml",))
    kw = dict(learners=["decision_tree"], settings=settings, isolate=False)
    with pytest.raises(MetarecError, match="pass --force"):
        build_kb(["sklearn:iris"], foreign, **kw)
    own = tmp_path / "own"
    first = build_kb(["sklearn:iris"], own, **kw)
    again = build_kb(["sklearn:iris"], own, **kw)  # the same build again: its own KB, resumed
    pd.testing.assert_frame_equal(again.runs, first.runs)
    build_kb(["sklearn:iris"], foreign, force=True, **kw)
    assert KnowledgeBase.load(foreign).datasets.dataset_id.tolist() == ["sklearn:iris"]


def test_evaluate_plot_needs_force(tmp_path):
    plot = tmp_path / "regret.png"
    plot.write_bytes(b"precious")
    _refused(*run_cli(["evaluate", "--plot", str(plot), "--kb", str(tmp_path / "nope")]))
    assert plot.read_bytes() == b"precious"
