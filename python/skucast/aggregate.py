"""Sums over sample paths: lead-time windows per series and hierarchy groups."""
from __future__ import annotations

import numpy as np

from . import _checks, _core, _gpu
from .quantiles import _as_samples


def window_sum(samples, start, length, axis=-1):
    """Per-series sum of sample paths over the horizon window [start, start + length).

    ``samples`` has the series on axis 0 and the horizon on ``axis`` (e.g. (n_series,
    n_samples, horizon)); ``start`` and ``length`` are integers or arrays with one value per
    series. The result drops the horizon axis: the lead-time (or lead time + review period)
    demand distribution per series. Integers sum to int64, float32 to float32 (accumulated in
    float64), float64 to float64.

    >>> paths = skucast.nbinom.sample(mu=np.full((3, 28), 2.0), alpha=0.3, num_samples=100, seed=0)
    >>> skucast.window_sum(np.moveaxis(paths, -1, 1), start=0, length=[3, 7, 10])  # (3, 100)
    """
    if _gpu.any_gpu(samples, start, length):
        return _gpu.window_sum(samples, start, length, axis)
    w = _Windows(samples, start, {"length": length}, axis)
    ln = w.lengths["length"]
    out, finite = _core.window_sum(w.data, w.series, w.m1, w.horizon, w.m2, w.start, ln)
    if not finite:
        w.raise_bad(ln)
    return w.shaped(out)


def _window_sum_pair(samples, start, length, length2, axis=-1):
    """window_sum over two lengths from the same start (the lead time and the lead time + review
    period), read in one pass over the samples; each result equals its own window_sum call."""
    if _gpu.any_gpu(samples, start, length, length2):
        return window_sum(samples, start, length, axis), window_sum(samples, start, length2, axis)
    return _window_sum_pair_in_range(samples, start, length, length2, axis=axis)


def _window_sum_pair_in_range(samples, start, length, length2, low=None, high=None, axis=-1):
    """_window_sum_pair, and with low / high the check that every value of samples (not only
    the windows') is finite and within [low, high], taken in the same pass: None when one is not
    (the caller's masks name it)."""
    check = low is not None or high is not None
    w = _Windows(samples, start, {"length": length, "length2": length2}, axis)
    ln, ln2 = w.lengths["length"], w.lengths["length2"]
    out, out2, finite, rng = _core.window_sum_pair(w.data, w.series, w.m1, w.horizon, w.m2, w.start, ln, ln2, check)
    if check and not _checks.range_within(rng, low, high):
        return None
    if not finite:  # the sums one at a time: each raises as window_sum does (or is exact after all)
        return window_sum(samples, start, length, axis), window_sum(samples, start, length2, axis)
    return w.shaped(out), w.shaped(out2)


class _Windows:
    """window_sum's checked arguments: the samples as a contiguous array with the series on axis
    0 and the horizon on ``axis``, and one start and length(s) per series."""

    def __init__(self, samples, start, lengths: dict, axis):
        arr = _as_samples(samples)
        if arr.ndim < 2:
            raise ValueError(f"samples: need (n_series, ..., horizon), got shape {arr.shape}")
        axis = _checks.check_int(axis, "axis", -arr.ndim, arr.ndim - 1) % arr.ndim
        if axis == 0:
            raise ValueError("axis: axis 0 is the series axis; the horizon must be another axis")
        series, horizon = arr.shape[0], arr.shape[axis]
        values = {}
        for name, value in (("start", start), *lengths.items()):
            v = _checks.as_int64(value, name)
            if v.ndim > 1 or (v.ndim == 1 and v.shape[0] != series):
                raise ValueError(f"{name}: expected a scalar or one value per series ({series}), got shape {v.shape}")
            values[name] = np.ascontiguousarray(np.broadcast_to(v, (series,)))
        s = values["start"]
        # start + length compared as horizon - start (both in range there): the sum could overflow int64
        _checks.raise_first_bad(values, [
            ("start", s < 0, "must be >= 0"),
            *((name, values[name] < 0, "must be >= 0") for name in lengths),
            ("start", s > horizon, f"must be <= the horizon ({horizon})"),
            *((name, values[name] > horizon - np.minimum(s, horizon), f"start + length must be <= the horizon ({horizon})")
              for name in lengths),
        ])
        self.arr, self.axis, self.series, self.horizon, self.start = arr, axis, series, horizon, s
        self.lengths = {name: values[name] for name in lengths}
        self.m1 = int(np.prod(arr.shape[1:axis], dtype=np.int64))
        self.m2 = int(np.prod(arr.shape[axis + 1:], dtype=np.int64))
        self.data = np.ascontiguousarray(arr)

    def shaped(self, out):
        return out.reshape(self.arr.shape[:self.axis] + self.arr.shape[self.axis + 1:])

    def raise_bad(self, ln):
        """A window's sums were not all finite, or an int64 one might have wrapped: raises for the
        first bad value in a window (or the first sum outside int64)."""
        arr, data, axis, s = self.arr, self.data, self.axis, self.start
        if data.dtype == np.int64:  # values so large that a sum might have wrapped
            args = (self.series, self.m1, self.horizon, self.m2, s, ln)
            _raise_wrapped(lambda d: _core.window_sum(d, *args)[0], data,
                           arr.shape[:axis] + arr.shape[axis + 1:], "window")
            return
        days = np.arange(self.horizon)
        in_window = (days >= s[:, None]) & (days < (s + ln)[:, None])  # (series, horizon)
        shape = [self.series] + [1] * (arr.ndim - 1)
        shape[axis] = self.horizon
        _raise_not_finite(arr, ~np.isfinite(arr) & in_window.reshape(shape))


def _raise_wrapped(sums_of, data, out_shape, what):
    """int64 values so large that a sum might pass 2**63: the same sums again, exactly, as a high
    and a low half (v >> 32 and v & (2**32 - 1): neither wraps below 2**31 values per sum) through
    the same kernel; raises for the first sum (C order) outside int64."""
    hi = sums_of(data >> 32)
    lo = sums_of(data & 0xFFFFFFFF)
    hi = hi + (lo >> 32)  # the sum is hi * 2**32 + lo with 0 <= lo < 2**32: in int64 iff
    lo = lo & 0xFFFFFFFF  # -2**31 <= hi < 2**31
    bad = ((hi < -2**31) | (hi >= 2**31)).ravel()
    if bad.any():
        i = int(np.argmax(bad))
        total = int(hi.ravel()[i]) * 2**32 + int(lo.ravel()[i])
        index = tuple(int(k) for k in np.unravel_index(i, out_shape))
        raise ValueError(f"samples: the {what} sum at index {index} is {total}, past int64 (values too large "
                         "to add up)")


def _raise_not_finite(arr, bad):
    """A sum came out NaN or inf: name the first NaN/inf value it took, else the overflow."""
    _checks.raise_first_bad({"samples": arr}, [("samples", bad, "must be finite (NaN/inf)")])
    raise ValueError(f"samples: a sum overflows {arr.dtype} (values too large to add up)")


def group_sum(samples, group_ids, num_groups):
    """Sum the sample paths of series into groups (store, department, region).

    ``samples``: (n_series, ...); ``group_ids``: one integer in [0, num_groups) per series.
    Returns (num_groups, ...) where group g holds the sum over its members of each sample
    path, so quantiles of the result are coherent hierarchical totals. Empty groups are 0.
    Sums in series order; integers sum to int64, float32 to float32 (accumulated in float64,
    rounded once), float64 to float64.
    """
    if _gpu.any_gpu(samples, group_ids):
        return _gpu.group_sum(samples, group_ids, num_groups)
    arr = _as_samples(samples)
    if arr.ndim < 1:
        raise ValueError("samples: need at least one dimension (the series axis)")
    num_groups = _checks.check_int(num_groups, "num_groups", 0)
    ids = _checks.as_int64(group_ids, "group_ids")
    if ids.shape != (arr.shape[0],):
        raise ValueError(f"group_ids: expected one id per series, shape ({arr.shape[0]},), got {ids.shape}")
    ids = np.ascontiguousarray(ids)
    _checks.raise_first_bad({"group_ids": ids}, [
        ("group_ids", (ids < 0) | (ids >= num_groups), f"must be in [0, num_groups={num_groups})"),
    ])
    cols = int(np.prod(arr.shape[1:], dtype=np.int64))
    data = np.ascontiguousarray(arr)
    out, safe = _core.group_sum(data, arr.shape[0], cols, ids, num_groups)
    if not safe:  # int64 values so large that a sum might have wrapped
        _raise_wrapped(lambda d: _core.group_sum(d, arr.shape[0], cols, ids, num_groups)[0], data,
                       (num_groups,) + arr.shape[1:], "group")
    if out.dtype.kind == "f" and not np.isfinite(out).all():
        _raise_not_finite(arr, ~np.isfinite(arr))
    return out.reshape((num_groups,) + arr.shape[1:])
