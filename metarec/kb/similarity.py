"""How similar datasets are: distances between meta-feature vectors, as ``recommend`` shows its nearest
KB tasks and as the zero-shot configurations choose the tasks they learn from.

Meta-features are compared on a signed log scale (counts span orders of magnitude), centred on a reference
population's median and divided by its inter-quartile range; the distance of two datasets is the mean
absolute difference over the meta-features both have (features missing on either side are skipped)."""

from __future__ import annotations


def slog(a):
    """Signed log: ``sign(a) * log(1 + |a|)`` (NaN stays NaN)."""
    import numpy as np

    with np.errstate(invalid="ignore"):
        return np.sign(a) * np.log1p(np.abs(a))


def scaled(metafeatures):
    """``metafeatures`` (a datasets x meta-features frame) on the comparison scale: signed log, centred on
    the median, divided by the inter-quartile range; returns ``(Z, median, scale)``."""
    import warnings

    import numpy as np

    M = slog(metafeatures.to_numpy(dtype=float))
    with warnings.catch_warnings():  # a meta-feature missing on every dataset is simply skipped
        warnings.simplefilter("ignore", RuntimeWarning)
        med = np.nanmedian(M, axis=0)
        q75, q25 = np.nanpercentile(M, 75, axis=0), np.nanpercentile(M, 25, axis=0)
    scale = np.where((q75 - q25) > 0, q75 - q25, 1.0)
    return (M - med) / scale, med, scale


def distances(Z, z):
    """Mean absolute difference of each row of ``Z`` to ``z`` over the features both have; (distance, count)."""
    import numpy as np

    diff = np.abs(Z - z)
    count = (~np.isnan(diff)).sum(axis=1)
    return np.where(count > 0, np.nansum(diff, axis=1) / np.maximum(count, 1), np.inf), count


def nearest_scores(scores, metafeatures, x, n: int = 10, scaling=None):
    """The ``n`` tasks of ``scores`` (tasks x learners, higher is better) whose ``metafeatures`` are nearest
    to ``x`` (a series), each score less its task's best: 0 for the task's winner, NaN where not run.
    ``scaling``: :func:`scaled` of ``metafeatures`` when the caller has it."""
    import numpy as np

    Z, med, scale = scaling if scaling is not None else scaled(metafeatures)
    z = (slog(x.reindex(metafeatures.columns).to_numpy(dtype=float)) - med) / scale
    dist, _ = distances(Z, z)
    return below_best(scores.reindex(metafeatures.index[np.argsort(dist, kind="stable")[:n]]))


def below_best(scores):
    """Each task's (row's) scores less its best: 0 for the task's winner, NaN where not run."""
    return scores.sub(scores.max(axis=1), axis=0)


def learner_portfolio(order, neighbour_scores, k: int = 3, pool: int | None = None) -> list[str]:
    """``k`` learners to search together: the first of ``order`` (the ranking), then greedily the learner
    that most raises the best score the chosen reach on the nearest tasks (``neighbour_scores``, from
    :func:`nearest_scores`), among the ``pool`` (default ``2 k``) first of ``order``; ties go to the better
    ranked. Learners ranked alike (a logistic regression and a linear SVC) tend to win and lose on the same
    tasks, so the portfolio trades the second of them for one that wins where they lose."""
    import numpy as np

    names = list(order)
    candidates = names[:max(k, pool if pool is not None else 2 * k)]
    R = neighbour_scores
    if R is None or not len(R):
        return names[:k]
    chosen = candidates[:1]
    while len(chosen) < min(k, len(candidates)):
        have = R.reindex(columns=chosen).max(axis=1).fillna(-np.inf).to_numpy()
        best, pick = -np.inf, None
        for c in candidates:
            if c in chosen:
                continue
            col = R[c].to_numpy(dtype=float) if c in R.columns else np.full(len(R), np.nan)
            gain = float(np.mean(np.where(np.isnan(col), 0.0, np.maximum(col - have, 0.0))))
            if gain > best:  # strictly: a tie keeps the better ranked
                best, pick = gain, c
        chosen.append(pick)
    return chosen
