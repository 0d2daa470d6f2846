"""The built-in learners: the 20 LCDB classifiers, LightGBM, HistGradientBoosting, and regressors.

This module is a plugin like any other: it registers :data:`BUILTIN_LEARNERS` through the
``register_learners`` hook, in the order below. The learners are defined by family in
:mod:`~metarec.learners.svm`, :mod:`~metarec.learners.linear`, :mod:`~metarec.learners.trees`,
:mod:`~metarec.learners.boosting`, :mod:`~metarec.learners.generative`, :mod:`~metarec.learners.neighbors`
and :mod:`~metarec.learners.neural`. Nothing imports scikit-learn, LightGBM or Optuna at import time;
estimator classes are imported inside the factories, so ``metarec --help`` stays fast.

Naming scheme
-------------
One learner per task type. Classification learners have short snake_case names; regression learners
are ``<name>_regressor``. Names are keys of knowledge-base rows: renaming one is a KB migration.

Configs
-------
A config is a flat JSON-serialisable dict whose keys are exactly the Optuna parameter names of the
learner's search space, so a config from the knowledge base can be enqueued into a study as is
(``study.enqueue_trial(config)``) and is reproduced by :meth:`~metarec.learners.Learner.suggest`. Most
keys are the estimator's own keyword arguments; a few are small encodings that Optuna can represent,
translated by the factory:

- ``gamma_kind`` (``"scale"`` or ``"value"``) + ``gamma``: SVM ``gamma`` ("scale" or a float).
- ``limit_depth`` (bool) + ``max_depth``: ``max_depth=None`` unless ``limit_depth``.
- ``shrinkage_kind`` (``"auto"`` or ``"value"``) + ``shrinkage``: discriminant-analysis shrinkage.
- ``regularization`` (``"l2"`` or ``"elasticnet"``) + ``l1_ratio``: logistic regression penalty.
- ``n_layers`` + ``n_units``: MLP ``hidden_layer_sizes = (n_units,) * n_layers``.
- ``C`` + ``variant``: passive-aggressive aggressiveness and PA-I / PA-II.
- ``max_depth`` of ``adaboost``: the depth of its trees (``estimator=DecisionTreeClassifier(max_depth=...)``).

Execution settings (``n_jobs=1``, ``verbose=-1``) are fixed in the factory, not part of the config; a
config key of the same name overrides them. The default config of each learner is scikit-learn's
(LightGBM's) default, as LCDB used defaults, except where noted in the learner's description.

LCDB mapping (metarec name -> LCDB ``learner``)
-----------------------------------------------

=====================  ========================================================
metarec name           LCDB learner
=====================  ========================================================
svc_linear             SVC_linear
svc_poly               SVC_poly
svc_rbf                SVC_rbf
svc_sigmoid            SVC_sigmoid
lda                    sklearn.discriminant_analysis.LinearDiscriminantAnalysis
qda                    sklearn.discriminant_analysis.QuadraticDiscriminantAnalysis
extra_trees            sklearn.ensemble.ExtraTreesClassifier
gradient_boosting      sklearn.ensemble.GradientBoostingClassifier
random_forest          sklearn.ensemble.RandomForestClassifier
logistic_regression    sklearn.linear_model.LogisticRegression
passive_aggressive     sklearn.linear_model.PassiveAggressiveClassifier
perceptron             sklearn.linear_model.Perceptron
ridge                  sklearn.linear_model.RidgeClassifier
sgd                    sklearn.linear_model.SGDClassifier
bernoulli_nb           sklearn.naive_bayes.BernoulliNB
multinomial_nb         sklearn.naive_bayes.MultinomialNB
knn                    sklearn.neighbors.KNeighborsClassifier
mlp                    sklearn.neural_network.MLPClassifier
decision_tree          sklearn.tree.DecisionTreeClassifier
extra_tree             sklearn.tree.ExtraTreeClassifier
=====================  ========================================================

Not in LCDB: ``lightgbm``, ``hist_gradient_boosting``, ``adaboost`` and every ``*_regressor``. See
``docs/learners.md`` for one line per learner.
"""

from __future__ import annotations

from ..hookspecs import hookimpl
from . import boosting, generative, linear, neighbors, neural, svm, trees
from .base import Learner

__all__ = ["BUILTIN_LEARNERS", "LCDB_NAMES", "register_learners"]

#: The order in which the built-ins are registered (and listed by ``metarec learners``).
_ORDER = (
    "svc_linear",
    "svc_poly",
    "svc_rbf",
    "svc_sigmoid",
    "lda",
    "qda",
    "extra_trees",
    "gradient_boosting",
    "random_forest",
    "logistic_regression",
    "passive_aggressive",
    "perceptron",
    "ridge",
    "sgd",
    "bernoulli_nb",
    "multinomial_nb",
    "knn",
    "mlp",
    "decision_tree",
    "extra_tree",
    "lightgbm",
    "hist_gradient_boosting",
    "adaboost",
    "lightgbm_regressor",
    "random_forest_regressor",
    "extra_trees_regressor",
    "hist_gradient_boosting_regressor",
    "gradient_boosting_regressor",
    "ridge_regressor",
    "elastic_net_regressor",
    "svr_regressor",
    "knn_regressor",
    "mlp_regressor",
    "decision_tree_regressor",
)

_BY_NAME = {lr.name: lr for family in (svm, linear, trees, boosting, generative, neighbors, neural)
            for lr in family.LEARNERS}
BUILTIN_LEARNERS: tuple[Learner, ...] = tuple(_BY_NAME[name] for name in _ORDER)

#: metarec learner name -> LCDB ``learner`` string (the 20 LCDB classifiers).
LCDB_NAMES: dict[str, str] = {lr.name: lr.lcdb_name for lr in BUILTIN_LEARNERS if lr.lcdb_name}


@hookimpl
def register_learners(register):
    for learner in BUILTIN_LEARNERS:
        register(learner)
