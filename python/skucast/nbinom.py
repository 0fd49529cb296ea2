"""Negative binomial NB(mu, alpha) in the DeepAR/GluonTS parametrisation.

Mean ``mu``, variance ``mu + alpha * mu**2``; the same law as
``scipy.stats.nbinom(n=1/alpha, p=1/(1+alpha*mu))``. ``alpha == 0`` is exactly
Poisson(mu). Functions broadcast like numpy ufuncs, run multithreaded in C++ with
the GIL released, and raise ``ValueError`` naming the argument and the first bad
index instead of returning NaN.

>>> import skucast
>>> float(skucast.nbinom.pmf(0, 2.0, 0.5))   # (1 + 0.5*2) ** (-1/0.5)
0.25
"""
from __future__ import annotations

import numpy as np

from . import _checks, _core, _gpu

__all__ = ["logpmf", "pmf", "cdf", "sf", "ppf", "nll", "sample"]

_RULES = {
    "y": "must be a whole number in [0, 2**53]",
    "mu": "must be finite and >= 0",
    "alpha": "must be finite and >= 0",
    "q": "must be in the open interval (0, 1)",
}
# The C++ BadValue::arg codes: the argument named and the rule it broke.
_ARGS = (("y", _RULES["y"]), ("mu", _RULES["mu"]), ("alpha", _RULES["alpha"]), ("q", _RULES["q"]),
         ("alpha", "alpha * mu and alpha * y must be below 1.8e308 (the law overflows double)"))


def _raise(bad, shape, arrays: dict):
    flat, arg = bad
    name, rule = _ARGS[arg]
    original = arrays[name]
    index = _checks.own_index(flat, shape, original.shape)
    raise _checks.bad_value(name, rule, index, original[index])


def _prepare(y, mu, alpha):
    counts = _checks.as_counts(y, "y")
    params, _ = _checks.as_params({"mu": mu, "alpha": alpha})
    originals = {"y": counts, **params}
    shape, views = _checks.broadcast(originals)
    return shape, views, originals


def _elementwise(func: int, y, mu, alpha):
    if _gpu.any_gpu(y, mu, alpha):
        return _gpu.elementwise(func, y, mu, alpha)
    shape, v, originals = _prepare(y, mu, alpha)
    out, bad = _core.nb_elementwise(func, v["y"], v["mu"], v["alpha"])
    if bad is not None:
        _raise(bad, shape, originals)
    return _checks.scalar_or_array(out, y, mu, alpha)


def logpmf(y, mu, alpha):
    """log P(Y = y) for Y ~ NB(mu, alpha).

    Parameters
    ----------
    y : array_like of whole numbers in [0, 2**53] (any integer dtype, or floats holding whole numbers)
    mu : array_like, mean, finite and >= 0 (0: no demand, all mass at 0)
    alpha : array_like, dispersion, finite and >= 0 (0 is Poisson)

    Returns float32 when mu and alpha are both float32 (computed in float64), else float64,
    in the broadcast shape of the arguments. Accurate to ~1e-13 relative for y up to 1e9,
    mu in [1e-12, 1e9], alpha in [0, 1e6] (Loader's saddle-point terms in the tails).

    >>> skucast.nbinom.logpmf([0, 1, 2], mu=3.0, alpha=0.2)
    """
    return _elementwise(0, y, mu, alpha)


def pmf(y, mu, alpha):
    """P(Y = y) for Y ~ NB(mu, alpha); see :func:`logpmf` for arguments and dtypes."""
    return _elementwise(1, y, mu, alpha)


def cdf(y, mu, alpha):
    """P(Y <= y) for Y ~ NB(mu, alpha), from the regularized incomplete beta (gamma for
    Poisson) with the near tail computed directly, so small values keep relative accuracy."""
    return _elementwise(2, y, mu, alpha)


def sf(y, mu, alpha):
    """P(Y > y) for Y ~ NB(mu, alpha); accurate in the upper tail (not 1 - cdf)."""
    return _elementwise(3, y, mu, alpha)


def ppf(q, mu, alpha):
    """Smallest integer k with cdf(k) >= q, as int64: the exact NB quantile (no normal
    approximation). q must lie in the open interval (0, 1).

    >>> skucast.nbinom.ppf(0.98, mu=4.0, alpha=0.5)   # order-up-to for a 98% cycle service level
    """
    if _gpu.any_gpu(q, mu, alpha):
        return _gpu.ppf(q, mu, alpha)
    params, _ = _checks.as_params({"q": q, "mu": mu, "alpha": alpha})
    shape, v = _checks.broadcast(params)
    out, bad = _core.nb_ppf(v["q"], v["mu"], v["alpha"])
    if bad is not None:
        _raise(bad, shape, params)
    return _checks.scalar_or_array(out, q, mu, alpha)


_NLL_CHUNK = 1 << 15  # fixed partial-sum blocks: the total does not depend on thread count


def nll(y, mu, alpha, axis=None):
    """Summed negative log-likelihood -sum(logpmf(y, mu, alpha)) in float64.

    ``axis=None`` sums everything and returns a float; an integer axis reduces that axis of
    the broadcast shape. Summation is compensated and in a fixed order.
    """
    if _gpu.any_gpu(y, mu, alpha):
        return _gpu.nll(y, mu, alpha, axis, _NLL_CHUNK)
    shape, v, originals = _prepare(y, mu, alpha)
    if axis is None:
        size = int(np.prod(shape, dtype=np.int64))
        if size == 0:
            return 0.0
        partial, bad = _core.nb_nll_rows(v["y"], v["mu"], v["alpha"], _NLL_CHUNK)
        if bad is not None:
            _raise(bad, shape, originals)
        return float(np.sum(partial))
    if not shape:
        raise ValueError(f"axis: {axis} is out of bounds for 0-dimensional input")
    axis = _checks.check_int(axis, "axis", -len(shape), len(shape) - 1) % len(shape)
    moved = {k: np.moveaxis(a, axis, -1) for k, a in v.items()}
    out_shape = moved["mu"].shape[:-1]
    row_len = shape[axis]
    if row_len == 0 or int(np.prod(out_shape, dtype=np.int64)) == 0:
        return np.zeros(out_shape)
    rows, bad = _core.nb_nll_rows(moved["y"], moved["mu"], moved["alpha"], row_len)
    if bad is not None:  # the rows ran in the moved order: name the first bad value in C order
        _, bad = _core.nb_nll_rows(v["y"], v["mu"], v["alpha"], _NLL_CHUNK)
        _raise(bad, shape, originals)
    return rows.reshape(out_shape)


def sample(mu, alpha, num_samples, seed, keys=None, step=0):
    """Gamma-Poisson draws of NB(mu, alpha): int64 array of shape ``mu.shape + (num_samples,)``.

    Randomness is counter-based (Philox4x32-10): draw j of element i depends only on
    (seed, step[i], keys[i], j), so a series gets the same paths whatever the batch, chunk,
    thread count or device. ``keys`` (one int64 per element of mu; default: the flat
    position) identifies the series; ``step`` (int or array) is the forecast day for
    autoregressive sampling. Exact in distribution for mu up to 1e9 and alpha down to 0.

    >>> skucast.nbinom.sample(mu=[2.0, 30.0], alpha=0.3, num_samples=4, seed=7)
    """
    if _gpu.any_gpu(mu, alpha, keys, step):
        return _gpu.sample(mu, alpha, num_samples, seed, keys, step)
    num_samples = _checks.check_int(num_samples, "num_samples", 1, 2**32 - 1)
    seed = _checks.check_int(seed, "seed", 0, 2**64 - 1)
    params, _ = _checks.as_params({"mu": mu, "alpha": alpha})
    mu_arr = params["mu"]
    shape = mu_arr.shape

    def to_mu_shape(name, arr):
        try:
            return np.broadcast_to(arr, shape)
        except ValueError:
            raise ValueError(f"{name}: shape {arr.shape} does not broadcast to mu's shape {shape}") from None

    alpha_view = to_mu_shape("alpha", params["alpha"])
    step_arr = _checks.as_int64(step, "step")
    step_view = to_mu_shape("step", step_arr)
    keys_view = None
    if keys is not None:
        keys_view = to_mu_shape("keys", _checks.as_int64(keys, "keys"))
    out, bad = _core.nb_sample(mu_arr, alpha_view, keys_view, step_view, num_samples, seed)
    if bad is not None:
        _raise(bad, shape, {"mu": mu_arr, "alpha": params["alpha"]})
    return out
