"""skucast.inventory.simulate vs a plain-Python day loop written from the documented rules."""
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import skucast
from skucast.inventory import _simulate as Sim
from skucast.inventory import simulate


def ref_row(d, S, s, L, R, first, policy, lost, oh0, arrivals, moq, cp, mo, beta):
    """One row, day by day. S, s: lists (one per review). arrivals: dict day -> units in transit."""
    T = len(d)
    on_hand, back = oh0, 0
    pipe = dict(arrivals)
    reviews = list(range(first, T, R))
    res = dict(demand=0, sold=0, unmet=0, so_days=0, orders=0, units=0)
    daily_unmet = []
    pairs, prev_demand = [], None
    for t in range(T):
        on_hand += pipe.pop(t, 0)
        f = min(back, on_hand)
        back -= f
        on_hand -= f
        if t in reviews:
            r = reviews.index(t)
            ip = on_hand + sum(pipe.values()) - back
            q = 0
            if policy == "RS" or ip <= s[r]:
                need = S[r] - ip
                if need > 0:
                    q = math.ceil(beta * need) if beta < 1 else need
                    if q > 0:
                        q = max(q, moq)
                        q = -(-q // cp) * cp
                        if mo:
                            q = min(q, mo // cp * cp)
            if prev_demand is not None:
                pairs.append((q, prev_demand))
            prev_demand = 0
            if q > 0:
                res["orders"] += 1
                res["units"] += q
                if L == 0:
                    on_hand += q
                    f = min(back, on_hand)
                    back -= f
                    on_hand -= f
                else:
                    pipe[t + L] = pipe.get(t + L, 0) + q
        sold = min(d[t], on_hand)
        on_hand -= sold
        unmet = d[t] - sold
        if not lost:
            back += unmet
        res["demand"] += d[t]
        res["sold"] += sold
        res["unmet"] += unmet
        res["so_days"] += unmet > 0
        daily_unmet.append(unmet)
        if prev_demand is not None:
            prev_demand += d[t]
        res.setdefault("oh", 0)
        res["oh"] += on_hand
    # cycles: [t_k + L, t_{k+1} + L) clipped to T, counted when they start inside
    cyc = ok = 0
    for t0 in reviews:
        a = t0 + L
        if a >= T:
            continue
        cyc += 1
        ok += all(u == 0 for u in daily_unmet[a:min(a + R, T)])
    res["cycles"], res["ok"] = cyc, ok
    if len(pairs) >= 2:
        o = np.array([p[0] for p in pairs], float)
        dd = np.array([p[1] for p in pairs], float)
        res["ovar"], res["dvar"] = o.var(), dd.var()
    else:
        res["ovar"] = res["dvar"] = float("nan")
    return res


@st.composite
def cases(draw):
    n = draw(st.sampled_from([1, 2, 4, 16, 35]))  # >= 16: the lane-parallel blocks of 16 rows
    T = draw(st.integers(1, 40))
    R = draw(st.integers(1, 9))
    first = draw(st.integers(0, min(T - 1, 6)))
    nrev = len(range(first, T, R))
    policy = draw(st.sampled_from(["RS", "sS"]))
    lost = draw(st.booleans())
    rolling = draw(st.booleans())
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    d = rng.negative_binomial(2, 0.35, size=(n, T))
    if draw(st.booleans()):
        d = d.astype(np.int32)
    S = rng.integers(0, 25, size=(n, nrev if rolling else 1))
    s = np.minimum(S, rng.integers(-3, 15, size=S.shape))
    L = rng.integers(0, 6, size=n)
    moq = rng.integers(0, 6, size=n) * draw(st.integers(0, 1))
    cp = rng.integers(1, 4, size=n) if draw(st.booleans()) else np.ones(n, int)
    mo = None
    if draw(st.booleans()):
        mo = np.maximum(moq, 1) + cp * rng.integers(1, 10, size=n)
    beta = draw(st.sampled_from([1.0, 0.5, 0.3, 0.9]))
    oh0 = rng.integers(0, 20, size=n) if draw(st.booleans()) else None
    oo = rng.integers(0, 5, size=n) if draw(st.booleans()) else None
    return dict(d=d, S=S, s=s, L=L, R=R, first=first, policy=policy, lost=lost, moq=moq, cp=cp, mo=mo, beta=beta,
                oh0=oh0, oo=oo, rolling=rolling)


def _check(c):
    d, S, n = c["d"], c["S"], c["d"].shape[0]
    kw = dict(S=S if c["rolling"] else S[:, 0], lead_time=c["L"], review_period=c["R"], first_review=c["first"],
              policy=c["policy"], lost_sales=c["lost"], moq=c["moq"], case_pack=c["cp"], max_order=c["mo"],
              smoothing=c["beta"], initial_on_hand=c["oh0"], on_order=c["oo"], unit_cost=2.0, order_cost=3.0,
              stockout_cost=0.5)
    if c["policy"] == "sS":
        kw["s"] = c["s"] if c["rolling"] else c["s"][:, 0]
    res = simulate(d, **kw)
    nrev = len(range(c["first"], d.shape[1], c["R"]))
    for i in range(n):
        Srow = list(S[i]) if c["rolling"] else [S[i, 0]] * nrev
        srow = list(c["s"][i]) if c["rolling"] else [c["s"][i, 0]] * nrev
        oh0 = Srow[0] if c["oh0"] is None else c["oh0"][i]
        arr = {}
        if c["oo"] is not None:
            arr[max(c["L"][i] - 1, 0)] = int(c["oo"][i])
        mo = 0 if c["mo"] is None else int(c["mo"][i])
        ref = ref_row(list(d[i]), Srow, srow, int(c["L"][i]), c["R"], c["first"], c["policy"], c["lost"], int(oh0),
                      arr, int(c["moq"][i]), int(c["cp"][i]), mo, c["beta"])
        T = d.shape[1]
        assert res.demand_units[i] == ref["demand"]
        assert res.sold_units[i] == ref["sold"], (i, ref)
        assert res.lost_units[i] == ref["unmet"]
        assert res.stockout_days[i] == ref["so_days"]
        assert res.num_orders[i] == ref["orders"]
        assert res.ordered_units[i] == ref["units"]
        assert res.avg_on_hand[i] == pytest.approx(ref["oh"] / T, rel=1e-12)
        assert res.holding_cost[i] == pytest.approx(ref["oh"] * 2.0 * 0.25 / 365, rel=1e-12)
        assert res.ordering_cost[i] == pytest.approx(3.0 * ref["orders"])
        assert res.stockout_cost[i] == pytest.approx(0.5 * ref["unmet"])
        if ref["demand"] > 0:
            assert res.fill_rate[i] == pytest.approx(ref["sold"] / ref["demand"], rel=1e-12)
        else:
            assert np.isnan(res.fill_rate[i])
        if ref["cycles"]:
            assert res.cycle_service_level[i] == pytest.approx(ref["ok"] / ref["cycles"], rel=1e-12)
        np.testing.assert_allclose(res.orders_var[i], ref["ovar"], rtol=1e-9, atol=1e-9)
        np.testing.assert_allclose(res.demand_var[i], ref["dvar"], rtol=1e-9, atol=1e-9)
    tot = res.totals()
    assert tot["sold_units"] == res.sold_units.sum()
    if tot["demand_units"]:
        assert tot["fill_rate"] == pytest.approx(res.sold_units.sum() / res.demand_units.sum())


@settings(max_examples=300)
@given(cases())
def test_matches_python_day_loop(c):
    _check(c)


@pytest.mark.parametrize("reps", [1, 6])  # 3 rows: row by row; 18 rows: a block of 16 + 2
def test_long_lead_times_and_backorders(rng, reps):
    for lost in (True, False):
        d = rng.poisson(3.0, size=(3 * reps, 60))
        t = lambda a: np.tile(np.array(a), reps) if np.ndim(a) == 1 else np.tile(np.array(a), (reps, 1))  # noqa: E731
        c = dict(d=d, S=t([[30], [5], [12]]), s=t([[10], [0], [11]]), L=t([9, 0, 14]), R=4, first=2,
                 policy="RS", lost=lost, moq=t([0, 3, 0]), cp=t([1, 2, 5]), mo=None, beta=1.0,
                 oh0=None, oo=t([4, 0, 7]), rolling=False)
        _check(c)
        _check(dict(c, policy="sS"))


def test_backorder_rs_passes_demand_through(rng):
    """Backordering RS with fixed S orders exactly the last period's demand: bullwhip 1."""
    d = rng.poisson(4.0, size=(50, 98))
    r = simulate(d, S=80, lead_time=2, lost_sales=False)
    np.testing.assert_allclose(r.bullwhip, 1.0, rtol=1e-12)


@settings(max_examples=40)
@given(st.integers(0, 2**32 - 1), st.sampled_from([0.2, 0.4, 0.6, 0.8]), st.booleans())
def test_smoothing_damps_bullwhip(seed, beta, lost):
    rng = np.random.default_rng(seed)
    d = rng.negative_binomial(1.5, 0.3, size=(20, 7 * 40))
    kw = dict(S=60, lead_time=3, review_period=7, lost_sales=lost)
    full = simulate(d, **kw)
    damp = simulate(d, smoothing=beta, **kw)
    assert damp.totals()["bullwhip"] < full.totals()["bullwhip"]


def test_traces_agree_with_block_path(rng):
    d = rng.poisson(2.5, size=(40, 50))
    kw = dict(S=rng.integers(5, 30, size=40), lead_time=rng.integers(0, 6, size=40), lost_sales=False, case_pack=2)
    r = simulate(d, trace_rows=np.arange(40), **kw)
    np.testing.assert_array_equal(r.trace["sold"].sum(1), r.sold_units)
    np.testing.assert_array_equal((r.trace["unmet"] > 0).sum(1), r.stockout_days)
    np.testing.assert_allclose(r.trace["on_hand"].mean(1), r.avg_on_hand)


def test_rolling_targets_and_traces(rng):
    d = rng.poisson(2.0, size=(5, 30))
    S = np.tile(np.array([10, 20, 5, 15, 8]), (5, 1))
    r = simulate(d, S=S, lead_time=[0, 1, 2, 3, 4], review_period=7, trace_rows=[1, 3])
    assert r.trace["on_hand"].shape == (2, 30)
    # trace sums agree with the metrics
    np.testing.assert_array_equal(r.trace["sold"].sum(1), r.sold_units[[1, 3]])
    np.testing.assert_array_equal((r.trace["order"] > 0).sum(1), r.num_orders[[1, 3]])
    np.testing.assert_allclose(r.trace["on_hand"].mean(1), r.avg_on_hand[[1, 3]])
    # the review-day positions: orders close the gap to that review's S
    pos = r.trace["position"][0, ::7]
    np.testing.assert_array_equal(r.trace["order"][0, ::7], np.maximum(S[1] - pos, 0))


def test_thread_independent(restore_threads, rng):
    d = rng.poisson(3.0, size=(3000, 50)).astype(np.int32)
    S, L = rng.integers(5, 40, size=3000), rng.integers(0, 5, size=3000)
    out = []
    for th in (1, 2):
        skucast.set_num_threads(th)
        r = simulate(d, S=S, lead_time=L, policy="RS")
        out.append((r.sold_units.copy(), r.orders_var.copy(), r.avg_on_hand.copy()))
    for a, b in zip(*out):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("T", [45, 64, 200])  # tiles of 64 days, transposed 8 x 8 for int32
def test_int32_equals_int64_and_row_by_row(rng, T):
    d = rng.poisson(3.0, size=(37, T))
    kw = dict(S=rng.integers(5, 30, size=37), lead_time=rng.integers(0, 5, size=37), review_period=5, first_review=1)
    a = simulate(d.astype(np.int32), **kw)
    b = simulate(d.astype(np.int64), **kw)
    c = simulate(d, trace_rows=np.arange(37), **kw)  # traces run row by row
    for name in ("sold_units", "stockout_days", "num_orders", "ordered_units", "avg_on_hand", "orders_var",
                 "demand_var", "cycle_service_level"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    np.testing.assert_array_equal(c.trace["sold"].sum(1), a.sold_units)
    np.testing.assert_array_equal((c.trace["unmet"] > 0).sum(1), a.stockout_days)
    np.testing.assert_array_equal((c.trace["order"] > 0).sum(1), a.num_orders)


def test_to_frame_and_totals(rng):
    d = rng.poisson(3.0, size=(4, 20))
    r = simulate(d, S=15, lead_time=2, price=5.0)
    t = r.totals()
    assert t["rows"] == 4 and 0 <= t["fill_rate"] <= 1
    assert t["avg_inventory_value"] == pytest.approx(5.0 * r.avg_on_hand.sum())
    pd = pytest.importorskip("pandas")
    df = r.to_frame()
    assert isinstance(df, pd.DataFrame) and len(df) == 4


@pytest.mark.parametrize("kw, match", [
    (dict(lead_time=[1, -1, 2]), r"lead_time: must be >= 0; first bad value at index \(1,\): -1"),
    (dict(initial_on_hand=[0, 0, -4]), r"initial_on_hand: must be >= 0 \(negative stock\); first bad value at index \(2,\)"),
    (dict(case_pack=[1, 0, 1]), r"case_pack: must be >= 1; first bad value at index \(1,\): 0"),
    (dict(moq=[5, 5, 20], max_order=[10, 10, 10]), r"max_order: must be >= moq; first bad value at index \(2,\)"),
    (dict(lead_time=[1, 2]), r"lead_time: expected a scalar or one value per row \(3,\)"),
    (dict(S=np.ones((3, 4), int)), r"S: expected \(n,\) = \(3,\) or \(n, n_reviews\) = \(3, 3\)"),
    (dict(S=[5, -1, 5]), r"S: must be >= 0; first bad value at index \(1, 0\)"),
    (dict(smoothing=1.5), r"smoothing: must be in \(0, 1\]"),
    (dict(policy="sS"), r"s: required"),
    (dict(on_order=[1, -2, 0]), r"on_order: must be >= 0 \(negative stock\); first bad value at index \(1,\)"),
    (dict(review_period=0), r"review_period: must be >= 1"),
    # scalars reach the kernel unbroadcast; a bad one is still reported at row 0
    (dict(lead_time=-2), r"lead_time: must be >= 0; first bad value at index \(0,\): -2"),
    (dict(case_pack=0), r"case_pack: must be >= 1; first bad value at index \(0,\): 0"),
    (dict(moq=20, max_order=10), r"max_order: must be >= moq; first bad value at index \(0,\): 10"),
    (dict(moq=[5, 5, 20], max_order=10), r"max_order: must be >= moq; first bad value at index \(2,\): 10"),
])
def test_errors(kw, match):
    d = np.full((3, 20), 2)
    args = dict(S=10, lead_time=1)
    args.update(kw)
    with pytest.raises(ValueError, match=match):
        simulate(d, **args)


@pytest.mark.parametrize("dtype", [np.int32, np.int64])
@pytest.mark.parametrize("lost", [True, False])
def test_scalar_arguments_equal_broadcast_arrays(rng, dtype, lost):
    # scalar per-row arguments are read with stride 0 by the kernel, arrays with stride 1
    n = 203  # whole 16-row blocks and a tail
    d = rng.poisson(rng.uniform(0.5, 4.0, n)[:, None], size=(n, 60)).astype(dtype)
    scalars = dict(lead_time=2, initial_on_hand=7, moq=3, case_pack=2, max_order=40, smoothing=0.75)
    arrays = {k: np.full(n, v) for k, v in scalars.items()}
    common = dict(S=rng.integers(5, 40, n), review_period=7, lost_sales=lost, on_order=rng.integers(0, 4, n),
                  trace_rows=[0, 17, n - 1])
    a, b = simulate(d, **scalars, **common), simulate(d, **arrays, **common)
    for name in Sim._METRICS:
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    for name in a.trace:
        np.testing.assert_array_equal(a.trace[name], b.trace[name], err_msg=name)


@pytest.mark.parametrize("n, row, dtype", [(3, 2, np.int64), (40, 20, np.int64), (40, 35, np.int64), (40, 3, np.int32)])
def test_negative_demand_names_row_and_day(n, row, dtype):
    d = np.full((n, 20), 2, dtype=dtype)
    d[row, 9] = -3
    d[row, 7] = -1
    d[row + 1:, 2] = -1
    with pytest.raises(ValueError, match=rf"demand: must be >= 0; first bad value at index \({row}, 7\): -1"):
        simulate(d, S=10, lead_time=1)


@pytest.mark.parametrize("lost", [True, False])
def test_int32_lanes_fall_back_for_large_quantities(rng, lost):
    """int32 demand runs blocks of 16 rows in 32-bit lanes only while every quantity fits
    (demand and levels < 2^24, backlog < 2^29); blocks with larger values (or a backlog that
    grows past the limit mid-horizon) must give the same results as 64-bit lanes."""
    n, T = 80, 200
    d = rng.poisson(3.0, size=(n, T))
    S = rng.integers(5, 40, size=n)
    big = 2**24
    d[3, 70] = big                      # block 0: one day at the limit (found in the second tile)
    S[20] = big - 10                    # block 1: a level near the limit
    d[40:56] = rng.integers(2**23 - 5, 2**23, size=(16, T))  # block 2: backlog passes 2^29 after ~64 days
    S[40:56] = 3
    S[60] = big // 2                    # block 3: fits only without the moq / case-pack headroom
    kw = dict(S=S, lead_time=rng.integers(0, 5, size=n), review_period=3, lost_sales=lost, case_pack=2, moq=4)
    a = simulate(d.astype(np.int32), **kw)
    b = simulate(d.astype(np.int64), **kw)
    for name in ("sold_units", "lost_units", "stockout_days", "num_orders", "ordered_units", "avg_on_hand",
                 "orders_var", "demand_var", "cycle_service_level", "demand_units"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)


@pytest.mark.parametrize("policy", ["RS", "sS"])
@pytest.mark.parametrize("lost", [True, False])
@pytest.mark.parametrize("rolling", [False, True])
@pytest.mark.parametrize("R,same_L", [(4, False), (1, True), (64, False), (65, True), (7, True)])
def test_plain_rules_vector_review(rng, policy, lost, rolling, R, same_L):
    """Blocks whose rows all have plain rules (no smoothing, case pack 1, no cap; any moq) order
    8 rows at a time at each review (with lost sales and R <= 64 the per-review sums too); L = 0
    rows mixed in, or one lead time for all; checked against the Python day loop."""
    n, T = 35, 200 if R > 8 else 90
    nrev = len(range(1, T, R))
    S = rng.integers(0, 40, size=(n, nrev if rolling else 1))
    c = dict(d=rng.negative_binomial(2, 0.3, size=(n, T)).astype(np.int32), S=S,
             s=np.minimum(S, rng.integers(-3, 25, size=S.shape)),
             L=np.full(n, 3) if same_L else rng.integers(0, 4, size=n), R=R, first=1,
             policy=policy, lost=lost, moq=rng.integers(0, 8, size=n), cp=np.ones(n, int), mo=None, beta=1.0,
             oh0=rng.integers(0, 30, size=n), oo=rng.integers(0, 6, size=n), rolling=rolling)
    _check(c)


@pytest.mark.parametrize("per_row_costs", [False, True])
@pytest.mark.parametrize("price", [None, 2.5])
def test_metrics_in_cpp_equal_the_numpy_formulas(rng, monkeypatch, per_row_costs, price):
    # the CPU path takes its metrics from _core.inv_sim_metrics; the numpy formulas of _result
    # (which the GPU path uses) must give the same bits from the same totals, NaN cases included
    seen = {}
    cpp = Sim._core.inv_sim_metrics

    def spy(raw_i, raw_f, T, costs):
        seen["args"] = (raw_i, raw_f.copy(), T, costs)  # (three metrics overwrite raw_f's columns)
        return cpp(raw_i, raw_f, T, costs)

    monkeypatch.setattr(Sim._core, "inv_sim_metrics", spy)
    n = 3000
    d = rng.poisson(rng.uniform(0.0, 3.0, n)[:, None], size=(n, 40))
    d[:200] = 0  # rows without demand: fill rate NaN
    res = simulate(d, S=rng.integers(0, 30, n), lead_time=rng.integers(0, 5, n), review_period=int(rng.choice([7, 50])),
                   unit_cost=rng.uniform(0.5, 3.0, n) if per_row_costs else 1.7, holding_cost_rate=0.3,
                   order_cost=rng.uniform(0, 9, n) if per_row_costs else 4.0, stockout_cost=1.25, price=price)
    raw_i, raw_f, T, costs = seen["args"]
    ref = Sim._result(None, raw_i.T, raw_f.T, T, *costs, None, None)
    for name in Sim._METRICS:
        np.testing.assert_array_equal(getattr(res, name), getattr(ref, name), err_msg=name)


@pytest.mark.parametrize("lead_time", [0, 1, 3])
def test_trace_arrivals_balance_the_stock(lead_time):
    # with L = 0 the trace's arrivals read 0 though the orders (and the units in transit) came in
    rng = np.random.default_rng(lead_time)
    demand = rng.integers(0, 6, (3, 30))
    r = simulate(demand, S=12, lead_time=lead_time, review_period=3, first_review=1, initial_on_hand=4,
                     on_order=[5, 0, 2], trace_rows=[0, 1, 2])
    tr = r.trace
    prev = np.concatenate([np.full((3, 1), 4), tr["on_hand"][:, :-1]], axis=1)
    np.testing.assert_array_equal(tr["on_hand"], prev + tr["arrival"] - tr["sold"])  # lost sales: no backlog
    if lead_time == 0:
        np.testing.assert_array_equal(tr["arrival"][:, 1:], tr["order"][:, 1:])
        np.testing.assert_array_equal(tr["arrival"][:, 0], [5, 0, 2])
