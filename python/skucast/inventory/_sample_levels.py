"""Order-up-to levels from sample paths: the empirical law of each row's window sums.

Written over an array namespace ``xp`` (numpy, or cupy for GPU samples) so that both devices run
the same formulas; the window sums and quantiles are skucast's kernels on either device.
Inputs arrive validated (see _policy._Demand and _gpu_inventory); start, lead and review are
int64 scalars or (n,) arrays of xp, lt_pmf a trimmed (n, Lmax + 1) float64 array or None.
"""
from __future__ import annotations

import math
import statistics

import numpy as np

from .. import _core
from ..aggregate import _window_sum_pair, _window_sum_pair_in_range
from ..quantiles import quantiles


def smallest_int(lo, hi, ok, xp=np):
    """Per-row smallest integer x in (lo, hi] with ok(x) True; ok is monotone and ok(hi) holds."""
    lo = lo.astype(xp.int64).copy()
    hi = hi.astype(xp.int64).copy()
    while True:
        active = hi - lo > 1
        if not bool(active.any()):
            return hi
        mid = lo + (hi - lo) // 2
        good = ok(mid)
        hi = xp.where(active & good, mid, hi)
        lo = xp.where(active & ~good, mid, lo)


def _erfc(x, xp):
    if xp is np:
        return np.array([math.erfc(t) for t in x.ravel()]).reshape(x.shape)
    from cupyx.scipy.special import erfc
    return erfc(x)


def normal_shortage(S, m, v, xp=np):
    """E[(D - S)^+] for D ~ Normal(m, v) (the normal loss function), per row."""
    sd = xp.sqrt(v)
    with np.errstate(divide="ignore", invalid="ignore"):
        x = (S - m) / sd
        pdf = xp.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)
        sf = 0.5 * _erfc(x / math.sqrt(2.0), xp)
        out = sd * (pdf - x * sf)
    return xp.where(v > 0, out, xp.maximum(m - S, 0))


def normal_fill(mL, vL, mLR, vLR, periodic, budget, xp=np):
    """Smallest S >= 0 meeting the fill-rate budget under normal lead-time (+ review) demand."""
    def f(S):
        e = normal_shortage(S.astype(xp.float64), mLR, vLR, xp)
        return xp.where(periodic, e - normal_shortage(S.astype(xp.float64), mL, vL, xp), e)
    hi = xp.ceil(mLR + 40 * xp.sqrt(vLR) + 1).astype(xp.int64)
    return xp.maximum(smallest_int(xp.full(mLR.shape, -1, xp.int64), hi, lambda S: f(S) <= budget, xp), 0)


class _SortedRows:
    """One component's window sums (n, k), each row sorted, with prefix sums: the empirical
    loss function at a per-row S by a binary search per row (log2 k steps over n rows) instead
    of a pass over all n x k values per step of the fill-rate search. For whole-number sums
    (integer paths) the loss is the exact integer total over k, rounded once, as a mean of the
    shortfalls would give it."""

    def __init__(self, d, xp):
        self.xp = xp
        self.n, self.k = d.shape
        self.sorted = xp.sort(d, axis=1)
        self.prefix = xp.concatenate([xp.zeros((self.n, 1)), xp.cumsum(self.sorted, axis=1)], axis=1)
        self.rows = xp.arange(self.n)

    def count_le(self, S):
        """Per row: how many values are <= S."""
        xp = self.xp
        lo, hi = xp.zeros(self.n, xp.int64), xp.full(self.n, self.k, xp.int64)  # the count lies in [lo, hi]
        for _ in range(int(self.k).bit_length()):
            mid = (lo + hi) // 2
            le = self.sorted[self.rows, xp.minimum(mid, self.k - 1)] <= S
            open_ = lo < hi
            lo = xp.where(open_ & le, mid + 1, lo)
            hi = xp.where(open_ & ~le, mid, hi)
        return lo

    def loss(self, S):
        """E[(D - S)^+] per row (S: int64): on host arrays by the C++ kernel, the same operations."""
        if self.xp is np:
            return _core.inv_sorted_rows_loss(self.sorted, self.prefix, np.ascontiguousarray(S, np.int64))
        c = self.count_le(S)
        above = self.prefix[:, self.k] - self.prefix[self.rows, c]
        # S (k - c) in float64: exact below 2**53, one rounding above (an int64 product could wrap)
        return (above - S.astype(self.xp.float64) * (self.k - c)) / self.k


def levels(x, start, lead, review, lt_pmf, q: float, tgt: int, meth: int, xp=np, value_range=None):
    """(S, s, mean protection-interval demand) from samples x (n, num_samples, horizon).
    value_range: (low, high, raise_bad): x's values are checked in the first window pass (host
    arrays), raise_bad() naming the first one outside [low, high] or not finite."""
    n, k = x.shape[0], x.shape[1]
    if n == 0:
        e = xp.zeros(0, xp.int64)
        return e, e.copy(), xp.zeros(0)
    def sums(length, length_r):  # windows of length and length_r days, one pass over x
        nonlocal value_range  # checked in the first pass only
        pair = None
        if value_range is not None:
            low, high, raise_bad = value_range
            value_range = None
            pair = _window_sum_pair_in_range(x, start, length, length_r, low, high)
            if pair is None:
                # the masks decide, in the array's dtype (a float a rounding above the bound
                # compares equal to it there, and passes, as it always has)
                raise_bad()
        if pair is None:
            pair = _window_sum_pair(x, start, length, length_r)
        return pair[0].astype(xp.float64), pair[1].astype(xp.float64)

    if lt_pmf is None:
        d, d_r = sums(lead, lead + review)
        comps_l, comps_lr = [(xp.ones((n,)), d)], [(xp.ones((n,)), d_r)]
        el = xp.broadcast_to(xp.asarray(lead), (n,)).astype(xp.float64)
    else:
        comps_l, comps_lr = [], []
        for l in range(lt_pmf.shape[1]):
            w = lt_pmf[:, l]
            if not bool(w.any()):
                continue
            d, d_r = sums(l, l + review)
            comps_l.append((w, d))
            comps_lr.append((w, d_r))
        el = lt_pmf @ xp.arange(lt_pmf.shape[1], dtype=xp.float64)
    review = xp.broadcast_to(xp.asarray(review), (n,))

    def mix_mean(comps):
        return sum(w * d.mean(axis=1) for w, d in comps)

    mean_l, mean_lr = mix_mean(comps_l), mix_mean(comps_lr)
    if tgt == 1:
        per_day = xp.where(el > 0, mean_l / xp.where(el > 0, el, 1.0), 0.0)
        budget = (1.0 - q) * xp.where(review > 0, mean_lr - mean_l, per_day)
    if meth == 0:  # normal on the window sums
        z = statistics.NormalDist().inv_cdf(q)

        def mix_var(comps, m):
            ddof = 1 if k > 1 else 0
            return xp.maximum(sum(w * (d.var(axis=1, ddof=ddof) + d.mean(axis=1) ** 2) for w, d in comps) - m * m, 0)

        var_l, var_lr = mix_var(comps_l, mean_l), mix_var(comps_lr, mean_lr)
        if tgt == 0:
            S = xp.maximum(xp.ceil(mean_lr + z * xp.sqrt(var_lr)), 0).astype(xp.int64)
            s = xp.maximum(xp.ceil(mean_l + z * xp.sqrt(var_l)), 0).astype(xp.int64)
            return S, s, mean_lr
        return (normal_fill(mean_l, var_l, mean_lr, var_lr, review > 0, budget, xp),
                normal_fill(0 * mean_l, 0 * var_l, mean_l, var_l, xp.zeros(n, bool), budget, xp), mean_lr)
    if lt_pmf is None and tgt == 0:
        S = xp.ceil(quantiles(comps_lr[0][1], q, axis=1, method="inverted_cdf")).astype(xp.int64)
        s = xp.ceil(quantiles(comps_l[0][1], q, axis=1, method="inverted_cdf")).astype(xp.int64)
        return xp.maximum(S, 0), xp.maximum(s, 0), mean_lr

    def top(comps):
        return xp.ceil(xp.stack([d.max(axis=1) for _, d in comps]).max(axis=0)).astype(xp.int64)

    top_lr, top_l = top(comps_lr), top(comps_l)
    minus1 = xp.full(n, -1, xp.int64)
    if tgt == 0:  # a mixture's quantile: one comparison pass per step costs less than sorting each part
        def cdf(comps, S):
            return sum(w * (d <= S[:, None]).mean(axis=1) for w, d in comps)
        # (1 - 1e-12): the mixture weights are floats summing to 1 within rounding
        S = smallest_int(minus1, top_lr, lambda S: cdf(comps_lr, S) >= q * (1 - 1e-12), xp)
        s = smallest_int(minus1, top_l, lambda S: cdf(comps_l, S) >= q * (1 - 1e-12), xp)
        return xp.maximum(S, 0), xp.maximum(s, 0), mean_lr

    comps_lr = [(w, _SortedRows(d, xp)) for w, d in comps_lr]
    comps_l = [(w, _SortedRows(d, xp)) for w, d in comps_l]

    def loss(comps, S):
        return sum(w * d.loss(S) for w, d in comps)

    periodic = review > 0
    tol = 1e-12 * xp.maximum(mean_lr, 1)
    S = smallest_int(minus1, xp.maximum(top_lr, 0),
                     lambda S: xp.where(periodic, loss(comps_lr, S) - loss(comps_l, S), loss(comps_lr, S))
                     <= budget + tol, xp)
    s = smallest_int(minus1, xp.maximum(top_l, 0), lambda S: loss(comps_l, S) <= budget + tol, xp)
    return xp.maximum(S, 0), xp.maximum(s, 0), mean_lr
