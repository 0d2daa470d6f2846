"""Learning-curve meta-examples: LCDB datasets at smaller training sizes as tasks of their own."""

import numpy as np
import pandas as pd
import pytest

from metarec.kb import KnowledgeBase
from metarec.kb.curves import add_curve_examples, curve_id
from metarec.kb.format import DATASET_COLUMNS, RUN_COLUMNS, config_id, new_manifest
from metarec.kb.performance import performance_table

LEARNERS = ("knn", "random_forest", "logistic_regression")


def _curve_kb(n=8, largest=8192.0):
    """n LCDB-like datasets: knn is best up to 1,024 training rows, random forest above."""
    mf = ["NumberOfInstances", "NumberOfFeatures", "Dimensionality", "MajorityClassSize", "ClassEntropy"]
    rows, runs = [], []
    for i in range(n):
        did = f"openml:{i}"
        inst = largest / 0.81
        rows.append({"dataset_id": did, "name": did, "source": "lcdb", "task_type": "classification",
                     "openml_id": float(i), "n_rows": inst, "n_features": 10.0, "n_classes": 2.0,
                     "NumberOfInstances": inst, "NumberOfFeatures": 10.0, "Dimensionality": 10.0 / inst,
                     "MajorityClassSize": inst * 0.6, "ClassEntropy": 0.9 + i / 100})
        for anchor in (256.0, 1024.0, 4096.0, largest):
            small = anchor <= 1024
            for lr in LEARNERS:
                score = {"knn": 0.8 if small else 0.7, "random_forest": 0.7 if small else 0.85}.get(lr, 0.75)
                runs.append({"dataset_id": did, "source": "lcdb", "learner": lr, "config_id": config_id("{}"),
                             "config": "{}", "metric": "accuracy", "train_size": anchor, "score": score,
                             "score_std": 0.01, "valid_score": np.nan, "valid_score_std": np.nan,
                             "fit_time": anchor / 1000, "n_repeats": 25.0, "trial": np.nan, "status": "ok"})
    m = new_manifest()
    m["sources"] = [{"name": "lcdb"}]
    m["metafeatures"] = {c: "openml" for c in mf}
    m["learners"] = {lr: "metarec.learners.builtin" for lr in LEARNERS}
    return KnowledgeBase(pd.DataFrame(rows)[list(DATASET_COLUMNS) + mf], pd.DataFrame(runs)[list(RUN_COLUMNS)], m)


def test_smaller_anchors_become_rows_with_their_size_dependent_metafeatures_resized():
    kb = _curve_kb()
    pt = performance_table(kb, "accuracy", "classification", "lcdb")
    table, base_of = add_curve_examples(pt, kb, anchors=(256, 1024, 4096, 8192))
    # 8,192 is the largest anchor itself (above 70% of it): not a row of its own
    assert len(base_of) == 8 * 3 and set(base_of.values()) == set(pt.scores.index)
    row, full = curve_id("openml:0", 256), "openml:0"
    assert table.scores.loc[row].idxmax() == "knn" and table.scores.loc[full].idxmax() == "random_forest"
    share = 256 / 8192
    mf, mf_full = table.metafeatures.loc[row], table.metafeatures.loc[full]
    assert mf["NumberOfInstances"] == pytest.approx(mf_full["NumberOfInstances"] * share)
    assert mf["MajorityClassSize"] == pytest.approx(mf_full["MajorityClassSize"] * share)
    assert mf["Dimensionality"] == pytest.approx(mf_full["Dimensionality"] / share)
    assert mf["ClassEntropy"] == mf_full["ClassEntropy"] and mf["NumberOfFeatures"] == 10.0
    assert table.train_sizes.loc[row].eq(256.0).all() and table.fit_times.loc[row, "knn"] == pytest.approx(0.256)
    assert table.observed.loc[row].all()


def test_evaluation_learns_from_curve_rows_scores_only_datasets_and_holds_out_a_datasets_rows():
    from metarec.evaluate import evaluate_metamodels
    from metarec.evaluate.protocol import _fit_predict_fold
    from metarec.metamodels.single_best import SingleBestMetaModel

    kb = _curve_kb()
    res = evaluate_metamodels(kb, ["single-best"], source="lcdb", n_jobs=1, curve_anchors=(256, 1024))
    assert res.settings["datasets"] == 8 and res.settings["learning_curve_rows"] == 16
    assert set(res.per_dataset["dataset_id"]) == {f"openml:{i}" for i in range(8)}

    seen = []

    class Spy(SingleBestMetaModel):
        def fit(self, X, Y, **kw):
            seen.append(list(Y.index))
            return super().fit(X, Y, **kw)

    pt = performance_table(kb, "accuracy", "classification", "lcdb")
    table, base_of = add_curve_examples(pt, kb, anchors=(256, 1024))
    _fit_predict_fold(Spy, table, ["openml:3"], base_of)
    assert not any(d.startswith("openml:3") for d in seen[0])  # neither the dataset nor its smaller sizes
    assert curve_id("openml:4", 256) in seen[0]


def test_the_shipped_meta_model_learns_the_winner_at_small_sizes_from_curve_rows(monkeypatch, tmp_path):
    """fit_metamodel learns from the LCDB datasets at the default anchors: the kNN meta-model then picks
    knn for a 200-row dataset (random forest wins only at the largest sizes, which alone never show knn
    ahead) and still random forest for a large one; evaluation by default learns from the same rows."""
    from metarec.evaluate import evaluate_metamodels
    from metarec.kb.curves import DEFAULT_ANCHORS
    from metarec.metamodels import fit_metamodel

    monkeypatch.setenv("METAREC_CACHE_DIR", str(tmp_path))
    kb = _curve_kb()
    kb.runs["train_size"] = kb.runs["train_size"].replace({256.0: 64.0, 1024.0: 181.0, 4096.0: 512.0})
    model = fit_metamodel(kb, "knn", cache=False)
    pt = performance_table(kb, "accuracy", "classification", "lcdb")
    small = pt.metafeatures.iloc[[0]].copy()
    small["NumberOfInstances"], small["MajorityClassSize"] = 200.0, 120.0
    small["Dimensionality"] = 10.0 / 200
    assert model.predict(small).score.iloc[0].idxmax() == "knn"
    assert model.predict(pt.metafeatures.iloc[[0]]).score.iloc[0].idxmax() == "random_forest"
    res = evaluate_metamodels(kb, ["single-best"], source="lcdb", n_jobs=1)
    assert res.settings["curve_anchors"] == list(DEFAULT_ANCHORS) and res.settings["learning_curve_rows"] == 24
    assert evaluate_metamodels(kb, ["single-best"], source="lcdb", n_jobs=1,
                               curve_anchors=None).settings["learning_curve_rows"] == 0
