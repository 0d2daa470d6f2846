"""metarec-lambdarank: registration through the hook, metarec's meta-model conformance suite, grading."""

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("lightgbm")
metarec_lambdarank = pytest.importorskip("metarec_lambdarank")

from metarec.metamodels.base import MetaModel  # noqa: E402
from metarec.plugins import PluginHost  # noqa: E402
from metarec.testing import check_metamodel  # noqa: E402


def test_registers_the_metamodel_through_the_hook():
    host = PluginHost(autoload=False)
    host.register_plugin(metarec_lambdarank, name="lambdarank")
    entry = host.registry("metamodel").entry("lambdarank")
    assert entry.plugin == "lambdarank" and entry.obj.description
    model = entry.obj.create()
    assert isinstance(model, MetaModel) and model.name == "lambdarank"


def test_conformance():
    check_metamodel(metarec_lambdarank.make_metamodel)


def test_grades_per_dataset():
    model = metarec_lambdarank.make_metamodel().set_params(grades=4)
    S = np.array([[0.9, 0.7, 0.5, np.nan], [0.6, np.nan, 0.6, np.nan]])
    observed = np.array([[True, True, True, True], [True, True, True, False]])
    G = model.grade(S, observed)
    # best 4, worst 0, a failure 0, a learner never run there -1 (no row); ties on a flat dataset are all best
    assert G.tolist() == [[4, 2, 0, 0], [4, 0, 4, -1]]


def test_saved_as_lightgbm_text_and_reloaded_through_the_base_class(tmp_path):
    from metarec.metamodels._conformance import make_metamodel_data

    X, Y, times, sizes = make_metamodel_data(n_datasets=30)
    model = metarec_lambdarank.make_metamodel().fit(X, Y, fit_times=times, train_sizes=sizes)
    model.save(tmp_path / "m")
    files = sorted(p.name for p in (tmp_path / "m").iterdir())
    assert files == ["lower.txt", "metamodel.json", "ranker.txt", "score.txt", "upper.txt"]
    again = MetaModel.load(tmp_path / "m")
    pd.testing.assert_frame_equal(again.rank(X), model.rank(X))
