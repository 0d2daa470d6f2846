"""Learning-curve anchors: the landmarker a meta-model's score predictions are offsets from.

A learner's score on a dataset sits close to some learning-curve landmarker of that dataset (a learner's test
score on a few hundred of its rows, :mod:`metarec.metafeatures.subsample`): its own where it has one, else a
relative's (LightGBM near gradient boosting's). Predicting the offset from that landmarker, instead of the score
itself, leaves the model only what the landmarker does not already say. Functions work on the meta-model's
input matrix ``A`` (datasets x meta-features, in the order of ``names``) and score matrix ``S`` (datasets x
learners); columns are indices into ``A``, -1 standing for the dataset's best landmarker.
"""

from __future__ import annotations

#: training datasets with both a score and the landmarker needed to judge a landmarker as a learner's anchor
MIN_PAIRS = 20


def landmarker_columns(names) -> list[int]:
    """Indices of the learning-curve landmarker scores (``sub_*_accuracy``, ``sub_*_r2``) among ``names``."""
    return [i for i, c in enumerate(names) if c.startswith("sub_") and c.endswith(("_accuracy", "_r2"))]


def best_landmarker(A, columns):
    """The best landmarker score of each dataset (row of ``A``; NaN where it has none)."""
    import numpy as np

    top = np.full(len(A), np.nan)
    if columns:
        vals = A[:, columns]
        seen = ~np.isnan(vals).all(axis=1)
        top[seen] = np.nanmax(vals[seen], axis=1)
    return top


def choose_anchors(A, S, columns) -> list[int]:
    """Per learner (column of ``S``), the landmarker column (or -1: the best landmarker) its scores differ from
    least: the narrowest 10-90 % spread of ``score - landmarker`` over the datasets with both (at least
    :data:`MIN_PAIRS`). A learner with a landmarker of its own mostly gets it; one without, the closest
    relative's; one with too few scores, the best landmarker."""
    import numpy as np

    candidates = [(-1, best_landmarker(A, columns))] + [(c, A[:, c]) for c in columns]
    chosen = []
    for j in range(S.shape[1]):
        narrowest, pick = np.inf, -1
        for c, v in candidates:
            r = S[:, j] - v
            r = r[~np.isnan(r)]
            if r.size >= MIN_PAIRS:
                lo, hi = np.quantile(r, [0.1, 0.9])
                if hi - lo < narrowest:
                    narrowest, pick = hi - lo, c
        chosen.append(int(pick))
    return chosen


def anchor_values(A, anchors, columns):
    """The offsets' origins: each dataset's best landmarker (``top``, n) and each learner's anchor value
    (``base``, n x learners; the best landmarker where the anchor is missing); 0 where a dataset has no
    landmarker at all."""
    import numpy as np

    n = len(A)
    top = best_landmarker(A, columns)
    base = np.column_stack([A[:, c] if c >= 0 else top for c in anchors]) if anchors else np.zeros((n, 0))
    base = np.where(np.isnan(base), top[:, None], base)
    return np.nan_to_num(top, nan=0.0), np.nan_to_num(base, nan=0.0)
