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
    count paths) or "linear" (numpy's default, float64). Inputs float32/float64/int32/int64,
    any layout; a scalar level gives no levels axis.

    >>> paths = skucast.nbinom.sample(mu=[3.0, 40.0], alpha=0.4, num_samples=500, seed=1)
    >>> skucast.quantiles(paths, [0.5, 0.9, 0.98])          # shape (2, 3)
    """
    if method not in _METHODS:
        raise ValueError(f"method: must be one of {sorted(_METHODS)}, got {method!r}")
    if _gpu.any_gpu(samples, levels):
        return _gpu.quantiles(samples, levels, axis, method, _METHODS[method])
    arr = _as_samples(samples)
    if arr.ndim == 0:
        raise ValueError("samples: need at least one dimension (the sample axis)")
    axis = _checks.check_int(axis, "axis", -arr.ndim, arr.ndim - 1) % arr.ndim
    n = arr.shape[axis]
    if n == 0:
        raise ValueError(f"samples: the sample axis (axis={axis}) is empty")
    lv_in = _checks.as_numeric(levels, "levels")
    scalar_level = lv_in.ndim == 0
    if lv_in.ndim > 1:
        raise ValueError(f"levels: must be a scalar or 1-D, got shape {lv_in.shape}")
    if lv_in.size == 0:
        raise ValueError("levels: is empty")
    _checks.raise_first_bad({"levels": lv_in}, [("levels", ~((lv_in >= 0) & (lv_in <= 1)), "must be in [0, 1]")])
    # numpy interpolates in float32 when both the samples and the levels are float32
    float32_linear = _METHODS[method] and arr.dtype == np.float32 and (scalar_level or lv_in.dtype == np.float32)
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
    if float32_linear:
        out = out.astype(np.float32)
    if scalar_level:
        out = out[..., 0]
        return out[()] if out.ndim == 0 else out
    return out
