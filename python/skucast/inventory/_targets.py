"""optimize_targets() / efficient_frontier(): where the stock goes (issue 7).

Instead of one service target for every SKU, choose per-SKU order-up-to levels that spend an
inventory budget where it fills the most demand per dollar (or reach a portfolio fill rate with
the least inventory value).

Fill-rate notion (per protection interval). ``D_i`` is SKU i's demand over its protection interval
(lead time + review period). With order-up-to ``S_i`` the expected units filled are
``E[min(D_i, S_i)] = sum_{k < S_i} P(D_i > k)`` and the portfolio fill rate is
``sum_i E[min(D_i, S_i)] / sum_i E[D_i]``. The periodic-review form
``E[D_R] - (E[(D_{L+R} - S)^+] - E[(D_L - S)^+])`` is not used: its increments
``P(D_{L+R} > k) - P(D_L > k)`` are not monotone in k, so greedy marginal analysis would not be optimal.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .. import _checks, _core

_STATUS = {0: "solved", 1: "infeasible", 2: "not binding"}


@dataclass
class TargetsResult:
    """Result of :func:`optimize_targets`.

    ``S``: (n,) int64 order-up-to levels. Per category (one entry without ``category``):
    ``value`` (sum cost x S), ``expected_filled`` (sum E[min(D, S)]), ``expected_demand``
    (sum E[D]), ``fill_rate`` (their ratio), ``threshold`` (the gain per dollar P(D > k) / cost of
    the last unit given), ``status`` ("solved"; "not binding": every unit worth stocking fits the
    budget, or the floors already reach the fill target). Scalars ``total_value``,
    ``total_fill_rate``.
    """
    S: np.ndarray
    value: np.ndarray
    expected_filled: np.ndarray
    expected_demand: np.ndarray
    fill_rate: np.ndarray
    threshold: np.ndarray
    status: list = field(default_factory=list)

    @property
    def total_value(self) -> float:
        return float(self.value.sum())

    def to_frame(self):
        """One row per category: value, expected_filled, expected_demand, fill_rate, threshold,
        status (the per-SKU levels are ``S``)."""
        import pandas as pd
        return pd.DataFrame({"value": self.value, "expected_filled": self.expected_filled,
                             "expected_demand": self.expected_demand, "fill_rate": self.fill_rate,
                             "threshold": self.threshold, "status": list(self.status)})

    @property
    def total_fill_rate(self) -> float:
        d = self.expected_demand.sum()
        return float(self.expected_filled.sum() / d) if d > 0 else float("nan")


@dataclass
class FrontierResult:
    """Result of :func:`efficient_frontier`: one entry per point (budget or fill target).

    ``goal``: the budgets or fill targets asked; ``value``: inventory value spent; ``fill_rate``:
    expected portfolio fill rate; ``expected_filled``, ``expected_demand``, ``threshold``,
    ``status``; ``levels``: (n_points, n) int64 or None. ``plot(path)`` writes a PNG.
    """
    goal: np.ndarray
    kind: str
    value: np.ndarray
    fill_rate: np.ndarray
    expected_filled: np.ndarray
    expected_demand: np.ndarray
    threshold: np.ndarray
    status: list
    levels: np.ndarray | None = None

    def to_frame(self):
        """One row per point: goal (the budget or fill target asked), value, fill_rate,
        expected_filled, expected_demand, threshold, status."""
        import pandas as pd
        return pd.DataFrame({"goal": self.goal, "value": self.value, "fill_rate": self.fill_rate,
                             "expected_filled": self.expected_filled, "expected_demand": self.expected_demand,
                             "threshold": self.threshold, "status": list(self.status)})

    def plot(self, path, *, others: dict | None = None, title: str = "Fill rate against inventory value"):
        """Writes the frontier (and ``others``: {label: (values, fill_rates)}) as a PNG at ``path``."""
        try:
            import matplotlib
        except ImportError:
            raise ImportError("FrontierResult.plot needs matplotlib: pip install 'skucast[plots]'") from None
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        fig, ax = plt.subplots(figsize=(7, 4.5))
        ax.plot(self.value, self.fill_rate, "o-", label="optimised targets (skucast)")
        for label, (v, f) in (others or {}).items():
            ax.plot(v, f, "s--", label=label)
        ax.set_xlabel("inventory value")
        ax.set_ylabel("fill rate")
        ax.set_title(title)
        ax.grid(alpha=0.3)
        ax.legend()
        fig.tight_layout()
        fig.savefig(path, dpi=120)
        plt.close(fig)
        return path


def _per_sku(value, name, n, integer=False):
    v = _checks.as_int64(value, name) if integer else _checks.as_numeric(value, name).astype(np.float64)
    if v.ndim > 1 or (v.ndim == 1 and v.shape[0] != n):
        raise ValueError(f"{name}: expected a scalar or one value per SKU ({n},), got shape {v.shape}")
    return np.ascontiguousarray(np.broadcast_to(v, (n,)))


def _demand(mu, alpha, samples):
    """-> (n, mu, alpha, sorted samples or None)."""
    if (mu is None) == (samples is None):
        raise ValueError("give either mu (and alpha) or samples")
    if samples is not None:
        if alpha is not None:
            raise ValueError("alpha: not used with samples")
        arr = _checks.as_int64(samples, "samples")
        if arr.ndim not in (2, 3):
            raise ValueError(f"samples: expected (n_skus, num_samples) or (n_skus, num_samples, horizon), "
                             f"got shape {arr.shape}")
        if arr.shape[1] == 0:
            raise ValueError("samples: the sample axis is empty")
        # levels are at most 2^62 (as order_up_to's), and a path's days sum without wrapping
        limit = 2**62 // max(arr.shape[2], 1) if arr.ndim == 3 else 2**62
        if not _checks.within(arr, 0, limit):
            _checks.raise_first_bad({"samples": arr}, [("samples", arr < 0, "must be >= 0"), (
                "samples", arr > limit, "must be <= 2**62" + (f" / horizon = {limit}" if arr.ndim == 3 else ""))])
        if arr.ndim == 3:  # (n, num_samples, horizon) daily paths: protection-interval totals
            arr = arr.sum(axis=2)
        return arr.shape[0], None, None, np.ascontiguousarray(arr)
    m = _checks.as_numeric(mu, "mu").astype(np.float64)
    if m.ndim not in (1, 2):
        raise ValueError(f"mu: expected (n_skus,) or (n_skus, horizon), got shape {m.shape}")
    a = _checks.as_numeric(0.0 if alpha is None else alpha, "alpha").astype(np.float64)
    try:
        a = np.broadcast_to(a if a.ndim != 1 or m.ndim == 1 else a[:, None], m.shape)
    except ValueError:
        raise ValueError(f"alpha: shape {a.shape} does not broadcast to mu's {m.shape}") from None
    _checks.raise_first_bad({"mu": m, "alpha": a}, [
        ("mu", ~(np.isfinite(m) & (m >= 0)), "must be finite and >= 0"),
        ("alpha", ~(np.isfinite(a) & (a >= 0)), "must be finite and >= 0"),
    ])
    if m.ndim == 2:  # daily parameters: the sum, exact NB when alpha mu is constant, else variance-matched
        mean = m.sum(axis=1)
        var = (m + a * m * m).sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            a = np.where(mean > 0, np.maximum(var - mean, 0.0) / np.where(mean > 0, mean, 1.0) ** 2, 0.0)
        m = mean
    _refuse_saturated_levels(m, a)
    return m.shape[0], np.ascontiguousarray(m), np.ascontiguousarray(a, dtype=np.float64), None


def _refuse_saturated_levels(m, a):
    """The highest level considered, where a unit's gain P(D > k) falls to 1e-12, must be an int64
    below nbinom.ppf's saturation at 2^62 (else the search would stop there, silently short)."""
    from .. import nbinom
    pos = np.flatnonzero(m > 0)
    if pos.size:
        top = nbinom.ppf(1.0 - 1e-12, m[pos], np.broadcast_to(a, m.shape)[pos])
        if (top >= 2**62).any():
            i = int(pos[np.flatnonzero(top >= 2**62)[0]])
            raise _checks.bad_value("mu", "the level where a unit's chance of selling falls to 1e-12 passes 2**62 "
                                    "units (mean demand too large for int64 levels)", (i,), m[i])


def _levels_at(q, mu, alpha, smp):
    """Smallest S with P(D <= S) >= q per SKU (q (n,) in (0, 1))."""
    if smp is not None:
        srt = np.sort(smp, axis=1)
        num = srt.shape[1]
        j = np.clip(np.ceil(q * num).astype(np.int64) - 1, 0, num - 1)
        return srt[np.arange(len(q)), j]
    from .. import nbinom
    out = np.zeros(len(q), dtype=np.int64)
    pos = mu > 0
    if pos.any():
        out[pos] = nbinom.ppf(q[pos], mu[pos], alpha[pos])
    return out


def _bounds(n, mu, alpha, smp, floor, cap, floor_units, cap_units):
    lo = np.zeros(n, dtype=np.int64)
    hi = np.full(n, -1, dtype=np.int64)
    for name, level in (("floor", floor), ("cap", cap)):
        if level is None:
            continue
        q = _per_sku(level, name, n)
        _checks.raise_first_bad({name: q}, [(name, ~((q > 0) & (q < 1)), "must be a service level in (0, 1)")])
        S = _levels_at(q, mu, alpha, smp)
        if name == "floor":
            lo = np.maximum(lo, S)
        else:
            hi = S
    if floor_units is not None:
        fu = _per_sku(floor_units, "floor_units", n, integer=True)
        _checks.raise_first_bad({"floor_units": fu}, [("floor_units", fu < 0, "must be >= 0")])
        lo = np.maximum(lo, fu)
    if cap_units is not None:
        cu = _per_sku(cap_units, "cap_units", n, integer=True)
        _checks.raise_first_bad({"cap_units": cu}, [("cap_units", cu < 0, "must be >= 0")])
        hi = np.where(hi < 0, cu, np.minimum(hi, cu))
    bad = (hi >= 0) & (hi < lo)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(f"cap: below the floor (cap {int(hi[i])} < floor {int(lo[i])} units); "
                         f"first bad value at index ({i},): {int(hi[i])}")
    return lo, hi


def _prepare(mu, alpha, samples, cost, floor, cap, floor_units, cap_units, category):
    n, m, a, smp = _demand(mu, alpha, samples)
    c = _per_sku(cost, "cost", n)
    _checks.raise_first_bad({"cost": c}, [("cost", ~(np.isfinite(c) & (c > 0)), "must be finite and > 0")])
    lo, hi = _bounds(n, m, a, smp, floor, cap, floor_units, cap_units)
    if category is None:
        order, offsets, n_cat = None, np.array([0, n], dtype=np.int64), 1
    else:
        cat = _per_sku(category, "category", n, integer=True)
        _checks.raise_first_bad({"category": cat}, [("category", cat < 0, "must be >= 0"),
                                                    ("category", cat >= 2**31, "must be < 2**31")])
        n_cat = int(cat.max()) + 1 if n else 1
        order = np.argsort(cat, kind="stable")
        offsets = np.zeros(n_cat + 1, dtype=np.int64)
        offsets[1:] = np.cumsum(np.bincount(cat, minlength=n_cat))
    perm = (lambda x: x) if order is None else (lambda x: None if x is None else np.ascontiguousarray(x[order]))
    args = dict(mu=perm(m), alpha=perm(a), samples=perm(smp), cost=perm(c), floor=perm(lo), cap=perm(hi),
                offsets=offsets)
    return n, n_cat, order, args


def _goals(budget, fill_rate, n_cat, n_points_axis=False):
    if (budget is None) == (fill_rate is None):
        raise ValueError("give either budget or fill_rate")
    name, val = ("budget", budget) if budget is not None else ("fill_rate", fill_rate)
    g = _checks.as_numeric(val, name).astype(np.float64)
    if name == "budget":
        rule = ~(np.isfinite(g) & (g >= 0))
        msg = "must be finite and >= 0"
    else:
        rule = ~((g > 0) & (g < 1))
        msg = "must be in (0, 1)"
    _checks.raise_first_bad({name: g}, [(name, rule, msg)])
    return name, g


def _run(args, goals, mode, want_levels):
    return _core.inv_optimize_targets(args["mu"], args["alpha"], args["samples"], args["cost"], args["floor"],
                                      args["cap"], args["offsets"], np.ascontiguousarray(goals, dtype=np.float64),
                                      mode, want_levels)


def optimize_targets(*, cost, mu=None, alpha=None, samples=None, budget=None, fill_rate=None, floor=None, cap=None,
                     floor_units=None, cap_units=None, category=None) -> TargetsResult:
    """Per-SKU order-up-to levels: the most expected units filled for an inventory budget, or the
    least inventory value for a portfolio fill rate.

    Demand of SKU i over its protection interval (lead time + review period): NB(mu[i], alpha[i])
    (mean mu, variance mu + alpha mu^2; alpha = 0 is Poisson; mu = 0: no demand), or daily NB
    parameters ``mu``/``alpha`` of shape (n, horizon) summed over the horizon (exact NB when
    alpha_t mu_t is constant, else the variance-matched NB), or ``samples`` (n, num_samples) of the
    protection-interval total (or (n, num_samples, horizon) daily paths, summed).

    ``cost``: (n,) or scalar > 0, the value of one unit (unit cost or price). Exactly one of
    ``budget`` (maximise sum E[min(D_i, S_i)] subject to sum cost_i S_i <= budget) or
    ``fill_rate`` (minimise sum cost_i S_i subject to sum E[min(D_i, S_i)] >= fill_rate sum E[D_i]);
    with ``category`` ((n,) ints 0..K-1) one budget or fill rate per category ((K,) or a scalar
    for all), each category solved on its own.

    Per-SKU bounds: ``floor`` / ``cap`` as cycle service levels in (0, 1) (S at least / at most the
    smallest S with P(D <= S) >= level), ``floor_units`` / ``cap_units`` in units; both kinds may
    be given (the tighter wins).

    Method: marginal analysis. Unit k + 1 at SKU i fills P(D_i > k) more units in expectation for
    cost_i; these gains per dollar fall with k, so units are given in decreasing gain per dollar.
    The kernel searches the threshold lambda on the gain per dollar (S_i(lambda) = ppf(1 - lambda
    cost_i), clamped to the bounds) and hands out the units at the threshold one by one in order
    (ties: lowest SKU index). Budget mode stops at the budget (a unit that does not fit blocks its
    SKU; cheaper units elsewhere may still fit): the expected units filled are within the gain of
    the first blocked unit (P(D_j > S_j) < 1 expected unit) of the integer optimum, and exactly
    optimal when all costs are equal. Fill-rate mode stops at the first unit reaching the target:
    value within one unit's cost of the least (exact for equal costs). Tests check both bounds by
    enumerating every integer level vector on small portfolios.
    Units whose gain P(D > k) is <= 1e-12 are never stocked above the floor.

    Raises ValueError when the budget is below the floors' cost or the fill rate is out of reach
    (caps, or units worth stocking).

    >>> r = skucast.inventory.optimize_targets(mu=[2.0, 20.0], alpha=0.3, cost=[1.0, 9.0], fill_rate=0.95)
    >>> r.S, r.total_value, r.total_fill_rate
    """
    n, n_cat, order, args = _prepare(mu, alpha, samples, cost, floor, cap, floor_units, cap_units, category)
    name, g = _goals(budget, fill_rate, n_cat)
    if g.ndim > 1 or (g.ndim == 1 and g.shape[0] != n_cat):
        raise ValueError(f"{name}: expected a scalar or one value per category ({n_cat},), got shape {g.shape}")
    goals = np.broadcast_to(g, (n_cat,))[None, :]
    levels, stats = _run(args, goals, 0 if name == "budget" else 1, True)
    st = stats[0]
    for k in range(n_cat):
        if st[k, 4] == 1:
            if name == "budget":
                raise ValueError(f"budget: below the cost of the floors ({st[k, 0]:.6g}); "
                                 f"first bad value at index ({k},): {float(goals[0, k])!r}")
            raise ValueError(f"fill_rate: out of reach (at most {st[k, 1] / st[k, 2]:.6g} with the caps and the units "
                             f"worth stocking); first bad value at index ({k},): {float(goals[0, k])!r}")
    S = levels[0]
    if order is not None:
        out = np.empty_like(S)
        out[order] = S
        S = out
    with np.errstate(invalid="ignore", divide="ignore"):
        fr = st[:, 1] / st[:, 2]
    return TargetsResult(S=S, value=st[:, 0].copy(), expected_filled=st[:, 1].copy(), expected_demand=st[:, 2].copy(),
                         fill_rate=fr, threshold=st[:, 3].copy(), status=[_STATUS[int(s)] for s in st[:, 4]])


def efficient_frontier(*, cost, mu=None, alpha=None, samples=None, budgets=None, fill_rates=None, floor=None,
                       cap=None, floor_units=None, cap_units=None, return_levels=False) -> FrontierResult:
    """Fill rate against inventory value, optimised per point, for a list of budgets or of
    portfolio fill targets, in one call (same demand, cost and bounds arguments as
    :func:`optimize_targets`; no categories). Default: 20 fill targets from 0.80 to 0.995.

    Returns a :class:`FrontierResult` (``value``, ``fill_rate`` per point; ``levels`` (n_points, n)
    with ``return_levels=True``); ``.plot(path)`` writes a PNG. Points that cannot be met (budget
    below the floors, fill target out of reach) have status "infeasible" and report what the
    closest levels give.

    >>> f = skucast.inventory.efficient_frontier(mu=mu, alpha=alpha, cost=price, budgets=[1e4, 2e4, 5e4])
    >>> f.plot("frontier.png")
    """
    if budgets is None and fill_rates is None:
        fill_rates = np.linspace(0.80, 0.995, 20)
    n, n_cat, order, args = _prepare(mu, alpha, samples, cost, floor, cap, floor_units, cap_units, None)
    name, g = _goals(budgets, fill_rates, 1)
    g = np.atleast_1d(g)
    if g.ndim != 1:
        raise ValueError(f"{name}: expected a list of values, got shape {g.shape}")
    levels, stats = _run(args, g[:, None], 0 if name == "budget" else 1, bool(return_levels))
    st = stats[:, 0, :]
    with np.errstate(invalid="ignore", divide="ignore"):
        fr = st[:, 1] / st[:, 2]
    return FrontierResult(goal=g, kind=name, value=st[:, 0].copy(), fill_rate=fr, expected_filled=st[:, 1].copy(),
                          expected_demand=st[:, 2].copy(), threshold=st[:, 3].copy(),
                          status=[_STATUS[int(s)] for s in st[:, 4]], levels=levels)
