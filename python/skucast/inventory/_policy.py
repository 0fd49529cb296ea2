"""Lead-time demand, safety stock, order-up-to levels and replenishment orders.

Demand over the *protection interval* of row i, days ``[start[i], start[i] + L + R)`` (L the
lead time, R the review period), comes either from daily NB(mu, alpha) parameters (mean mu,
variance mu + alpha mu^2; days independent) or from sample paths.

Service targets
---------------
* ``target="csl"`` (cycle service level): S = smallest integer with P(D_{L+R} <= S) >= service_level.
* ``target="fill_rate"``: S = smallest integer whose expected shortage per review cycle is at most
  (1 - service_level) x the expected demand per cycle, with backorders (Silver, Pyke & Peterson,
  "Inventory and Production Management in Supply Chains", 4th ed., sec. 6.9; Axsater, "Inventory
  Control", sec. 5.5):

  - R >= 1 (periodic review):  E[(D_{L+R} - S)^+] - E[(D_L - S)^+] <= (1 - beta) E[D_R]
    (the units short in a cycle are the shortage at the end of the cycle minus the shortage
    already there when the cycle's order was placed; D_R = D_{L+R} - D_L);
  - R = 0 (continuous review / base stock): E[(D_L - S)^+] <= (1 - beta) x mean daily demand over
    the lead time (E[D_L] / L; a conservative one-day-cycle form, as in the issue).

  The loss function E[(D - S)^+] is computed exactly, never by simulation: for an NB law in
  closed form (constant daily parameters, or the variance-matched NB) from one tail fraction,
  E[(D - S)^+] = (m - S) sf(S) + m (1 + a S) pmf(S), then moved by pmf ratios from a normal-loss
  guess (bracketed by jumps where a heavy tail puts the level far from it); for convolved
  windows by Panjer's recursion (below); else from pmf arrays (backward sums of the tail).
  Every search compares the shortage with the budget within 1e-12 x (E[D_{L+R}] + 1) units, so
  that a budget of 0 (no demand expected in the cycle) does not chase rounding in a far tail.
  Where the budget itself is below ~1e-10 units (a cycle whose expected demand is ~0 at a
  service level near 1), that margin decides, and S is lower than the literal rule's by as many
  units as lie within it.
* The reorder point ``s`` is the same target applied to lead-time demand D_L alone (csl:
  the service_level quantile of D_L; fill rate: E[(D_L - s)^+] <= the same shortage budget,
  kept at most S: with a short review period that budget can ask for more than S, and a reorder
  point above S would only ever order up to S).

Methods (NB parameters)
-----------------------
* ``"exact"``: when alpha_t mu_t is the same on every day of the window (e.g. mu and alpha constant
  per row, or Poisson days) the window sum is exactly NB(sum mu_t, alpha_t mu_t / sum mu_t)
  (a sum of NB with a common success probability), so S is an exact NB quantile. Otherwise the
  window's law is the convolution of the daily laws, by Panjer's recursion (below), for every
  level up to 2^20 units; past that (window means in the hundreds of thousands) it is the
  variance-matched NB. The convolution costs O(level x days): ~2-4 us a row for M5-like windows
  of up to 28 days, ~0.3 ms at a window mean of 2e4, ~7 ms at 6e5 (1 thread). ``"moment"`` is the
  fast approximation, and ``EXACT_CONVOLUTION_MEAN`` (default inf) caps the mean of the convolved
  windows (the variance-matched NB above it: accuracy measured in bench/RESULTS.md).
* ``"convolution"``: the convolution of the daily laws at any level (Panjer's recursion out to 2^26
  units, then pmf arrays with tails below 1e-16 dropped); the closed form where it is exact.
* ``"moment"``: always the variance-matched NB (mean sum mu_t, variance sum mu_t + alpha_t mu_t^2).
* ``"normal"``: the retail baseline ceil(mean + z sd), z = Phi^-1(service_level) (fill rate: the
  normal loss function).

With a deterministic lead time the law of a convolved window is not built as an array: it comes
from Panjer's recursion for the sum (each NB day is a compound Poisson law), run only as far as
the level: the quantile for csl, and for fill rate the first S whose expected shortage
mean - sum_{j<S} P(D > j) (compensated sums) is within the budget. A P(0) below the double range
is carried scaled by a power of two. The shortage's tails carry the recursion's rounding, ~1e-11 of
the mean after a million steps, so fill-rate near-ties within that margin may go either way. Its
pmf values carry a relative rounding of ~1e-14 after ~1,000 steps, which a running cdf turns into
an absolute error the size of the tail near q = 1, so csl levels past q = 1 - 1e-7 are taken from
the upper tail itself, summed backward (the running cdf was one unit low at q = 1 - 1e-12 in a
window of mean 300, three at 1 - 1e-13). The
recursion runs out to 2^26 units under "convolution" and in ``lead_time_pmf`` mixtures (past that,
pmf arrays, refused past 2^26 entries); a fixed window under "exact" stops at 2^20 units and takes
the variance-matched NB past it.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from .. import _checks, _core, _gpu, _gpu_inventory
from . import _sample_levels

__all__ = ["order_up_to", "safety_stock", "replenish", "plan_orders", "OrderUpToResult", "ReplenishResult",
           "REASON_NAMES"]

_METHODS = {"normal": 0, "exact": 1, "convolution": 2, "moment": 3}
_TARGETS = {"csl": 0, "fill_rate": 1}
_POLICIES = {"RS": 0, "base_stock": 1, "sS": 2, "sQ": 3}

# method="exact" convolves non-closed-form windows up to this mean (see module docstring): all of
# them by default.
EXACT_CONVOLUTION_MEAN = float("inf")

REASON_NAMES = (
    "ordered",                   # 0: the policy quantity (rounded up to whole cases)
    "at_or_above_target",        # 1: RS / base_stock: inventory position >= S
    "above_reorder_point",       # 2: sS / sQ: inventory position > s
    "raised_to_moq",             # 3: raised to the minimum order quantity
    "capped_by_max_order",       # 4: reduced by max_order (still >= moq)
    "capped_by_shelf_capacity",  # 5: reduced by the shelf room (still >= moq)
    "zero_by_max_order",         # 6: max_order (whole cases) left less than the moq / a case
    "zero_by_shelf_capacity",    # 7: no room for a whole case / the moq
)


# --------------------------------------------------------------------------- results
@dataclasses.dataclass
class OrderUpToResult:
    """S: int64 (n,) order-up-to level; s: int64 (n,) reorder point (target on lead-time demand);
    safety_stock: float64 (n,) = S - mean_demand; mean_demand: float64 (n,) mean protection-interval
    demand."""
    S: np.ndarray
    s: np.ndarray
    safety_stock: np.ndarray
    mean_demand: np.ndarray

    def to_frame(self):
        import pandas as pd
        return pd.DataFrame(dataclasses.asdict(self))


@dataclasses.dataclass
class ReplenishResult:
    """order: int64 (n,) quantity to order today; reason: int8 (n,) index into reason_names;
    S, s: the levels used when they were computed from NB parameters (else None)."""
    order: np.ndarray
    reason: np.ndarray
    reason_names: tuple = REASON_NAMES
    S: np.ndarray | None = None
    s: np.ndarray | None = None

    def reason_labels(self) -> np.ndarray:
        return np.asarray(self.reason_names, dtype=object)[self.reason]

    def to_frame(self):
        import pandas as pd
        cols = {"order": self.order,
                "reason": pd.Categorical.from_codes(self.reason, categories=list(self.reason_names))}
        if self.S is not None:
            cols["S"] = self.S
        if self.s is not None:
            cols["s"] = self.s
        return pd.DataFrame(cols)


# --------------------------------------------------------------------------- argument helpers
def _choice(value, name, options):
    if not isinstance(value, str) or value not in options:
        raise ValueError(f"{name}: must be one of {sorted(options)}, got {value!r}")
    return options[value]


def _service(service_level) -> float:
    v = _checks.as_numeric(service_level, "service_level")
    if v.ndim != 0:
        raise ValueError("service_level: must be a scalar")
    v = float(v)
    if not (0.0 < v < 1.0):
        raise ValueError(f"service_level: must be in the open interval (0, 1), got {v!r}")
    return v


MAX_DAYS = 2**40   # start, lead time, review period: their sums stay far inside int64 (and exact in double)
MAX_DAYS_TEXT = "2**40 days"


def _row_ints(value, name, n=None, low=None, rule=None, high=None, high_text=None):
    """int64 scalar (0-d) or (n,) contiguous array; checks low <= value (<= high)."""
    a = _checks.as_int64(value, name)
    if a.ndim > 1:
        raise ValueError(f"{name}: must be a scalar or a 1-d array of per-row values, got shape {a.shape}")
    if a.ndim == 1 and n is not None and a.shape[0] != n:
        raise ValueError(f"{name}: length {a.shape[0]} does not match the {n} rows")
    bounds = []
    if low is not None:
        bounds.append((name, a < low, rule or f"must be >= {low}"))
    if high is not None:
        bounds.append((name, a > high, f"must be <= {high_text or high}"))
    _checks.raise_first_bad({name: a}, bounds)
    return a if a.flags.c_contiguous else a.copy()


def _rows_of(arrays: dict) -> int | None:
    n = None
    first = None
    for name, v in arrays.items():
        if v is None:
            continue
        try:
            shape = np.shape(v)
        except ValueError:  # ragged nested lists: the argument's own TypeError
            shape = _checks.as_numeric(v, name).shape
        if len(shape) >= 1:
            if n is None:
                n, first = shape[0], name
            elif shape[0] != n:
                raise ValueError(f"mismatched lengths: {first} has {n} rows, {name} has {shape[0]}")
    return n


def _lead_time_pmf(lead_time_pmf, n):
    p = _checks.as_numeric(lead_time_pmf, "lead_time_pmf").astype(np.float64)
    if p.ndim == 1:
        p = np.broadcast_to(p, (n, p.shape[0]))
    if p.ndim != 2 or p.shape[0] != n or p.shape[1] < 1:
        raise ValueError(f"lead_time_pmf: expected shape (n, Lmax + 1) = ({n}, ...), got {p.shape}")
    _checks.raise_first_bad({"lead_time_pmf": p},
                            [("lead_time_pmf", ~(np.isfinite(p) & (p >= 0)), "must be finite and >= 0")])
    sums = p.sum(axis=1)
    bad = np.abs(sums - 1.0) > 1e-9
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise _checks.bad_value("lead_time_pmf", "each row must sum to 1", (i,), float(sums[i]))
    # drop trailing all-zero columns
    cols = np.flatnonzero(p.any(axis=0))
    lmax = int(cols[-1]) if cols.size else 0
    return np.ascontiguousarray(p[:, :lmax + 1])


_KERNEL_SAMPLE_DTYPES = (np.dtype(np.float32), np.dtype(np.float64), np.dtype(np.int32), np.dtype(np.int64))


class _Demand:
    """Validated demand input: NB parameters (kernel-ready views) or sample paths."""

    def __init__(self, mu, alpha, samples, lead_time, review_period, lead_time_pmf, start, sample_range_later=False):
        """sample_range_later: the samples' range check is left to the caller's first window
        pass (sample_range); otherwise it runs here, a pass of its own."""
        if (mu is None) == (samples is None):
            raise ValueError("give either mu (with alpha) or samples, not both / neither")
        if lead_time is None and lead_time_pmf is None:
            raise ValueError("lead_time: required (or give lead_time_pmf)")
        if lead_time is not None and lead_time_pmf is not None:
            raise ValueError("lead_time: give lead_time or lead_time_pmf, not both")
        if samples is not None:
            if alpha is not None:
                raise ValueError("alpha: only with mu (samples carry their own dispersion)")
            self.mu = self.alpha = None
            self.samples = _checks.as_numeric(samples, "samples")
            if self.samples.dtype == np.float16:  # (its range check would cast 2^62 / horizon to inf)
                self.samples = self.samples.astype(np.float32)
            if self.samples.ndim != 3:
                raise ValueError(f"samples: expected shape (n, num_samples, horizon), got {self.samples.shape}")
            if self.samples.shape[1] == 0:
                raise ValueError("samples: num_samples must be >= 1")
            # window sums of up to `horizon` days stay below 2^62 (int64 sums cannot wrap)
            self.sample_limit = 2**62 // max(self.samples.shape[2], 1)
            # (the fused check reads the kernels' four dtypes; others are widened first, and
            # checked here as they are)
            self.sample_range_later = sample_range_later and self.samples.dtype in _KERNEL_SAMPLE_DTYPES
            if not self.sample_range_later:
                self.check_samples()
            self.n, self.horizon = self.samples.shape[0], self.samples.shape[2]
        else:
            if alpha is None:
                raise ValueError("alpha: required with mu")
            self.samples = None
            mu_arr = _checks.as_numeric(mu, "mu").astype(np.float64, copy=False)
            al = _checks.as_numeric(alpha, "alpha").astype(np.float64, copy=False)
            if mu_arr.ndim == 1:  # constant daily mean per row, any window length
                self.n, self.horizon = mu_arr.shape[0], None
                if al.ndim > 1 or (al.ndim == 1 and al.shape[0] != self.n):
                    raise ValueError(f"alpha: shape {al.shape} must be () or ({self.n},) when mu is 1-d")
            elif mu_arr.ndim == 2:
                self.n, self.horizon = mu_arr.shape
                if al.ndim == 1 and al.shape[0] == self.n:
                    _checks.per_row_alpha(self.n, self.horizon)
                    al = al[:, None]  # one dispersion per row (the usual case), whatever the horizon
                try:
                    np.broadcast_to(al, mu_arr.shape)
                except ValueError:
                    raise ValueError(f"alpha: shape {al.shape} does not broadcast to mu's shape {mu_arr.shape}") from None
            else:
                raise ValueError(f"mu: expected shape (n, horizon) or (n,), got {mu_arr.shape}")
            self.mu, self.alpha = mu_arr, al
        n = self.n
        self._raw = (start, review_period, lead_time)
        # dtype/shape conversion only; value checks run in the kernel (one pass with the work) and
        # validate() names the argument and row when the kernel reports a bad row.
        self.start = _row_ints(start, "start", n)
        self.review = _row_ints(review_period, "review_period", n)
        if lead_time_pmf is not None:
            self.lt_pmf = _lead_time_pmf(lead_time_pmf, n)
            self.lead = np.zeros((), np.int64)
        else:
            self.lt_pmf = None
            self.lead = _row_ints(lead_time, "lead_time", n)
        if self.samples is not None:
            try:
                self.validate()
            except ValueError:
                # a bad sample value is reported before a bad window, as when the range check
                # ran first (here it runs only on this error path)
                if self.sample_range_later:
                    self.check_samples()
                raise

    def validate(self):
        """Full value checks of the windows and parameters, raising the first bad one."""
        n = self.n
        # the day bound is checked on this error path only (the kernels check it on every row)
        _row_ints(self.start, "start", n, 0, high=MAX_DAYS, high_text=MAX_DAYS_TEXT)
        _row_ints(self.review, "review_period", n, 0, high=MAX_DAYS, high_text=MAX_DAYS_TEXT)
        if self.lt_pmf is not None:
            lmax = self.lt_pmf.shape[1] - 1
            reach, max_lead, name = self.start + lmax + self.review, np.asarray(lmax), "lead_time_pmf"
        else:
            _row_ints(self.lead, "lead_time", n, 0, high=MAX_DAYS, high_text=MAX_DAYS_TEXT)
            reach, max_lead, name = self.start + self.lead + self.review, self.lead, "lead_time"
        if self.horizon is not None:
            over = np.atleast_1d(reach) > self.horizon
            if over.any():
                i = int(np.flatnonzero(over)[0])
                idx = (i,) if np.ndim(reach) else ()
                raise _checks.bad_value(
                    name, f"the protection interval start + lead time + review_period must end within the "
                    f"horizon ({self.horizon} days)", idx, int(np.atleast_1d(max_lead)[i if np.ndim(max_lead) else 0]))
        if self.samples is None:
            self.raise_bad_params()

    # kernel views (n, days) float64 without copies; (n,) mu: day stride 0, horizon -1 (unlimited)
    def kernel_params(self):
        if self.horizon is None:
            mu = np.lib.stride_tricks.as_strided(self.mu, (self.n, 1), (self.mu.strides[0], 0))
            al = np.broadcast_to(self.alpha, (self.n,))
            al = np.lib.stride_tricks.as_strided(al, (self.n, 1), (al.strides[0] if al.ndim else 0, 0))
            return mu, al, -1
        return self.mu, np.broadcast_to(self.alpha, self.mu.shape), self.horizon

    def check_samples(self):
        """The samples' range in a pass of its own (finite, >= 0, <= sample_limit)."""
        if not _checks.within(self.samples, 0, self.sample_limit):
            self.raise_bad_samples()

    def raise_bad_samples(self):
        limit = self.sample_limit
        _checks.raise_first_bad({"samples": self.samples}, [
            ("samples", ~np.isfinite(self.samples) if self.samples.dtype.kind == "f" else False, "must be finite"),
            ("samples", self.samples < 0, "demand must be >= 0"),
            ("samples", self.samples > limit, f"demand must be <= 2**62 / horizon = {limit}")])

    def sample_range(self):
        """(low, high, raise_bad) for the sample levels' window pass when it checks the range, else None."""
        return (0, self.sample_limit, self.raise_bad_samples) if self.sample_range_later else None

    def raise_bad_params(self):
        _checks.raise_first_bad({"mu": self.mu, "alpha": self.alpha}, [
            ("mu", ~(np.isfinite(self.mu) & (self.mu >= 0)), "must be finite and >= 0"),
            ("alpha", ~(np.isfinite(self.alpha) & (self.alpha >= 0)), "must be finite and >= 0"),
        ])


# --------------------------------------------------------------------------- order-up-to
def order_up_to(*, mu=None, alpha=None, samples=None, lead_time=None, review_period=0, service_level=0.95,
                target="csl", method="exact", lead_time_pmf=None, start=0) -> OrderUpToResult:
    """Order-up-to level S, reorder point s and safety stock from protection-interval demand.

    Parameters
    ----------
    mu : (n, horizon) float daily NB means (>= 0; 0 = no demand that day), or (n,) a constant daily
        mean per row (windows of any length).
    alpha : NB dispersion (>= 0, 0 = Poisson), broadcastable to mu (numpy rules), except that a
        (n,) alpha with (n, horizon) mu is one dispersion per row (a ValueError when n == horizon,
        which numpy would read per day: pass ``alpha[:, None]`` or ``alpha[None, :]`` there).
    samples : (n, num_samples, horizon) sample paths, instead of mu/alpha.
    lead_time, review_period, start : int or (n,) int arrays >= 0. The protection interval of row
        i is days [start, start + lead_time + review_period) and must lie within the horizon.
    lead_time_pmf : (n, Lmax + 1) or (Lmax + 1,) P(L = l), rows summing to 1 (instead of lead_time):
        demand is the mixture over l of the windows of length l + review_period.
    service_level : in (0, 1). target : "csl" or "fill_rate" (see the module docstring).
    method : "exact", "convolution", "moment" or "normal" (NB parameters); samples use the
        empirical distribution of the window sums (``"normal"``: their mean and std, ddof=1).

    Returns
    -------
    OrderUpToResult with int64 S and s, float64 safety_stock (= S - mean_demand) and mean_demand.

    >>> r = skucast.inventory.order_up_to(mu=np.full(3, 2.0), alpha=0.3, lead_time=7, review_period=7,
    ...                                   service_level=0.95)
    >>> r.S, r.safety_stock
    """
    if _gpu.any_gpu(mu, alpha, samples, lead_time, review_period, lead_time_pmf, start):
        return _gpu_inventory.order_up_to(dict(
            mu=mu, alpha=alpha, samples=samples, lead_time=lead_time, review_period=review_period,
            service_level=service_level, target=target, method=method, lead_time_pmf=lead_time_pmf, start=start))
    q = _service(service_level)
    tgt = _choice(target, "target", _TARGETS)
    meth = _choice(method, "method", _METHODS)
    dem = _Demand(mu, alpha, samples, lead_time, review_period, lead_time_pmf, start, sample_range_later=True)
    if dem.samples is not None:
        S, s, mean = _sample_levels.levels(dem.samples, dem.start, dem.lead, dem.review, dem.lt_pmf, q, tgt, meth,
                                           value_range=dem.sample_range())
        return OrderUpToResult(S, np.minimum(s, S), S - mean, mean)   # s at most S (module docstring)
    mu_v, al_v, horizon = dem.kernel_params()
    S, s, mean, safety, bad = _core.inv_order_up_to_nb(
        mu_v, al_v, horizon, dem.start, dem.lead, dem.review, dem.lt_pmf, q, tgt, meth, EXACT_CONVOLUTION_MEAN)
    if bad is not None:
        dem.validate()
        if bad[1] == _TOO_WIDE:
            raise _too_wide(bad[0])
        raise RuntimeError(f"invalid demand input in row {bad[0]}")  # pragma: no cover
    return OrderUpToResult(S, s, safety, mean)


_TOO_WIDE = 3  # RowSolver's code for a law wider than its pmf arrays (cpu/src/inventory_policy.cpp)


def _too_wide(row):
    return ValueError(f"mu: row {row}: the protection interval's demand law spans more than 2**26 units, too wide "
                      "for the pmf arrays of this method (fill rate, lead_time_pmf or convolved windows); use "
                      "method='normal' for such rows")


def safety_stock(**kwargs) -> np.ndarray:
    """float64 (n,) safety stock S - mean protection-interval demand; arguments as :func:`order_up_to`."""
    return order_up_to(**kwargs).safety_stock


# --------------------------------------------------------------------------- replenishment
_REPLENISH_ERRORS = {
    0: ("on_hand", "must be >= 0"),
    1: ("on_order", "must be >= 0"),
    2: ("backorders", "must be >= 0"),
    3: ("case_pack", "must be >= 1"),
    4: ("moq", "must be >= 0"),
    5: ("max_order", "must be >= 0"),
    6: ("moq", "must be <= max_order"),
    7: ("shelf_capacity", "must be >= 0"),
    8: ("Q", "must be >= 1 for policy 'sQ'"),
    9: ("s", "must be <= S for policy 'sS'"),
    10: ("on_hand", "must be <= 2**60"),
    11: ("on_order", "must be <= 2**60"),
    12: ("backorders", "must be <= 2**60"),
    13: ("case_pack", "must be <= 2**60"),
    14: ("moq", "must be <= 2**60"),
    15: ("max_order", "must be <= 2**60"),
    16: ("shelf_capacity", "must be <= 2**60"),
    17: ("Q", "must be <= 2**60"),
    18: ("S", "must be within +-2**62"),
    19: ("s", "must be within +-2**62"),
}


def _raise_replenish(bad, arrays):
    row, arg = bad
    if arg >= 100:
        arrays["_demand"].validate()
        if arg == 100 + _TOO_WIDE:
            raise _too_wide(row)
    name, rule = _REPLENISH_ERRORS[arg]
    a = arrays[name]
    idx = (int(row),) if a.ndim == 1 else ()
    raise _checks.bad_value(name, rule, idx, a[idx])


def replenish(*, on_hand, on_order=0, backorders=0, S=None, s=None, Q=None, policy="RS", moq=0, case_pack=1,
              max_order=None, shelf_capacity=None, mu=None, alpha=None, lead_time=None, review_period=0,
              service_level=0.95, target="csl", method="exact", lead_time_pmf=None, start=0,
              return_levels=False) -> ReplenishResult:
    """Today's order quantity per row.

    Inventory position IP = on_hand + on_order - backorders. Policies:
    ``"RS"`` (periodic order-up-to) and ``"base_stock"``: order S - IP when IP < S;
    ``"sS"``: when IP <= s order S - IP; ``"sQ"``: when IP <= s order the smallest multiple of Q
    that brings IP above s. Then, in this order: round up to whole case packs; raise to the moq
    (in whole cases); cap at max_order (rounded down to whole cases); cap so that on_hand +
    on_order + order <= shelf_capacity (rounded down to whole cases). An order left below the moq
    by a cap is not placed. ``reason`` (int8, see ``reason_names`` / REASON_NAMES) is the last rule
    that decided the quantity, so every row (also every zero) is explained.

    All arguments are int scalars or (n,) int64-convertible integer arrays (lengths must match).
    max_order / shelf_capacity None = no limit.

    Fused form: give ``mu``/``alpha`` (and lead_time, review_period, service_level, target,
    method, lead_time_pmf, start as in :func:`order_up_to`) instead of S/s, and the levels are
    computed in the same pass over the rows (S from lead-time + review demand, s from lead-time
    demand). ``return_levels=True`` also returns them.

    >>> r = skucast.inventory.replenish(on_hand=[3, 40], on_order=[0, 5], S=[24, 24], case_pack=6)
    >>> r.order, [r.reason_names[c] for c in r.reason]      # [24, 0], ['ordered', 'at_or_above_target']
    """
    if _gpu.any_gpu(on_hand, on_order, backorders, S, s, Q, moq, case_pack, max_order, shelf_capacity, mu, alpha,
                    lead_time, review_period, lead_time_pmf, start):
        return _gpu_inventory.replenish(dict(
            on_hand=on_hand, on_order=on_order, backorders=backorders, S=S, s=s, Q=Q, policy=policy, moq=moq,
            case_pack=case_pack, max_order=max_order, shelf_capacity=shelf_capacity, mu=mu, alpha=alpha,
            lead_time=lead_time, review_period=review_period, service_level=service_level, target=target,
            method=method, lead_time_pmf=lead_time_pmf, start=start, return_levels=return_levels))
    pol = _choice(policy, "policy", _POLICIES)
    fused = mu is not None
    if fused and (S is not None or s is not None):
        raise ValueError("S/s: give either S/s or NB parameters mu/alpha (fused), not both")
    if not fused:
        if pol in (0, 1, 2) and S is None:
            raise ValueError(f"S: required for policy {policy!r}")
        if pol in (2, 3) and s is None:
            raise ValueError(f"s: required for policy {policy!r}")
    if pol == 3 and Q is None:
        raise ValueError("Q: required for policy 'sQ'")
    per_row = {"on_hand": on_hand, "on_order": on_order, "backorders": backorders, "S": S, "s": s, "Q": Q,
               "moq": moq, "case_pack": case_pack, "max_order": max_order, "shelf_capacity": shelf_capacity}
    n = _rows_of({**per_row, "mu": mu})
    if n is None:
        n = 1
        scalar_input = True
    else:
        scalar_input = False
    if on_hand is None:
        raise ValueError("on_hand: required (a scalar or one value per row)")
    # None reads as the argument's default (max_order / shelf_capacity: no limit, below)
    defaults = {"case_pack": 1}
    arrays = {k: _row_ints(defaults.get(k, 0) if v is None else v, k, n) for k, v in per_row.items()}
    a = arrays
    opt = {k: (None if per_row[k] is None else a[k]) for k in ("max_order", "shelf_capacity")}
    if not fused:
        order, reason, bad = _core.inv_replenish(n, pol, a["on_hand"], a["on_order"], a["backorders"], a["S"], a["s"],
                                                 a["Q"], a["moq"], a["case_pack"], opt["max_order"],
                                                 opt["shelf_capacity"])
        if bad is not None:
            _raise_replenish(bad, arrays)
        res = ReplenishResult(order, reason)
    else:
        q = _service(service_level)
        tgt = _choice(target, "target", _TARGETS)
        meth = _choice(method, "method", _METHODS)
        mu_arr = np.asarray(mu)
        if scalar_input:
            mu_arr = mu_arr.reshape(1)
        dem = _Demand(mu_arr, alpha, None, lead_time, review_period, lead_time_pmf, start)
        mu_v, al_v, horizon = dem.kernel_params()
        order, reason, S_out, s_out, bad = _core.inv_plan_orders(
            mu_v, al_v, horizon, dem.start, dem.lead, dem.review, dem.lt_pmf, q, tgt, meth, EXACT_CONVOLUTION_MEAN, pol,
            a["on_hand"], a["on_order"], a["backorders"], a["Q"], a["moq"], a["case_pack"], opt["max_order"],
            opt["shelf_capacity"], _checks.check_bool(return_levels, "return_levels"))
        if bad is not None:
            _raise_replenish(bad, {**arrays, "_demand": dem})
        res = ReplenishResult(order, reason, S=S_out if return_levels else None,
                              s=s_out if return_levels else None)
    return res


def plan_orders(*, mu, alpha, lead_time=None, on_hand, on_order=0, backorders=0, **kwargs) -> ReplenishResult:
    """Fused NB parameters -> order quantities in one pass (``replenish`` with ``mu``/``alpha``).

    >>> skucast.inventory.plan_orders(mu=mu, alpha=0.4, lead_time=3, review_period=7, on_hand=oh,
    ...                               service_level=0.97, case_pack=12)
    """
    return replenish(mu=mu, alpha=alpha, lead_time=lead_time, on_hand=on_hand, on_order=on_order,
                     backorders=backorders, **kwargs)
