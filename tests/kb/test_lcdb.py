"""Knowledge base from LCDB: the import of a slice of the real files, aggregation and the learning-curve
landmarkers checked by hand."""

import pandas as pd
import pytest

from metarec.kb import KnowledgeBase
from metarec.kb.lcdb import find_lcdb_dir, import_lcdb
from metarec.metafeatures.subsample import anchor_for
from metarec.metafeatures.subsample import feature_names as subsample_feature_names


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


@pytest.mark.slow
def test_lcdb_import_slice(lcdb_slice, tmp_path):
    kb = import_lcdb(lcdb_slice)
    assert sorted(kb.datasets["dataset_id"]) == ["openml:3", "openml:6"]
    # OpenML's 64 qualities, then the subsample group's columns: the 20 of classification read off the accuracy
    # curves, the regression ones NaN
    assert len(kb.metafeature_names) == 64 + len(subsample_feature_names())
    assert "NumberOfFeaturesAfterBinarization" in kb.metafeature_names
    assert kb.metafeature_names[64:] == list(subsample_feature_names())
    assert kb.datasets[[c for c in subsample_feature_names() if c.endswith("_r2")]].isna().all().all()
    assert kb.datasets["sub_knn_accuracy"].notna().any()
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
