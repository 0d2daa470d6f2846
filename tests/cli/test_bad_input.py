"""The bad-input matrix: every awkward dataset a user may hand in, through the CLI and through the API.

Each case writes its input into ``tmp_path`` and is run

- through the CLI as a user types it (``metarec recommend FILE --target COL``, ``metarec metafeatures``,
  ``metarec tune ... --out model``): exit code 0 with the case's warning, or exit code 2 with one
  ``Error: ...`` line naming the problem and the fix; never a traceback; never a half-written output file;
- through the API (``metarec.load_dataset`` / ``metarec.recommend`` / ``metarec.tune``): the case's
  :class:`~metarec.exceptions.MetarecError` subclass, or success with the warning in ``.warnings``.

Recommendations use a small synthetic knowledge base (a few OpenML and statistical meta-features, two
learners per task type) whose meta-models are fitted once per session into a private cache.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
import pytest

import metarec
from metarec.data import MAX_INT_CLASSES
from metarec.exceptions import DataError, MetarecError
from metarec.tuning import save_model

from ..helpers import offline_env, run_cli
from ..synthetic_kb import _small_kb

N = 60  # rows of the ordinary cases


def _base(n: int = N, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"a": rng.normal(size=n).round(4), "b": rng.integers(0, 5, n),
                         "c": rng.choice(["red", "green", "blue"], n), "y": rng.choice(["p", "q"], n)})


def _text(name: str, content: str | bytes) -> Callable[[Path], str]:
    def make(d: Path) -> str:
        p = d / name
        p.write_bytes(content if isinstance(content, bytes) else content.encode())
        return str(p)
    return make


def _csv(name: str, frame: Callable[[], pd.DataFrame], **kw) -> Callable[[Path], str]:
    def make(d: Path) -> str:
        p = d / name
        frame().to_csv(p, index=False, **kw)
        return str(p)
    return make


def _parquet(name: str, frame: Callable[[], pd.DataFrame]) -> Callable[[Path], str]:
    def make(d: Path) -> str:
        p = d / name
        frame().to_parquet(p, index=False)
        return str(p)
    return make


def _with(**cols) -> Callable[[], pd.DataFrame]:
    return lambda: _base().assign(**{k: (v() if callable(v) else v) for k, v in cols.items()})


@dataclass(frozen=True)
class Case:
    """One bad input: how to make it, and what must happen."""

    name: str
    make: Callable[[Path], str]  # writes the input under a directory; returns the DATA argument
    target: str | None = "y"
    error: tuple[str, str] | None = None  # (problem, fix) regexes of the one-line error
    exc: type = DataError
    warning: str | None = None  # regex of a warning on success
    task: str | None = None  # the task type decided on success
    check: Callable | None = None  # more assertions on the loaded Dataset
    tune_error: tuple[str, str] | None = None  # (problem, fix) when only tuning must refuse it


def _rows(n):
    return lambda: _base().head(n)


CASES = [
    # -- files that are not data ---------------------------------------------------------------------------
    Case("missing path", lambda d: str(d / "nope.csv"), error=("no such file", "check the path")),
    Case("a directory", lambda d: str(d), error=("is a directory", "pass a file inside it")),
    Case("empty file", _text("empty.csv", ""), error=("the file is empty", "re-export the data")),
    Case("whitespace only", _text("ws.csv", " \n\n \n"), error=("only whitespace", "re-export the data")),
    Case("header only", _text("header.csv", "a,b,y\n"), error=("header but no rows", "add data rows")),
    Case("binary garbage", _text("garbage.csv", bytes(range(256)) * 40),
         error=("binary file", "export the data as CSV")),
    Case("corrupt parquet", _text("bad.parquet", b"PAR1 this is not parquet"),
         error=("not a readable parquet file", "check the file")),
    Case("unknown extension", _text("data.xlsx", "a,y\n1,2\n"), error=("unknown format '.xlsx'", "use one of")),
    Case("unrecognised delimiter (spaces)", _csv("spaces.csv", _base, sep=" "),
         error=("only one column .* delimiter was not recognised", "save the file with commas")),
    Case("wrong delimiter (.tsv holding commas)", _csv("commas.tsv", _base),
         warning="a .tsv file without tabs; read it with ','", task="classification"),
    Case("non-UTF-8 (Latin-1)", _text("latin.csv", ("città,y\n" + "".join(
        f"{'Forlì' if i % 2 else 'Città'},{'sì' if i % 3 else 'no'}\n" for i in range(N))).encode("latin-1")),
         target="y", warning="not UTF-8; read it as Latin-1", task="classification",
         check=lambda ds: ds.X["città"].cat.categories.tolist() == ["Città", "Forlì"]),
    Case("duplicate column names", _text("dup.csv", "a,a,y\n" + "".join(f"{i},{i},{i % 2}\n" for i in range(N))),
         error=("duplicate column names a", "give every column a unique name")),
    # -- the target ----------------------------------------------------------------------------------------
    Case("unknown target", _csv("t.csv", _base), target="Y", error=("target column 'Y' not found", "did you mean 'y'")),
    Case("no target given", _csv("t.csv", _base), target=None, error=("no target given", "--target")),
    Case("target all missing", _csv("tm.csv", _with(y=np.nan)),
         error=("missing in every row", "choose another target column")),
    Case("single class", _csv("sc.csv", _with(y="k")), error=("single class", "needs at least two")),
    Case("constant numeric target (regression)", _csv("cr.csv", _with(y=1.5)),
         error=("is constant", "choose a target that varies")),
    Case("rows with a missing target", _csv("mt.csv", lambda: _base().assign(
        y=lambda f: f.y.where(np.arange(N) % 10 != 0))),
         warning="dropped 6 rows with a missing target", task="classification",
         check=lambda ds: ds.n_rows == N - 6),
    Case("boolean target", _csv("bt.csv", _with(y=lambda: np.arange(N) % 3 == 0)), task="classification",
         check=lambda ds: ds.y.cat.categories.tolist() == [True, False]),
    Case(f"integer target with few values (<= {MAX_INT_CLASSES}: classification)",
         _csv("if.csv", _with(y=lambda: np.arange(N) % 4)), task="classification",
         warning=rf"integer target with 4 distinct values \(at most {MAX_INT_CLASSES}\) treated as classification"
                 r".*--task regression"),
    Case(f"integer target with many values (> {MAX_INT_CLASSES}: regression)",
         _csv("im.csv", _with(y=lambda: np.arange(N) * 7 % 53)), task="regression",
         warning=rf"integer target with 53 distinct values \(more than {MAX_INT_CLASSES}\) treated as regression"
                 r".*--task classification"),
    Case("text target in a regression task", _csv("tr.csv", _base), error=("not numeric", "--task classification")),
    # -- feature columns -----------------------------------------------------------------------------------
    Case("infinities", _csv("inf.csv", _with(a=lambda: np.where(np.arange(N) % 7 == 0, np.inf, 1.0 + np.arange(N)))),
         warning="9 infinite values treated as missing", task="classification",
         check=lambda ds: not np.isinf(ds.X["a"]).any()),
    Case("all-missing column", _csv("an.csv", _with(z=np.nan)), warning="column 'z' is missing in every row"),
    Case("constant column", _csv("cc.csv", _with(z=3)), warning="column 'z' is constant"),
    Case("free text column", _csv("ft.csv", _with(z=lambda: [f"customer said thing number {i}" for i in range(N)])),
         warning="column 'z': free text .* one-hot encode only its 19 most frequent values .* one 'infrequent' column",
         check=lambda ds: ds.X["z"].dtype == object),
    Case("datetime column", _csv("dt.csv", _with(z=lambda: pd.date_range("2021-03-01", periods=N, freq="13h"))),
         warning="column 'z': dates converted to epoch milliseconds",
         check=lambda ds: ds.X["z"].iloc[0] == pd.Timestamp("2021-03-01", tz="UTC").timestamp() * 1000),
    Case("ID-like high-cardinality column", _csv("id.csv", _with(z=lambda: [f"C{i:06d}" for i in range(N)])),
         warning="column 'z' looks like an ID"),
    Case("mixed types in one column", _csv("mx.csv", _with(z=lambda: [("low", 1, 2, 3.5)[i % 4] for i in range(N)])),
         warning="column 'z': mixes numbers and text; treated as categorical",
         check=lambda ds: isinstance(ds.X["z"].dtype, pd.CategoricalDtype)),
    Case("numbers written as strings", _parquet("ns.parquet", _with(
        a=lambda: [f"{v:.3f}" for v in np.linspace(0, 9, N)], y=lambda: [str(i % 3) for i in range(N)])),
         warning="column 'a': numbers stored as text read as numbers", task="classification",
         check=lambda ds: ds.X["a"].dtype == float and ds.y.nunique() == 3),
    Case("no feature column", _csv("nf.csv", lambda: _base()[["y"]]), warning="no feature columns besides the target",
         tune_error=("no feature column besides the target 'y'", "needs at least one")),
    # -- shape ---------------------------------------------------------------------------------------------
    Case("1 row", _csv("one.csv", _rows(1)), error=("1 row.* fewer than the minimum of 2", "add rows")),
    Case("2 rows", _text("two.csv", "a,y\n1.5,p\n2.5,q\n"), warning="only 2 rows: .* unreliable",
         task="classification", tune_error=("only 2 rows, too few to cross-validate", "needs at least 10")),
    Case("10,000 columns", _csv("wide.csv", lambda: pd.DataFrame(
        np.random.default_rng(1).normal(size=(25, 10_000)).round(3)).add_prefix("f").assign(
        y=np.arange(25) % 2 == 0)), task="classification", check=lambda ds: ds.n_features == 10_000,
         warning=r"more feature columns \(10000\) than rows \(25\)"),
    # -- OpenML --------------------------------------------------------------------------------------------
    Case("OpenML id neither cached nor reachable", lambda d: "openml:424242", target=None,
         error=("neither in the cache .* nor reachable", "download it on a connected machine")),
    Case("malformed OpenML id", lambda d: "openml:abc", target=None,
         error=("openml:ID with a number", "e.g. openml:31")),
]
TASK_OVERRIDE = {"text target in a regression task": "regression",
                 "constant numeric target (regression)": "regression"}
ERRORS = [c for c in CASES if c.error]
SUCCESSES = [c for c in CASES if not c.error]
TUNED = [c for c in SUCCESSES if c.name != "10,000 columns"]  # that one is covered by recommend (~12 s each way)


def _ids(cases):
    return [c.name for c in cases]


SLOW_CASES = {"10,000 columns"}  # ~6 s for each of recommend through the CLI and the API


def _params(cases):
    """The cases as parameters named after them; the slow ones marked so."""
    return [pytest.param(c, id=c.name, marks=pytest.mark.slow if c.name in SLOW_CASES else ()) for c in cases]


# -- a small knowledge base -------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def small_kb(tmp_path_factory):
    return _small_kb(tmp_path_factory.mktemp("bad_input_kb") / "kb")


@pytest.fixture(autouse=True)
def env(small_kb, tmp_path_factory, tmp_path, monkeypatch):
    """The small KB as the default KB, a session meta-model cache, an empty OpenML cache, no network."""
    offline_env(monkeypatch, small_kb, tmp_path_factory.getbasetemp() / "bad_input_cache", tmp_path)


def _data(case: Case, tmp_path: Path) -> str:
    d = tmp_path / "in"
    d.mkdir(exist_ok=True)
    return case.make(d)


def _args(case: Case, data: str) -> list[str]:
    args = [data] + (["--target", case.target] if case.target else [])
    task = TASK_OVERRIDE.get(case.name)
    return args + (["--task", task] if task else [])


def _assert_one_line_error(case: Case, code: int, out: str, err: str) -> str:
    assert code == 2, (code, out, err)
    assert "Traceback" not in out + err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1, err
    line = lines[0]
    assert line.startswith("Error: "), line
    problem, fix = case.error
    assert re.search(problem, line), (problem, line)
    assert re.search(fix, line), (fix, line)
    return line


def _files(d: Path) -> list[str]:
    return sorted(str(p.relative_to(d)) for p in d.rglob("*")) if d.exists() else []


# -- the CLI ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("case", ERRORS, ids=_ids(ERRORS))
def test_cli_error(case, tmp_path):
    data = _data(case, tmp_path)
    for command in (["recommend"], ["metafeatures"], ["inspect"]):
        code, out, err = run_cli(command + _args(case, data))
        _assert_one_line_error(case, code, out, err)
    # tune with an output file: refused before anything is written (no model, no sidecar, no study)
    outdir = tmp_path / "out"
    outdir.mkdir()  # an --out whose directory is missing is refused for that reason alone
    code, out, err = run_cli(["tune"] + _args(case, data) + [
        "--out", str(outdir / "model.joblib"), "--report", str(outdir / "report"),
        "--storage", f"sqlite:///{outdir / 'tune.db'}", "--trials", "2"])
    _assert_one_line_error(case, code, out, err)
    assert _files(outdir) == []
    assert not (tmp_path / "metarec-tune.db").exists()


def _assert_clean_success(case: Case, code: int, out: str, err: str) -> None:
    assert code == 0, (out, err)
    assert "Traceback" not in out + err and "Error" not in err
    assert all(ln.startswith("Warning: ") for ln in err.splitlines() if ln.strip()), err  # nothing else on stderr
    if case.warning:
        assert any(re.search(case.warning, ln) for ln in err.splitlines()), err


@pytest.mark.parametrize("case", _params(SUCCESSES))
def test_cli_success(case, tmp_path):
    data = _data(case, tmp_path)
    code, out, err = run_cli(["recommend"] + _args(case, data))
    _assert_clean_success(case, code, out, err)
    assert "decision_tree" in out or "ridge_regressor" in out or "knn" in out
    if case not in TUNED:  # 10,000 columns: recommend computed the same groups (~12 s)
        return
    code, out, err = run_cli(["metafeatures"] + _args(case, data) + ["--json"])
    _assert_clean_success(case, code, out, err)
    assert json.loads(out)["metafeatures"]["NumberOfInstances"] == metarec.load_dataset(data, case.target).n_rows


# -- the API ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("case", ERRORS, ids=_ids(ERRORS))
def test_api_error(case, tmp_path):
    data = _data(case, tmp_path)
    task = TASK_OVERRIDE.get(case.name)
    problem, fix = case.error
    for call in (lambda: metarec.load_dataset(data, target=case.target, task_type=task),
                 lambda: metarec.recommend(data, target=case.target, task_type=task)):
        with pytest.raises(case.exc) as info:
            call()
        assert isinstance(info.value, MetarecError)
        msg = str(info.value)
        assert "\n" not in msg and re.search(problem, msg) and re.search(fix, msg), msg
    with pytest.raises(case.exc):
        metarec.tune(data, target=case.target, task_type=task, n_trials=1)
    assert not (tmp_path / "metarec-tune.db").exists()


@pytest.mark.parametrize("case", _params(SUCCESSES))
def test_api_success(case, tmp_path):
    data = _data(case, tmp_path)
    ds = metarec.load_dataset(data, target=case.target)
    if case.task:
        assert ds.task_type == case.task
    if case.warning:
        assert any(re.search(case.warning, w) for w in ds.warnings), ds.warnings
    if case.check:
        assert case.check(ds), ds.X.head()
    rec = metarec.recommend(data, target=case.target)
    assert rec.task_type == ds.task_type and rec.learners
    if case.warning:
        assert any(re.search(case.warning, w) for w in rec.warnings), rec.warnings
    if case in TUNED:
        out = tmp_path / "api" / "model.joblib"
        out.parent.mkdir()
        if case.tune_error:
            with pytest.raises(DataError, match=case.tune_error[0]):
                metarec.tune(data, target=case.target, n_trials=1, cv=2)
            return
        result = metarec.tune(data, target=case.target, n_trials=1, cv=2, recommendation=rec)
        save_model(result, out)
        assert result.task_type == ds.task_type and _files(out.parent) == ["model.joblib", "model.joblib.json"]


#: The inputs the matrix must cover, each with the case that covers it.
REQUIRED_INPUTS = {
    "missing path": "missing path", "a directory": "a directory", "an empty file": "empty file",
    "header only": "header only", "binary garbage": "binary garbage",
    "wrong delimiter": "unrecognised delimiter (spaces)", "a non-UTF-8 file": "non-UTF-8 (Latin-1)",
    "duplicate column names": "duplicate column names", "unknown target": "unknown target",
    "target all missing": "target all missing", "a single class": "single class",
    "rows with a missing target": "rows with a missing target", "infinities": "infinities",
    "an all-missing column": "all-missing column", "a constant column": "constant column",
    "a free text column": "free text column", "a datetime column": "datetime column",
    "an ID-like high-cardinality column": "ID-like high-cardinality column",
    "mixed types in one column": "mixed types in one column", "1 row": "1 row", "2 rows": "2 rows",
    "10,000 columns": "10,000 columns", "numbers written as strings": "numbers written as strings",
    "a boolean target": "boolean target",
    "an integer target with few values": f"integer target with few values (<= {MAX_INT_CLASSES}: classification)",
    "an OpenML id that is neither cached nor reachable": "OpenML id neither cached nor reachable",
}


def test_the_matrix_covers_every_required_input():
    """At least 25 cases, every required input among them, each either an error or a stated outcome."""
    names = [c.name for c in CASES]
    assert len(CASES) >= 25 and len(set(names)) == len(names)
    assert set(REQUIRED_INPUTS.values()) <= set(names), set(REQUIRED_INPUTS.values()) - set(names)
    for c in SUCCESSES:  # a loadable case states what was decided: a warning, or the task type it became
        assert c.warning or c.task, c.name



@pytest.mark.parametrize("case", TUNED, ids=_ids(TUNED))
def test_cli_tune_success(case, tmp_path):
    """`metarec tune DATA --target y --out model.joblib`: a complete model and sidecar, or one clean error."""
    data = _data(case, tmp_path)
    outdir = tmp_path / "out"
    outdir.mkdir()
    args = ["tune"] + _args(case, data) + ["--out", str(outdir / "model.joblib"), "--trials", "2", "--cv", "2",
                                           "--storage", f"sqlite:///{tmp_path / 'tune.db'}"]
    code, out, err = run_cli(args)
    assert "Traceback" not in out + err
    if case.tune_error:
        _assert_one_line_error(Case(case.name, case.make, error=case.tune_error), code, out, err)
        assert _files(outdir) == []
        return
    assert code == 0, (out, err)
    assert _files(outdir) == ["model.joblib", "model.joblib.json"]
    import joblib

    model = joblib.load(outdir / "model.joblib")  # our own file, just written
    ds = metarec.load_dataset(data, target=case.target)
    assert len(model.predict(ds.X)) == ds.n_rows


def test_converted_columns_may_have_any_name():
    frame = pd.DataFrame({"self": ["1", "2", "3"] * 10, "kwargs": ["2021-01-01"] * 30, "y": [0, 1] * 15})
    ds = metarec.load_dataset(frame, target="y")
    assert ds.X["self"].dtype.kind in "if" and ds.X["kwargs"].dtype == float
