"""Meta-features are computed once per data checksum: recommend, then tune, of one file reuse them."""

import json

import numpy as np
import pandas as pd
import pytest

import metarec
import metarec.metafeatures.cache as mfcache
from metarec.data import load_dataset


@pytest.fixture
def counting(monkeypatch, tmp_path):
    monkeypatch.setenv("METAREC_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv(mfcache.CACHE_SWITCH, "1")
    calls = []
    real = mfcache.extract_metafeatures

    def spy(*args, **kwargs):
        calls.append(kwargs.get("groups"))
        return real(*args, **kwargs)

    monkeypatch.setattr(mfcache, "extract_metafeatures", spy)
    return calls


def _frame(seed=0, n=120):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3))
    return pd.DataFrame(x, columns=list("abc")).assign(y=np.where(x[:, 0] > 0, "p", "q"))


def test_the_same_data_is_extracted_once_and_other_data_again(counting, tmp_path):
    groups = ["openml", "statistical"]
    first, rep1 = mfcache.cached_metafeatures(load_dataset(_frame(), target="y"), groups=groups)
    again, rep2 = mfcache.cached_metafeatures(load_dataset(_frame(), target="y"), groups=groups)
    assert len(counting) == 1
    pd.testing.assert_series_equal(first, again, check_names=False)
    assert rep2.groups["openml"].status == rep1.groups["openml"].status == "ok"
    mfcache.cached_metafeatures(load_dataset(_frame(seed=1), target="y"), groups=groups)  # other values
    mfcache.cached_metafeatures(load_dataset(_frame(), target="y"), groups=["openml"])  # other groups
    mfcache.cached_metafeatures(load_dataset(_frame(), target="y"), groups=groups, cache=False)
    assert len(counting) == 4
    entries = list((tmp_path / "cache" / "metafeatures").glob("*.json"))
    assert len(entries) == 3 and all(json.loads(e.read_text())["values"] for e in entries)


def test_a_budget_cut_extraction_is_not_kept_and_a_broken_entry_is_recomputed(counting, tmp_path):
    ds = load_dataset(_frame(), target="y")
    values, report = mfcache.cached_metafeatures(ds, groups=["openml"], time_budget=0)
    assert values.isna().all()
    assert not (tmp_path / "cache" / "metafeatures").exists()  # nothing cached: more time computes it
    mfcache.cached_metafeatures(ds, groups=["openml"])
    (entry,) = (tmp_path / "cache" / "metafeatures").glob("*.json")
    entry.write_text("{not json")
    values, _ = mfcache.cached_metafeatures(ds, groups=["openml"])
    assert len(counting) == 3 and values.notna().any()
    json.loads(entry.read_text())  # rewritten


@pytest.mark.slow
def test_tune_after_recommend_reuses_the_meta_features(counting, tmp_path):
    data = _frame(n=200)
    rec = metarec.recommend(data, target="y")
    assert len(counting) == 1
    metarec.tune(data, target="y", n_trials=1, warm_start=1, cv=2, top_k=1)
    assert len(counting) == 1 and rec.learners
