"""A common multiplicative demand shock shared by all series of a forecast.

Models that sample each series independently (DeepAR, N-BEATS, the NB baselines) make sums of
paths (store, category totals) far too narrow: the day-to-day swings that hit a whole store are
missing. A gamma factor G[j, t] with mean 1 and variance ``variance``, one per (path j, day t)
and multiplied into mu of every series, adds that correlation. It is counter-based: G[j, t]
depends only on (seed, t, j), not on the number of paths, the series or how they are chunked.
"""
from __future__ import annotations

import numpy as np

__all__ = ["gamma_shock", "group_shock", "calibrate_shock_variance", "nested_variance"]

_TAG = 0x5C0C   # separates these streams from other seeded streams of skucast


def gamma_shock(variance: float, num_samples: int, horizon: int, seed: int = 0, group=()) -> np.ndarray:
    """(num_samples, horizon) gamma factors, mean 1, variance ``variance`` (all ones for 0).

    Day t draws its paths from its own Philox stream keyed by (seed, t, *group), filled in path
    order, so path j is the same for any num_samples > j; ``group`` (non-negative ints) gives
    each group of series its own factors (see group_shock)."""
    v = float(variance)
    if not np.isfinite(v) or v < 0:
        raise ValueError(f"variance: must be finite and >= 0, got {variance}")
    if int(num_samples) < 1 or int(horizon) < 1:
        raise ValueError(f"num_samples, horizon: must be >= 1, got {num_samples}, {horizon}")
    out = np.ones((int(num_samples), int(horizon)))
    if v == 0:
        return out
    for t in range(int(horizon)):
        key = [int(seed), t, _TAG] + [int(k) for k in group]
        rng = np.random.Generator(np.random.Philox(np.random.SeedSequence(key)))
        out[:, t] = rng.standard_gamma(1.0 / v, size=int(num_samples)) * v
    return out


def group_shock(levels: dict, num_samples: int, horizon: int, seed: int = 0) -> np.ndarray:
    """Per-series factors (n, num_samples, horizon): the product over the levels of a gamma
    factor shared by the series of one group, e.g. {"store_id": (v_store, keys), "dept_id":
    (v_dept, keys)} with keys (n,) stable non-negative int64 group keys (such as
    skucast.models.panel.series_keys of the group names). A group's factors depend only on
    (seed, level name, group key, day, path), so they do not depend on which series or chunk
    is being sampled."""
    import zlib
    out = None
    for name, (v, keys) in levels.items():
        keys = np.asarray(keys, np.int64)
        if keys.ndim != 1 or (keys < 0).any():
            raise ValueError(f"levels[{name!r}]: keys must be a 1-d array of non-negative ints")
        if out is None:
            out = np.ones((len(keys), int(num_samples), int(horizon)))
        elif len(keys) != len(out):
            raise ValueError(f"levels[{name!r}]: {len(keys)} keys, expected {len(out)}")
        tag = zlib.crc32(str(name).encode())
        uniq, inv = np.unique(keys, return_inverse=True)
        g = np.stack([gamma_shock(v, num_samples, horizon, seed, group=(tag, k)) for k in uniq])
        out *= g[inv]
    if out is None:
        raise ValueError("levels: give at least one level")
    return out


def nested_variance(outer: float, total: float) -> float:
    """Variance of the inner factor of a product outer x inner (independent, mean 1) whose
    relative variance is ``total``: (1 + total) / (1 + outer) - 1, floored at 0."""
    return max(0.0, (1.0 + total) / (1.0 + outer) - 1.0)


def calibrate_shock_variance(sums, y) -> float:
    """Shock variance by moments from aggregate forecasts of a validation window:
    sums (G, S, h) summed sample paths of G aggregates (sampled without a shock), y (G, h) their
    actual values. For sums of NB draws with mu scaled by G, Var = v_0 + v (m^2 + v_0 - m) for
    the path mean m and variance v_0 without the shock, so v = the mean over aggregates and days
    of ((y - m)^2 - v_0) / (m^2 + max(v_0 - m, 0)), floored at 0."""
    s = np.asarray(sums, np.float64)
    y = np.asarray(y, np.float64)
    if s.ndim != 3 or y.shape != (s.shape[0], s.shape[2]):
        raise ValueError(f"sums, y: expected shapes (G, S, h) and (G, h), got {s.shape} and {y.shape}")
    if not (np.isfinite(s).all() and np.isfinite(y).all()):
        raise ValueError("sums, y: must be finite (a NaN would silently turn the shock off)")
    m, v0 = s.mean(1), s.var(1)
    ok = m > 0
    if not ok.any():
        raise ValueError("sums: every aggregate forecast is zero")
    den = m ** 2 + np.maximum(v0 - m, 0.0)
    return float(max(0.0, np.mean(((y - m) ** 2 - v0)[ok] / den[ok])))
