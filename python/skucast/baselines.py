"""Simple NB forecasters used as baselines and by the built-in demo (numpy only).

Both return daily NB parameters (mu over the horizon, alpha per series) from the history
before a forecast origin, so they feed the same inventory path as the neural models.
"""
from __future__ import annotations

import numpy as np

MIN_MU = 1e-3  # NB needs mu > 0; an item with no recent sales gets a near-zero mean


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
