"""Exact, vectorised re-implementations of the Weka pieces behind OpenML's NaiveBayes landmarker.

``java.util.Random``, ``Instances.randomize`` / ``stratify`` / ``trainCV`` / ``testCV``, Weka's
``NaiveBayes`` (Gaussian with a precision grid, Laplace-smoothed nominal tables) and the ``Evaluation``
metrics (error rate, kappa, class-weighted ROC AUC). See ``shared/specs/openml-qualities.md`` §7.
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtr  # Weka's Statistics.normalProbability is the same Cephes ndtr

_MULT = 0x5DEECE66D
_ADD = 0xB
_M48 = (1 << 48) - 1
_M24 = (1 << 24) - 1
_INT31 = 1 << 31


def _affine48(a: int, c: int, s: np.ndarray) -> np.ndarray:
    """(a * s + c) mod 2**48 for a uint64 array ``s`` without overflowing 64 bits."""
    u24 = np.uint64(24)
    al, ah = np.uint64(a & _M24), np.uint64(a >> 24)
    sl, sh = s & np.uint64(_M24), s >> u24
    mid = (ah * sl + al * sh) & np.uint64(_M24)
    return (al * sl + (mid << u24) + np.uint64(c)) & np.uint64(_M48)


class JavaRandom:
    """``java.util.Random`` (48-bit LCG) with vectorised bulk draws."""

    def __init__(self, seed: int) -> None:
        self.state = (seed ^ _MULT) & _M48

    def states(self, m: int) -> np.ndarray:
        """The next ``m`` LCG states (advances the generator), by affine doubling."""
        out = np.empty(m, dtype=np.uint64)
        if m == 0:
            return out
        out[0] = (self.state * _MULT + _ADD) & _M48
        filled, a, c = 1, _MULT, _ADD  # (a, c): the affine map of `filled` steps
        while filled < m:
            k = min(filled, m - filled)
            out[filled:filled + k] = _affine48(a, c, out[:k])
            filled += k
            a, c = (a * a) & _M48, (a * c + c) & _M48
        self.state = int(out[-1])
        return out

    def next_ints(self, bounds) -> np.ndarray:
        """``[nextInt(b) for b in bounds]`` in order, including Java's rejection retries."""
        bounds = np.asarray(bounds, dtype=np.int64)
        n = len(bounds)
        if n == 0:
            return np.empty(0, dtype=np.int64)
        r = (self.states(n) >> np.uint64(17)).astype(np.int64)
        pow2 = (bounds & (bounds - 1)) == 0
        rejected: list[int] = []
        if not pow2.all():
            # next(31) = r is rejected for bound b iff r - r % b + b - 1 overflows int32; only possible
            # when r >= 2**31 - b + 1, so only a handful of states need a sequential look.
            thresh = _INT31 - int(bounds[~pow2].max()) + 1
            checked = 0
            while True:
                for t in (np.flatnonzero(r[checked:] >= thresh) + checked).tolist():
                    i = t - len(rejected)  # the draw this state serves
                    b = int(bounds[i])
                    rv = int(r[t])
                    if b & (b - 1) and rv - rv % b + b - 1 >= _INT31:
                        rejected.append(t)
                checked = len(r)
                need = n + len(rejected) - len(r)
                if need <= 0:
                    break
                r = np.concatenate([r, (self.states(need) >> np.uint64(17)).astype(np.int64)])
        used = np.delete(r, rejected) if rejected else r
        return np.where(pow2, (bounds * used) >> 31, used % bounds)


def _resolve(ptr: np.ndarray) -> np.ndarray:
    """Follow pointer chains (ptr[i] == i ends a chain) to their ends, by pointer doubling."""
    while True:
        nxt = ptr[ptr]
        if np.array_equal(nxt, ptr):
            return ptr
        ptr = nxt


def randomize(items: np.ndarray, rng: JavaRandom) -> np.ndarray:
    """Weka ``Instances.randomize``: for j = n-1..1 swap(j, nextInt(j+1)), in closed form.

    Step j fixes position j to the value held by position k_j just before it. Position q is last written
    before step j by the smallest step j' > j with k_j' = q, which stores there the value position j'
    held just before step j' -- a chain that ends at an untouched original position.
    """
    items = np.asarray(items, dtype=np.int64)
    n = len(items)
    if n < 2:
        return items.copy()
    k = rng.next_ints(np.arange(n, 1, -1))  # k for steps j = n-1, ..., 1
    j = np.arange(n - 1, 0, -1)
    o = np.lexsort((j, k))
    js, ks = j[o], k[o]
    same = ks[1:] == ks[:-1]
    after = np.full(n, -1)  # next step (larger j) writing the same position k_j
    after[js[:-1][same]] = js[1:][same]
    first = np.full(n, -1)  # smallest step writing position q
    starts = np.r_[True, ~same]
    first[ks[starts]] = js[starts]
    pos = np.arange(n)
    writer = np.where(first == pos, after, first)  # smallest step j' > q writing position q
    before = _resolve(np.where(writer >= 0, writer, pos))  # origin of the value at q before step q
    src = np.empty(n, dtype=np.int64)
    kj = np.empty(n, dtype=np.int64)
    kj[j] = k
    src[1:] = np.where(after[1:] >= 0, before[np.maximum(after[1:], 0)], kj[1:])
    src[0] = before[first[0]] if first[0] >= 0 else 0
    return items[src]


def stratify(order: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """Weka ``Instances.stratify(2)`` of the row order ``order``; ``codes`` = class per row (-1 missing).

    Each grouping scan is a Lomuto partition of the rest of the array around the pivot's class; it is
    computed in closed form: the k-th match goes to k, and a non-match at p hops to m[p] (the position
    of the p-th match) while p < #matches -- resolved by pointer doubling.
    """
    order = np.array(order, dtype=np.int64)
    c = codes[order]
    n = len(order)
    remaining = dict(zip(*np.unique(c, return_counts=True)))
    idx = 1
    while idx < n:
        piv = c[idx - 1]
        mcount = int(remaining[piv]) - 1  # all other rows of the pivot class lie in the region
        remaining[piv] = 0
        L = n - idx
        if 0 < mcount < L:
            match = c[idx:] == piv
            m = np.flatnonzero(match)
            g = np.arange(L)
            g[:mcount] = m
            while True:
                g2 = g[g]
                if np.array_equal(g2, g):
                    break
                g = g2
            newpos = g
            newpos[m] = np.arange(mcount)
            reg_o, reg_c = order[idx:].copy(), c[idx:].copy()
            order[idx + newpos] = reg_o
            c[idx + newpos] = reg_c
        idx += mcount + 1
    return np.concatenate([order[0::2], order[1::2]])


def _fit_predict(columns, ycodes, n_classes, train, test):
    """Weka NaiveBayes fit on rows ``train``; class probabilities (K x len(test)) for rows ``test``."""
    K = n_classes
    tr = train[ycodes[train] >= 0]  # deleteWithMissingClass
    yt = ycodes[tr]
    n = len(tr)
    prior = (np.bincount(yt, minlength=K) + 1.0) / float(n + K)
    probs = np.repeat(prior[:, None], len(test), axis=1)
    for kind, data, V in columns:
        xte = data[test]
        xtr = data[tr]
        if kind == "nominal":
            ok = xtr >= 0
            cnt = np.bincount(yt[ok] * V + xtr[ok], minlength=K * V).reshape(K, V).astype(np.float64)
            table = np.ones((K, V + 1))  # trailing column of ones: code -1 (missing) leaves p unchanged
            table[:, :V] = np.maximum(1e-75, (cnt + 1.0) / (cnt.sum(axis=1) + V)[:, None])
            temp = table[:, xte]
            miss = xte < 0
        else:
            ok = ~np.isnan(xtr)
            vals = xtr[ok]
            prec = 0.01
            if len(vals):
                d = np.diff(np.sort(vals))
                d = d[d != 0]
                if len(d):  # Weka: sum of gaps between distinct sorted values / number of gaps
                    prec = float(np.add.accumulate(d)[-1]) / len(d)
            xr = np.rint(vals / prec) * prec
            yk = yt[ok]
            w = np.bincount(yk, minlength=K).astype(np.float64)
            s1 = np.bincount(yk, weights=xr, minlength=K)
            s2 = np.bincount(yk, weights=xr * xr, minlength=K)
            has = w > 0
            wd = np.where(has, w, 1.0)
            mu = np.where(has, s1 / wd, 0.0)
            sd = np.sqrt(np.abs(s2 - mu * s1) / wd)
            floor = prec / (2 * 3)
            sd = np.where(has & (sd > 1e-10), np.maximum(floor, sd), floor)[:, None]
            miss = np.isnan(xte)
            half = prec / 2
            # Phi((x~ - mu + prec/2) / sd) - Phi((x~ - mu - prec/2) / sd), computed in place
            temp = (np.rint(xte / prec) * prec)[None, :] - mu[:, None]
            low = temp - half
            temp += half
            temp /= sd
            low /= sd
            ndtr(temp, out=temp)
            ndtr(low, out=low)
            temp -= low
            np.maximum(temp, 1e-75, out=temp)
            if miss.any():
                np.copyto(temp, 1.0, where=miss[None, :])
        probs *= temp
        mx = probs.max(axis=0)
        resc = (mx < 1e-75) & (mx > 0) & ~miss  # danger of underflow: rescale
        if resc.any():
            probs[:, resc] *= 1e75
    if np.isnan(probs).any():
        raise FloatingPointError("NaN returned from estimator")
    total = probs[0].copy()
    for k in range(1, K):
        total += probs[k]
    return probs / total


def _mann_whitney_u(scores: np.ndarray, pos: np.ndarray) -> float:
    """Sum over positives of (#negatives scored lower + 0.5 * #negatives tied): Weka's ROC area numerator."""
    o = np.argsort(scores)  # tie order is irrelevant: equal scores are grouped below
    s, p = scores[o], pos[o]
    new = np.empty(len(s), dtype=bool)
    new[:1] = True
    new[1:] = s[1:] != s[:-1]
    gid = np.cumsum(new) - 1
    tot = np.bincount(gid)
    npos = np.bincount(gid[p], minlength=len(tot))
    nneg = tot - npos
    before = np.cumsum(nneg) - nneg
    return float(int((npos * (2 * before + nneg)).sum())) / 2.0


def naive_bayes_cv(columns, ycodes: np.ndarray, n_classes: int, seed: int = 1) -> tuple[float, float, float]:
    """Weka ``Evaluation.crossValidateModel(NaiveBayes, data, 2, new Random(seed))``: (AUC, ErrRate, Kappa).

    ``columns``: the non-target attributes in order, each ``("nominal", int codes (-1 missing), n_levels)``
    or ``("numeric", float values (NaN missing), None)``. ``ycodes``: class index per row, -1 if missing.
    """
    N = len(ycodes)
    K = n_classes
    rng = JavaRandom(seed)
    order = stratify(randomize(np.arange(N), rng), ycodes)
    size0 = N // 2 + N % 2
    folds = [(order[size0:], order[:size0]), (order[:size0], order[size0:])]
    actual, scores = [], []
    for train, test in folds:
        train = randomize(train, rng)  # trainCV(numFolds, fold, random) shuffles the training part
        probs = _fit_predict(columns, ycodes, K, train, test)
        lab = ycodes[test] >= 0
        actual.append(ycodes[test][lab])
        scores.append(probs[:, lab].T)
    actual = np.concatenate(actual)
    probs = np.concatenate(scores)
    W = len(actual)
    if W == 0:
        return float("nan"), float("nan"), float("nan")
    best = probs.argmax(axis=1)
    pred = np.where(probs[np.arange(W), best] > 0, best, -1)
    classified = pred >= 0
    incorrect = int((classified & (pred != actual)).sum())
    err = incorrect / float(W)
    conf = np.bincount(actual[classified] * K + pred[classified], minlength=K * K).reshape(K, K)
    rows, cols = conf.sum(axis=1), conf.sum(axis=0)
    total = float(conf.sum())
    chance = float(sum(int(a) * int(b) for a, b in zip(rows, cols))) / (total * total) if total else float("nan")
    correct = float(np.trace(conf)) / total if total else float("nan")
    kappa = (correct - chance) / (1 - chance) if chance < 1 else 1.0
    auc_total = 0.0
    for c in range(K):
        if rows[c] > 0:
            pos = actual == c
            tp, tn = float(pos.sum()), float(W - pos.sum())
            denom = tn * tp
            auc_c = _mann_whitney_u(probs[:, c], pos) / denom if denom else float("nan")
            auc_total += auc_c * float(rows[c])
    auc = auc_total / float(rows.sum()) if rows.sum() else float("nan")
    return auc, err, kappa
