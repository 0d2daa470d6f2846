"""metarec-pymfe: registration, declared names match pymfe's, conformance, time budget and skip reports."""

import math

import pytest

pytest.importorskip("pymfe")
metarec_pymfe = pytest.importorskip("metarec_pymfe")

from metarec.metafeatures import extract_metafeatures  # noqa: E402
from metarec.plugins import PluginHost  # noqa: E402
from metarec.testing import check_metafeature_group, make_conformance_data  # noqa: E402

PymfeGroup = metarec_pymfe.PymfeGroup


def test_registers_the_group_through_the_hook():
    host = PluginHost(autoload=False)
    host.register_plugin(metarec_pymfe, name="pymfe")
    entry = host.registry("metafeature group").entry("pymfe")
    assert entry.plugin == "pymfe" and isinstance(entry.obj, PymfeGroup)
    assert not {i["name"]: i for i in host.report()}["pymfe"]["errors"]


def test_module_import_does_not_import_pymfe():
    import subprocess
    import sys

    code = "import sys, metarec_pymfe; print(metarec_pymfe.PymfeGroup().feature_names[:1], 'pymfe.mfe' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().endswith("False")


def test_declared_names_are_pymfes():
    from pymfe.mfe import MFE

    group = PymfeGroup()
    for pymfe_group, feats in metarec_pymfe.CHUNKS:
        names = MFE(groups=[pymfe_group], features=list(feats), summary=list(metarec_pymfe.SUMMARY))\
            .extract_metafeature_names()
        declared = [n for n in group.feature_names if n[len("pymfe_"):] in names]
        assert sorted(declared) == sorted("pymfe_" + n for n in names), pymfe_group


def test_conformance():
    check_metafeature_group(PymfeGroup())


def test_values_on_a_mixed_dataset():
    X, y = make_conformance_data("classification")
    df = X.assign(target=y)
    values, report = extract_metafeatures(df, "target", groups=[PymfeGroup()], return_report=True)
    assert report.groups["pymfe"].status == "ok"
    assert values["pymfe_nr_inst"] == len(df) and values["pymfe_nr_class"] == 3
    assert values["pymfe_nr_cat"] >= 2 and 0 <= values["pymfe_freq_class.mean"] <= 1


def test_spent_budget_skips_the_remaining_chunks_and_reports_them():
    X, y = make_conformance_data("classification", n_rows=300)
    df = X.assign(target=y)
    values, report = extract_metafeatures(df, "target", groups=[PymfeGroup()], time_budget=0.0,
                                          return_report=True)
    g = report.groups["pymfe"]
    assert g.status == "skipped" and "time budget" in (g.error or "")
    assert all(math.isnan(v) for v in values)


def test_budget_stops_between_chunks():
    """A budget check before each pymfe group: what was computed is kept, the rest is reported."""
    from metarec.metafeatures import Budget

    class Clock(Budget):
        calls = 0

        def check(self, what=""):
            self.calls += 1
            if self.calls > 2:  # general and statistical run, then the budget is spent
                self.seconds = 0.0
            super().check(what)

    X, y = make_conformance_data("classification")
    from metarec.metafeatures._conformance import _dataset

    skipped = {}
    values = PymfeGroup().compute(_dataset(X, y, "classification", "d"), Clock(None), skipped)
    assert "pymfe_nr_inst" in values and "pymfe_cor.mean" in values
    assert "pymfe_attr_ent.mean" in skipped and "time budget" in skipped["pymfe_attr_ent.mean"]
    assert set(values) | set(skipped) == set(PymfeGroup().feature_names)


def test_regression_runs_unsupervised_and_reports_class_features():
    X, y = make_conformance_data("regression")
    values, report = extract_metafeatures(X.assign(target=y), "target", groups=[PymfeGroup()],
                                          return_report=True)
    g = report.groups["pymfe"]
    assert g.status == "partial" and "pymfe_class_ent" in g.skipped
    assert values["pymfe_nr_inst"] == len(X) and not math.isnan(values["pymfe_cor.mean"])
