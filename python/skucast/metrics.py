"""Forecast metrics of ../shared/EVALUATION.md (M5 protocol), numpy only.

Shapes: history (n, T) training days, y (n, h) actuals, point (n, h), samples (n, S, h),
quantile forecasts (n, h, L). Scales count the history from each series' first nonzero value.
"""
from __future__ import annotations

import numpy as np

from .aggregate import group_sum
from .quantiles import quantiles as _quantiles

__all__ = ["M5_LEVELS", "naive_scales", "rmsse", "pinball", "spl", "crps_fair", "pit_coverage",
           "closed_coverage", "evaluate_hierarchy"]

M5_LEVELS = (0.005, 0.025, 0.165, 0.25, 0.5, 0.75, 0.835, 0.975, 0.995)


def naive_scales(history) -> tuple[np.ndarray, np.ndarray]:
    """(mean squared, mean absolute) one-step naive difference of each row from its first
    nonzero value on; NaN where fewer than two values remain."""
    h = np.asarray(history, np.float64)
    n, T = h.shape
    first = np.where((h != 0).any(1), np.argmax(h != 0, axis=1), T)
    d = np.diff(h, axis=1)
    valid = np.arange(T - 1)[None, :] >= first[:, None]
    cnt = valid.sum(1)
    with np.errstate(invalid="ignore", divide="ignore"):
        sq = np.where(valid, d * d, 0).sum(1) / cnt
        ab = np.where(valid, np.abs(d), 0).sum(1) / cnt
    sq[cnt == 0] = np.nan
    ab[cnt == 0] = np.nan
    return sq, ab


def rmsse(y, point, scale_sq) -> np.ndarray:
    """sqrt(mean_t (y - point)^2 / scale_sq), per series."""
    y, point = np.asarray(y, np.float64), np.asarray(point, np.float64)
    return np.sqrt(((y - point) ** 2).mean(-1) / scale_sq)


def pinball(y, q, levels) -> np.ndarray:
    """Mean over the horizon of the pinball loss: (n, L) for q (n, h, L)."""
    y = np.asarray(y, np.float64)[..., None]
    q = np.asarray(q, np.float64)
    u = np.asarray(levels, np.float64)
    return np.where(y >= q, (y - q) * u, (q - y) * (1 - u)).mean(-2)


def spl(y, q, levels, scale_abs) -> np.ndarray:
    """Scaled pinball loss per series and level (n, L)."""
    return pinball(y, q, levels) / np.asarray(scale_abs)[:, None]


def crps_fair(samples, y) -> np.ndarray:
    """Fair (unbiased over distinct sample pairs) energy-form CRPS, (n, h):
    E|X - y| - sum_{j != k} |X_j - X_k| / (2 S (S - 1)), from sorted samples in O(S log S)."""
    x = np.sort(np.asarray(samples, np.float64), axis=1)
    S = x.shape[1]
    if S < 2:
        raise ValueError("samples: the fair CRPS needs at least 2 samples per series")
    term1 = np.abs(x - np.asarray(y, np.float64)[:, None, :]).mean(1)
    w = (2 * np.arange(S) - S + 1).astype(np.float64)          # sum_{j,k}|xj-xk| = 2 sum_i w_i x_(i)
    pair = np.tensordot(w, x, axes=([0], [1])) / (S * (S - 1))
    return term1 - pair


def pit_coverage(samples, y, lo: float, hi: float) -> np.ndarray:
    """Randomized-PIT coverage (Czado, Gneiting & Held 2009) of the probability interval
    [lo, hi]: the PIT of y is uniform on [F(y-1), F(y)] (F from the samples); the result is
    the share of that interval inside [lo, hi], (n, h). Its mean equals hi - lo when calibrated."""
    s = np.asarray(samples)
    y = np.asarray(y)[:, None, :]
    a = (s < y).mean(1)            # F(y - 1)
    b = (s <= y).mean(1)           # F(y)
    inside = np.clip(np.minimum(b, hi) - np.maximum(a, lo), 0, None)
    width = b - a
    point = ((a >= lo) & (a <= hi)).astype(np.float64)   # F has no mass at y: the PIT is a point
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(width > 0, inside / np.where(width > 0, width, 1), point)


def closed_coverage(y, q_lo, q_hi) -> np.ndarray:
    """Share of y inside the closed interval [q_lo, q_hi] (over-covers counts: ties at 0)."""
    y = np.asarray(y)
    return ((y >= q_lo) & (y <= q_hi)).astype(np.float64)


def evaluate_hierarchy(history, y, dollar, groups: dict, point=None, samples=None,
                       levels=M5_LEVELS, intervals=(0.5, 0.9)) -> dict:
    """Per-level and overall metrics of the M5 protocol.

    history (n, T) training units, y (n, h) test units, dollar (n,) dollar sales of the last
    28 training days (weights; aggregated by sum and normalised within each level),
    groups {level: (group_ids (n,), num_groups)}. point (n, h) gives RMSSE/WRMSSE (default:
    the sample mean); samples (n, S, h) give WSPL (quantiles of summed sample paths), CRPS
    (units, per item-day) and randomized-PIT coverage of central intervals.
    Returns {level: {metric: value}, "overall": {...}} (overall = equal-weighted mean over
    levels of the scale-free metrics; CRPS is in units, so it is not averaged across levels).
    """
    history = np.asarray(history, np.float64)
    if point is None and samples is not None:
        point = np.asarray(samples).mean(1)
    out = {}
    for name, (gid, ng) in groups.items():
        gid = np.asarray(gid, np.int64)
        agg = (lambda a: group_sum(np.ascontiguousarray(a), gid, ng))
        hist, yy, w = agg(history), agg(np.asarray(y, np.float64)), agg(np.asarray(dollar, np.float64))
        w = w / w.sum()
        sq, ab = naive_scales(hist)
        res = {}
        if point is not None:
            res["WRMSSE"] = float(np.nansum(w * rmsse(yy, agg(np.asarray(point, np.float64)), sq)))
        if samples is not None:
            sm = agg(np.asarray(samples))                          # summed sample paths
            q = _quantiles(sm, list(levels), axis=1)              # (G, h, L)
            res["WSPL"] = float(np.nansum(w * spl(yy, q, levels, ab).mean(1)))
            res["CRPS"] = float(crps_fair(sm, yy).mean())
            for c in intervals:
                lo, hi = (1 - c) / 2, (1 + c) / 2
                res[f"PIT coverage {c:g}"] = float(pit_coverage(sm, yy, lo, hi).mean())
                ql = _quantiles(sm, [lo, hi], axis=1)
                res[f"closed coverage {c:g}"] = float(closed_coverage(yy, ql[..., 0], ql[..., 1]).mean())
        out[name] = res
    keys = set().union(*(r.keys() for r in out.values())) if out else set()
    out["overall"] = {k: float(np.mean([r[k] for r in out.values() if k in r])) for k in sorted(keys)
                      if k != "CRPS"}
    return out
