"""metarec-xgboost: registration through the entry point's hook, and metarec's learner conformance suite."""

import pytest

pytest.importorskip("xgboost")
metarec_xgboost = pytest.importorskip("metarec_xgboost")

from metarec.plugins import PluginHost  # noqa: E402
from metarec.testing import check_learner, learner_conformance_cases  # noqa: E402


def test_registers_both_learners_through_the_hook():
    host = PluginHost(autoload=False)
    host.register_plugin(metarec_xgboost, name="xgboost")
    reg = host.registry("learner")
    assert reg.entry("xgboost").plugin == "xgboost"
    assert reg.get("xgboost_regressor").task_types == ("regression",)
    info = {i["name"]: i for i in host.report()}["xgboost"]
    assert info["registered"] == {"learner": ["xgboost", "xgboost_regressor"]} and not info["errors"]


def test_module_import_does_not_import_xgboost():
    import subprocess
    import sys

    code = "import sys, metarec_xgboost; print('xgboost' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("learner", learner_conformance_cases(metarec_xgboost.LEARNERS))
def test_conformance(learner):
    check_learner(learner)


def test_classifier_handles_string_labels_and_probabilities():
    from metarec.testing import make_conformance_data

    X, y = make_conformance_data("classification")
    pipe = metarec_xgboost.LEARNERS[0].make_pipeline({"n_estimators": 20}).fit(X, y)
    proba = pipe.predict_proba(X)
    assert proba.shape == (len(X), 3) and list(pipe.classes_) == ["high", "low", "mid"]
    assert (pipe.predict(X) == y).mean() > 0.8
