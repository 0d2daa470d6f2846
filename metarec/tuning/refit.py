"""The best trial's pipeline refit on all the data; classifiers fit on class codes and predict the labels."""

from __future__ import annotations

import json
import warnings

from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.metaestimators import available_if


class LabelEncodedClassifier(ClassifierMixin, BaseEstimator):
    """Fit a classification pipeline on integer class codes and predict the original labels.

    scikit-learn 1.9 mistakes numeric-looking string labels (``"1"``, ``"2"``, ``"U"``) for numbers in
    ``class_weight="balanced"``; fitting on codes sidesteps it. ``classes_`` are the user's labels, with
    their own dtype and order (``np.unique(y)``: 1, 2, 10 stay in that order), and the columns of
    ``predict_proba`` / ``decision_function`` follow ``classes_``. Labels of mixed types, which cannot be
    sorted, are ordered by their text.

    Every such classifier has ``predict_proba``: when the pipeline's estimator has none (an SVC, a ridge or
    linear classifier), ``fit`` also fits a sigmoid-calibrated copy (scikit-learn's
    :class:`~sklearn.calibration.CalibratedClassifierCV`, ``ensemble=False``, stratified folds) that gives
    the probabilities, as ``SVC(probability=True)`` does; ``predict`` stays the pipeline's own. A class
    with a single row leaves nothing to calibrate on: then there is no ``predict_proba``.
    """

    def __init__(self, pipeline=None):
        self.pipeline = pipeline

    def fit(self, X, y):
        import numpy as np

        yv = np.asarray(y)
        try:
            self.classes_, codes = np.unique(yv, return_inverse=True)
        except TypeError:  # mixed types (e.g. 1 and "a"): order by text, keep each label's first value
            classes_str, codes = np.unique(np.asarray(y, dtype=object).astype(str), return_inverse=True)
            self.classes_ = _original_labels(y, classes_str)
        codes = np.asarray(codes).ravel()
        self.pipeline.fit(X, codes)
        self.__dict__.pop("calibrated_", None)
        smallest = int(np.bincount(codes).min()) if len(codes) else 0
        if not hasattr(self.pipeline, "predict_proba") and smallest >= 2 and len(self.classes_) >= 2:
            from sklearn.base import clone
            from sklearn.calibration import CalibratedClassifierCV

            self.calibrated_ = CalibratedClassifierCV(clone(self.pipeline), method="sigmoid",
                                                      cv=min(3, smallest), ensemble=False).fit(X, codes)
        return self

    def _labels_of(self):
        # models saved before this fix kept string-sorted classes_ and the original labels in `_labels`
        return self.__dict__.get("_labels", self.classes_)

    def predict(self, X):
        return self._labels_of()[self.pipeline.predict(X).astype(int)]

    @available_if(lambda self: hasattr(self.pipeline, "predict_proba") or hasattr(self, "calibrated_"))
    def predict_proba(self, X):
        if hasattr(self.pipeline, "predict_proba"):
            return self.pipeline.predict_proba(X)
        return self.calibrated_.predict_proba(X)

    @available_if(lambda self: hasattr(self.pipeline, "decision_function"))
    def decision_function(self, X):
        return self.pipeline.decision_function(X)

    def __sklearn_tags__(self):
        return self.pipeline.__sklearn_tags__()


def _original_labels(y, classes_str):
    """The first original label for each string class (keeps ints as ints, bools as bools)."""
    import numpy as np

    values = np.asarray(y, dtype=object)
    first = {}
    for v in values:
        first.setdefault(str(v), v)
    out = np.empty(len(classes_str), dtype=object)
    out[:] = [first[c] for c in classes_str]
    try:
        return out.astype(np.asarray(y).dtype) if np.asarray(y).dtype.kind in "biuf" else out
    except (TypeError, ValueError):
        return out


def best_of(trial) -> tuple[str, dict]:
    """The learner and configuration (without the ``<learner>:`` prefixes) of a finished trial."""
    learner = trial.params["learner"]
    if "config" in trial.user_attrs:
        return learner, json.loads(trial.user_attrs["config"])
    prefix = learner + ":"
    return learner, {k[len(prefix):]: v for k, v in trial.params.items() if k.startswith(prefix)}


def refit(ds, learner: str, config: dict, random_state: int | None = 0):
    """``learner`` with ``config`` fit on all of ``ds``.

    The model starts with the typing that loading applied (dates, numbers stored as text, ...), so it
    predicts on raw rows (``pd.read_csv`` of the training file, the DataFrame given to fit); it is
    idempotent on ``ds.X``, which is already typed.
    """
    from ..learners import get_learner

    pipeline = get_learner(learner).make_pipeline(config, random_state=random_state, typer=ds.column_typer())
    if ds.task_type == "classification":
        pipeline = LabelEncodedClassifier(pipeline)
    with warnings.catch_warnings():  # convergence warnings of the refit, as in the trials
        warnings.simplefilter("ignore")
        pipeline.fit(ds.X, ds.y)
    return pipeline
