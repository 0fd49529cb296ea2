"""GPU dispatch: the public functions hand GPU arrays (anything with ``__cuda_array_interface__``:
cupy arrays, torch CUDA tensors, numba device arrays) to the CUDA module ``_cuda``.

Pointers, shapes, strides, dtypes and streams are read from ``__cuda_array_interface__``;
broadcasting is done with zero strides, so GPU inputs are never copied to the host. Copies
that do happen are visible here: host arguments mixed with GPU ones (scalars, small index
arrays) are uploaded, dtypes are converted like the CPU path does (e.g. int mu -> float64),
quantiles sort a scratch copy, and non-contiguous samples are made contiguous. Outputs are
allocated by the input's own library (cupy.empty / torch.empty on the input's device) and
the kernels run on that library's current stream, after any stream the inputs were exported
with. Value checks run on the device; only the first bad index comes back to raise the
same ValueError as on the CPU.
"""
from __future__ import annotations

import numpy as np

from . import _checks, _device

_CODES = {np.dtype(np.float32): 0, np.dtype(np.float64): 1, np.dtype(np.int32): 2, np.dtype(np.int64): 3}
_F32, _F64, _I64 = np.dtype(np.float32), np.dtype(np.float64), np.dtype(np.int64)


# ---- what counts as a GPU array ---------------------------------------------------------------

def _is_torch(x) -> bool:
    return type(x).__module__.startswith("torch") and hasattr(x, "is_cuda")


def is_gpu_array(x) -> bool:
    """True for objects exposing ``__cuda_array_interface__`` (cupy, torch CUDA tensors, numba)."""
    if x is None:
        return False
    if _is_torch(x):
        return bool(x.is_cuda)
    try:
        return hasattr(x, "__cuda_array_interface__")
    except Exception:  # a property that refuses (e.g. a host array type pretending)
        return False


def any_gpu(*args) -> bool:
    return any(is_gpu_array(a) for a in args)


def dtype_of(x) -> np.dtype:
    """The element type of a GPU array, or of a host value as the CPU path reads it."""
    return _dtype(x) if is_gpu_array(x) else _checks.as_numeric(x, "samples").dtype


def to_host(x) -> np.ndarray:
    return _backend(x).to_host(x)


def like(ref, host: np.ndarray):
    """A host result as an array of ref's library, on ref's device."""
    return _backend(ref).asarray(host)


def _module():
    mod = _device.cuda_module()
    if mod is None:
        raise RuntimeError("skucast was built without CUDA: GPU arrays need a build with SKUCAST_CUDA=ON "
                           "(nvcc at build time); pass numpy arrays to use the CPU kernels")
    return mod


def _cai(x) -> dict:
    if _is_torch(x):
        x = x.detach()
    return x.__cuda_array_interface__


def _dtype(x) -> np.dtype:
    return np.dtype(_cai(x)["typestr"])


# ---- one adapter per array library: allocation, conversion, the current stream ------------------

class _Cupy:
    def __init__(self, ref):
        import cupy

        self.xp = cupy
        self.device = cupy.asarray(ref).device if not isinstance(ref, cupy.ndarray) else ref.device

    def asarray(self, x):
        with self.device:
            return self.xp.asarray(x)  # zero-copy for GPU arrays, upload for host values

    def empty(self, shape, dtype):
        with self.device:
            return self.xp.empty(shape, dtype=dtype)

    def astype(self, x, dtype):
        return x if _dtype(x) == dtype else x.astype(dtype)

    def contiguous(self, x):
        with self.device:
            return self.xp.ascontiguousarray(x)

    def broadcast_contiguous(self, x, shape):
        with self.device:
            return self.xp.ascontiguousarray(self.xp.broadcast_to(x, shape))

    def to_host(self, x):
        return self.xp.asnumpy(x)

    def where(self, cond, a, b):
        return self.xp.where(cond, a, b)

    def all_whole_int64(self, x) -> bool:
        xp = self.xp
        with self.device:
            return bool(xp.all(xp.isfinite(x) & (x == xp.floor(x)) & (x >= -2.0**63) & (x < 2.0**63)))

    def stream(self) -> int:
        with self.device:
            return int(self.xp.cuda.get_current_stream().ptr)


class _Torch:
    _MAP = None

    def __init__(self, ref):
        import torch

        self.torch = torch
        self.device = ref.device
        if _Torch._MAP is None:
            _Torch._MAP = {_F32: torch.float32, _F64: torch.float64, np.dtype(np.int32): torch.int32, _I64: torch.int64}

    def asarray(self, x):
        if _is_torch(x):
            return x.detach().to(self.device)  # no copy when already there
        if is_gpu_array(x):
            return self.torch.as_tensor(x, device=self.device)
        return self.torch.as_tensor(np.asarray(x), device=self.device)

    def empty(self, shape, dtype):
        return self.torch.empty(tuple(shape), dtype=self._MAP[np.dtype(dtype)], device=self.device)

    def astype(self, x, dtype):
        return x if _dtype(x) == dtype else x.to(self._MAP[np.dtype(dtype)])

    def contiguous(self, x):
        return x.contiguous()

    def broadcast_contiguous(self, x, shape):
        return x.broadcast_to(tuple(shape)).contiguous()

    def to_host(self, x):
        return x.detach().cpu().numpy()

    def where(self, cond, a, b):
        t = next((v for v in (a, b) if _is_torch(v)), None)
        dtype = t.dtype if t is not None and t.is_floating_point() else self.torch.float64
        a, b = (v if _is_torch(v) else self.torch.as_tensor(v, dtype=dtype, device=self.device) for v in (a, b))
        return self.torch.where(cond, a, b)

    def all_whole_int64(self, x) -> bool:
        t = self.torch
        return bool(t.all(t.isfinite(x) & (x == t.floor(x)) & (x >= -2.0**63) & (x < 2.0**63)))

    def stream(self) -> int:
        return int(self.torch.cuda.current_stream(self.device).cuda_stream)


def _backend(*args):
    ref = next(a for a in args if is_gpu_array(a))
    if _is_torch(ref):
        return _Torch(ref)
    try:
        return _Cupy(ref)
    except ImportError:
        raise TypeError(f"GPU arrays of type {type(ref).__name__} need cupy installed (or pass cupy arrays / "
                        "torch CUDA tensors)") from None


class _Call:
    """The arguments of one call, moved to the device of the first GPU argument."""

    def __init__(self, *args):
        self.mod = _module()
        self.be = _backend(*args)
        self.producer_streams = []

    def device_array(self, x, name):
        if is_gpu_array(x):
            s = _cai(x).get("stream")
            if s is not None:
                self.producer_streams.append(int(s))
        else:
            x = _checks.as_numeric(x, name)  # the CPU path's TypeErrors for object/str/bool/...
        arr = self.be.asarray(x)
        kind = _dtype(arr).kind
        if kind in _checks._REJECTED_KINDS or kind not in "iuf":
            raise TypeError(f"{name}: expected real numbers, got an array of dtype {_dtype(arr)}")
        return arr

    def counts(self, x, name):
        arr = self.device_array(x, name)
        dt = _dtype(arr)
        if dt in _CODES:
            return arr
        return self.be.astype(arr, _F64 if dt.kind == "f" else _I64)

    def params(self, values: dict):
        arrays = {n: self.device_array(v, n) for n, v in values.items()}
        dtype = _F32 if all(_dtype(a) == _F32 for a in arrays.values()) else _F64
        return {n: self.be.astype(a, dtype) for n, a in arrays.items()}, dtype

    def int64(self, x, name):
        """int64 device array; whole-number floats are taken, as by the CPU path's as_int64."""
        arr = self.device_array(x, name)
        if _dtype(arr).kind == "f" and not self.be.all_whole_int64(arr):
            _checks.as_int64(self.be.to_host(arr), name)  # raises the CPU path's error
        return self.be.astype(arr, _I64)

    def stream(self) -> int:
        """The library's current stream, ordered after the streams the inputs were exported with."""
        s = self.be.stream()
        for p in set(self.producer_streams):
            if p != s:
                self.mod.stream_wait(s, p)
        return s


def _ptr(x) -> int:
    return int(_cai(x)["data"][0])


def _view(x, shape):
    """(pointer, element strides) of x broadcast to `shape` (0 strides on broadcast dims)."""
    cai = _cai(x)
    item = np.dtype(cai["typestr"]).itemsize
    xshape = tuple(cai["shape"])
    strides = cai.get("strides")
    if strides is None:  # C-contiguous
        strides, acc = [], item
        for e in reversed(xshape):
            strides.append(acc)
            acc *= max(e, 1)
        strides = tuple(reversed(strides))
    pad = len(shape) - len(xshape)
    out = []
    for d, extent in enumerate(shape):
        if d < pad or xshape[d - pad] == 1:
            out.append(0)
        else:
            out.append(strides[d - pad] // item)
    return int(cai["data"][0]), out


def _broadcast(arrays: dict) -> tuple:
    try:
        return tuple(np.broadcast_shapes(*(tuple(a.shape) for a in arrays.values())))
    except ValueError:
        shapes = ", ".join(f"{n} {tuple(a.shape)}" for n, a in arrays.items())
        raise ValueError(f"shape mismatch: {shapes} do not broadcast together") from None


def _item(x, index):
    v = x[index]
    return v.item() if hasattr(v, "item") else v


def _raise_nb(bad, shape, arrays: dict):
    from .nbinom import _ARGS

    flat, arg = bad
    name, rule = _ARGS[arg]
    original = arrays[name]
    index = _checks.own_index(flat, shape, tuple(original.shape))
    raise _checks.bad_value(name, rule, index, _item(original, index))


def _size(shape) -> int:
    return int(np.prod(shape, dtype=np.int64))


# ---- skucast.nbinom -----------------------------------------------------------------------------

def elementwise(func: int, y, mu, alpha):
    c = _Call(y, mu, alpha)
    yd = c.counts(y, "y")
    params, pdt = c.params({"mu": mu, "alpha": alpha})
    arrays = {"y": yd, **params}
    shape = _broadcast(arrays)
    out = c.be.empty(shape, pdt)
    if _size(shape):
        bad = c.mod.nb_elementwise(func, list(shape), *_view(yd, shape), _CODES[_dtype(yd)],
                                   *_view(params["mu"], shape), *_view(params["alpha"], shape), _CODES[pdt],
                                   _ptr(out), c.stream())
        if bad is not None:
            _raise_nb(bad, shape, arrays)
    return out


def ppf(q, mu, alpha):
    c = _Call(q, mu, alpha)
    params, pdt = c.params({"q": q, "mu": mu, "alpha": alpha})
    shape = _broadcast(params)
    out = c.be.empty(shape, _I64)
    if _size(shape):
        bad = c.mod.nb_ppf(list(shape), *_view(params["q"], shape), *_view(params["mu"], shape),
                           *_view(params["alpha"], shape), _CODES[pdt], _ptr(out), c.stream())
        if bad is not None:
            _raise_nb(bad, shape, params)
    return out


def nll(y, mu, alpha, axis=None, chunk=1 << 15):
    c = _Call(y, mu, alpha)
    yd = c.counts(y, "y")
    params, pdt = c.params({"mu": mu, "alpha": alpha})
    arrays = {"y": yd, **params}
    shape = _broadcast(arrays)
    views = [_view(a, shape) for a in (yd, params["mu"], params["alpha"])]

    def run(run_shape, strides, row_len, rows):
        out = c.be.empty((rows,), _F64)
        bad = c.mod.nb_nll_rows(list(run_shape), views[0][0], strides[0], _CODES[_dtype(yd)], views[1][0], strides[1],
                                views[2][0], strides[2], _CODES[pdt], row_len, _ptr(out), c.stream())
        return out, bad

    if axis is None:
        size = _size(shape)
        if size == 0:
            return 0.0
        partial, bad = run(shape, [v[1] for v in views], chunk, (size + chunk - 1) // chunk)
        if bad is not None:
            _raise_nb(bad, shape, arrays)
        return float(partial.sum())
    if not shape:
        raise ValueError(f"axis: {axis} is out of bounds for 0-dimensional input")
    axis = _checks.check_int(axis, "axis", -len(shape), len(shape) - 1) % len(shape)
    order = [d for d in range(len(shape)) if d != axis] + [axis]
    moved_shape = tuple(shape[d] for d in order)
    out_shape = moved_shape[:-1]
    row_len = shape[axis]
    if row_len == 0 or _size(out_shape) == 0:
        return _zeros(c, out_shape)
    moved_strides = [[v[1][d] for d in order] for v in views]
    rows, bad = run(moved_shape, moved_strides, row_len, _size(out_shape))
    if bad is not None:  # the rows ran in the moved order: name the first bad value in C order
        size = _size(shape)
        _, bad = run(shape, [v[1] for v in views], chunk, (size + chunk - 1) // chunk)
        _raise_nb(bad, shape, arrays)
    return rows.reshape(out_shape)


def _zeros(c, shape):
    return c.be.asarray(np.zeros(shape))


def sample(mu, alpha, num_samples, seed, keys=None, step=0):
    num_samples = _checks.check_int(num_samples, "num_samples", 1, 2**32 - 1)
    seed = _checks.check_int(seed, "seed", 0, 2**64 - 1)
    c = _Call(mu, alpha, keys, step)
    params, pdt = c.params({"mu": mu, "alpha": alpha})
    mu_d = params["mu"]
    shape = tuple(mu_d.shape)

    def view_in_mu_shape(name, arr):
        try:
            if np.broadcast_shapes(tuple(arr.shape), shape) != shape:
                raise ValueError
        except ValueError:
            raise ValueError(f"{name}: shape {tuple(arr.shape)} does not broadcast to mu's shape {shape}") from None
        return _view(arr, shape)

    alpha_v = view_in_mu_shape("alpha", params["alpha"])
    step_v = view_in_mu_shape("step", c.int64(step, "step"))
    keys_v = (0, [0] * len(shape)) if keys is None else view_in_mu_shape("keys", c.int64(keys, "keys"))
    out = c.be.empty(shape + (num_samples,), _I64)
    if _size(shape):
        bad = c.mod.nb_sample(list(shape), *_view(mu_d, shape), *alpha_v, _CODES[pdt], *keys_v, *step_v, num_samples,
                              seed, _ptr(out), c.stream())
        if bad is not None:
            _raise_nb(bad, shape, params)
    return out


# ---- skucast.quantiles, window_sum, group_sum ------------------------------------------------

def _samples(c, samples):
    arr = c.device_array(samples, "samples")
    dt = _dtype(arr)
    if dt in _CODES:
        return arr
    if dt.kind == "f":
        return c.be.astype(arr, _F32 if dt.itemsize < 4 else _F64)
    _checks.refuse_past_int64(dt, _size(arr.shape), lambda: c.be.to_host(arr.max()), "samples")
    return c.be.astype(arr, _I64)


def quantiles(samples, levels, axis=-1, method="inverted_cdf", linear=False):
    from .quantiles import _checked_levels, _sample_axis  # (the CPU path's checks; it imports this module)

    c = _Call(samples, levels)
    arr = _samples(c, samples)
    shape = tuple(arr.shape)
    axis, n = _sample_axis(shape, axis)
    host_levels = c.be.to_host(c.be.asarray(levels)) if is_gpu_array(levels) else levels
    lv_in = _checked_levels(host_levels)
    scalar_level = lv_in.ndim == 0
    lv = np.ascontiguousarray(lv_in.astype(np.float64).reshape(-1))
    outer, inner = _size(shape[:axis]), _size(shape[axis + 1:])
    out_shape = shape[:axis] + shape[axis + 1:]
    dt = _dtype(arr)
    out = c.be.empty(out_shape + (lv.size,), _F64 if linear else dt)
    if outer * inner:
        data = c.be.contiguous(arr)  # a copy only for non-contiguous input
        bad = c.mod.quantiles(_ptr(data), _CODES[dt], outer, n, inner, lv, linear, _ptr(out), c.stream())
        if bad is not None:
            index = tuple(int(i) for i in np.unravel_index(bad[0], shape))
            raise _checks.bad_value("samples", "must not be NaN", index, _item(arr, index))
    return out[..., 0] if scalar_level else out


def _out_dtype(dt):
    return _I64 if dt.kind == "i" else dt


def window_sum(samples, start, length, axis=-1):
    c = _Call(samples, start, length)
    arr = _samples(c, samples)
    shape = tuple(arr.shape)
    if len(shape) < 2:
        raise ValueError(f"samples: need (n_series, ..., horizon), got shape {shape}")
    axis = _checks.check_int(axis, "axis", -len(shape), len(shape) - 1) % len(shape)
    if axis == 0:
        raise ValueError("axis: axis 0 is the series axis; the horizon must be another axis")
    series, horizon = shape[0], shape[axis]
    values = {}
    for name, value in (("start", start), ("length", length)):
        v = c.int64(value, name)
        if len(v.shape) > 1 or (len(v.shape) == 1 and v.shape[0] != series):
            raise ValueError(f"{name}: expected a scalar or one value per series ({series}), got shape {tuple(v.shape)}")
        values[name] = c.be.broadcast_contiguous(v, (series,))
    s, ln = values["start"], values["length"]
    stream = c.stream()
    first = c.mod.check_windows(_ptr(s), _ptr(ln), series, horizon, stream) if series else (-1, -1, -1)
    rules = [("start", "must be >= 0"), ("length", "must be >= 0"),
             ("length", f"start + length must be <= the horizon ({horizon})")]
    for (name, rule), i in zip(rules, first):
        if i >= 0:
            raise _checks.bad_value(name, rule, (int(i),), _item(values[name], int(i)))
    m1, m2 = _size(shape[1:axis]), _size(shape[axis + 1:])
    dt = _dtype(arr)
    out = c.be.empty((series, m1, m2), _out_dtype(dt))
    if series * m1 * m2:
        data = c.be.contiguous(arr)
        if dt == _I64 and horizon and _may_wrap(data, int(ln.max().item())):
            from .aggregate import window_sum as cpu_window_sum  # raises the CPU path's overflow error
            cpu_window_sum(c.be.to_host(data), c.be.to_host(s), c.be.to_host(ln), axis)
        c.mod.window_sum(_ptr(data), _CODES[dt], series, m1, horizon, m2, _ptr(s), _ptr(ln), _ptr(out), stream)
    return out.reshape(shape[:axis] + shape[axis + 1:])


def _may_wrap(data, count: int) -> bool:
    """Whether an int64 sum of up to `count` of these values might pass 2**63 (then the CPU path
    decides exactly, on host copies: rare, values near 2**63 / count)."""
    largest = max(int(data.max().item()), -int(data.min().item()))
    return largest * count >= 2**63


def group_sum(samples, group_ids, num_groups):
    c = _Call(samples, group_ids)
    arr = _samples(c, samples)
    shape = tuple(arr.shape)
    if len(shape) < 1:
        raise ValueError("samples: need at least one dimension (the series axis)")
    num_groups = _checks.check_int(num_groups, "num_groups", 0)
    ids = c.int64(group_ids, "group_ids")
    if tuple(ids.shape) != (shape[0],):
        raise ValueError(f"group_ids: expected one id per series, shape ({shape[0]},), got {tuple(ids.shape)}")
    ids = c.be.contiguous(ids)
    stream = c.stream()
    bad = c.mod.check_group_ids(_ptr(ids), shape[0], num_groups, stream) if shape[0] else -1
    if bad >= 0:
        raise _checks.bad_value("group_ids", f"must be in [0, num_groups={num_groups})", (int(bad),),
                                _item(ids, int(bad)))
    cols = _size(shape[1:])
    dt = _dtype(arr)
    out = c.be.empty((num_groups, cols), _out_dtype(dt))
    if cols and num_groups:
        data = c.be.contiguous(arr)
        if dt == _I64 and shape[0] and _may_wrap(data, shape[0]):
            from .aggregate import group_sum as cpu_group_sum  # raises the CPU path's overflow error
            cpu_group_sum(c.be.to_host(data), c.be.to_host(ids), num_groups)
        c.mod.group_sum(_ptr(data), _CODES[dt], shape[0], cols, _ptr(ids), num_groups, _ptr(out), stream)
    return out.reshape((num_groups,) + shape[1:])
