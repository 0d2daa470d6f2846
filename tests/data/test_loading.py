"""Data loading: every format, the OpenML path offline, and every bad input through the API and CLI."""

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from metarec.cli import cli, main
from metarec.data import Dataset, load_dataset, read_arff
from metarec.exceptions import DataError

from ..helpers import ORACLES


@pytest.fixture
def frame():
    rng = np.random.default_rng(0)
    n = 60
    return pd.DataFrame(
        {
            "num": rng.normal(size=n),
            "num_missing": np.where(rng.random(n) < 0.2, np.nan, rng.normal(size=n)),
            "color": rng.choice(["red", "green", "blue"], size=n),
            "flag": rng.random(n) < 0.5,
            "y": rng.choice(["yes", "no"], size=n),
        }
    )


def _write(frame, path):
    suffix = path.suffix
    if suffix == ".csv":
        frame.to_csv(path, index=False)
    elif suffix == ".tsv":
        frame.to_csv(path, index=False, sep="\t")
    elif suffix == ".parquet":
        frame.to_parquet(path)
    elif suffix == ".feather":
        frame.to_feather(path)
    return path


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".parquet", ".feather"])
def test_file_formats(frame, tmp_path, suffix):
    ds = load_dataset(_write(frame, tmp_path / f"d{suffix}"), target="y")
    assert isinstance(ds, Dataset)
    assert ds.X.shape == (60, 4) and ds.task_type == "classification"
    assert ds.name == "d"
    assert isinstance(ds.X["color"].dtype, pd.CategoricalDtype)
    assert list(ds.X["color"].cat.categories) == ["blue", "green", "red"]  # CSV: sorted observed levels
    assert ds.categorical == [False, False, True, True]
    assert list(ds.y.cat.categories) == ["no", "yes"]


@pytest.mark.parametrize("sep", [";", "|", "\t"])
def test_csv_delimiter_is_sniffed(frame, tmp_path, sep):
    path = tmp_path / "d.csv"
    frame.to_csv(path, index=False, sep=sep)
    assert load_dataset(path, target="y").X.shape == (60, 4)


def test_latin1_csv_loads_with_warning(tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes("città,y\nRoma,1\nMilano,0\nNapoli,1\nTorino,0\n".encode("latin-1"))
    ds = load_dataset(path, target="y")
    assert "Roma" in list(ds.X["città"].cat.categories)
    assert any("Latin-1" in w for w in ds.warnings)


def test_arff_keeps_declared_levels():
    frame, meta = read_arff(ORACLES / "anneal" / "dataset.arff")
    assert meta["types"]["family"] == "nominal"
    assert list(frame["family"].cat.categories) == ["GB", "GK", "GS", "TN", "ZA", "ZF", "ZH", "ZM", "ZS"]
    ds = load_dataset(ORACLES / "anneal" / "dataset.arff", target="class")
    assert list(ds.y.cat.categories) == ["1", "2", "3", "4", "5", "U"]  # 6 declared, 5 observed
    assert ds.y.nunique() == 5


def test_dataframe_and_numpy(frame):
    ds = load_dataset(frame, target="y")
    assert ds.source == "DataFrame" and ds.X.shape == (60, 4)
    X = np.random.default_rng(0).normal(size=(50, 3))
    y = X[:, 0] * 2.5 + 0.1
    ds = load_dataset(X, y=y)
    assert ds.task_type == "regression" and list(ds.X.columns) == ["x0", "x1", "x2"]
    ds = load_dataset(frame.drop(columns="y"), y=frame["y"])
    assert ds.task_type == "classification"


def test_task_type_inference_and_override(frame):
    f = frame.assign(y=np.arange(60) % 3)
    ds = load_dataset(f, target="y")
    assert ds.task_type == "classification" and any("treated as classification" in w for w in ds.warnings)
    assert load_dataset(f, target="y", task_type="regression").task_type == "regression"
    f = frame.assign(y=np.linspace(0, 1, 60))
    assert load_dataset(f, target="y").task_type == "regression"
    with pytest.raises(DataError, match="not numeric"):
        load_dataset(frame, target="y", task_type="regression")


def test_column_reports(frame):
    f = frame.assign(const=1.0, ident=np.arange(60), allnan=np.nan)
    ds = load_dataset(f, target="y")
    joined = " | ".join(ds.warnings)
    assert "'const' is constant" in joined
    assert "'ident' looks like an ID" in joined
    assert "'allnan' is missing in every row" in joined


def test_missing_target_rows_dropped_and_infinities(frame):
    f = frame.copy()
    f.loc[:4, "y"] = None
    f.loc[7, "num"] = np.inf
    ds = load_dataset(f, target="y")
    assert ds.n_rows == 55
    assert any("dropped 5 rows" in w for w in ds.warnings)
    assert any("infinite" in w for w in ds.warnings)
    assert not np.isinf(ds.X["num"]).any()


def test_openml_offline(openml_cache):
    ds = load_dataset("openml:2")
    assert ds.name == "anneal" and ds.target == "class" and ds.X.shape == (898, 38)
    assert ds.openml_id == 2 and ds.source == "openml:2"
    assert list(ds.X["family"].cat.categories) == ["GB", "GK", "GS", "TN", "ZA", "ZF", "ZH", "ZM", "ZS"]


def test_loading_from_openml_leaves_the_callers_openml_configuration_alone(openml_cache):
    import openml

    config = openml.config
    before = (config.server, config.connection_n_retries, config.get_cache_directory())
    ds = load_dataset("openml:2")  # the fixture's cache and the test server, for this load only
    assert ds.name == "anneal"
    assert (config.server, config.connection_n_retries, config.get_cache_directory()) == before
    with pytest.raises(DataError, match="neither in the cache"):
        load_dataset("openml:424242")  # a failed load too
    assert (config.server, config.connection_n_retries, config.get_cache_directory()) == before


def test_openml_not_cached_nor_reachable(openml_cache, monkeypatch):
    import openml

    def unreachable(*a, **k):
        raise ConnectionError("Failed to resolve 'test.openml.org'")

    monkeypatch.setattr(openml.datasets, "get_dataset", unreachable)
    with pytest.raises(DataError, match="neither in the cache .* nor reachable"):
        load_dataset("openml:424242")


# -- bad inputs: (setup, cli args, API kwargs, expected message fragment) ---------------------------------

def _bad_inputs(tmp_path):
    def w(name, content: bytes | str):
        p = tmp_path / name
        p.write_bytes(content if isinstance(content, bytes) else content.encode())
        return p

    good = "a,b,y\n" + "".join(f"{i},{i % 3},{i % 2}\n" for i in range(10))
    return {
        "missing file": (tmp_path / "nope.csv", "y", "no such file"),
        "directory": (tmp_path, "y", "is a directory"),
        "unknown format": (w("d.xlsx", "x"), "y", "unknown format"),
        "empty file": (w("empty.csv", ""), "y", "file is empty"),
        "whitespace only": (w("ws.csv", "  \n\n"), "y", "only whitespace"),
        "header only": (w("header.csv", "a,b,y\n"), "y", "header but no rows"),
        "binary garbage": (w("bin.csv", bytes(range(256)) * 4), "y", "binary file"),
        "target not found": (w("t.csv", good), "Y", "did you mean 'y'"),
        "no target": (w("nt.csv", good), None, "no target given"),
        "target all missing": (w("tm.csv", "a,y\n1,\n2,\n3,\n"), "y", "missing in every row"),
        "single class": (w("sc.csv", "a,y\n1,k\n2,k\n3,k\n"), "y", "single class"),
        "too few rows": (w("one.csv", "a,y\n1,0\n"), "y", "fewer than the minimum of 2"),
        "duplicate columns": (w("dup.csv", "a,a,y\n1,2,0\n3,4,1\n"), "y", "duplicate column names a"),
        "corrupt parquet": (w("bad.parquet", "not parquet"), "y", "not a readable parquet"),
        "corrupt arff": (w("bad.arff", "@relation x\n@attribute a weird\n@data\n1\n"), "y", "not a readable ARFF"),
        "bad openml id": ("openml:abc", None, "openml:ID with a number"),
    }


@pytest.fixture
def bad_inputs(tmp_path):
    cases = _bad_inputs(tmp_path)
    assert sorted(cases) == sorted(BAD_NAMES)
    return cases


BAD_NAMES = [
    "missing file", "directory", "unknown format", "empty file", "whitespace only", "header only",
    "binary garbage", "target not found", "no target", "target all missing", "single class", "too few rows",
    "duplicate columns", "corrupt parquet", "corrupt arff", "bad openml id",
]


@pytest.mark.parametrize("case", BAD_NAMES)
def test_bad_input_api(bad_inputs, case):
    source, target, fragment = bad_inputs[case]
    with pytest.raises(DataError, match=fragment):
        load_dataset(str(source), target=target)


@pytest.mark.parametrize("case", BAD_NAMES)
def test_bad_input_cli(bad_inputs, case, capsys):
    source, target, fragment = bad_inputs[case]
    args = ["inspect", str(source)] + (["--target", target] if target else [])
    with pytest.raises(SystemExit) as exc:
        main(args)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: ") and fragment.split(".*")[0] in lines[0], err
    assert "Traceback" not in err


def test_cli_inspect_json(frame, tmp_path):
    path = _write(frame, tmp_path / "d.csv")
    result = CliRunner().invoke(cli, ["inspect", str(path), "--target", "y", "--json"])
    assert result.exit_code == 0, result.output
    import json

    data = json.loads(result.stdout)
    assert data["n_rows"] == 60 and data["task_type"] == "classification" and data["n_categorical"] == 2


def test_cli_as_a_user_types_it(frame, tmp_path):
    path = _write(frame, tmp_path / "d.csv")
    ok = subprocess.run([sys.executable, "-m", "metarec.cli", "inspect", str(path), "-t", "y"],
                        capture_output=True, text=True)
    assert ok.returncode == 0 and "classification" in ok.stdout
    bad = subprocess.run([sys.executable, "-m", "metarec.cli", "inspect", str(path), "-t", "nope"],
                         capture_output=True, text=True)
    assert bad.returncode == 2 and bad.stderr.startswith("Error: ") and "Traceback" not in bad.stderr
    usage = subprocess.run([sys.executable, "-m", "metarec.cli", "learners", "--task", "clustering"],
                           capture_output=True, text=True)
    assert usage.returncode == 2 and "Traceback" not in usage.stderr


def test_pandas_string_column_with_na_dates_loads():
    # pandas' "string" dtype holds pd.NA, whose truth value raises: a missing date must not crash typing
    frame = pd.DataFrame({
        "when": pd.array(["2020-01-01", "2021-02-03", None] * 10, dtype="string"),
        "level": pd.array(["u", "v", None] * 10, dtype="object"),
        "y": ["a", "b"] * 15,
    })
    ds = load_dataset(frame, target="y")
    assert ds.X["when"].tolist()[:2] == [1577836800000.0, 1612310400000.0] and pd.isna(ds.X["when"].iloc[2])
    assert any("dates converted" in w for w in ds.warnings)
    assert list(ds.X["level"].cat.categories) == ["u", "v"] and pd.isna(ds.X["level"].iloc[2])


# -- X, y as in scikit-learn -------------------------------------------------------------------------------
def _xy(n=60, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    return X, np.where(X[:, 0] > 0, 1, 0)


def test_x_and_y_as_lists_load_like_arrays():
    X, y = _xy()
    ds = load_dataset(X.tolist(), y=y.tolist())
    assert ds.X.shape == (60, 3) and ds.task_type == "classification" and ds.target == "target"


def test_y_keeps_its_name_and_an_unnamed_y_never_clashes_with_a_feature_called_target():
    X, y = _xy()
    frame = pd.DataFrame(X, columns=["target", "b", "c"])
    assert load_dataset(frame, y=pd.Series(y, name="label")).target == "label"
    ds = load_dataset(frame, y=y)  # an unnamed y: the feature "target" stays a feature
    assert "target" in ds.X.columns and ds.target not in ds.X.columns and ds.X.shape == (60, 3)
    # a y whose name is a column of X: the target would be its own feature, refused with the fix
    with pytest.raises(DataError, match="already has a column named 'target', the name of the target; drop it"):
        load_dataset(frame, y=pd.Series(y, name="target"))


def test_an_integer_column_name_is_a_target():
    X, y = _xy()
    ds = load_dataset(pd.DataFrame(np.c_[X, y]), target=3)
    assert ds.target == "3" and ds.X.shape == (60, 3)


def test_one_class_and_one_row_messages_read_plainly():
    with pytest.raises(DataError, match=r"single class \(1\)"):
        load_dataset(pd.DataFrame({"a": range(30), "y": np.ones(30, dtype=np.int64)}), target="y",
                     task_type="classification")
    with pytest.raises(DataError, match="n_samples=1"):  # the wording scikit-learn's checks look for
        load_dataset(pd.DataFrame({"a": [1.0], "y": [2.0]}), target="y")
