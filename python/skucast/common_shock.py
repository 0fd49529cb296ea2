"""A common multiplicative demand shock shared by all series of a forecast.

Models that sample each series independently (DeepAR, N-BEATS, the NB baselines) make sums of
paths (store, category totals) far too narrow: the day-to-day swings that hit a whole store are
missing. A gamma factor G[j, t] with mean 1 and variance ``variance``, one per (path j, day t)
and multiplied into mu of every series, adds that correlation. It is counter-based: G[j, t]
depends only on (seed, t, j), not on the number of paths, the series or how they are chunked.
"""
from __future__ import annotations

import numpy as np

__all__ = ["gamma_shock", "calibrate_shock_variance"]

_TAG = 0x5C0C   # separates these streams from other seeded streams of skucast


def gamma_shock(variance: float, num_samples: int, horizon: int, seed: int = 0) -> np.ndarray:
    """(num_samples, horizon) gamma factors, mean 1, variance ``variance`` (all ones for 0).

    Day t draws its paths from its own Philox stream keyed by (seed, t), filled in path order,
    so path j is the same for any num_samples > j."""
    v = float(variance)
    if not np.isfinite(v) or v < 0:
        raise ValueError(f"variance: must be finite and >= 0, got {variance}")
    if int(num_samples) < 1 or int(horizon) < 1:
        raise ValueError(f"num_samples, horizon: must be >= 1, got {num_samples}, {horizon}")
    out = np.ones((int(num_samples), int(horizon)))
    if v == 0:
        return out
    for t in range(int(horizon)):
        rng = np.random.Generator(np.random.Philox(np.random.SeedSequence([int(seed), t, _TAG])))
        out[:, t] = rng.standard_gamma(1.0 / v, size=int(num_samples)) * v
    return out


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
    m, v0 = s.mean(1), s.var(1)
    ok = m > 0
    if not ok.any():
        raise ValueError("sums: every aggregate forecast is zero")
    den = m ** 2 + np.maximum(v0 - m, 0.0)
    return float(max(0.0, np.mean(((y - m) ** 2 - v0)[ok] / den[ok])))
