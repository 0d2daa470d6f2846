"""The ``subsample`` meta-feature group: learning-curve landmarkers (learners' score on a small sample).

How well a learner does when trained on a few hundred rows of a dataset says much about how it will do on
all of it (Fürnkranz & Petrak's "sub-sampling landmarkers"; Mohr & van Rijn's learning-curve
meta-learning). LCDB holds exactly this quantity for every KB dataset of its part: the test accuracy of
each learner at every training size ("anchor"). This group measures it on a new dataset the same way, so
the meta-model can learn from the KB's curves and use the new dataset's own early points.

Features (names ``sub_<learner>_accuracy`` and ``sub_<learner>_rel`` for classification,
``sub_<regressor>_r2`` and ``sub_<regressor>_rel`` for regression; the other task's are NaN):

- ``sub_<learner>_accuracy``: the test accuracy of the built-in learner (its default configuration, i.e.
  LCDB's) trained on ``anchor`` rows;
- ``sub_<regressor>_r2``: the test R^2 of the built-in regressor (default configuration) trained on
  ``anchor`` rows, clipped below at -1 (a regressor far worse than the mean is a failure, whatever its size);
- ``sub_<learner>_rel``: that score minus the best of the group's learners (regressors) there.

The anchor is the largest of LCDB's training sizes (16, 23, 32, 45, 64, 91, 128, 181, 256, 362, 512) that
is at most ``min(512, m / 2)``, where ``m`` is the largest training size LCDB could use on the dataset:
LCDB holds out 10 % for testing and 10 % of the rest for validation, so ``m = 0.81 n`` for ``n``
labelled rows. For the KB's LCDB datasets the same rule is applied to the largest anchor LCDB reached
(:func:`metarec.kb.lcdb.subsample_landmarkers`), so a dataset's value means the same on both sides and
never looks at more than half of what the learner's final score was trained on.

Procedure: ``repeats`` times (seeds ``random_state + i``; by default :func:`repeats_for` the anchor: 2 at
the largest anchors, 4 on smaller tables, whose small training samples vary most and cost least), a test set of ``min(n - anchor, max_test)``
rows is drawn (every row the training sample does not need, up to ``max_test``: on a table of a few hundred
rows a 20 % test set would leave the value as noisy as the gaps between learners), then a training sample
of ``anchor`` rows from the rest (both stratified for classification;
regression has no LCDB counterpart and uses the same sizes); each learner's
scikit-learn pipeline (:meth:`metarec.learners.Learner.make_pipeline`: its preprocessor, then its
estimator; learners with the same preprocessing share one fitted preprocessor; free-text columns get a
column per value, without the learners' cap, as when the knowledge base was built) is fitted on the sample and
scored on the test set; the scores are averaged over repeats. A training sample of one class predicts that
class; one whose features are all constant (nothing to learn from, and LDA fails on it) predicts its
majority class (its mean target), for every learner. A learner that fails, or that the budget does not reach,
is NaN (and its ``_rel`` too). Fewer than 10 labelled rows, a single class (a constant target) or no feature
column leave everything NaN.
The fits run in up to :data:`~metarec._parallel.MAX_THREADS` threads (scikit-learn's tree and neighbour code releases the GIL);
the values do not depend on the number of threads.
"""

from __future__ import annotations

from typing import Any, Mapping

from .._parallel import usable_cpus
from .base import Budget, BudgetExceeded, MetaFeatureGroup
from .statistical import NAN

#: the built-in regressors measured on regression datasets (slowest first)
REGRESSION_LEARNERS = (
    "gradient_boosting_regressor", "random_forest_regressor", "extra_trees_regressor", "mlp_regressor",
    "svr_regressor", "knn_regressor", "ridge_regressor", "elastic_net_regressor", "decision_tree_regressor",
)
#: a regressor's test R^2 is clipped below at this (far worse than predicting the mean is all the same)
R2_FLOOR = -1.0
#: LCDB's training sizes up to 512 (``ceil(2 ** (k / 2))`` for k = 8 ... 18)
ANCHORS = (16, 23, 32, 45, 64, 91, 128, 181, 256, 362, 512)
#: the built-in learners measured (all are LCDB learners, so the KB's LCDB part has their curves)
SUBSAMPLE_LEARNERS = (
    "gradient_boosting", "random_forest", "extra_trees", "logistic_regression", "knn", "svc_rbf",
    "svc_linear", "lda", "decision_tree", "bernoulli_nb",
)
#: the share of a dataset LCDB could train on at most (10 % test, then 10 % validation)
LCDB_TRAIN_SHARE = 0.81


def anchor_for(largest_train_size: float, cap: int = 512) -> int:
    """The largest LCDB anchor at most ``min(cap, largest_train_size / 2)`` (the smallest anchor at least)."""
    limit = min(cap, largest_train_size / 2.0)
    fitting = [a for a in ANCHORS if a <= limit]
    return fitting[-1] if fitting else ANCHORS[0]


def repeats_for(anchor: int, rows: int = 1024, most: int = 4) -> int:
    """Draws averaged at a training size of ``anchor`` rows: enough for about ``rows`` training rows in all,
    at least 2 and at most ``most`` (2 at anchors of 362 and 512, 4 at 256 and below)."""
    return max(2, min(int(most), rows // max(1, int(anchor))))


def feature_names(learners=SUBSAMPLE_LEARNERS, regressors=REGRESSION_LEARNERS) -> tuple[str, ...]:
    """The classification features of ``learners``, then the regression features of ``regressors``."""
    return (tuple(f"sub_{lr}_accuracy" for lr in learners) + tuple(f"sub_{lr}_rel" for lr in learners)
            + tuple(f"sub_{lr}_r2" for lr in regressors) + tuple(f"sub_{lr}_rel" for lr in regressors))


def relative(acc: Mapping[str, float], learners=SUBSAMPLE_LEARNERS) -> dict[str, float]:
    """The ``sub_*`` features from the accuracies ``acc`` (learner -> accuracy, NaN when unknown)."""
    return _with_gaps(acc, learners, "accuracy")


def relative_r2(r2: Mapping[str, float], regressors=REGRESSION_LEARNERS) -> dict[str, float]:
    """The regression ``sub_*`` features from the R^2 values ``r2`` (regressor -> R^2, NaN when unknown)."""
    return _with_gaps(r2, regressors, "r2")


def _with_gaps(scores: Mapping[str, float], learners, score_name: str) -> dict[str, float]:
    """``sub_<learner>_<score_name>`` of each learner, then ``sub_<learner>_rel``: its gap to the best known."""
    import math

    known = [v for v in scores.values() if v == v]
    best = max(known) if known else math.nan
    out = {f"sub_{lr}_{score_name}": float(scores.get(lr, NAN)) for lr in learners}
    out.update({f"sub_{lr}_rel": float(scores.get(lr, NAN)) - best for lr in learners})
    return out


class SubsampleGroup(MetaFeatureGroup):
    """Learning-curve landmarkers: learners' test accuracy trained on a small sample (see the module doc).

    Parameters
    ----------
    repeats : int or None
        Test/train draws averaged; None: :func:`repeats_for` the anchor.
    max_test : int
        Test rows at most (the rows the training sample does not need, up to this many).
    random_state : int
    n_jobs : int or None
        Threads for the fits; None: the CPUs this process may use, at most :data:`~metarec._parallel.MAX_THREADS`.
    """

    name = "subsample"
    feature_names = feature_names()
    description = ("Test accuracy of 10 LCDB learners (R^2 of 9 regressors) trained on at most 512 rows "
                   "(learning-curve landmarkers)")

    def __init__(self, repeats: int | None = None, max_test: int = 1000, random_state: int = 0,
                 n_jobs: int | None = None):
        self.repeats = None if repeats is None else int(repeats)
        self.max_test = int(max_test)
        self.random_state = int(random_state)
        self.n_jobs = None if n_jobs is None else max(1, int(n_jobs))

    def compute(self, dataset: Any, budget: Budget, skipped: dict[str, str]) -> Mapping[str, float]:
        import warnings

        import numpy as np
        import pandas as pd
        from concurrent.futures import ThreadPoolExecutor

        from threadpoolctl import threadpool_limits

        from ..learners import get_learner
        from ..learners.base import make_preprocessor

        regression = dataset.task_type == "regression"
        names = REGRESSION_LEARNERS if regression else SUBSAMPLE_LEARNERS
        if regression:
            target = pd.to_numeric(pd.Series(dataset.y), errors="coerce").to_numpy(dtype=float)
            labelled = np.flatnonzero(np.isfinite(target))
            y = target[labelled]
            undefined = y.size < 10 or np.ptp(y) == 0 if y.size else True
        else:
            codes, _ = pd.factorize(pd.Series(dataset.y), sort=True)
            codes = np.asarray(codes, dtype=np.int64)
            labelled = np.flatnonzero(codes >= 0)
            y = codes[labelled]
            undefined = y.size < 10 or np.unique(y).size < 2
        if undefined or dataset.X.shape[1] == 0:  # undefined, like landmarkers
            return {**relative({}), **relative_r2({})}
        anchor = anchor_for(LCDB_TRAIN_SHARE * y.size)
        X = dataset.X.iloc[labelled].reset_index(drop=True)
        scores: dict[str, list[float]] = {lr: [] for lr in names}
        failed: dict[str, str] = {}
        learners = {lr: get_learner(lr) for lr in names}
        with warnings.catch_warnings(), threadpool_limits(limits=1), \
                ThreadPoolExecutor(self.n_jobs or usable_cpus()) as pool:
            warnings.simplefilter("ignore")
            for rep in range(max(1, repeats_for(anchor) if self.repeats is None else self.repeats)):
                seed = self.random_state + rep
                test, train = _split(y, anchor, self.max_test, seed, stratify=not regression)
                if train.size < 2 or test.size < 1:
                    break
                y_train, y_test = y[train], y[test]
                # each learner's pipeline is its preprocessor + its estimator; learners with the same
                # preprocessing share one fitted preprocessor (what Pipeline.fit would compute, once)
                encoded: dict[tuple, Any] = {}
                jobs = {}
                for lr in names:  # slowest first, so that the threads finish together
                    try:
                        budget.check(f"subsample landmarker {lr}")
                    except BudgetExceeded as exc:
                        failed.setdefault(lr, str(exc))
                        continue
                    if lr in failed:
                        continue
                    key = (learners[lr].scale, learners[lr].dense, learners[lr].nonnegative)
                    if key not in encoded and not np.all(y_train == y_train[0]):
                        try:
                            pre = make_preprocessor(scale=key[0], dense=key[1], nonnegative=key[2])
                            A = pre.fit_transform(X.iloc[train])
                            encoded[key] = (A, pre.transform(X.iloc[test]), _varies(A))
                        except Exception as exc:  # every learner of this preprocessing is unknown, the others stand
                            encoded[key] = f"{type(exc).__name__}: {exc}"
                    if isinstance(encoded.get(key), str):
                        failed[lr] = encoded[key]
                        continue
                    jobs[lr] = pool.submit(_score, learners[lr], encoded.get(key), y_train, y_test, seed, budget,
                                          regression)
                for lr, job in jobs.items():
                    try:
                        scores[lr].append(job.result())
                    except BudgetExceeded as exc:
                        failed.setdefault(lr, str(exc))
                    except Exception as exc:  # this learner's value is unknown, the others stand
                        failed[lr] = f"{type(exc).__name__}: {exc}"
        acc = {lr: (float(np.mean(v)) if v and lr not in failed else NAN) for lr, v in scores.items()}
        for lr, why in failed.items():
            skipped[f"sub_{lr}_{'r2' if regression else 'accuracy'}"] = skipped[f"sub_{lr}_rel"] = why
        return {**relative({}), **relative_r2(acc)} if regression else {**relative(acc), **relative_r2({})}


def _score(learner, encoded, y_train, y_test, seed: int, budget: Budget, regression: bool) -> float:
    """Test score of ``learner``'s default configuration fitted on ``encoded``'s training matrix: accuracy
    for a classifier, R^2 (at least :data:`R2_FLOOR`) for a regressor. Where there is one training class (a
    constant training target) it is predicted; where no feature varies, the majority class (the mean)."""
    import numpy as np

    if encoded is None or not encoded[2]:  # nothing to learn from: predict the training target's centre
        centre = y_train.mean() if regression else np.bincount(y_train).argmax()
        pred = np.full(y_test.size, centre)
    else:
        budget.check(f"subsample landmarker {learner.name}")
        A, B, _ = encoded
        pred = np.asarray(learner.estimator(dict(learner.default_config), seed).fit(A, y_train).predict(B))
    if not regression:
        return float(np.mean(pred == y_test))
    total = float(np.sum((y_test - y_test.mean()) ** 2))
    if total == 0.0:
        return NAN
    return max(R2_FLOOR, 1.0 - float(np.sum((y_test - pred) ** 2)) / total)


def _varies(A) -> bool:
    """Whether some column of the encoded training matrix (dense or sparse) takes two values."""
    import numpy as np

    if A.shape[0] < 2 or A.shape[1] == 0:
        return False
    if hasattr(A, "toarray"):
        lo, hi = A.min(axis=0), A.max(axis=0)
        lo = lo.toarray() if hasattr(lo, "toarray") else np.asarray(lo)
        hi = hi.toarray() if hasattr(hi, "toarray") else np.asarray(hi)
        return bool(np.any(np.asarray(hi, dtype=float) != np.asarray(lo, dtype=float)))
    A = np.asarray(A, dtype=float)
    return bool(np.any(np.nanmax(A, axis=0) != np.nanmin(A, axis=0)))


def _split(y, anchor: int, max_test: int, seed: int, stratify: bool = True):
    """Test rows (``min(n - anchor, max_test)``, and at least a fifth of the ``n`` rows) and a training sample of
    ``anchor`` rows of the rest (all of them where fewer remain), both
    stratified by ``y`` (class codes) unless ``stratify`` is false."""
    import numpy as np

    from .statistical import subsample_rows

    n = y.size
    # below 20 rows the smallest anchor (16) would leave fewer test rows than a fifth
    n_test = max(1, min(max_test, max(n - anchor, int(0.2 * n))))
    test = subsample_rows(n, n_test, seed, strata=y if stratify else None)
    rest = np.setdiff1d(np.arange(n), test)
    strata = np.unique(y[rest], return_inverse=True)[1] if stratify else None
    train = rest[subsample_rows(rest.size, anchor, seed + 1, strata=strata)]
    return test, train
