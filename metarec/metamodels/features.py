"""Derived meta-features: logs, products and ratios of OpenML's size and class qualities.

Tree models split on one column at a time, so a quantity that matters as a product or a ratio (the
work a learner has to do grows with rows x features x classes; rows per feature decides between
linear and flexible learners) is hard for them to find from the raw columns on ~200 training
datasets. :func:`derived_features` adds those columns explicitly. Every derived column is a function of
named source columns (:data:`SOURCES`), so a contribution to a derived column can be handed back to
the meta-features it was computed from (:func:`fold_contributions`). Missing sources give NaN.
"""

from __future__ import annotations

from typing import Any

__all__ = ["SOURCES", "derived_features", "fold_contributions"]

_N, _P, _PB, _K = "NumberOfInstances", "NumberOfFeatures", "NumberOfFeaturesAfterBinarization", "NumberOfClasses"

#: derived column -> the meta-features it is computed from
SOURCES: dict[str, tuple[str, ...]] = {
    "d_log_rows": (_N,),
    "d_log_features": (_PB, _P),
    "d_log_classes": (_K,),
    "d_log_rows_x_features": (_N, _PB, _P),
    "d_log_rows_x_features_x_classes": (_N, _PB, _P, _K),
    "d_log_rows_x_classes": (_N, _K),
    "d_log_rows_per_feature": (_N, _PB, _P),
    "d_log_features_x_classes": (_PB, _P, _K),
    "d_log_rows_per_class": (_N, _K),
    "d_class_entropy_ratio": ("ClassEntropy", _K),
    "d_majority_share": ("MajorityClassSize", _N),
    "d_minority_share": ("MinorityClassSize", _N),
    "d_log_binarization_ratio": (_PB, _P),
    "d_naive_bayes_accuracy": ("NaiveBayesErrRate",),
    "d_naive_bayes_gain": ("NaiveBayesErrRate", "MajorityClassSize", _N),
}


def derived_features(X) -> Any:
    """The columns of :data:`SOURCES` computed from the meta-features ``X`` (a DataFrame, same index)."""
    import numpy as np
    import pandas as pd

    def col(name):
        if name in X.columns:
            return pd.to_numeric(X[name], errors="coerce").astype(float)
        return pd.Series(np.nan, index=X.index)

    with np.errstate(all="ignore"):
        n = col(_N).clip(lower=1.0)
        p0 = col(_P).clip(lower=1.0)
        p = col(_PB).fillna(col(_P)).clip(lower=1.0)
        k = col(_K).clip(lower=2.0)
        nb_acc = 1.0 - col("NaiveBayesErrRate")
        majority = col("MajorityClassSize") / n
        out = {
            "d_log_rows": np.log10(n),
            "d_log_features": np.log10(p),
            "d_log_classes": np.log10(k),
            "d_log_rows_x_features": np.log10(n * p),
            "d_log_rows_x_features_x_classes": np.log10(n * p * k),
            "d_log_rows_x_classes": np.log10(n * k),
            "d_log_rows_per_feature": np.log10(n / p),
            "d_log_features_x_classes": np.log10(p * k),
            "d_log_rows_per_class": np.log10(n / k),
            "d_class_entropy_ratio": col("ClassEntropy") / np.log2(k),
            "d_majority_share": majority,
            "d_minority_share": col("MinorityClassSize") / n,
            "d_log_binarization_ratio": np.log10(p / p0),
            "d_naive_bayes_accuracy": nb_acc,
            "d_naive_bayes_gain": nb_acc - majority,
        }
    frame = pd.DataFrame(out, index=X.index)[list(SOURCES)]
    return frame.replace([np.inf, -np.inf], np.nan)


def fold_contributions(contrib, feature_names) -> Any:
    """Per-feature contributions over ``feature_names + derived columns`` -> over ``feature_names`` only.

    A derived column's contribution is split equally among those of its sources that are in
    ``feature_names`` (the total is kept when at least one is).
    """
    import pandas as pd

    base = pd.Series(0.0, index=list(feature_names))
    for name, value in contrib.items():
        if name in base.index:
            base[name] += float(value)
            continue
        sources = [s for s in SOURCES.get(str(name), ()) if s in base.index]
        for s in sources:
            base[s] += float(value) / len(sources)
    return base
