"""What the importers of :mod:`metarec.kb.hpo_import` know of each source: provenance and licence, how
its parameters map to metarec's configs, and the readers of its raw files (every problem one
:class:`~metarec.exceptions.KnowledgeBaseError` naming the file)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from ..exceptions import KnowledgeBaseError


SOURCE_INFO = {
    "openml-pimp": {
        "kind": "hpo-random-search",
        "repository": "janvanrijn/openml-pimp",
        "licence": "BSD-3-Clause",
        "reference": "van Rijn & Hutter, Hyperparameter Importance Across Datasets (KDD 2018)",
        "protocol": "OpenML 10-fold cross-validation on the task's own splits (scikit-learn 0.19/0.20)",
    },
    "sklearn-bot": {
        "kind": "hpo-random-search",
        "repository": "openml/sklearn-bot",
        "licence": "BSD-3-Clause",
        "reference": "OpenML sklearn-bot runs on the OpenML100 (study 14)",
        "protocol": "OpenML 10-fold cross-validation on the task's own splits",
    },
    "tabrepo": {
        "kind": "hpo-portfolio",
        "repository": "autogluon/tabrepo",
        "licence": "Apache-2.0",
        "reference": "Salinas & Erickson, TabRepo: A Large Scale Repository of Tabular Model Evaluations (2024)",
        "protocol": "AutoGluon's validation score (its own preprocessing and early stopping); metric_error "
                    "= 1-AUC (binary), log loss (multiclass), RMSE (regression)",
    },
}


def _bool(v: Any) -> bool:
    return str(v).strip().lower() in ("true", "1")


def _num(v: Any) -> float | None:
    try:
        out = float(v)
    except (TypeError, ValueError):
        return None
    return out if math.isfinite(out) else None


def _map_forest(row: dict) -> tuple[str, dict] | None:
    cfg = {"criterion": str(row["randomforestclassifier__criterion"]),
           "bootstrap": _bool(row["randomforestclassifier__bootstrap"]),
           "max_features": float(row["randomforestclassifier__max_features"]),
           "min_samples_leaf": int(float(row["randomforestclassifier__min_samples_leaf"])),
           "min_samples_split": int(float(row["randomforestclassifier__min_samples_split"])),
           "n_estimators": int(float(row["randomforestclassifier__n_estimators"]))}
    return "random_forest", cfg


def _map_adaboost(row: dict) -> tuple[str, dict] | None:
    if str(row["adaboostclassifier__algorithm"]) != "SAMME":
        return None  # SAMME.R no longer exists in scikit-learn: its runs measured another algorithm
    return "adaboost", {"learning_rate": float(row["adaboostclassifier__learning_rate"]),
                        "max_depth": int(float(row["adaboostclassifier__base_estimator__max_depth"])),
                        "n_estimators": int(float(row["adaboostclassifier__n_estimators"]))}


def _map_svc(row: dict) -> tuple[str, dict] | None:
    kernel = str(row["svc__kernel"])
    if kernel not in ("rbf", "poly", "sigmoid"):
        return None
    cfg: dict[str, Any] = {"C": float(row["svc__C"]), "gamma_kind": "value", "gamma": float(row["svc__gamma"]),
                           "tol": float(row["svc__tol"]), "shrinking": _bool(row["svc__shrinking"])}
    if kernel in ("poly", "sigmoid"):
        cfg["coef0"] = float(row["svc__coef0"])
    if kernel == "poly":
        cfg["degree"] = int(float(row["svc__degree"]))
    return f"svc_{kernel}", cfg


#: AutoGluon LightGBM hyper-parameter -> metarec's ``lightgbm`` config key (LightGBM's scikit-learn names).
LIGHTGBM_NAMES = {"num_leaves": "num_leaves", "learning_rate": "learning_rate",
                  "feature_fraction": "colsample_bytree", "min_data_in_leaf": "min_child_samples",
                  "extra_trees": "extra_trees"}

#: How each source's parameters become metarec configs (documented in the manifest).
PARAMETER_MAPS = {
    "openml-pimp": {
        "random_forest.arff -> random_forest": "criterion, bootstrap, max_features (a fraction, as scikit-learn "
        "takes it), min_samples_leaf, min_samples_split, n_estimators kept; max_depth / max_leaf_nodes (None, "
        "the default), min_weight_fraction_leaf (0 in every run) and the imputation strategy dropped",
        "adaboost.arff -> adaboost": "learning_rate, n_estimators kept; base_estimator__max_depth -> max_depth "
        "of the tree (scikit-learn's estimator=); algorithm SAMME kept (the only one left), SAMME.R runs "
        "dropped; the imputation strategy dropped",
    },
    "sklearn-bot": {
        "svc -> svc_rbf / svc_poly / svc_sigmoid by kernel": "C, gamma (gamma_kind='value'), tol, shrinking; "
        "coef0 (poly, sigmoid), degree (poly); max_iter (-1, the default) and the imputation strategy dropped",
    },
    "tabrepo": {
        "LightGBM_cN -> lightgbm": ", ".join(f"{k} -> {v}" for k, v in LIGHTGBM_NAMES.items())
        + "; AutoGluon's other settings (early stopping on its validation split, its preprocessing) dropped",
    },
}


# -- reading raw files: every problem is one KnowledgeBaseError naming the file ------------------------


def _need(path: Path) -> Path:
    if not path.is_file():
        raise KnowledgeBaseError(f"{path}: missing; point the import at the directory that holds the source's "
                                 "raw files")
    return path


def _arff_frame(path: Path, need: set[str]):
    """The data of an ARFF file as text cells, checked for the columns ``need``."""
    import arff
    import pandas as pd

    _need(path)
    try:
        with open(path, encoding="utf-8") as fh:
            raw = arff.load(fh, encode_nominal=False, return_type=arff.DENSE)
    except Exception as exc:
        raise KnowledgeBaseError(f"{path}: not a readable ARFF file ({type(exc).__name__}: {exc})") from None
    columns = [a[0] for a in raw["attributes"]]
    missing = sorted(need - set(columns))
    if missing:
        raise KnowledgeBaseError(f"{path}: lacks the columns {missing}; is it the source's original file?")
    frame = pd.DataFrame(raw["data"], columns=columns)
    if frame.empty:
        raise KnowledgeBaseError(f"{path}: holds no runs")
    return frame


def _csv_frame(path: Path, need: set[str], numeric: tuple[str, ...] = ()):
    """The CSV file as a frame, checked for the columns ``need``; the ``numeric`` ones as numbers (empty cells
    NaN, any other text one error naming the file, column and row)."""
    import pandas as pd

    _need(path)
    try:
        frame = pd.read_csv(path)
    except Exception as exc:
        raise KnowledgeBaseError(f"{path}: not a readable CSV file ({type(exc).__name__}: {exc})") from None
    missing = sorted(need - set(frame.columns))
    if missing:
        raise KnowledgeBaseError(f"{path}: lacks the columns {missing}; is it the source's original file?")
    for col in numeric:
        values = pd.to_numeric(frame[col], errors="coerce")
        bad = values.isna() & frame[col].notna()
        if bad.any():
            row = int(bad.to_numpy().argmax())
            raise KnowledgeBaseError(f"{path}: column {col!r} holds {frame[col].iloc[row]!r} (data row {row + 1}), "
                                     "not a number; is it the source's original file?")
        frame[col] = values
    return frame


def _json(path: Path) -> Any:
    _need(path)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise KnowledgeBaseError(f"{path}: not readable JSON ({exc})") from None
