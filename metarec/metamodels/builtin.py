"""Built-in meta-models, registered through the ``register_metamodels`` hook like any plugin.

No heavy import here: each factory imports its module (LightGBM, torch, scikit-learn) when called.
"""

from __future__ import annotations

from ..hookspecs import hookimpl


def _lightgbm():
    from .lightgbm_model import LightGBMMetaModel

    return LightGBMMetaModel()


def _torch():
    from ..exceptions import require

    require("torch", "torch")
    from .torch_model import TorchMetaModel

    return TorchMetaModel()


def _svm():
    from .svm import SVMMetaModel

    return SVMMetaModel()


def _knn():
    from .knn import KNNMetaModel

    return KNNMetaModel()


def _single_best():
    from .single_best import SingleBestMetaModel

    return SingleBestMetaModel()


BUILTIN_METAMODELS = (
    ("lightgbm", _lightgbm, "LightGBM over meta-features and learner identity, relative targets (default)"),
    ("torch", _torch, "a torch MLP predicting every learner's relative score at once (needs metarec[torch])"),
    ("svm", _svm, "support-vector regression per learner on scaled meta-features"),
    ("knn", _knn, "auto-sklearn style: the best learners of the nearest datasets (L1 on scaled meta-features)"),
    ("single-best", _single_best, "baseline: the learner with the best mean rank, whatever the dataset"),
)


@hookimpl
def register_metamodels(register):
    for name, factory, description in BUILTIN_METAMODELS:
        register(name, factory, description=description)
