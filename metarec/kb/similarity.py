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
