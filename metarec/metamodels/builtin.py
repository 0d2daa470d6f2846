"""Built-in meta-models, registered through the plugin hook.

Nothing heavy is imported here: factories import their model module when called, so ``metarec --help``
stays fast.
"""

from __future__ import annotations

from ..hookspecs import hookimpl


def _lightgbm():
    from .lightgbm_model import LightGBMMetaModel

    return LightGBMMetaModel()


def _lightgbm_expected():
    from .lightgbm_model import LightGBMMetaModel

    return LightGBMMetaModel(rank_by="expected")


def _torch():
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


BUILTIN = {
    "lightgbm": (_lightgbm, "LightGBM ensemble over relative scores, ranking by the chance of scoring within a "
                            "point of the best (default)"),
    "lightgbm-expected": (_lightgbm_expected, "the same models, ranking by the expected relative score"),
    "torch": (_torch, "multi-output MLP over meta-features, early stopping (needs metarec[torch])"),
    "svm": (_svm, "RBF support-vector regression per learner"),
    "knn": (_knn, "best learners of the nearest datasets, L1 on scaled meta-features (auto-sklearn)"),
    "single-best": (_single_best, "baseline: the learners by mean rank, whatever the dataset"),
}


@hookimpl
def register_metamodels(register):
    for name, (factory, description) in BUILTIN.items():
        register(name, factory, description=description)
