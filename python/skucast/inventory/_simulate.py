"""simulate(): run an inventory policy day by day over real demand, every row at once."""
from __future__ import annotations

import numpy as np

from .. import _checks, _core, _gpu, _gpu_inventory

_INT_COLS = ["demand_units", "sold_units", "lost_units", "stockout_days", "num_orders", "ordered_units",
             "cycles", "cycles_ok", "periods"]
# Metrics computed from the totals, in the order _core.inv_sim_metrics returns them (cpu::SimMetric);
# the rest of _METRICS are totals passed through.
_DERIVED = ["fill_rate", "cycle_service_level", "avg_on_hand", "orders_var", "demand_var", "bullwhip",
            "avg_inventory_value", "holding_cost", "ordering_cost", "stockout_cost", "total_cost", "lost_revenue"]
# Bounds that keep every total of the kernel in int64 (inventory/simulate.h, kMaxSimUnits).
MAX_UNITS, MAX_UNITS_TEXT = 2**40, "2**40"
MAX_SIM_DAYS = 2**18

_TRACE_COLS = ["on_hand", "backlog", "sold", "unmet", "order", "arrival", "position"]
_METRICS = ["fill_rate", "cycle_service_level", "stockout_days", "lost_units", "avg_on_hand",
            "avg_inventory_value", "holding_cost", "ordering_cost", "stockout_cost", "total_cost", "num_orders",
            "ordered_units", "orders_var", "demand_var", "bullwhip", "demand_units", "sold_units", "lost_revenue"]


class SimulationResult:
    """Per-row metrics of :func:`simulate` (each a (n,) array) plus ``totals()`` and ``to_frame()``.

    Attributes (per row): ``fill_rate`` (units sold from stock on the day of demand / units
    demanded; NaN for a row without demand), ``cycle_service_level`` (share of cycles without a
    stockout day; cycle k = the days order k must cover, [t_k + L, t_{k+1} + L), counted when it
    starts inside the horizon), ``stockout_days`` (days with unmet demand), ``lost_units``
    (unmet units: lost, or backordered when ``lost_sales=False``), ``avg_on_hand`` (mean
    end-of-day units), ``avg_inventory_value`` (that times ``price`` if given, else
    ``unit_cost``), ``holding_cost``, ``ordering_cost``, ``stockout_cost``, ``total_cost``,
    ``lost_revenue`` (lost units x price, 0 without price), ``num_orders``, ``ordered_units``,
    ``orders_var`` / ``demand_var`` / ``bullwhip`` (see :func:`simulate`), ``demand_units``,
    ``sold_units``. ``trace`` holds per-day series for ``trace_rows`` (dict of (k, T) arrays:
    on_hand, backlog, sold, unmet, order, arrival, position) or is None.
    """

    def __init__(self, metrics: dict, cycles, periods, trace=None, trace_rows=None):
        self._metrics = metrics
        self._cycles = cycles
        self._periods = periods
        self.trace = trace
        self.trace_rows = trace_rows
        for k, v in metrics.items():
            setattr(self, k, v)

    def __len__(self):
        return len(self.fill_rate)

    def totals(self) -> dict:
        """Aggregates over all rows: ratios of sums (fill rate = total sold / total demanded;
        cycle service level = cycles without stockout / cycles), sums of counts, units and costs
        (``avg_on_hand`` and ``avg_inventory_value`` are the sums of the rows' averages, i.e.
        the network's average stock), and the pooled bullwhip sum(orders_var) / sum(demand_var)
        beside the median of the rows' ratios."""
        m = self._metrics
        dem = m["demand_units"].sum()
        cyc = self._cycles.sum()
        dv = m["demand_var"].sum()
        bw = m["bullwhip"]
        out = {
            "rows": int(len(self)),
            "fill_rate": float(m["sold_units"].sum() / dem) if dem > 0 else float("nan"),
            "cycle_service_level": float((m["cycle_service_level"] * self._cycles)[self._cycles > 0].sum() / cyc)
            if cyc > 0 else float("nan"),
            "bullwhip": float(m["orders_var"].sum() / dv) if dv > 0 else float("nan"),
            "bullwhip_median": float(np.nanmedian(bw)) if np.isfinite(bw).any() else float("nan"),
        }
        for k in ("stockout_days", "lost_units", "num_orders", "ordered_units", "demand_units", "sold_units"):
            out[k] = int(m[k].sum())
        for k in ("avg_on_hand", "avg_inventory_value", "holding_cost", "ordering_cost", "stockout_cost",
                  "total_cost", "lost_revenue"):
            out[k] = float(m[k].sum())
        return out

    def to_frame(self):
        """pandas DataFrame, one row per simulated row (requires pandas)."""
        import pandas as pd
        return pd.DataFrame({k: self._metrics[k] for k in _METRICS})

    def __repr__(self):
        t = self.totals()
        return (f"SimulationResult(rows={t['rows']}, fill_rate={t['fill_rate']:.4f}, "
                f"stockout_days={t['stockout_days']}, avg_on_hand={t['avg_on_hand']:.1f}, "
                f"num_orders={t['num_orders']}, bullwhip={t['bullwhip']:.3f})")


def _row_array(value, name, n, integer=True, allow_none=False, keep_scalar=False):
    """(n,) contiguous array of a per-row argument; keep_scalar: a scalar stays 0-d (cost
    arguments that only enter the metrics by broadcasting: no (n,) copy, no full-array passes)."""
    if value is None and allow_none:
        return None
    v = _checks.as_int64(value, name) if integer else _checks.as_numeric(value, name).astype(np.float64, copy=False)
    if v.ndim > 1 or (v.ndim == 1 and v.shape[0] != n):
        raise ValueError(f"{name}: expected a scalar or one value per row ({n},), got shape {v.shape}")
    if keep_scalar and v.ndim == 0:
        return v
    return np.ascontiguousarray(np.broadcast_to(v, (n,)))


def _targets(value, name, n, n_reviews):
    v = _checks.as_int64(value, name)
    if v.ndim == 0:
        v = np.broadcast_to(v, (n, 1))
    elif v.ndim == 1:
        if v.shape[0] != n:
            raise ValueError(f"{name}: expected (n,) = ({n},) or (n, n_reviews) = ({n}, {n_reviews}), got {v.shape}")
        v = v[:, None]
    elif v.ndim == 2:
        if v.shape[0] != n or v.shape[1] not in (1, n_reviews):
            raise ValueError(f"{name}: expected (n,) = ({n},) or (n, n_reviews) = ({n}, {n_reviews}) "
                             f"(one per review day), got {v.shape}")
    else:
        raise ValueError(f"{name}: expected (n,) or (n, n_reviews), got shape {v.shape}")
    return np.ascontiguousarray(v)


def _demand(demand):
    arr = _checks.as_numeric(demand, "demand")
    if arr.ndim != 2:
        raise ValueError(f"demand: expected (n_rows, n_days), got shape {arr.shape}")
    if arr.dtype not in (np.int32, np.int64):
        arr = _checks.as_int64(arr, "demand")
    return np.ascontiguousarray(arr)


def simulate(demand, *, S, s=None, lead_time, review_period=7, first_review=0, policy="RS", lost_sales=True,
             initial_on_hand=None, on_order=None, unit_cost=1.0, holding_cost_rate=0.25, order_cost=0.0,
             stockout_cost=0.0, price=None, moq=0, case_pack=1, max_order=None, smoothing=1.0,
             trace_rows=None) -> SimulationResult:
    """Backtest a periodic-review policy day by day over actual demand, for every row at once.

    ``demand``: (n, T) integer daily demand per row (SKU x location). Reviews happen on days
    ``first_review, first_review + review_period, ...`` (< T); ``n_reviews`` of them. (The
    default is weekly; :func:`order_up_to`'s default review_period=0 is continuous review, so
    levels for this replay come from ``order_up_to(..., review_period=7)``.)
    ``S`` (and ``s`` for ``policy="sS"``): (n,) fixed, or (n, n_reviews) — one target per
    review day, as forecasts roll. ``lead_time``: (n,) days; an order placed on day t is on
    the shelf for sale on day t + L (L = 0: the same day).

    Day t, in order: (1) the order due on day t arrives and first clears backorders; (2) on a
    review day, with inventory position IP = on_hand + on_order - backorders, the raw order is
    ``S - IP`` (RS: always; sS: only when IP <= s), smoothed to ``ceil(smoothing * (S - IP))``
    (proportional order-up-to, beta in (0, 1]; beta = 1 is plain order-up-to), raised to
    ``moq``, rounded up to whole ``case_pack``s, capped at ``max_order`` rounded down to
    whole cases; with a fixed S, smoothing < 1 settles the inventory position below S (by about
    the demand per review period x (1/beta - 1)), so it trades service for smoother orders unless S
    is raised; (3) demand is served from stock, the rest is lost (``lost_sales=True``) or
    backordered; (4) end-of-day on-hand is counted.

    Start: ``initial_on_hand`` (default: the first review's S), and ``on_order``: None (nothing
    in transit), (n,) units arriving on day max(L - 1, 0), or (n, K) with ``on_order[:, k]``
    arriving on day k (k < max(L, 1)).

    Costs (per row, arrays or scalars): holding = sum of end-of-day units x ``unit_cost`` x
    ``holding_cost_rate`` / 365 (an annual rate); ordering = orders x ``order_cost``; stockout
    = unmet units x ``stockout_cost``; ``price`` (optional) values the stock and the lost units.

    Bullwhip = var(orders) / var(demand) per review period: for each review r >= 1, the order
    placed at review r against the demand of the period it replenishes, [t_{r-1}, t_r)
    (population variances over those pairs; the first review's order only reflects the starting
    stock and is left out; NaN with fewer than 2 pairs or zero demand variance). Per period rather
    than daily, since daily orders are zero on non-review days and their variance would mostly
    measure the review calendar.

    ``trace_rows``: row indices whose per-day series (on_hand, backlog, sold, unmet, order,
    arrival, position) are returned in ``result.trace`` as (len(trace_rows), T) arrays, for plots
    (``arrival``: units received that day, with L = 0 the day's own order and, on day 0, the units
    in transit; ``position`` is the inventory position seen at a review: 0 on the days between
    reviews).

    Returns a :class:`SimulationResult`. Deterministic; independent of the thread count.
    Bad input (negative demand or stock, lead_time < 0, case_pack <= 0, moq > max_order,
    smoothing outside (0, 1], lengths that do not match the rows or reviews) raises ValueError
    naming the argument and the first bad row (and day, for demand).

    >>> d = skucast.nbinom.sample(np.full((1000, 1), 3.0), 0.5, 112, seed=1).reshape(1000, 112)
    >>> r = skucast.inventory.simulate(d, S=40, lead_time=3, review_period=7)
    >>> r.totals()["fill_rate"], r.bullwhip[:3]
    """
    kw = dict(S=S, s=s, lead_time=lead_time, review_period=review_period, first_review=first_review, policy=policy,
              lost_sales=lost_sales, initial_on_hand=initial_on_hand, on_order=on_order, unit_cost=unit_cost,
              holding_cost_rate=holding_cost_rate, order_cost=order_cost, stockout_cost=stockout_cost, price=price,
              moq=moq, case_pack=case_pack, max_order=max_order, smoothing=smoothing, trace_rows=trace_rows)
    if _gpu.any_gpu(demand, *kw.values()):
        return _gpu_inventory.simulate(demand, kw)
    dem = _demand(demand)
    n, T = dem.shape
    if T == 0 or T > MAX_SIM_DAYS:
        raise ValueError(f"demand: the number of days must be in [1, {MAX_SIM_DAYS}], got shape {dem.shape}")
    review_period = _checks.check_int(review_period, "review_period", 1, 2**40)
    first_review = _checks.check_int(first_review, "first_review", 0, 2**40)
    lost_sales = _checks.check_bool(lost_sales, "lost_sales")
    if first_review >= T:
        raise ValueError(f"first_review: must be < the number of days ({T}), got {first_review}")
    n_reviews = len(range(first_review, T, review_period))
    if policy not in ("RS", "sS"):
        raise ValueError(f"policy: must be 'RS' or 'sS', got {policy!r}")
    if policy == "sS" and s is None:
        raise ValueError("s: required for policy='sS'")
    S_arr = _targets(S, "S", n, n_reviews)
    s_arr = None
    if policy == "sS":
        s_arr = _targets(s, "s", n, n_reviews)
        if s_arr.shape[1] != S_arr.shape[1]:
            S_arr = np.ascontiguousarray(np.broadcast_to(S_arr, (n, n_reviews)))
            s_arr = np.ascontiguousarray(np.broadcast_to(s_arr, (n, n_reviews)))
    # per-row arguments stay 0-d when scalar: the kernel reads them with stride 0
    L = _row_array(lead_time, "lead_time", n, keep_scalar=True)
    oh = _row_array(S_arr[:, 0] if initial_on_hand is None else initial_on_hand, "initial_on_hand", n,
                    keep_scalar=True)
    moq_a = _row_array(moq, "moq", n, keep_scalar=True)
    cp = _row_array(case_pack, "case_pack", n, keep_scalar=True)
    mo = _row_array(0 if max_order is None else max_order, "max_order", n, keep_scalar=True)
    beta = _row_array(smoothing, "smoothing", n, integer=False, keep_scalar=True)

    def per_row(mask):  # a bad scalar is reported at row 0, as if broadcast
        return np.broadcast_to(mask, (n,)) if np.ndim(mask) == 0 and mask else mask

    big = MAX_UNITS
    rules = [
        ("S", S_arr < 0, "must be >= 0"),
        ("S", S_arr > big, f"must be <= {MAX_UNITS_TEXT}"),
        ("lead_time", per_row(L < 0), "must be >= 0"),
        ("initial_on_hand", per_row(oh < 0), "must be >= 0 (negative stock)"),
        ("case_pack", per_row(cp <= 0), "must be >= 1"),
        ("moq", per_row(moq_a < 0), "must be >= 0"),
        ("smoothing", per_row(~((beta > 0) & (beta <= 1))), "must be in (0, 1]"),
        ("initial_on_hand", per_row(oh > big), f"must be <= {MAX_UNITS_TEXT}"),
        ("case_pack", per_row(cp > big), f"must be <= {MAX_UNITS_TEXT}"),
        ("moq", per_row(moq_a > big), f"must be <= {MAX_UNITS_TEXT}"),
        ("max_order", per_row(mo > big), f"must be <= {MAX_UNITS_TEXT}"),
    ]
    values = {"S": S_arr, "lead_time": L, "initial_on_hand": oh, "case_pack": cp, "moq": moq_a, "smoothing": beta,
              "max_order": mo}
    if max_order is not None:
        rules.append(("max_order", per_row(mo <= 0), "must be >= 1 (None: no cap)"))
        rules.append(("max_order", per_row(moq_a > mo), "must be >= moq"))
        rules.append(("max_order", per_row(mo // np.maximum(cp, 1) * cp < np.maximum(moq_a, 1)),
                      "must allow at least one whole case_pack and the moq"))
    if s_arr is not None:
        values["s"] = s_arr
        rules.append(("s", s_arr > np.broadcast_to(S_arr, s_arr.shape), "must be <= S"))
        rules.append(("s", s_arr < -big, f"must be >= -{MAX_UNITS_TEXT}"))
    _checks.raise_first_bad(values, rules)
    # Units due after the last day never arrive within the run, whatever the lead time: the
    # kernel's pipeline holds min(L, T + 1) days, so a lead time of 1e9 costs no more than T + 1.
    L_run = np.minimum(L, T + 1)
    oo = None
    if on_order is not None:
        oo = _checks.as_int64(on_order, "on_order")
        if oo.ndim == 1:
            if oo.shape[0] != n:
                raise ValueError(f"on_order: expected (n,) = ({n},) or (n, K), got {oo.shape}")
            K = int(max(1, L_run.max(initial=1)))
            full = np.zeros((n, K), np.int64)
            full[np.arange(n), np.maximum(L_run - 1, 0)] = oo
            oo_checked = oo
            oo = full
        elif oo.ndim == 2 and oo.shape[0] == n:
            oo_checked = oo
        else:
            raise ValueError(f"on_order: expected (n,) = ({n},) or (n, K), got {oo.shape}")
        _checks.raise_first_bad({"on_order": oo_checked}, [("on_order", oo_checked < 0, "must be >= 0 (negative stock)")])
        # (entries >= 0 here; past MAX_UNITS one entry already fails, so the sum cannot wrap)
        over = (oo > big).any(axis=1) | (oo.sum(axis=1) > big)
        if over.any():
            r = int(np.flatnonzero(over)[0])
            raise ValueError(f"on_order: the units in transit of row {r} must total <= {MAX_UNITS_TEXT}")
        if oo.shape[1] > 0:
            late = (oo > 0) & (np.arange(oo.shape[1])[None, :] >= np.reshape(np.maximum(L, 1), (-1, 1)))
            _checks.raise_first_bad({"on_order": oo}, [("on_order", late, "arrives after the lead time (day >= L)")])
        if oo.shape[1] > T + 1:   # what arrives on day T or later never arrives within the run
            oo = np.concatenate([oo[:, :T], oo[:, T:].sum(axis=1, keepdims=True)], axis=1)
        oo = np.ascontiguousarray(oo)
    unit_cost_a = _row_array(unit_cost, "unit_cost", n, integer=False, keep_scalar=True)
    rate = _row_array(holding_cost_rate, "holding_cost_rate", n, integer=False, keep_scalar=True)
    oc = _row_array(order_cost, "order_cost", n, integer=False, keep_scalar=True)
    sc = _row_array(stockout_cost, "stockout_cost", n, integer=False, keep_scalar=True)
    price_a = _row_array(price, "price", n, integer=False, allow_none=True, keep_scalar=True)
    fvals = {"unit_cost": unit_cost_a, "holding_cost_rate": rate, "order_cost": oc, "stockout_cost": sc}
    frules = [(k, ~(np.isfinite(v) & (v >= 0)), "must be finite and >= 0") for k, v in fvals.items()]
    if price_a is not None:
        fvals["price"] = price_a
        frules.append(("price", ~(np.isfinite(price_a) & (price_a >= 0)), "must be finite and >= 0"))
    _checks.raise_first_bad(fvals, frules)

    policy_code = 0 if policy == "RS" else 1
    args = (n_reviews, review_period, first_review, policy_code, bool(lost_sales))
    raw_i, raw_f, _, bad = _core.inv_simulate(dem, S_arr, s_arr, *args, L_run, oh, oo, moq_a, cp, mo, beta, False)
    out_i = raw_i.T  # (n, cols) view of column-major totals: each column contiguous
    if bad >= 0:
        row, day = divmod(int(bad), T)
        rule = "must be >= 0" if dem[row, day] < 0 else f"must be <= {MAX_UNITS_TEXT}"
        raise _checks.bad_value("demand", rule, (row, day), dem[row, day])

    trace = None
    rows = None
    if trace_rows is not None:
        rows = np.atleast_1d(_checks.as_int64(trace_rows, "trace_rows"))
        if rows.ndim != 1:
            raise ValueError(f"trace_rows: expected a row index or a 1-d list of them, got shape {rows.shape}")
        _checks.raise_first_bad({"trace_rows": rows}, [("trace_rows", (rows < 0) | (rows >= n), f"must be in [0, {n})")])
        sub = lambda a: None if a is None else a if a.ndim == 0 else np.ascontiguousarray(a[rows])  # noqa: E731
        _, _, tr, _ = _core.inv_simulate(sub(dem), sub(S_arr), sub(s_arr), *args, sub(L_run), sub(oh), sub(oo),
                                         sub(moq_a), sub(cp), sub(mo), sub(beta), True)
        trace = {name: tr[:, j, :] for j, name in enumerate(_TRACE_COLS)}

    # the metrics from the totals in one threaded C++ pass (the same operations as _result's)
    derived = dict(zip(_DERIVED, _core.inv_sim_metrics(raw_i, raw_f, T, [unit_cost_a, rate, oc, sc, price_a])))
    _refuse_cost_overflow(derived, price_a is not None)
    return _assemble(out_i, derived, trace, rows)


def _refuse_cost_overflow(derived, priced):
    """Finite costs times up to 2^40 units can pass 1.8e308: name the cost arguments behind it."""
    sources = {"avg_inventory_value": "price" if priced else "unit_cost",
               "holding_cost": "unit_cost / holding_cost_rate", "ordering_cost": "order_cost",
               "stockout_cost": "stockout_cost", "lost_revenue": "price",
               "total_cost": "unit_cost / order_cost / stockout_cost"}
    for metric, names in sources.items():
        bad = ~np.isfinite(derived[metric])
        if bad.any():
            raise ValueError(f"{names}: row {int(np.flatnonzero(bad)[0])}'s {metric} passes the double range (the "
                             f"costs times the simulated units); scale the costs down")


def _assemble(out_i, derived, trace, rows):
    """The result from the totals (n, cols) and the metrics derived from them."""
    ints = {name: out_i[:, j] for j, name in enumerate(_INT_COLS)}
    metrics = {name: derived[name] if name in derived else ints[name] for name in _METRICS}
    return SimulationResult(metrics, ints["cycles"], ints["periods"], trace, rows)


def _ratio(num, den, be):
    """num / den per row, NaN where den is not > 0."""
    if be is None:  # numpy: one division pass into a NaN-filled array
        out = np.full(np.shape(den), np.nan)
        np.divide(num, den, out=out, where=den > 0)
        return out
    return be.where(den > 0, num / (den * (den > 0) + (den <= 0)), float("nan"))


def _result(be, out_i, out_f, T, unit_cost_a, rate, oc, sc, price_a, trace, rows):
    """Metrics from the kernel's totals; be: a GPU backend of skucast._gpu, or None (numpy; the
    CPU path itself uses _core.inv_sim_metrics, the same operations in C++, and the tests check
    both against each other). Cost arguments may be 0-d (one value for all rows) or (n,)."""
    where = np.where if be is None else be.where
    nan = float("nan")
    ints = {name: out_i[:, j] for j, name in enumerate(_INT_COLS)}
    with np.errstate(divide="ignore", invalid="ignore"):
        fill = _ratio(ints["sold_units"], ints["demand_units"], be)
        csl = _ratio(ints["cycles_ok"], ints["cycles"], be)
        on_hand_sum = out_f[:, 0]
        avg_oh = on_hand_sum / T if T > 0 else on_hand_sum * 0.0
        enough = ints["periods"] >= 2
        ovar = where(enough, out_f[:, 1], nan)
        dvar = where(enough, out_f[:, 2], nan)
        bullwhip = _ratio(ovar, dvar, be)  # (dvar is NaN without 2 periods)
    value_per_unit = price_a if price_a is not None else unit_cost_a
    holding = on_hand_sum * unit_cost_a  # (in place from here: one new array per metric)
    holding *= rate
    holding /= 365.0
    ordering = ints["num_orders"] * oc
    stockout = ints["lost_units"] * sc
    lost_units = ints["lost_units"]
    total = holding + ordering
    total += stockout
    derived = {
        "fill_rate": fill, "cycle_service_level": csl, "avg_on_hand": avg_oh, "orders_var": ovar,
        "demand_var": dvar, "bullwhip": bullwhip, "avg_inventory_value": avg_oh * value_per_unit,
        "holding_cost": holding, "ordering_cost": ordering, "stockout_cost": stockout, "total_cost": total,
        "lost_revenue": lost_units * price_a if price_a is not None else lost_units * 0.0,
    }
    return _assemble(out_i, derived, trace, rows)
