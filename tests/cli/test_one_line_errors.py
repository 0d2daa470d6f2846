"""Every refusal of the CLI is one ``Error:`` line, exit code 2, checked before work.

- an unwritable ``tune --out`` / ``--report`` or ``evaluate --plot`` (a missing or special directory, a
  file where a directory is needed, an image extension matplotlib cannot write) is refused before any trial
  or refit; a write that still fails late (disk full) is one line too.
- ``evaluate --task regression`` defaults to the task's metric (r2), as recommend and tune do.
- click's usage errors are one line (not Usage / Try / blank / Error); ``--help`` is unchanged.
- storage errors are one line and name a missing database driver's package.
- ``evaluate`` writes nothing to stderr when it has nothing to say.
- a path without a knowledge base gives the same message in every command.
- a ``kb build`` refused before any work leaves no ``--out`` behind (and keeps what was there).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ..helpers import offline_env, run_cli
from ..synthetic_kb import _small_kb


def _one_error_line(code, out, err, *fragments) -> str:
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert code == 2, (code, out, err)
    assert "Traceback" not in out + err, err
    assert len(lines) == 1, err
    assert lines[0].startswith("Error: "), lines[0]
    for f in fragments:
        assert f in lines[0], (f, lines[0])
    return lines[0]


@pytest.fixture(scope="module")
def kb(tmp_path_factory):
    return _small_kb(tmp_path_factory.mktemp("oneline_kb") / "kb")


@pytest.fixture(autouse=True)
def env(kb, tmp_path, tmp_path_factory, monkeypatch):
    offline_env(monkeypatch, kb, tmp_path_factory.getbasetemp() / "oneline_cache", tmp_path)


@pytest.fixture
def data(tmp_path) -> Path:
    path = tmp_path / "d.csv"
    pd.DataFrame({"a": np.arange(40.0), "b": np.arange(40) % 3, "y": np.arange(40) % 2 == 0}).to_csv(path, index=False)
    return path


def _tune(data, tmp_path, *extra):
    return ["tune", str(data), "--target", "y", "--learners", "decision_tree", "--trials", "1", "--cv", "2",
            "--warm-start", "0", "--storage", f"sqlite:///{tmp_path / 't.db'}", *extra]


# -- unwritable outputs -----------------------------------------------------------------------------------------
def _unwritable(tmp_path: Path) -> dict[str, tuple[str, str]]:
    afile = tmp_path / "afile"
    afile.write_text("x")
    cases = {
        "a file where a directory is needed": (str(afile / "m.joblib"), "is a file, not a directory"),
        "a file as a parent further up": (str(afile / "sub" / "m.joblib"), "is a file, not a directory"),
    }
    if Path("/proc/self").exists():  # a directory that cannot be created (root ignores permission bits)
        cases["a directory that does not exist"] = ("/proc/nope/m.joblib", "directory /proc/nope does not exist")
    return cases


def test_tune_refuses_an_unwritable_out_before_any_trial(data, tmp_path):
    for name, (path, fragment) in _unwritable(tmp_path).items():
        _one_error_line(*run_cli(_tune(data, tmp_path, "--out", path)), fragment, "--out")
        assert not (tmp_path / "t.db").exists(), name  # the study was never opened: no trial, no refit


def test_tune_refuses_an_unwritable_report_before_any_trial(data, tmp_path):
    for name, (path, fragment) in _unwritable(tmp_path).items():
        report = str(Path(path).parent / "report")
        _one_error_line(*run_cli(_tune(data, tmp_path, "--report", report)), fragment, "--report")
        assert not (tmp_path / "t.db").exists(), name


def test_a_missing_out_directory_is_refused_not_created_and_a_new_report_directory_works(data, tmp_path):
    """A typo in --out must not make a new tree: a missing parent directory is one line naming it."""
    model = tmp_path / "new" / "deeper" / "m.joblib"
    line = _one_error_line(*run_cli(_tune(data, tmp_path, "--out", str(model))), "--out")
    assert f"directory {tmp_path / 'new'} does not exist" in line and "typo" in line
    assert not (tmp_path / "new").exists() and not (tmp_path / "t.db").exists()
    _one_error_line(*run_cli(_tune(data, tmp_path, "--report", str(tmp_path / "r" / "s"))), "does not exist")
    assert not (tmp_path / "r").exists()
    from metarec.fileio import ensure_new_file

    model.parent.mkdir(parents=True)
    ensure_new_file(model, force=False)  # the directory exists now: no error, and the probe leaves nothing
    code, out, err = run_cli(_tune(data, tmp_path, "--out", str(model), "--report", str(tmp_path / "r")))
    assert code == 0, err  # a report directory of its own may be new
    assert model.exists() and (tmp_path / "r" / "summary.json").exists()
    assert not [p for p in tmp_path.rglob(".metarec-write-check*")]


@pytest.fixture
def no_refit(monkeypatch):
    import metarec.evaluate

    def trap(*a, **k):  # pragma: no cover - reached only on the old behaviour
        raise AssertionError("evaluate refitted meta-models before checking --plot")

    monkeypatch.setattr(metarec.evaluate, "evaluate_metamodels", trap)


@pytest.mark.parametrize("plot, fragment", [
    ("r.txt", "matplotlib cannot write '.txt' images"),
    ("afile/x.png", "is a file, not a directory"),
    ("/proc/nope/x.png", "directory /proc/nope does not exist"),
])
def test_evaluate_refuses_an_unwritable_plot_before_any_refit(plot, fragment, tmp_path, no_refit):
    if plot.startswith("/proc") and not Path("/proc/self").exists():
        pytest.skip("no /proc")
    (tmp_path / "afile").write_text("x")
    line = _one_error_line(*run_cli(["evaluate", "-m", "single-best", "--plot", plot]), fragment)
    if plot.endswith(".txt"):
        assert ".png" in line and ".svg" in line  # the fix: the extensions that work


def test_a_late_write_error_is_one_line(tmp_path, monkeypatch):
    import metarec.evaluate

    def disk_full(result, path):
        raise OSError(28, "No space left on device", str(path))

    monkeypatch.setattr(metarec.evaluate, "plot_regret", disk_full)
    line = _one_error_line(*run_cli(["evaluate", "-m", "single-best", "--source", "hpo", "--folds", "2",
                                     "--jobs", "1", "--plot", "r.png"]), "No space left on device")
    assert "r.png" in line and "free disk space" in line


# -- evaluate's defaults and quiet stderr -----------------------------------------------------------------------
def test_evaluate_regression_defaults_to_r2_and_writes_no_stray_newline():
    code, out, err = run_cli(["evaluate", "-m", "single-best", "--task", "regression", "--folds", "2",
                              "--jobs", "1", "--json"])
    assert code == 0, err
    assert json.loads(out)["settings"]["metric"] == "r2"
    code, out, err = run_cli(["evaluate", "-m", "single-best", "--source", "hpo", "--folds", "2", "--jobs", "1"])
    assert code == 0, err
    assert err == "", repr(err)  # no lone "\n" from a progress bar on a pipe
    assert "single-best" in out


# -- usage errors -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("args, fragments", [
    (["recommend", "x.csv", "--top-k", "0"],
     ["Invalid value for '--top-k': 0 is not in the range x>=1", "see 'metarec recommend --help'"]),
    (["tune", "x.csv", "--trials", "0"], ["'--trials'", "see 'metarec tune --help'"]),
    (["tune", "x.csv", "--cv", "1"], ["'--cv': 1 is not in the range x>=2"]),
    (["recommend", "x.csv", "--task", "bogus"], ["'bogus' is not one of"]),
    (["tune", "x.csv", "--out", "."], ["'--out'", "is a directory"]),
    (["recommend"], ["Missing argument 'DATA'"]),
    (["recommend", "x.csv", "--tpo", "3"], ["No such option '--tpo' (did you mean '--top-k'?)"]),
    (["reccomend"], ["No such command 'reccomend'", "see 'metarec --help'"]),
    (["kb", "build", "sklearn:iris"], ["Missing option '--out'", "see 'metarec kb build --help'"]),
])
def test_usage_errors_are_one_line(args, fragments):
    line = _one_error_line(*run_cli(args), *fragments)
    assert "Usage:" not in line and "Try '" not in line


def test_help_is_unchanged():
    code, out, err = run_cli(["recommend", "--help"])
    assert code == 0 and err == ""
    assert out.startswith("Usage: metarec recommend [OPTIONS] DATA") and "--top-k" in out
    code, out, err = run_cli([])  # the bare group still shows its help
    assert out.startswith("Usage: metarec") or err.startswith("Usage: metarec")
    assert "Commands:" in out + err


# -- storage errors ---------------------------------------------------------------------------------------------
def test_storage_errors_are_one_line_and_name_the_driver(data, tmp_path):
    line = _one_error_line(*run_cli(_tune(data, tmp_path)[:-2] + ["--storage", "sqlite:////nonexistent-dir/x/y.db"]),
                           "cannot open the Optuna storage", "unable to open database file")
    assert "sqlalche.me" not in line and "Background" not in line
    from metarec.kb.storage import storage_error

    class Wrapped(ImportError):
        pass

    def failing(module):
        try:
            try:
                raise ModuleNotFoundError(f"No module named {module!r}", name=module)
            except ModuleNotFoundError as inner:
                raise Wrapped("Failed to import DB access module for the specified storage URL.") from inner
        except Wrapped as exc:
            return exc

    assert "pip install 'psycopg2-binary'" in storage_error("postgresql+psycopg2://u@h/db", failing("psycopg2"))
    assert "pip install 'PyMySQL'" in storage_error("mysql+pymysql://u@h/db", failing("pymysql"))
    for url in ("postgresql://u@localhost/db", "mysql+pymysql://u@localhost/db"):
        pytest.importorskip("optuna")
        import importlib.util

        driver = "psycopg" if url.startswith("postgresql") else "pymysql"
        if importlib.util.find_spec(driver) is not None:
            continue
        line = _one_error_line(*run_cli(_tune(data, tmp_path)[:-2] + ["--storage", url]), f"'{driver}'",
                               "pip install")
        assert "Failed to import" not in line


# -- not a knowledge base ---------------------------------------------------------------------------------------
def test_not_a_kb_is_the_same_message_everywhere(data, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    for path, why in ((tmp_path / "missing", "no such directory"), (empty, "no manifest.json")):
        lines = set()
        for args in (["kb", "validate", str(path)], ["kb", "info", str(path)],
                     ["recommend", str(data), "--target", "y", "--kb", str(path)],
                     ["evaluate", "--kb", str(path)]):
            lines.add(_one_error_line(*run_cli(args), "no knowledge base here", why, "check the path"))
        assert len(lines) == 1, lines


# -- refused kb builds ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("spec, fragment", [
    ("d.csv", "no target given"),
    ("d.csv#nope", "'nope' not found"),
    ("sklearn:nope", "unknown scikit-learn dataset"),
    ("openml:999999", "OpenML dataset 999999"),
])
def test_a_refused_kb_build_leaves_no_out(spec, fragment, data, tmp_path):
    out = tmp_path / "k0"
    code, stdout, err = run_cli(["kb", "build", spec, "--out", str(out), "--trials", "1",
                                 "--learners", "decision_tree"])
    _one_error_line(code, stdout, err, fragment)
    assert stdout == ""  # no progress bar for a refused build
    assert not out.exists()
    # a directory that was there before is kept, with what it held
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    _one_error_line(*run_cli(["kb", "build", spec, "--out", str(out), "--trials", "1",
                              "--learners", "decision_tree"]), fragment)
    assert sorted(p.name for p in out.iterdir()) == ["keep.txt"]


def test_a_dataset_that_fails_in_a_kb_build_is_skipped_and_the_others_are_built(data, tmp_path):
    out = tmp_path / "kb"
    code, stdout, err = run_cli(["kb", "build", "d.csv#y", "d.csv#nope", "--out", str(out), "--trials", "1",
                                 "--learners", "decision_tree"])
    # d.csv#y and d.csv#nope are the same file: refused as a duplicate id before anything is written
    assert code == 2 and not out.exists(), err
    other = tmp_path / "e.csv"
    other.write_text(data.read_text())
    code, stdout, err = run_cli(["kb", "build", f"{data}#y", f"{other}#nope", "--out", str(out), "--trials", "1",
                                 "--learners", "decision_tree"])
    assert code == 0 and "1 datasets" in stdout, err
    lines = err.strip().splitlines()  # one Warning line, naming the spec and the problem; no traceback
    assert len(lines) == 1 and lines[0].startswith(f"Warning: skipped {other}#nope: ") and "'nope' not found" in err
    assert (out / "build.db").exists() and (out / "manifest.json").exists()
