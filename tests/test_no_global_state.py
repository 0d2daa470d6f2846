"""The library leaves the process as it found it, and its two names that are also modules are functions.

``tune()`` and the plots change no process-wide state: Optuna's log verbosity, matplotlib's backend (no
pyplot), the warning filters, the SIGINT handler and ``sys.unraisablehook`` are what they were before. Each
check runs in a fresh interpreter, so nothing another test imported or set can hide a change.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _run(code: str, cwd: Path) -> dict:
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, cwd=cwd,
                          timeout=600, env=None)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


STATE = """
import json, signal, sys, warnings

import matplotlib
import optuna


def state():
    return {"verbosity": optuna.logging.get_verbosity(),
            "backend": str(dict.__getitem__(matplotlib.rcParams, "backend")),
            "pyplot": "matplotlib.pyplot" in sys.modules,
            "filters": [repr(f) for f in warnings.filters],
            "sigint": repr(signal.getsignal(signal.SIGINT)),
            "unraisablehook": repr(sys.unraisablehook)}
"""


def test_tune_report_and_plots_leave_the_process_as_they_found_it(tmp_path):
    got = _run(STATE + """
import numpy as np
import pandas as pd

import metarec
from metarec.evaluate import EvaluationResult, plot_regret
from metarec.tuning import save_model, write_report

rng = np.random.default_rng(0)
X = rng.normal(size=(60, 3))
data = pd.DataFrame(X, columns=list("abc")).assign(y=np.where(X[:, 0] > 0, "p", "q"))
import sklearn.model_selection, sklearn.tree  # what the first trial imports (scipy adds warning filters)
before = state()
result = metarec.tune(data, target="y", learners="decision_tree", n_trials=2, warm_start=0, cv=2)
after_tune = state()
save_model(result, "m.joblib")
write_report(result, "report")
per = pd.DataFrame({"metamodel": ["knn"] * 3 + ["single-best"] * 3, "regret": [0.0, 0.1, 0.02, 0.0, 0.2, 0.05]})
plot_regret(EvaluationResult(summary={"knn": {}, "single-best": {}}, per_dataset=per,
                             settings={"protocol": "loo", "metric": "accuracy"}, errors={}), "regret.png")
print(json.dumps({"before": before, "after_tune": after_tune, "after_plots": state()}))
""", tmp_path)
    assert got["after_tune"] == got["before"]
    assert got["after_plots"] == got["before"]
    assert not got["before"]["pyplot"]
    assert (tmp_path / "report" / "optimization_history.png").stat().st_size > 1000
    assert (tmp_path / "regret.png").stat().st_size > 1000 and (tmp_path / "m.joblib").exists()
    assert not (tmp_path / "metarec-tune.db").exists()  # from Python the study stays in memory


def test_kb_cross_validation_leaves_the_warning_filters_alone(tmp_path):
    got = _run(STATE + """
import numpy as np
import pandas as pd

from metarec.kb.evaluation import cross_validate_config
from metarec.learners import get_learner

rng = np.random.default_rng(0)
X = pd.DataFrame(rng.normal(size=(60, 3)), columns=list("abc"))
y = pd.Series(np.where(X["a"] > 0, "p", "q"))
lr = get_learner("mlp")  # its default stops at max_iter here: a ConvergenceWarning, ignored in the call only
import sklearn.metrics, sklearn.model_selection, sklearn.neural_network, sklearn.preprocessing  # (their filters)
before = state()
res = cross_validate_config(lr, dict(lr.default_config), X, y, "classification", cv=2)
print(json.dumps({"before": before, "after": state(), "status": res.status}))
""", tmp_path)
    assert got["status"] == "ok" and got["after"] == got["before"]


@pytest.mark.parametrize("first", [
    "import metarec",
    "import metarec.recommend",
    "from metarec.recommend import Recommender",
    "from metarec import recommend",
    "import metarec.tuning",
    "from metarec.tuning import tune",
])
def test_recommend_and_tune_are_the_functions_whatever_is_imported_first(first, tmp_path):
    got = _run(f"""
import json
{first}
import metarec
import metarec.recommend
import metarec.tuning
from metarec.recommend import Recommendation, Recommender
import sys
print(json.dumps({{"recommend": type(metarec.recommend).__name__, "tune": type(metarec.tune).__name__,
                  "same": metarec.recommend is sys.modules["metarec.recommend"].recommend
                          and metarec.Recommender is Recommender and metarec.tune is metarec.tuning.tune}}))
""", tmp_path)
    assert got == {"recommend": "function", "tune": "function", "same": True}


def test_import_metarec_stays_light(tmp_path):
    got = _run("""
import json, sys
import metarec
heavy = ["sklearn", "pandas", "optuna", "lightgbm", "torch", "matplotlib", "numpy", "scipy"]
print(json.dumps(sorted(m for m in heavy if m in sys.modules)))
""", tmp_path)
    assert got == []


def test_python_tune_can_show_optuna_s_progress_bar(tmp_path, monkeypatch, capfd):
    import numpy as np
    import pandas as pd

    import metarec

    monkeypatch.chdir(tmp_path)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3))
    data = pd.DataFrame(X, columns=list("abc")).assign(y=np.where(X[:, 0] > 0, "p", "q"))
    metarec.tune(data, target="y", learners="decision_tree", n_trials=2, warm_start=0, cv=2)
    assert "2/2" not in capfd.readouterr().err  # quiet by default
    metarec.tune(data, target="y", learners="decision_tree", n_trials=2, warm_start=0, cv=2, show_progress_bar=True)
    assert "2/2" in capfd.readouterr().err
    assert list(tmp_path.iterdir()) == []  # the study stayed in memory
