"""metarec-lambdarank: a learning-to-rank meta-model (LightGBM ``LGBMRanker``, LambdaRank objective).

Registers the meta-model ``lambdarank`` through the ``register_metamodels`` hook::

    metarec recommend data.csv --target y --metamodel lambdarank
    metarec evaluate --metamodel lambdarank,lightgbm

The model itself is :class:`metarec_lambdarank.model.LambdaRankMetaModel` (imported when the factory is
called, so ``metarec --help`` does not import LightGBM).
"""

from __future__ import annotations

from metarec import hookimpl

__version__ = "0.1.0"
__all__ = ["make_metamodel", "register_metamodels"]


def make_metamodel():
    """An unfitted :class:`~metarec_lambdarank.model.LambdaRankMetaModel` with its default parameters."""
    from .model import LambdaRankMetaModel

    return LambdaRankMetaModel()


@hookimpl
def register_metamodels(register):
    register("lambdarank", make_metamodel,
             description="LightGBM LambdaRank over (dataset, learner) rows; scores from quantile boosters "
                         "(metarec-lambdarank plugin)")
