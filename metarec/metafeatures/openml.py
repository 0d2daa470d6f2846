"""The built-in ``openml`` meta-feature group: OpenML's data qualities, computed exactly as OpenML does.

Follows ``shared/specs/openml-qualities.md`` (OpenML EvaluationEngine + commons-math + Weka semantics):
simple qualities, numeric-attribute statistics, entropies / mutual information, nominal distinct values
and the 2-fold NaiveBayes landmarker, plus LCDB's ``NumberOfFeaturesAfterBinarization``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from . import _weka
from .base import BudgetExceeded, MetaFeatureGroup

#: Exactly the quality columns of LCDB's ``datasets.csv`` (63 OpenML qualities + NFAB), in its order.
OPENML_QUALITY_NAMES: tuple[str, ...] = (
    "AutoCorrelation", "ClassEntropy", "Dimensionality", "EquivalentNumberOfAtts", "MajorityClassSize",
    "MaxAttributeEntropy", "MaxKurtosisOfNumericAtts", "MaxMeansOfNumericAtts", "MaxMutualInformation",
    "MaxNominalAttDistinctValues", "MaxSkewnessOfNumericAtts", "MaxStdDevOfNumericAtts", "MeanAttributeEntropy",
    "MeanKurtosisOfNumericAtts", "MeanMeansOfNumericAtts", "MeanMutualInformation", "MeanNoiseToSignalRatio",
    "MeanNominalAttDistinctValues", "MeanSkewnessOfNumericAtts", "MeanStdDevOfNumericAtts", "MinAttributeEntropy",
    "MinKurtosisOfNumericAtts", "MinMeansOfNumericAtts", "MinMutualInformation", "MinNominalAttDistinctValues",
    "MinSkewnessOfNumericAtts", "MinStdDevOfNumericAtts", "MinorityClassPercentage", "MinorityClassSize",
    "NaiveBayesAUC", "NaiveBayesErrRate", "NaiveBayesKappa", "NumberOfBinaryFeatures", "NumberOfClasses",
    "NumberOfFeatures", "NumberOfInstances", "NumberOfInstancesWithMissingValues", "NumberOfMissingValues",
    "NumberOfNumericFeatures", "NumberOfSymbolicFeatures", "PercentageOfBinaryFeatures",
    "PercentageOfInstancesWithMissingValues", "PercentageOfMissingValues", "PercentageOfNumericFeatures",
    "PercentageOfSymbolicFeatures", "Quartile1AttributeEntropy", "Quartile1KurtosisOfNumericAtts",
    "Quartile1MeansOfNumericAtts", "Quartile1MutualInformation", "Quartile1SkewnessOfNumericAtts",
    "Quartile1StdDevOfNumericAtts", "Quartile2AttributeEntropy", "Quartile2KurtosisOfNumericAtts",
    "Quartile2MeansOfNumericAtts", "Quartile2MutualInformation", "Quartile2SkewnessOfNumericAtts",
    "Quartile2StdDevOfNumericAtts", "Quartile3AttributeEntropy", "Quartile3KurtosisOfNumericAtts",
    "Quartile3MeansOfNumericAtts", "Quartile3MutualInformation", "Quartile3SkewnessOfNumericAtts",
    "Quartile3StdDevOfNumericAtts", "NumberOfFeaturesAfterBinarization",
)

_SUMMARIES = ("Mean", "Min", "Max", "Quartile1", "Quartile2", "Quartile3")
_STAT_LISTS = ("Means", "StdDev", "Kurtosis", "Skewness")
_FAMILIES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("simple", (
        "NumberOfInstances", "NumberOfFeatures", "Dimensionality", "NumberOfNumericFeatures",
        "NumberOfSymbolicFeatures", "NumberOfBinaryFeatures", "PercentageOfNumericFeatures",
        "PercentageOfSymbolicFeatures", "PercentageOfBinaryFeatures", "NumberOfMissingValues",
        "NumberOfInstancesWithMissingValues", "PercentageOfMissingValues", "PercentageOfInstancesWithMissingValues",
        "NumberOfClasses", "MajorityClassSize", "MinorityClassSize", "MinorityClassPercentage", "AutoCorrelation",
        "NumberOfFeaturesAfterBinarization")),
    ("statistical", tuple(f"{s}{lst}OfNumericAtts" for lst in _STAT_LISTS for s in _SUMMARIES)),
    ("entropy", ("ClassEntropy", "EquivalentNumberOfAtts", "MeanNoiseToSignalRatio")
     + tuple(f"{s}{q}" for q in ("AttributeEntropy", "MutualInformation") for s in _SUMMARIES)),
    ("distinct values", ("MaxNominalAttDistinctValues", "MinNominalAttDistinctValues", "MeanNominalAttDistinctValues")),
    ("naive bayes", ("NaiveBayesAUC", "NaiveBayesErrRate", "NaiveBayesKappa")),
)
assert sorted(n for _, ns in _FAMILIES for n in ns) == sorted(OPENML_QUALITY_NAMES)

#: Qualities OpenML defines through the classes only (null for a regression target): the entropy and naive
#: Bayes families and the class sizes.
_CLASS_QUALITIES = frozenset(
    dict(_FAMILIES)["entropy"] + dict(_FAMILIES)["naive bayes"]
    + ("MajorityClassSize", "MinorityClassSize", "MinorityClassPercentage")
)

_NAN = float("nan")
_LN2 = math.log(2.0)  # Weka's Utils.log2(a) = Math.log(a) / Math.log(2)


class _Att:
    """One Weka attribute: kind numeric | nominal | string, with its values and missing mask."""

    __slots__ = ("kind", "values", "codes", "levels", "miss", "n_missing", "is_date", "is_bool", "n_distinct")

    def __init__(self, kind, *, values=None, codes=None, levels=0, miss=None, is_date=False, is_bool=False,
                 n_distinct=0):
        self.kind, self.values, self.codes, self.levels = kind, values, codes, levels
        self.is_date, self.is_bool, self.n_distinct = is_date, is_bool, n_distinct
        if miss is None:
            miss = np.isnan(values) if kind == "numeric" else codes < 0
        self.miss = miss
        self.n_missing = int(miss.sum())


def _attribute(s: pd.Series, target: bool = False) -> _Att:
    """Weka typing of a pandas column (spec §1.6)."""
    dt = s.dtype
    if isinstance(dt, pd.CategoricalDtype):
        return _Att("nominal", codes=np.asarray(s.cat.codes, dtype=np.int64), levels=len(dt.categories))
    if pd.api.types.is_bool_dtype(dt):  # declared levels [True, False] (openml-python upload order)
        na = s.isna().to_numpy()
        v = s.to_numpy(dtype=bool, na_value=False)
        return _Att("nominal", codes=np.where(na, -1, np.where(v, 0, 1)), levels=2, is_bool=True)
    if pd.api.types.is_datetime64_any_dtype(dt):
        if getattr(dt, "tz", None) is not None:
            s = s.dt.tz_convert("UTC").dt.tz_localize(None)
        v = s.to_numpy(dtype="datetime64[ms]")
        ms = v.view(np.int64).astype(np.float64)
        ms[np.isnat(v)] = np.nan
        return _Att("numeric", values=ms, is_date=True)
    if pd.api.types.is_numeric_dtype(dt) and not pd.api.types.is_complex_dtype(dt):
        return _Att("numeric", values=s.to_numpy(dtype=np.float64, na_value=np.nan))
    miss = s.isna().to_numpy()
    if target:  # object / str target: nominal with the sorted observed values as levels
        observed = list(pd.unique(s[~miss]))
        try:
            levels = sorted(observed)
        except TypeError:
            levels = sorted(observed, key=str)
        cat = pd.Categorical(s.astype(object), categories=pd.Index(levels, dtype=object))
        return _Att("nominal", codes=np.asarray(cat.codes, dtype=np.int64), levels=len(levels))
    return _Att("string", miss=miss, n_distinct=int(s.nunique(dropna=True)))


# ---------------------------------------------------------------- commons-math primitives (spec §2)
def _cm_mean(xs) -> float:
    """commons-math Mean: sequential sum / n plus the correction term."""
    n = len(xs)
    if n == 0:
        return _NAN
    s = 0.0
    for v in xs:
        s += v
    xbar = s / n
    corr = 0.0
    for v in xs:
        corr += v - xbar
    return xbar + corr / n


def _percentile(xs, p: float) -> float:
    """commons-math Percentile, LEGACY estimation (= numpy ``method="weibull"``)."""
    n = len(xs)
    if n == 0:
        return _NAN
    v = sorted(xs, key=lambda t: (t, math.copysign(1.0, t)))  # Arrays.sort: -0.0 before 0.0
    if n == 1:
        return float(v[0])
    pos = p * (n + 1) / 100
    fpos = math.floor(pos)
    if pos < 1:
        return float(v[0])
    if pos >= n:
        return float(v[-1])
    lower, upper = v[int(fpos) - 1], v[int(fpos)]
    return float(lower + (pos - fpos) * (upper - lower))


def _jmin_max(xs) -> tuple[float, float]:
    """commons-math Min / Max: sequential ``m = (m < v) ? m : v`` (ties keep the later value)."""
    if not xs:
        return _NAN, _NAN
    lo = hi = xs[0]
    for v in xs[1:]:
        lo = lo if lo < v else v
        hi = hi if hi > v else v
    return lo, hi


def _summaries(out: dict, xs: list, fmt: str) -> None:
    vals = (_cm_mean(xs), *_jmin_max(xs),
            _percentile(xs, 25), _percentile(xs, 50), _percentile(xs, 75))
    for s, v in zip(_SUMMARIES, vals):
        out[fmt.format(s)] = float(v)


def _moments(x: np.ndarray) -> tuple[float, float, float, float]:
    """mean, sample sd, bias-corrected skewness G1, excess kurtosis G2 (NaN where undefined)."""
    n = len(x)
    if n == 0:
        return _NAN, _NAN, _NAN, _NAN
    if x.min() == x.max():  # constant: sd exactly 0, skewness/kurtosis 0/0
        return float(x[0]), 0.0, _NAN, _NAN
    xbar = float(x.sum()) / n
    mean = xbar + float((x - xbar).sum()) / n
    d = x - mean
    d2 = d * d
    acc, acc1 = float(d2.sum()), float(d.sum())
    var = (acc - acc1 * acc1 / n) / (n - 1) if n > 1 else 0.0
    sd = math.sqrt(var) if var >= 0 else _NAN
    skew = kurt = _NAN
    if n >= 3 and var > 0:
        skew = (n / ((n - 1.0) * (n - 2.0))) * (float((d2 * d).sum()) / (var * math.sqrt(var)))
    if n >= 4 and var > 0:
        c1 = (n * (n + 1.0)) / ((n - 1.0) * (n - 2.0) * (n - 3.0))
        c2 = (3 * (n - 1.0) ** 2) / ((n - 2.0) * (n - 3.0))
        kurt = c1 * (float((d2 * d2).sum()) / float(np.float64(sd) ** 4)) - c2
    return mean, sd, skew, kurt


# ---------------------------------------------------------------- families
def _simple(out, atts, tgt, N, F):
    allatts = atts + ([tgt] if tgt is not None else [])
    n_num = sum(a.kind == "numeric" for a in allatts)
    n_sym = sum(a.kind == "nominal" for a in allatts)
    n_bin = sum(a.kind == "nominal" and a.levels == 2 for a in allatts)
    n_miss = sum(a.n_missing for a in allatts)
    rowmiss = np.zeros(N, dtype=bool)
    for a in atts:  # Weka's hasMissingValue() skips the class
        if a.n_missing:
            rowmiss |= a.miss
    n_rowmiss = int(rowmiss.sum())
    out["NumberOfInstances"] = float(N)
    out["NumberOfFeatures"] = float(F)
    out["Dimensionality"] = F / N if N > 0 else 0.0
    out["NumberOfNumericFeatures"], out["NumberOfSymbolicFeatures"] = float(n_num), float(n_sym)
    out["NumberOfBinaryFeatures"] = float(n_bin)
    if F > 0:
        out["PercentageOfNumericFeatures"] = n_num / F * 100
        out["PercentageOfSymbolicFeatures"] = n_sym / F * 100
        out["PercentageOfBinaryFeatures"] = n_bin / F * 100
    out["NumberOfMissingValues"] = float(n_miss)
    out["NumberOfInstancesWithMissingValues"] = float(n_rowmiss)
    if N > 0:
        out["PercentageOfInstancesWithMissingValues"] = n_rowmiss / N * 100
    if N * F > 0:
        out["PercentageOfMissingValues"] = n_miss / (F * N) * 100
    out["NumberOfFeaturesAfterBinarization"] = float(sum(
        a.levels if a.kind == "nominal" and not a.is_bool else a.n_distinct if a.kind == "string" else 1
        for a in atts))
    if tgt is None:
        return
    if tgt.kind == "numeric":
        out["NumberOfClasses"] = 0.0
        y = tgt.values
        if N == 1:
            out["AutoCorrelation"] = 1.0
        elif N > 1 and not tgt.n_missing:
            changes = float(np.add.accumulate(np.abs(y[:-1] - y[1:]))[-1])
            out["AutoCorrelation"] = (N - 1 - changes) / (N - 1)
        return
    codes = tgt.codes
    groups = np.bincount(codes[codes >= 0], minlength=1)
    groups = groups[groups > 0].tolist() + ([tgt.n_missing] if tgt.n_missing else [])
    out["NumberOfClasses"] = float(len(groups))
    if groups:
        out["MajorityClassSize"], out["MinorityClassSize"] = float(max(groups)), float(min(groups))
        out["MinorityClassPercentage"] = min(groups) / N * 100
    if N == 1:
        out["AutoCorrelation"] = 1.0
    elif N > 1:  # a comparison involving a missing class value counts as a change
        changes = int(((codes[1:] != codes[:-1]) | tgt.miss[1:] | tgt.miss[:-1]).sum())
        out["AutoCorrelation"] = (N - 1 - float(changes)) / (N - 1)


def _statistical(out, atts, tgt):
    numeric = [a for a in atts + ([tgt] if tgt is not None else []) if a.kind == "numeric"]
    if not numeric:
        return
    lists: dict[str, list] = {k: [] for k in _STAT_LISTS}
    for a in numeric:
        x = a.values[~a.miss] if a.n_missing else a.values
        for key, v in zip(("Means", "StdDev", "Skewness", "Kurtosis"), _moments(x)):
            if math.isfinite(v):
                lists[key].append(v)
    for key, xs in lists.items():
        _summaries(out, xs, "{}" + key + "OfNumericAtts")


def _xlog2x_sum(counts: np.ndarray) -> np.ndarray:
    """Sequential (Java order) sum over the last axis of c * log2(c), zero counts skipped."""
    c = counts.astype(np.float64)
    lg = np.zeros_like(c)
    np.log(c, out=lg, where=c > 0)
    return np.add.accumulate(c * (lg / _LN2), axis=-1)[..., -1]


def _entropy(counts: np.ndarray, N: int) -> float:
    """DCUntils attribute/class entropy: -(sum of p log2 p), p = count / N, summed in index order."""
    p = counts[counts > 0] / float(N)
    if len(p) == 0:
        return -0.0
    return float(np.add.accumulate(p * (np.log(p) / _LN2))[-1]) * -1.0


def _group_xlog2x(joint: np.ndarray, V: int, K: int) -> np.ndarray:
    """Per value v: sequential sum over classes of n_vk log2 n_vk (dense table, or sparse when huge)."""
    if V * K <= max(1 << 22, 4 * len(joint)):
        return _xlog2x_sum(np.bincount(joint, minlength=V * K).reshape(V, K))
    uj, cnt = np.unique(joint, return_counts=True)
    v = uj // K
    c = cnt.astype(np.float64)
    t = c * (np.log(c) / _LN2)
    start = np.r_[0, np.flatnonzero(np.diff(v)) + 1]
    rank = np.arange(len(v)) - np.repeat(start, np.diff(np.r_[start, len(v)]))
    acc = np.zeros(V)
    for r in range(int(rank.max()) + 1):  # rank-by-rank keeps each group's sum in class order
        sel = rank == r
        acc[v[sel]] += t[sel]
    return acc


def _entropy_family(out, atts, tgt, N):
    if tgt is None or tgt.kind != "nominal" or N == 0:
        return
    K = max(tgt.levels, 1)
    yz = np.maximum(tgt.codes, 0)  # (int) NaN == 0 in Java: a missing value counts as the first level
    ycount = np.bincount(yz, minlength=K)
    out["ClassEntropy"] = _entropy(ycount, N)
    noms = [a for a in atts if a.kind == "nominal"]
    if not noms:
        return
    hy = float(-_xlog2x_sum(ycount)) / N + math.log(N) / _LN2  # DCUntils.computeEntropy(data)
    ents, mis = [], []
    for a in noms:
        V = max(a.levels, 1)
        xz = np.maximum(a.codes, 0)
        nv = np.bincount(xz, minlength=V)
        ents.append(_entropy(nv, N))
        e = -_group_xlog2x(xz * K + yz, V, K)
        pos = nv > 0
        n_v = nv[pos].astype(np.float64)
        after = e[pos] / n_v + np.log(n_v) / _LN2
        gain = float(np.subtract.accumulate(np.r_[hy, (n_v / N) * after])[-1])
        x = gain * 1e14  # Math.round(gain * 1e14) / 1e14, half-up
        r = math.floor(x)
        mis.append((r + (1 if x - r >= 0.5 else 0)) / 1e14)
    _summaries(out, ents, "{}AttributeEntropy")
    _summaries(out, mis, "{}MutualInformation")
    mean_mi = out["MeanMutualInformation"]
    if mean_mi > 0:
        out["EquivalentNumberOfAtts"] = out["ClassEntropy"] / mean_mi
        out["MeanNoiseToSignalRatio"] = (out["MeanAttributeEntropy"] - mean_mi) / mean_mi


def _distinct_family(out, atts, tgt):
    noms = [a for a in atts + ([tgt] if tgt is not None else []) if a.kind == "nominal"]
    if not noms:
        return
    d = [float(np.count_nonzero(np.bincount(a.codes + 1, minlength=1)[1:])) for a in noms]
    out["MaxNominalAttDistinctValues"], out["MinNominalAttDistinctValues"] = max(d), min(d)
    out["MeanNominalAttDistinctValues"] = _cm_mean(d)


def _naive_bayes_family(out, atts, tgt, N):
    if tgt is None or tgt.kind != "nominal" or N < 2 or tgt.levels < 1:
        return
    if any(a.kind == "string" or a.is_date or (a.kind == "nominal" and a.levels < 1) for a in atts):
        return  # outside Weka NaiveBayes' capabilities
    cols = [("nominal", a.codes, a.levels) if a.kind == "nominal" else ("numeric", a.values, None) for a in atts]
    try:
        auc, err, kappa = _weka.naive_bayes_cv(cols, tgt.codes, tgt.levels)
    except FloatingPointError:
        return
    out["NaiveBayesAUC"], out["NaiveBayesErrRate"], out["NaiveBayesKappa"] = float(auc), float(err), float(kappa)


def _compute_into(out: dict, X, y, budget, done: list) -> None:
    """Fill ``out`` family by family, appending each finished family's name to ``done``."""
    if not isinstance(X, pd.DataFrame):
        X = pd.DataFrame(X)
    if y is not None and not isinstance(y, pd.Series):
        y = pd.Series(y)
    N = int(X.shape[0])
    if y is not None and len(y) != N:
        raise ValueError(f"X has {N} rows but y has {len(y)}")
    atts = [_attribute(X.iloc[:, j]) for j in range(X.shape[1])]
    tgt = _attribute(y, target=True) if y is not None else None
    F = len(atts) + (tgt is not None)
    steps = (
        ("simple", lambda: _simple(out, atts, tgt, N, F)),
        ("statistical", lambda: _statistical(out, atts, tgt)),
        ("entropy", lambda: _entropy_family(out, atts, tgt, N)),
        ("distinct values", lambda: _distinct_family(out, atts, tgt)),
        ("naive bayes", lambda: _naive_bayes_family(out, atts, tgt, N)),
    )
    with np.errstate(all="ignore"):  # inf / overflow on extreme data are handled as NaN, like Java
        for i, (family, step) in enumerate(steps):
            if budget is not None and i > 0:
                budget.check(family)
            step()
            done.append(family)


def compute_openml_qualities(X: pd.DataFrame, y: pd.Series | None, budget=None) -> dict[str, float]:
    """OpenML's data qualities of ``X`` (non-target attributes, file order) and target ``y`` (None = no
    target), as floats; NaN where OpenML stores null. Raises ``BudgetExceeded`` if ``budget`` runs out."""
    out = dict.fromkeys(OPENML_QUALITY_NAMES, _NAN)
    _compute_into(out, X, y, budget, [])
    return {k: float(v) for k, v in out.items()}


class OpenMLGroup(MetaFeatureGroup):
    """OpenML data qualities (as stored on openml.org) plus LCDB's NumberOfFeaturesAfterBinarization."""

    name = "openml"
    feature_names = OPENML_QUALITY_NAMES
    description = ("OpenML's data qualities computed exactly as OpenML's evaluation engine does (simple counts, "
                   "numeric-attribute moments, entropies and mutual information, nominal distinct values, the "
                   "2-fold Weka NaiveBayes landmarker) plus LCDB's NumberOfFeaturesAfterBinarization.")

    def applicable_features(self, task_type: str) -> tuple[str, ...]:
        if task_type == "classification":
            return tuple(self.feature_names)
        return tuple(n for n in self.feature_names if n not in _CLASS_QUALITIES)

    def compute(self, dataset: Any, budget, skipped: dict[str, str]) -> dict[str, float]:
        out = dict.fromkeys(self.feature_names, _NAN)
        done: list[str] = []
        try:
            _compute_into(out, dataset.X, dataset.y, budget, done)
        except BudgetExceeded as exc:
            for family, names in _FAMILIES:
                if family not in done:
                    for name in names:
                        out[name] = _NAN
                        skipped[name] = str(exc)
        return {k: float(v) for k, v in out.items()}
