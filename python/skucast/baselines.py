"""Simple forecasters used as baselines, by the built-in demo and by the M5 evaluation (numpy only).

weekday_profile_nb returns daily NB parameters (mu over the horizon, alpha per series) from the
history before a forecast origin, so it feeds the same inventory path as the neural models.
The point baselines of the evaluation (naive ... TSB) return (point, fitted one-step forecasts);
residual_nb_alpha / nb_paths / empirical_paths turn them into sample paths.
"""
from __future__ import annotations

import numpy as np

MIN_MU = 1e-3  # an item with no recent sales keeps a small chance of selling (mu = 0 would rule it out)


def _moment_alpha(history: np.ndarray, fitted: np.ndarray) -> np.ndarray:
    """Dispersion by moments: Var(y) = mu + alpha mu^2, from residuals about `fitted`."""
    mean = np.maximum(fitted.mean(axis=1), MIN_MU)
    excess = ((history - fitted) ** 2).mean(axis=1) - mean
    return np.clip(excess / mean**2, 0.0, 50.0)


def weekday_profile_nb(history, horizon: int = 28, weeks: int = 8):
    """Day-of-week profile: mean of the last `weeks` same weekdays, NB dispersion by moments.

    history: (n_series, T) daily sales ending the day before the origin.
    Returns (mu (n_series, horizon), alpha (n_series,)).
    """
    y = np.asarray(history, dtype=np.float64)
    n, t = y.shape
    span = 7 * weeks
    if t < span:
        raise ValueError(f"history: need at least {span} days, got {t}")
    recent = y[:, t - span:]                       # day j of `recent` is weekday (t - span + j) % 7
    profile = recent.reshape(n, weeks, 7).mean(axis=1)   # column c: days with (j % 7) == c
    fitted = np.tile(profile, (1, weeks))
    alpha = _moment_alpha(recent, fitted)
    # day h after the origin sits at column (span + h) % 7 of the profile
    cols = (span + np.arange(horizon)) % 7
    mu = np.maximum(profile[:, cols], MIN_MU)
    return mu, alpha


def moving_average_normal(history, window: int = 28):
    """The retail default's inputs: mean and standard deviation of the last `window` days."""
    y = np.asarray(history, dtype=np.float64)[:, -window:]
    return y.mean(axis=1), y.std(axis=1)


# ---------------------------------------------------------------------------------------------
# Point baselines of the M5 evaluation (naive ... TSB). Each takes history (n, T) and returns
# (point (n, horizon), fitted (n, T)): fitted[:, t] is the method's one-step forecast of day t
# from the days before t (NaN where the method has no state yet). Stateful methods start at each
# series' first nonzero sale, as the metrics count history; an all-zero series forecasts 0.

SES_GRID = (0.01, 0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.5)
RESIDUAL_WINDOW = 364   # days of in-sample one-step residuals behind the distributions


def _as_history(history) -> np.ndarray:
    y = np.asarray(history, dtype=np.float64)
    if y.ndim != 2 or y.shape[1] == 0:
        raise ValueError(f"history: expected a (n_series, n_days) array with n_days >= 1, got shape {y.shape}")
    if not np.isfinite(y).all() or (y < 0).any():
        raise ValueError("history: must be finite and >= 0")
    return y


def _check_horizon(horizon) -> int:
    if int(horizon) != horizon or horizon < 1:
        raise ValueError(f"horizon: must be a whole number >= 1, got {horizon}")
    return int(horizon)


def first_sale(history) -> np.ndarray:
    """Index of each row's first nonzero value (n_days for an all-zero row)."""
    y = np.asarray(history)
    return np.where((y != 0).any(1), np.argmax(y != 0, axis=1), y.shape[1])


def naive(history, horizon: int = 28):
    """Last value repeated; fitted[:, t] = y[:, t-1]."""
    y, h = _as_history(history), _check_horizon(horizon)
    fitted = np.full_like(y, np.nan)
    fitted[:, 1:] = y[:, :-1]
    return np.repeat(y[:, -1:], h, axis=1), fitted


def seasonal_naive(history, horizon: int = 28, season: int = 7):
    """Last `season` days repeated; fitted[:, t] = y[:, t-season]."""
    y, h = _as_history(history), _check_horizon(horizon)
    if not 1 <= season <= y.shape[1]:
        raise ValueError(f"season: must be in [1, n_days={y.shape[1]}], got {season}")
    fitted = np.full_like(y, np.nan)
    fitted[:, season:] = y[:, :-season]
    reps = -(-h // season)
    return np.tile(y[:, -season:], reps)[:, :h], fitted


def window_mean(history, horizon: int = 28, window: int = 28):
    """Mean of the last `window` days (leading zeros included, as in the M5 benchmark);
    fitted[:, t] = mean of days t-window..t-1."""
    y, h = _as_history(history), _check_horizon(horizon)
    if not 1 <= window <= y.shape[1]:
        raise ValueError(f"window: must be in [1, n_days={y.shape[1]}], got {window}")
    c = np.concatenate([np.zeros((len(y), 1)), np.cumsum(y, axis=1)], axis=1)
    fitted = np.full_like(y, np.nan)
    fitted[:, window:] = (c[:, window:-1] - c[:, :-window - 1]) / window
    return np.repeat(y[:, -window:].mean(1, keepdims=True), h, axis=1), fitted


def _ses_run(y, f, alphas):
    """SES levels for every alpha in the columns of `alphas` (n, G): (fitted (n, G, T) only for
    G == 1 else None, SSE of one-step errors after the first sale (n, G), final level (n, G)).
    The level starts at the first sale's value."""
    n, T = y.shape
    lvl = np.zeros(alphas.shape)
    sse = np.zeros(alphas.shape)
    fitted = np.full((n, T), np.nan) if alphas.shape[1] == 1 else None
    for t in range(T):
        yt = y[:, t:t + 1]
        on = (t > f)[:, None]
        if fitted is not None:
            fitted[:, t] = np.where(on[:, 0], lvl[:, 0], np.nan)
        err = yt - lvl
        sse += np.where(on, err * err, 0.0)
        lvl = np.where(on, lvl + alphas * err, np.where((t == f)[:, None], yt, lvl))
    return fitted, sse, lvl


def ses(history, horizon: int = 28, grid=SES_GRID):
    """Simple exponential smoothing with the smoothing parameter of each series picked from
    `grid` by the in-sample one-step SSE (ties: the smaller value). Returns (point, fitted, alpha)."""
    y, h = _as_history(history), _check_horizon(horizon)
    g = np.asarray(grid, np.float64)
    if g.ndim != 1 or len(g) == 0 or ((g <= 0) | (g > 1)).any():
        raise ValueError(f"grid: smoothing parameters must lie in (0, 1], got {grid}")
    f = first_sale(y)
    _, sse, _ = _ses_run(y, f, np.broadcast_to(g, (len(y), len(g))))
    alpha = g[np.argmin(sse, axis=1)]
    fitted, _, lvl = _ses_run(y, f, alpha[:, None])
    return np.repeat(lvl, h, axis=1), fitted, alpha


def croston(history, horizon: int = 28, alpha: float = 0.1, sba: bool = False):
    """Croston's method: SES (constant `alpha`) of the nonzero demand sizes z and of the
    intervals p between them, forecast z / p; ``sba=True`` is the Syntetos-Boylan
    approximation (1 - alpha/2) z / p. State starts at the first sale: z = that sale, p = 1."""
    y, h = _as_history(history), _check_horizon(horizon)
    if not 0 < alpha <= 1:
        raise ValueError(f"alpha: must lie in (0, 1], got {alpha}")
    n, T = y.shape
    f = first_sale(y)
    factor = 1 - alpha / 2 if sba else 1.0
    z, p, last = np.zeros(n), np.ones(n), f.astype(np.float64)
    fitted = np.full((n, T), np.nan)
    for t in range(T):
        yt = y[:, t]
        on = t > f
        fitted[:, t] = np.where(on, factor * z / p, np.nan)
        dem = on & (yt > 0)
        z = np.where(dem, z + alpha * (yt - z), np.where(t == f, yt, z))
        p = np.where(dem, p + alpha * ((t - last) - p), p)
        last = np.where(dem, t, last)
    return np.repeat((factor * z / p)[:, None], h, axis=1), fitted


def tsb(history, horizon: int = 28, alpha: float = 0.1, beta: float = 0.1):
    """Teunter-Syntetos-Babai: SES (`beta`) of the demand occurrence every day and SES
    (`alpha`) of the sizes on demand days, forecast probability x size. State starts at the
    first sale: size = that sale, probability = 1."""
    y, h = _as_history(history), _check_horizon(horizon)
    for name, v in (("alpha", alpha), ("beta", beta)):
        if not 0 < v <= 1:
            raise ValueError(f"{name}: must lie in (0, 1], got {v}")
    n, T = y.shape
    f = first_sale(y)
    z, d = np.zeros(n), np.zeros(n)
    fitted = np.full((n, T), np.nan)
    for t in range(T):
        yt = y[:, t]
        on = t > f
        fitted[:, t] = np.where(on, d * z, np.nan)
        start = t == f
        d = np.where(on, d + beta * ((yt > 0) - d), np.where(start, 1.0, d))
        z = np.where(on & (yt > 0), z + alpha * (yt - z), np.where(start, yt, z))
    return np.repeat((d * z)[:, None], h, axis=1), fitted


# ---------------------------------------------------------------------------------------------
# Distributions around a point forecast, from the in-sample one-step residuals y - fitted over
# the last `window` days after each series' first sale.

def _residual_mask(y, fitted, window):
    T = y.shape[1]
    t = np.arange(T)[None, :]
    return (t > first_sale(y)[:, None]) & (t >= T - window) & np.isfinite(fitted)


def residual_nb_alpha(history, fitted, window: int = RESIDUAL_WINDOW) -> np.ndarray:
    """NB dispersion per series by moments of the residuals: E r^2 = E f + alpha E f^2, i.e.
    alpha = (mean r^2 - mean f) / mean f^2 over the residual days, clipped to [0, 50]
    (0 where a series has no residual day)."""
    y = _as_history(history)
    fitted = np.asarray(fitted, np.float64)
    if fitted.shape != y.shape:
        raise ValueError(f"fitted: shape {fitted.shape} differs from history's {y.shape}")
    ok = _residual_mask(y, fitted, window)
    cnt = np.maximum(ok.sum(1), 1)
    fv = np.where(ok, np.maximum(fitted, 0.0), 0.0)
    r2 = np.where(ok, (y - np.where(ok, fitted, 0.0)) ** 2, 0.0).sum(1) / cnt
    m1, m2 = fv.sum(1) / cnt, (fv * fv).sum(1) / cnt
    alpha = (r2 - m1) / np.maximum(m2, MIN_MU ** 2)
    return np.where(ok.any(1), np.clip(alpha, 0.0, 50.0), 0.0)


def nb_paths(point, alpha, num_samples: int, seed: int = 0, keys=None, shock=None) -> np.ndarray:
    """Sample paths (n, num_samples, h) int64 of NB(mu = max(point, MIN_MU), alpha per series),
    days independent, through skucast.nbinom.sample (keys: one int64 per series, default the
    row index; step = forecast day). ``shock`` (num_samples, h), e.g. from
    skucast.common_shock.gamma_shock, multiplies mu of every series on path j, day t; a
    (n, num_samples, h) one (common_shock.group_shock) gives each series its own factors."""
    from . import nbinom
    mu = np.maximum(np.asarray(point, np.float64), MIN_MU)
    n, h = mu.shape
    a = np.asarray(alpha, np.float64)
    if a.shape != (n,):
        raise ValueError(f"alpha: expected shape ({n},), got {a.shape}")
    k = np.arange(n, dtype=np.int64) if keys is None else np.asarray(keys, np.int64)
    if k.shape != (n,):
        raise ValueError(f"keys: expected shape ({n},), got {k.shape}")
    if shock is None:
        d = nbinom.sample(mu, a[:, None], num_samples, seed, keys=np.broadcast_to(k[:, None], (n, h)),
                          step=np.arange(h)[None, :])
        return d.transpose(0, 2, 1)
    g = np.asarray(shock, np.float64)
    if g.shape == (num_samples, h):
        g = g[None]
    if g.shape[1:] != (num_samples, h) or g.shape[0] not in (1, n):
        raise ValueError(f"shock: expected shape ({num_samples}, {h}) or ({n}, {num_samples}, {h}), got {g.shape}")
    pk = (k[:, None] << 20) | np.arange(num_samples, dtype=np.int64)[None, :]     # one key per path
    d = nbinom.sample(np.maximum(mu[:, None, :] * g, MIN_MU), a[:, None, None], 1, seed,
                      keys=np.broadcast_to(pk[..., None], (n, num_samples, h)),
                      step=np.arange(h)[None, None, :])
    return d[..., 0]


def empirical_paths(point, history, fitted, num_samples: int, seed: int = 0,
                    window: int = RESIDUAL_WINDOW) -> np.ndarray:
    """Sample paths (n, num_samples, h) float: point + an in-sample residual, clipped at 0.
    Path j, day t takes the residual of one past day d[j, t] drawn uniformly from the last
    `window` days, the same day for every series, so the paths keep the cross-series
    correlation of the residuals (residual 0 before a series' first sale)."""
    y = _as_history(history)
    point = np.asarray(point, np.float64)
    fitted = np.asarray(fitted, np.float64)
    if fitted.shape != y.shape:
        raise ValueError(f"fitted: shape {fitted.shape} differs from history's {y.shape}")
    W = min(int(window), y.shape[1])
    ok = _residual_mask(y, fitted, W)[:, -W:]
    r = np.where(ok, y[:, -W:] - np.where(ok, fitted[:, -W:], 0.0), 0.0)
    rng = np.random.Generator(np.random.Philox(np.random.SeedSequence([int(seed), 0xE3])))
    day = rng.integers(0, W, size=(num_samples, point.shape[1]))   # row j does not depend on S
    return np.maximum(point[:, None, :] + r[:, day], 0.0)
