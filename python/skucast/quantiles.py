"""Batched quantiles of sample paths along one axis, equal to ``numpy.quantile``."""
from __future__ import annotations

import numpy as np

from . import _checks, _core, _gpu

_METHODS = {"inverted_cdf": False, "linear": True}


def _as_samples(samples) -> np.ndarray:
    arr = _checks.as_numeric(samples, "samples")
    if arr.dtype in (np.float32, np.float64, np.int32, np.int64):
        return arr
    if arr.dtype.kind == "f":
        return arr.astype(np.float32 if arr.dtype.itemsize < 4 else np.float64)
    return _checks.as_int64(arr, "samples")


def quantiles(samples, levels, axis=-1, method="inverted_cdf"):
    """Quantiles of ``samples`` along ``axis`` at each of ``levels``, levels axis last.

    Equal to ``np.moveaxis(np.quantile(samples, levels, axis=axis, method=method), 0, -1)``
    for ``method`` "inverted_cdf" (an actual sample value: integer order-up-to levels from
    count paths) or "linear" (numpy's default), values, dtype and scalar-ness alike: linear
    follows numpy's types (float64 for float64 levels; the weight in float32 for float32
    levels; float32 for a Python float level on float32 samples; integer levels take an order
    statistic). Inputs of any integer or float dtype (int32 differences are taken in int64, where
    numpy's wrap around; uint64 up to 2**63-1), any layout; a scalar level gives no levels axis.

    >>> paths = skucast.nbinom.sample(mu=[3.0, 40.0], alpha=0.4, num_samples=500, seed=1)
    >>> skucast.quantiles(paths, [0.5, 0.9, 0.98])          # shape (2, 3)
    """
    if method not in _METHODS:
        raise ValueError(f"method: must be one of {sorted(_METHODS)}, got {method!r}")
    if _gpu.any_gpu(samples, levels):
        return _quantiles_gpu(samples, levels, axis, method)
    return _quantiles_cpu(samples, levels, axis, method)


def _in_sample_dtype(out, given, method):
    """inverted_cdf picks sample values: in the samples' own dtype, as numpy (the kernels take
    int8..uint32 and uint64 as int64 and float16 as float32, which hold them exactly)."""
    if method == "inverted_cdf" and out.dtype != given:
        return out.astype(given)[()]
    return out


def _quantiles_cpu(samples, levels, axis, method):
    raw = _checks.as_numeric(samples, "samples")
    given = raw.dtype  # numpy's types follow the samples' own dtype
    arr = _as_samples(raw)
    axis, n = _sample_axis(arr.shape, axis)
    lv_in = _checked_levels(levels)
    if _in_numpy_types(method, given, levels, lv_in):
        def select(lv, m):  # order statistics in the samples' dtype; linear ones in the kernel's
            return _in_sample_dtype(quantiles(arr, lv, axis=axis, method=m), given, m)
        return _numpy_types(select, n, given, method, levels, lv_in)
    lv = np.ascontiguousarray(lv_in.astype(np.float64).reshape(-1))

    outer = int(np.prod(arr.shape[:axis], dtype=np.int64))
    inner = int(np.prod(arr.shape[axis + 1:], dtype=np.int64))
    data = np.ascontiguousarray(arr)  # a copy only for non-contiguous input
    out_shape = arr.shape[:axis] + arr.shape[axis + 1:]
    if outer * inner == 0:
        out = np.empty(out_shape + (lv.size,), dtype=np.float64 if _METHODS[method] else arr.dtype)
    else:
        out, bad = _core.quantiles(data, outer, n, inner, lv, _METHODS[method])
        if bad is not None:
            index = tuple(int(i) for i in np.unravel_index(bad[0], arr.shape))
            raise _checks.bad_value("samples", "must not be NaN", index, arr[index])
        out = out.reshape(out_shape + (lv.size,))
    return _in_sample_dtype(_as_levels(out, lv_in), given, method)


def _sample_axis(shape, axis):
    """The sample axis, normalized, and its length (which must not be 0)."""
    if len(shape) == 0:
        raise ValueError("samples: need at least one dimension (the sample axis)")
    axis = _checks.check_int(axis, "axis", -len(shape), len(shape) - 1) % len(shape)
    if shape[axis] == 0:
        raise ValueError(f"samples: the sample axis (axis={axis}) is empty")
    return axis, shape[axis]


def _checked_levels(levels) -> np.ndarray:
    lv_in = _checks.as_numeric(levels, "levels")
    if lv_in.ndim > 1:
        raise ValueError(f"levels: must be a scalar or 1-D, got shape {lv_in.shape}")
    if lv_in.size == 0:
        raise ValueError("levels: is empty")
    _checks.raise_first_bad({"levels": lv_in}, [("levels", ~((lv_in >= 0) & (lv_in <= 1)), "must be in [0, 1]")])
    return lv_in


def _in_numpy_types(method, dtype, levels, lv_in) -> bool:
    """Levels numpy computes with in other types than float64 (see _numpy_types)."""
    if _METHODS[method]:
        return not _kernel_interpolates_like_numpy(dtype, levels, lv_in)
    return lv_in.dtype.kind == "f" and lv_in.dtype != np.float64


def _quantiles_gpu(samples, levels, axis, method):
    """GPU arrays: the kernels on the device. Levels that numpy takes in other types than float64
    get the CPU path's rank and weight arithmetic on the host, around order statistics selected
    on the device and copied back, so both devices give the same values and dtypes."""
    host_levels = _gpu.to_host(levels) if _gpu.is_gpu_array(levels) else levels
    lv_in = _checks.as_numeric(host_levels, "levels")
    dtype = np.dtype(_gpu.dtype_of(samples))  # numpy's types follow the samples' own dtype
    if dtype.kind not in "iuf":
        dtype = _as_samples(np.empty(0, dtype)).dtype
    ref = samples if _gpu.is_gpu_array(samples) else levels
    if not _in_numpy_types(method, dtype, host_levels, lv_in):
        out = _gpu.quantiles(samples, levels, axis, method, _METHODS[method])
        if method == "inverted_cdf" and np.dtype(_gpu.dtype_of(out)) != dtype:  # narrow dtypes: cast on the host
            return _gpu.like(ref, np.asarray(_in_sample_dtype(_gpu.to_host(out), dtype, method)))
        return out
    shape = tuple(samples.shape) if hasattr(samples, "shape") else np.shape(samples)
    axis, n = _sample_axis(shape, axis)
    lv_in = _checked_levels(host_levels)

    def select(lv, m):  # order statistics in the samples' dtype; linear ones in the kernel's
        return _in_sample_dtype(_gpu.to_host(_gpu.quantiles(samples, lv, axis, m, _METHODS[m])), dtype, m)

    out = _numpy_types(select, n, dtype, method, host_levels, lv_in)
    return _gpu.like(ref, np.asarray(out))


def _numpy_types(select, n, dtype, method, levels, lv_in):
    if _METHODS[method]:
        return _linear_in_numpy_types(select, n, dtype, lv_in, type(levels) in (int, float))
    return _inverted_cdf_in_numpy_types(select, n, dtype, lv_in)


def _kernel_interpolates_like_numpy(dtype, levels, lv_in) -> bool:
    """The kernel's linear method interpolates in float64 from float64 weights, as numpy does
    for float64 levels, except that a Python float level is "weak" in numpy (the weight takes
    the samples' float32 or float16 type)."""
    if lv_in.dtype != np.float64 or dtype == np.float16:  # numpy rounds float16 differences to float16
        return False
    return not (type(levels) is float and dtype.kind == "f" and dtype != np.float64)


def _linear_in_numpy_types(select, n, dtype, q, weak):
    """numpy's linear method where it computes in other types than float64 (float32 levels;
    a Python float level with float32 samples; integer levels, which take an order statistic):
    the virtual index, neighbours, weight and lerp in numpy's own operations, on the neighbours
    the kernel selects (as inverted_cdf order statistics), so every rounding is numpy's.
    select(levels, method): the kernel's quantiles of the samples (a host array)."""
    with np.errstate(over="ignore", invalid="ignore"):
        vi = (n - 1) * q  # numpy's dtype rules: float32 stays float32, integers stay integers
    if not np.isfinite(vi).all():  # float16 levels past 65504 samples: numpy's index overflows
        return _in_float64(select, q, "linear", np.result_type(dtype, q.dtype))
    if vi.dtype.kind in "iub":
        return _as_levels(_order_statistics(select, n, vi), q)
    prev = np.floor(vi).astype(np.int64)
    above = vi >= n - 1  # numpy: both neighbours are the last value, weight vi + 1
    prev = np.where(above, -1, prev)
    gamma = np.asarray(vi - prev, dtype=vi.dtype)
    nxt = np.where(above, n - 1, prev + 1)
    values = _order_statistics(select, n, np.concatenate([np.where(above, n - 1, prev).ravel(), nxt.ravel()]))
    a, b = values[..., :prev.size], values[..., prev.size:]
    t = float(gamma) if weak else gamma.reshape(-1)
    if values.dtype.kind == "i" and values.dtype.itemsize < 8:
        # signed differences exactly, as the kernel takes them (numpy's wrap around): int32's in
        # int64; int8's and int16's in the type numpy multiplies them in (it holds them exactly)
        diff = b.astype(np.int64) - a.astype(np.int64)
        if values.dtype.itemsize < 4:
            diff = diff.astype(np.result_type(values.dtype, t))
    else:
        diff = b - a
    out = np.add(a, diff * t)
    np.subtract(b, diff * (1 - t), out=out, where=t >= 0.5, casting="unsafe", dtype=out.dtype)
    return _as_levels(out, q)


def _inverted_cdf_in_numpy_types(select, n, dtype, q):
    """numpy's inverted_cdf with float32 / float16 levels: its index n q - 1 is rounded in the
    levels' type (10 * float32(0.1) is exactly 1: the lower sample), so the ranks are taken
    with numpy's own operations and the kernel selects those order statistics."""
    with np.errstate(over="ignore", invalid="ignore"):
        index = n * q - 1
    if not np.isfinite(index).all():  # float16 levels past 65504 samples: numpy's index overflows
        return _in_float64(select, q, "inverted_cdf", dtype)
    prev = np.floor(index)
    ranks = np.maximum(np.where(index - prev == 0, prev, prev + 1), 0).astype(np.int64)
    return _as_levels(_order_statistics(select, n, ranks), q)


def _in_float64(select, q, method, dtype):
    """Levels whose index overflows their own type (numpy's answer is then meaningless): the
    float64 computation, in the dtype numpy would give."""
    out = _as_levels(select(q.astype(np.float64).reshape(-1), method), q)
    return np.asarray(out).astype(dtype, copy=False)[()]


def _order_statistics(select, n, ranks):
    """Values of the 0-based order statistics ``ranks`` (flattened, in their order), levels
    axis last: the kernel's inverted_cdf at (r + 1/2) / n is rank r, each distinct rank
    selected once."""
    unique, pos = np.unique(np.asarray(ranks).reshape(-1), return_inverse=True)
    return select((unique + 0.5) / n, "inverted_cdf")[..., pos]


def _as_levels(out, q):
    """numpy's result form: no levels axis (and a numpy scalar for 1-d samples) for a scalar q."""
    return out[..., 0][()] if q.ndim == 0 else out
