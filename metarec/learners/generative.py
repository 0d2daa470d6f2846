"""Generative classifiers: linear and quadratic discriminant analysis, Bernoulli and multinomial naive Bayes."""

from __future__ import annotations

from ._common import C_, _factory
from .base import Learner


def _tr_shrinkage(cfg: dict) -> dict:
    kind = cfg.pop("shrinkage_kind", None)
    if kind == "auto":
        cfg["shrinkage"] = "auto"
    if cfg.get("solver") == "svd":
        cfg.pop("shrinkage", None)
    return cfg


def _shrinkage(trial, cfg: dict) -> None:
    cfg["shrinkage_kind"] = trial.suggest_categorical("shrinkage_kind", ["auto", "value"])
    if cfg["shrinkage_kind"] == "value":
        cfg["shrinkage"] = trial.suggest_float("shrinkage", 0.01, 1.0, log=True)


def _space_lda(trial) -> dict:
    cfg = {"solver": trial.suggest_categorical("solver", ["svd", "lsqr"])}
    if cfg["solver"] == "lsqr":
        _shrinkage(trial, cfg)
    return cfg


def _space_qda(trial) -> dict:
    cfg: dict = {}
    _shrinkage(trial, cfg)
    return cfg


def _space_bernoulli_nb(trial) -> dict:
    return {
        "alpha": trial.suggest_float("alpha", 1e-3, 10.0, log=True),
        "binarize": trial.suggest_float("binarize", 0.0, 1.5),
        "fit_prior": trial.suggest_categorical("fit_prior", [True, False]),
    }


def _space_multinomial_nb(trial) -> dict:
    return {
        "alpha": trial.suggest_float("alpha", 1e-3, 10.0, log=True),
        "fit_prior": trial.suggest_categorical("fit_prior", [True, False]),
    }


LEARNERS: tuple[Learner, ...] = (
    Learner(
        name="lda",
        task_types=C_,
        estimator=_factory(
            "sklearn.discriminant_analysis.LinearDiscriminantAnalysis", translate=_tr_shrinkage, seeded=False
        ),
        search_space=_space_lda,
        default_config={"solver": "svd"},
        scale=True,
        dense=True,
        lcdb_name="sklearn.discriminant_analysis.LinearDiscriminantAnalysis",
        family="discriminant_analysis",
        description="Linear discriminant analysis; default as in LCDB (svd solver), tuning adds the lsqr "
        "solver with Ledoit-Wolf or fixed shrinkage.",
    ),
    Learner(
        name="qda",
        task_types=C_,
        estimator=_factory(
            "sklearn.discriminant_analysis.QuadraticDiscriminantAnalysis",
            {"solver": "eigen"},
            translate=_tr_shrinkage,
            seeded=False,
        ),
        search_space=_space_qda,
        default_config={"shrinkage_kind": "auto"},
        scale=True,
        dense=True,
        lcdb_name="sklearn.discriminant_analysis.QuadraticDiscriminantAnalysis",
        family="discriminant_analysis",
        description="Quadratic discriminant analysis with the eigen solver and Ledoit-Wolf shrinkage by "
        "default (LCDB: svd solver, reg_param=0, which fails on collinear one-hot columns and on classes "
        "with fewer rows than features); still needs >= 2 rows per class.",
    ),
    Learner(
        name="bernoulli_nb",
        task_types=C_,
        estimator=_factory("sklearn.naive_bayes.BernoulliNB", seeded=False),
        search_space=_space_bernoulli_nb,
        default_config={"alpha": 1.0, "binarize": 0.0, "fit_prior": True},
        scale=True,
        lcdb_name="sklearn.naive_bayes.BernoulliNB",
        family="naive_bayes",
        description="Bernoulli naive Bayes; numeric columns are standardised first, so the default "
        "binarize=0 thresholds them at their mean.",
    ),
    Learner(
        name="multinomial_nb",
        task_types=C_,
        estimator=_factory("sklearn.naive_bayes.MultinomialNB", seeded=False),
        search_space=_space_multinomial_nb,
        default_config={"alpha": 1.0, "fit_prior": True},
        nonnegative=True,
        lcdb_name="sklearn.naive_bayes.MultinomialNB",
        family="naive_bayes",
        description="Multinomial naive Bayes on min-max scaled (non-negative) numerics and one-hot "
        "categoricals.",
    ),
)
