"""metarec-pymfe: meta-features computed by pymfe, as one metarec meta-feature group.

Registers the group ``pymfe`` through the ``register_metafeatures`` hook. It computes a chosen set of
pymfe features (:data:`CHUNKS`: general, statistical, info-theory, model-based, landmarking and
complexity measures), each multi-valued one summarised by :data:`SUMMARY` (mean and standard deviation).
Feature names are pymfe's, prefixed ``pymfe_`` (``pymfe_cor.mean``, ``pymfe_nr_inst``), declared up front
without importing pymfe, so ``metarec --help`` stays fast.

Time budget: the chunks run one pymfe group at a time, cheapest first, and ``budget.check`` runs before
each; when the extraction's budget is spent, the remaining chunks are not computed and their features
are recorded in ``skipped`` with the reason (``metarec metafeatures --json`` reports them). Features pymfe
does not compute on a dataset (e.g. class-based ones on a regression target, which is run unsupervised)
are recorded too. Rows above ``max_rows`` are subsampled (stratified, fixed seed) for every chunk but
``general``.

Use it with ``metarec metafeatures data.csv -t y --groups pymfe`` or
``extract_metafeatures(df, "y", groups=["openml", "pymfe"])``; a KB built with
``metarec kb build DATA... --groups openml,statistical,landmarkers,pymfe --out kb`` carries its columns,
and ``metarec recommend`` computes them for a new dataset when the KB has them.
"""

from __future__ import annotations

import math
import warnings
from typing import Any, Mapping

from metarec import hookimpl
from metarec.metafeatures import Budget, BudgetExceeded, MetaFeatureGroup

__version__ = "0.1.0"
__all__ = ["PymfeGroup", "CHUNKS", "SUMMARY", "register_metafeatures"]

#: (pymfe group, {feature: multi-valued?}), cheapest first: the order the budget is spent in.
CHUNKS: tuple[tuple[str, dict[str, bool]], ...] = (
    ("general", {"attr_to_inst": False, "cat_to_num": False, "freq_class": True, "nr_attr": False,
                 "nr_cat": False, "nr_class": False, "nr_inst": False, "nr_num": False}),
    ("statistical", {"cor": True, "eigenvalues": True, "iq_range": True, "kurtosis": True, "nr_outliers": False,
                     "sd_ratio": False, "skewness": True}),
    ("info-theory", {"attr_ent": True, "class_ent": False, "eq_num_attr": False, "joint_ent": True,
                     "mut_inf": True, "ns_ratio": False}),
    ("model-based", {"leaves": False, "nodes_per_attr": False, "tree_depth": True, "var_importance": True}),
    ("landmarking", {"best_node": True, "naive_bayes": True, "one_nn": True}),
    ("complexity", {"f1": True, "n1": False, "t1": False}),
)

#: How multi-valued features are summarised (pymfe summary functions).
SUMMARY: tuple[str, ...] = ("mean", "sd")

PREFIX = "pymfe_"


def _names(chunks, summary) -> list[tuple[str, str]]:
    """(pymfe group, declared metarec name) for every feature, in pymfe's (sorted) order per chunk."""
    out = []
    for group, feats in chunks:
        names = []
        for feat, multi in feats.items():
            names.extend(f"{feat}.{s}" for s in summary) if multi else names.append(feat)
        out.extend((group, PREFIX + n) for n in sorted(names))
    return out


class PymfeGroup(MetaFeatureGroup):
    """pymfe meta-features (see the module docstring).

    Parameters
    ----------
    chunks : sequence of (pymfe group, {feature: multi-valued})
        What to compute, in order. Default :data:`CHUNKS`.
    summary : sequence of str
        pymfe summary functions for multi-valued features. Default :data:`SUMMARY`.
    max_rows : int
        Rows above this are subsampled for every chunk but ``general``.
    random_state : int
        Seed of pymfe and of the subsample (the values are deterministic).
    """

    name = "pymfe"
    description = "pymfe meta-features (general, statistical, info-theory, model-based, landmarking, complexity)"
    supports_regression = True

    def __init__(self, chunks=CHUNKS, summary=SUMMARY, max_rows: int = 2000, random_state: int = 0):
        self.chunks = tuple((g, dict(f)) for g, f in chunks)
        self.summary = tuple(summary)
        self.max_rows = int(max_rows)
        self.random_state = int(random_state)
        self._by_group = _names(self.chunks, self.summary)
        self.feature_names = tuple(n for _, n in self._by_group)

    # -- data ---------------------------------------------------------------------------------------------
    def _arrays(self, dataset) -> tuple[Any, Any, list[int]]:
        """Imputed object matrix, target (None for regression) and categorical column indices."""
        import numpy as np
        import pandas as pd

        X, y = dataset.X, dataset.y
        keep = y.notna().to_numpy()
        X, y = X[keep], y[keep]
        cols, cat = [], []
        for i, col in enumerate(X.columns):
            s = X[col]
            if s.isna().all():
                continue  # nothing to describe
            categorical = bool(dataset.categorical[i]) if i < len(dataset.categorical) else False
            if categorical or not pd.api.types.is_numeric_dtype(s.dtype) or pd.api.types.is_bool_dtype(s.dtype):
                cat.append(len(cols))
                cols.append(s.astype(object).where(s.notna(), "__missing__").astype(str).to_numpy(dtype=object))
            else:
                v = s.to_numpy(dtype=float)
                cols.append(np.where(np.isnan(v), np.nanmedian(v), v))
        A = np.column_stack(cols).astype(object) if cols else np.empty((len(X), 0), dtype=object)
        target = y.astype(str).to_numpy(dtype=object) if dataset.task_type == "classification" else None
        return A, target, cat

    def _subsample(self, A, y):
        import numpy as np

        n = len(A)
        if n <= self.max_rows:
            return A, y
        rng = np.random.default_rng(self.random_state)
        if y is None:
            idx = np.sort(rng.choice(n, self.max_rows, replace=False))
        else:  # stratified: the same share of every class
            idx = []
            for label in np.unique(y):
                members = np.flatnonzero(y == label)
                take = max(1, round(len(members) * self.max_rows / n))
                idx.extend(rng.choice(members, min(take, len(members)), replace=False))
            idx = np.sort(np.asarray(idx))
        return A[idx], (None if y is None else y[idx])

    # -- compute ------------------------------------------------------------------------------------------
    def compute(self, dataset: Any, budget: Budget, skipped: dict[str, str]) -> Mapping[str, float]:
        values: dict[str, float] = {}
        pending = list(self.chunks)
        A = y = cat = None
        while pending:
            group, feats = pending[0]
            declared = [n for g, n in self._by_group if g == group]
            try:
                budget.check(f"pymfe group {group!r}")
            except BudgetExceeded as exc:
                for g, _ in pending:
                    for n in (n for gg, n in self._by_group if gg == g):
                        skipped[n] = f"{exc} (pymfe group {g!r} not computed)"
                break
            pending.pop(0)
            try:
                if A is None:
                    A, y, cat = self._arrays(dataset)
                    if A.shape[1] == 0 or len(A) < 2:
                        raise ValueError(f"{A.shape[1]} usable columns and {len(A)} rows")
                data = (A, y) if group == "general" else self._subsample(A, y)
                got = self._extract(group, list(feats), *data, cat)
            except Exception as exc:  # a failing chunk costs its own features only
                for n in declared:
                    skipped[n] = f"pymfe group {group!r} failed: {type(exc).__name__}: {exc}"
                continue
            for n in declared:
                if n not in got:
                    skipped[n] = ("not computed by pymfe on this dataset"
                                  + (" (regression target: run unsupervised)" if y is None else ""))
                else:
                    v = got[n]
                    values[n] = v if math.isfinite(v) else math.nan
        return values

    def _extract(self, group: str, features: list[str], A, y, cat: list[int]) -> dict[str, float]:
        import numpy as np
        from pymfe.mfe import MFE

        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            mfe = MFE(groups=[group], features=features, summary=list(self.summary),
                      random_state=self.random_state, suppress_warnings=True)
            if y is None:
                mfe.fit(A, cat_cols=cat, suppress_warnings=True)
            else:
                mfe.fit(A, y, cat_cols=cat, suppress_warnings=True)
            names, vals = mfe.extract(suppress_warnings=True)
        out = {}
        for n, v in zip(names, vals):
            try:
                out[PREFIX + n] = float(v)
            except (TypeError, ValueError):
                out[PREFIX + n] = math.nan
        return out


@hookimpl
def register_metafeatures(register):
    register(PymfeGroup())
