"""Column typing as a fitted transformer (ColumnTyper), free-text encoding, decimal commas, compressed files,
float-target wording and the subsample group on constant features."""

from __future__ import annotations

import bz2
import gzip
import lzma
import zipfile

import numpy as np
import pandas as pd
import pytest

from metarec.data import ColumnTyper, load_dataset
from metarec.exceptions import DataError


def _raw(n: int = 60, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "a": rng.normal(size=n),
        "when": pd.date_range("2021-01-01", periods=n, freq="13h").astype(str),
        "stamp": pd.date_range("2020-05-01", periods=n, freq="D"),
        "numtext": rng.integers(0, 50, size=n).astype(str),
        "color": rng.choice(["red", "green", "blue"], size=n),
        "note": [f"customer said thing number {i}" for i in range(n)],
        "flag": rng.random(n) < 0.5,
    })


# -- one typing code path, as a fitted transformer -----------------------------------------------------------
def test_column_typer_repeats_what_loading_did_and_is_idempotent():
    raw = _raw()
    ds = load_dataset(raw.assign(y=np.arange(60) % 2), target="y")
    assert ds.column_kinds == {"a": "number", "when": "date", "stamp": "date", "numtext": "number",
                               "color": "category", "note": "text", "flag": "keep"}
    typer = ColumnTyper().fit(raw)
    assert typer.kinds_ == ds.column_kinds and list(typer.feature_names_in_) == list(raw.columns)
    typed = typer.transform(raw)
    pd.testing.assert_frame_equal(typed, ds.X)
    pd.testing.assert_frame_equal(typer.transform(typed), ds.X)  # already typed: kept
    # the typer loading hands to tune: fitted on the typed frame, it types raw rows the same way
    frozen = ds.column_typer().fit(ds.X)
    pd.testing.assert_frame_equal(frozen.transform(raw), ds.X)
    # a numpy array with the fitted number of columns takes the fitted names; extra DataFrame columns go
    pd.testing.assert_frame_equal(frozen.transform(raw.to_numpy(dtype=object)).astype(ds.X.dtypes), ds.X)
    assert list(frozen.transform(raw.assign(extra=1).iloc[:, ::-1]).columns) == list(raw.columns)


def test_column_typer_errors_name_the_column():
    raw = _raw()
    typer = ColumnTyper().fit(raw)
    with pytest.raises(ValueError, match=r"^column 'when': value 'yesterday' is not an ISO date") as e:
        typer.transform(raw.assign(when="yesterday"))
    assert isinstance(e.value, DataError) and "\n" not in str(e.value)
    with pytest.raises(ValueError, match=r"^column 'numtext': value 'many' is not a number"):
        typer.transform(raw.assign(numtext="many"))
    with pytest.raises(ValueError, match=r"^X has no column 'color', which the model was fitted with"):
        typer.transform(raw.drop(columns="color"))
    with pytest.raises(ValueError, match=r"X has 3 features, but the model is expecting 7"):
        typer.transform(np.zeros((2, 3)))
    # the CSV reader's missing-value tokens are missing in number and date columns; unseen levels stay values
    out = typer.transform(raw.head(3).assign(numtext=["?", "", "7"], color=["red", "mauve", None]))
    assert out["numtext"].isna().tolist() == [True, True, False] and out["numtext"].iloc[2] == 7
    assert out["color"].astype(object).tolist()[:2] == ["red", "mauve"] and pd.isna(out["color"].iloc[2])


# -- free text is one-hot encoded with a cap, and the warning says so ----------------------------------------
def test_free_text_is_one_hot_encoded_with_a_cap_as_the_warning_says():
    from metarec.learners import get_learner
    from metarec.learners.base import TEXT_MAX_CATEGORIES, make_preprocessor

    n = 300
    rng = np.random.default_rng(1)
    hc = [f"c{v}" for v in rng.integers(0, 250, size=n)]  # about 210 distinct: free text
    frame = pd.DataFrame({"a": rng.normal(size=n), "id": [f"id{i}" for i in range(n)], "hc": hc,
                          "y": rng.choice(["p", "q"], size=n)})
    ds = load_dataset(frame, target="y")
    text_warnings = [w for w in ds.warnings if "free text" in w]
    assert len(text_warnings) == 2 and all("not one-hot encoded" not in w for w in text_warnings)
    assert "one-hot encode only its 19 most frequent values (each seen at least 2 times)" in text_warnings[0]
    assert "put the rest in one 'infrequent' column, and target encode it" in text_warnings[0]
    pipe = get_learner("logistic_regression").make_pipeline().fit(ds.X, ds.y)
    onehot = pipe.named_steps["preprocess"].named_transformers_["text"].named_steps["onehot"]
    widths = [len(c) for c in onehot.categories_]
    assert widths == [n, len(set(hc))]  # the categories are all known ...
    width = pipe.named_steps["preprocess"].transform(ds.X).shape[1]
    assert width <= 1 + 2 * (TEXT_MAX_CATEGORIES + 1)  # ... but one-hot in at most 20 columns each, + a target code
    # a low-cardinality (category) column keeps a column per level; the meta-features' encoder is unchanged
    assert make_preprocessor(dense=True).fit_transform(ds.X).shape[1] == 1 + n + len(set(hc))


# -- European CSVs ---------------------------------------------------------------------------------------------
def test_semicolon_csv_with_decimal_commas_reads_numbers(tmp_path):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"a": rng.normal(size=40).round(4), "b": rng.integers(0, 9, size=40),
                          "y": rng.choice(["yes", "no"], size=40)})
    frame.to_csv(tmp_path / "eu.csv", sep=";", decimal=",", index=False)
    ds = load_dataset(tmp_path / "eu.csv", target="y")
    assert ds.X["a"].dtype == float and np.allclose(ds.X["a"], frame["a"])
    assert ds.column_kinds["a"] == "decimal_comma"
    assert any("column 'a': numbers with a decimal comma" in w for w in ds.warnings)
    assert not any("free text" in w or "looks like an ID" in w for w in ds.warnings)
    # new rows read with pandas' defaults for that file are typed the same way
    typer = ds.column_typer().fit(ds.X)
    raw = pd.read_csv(tmp_path / "eu.csv", sep=";").drop(columns="y")
    assert np.allclose(typer.transform(raw)["a"], frame["a"])


def test_commas_in_a_comma_separated_file_are_not_decimal_commas(tmp_path):
    n = 40
    frame = pd.DataFrame({"amount": [f"{1000 + 37 * i:,}" for i in range(n)], "y": ["p", "q"] * (n // 2)})
    frame.to_csv(tmp_path / "us.csv", index=False)  # "1,037" is quoted: one thousand and thirty-seven
    ds = load_dataset(tmp_path / "us.csv", target="y")
    assert ds.column_kinds["amount"] != "decimal_comma"
    assert not any("decimal comma" in w for w in ds.warnings)


# -- compressed CSV / TSV -------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["d.csv.gz", "d.csv.bz2", "d.csv.zip", "d.csv.xz", "d.tsv.gz"])
def test_compressed_csv_and_tsv_load(tmp_path, name):
    frame = _raw(30).assign(y=np.arange(30) % 2)
    sep = "\t" if ".tsv" in name else ","
    text = frame.to_csv(index=False, sep=sep).encode()
    path = tmp_path / name
    if name.endswith(".gz"):
        path.write_bytes(gzip.compress(text))
    elif name.endswith(".bz2"):
        path.write_bytes(bz2.compress(text))
    elif name.endswith(".xz"):
        path.write_bytes(lzma.compress(text))
    else:
        with zipfile.ZipFile(path, "w") as zf:
            zf.writestr("d.csv", text)
    ds = load_dataset(path, target="y")
    plain = load_dataset(frame, target="y")
    assert ds.name == "d" and ds.X.shape == (30, 7)
    pd.testing.assert_frame_equal(ds.X, plain.X)
    assert not any("without tabs" in w for w in ds.warnings)


def test_a_compressed_file_of_an_unknown_format_is_refused(tmp_path):
    (tmp_path / "d.gz").write_bytes(gzip.compress(b"a,y\n1,2\n"))
    with pytest.raises(DataError, match=r"unknown format '\.gz'.*may be compressed"):
        load_dataset(tmp_path / "d.gz", target="y")
    (tmp_path / "bad.csv.gz").write_bytes(b"not gzip at all")
    with pytest.raises(DataError, match=r"not a readable \.gz file"):
        load_dataset(tmp_path / "bad.csv.gz", target="y")


# -- a float target is not an "integer target" ---------------------------------------------------------------
def test_float_target_of_whole_numbers_is_not_called_integer():
    frame = pd.DataFrame({"a": np.arange(40.0), "y": np.tile([0.0, 1.0], 20)})
    ds = load_dataset(frame, target="y")
    assert ds.task_type == "classification" and ds.task_decision == "float target, 2 distinct whole-number values"
    assert not any("target" in w for w in ds.warnings), ds.warnings  # two values can only be classes: no warning
    ds = load_dataset(frame.assign(y=frame["y"].astype(int)), target="y")
    assert ds.task_decision == "integer target, 2 distinct values" and not ds.warnings
    ds = load_dataset(frame.assign(y=np.arange(40) % 3), target="y")
    assert any(w.startswith("integer target with 3 distinct values") for w in ds.warnings), ds.warnings
    assert ds.task_decision == "integer target, 3 distinct values"
    assert load_dataset(frame.assign(y=np.arange(40) % 3), target="y", task_type="classification").task_decision is None


def test_an_ordinary_0_1_target_says_the_decision_in_the_header_not_in_a_warning(tmp_path):
    from ..helpers import run_cli

    frame = pd.DataFrame({"a": np.arange(60.0), "b": np.arange(60.0) % 7, "y": np.tile([0, 1], 30)})
    frame.to_csv(tmp_path / "d.csv", index=False)
    code, out, err = run_cli(["inspect", str(tmp_path / "d.csv"), "--target", "y"])
    assert code == 0 and "Warning" not in err and "task_type=" not in out + err, err
    assert "classification (integer target, 2 distinct values; --task regression overrides)" in out


# -- the subsample group on constant features -----------------------------------------------------------------
def test_subsample_group_on_constant_features_has_no_internal_errors():
    from metarec.metafeatures.base import Budget
    from metarec.metafeatures.subsample import SubsampleGroup

    n = 300
    frame = pd.DataFrame({"k1": np.ones(n, dtype=int), "k2": ["q"] * n, "y": (["yes"] * 160) + (["no"] * 140)})
    ds = load_dataset(frame, target="y")
    skipped: dict = {}
    values = SubsampleGroup().compute(ds, Budget(), skipped)
    assert skipped == {}
    acc = [v for k, v in values.items() if k.endswith("_accuracy")]
    assert all(v == v for v in acc) and len(set(acc)) == 1  # every learner predicts the majority class
    rel = {k: v for k, v in values.items() if k.endswith("_rel")}
    assert all(v == 0.0 for k, v in rel.items() if "regressor" not in k)  # classification: every gap is nil
    assert all(v != v for k, v in rel.items() if "regressor" in k)  # the regression columns are NaN
