"""Argument checks shared by the public functions: dtypes made explicit, broadcasting, and
the one error format ("<arg>: <rule>; first bad value at index <idx>: <value>")."""
from __future__ import annotations

import numbers

import numpy as np

_REJECTED_KINDS = {"b": "bool", "O": "object", "U": "str", "S": "bytes", "c": "complex", "V": "void",
                   "M": "datetime", "m": "timedelta"}


def as_numeric(value, name: str) -> np.ndarray:
    """np.asarray with a TypeError for anything that is not a real number array."""
    try:
        arr = np.asarray(value)
    except Exception as exc:  # ragged lists and the like
        raise TypeError(f"{name}: cannot be read as a numeric array ({exc})") from None
    kind = arr.dtype.kind
    if kind in _REJECTED_KINDS:
        raise TypeError(f"{name}: expected real numbers, got an array of dtype {arr.dtype} ({_REJECTED_KINDS[kind]})")
    if kind not in "iuf":
        raise TypeError(f"{name}: expected real numbers, got dtype {arr.dtype}")
    if not arr.flags.aligned:  # e.g. a field of a packed structured array: the kernels read whole elements
        arr = arr.copy()
    return arr


def as_counts(value, name: str) -> np.ndarray:
    """Counts keep int32/int64/float32/float64; other integer or float widths are widened."""
    arr = as_numeric(value, name)
    if arr.dtype in (np.int32, np.int64, np.float32, np.float64):
        return arr
    if arr.dtype.kind == "f":
        return arr.astype(np.float64)
    refuse_past_int64(arr.dtype, arr.size, arr.max, name)
    return arr.astype(np.int64)


def as_params(values: dict) -> tuple[dict, np.dtype]:
    """Float parameters share one dtype: float32 when every one is float32, else float64."""
    arrays = {name: as_numeric(v, name) for name, v in values.items()}
    all_f32 = all(a.dtype == np.float32 for a in arrays.values())
    dtype = np.dtype(np.float32 if all_f32 else np.float64)
    return {name: a.astype(dtype, copy=False) for name, a in arrays.items()}, dtype


INT64_RANGE = (-2**63, 2**63 - 1)
WHOLE_INT64_RULE = "must be whole numbers within the int64 range"


def as_int64(value, name: str) -> np.ndarray:
    """Integer arguments as int64. Floats are taken when every value is a whole number (pandas
    reads an integer column that once held a NaN as float64, and an empty list reads as float64);
    a fraction, NaN or inf is refused, naming it, rather than truncated as astype(int) would."""
    arr = as_numeric(value, name)
    if arr.dtype.kind == "f":
        if not within(arr, *INT64_RANGE, whole=True):
            raise_first_bad({name: arr}, [(name, not_whole_int64(arr), WHOLE_INT64_RULE)])
        return arr.astype(np.int64)
    refuse_past_int64(arr.dtype, arr.size, arr.max, name)
    return arr.astype(np.int64, copy=False)


def not_whole_int64(arr: np.ndarray) -> np.ndarray:
    """Mask of the float values that are not an int64: NaN, inf, fractions, |x| >= 2^63."""
    return ~np.isfinite(arr) | (arr != np.floor(arr)) | (arr < -2.0**63) | (arr >= 2.0**63)


def refuse_past_int64(dtype, size: int, largest, name: str) -> None:
    """uint64 values past 2**63-1 would wrap in the int64 the kernels take (on either device);
    largest() is only called for a non-empty uint64 array."""
    if dtype == np.uint64 and size and int(largest()) > np.iinfo(np.int64).max:
        raise ValueError(f"{name}: values above 2**63-1 are not supported")


def broadcast(arrays: dict) -> tuple[tuple, dict]:
    """Broadcast views (no copies) of every argument to their common shape."""
    try:
        shape = np.broadcast_shapes(*(a.shape for a in arrays.values()))
    except ValueError:
        shapes = ", ".join(f"{n} {a.shape}" for n, a in arrays.items())
        raise ValueError(f"shape mismatch: {shapes} do not broadcast together") from None
    return shape, {name: np.broadcast_to(a, shape) for name, a in arrays.items()}


def own_index(flat: int, shape: tuple, arg_shape: tuple) -> tuple:
    """Index into an argument of `arg_shape` for a flat position of the broadcast `shape`."""
    full = np.unravel_index(flat, shape) if shape else ()
    offset = len(shape) - len(arg_shape)
    return tuple(0 if arg_shape[d] == 1 else int(full[offset + d]) for d in range(len(arg_shape)))


def bad_value(name: str, rule: str, index: tuple, value) -> ValueError:
    if isinstance(value, np.generic):
        value = value.item()
    return ValueError(f"{name}: {rule}; first bad value at index {index}: {value!r}")


def raise_first_bad(values: dict, mask_rules: list) -> None:
    """For small host-side checks: mask_rules is [(name, bad_mask, rule)], checked in order."""
    for name, mask, rule in mask_rules:
        mask = np.asarray(mask)
        if mask.any():
            idx = tuple(int(i) for i in np.unravel_index(int(np.flatnonzero(mask)[0]), mask.shape)) if mask.ndim else ()
            value = np.asarray(values[name])
            if value.ndim < len(idx):  # a scalar argument checked against per-row ones
                value = np.broadcast_to(value, mask.shape)
            raise bad_value(name, rule, idx, value[idx])


_RANGE_DTYPES = (np.dtype(np.float32), np.dtype(np.float64), np.dtype(np.int32), np.dtype(np.int64))


def within(arr: np.ndarray, low=None, high=None, whole: bool = False) -> bool:
    """True when every value of arr is finite (floats), within [low, high] (None: no bound) and,
    with whole, a whole number: one pass on all threads (the C++ value_range), instead of a mask
    per rule over a large array. False says only that something failed (or that arr is not a
    contiguous float32/64 or int32/64 array): the caller's masks then name the first bad value."""
    if arr.dtype not in _RANGE_DTYPES or not (arr.flags.c_contiguous and arr.flags.aligned):
        return False
    from . import _core
    # reshape(-1): numpy calls an array contiguous whatever the stride of a length-1 axis; the
    # flat view has the element stride the kernel checks
    return range_within(_core.value_range(arr.reshape(-1)), low, high, whole)


def range_within(value_range, low=None, high=None, whole: bool = False) -> bool:
    """within's verdict from a value_range tuple (min, max, any NaN, any not whole)."""
    lo, hi, nan, fractional = value_range
    if lo is None:  # empty
        return True
    if nan or (whole and fractional) or not (-np.inf < lo and hi < np.inf):
        return False
    return (low is None or lo >= low) and (high is None or hi <= high)


def scalar_or_array(out: np.ndarray, *inputs) -> np.ndarray:
    """numpy's ufunc convention: all-scalar inputs give a numpy scalar."""
    if all(np.ndim(x) == 0 for x in inputs):
        return out[()]
    return out


def check_int(value, name: str, low: int | None = None, high: int | None = None) -> int:
    if isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "iu":  # a 0-d array
        value = value[()]
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Integral, np.integer)):
        raise TypeError(f"{name}: expected an integer, got {type(value).__name__}")
    value = int(value)
    if low is not None and value < low:
        raise ValueError(f"{name}: must be >= {low}, got {value}")
    if high is not None and value > high:
        raise ValueError(f"{name}: must be <= {high}, got {value}")
    return value


def check_bool(value, name: str) -> bool:
    """A flag: True or False (a string such as "no" would read as True)."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name}: expected True or False, got {value!r}")
    return bool(value)


def per_row_alpha(n, horizon):
    """A (n,) alpha with (n, horizon) mu is taken per row; when n == horizon it could as well be
    per day (numpy's broadcasting), so the caller must say which."""
    if n == horizon and n > 1:
        raise ValueError(f"alpha: shape ({n},) with mu of shape ({n}, {horizon}) is ambiguous (per row or per "
                         "day?): pass alpha[:, None] for one dispersion per row or alpha[None, :] for one per day")
