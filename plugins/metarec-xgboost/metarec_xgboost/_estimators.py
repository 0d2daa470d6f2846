"""The estimators behind the learners (imported when a pipeline is built: this imports xgboost)."""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.preprocessing import LabelEncoder
from sklearn.utils.validation import check_is_fitted

#: execution settings, not part of a config
FIXED = {"tree_method": "hist", "n_jobs": 1, "verbosity": 0}


class XGBLabelClassifier(ClassifierMixin, BaseEstimator):
    """:class:`xgboost.XGBClassifier` for any labels: encodes them to ``0..k-1`` and decodes predictions.

    XGBoost requires integer class labels ``0..k-1``; metarec's targets are categories or strings.
    Parameters are XGBoost's (see its documentation); ``booster_model_`` is the fitted XGBClassifier.
    """

    def __init__(self, n_estimators=100, learning_rate=0.3, max_depth=6, min_child_weight=1.0, subsample=1.0,
                 colsample_bytree=1.0, reg_lambda=1.0, reg_alpha=0.0, random_state=None, n_jobs=1):
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.max_depth = max_depth
        self.min_child_weight = min_child_weight
        self.subsample = subsample
        self.colsample_bytree = colsample_bytree
        self.reg_lambda = reg_lambda
        self.reg_alpha = reg_alpha
        self.random_state = random_state
        self.n_jobs = n_jobs

    def fit(self, X, y, sample_weight=None):
        from xgboost import XGBClassifier

        self.label_encoder_ = LabelEncoder().fit(np.asarray(y))
        self.classes_ = self.label_encoder_.classes_
        params = {**FIXED, **self.get_params()}
        self.booster_model_ = XGBClassifier(**params).fit(X, self.label_encoder_.transform(np.asarray(y)),
                                                          sample_weight=sample_weight, verbose=False)
        self.n_features_in_ = self.booster_model_.n_features_in_
        return self

    def predict_proba(self, X):
        check_is_fitted(self, "booster_model_")
        proba = self.booster_model_.predict_proba(X)
        if proba.ndim == 1 or proba.shape[1] != len(self.classes_):  # a single class seen in training
            return np.ones((proba.shape[0], len(self.classes_)))
        return proba

    def predict(self, X):
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]


def make_regressor(config: dict, random_state: int | None):
    from xgboost import XGBRegressor

    return XGBRegressor(**{**FIXED, **config, "random_state": random_state})
