"""allocate(): split a warehouse's supply of each SKU over its locations."""
from __future__ import annotations

import numpy as np

from .. import _checks, _core, _gpu, _gpu_inventory


def _per_sku(value, name, n):
    v = _checks.as_int64(value, name)
    if v.ndim > 1 or (v.ndim == 1 and v.shape[0] != n):
        raise ValueError(f"{name}: expected a scalar or one value per SKU ({n},), got shape {v.shape}")
    return np.ascontiguousarray(np.broadcast_to(v, (n,)))


def _per_cell(value, name, shape, integer=True, contiguous=True):
    """An (n_skus, n_locations) argument; contiguous=False keeps numpy's broadcast view (the NB
    kernel reads any strides, so a scalar or a per-location row is not copied out to (n, m))."""
    v = _checks.as_int64(value, name) if integer else _checks.as_numeric(value, name).astype(np.float64, copy=False)
    try:
        b = np.broadcast_to(v, shape)
    except ValueError:
        raise ValueError(f"{name}: shape {v.shape} does not broadcast to (n_skus, n_locations) {shape}") from None
    return np.ascontiguousarray(b) if contiguous else b


def allocate(supply, *, mu=None, alpha=None, samples=None, on_hand=0, min_display=0, reserve=0):
    """Split each SKU's warehouse supply over its locations to maximise expected units sold.

    Demand of SKU i at location l over the period is either NB(mu[i, l], alpha[i, l]) (mean mu,
    variance mu + alpha mu^2; alpha = 0 is Poisson; mu = 0 means no demand) or given by
    ``samples[i, l, :]`` (equally likely sample paths of the period total).

    Shapes: ``supply``, ``reserve``: (n_skus,) or scalars; ``mu``, ``alpha``, ``on_hand``,
    ``min_display``: (n_skus, n_locations) or broadcastable to it; ``samples``: (n_skus,
    n_locations, num_samples). Returns int64 (n_skus, n_locations): units to send.

    Rules, in order:

    1. ``reserve`` units stay at the warehouse (ship-from-store / online orders); the rest,
       ``A = max(0, supply - reserve)``, is allocated.
    2. Minimum display: location l first gets ``max(0, min_display - on_hand)`` units; when ``A``
       cannot cover all of these, they are met in location order (lowest index first).
    3. The remaining units go where the next unit is most likely to sell: the k-th extra unit at
       l is worth P(D_l >= x_l + k), x_l = on_hand + display units. Expected sales are concave,
       so taking the largest increments first is optimal. The kernel searches the threshold on
       the increment (NB: cdf inversions by ``ppf``; samples: order statistics) in
       O(locations x log) per SKU; units tied at the threshold go to the lowest location first.

    The result sums exactly to ``A`` unless every remaining unit is worthless: increments of 0
    (samples: more than every sample) or below 1e-12 (NB tails) are not shipped, and those
    units stay at the warehouse (``supply - reserve - result.sum(1)``).

    >>> skucast.inventory.allocate([10], mu=[[3.0, 1.0, 6.0]], alpha=0.2, on_hand=[[1, 0, 2]])
    array([[3, 1, 6]])
    """
    if _gpu.any_gpu(supply, mu, alpha, samples, on_hand, min_display, reserve):
        return _gpu_inventory.allocate(supply, dict(mu=mu, alpha=alpha, samples=samples, on_hand=on_hand,
                                                    min_display=min_display, reserve=reserve))
    if (mu is None) == (samples is None):
        raise ValueError("allocate: give either mu (and alpha) or samples")
    if samples is not None:
        if alpha is not None:
            raise ValueError("alpha: not used with samples")
        smp = _checks.as_int64(samples, "samples")
        if smp.ndim != 3:
            raise ValueError(f"samples: expected (n_skus, n_locations, num_samples), got shape {smp.shape}")
        if smp.shape[2] == 0:
            raise ValueError("samples: the sample axis is empty")
        shape = smp.shape[:2]
        if not _checks.within(smp, 0, 2**60):
            _checks.raise_first_bad({"samples": smp}, [("samples", smp < 0, "must be >= 0"),
                                                        ("samples", smp > 2**60, "must be <= 2**60")])
    else:
        mu_arr = _checks.as_numeric(mu, "mu").astype(np.float64, copy=False)
        if mu_arr.ndim != 2:
            raise ValueError(f"mu: expected (n_skus, n_locations), got shape {mu_arr.shape}")
        shape = mu_arr.shape
        if alpha is None:
            alpha = 0.0
        mu_arr = np.ascontiguousarray(mu_arr)
        alpha_arr = _per_cell(alpha, "alpha", shape, integer=False, contiguous=False)
    n = shape[0]
    try:
        sup = _per_sku(supply, "supply", n)
        res = _per_sku(reserve, "reserve", n)
        views = samples is None  # the NB kernel reads broadcast views; the samples kernel needs (n, m)
        oh = _per_cell(on_hand, "on_hand", shape, contiguous=not views)
        md = _checks.as_int64(min_display, "min_display")
        if md.ndim != 0 or md != 0:  # (the default 0 stays a scalar: no (n, m) array of zeros)
            md = _per_cell(md, "min_display", shape, contiguous=not views)
    except (TypeError, ValueError):
        if samples is None:  # a bad value of mu or alpha is reported before these arguments' errors
            _raise_bad_values(mu=mu_arr, alpha=alpha_arr)
        raise
    avail = np.maximum(sup - res, 0)
    md_arg = md if md.ndim else None  # (a scalar md here is 0)
    if samples is not None:
        _raise_bad_values(sup=sup, res=res, oh=oh, md=md)
        return _core.inv_allocate_samples(avail, np.ascontiguousarray(smp), oh, md_arg)
    # The kernel checks the (n, m) cells in its own pass and returns None on a bad one; every
    # rule is then run here, in the order errors are reported (cells of mu and alpha first).
    out = _core.inv_allocate_nb(avail, mu_arr, alpha_arr, oh, md_arg)
    if out is None or (sup < 0).any() or (res < 0).any() or (sup >= 2**62).any():
        _raise_bad_values(mu=mu_arr, alpha=alpha_arr, sup=sup, res=res, oh=oh, md=md)
        raise AssertionError("allocate: the kernel refused a cell that passes every check")
    return out


def _raise_bad_values(mu=None, alpha=None, sup=None, res=None, oh=None, md=None):
    """The value rules, in the order they are reported."""
    values, rules = {}, []
    for name, arr, bad, rule in [
        ("mu", mu, lambda a: ~(np.isfinite(a) & (a >= 0)), "must be finite and >= 0"),
        ("alpha", alpha, lambda a: ~(np.isfinite(a) & (a >= 0)), "must be finite and >= 0"),
        ("supply", sup, lambda a: a < 0, "must be >= 0"),
        ("supply", sup, lambda a: a >= 2**62, "must be < 2**62"),
        ("reserve", res, lambda a: a < 0, "must be >= 0"),
        ("on_hand", oh, lambda a: a < 0, "must be >= 0 (negative stock)"),
        ("on_hand", oh, lambda a: a >= 2**61, "must be < 2**61"),
        ("min_display", md, lambda a: a < 0, "must be >= 0"),
        ("min_display", md, lambda a: a >= 2**61, "must be < 2**61"),
    ]:
        if arr is not None:
            values[name] = arr
            rules.append((name, bad(arr), rule))
    _checks.raise_first_bad(values, rules)
