"""skucast.inventory.optimize_targets / efficient_frontier (issue 7): brute force over every
integer vector of levels on small portfolios (budget and fill-rate modes, floors and caps, NB and
samples), category budgets, the frontier, errors, thread-count independence."""
import itertools

import numpy as np
import pytest
import scipy.stats
from hypothesis import given, settings
from hypothesis import strategies as st

import skucast
from skucast.inventory import efficient_frontier, optimize_targets

K = 14  # brute force levels 0..K-1 per SKU


def sf_table(mu, alpha, upto):
    """P(D > k) for k = 0..upto-1 (scipy, independent of skucast)."""
    k = np.arange(upto)
    if mu == 0:
        return np.zeros(upto)
    if alpha == 0:
        return scipy.stats.poisson.sf(k, mu)
    return scipy.stats.nbinom.sf(k, 1 / alpha, 1 / (1 + alpha * mu))


def filled_tables(gains):
    """filled[i][s] = E[min(D_i, s)] = sum_{k < s} gain_i(k), s = 0..K-1."""
    return [np.concatenate([[0.0], np.cumsum(g)[:-1]]) for g in gains]


def brute(filled, cost, lo, hi):
    """Every level vector in the box: (levels (M, n), value (M,), filled (M,))."""
    n = len(cost)
    ranges = [range(lo[i], hi[i] + 1) for i in range(n)]
    grid = np.array(list(itertools.product(*ranges)), dtype=np.int64)
    val = (grid * np.asarray(cost)).sum(1)
    fil = sum(filled[i][grid[:, i]] for i in range(n))
    return grid, val, fil


def sample_gains(samples):
    return [np.array([(s > k).mean() for k in range(K)]) for s in samples]


portfolio = st.integers(2, 4).flatmap(lambda n: st.tuples(
    st.lists(st.sampled_from([0.0, 0.3, 0.8, 1.5, 2.5, 4.0]), min_size=n, max_size=n),
    st.lists(st.sampled_from([0.0, 0.2, 0.7]), min_size=n, max_size=n),
    st.lists(st.sampled_from([1.0, 1.0, 2.5, 3.0, 7.0]), min_size=n, max_size=n)))


def _setup(mu, alpha, cost):
    mu, alpha, cost = (np.array(x, dtype=float) for x in (mu, alpha, cost))
    gains = [sf_table(m, a, K) for m, a in zip(mu, alpha)]
    # keep the brute-force box large enough: the greedy never goes where gains are < 1e-3 here
    return mu, alpha, cost, gains


@settings(max_examples=40)
@given(portfolio, st.floats(0.0, 1.0))
def test_budget_mode_brute_force(p, frac):
    mu, alpha, cost, gains = _setup(*p)
    filled = filled_tables(gains)
    top = np.array([np.searchsorted(-g, -1e-4) for g in gains])  # units with gain >= 1e-4
    top = np.minimum(top, K - 1)
    budget = float(np.floor(frac * (top * cost).sum()))
    r = optimize_targets(mu=mu, alpha=alpha, cost=cost, budget=budget, cap_units=K - 1)
    S = r.S
    assert (S * cost).sum() <= budget + 1e-9
    assert r.total_value == pytest.approx((S * cost).sum())
    got = sum(filled[i][S[i]] for i in range(len(S)))
    assert r.expected_filled[0] == pytest.approx(got, abs=1e-9)
    grid, val, fil = brute(filled, cost, [0] * len(S), [K - 1] * len(S))
    opt = fil[val <= budget + 1e-9].max()
    # within the gain of one more unit at the SKU that stopped first (LP bound), never above
    next_gain = max(gains[i][S[i]] if S[i] < K else 0.0 for i in range(len(S)))
    assert got <= opt + 1e-9
    assert got >= opt - next_gain - 1e-9
    if np.all(cost == cost[0]):  # equal costs: no knapsack gap, exactly optimal
        assert got == pytest.approx(opt, abs=1e-9)


@settings(max_examples=40)
@given(portfolio, st.floats(0.3, 0.97))
def test_fill_mode_brute_force(p, target):
    mu, alpha, cost, gains = _setup(*p)
    if mu.sum() == 0:
        return
    filled = filled_tables(gains)
    r = optimize_targets(mu=mu, alpha=alpha, cost=cost, fill_rate=target)
    S = r.S
    assert S.max() < K
    got = sum(filled[i][S[i]] for i in range(len(S)))
    assert got >= target * mu.sum() - 1e-9
    assert r.total_fill_rate == pytest.approx(got / mu.sum(), abs=1e-9)
    grid, val, fil = brute(filled, cost, [0] * len(S), [K - 1] * len(S))
    least = val[fil >= target * mu.sum() - 1e-12].min()
    assert (S * cost).sum() >= least - 1e-9
    assert (S * cost).sum() <= least + cost.max() + 1e-9  # within one unit's cost
    if np.all(cost == cost[0]):
        assert (S * cost).sum() == pytest.approx(least)


@settings(max_examples=25)
@given(portfolio, st.floats(0.2, 1.0), st.sampled_from([0.5, 0.7]), st.sampled_from([0.9, 0.97]))
def test_floors_and_caps_brute_force(p, frac, lo_q, hi_q):
    mu, alpha, cost, gains = _setup(*p)
    filled = filled_tables(gains)
    lo = np.array([0 if m == 0 else int(np.searchsorted(1 - g, lo_q)) for m, g in zip(mu, gains)])
    hi = np.array([0 if m == 0 else int(np.searchsorted(1 - g, hi_q)) for m, g in zip(mu, gains)])
    hi = np.minimum(hi, K - 1)
    budget = float(np.floor((lo * cost).sum() + frac * ((hi - lo) * cost).sum()))
    r = optimize_targets(mu=mu, alpha=alpha, cost=cost, budget=budget, floor=lo_q, cap=hi_q, cap_units=K - 1)
    S = r.S
    np.testing.assert_array_equal(np.clip(S, lo, hi), S)
    grid, val, fil = brute(filled, cost, lo, hi)
    opt = fil[val <= budget + 1e-9].max()
    got = sum(filled[i][S[i]] for i in range(len(S)))
    next_gain = max((gains[i][S[i]] if S[i] < hi[i] else 0.0) for i in range(len(S)))
    assert opt - next_gain - 1e-9 <= got <= opt + 1e-9
    # floors/caps in units give the same answer
    r2 = optimize_targets(mu=mu, alpha=alpha, cost=cost, budget=budget, floor_units=lo, cap_units=hi)
    np.testing.assert_array_equal(r2.S, S)


@settings(max_examples=25)
@given(st.integers(2, 3), st.integers(1, 40), st.floats(0.0, 1.0), st.booleans(), st.integers(0, 2**31))
def test_samples_brute_force(n, num, frac, fill, seed):
    rng = np.random.default_rng(seed)
    samples = rng.poisson(rng.uniform(0.2, 4.0, (n, 1)), (n, num))
    cost = rng.choice([1.0, 2.0, 5.0], n)
    gains = sample_gains(samples)
    filled = filled_tables(gains)
    grid, val, fil = brute(filled, cost, [0] * n, [K - 1] * n)
    demand = samples.mean(1).sum()
    if fill:
        if demand == 0:
            return
        target = 0.5 + 0.45 * frac
        r = optimize_targets(samples=samples, cost=cost, fill_rate=target)
        S = r.S
        got = sum(filled[i][S[i]] for i in range(n))
        assert got >= target * demand - 1e-9
        least = val[fil >= target * demand - 1e-12].min()
        assert least - 1e-9 <= (S * cost).sum() <= least + cost.max() + 1e-9
    else:
        budget = float(np.floor(frac * (samples.max(1) * cost).sum()))
        r = optimize_targets(samples=samples, cost=cost, budget=budget)
        S = r.S
        assert (S * cost).sum() <= budget + 1e-9
        got = sum(filled[i][S[i]] for i in range(n))
        opt = fil[val <= budget + 1e-9].max()
        next_gain = max(gains[i][S[i]] for i in range(n))
        assert opt - next_gain - 1e-9 <= got <= opt + 1e-9
        # no unit beyond the largest sample is ever worth stocking
        assert np.all(S <= samples.max(1))
    assert r.expected_filled[0] == pytest.approx(got, abs=1e-9)


def test_expected_filled_closed_form():
    for mu, alpha in [(0.3, 0.0), (5.0, 0.0), (2.0, 0.5), (40.0, 0.05), (300.0, 0.2), (0.01, 3.0)]:
        g = sf_table(mu, alpha, 4000)
        f = np.concatenate([[0.0], np.cumsum(g)])
        for S in [1, 2, 5, int(mu), int(mu * 2) + 3, int(mu * 4) + 30]:
            r = optimize_targets(mu=[mu], alpha=[alpha], cost=1.0, budget=S, floor_units=S, cap_units=S)
            assert r.S[0] == S
            assert r.expected_filled[0] == pytest.approx(f[S], rel=1e-10, abs=1e-12)


def test_gain_per_dollar_order_and_threshold(rng):
    n = 3000
    mu = rng.gamma(0.7, 3.0, n)
    alpha = rng.uniform(0, 1, n)
    cost = rng.lognormal(1, 1, n)
    r = optimize_targets(mu=mu, alpha=alpha, cost=cost, fill_rate=0.93)
    assert r.total_fill_rate >= 0.93
    # KKT: every unit held has gain per dollar >= every unit not held (up to the tie at the end)
    held = scipy.stats.nbinom.sf(np.maximum(r.S - 1, 0), 1 / alpha, 1 / (1 + alpha * mu)) / cost
    nxt = scipy.stats.nbinom.sf(r.S, 1 / alpha, 1 / (1 + alpha * mu)) / cost
    assert held[r.S > 0].min() >= nxt.max() * (1 - 1e-9)
    # the budget found by fill mode buys the same fill rate in budget mode
    b = optimize_targets(mu=mu, alpha=alpha, cost=cost, budget=r.total_value)
    assert b.total_fill_rate >= r.total_fill_rate - 1e-12
    assert b.total_value <= r.total_value + 1e-6


def test_category_budgets_solve_each_category(rng):
    n = 400
    mu = rng.gamma(0.8, 3.0, n)
    alpha = rng.uniform(0, 1, n)
    cost = rng.lognormal(1, 0.8, n)
    cat = rng.integers(0, 3, n)
    budgets = np.array([500.0, 1500.0, 300.0])
    r = optimize_targets(mu=mu, alpha=alpha, cost=cost, budget=budgets, category=cat)
    assert len(r.value) == 3
    for k in range(3):
        m = cat == k
        rk = optimize_targets(mu=mu[m], alpha=alpha[m], cost=cost[m], budget=budgets[k])
        np.testing.assert_array_equal(r.S[m], rk.S)
        assert r.value[k] <= budgets[k] + 1e-9
    f = optimize_targets(mu=mu, alpha=alpha, cost=cost, fill_rate=[0.9, 0.95, 0.8], category=cat)
    np.testing.assert_array_less([0.9 - 1e-12, 0.95 - 1e-12, 0.8 - 1e-12], f.fill_rate)


def test_daily_parameters_and_daily_paths(rng):
    n = 50
    mu_d = rng.uniform(0.1, 3, (n, 10))
    alpha = rng.uniform(0, 1, n)
    cost = rng.uniform(1, 5, n)
    r = optimize_targets(mu=mu_d, alpha=alpha, cost=cost, fill_rate=0.9)
    mean = mu_d.sum(1)
    a_eff = ((mu_d + alpha[:, None] * mu_d**2).sum(1) - mean) / mean**2
    r2 = optimize_targets(mu=mean, alpha=a_eff, cost=cost, fill_rate=0.9)
    np.testing.assert_array_equal(r.S, r2.S)
    paths = rng.poisson(1.0, (n, 30, 7))
    r3 = optimize_targets(samples=paths, cost=cost, budget=200.0)
    r4 = optimize_targets(samples=paths.sum(2), cost=cost, budget=200.0)
    np.testing.assert_array_equal(r3.S, r4.S)


def test_frontier_matches_single_solves_and_is_monotone(rng, tmp_path):
    n = 500
    mu = rng.gamma(0.8, 3.0, n)
    alpha = rng.uniform(0, 1, n)
    cost = rng.lognormal(1, 0.8, n)
    budgets = np.linspace(200, 6000, 8)
    f = efficient_frontier(mu=mu, alpha=alpha, cost=cost, budgets=budgets, return_levels=True)
    assert np.all(np.diff(f.fill_rate) >= -1e-12) and np.all(f.value <= budgets + 1e-9)
    for j in (0, 5):
        np.testing.assert_array_equal(f.levels[j], optimize_targets(mu=mu, alpha=alpha, cost=cost,
                                                                    budget=budgets[j]).S)
    g = efficient_frontier(mu=mu, alpha=alpha, cost=cost)  # default: 20 fill targets
    assert len(g.value) == 20 and np.all(np.diff(g.value) >= 0) and g.levels is None
    assert np.all(g.fill_rate >= g.goal - 1e-12)
    png = g.plot(tmp_path / "frontier.png", others={"uniform": (g.value * 1.2, g.fill_rate)})
    assert (tmp_path / "frontier.png").stat().st_size > 1000 and png


def test_beats_uniform_service_level_on_expected_fill(rng):
    n = 2000
    mu = rng.gamma(0.6, 5.0, n)
    alpha = rng.uniform(0.05, 1.0, n)
    cost = rng.lognormal(1, 1.2, n)
    S_u = skucast.nbinom.ppf(0.95, mu, alpha)
    filled_u = optimize_targets(mu=mu, alpha=alpha, cost=cost, budget=1e12, floor_units=S_u, cap_units=S_u)
    r = optimize_targets(mu=mu, alpha=alpha, cost=cost, budget=filled_u.total_value)
    assert r.total_fill_rate > filled_u.total_fill_rate


def test_not_binding_and_infeasible():
    r = optimize_targets(mu=[1.0, 2.0], alpha=0.1, cost=1.0, budget=1e9)
    assert r.status == ["not binding"] and r.total_fill_rate > 1 - 1e-9
    r = optimize_targets(mu=[1.0, 2.0], alpha=0.1, cost=1.0, fill_rate=0.5, floor=0.99)
    assert r.status == ["not binding"]
    with pytest.raises(ValueError, match=r"budget: below the cost of the floors .*index \(0,\)"):
        optimize_targets(mu=[1.0, 2.0], alpha=0.1, cost=1.0, budget=3, floor_units=[2, 2])
    with pytest.raises(ValueError, match=r"fill_rate: out of reach"):
        optimize_targets(mu=[1.0, 2.0], alpha=0.1, cost=1.0, fill_rate=0.9, cap=0.5)
    f = efficient_frontier(mu=[1.0, 2.0], alpha=0.1, cost=1.0, budgets=[1, 3, 1e9], floor_units=[1, 1])
    assert f.status == ["infeasible", "solved", "not binding"]


@pytest.mark.parametrize("kwargs, match", [
    (dict(mu=[1.0, -1.0], cost=1.0, budget=5), r"mu: must be finite and >= 0; first bad value at index \(1,\): -1.0"),
    (dict(mu=[1.0, 1.0], alpha=[0.1, np.nan], cost=1.0, budget=5), r"alpha: must be finite and >= 0; .*\(1,\)"),
    (dict(mu=[1.0, 1.0], cost=[1.0, 0.0], budget=5), r"cost: must be finite and > 0; first bad value at index \(1,\)"),
    (dict(mu=[1.0, 1.0], cost=1.0, budget=-1), r"budget: must be finite and >= 0"),
    (dict(mu=[1.0, 1.0], cost=1.0, fill_rate=1.0), r"fill_rate: must be in \(0, 1\)"),
    (dict(mu=[1.0, 1.0], cost=1.0), r"give either budget or fill_rate"),
    (dict(mu=[1.0, 1.0], cost=1.0, budget=1, fill_rate=0.9), r"give either budget or fill_rate"),
    (dict(cost=1.0, budget=1), r"give either mu \(and alpha\) or samples"),
    (dict(mu=[1.0, 1.0], cost=[1.0, 2.0, 3.0], budget=1), r"cost: expected a scalar or one value per SKU \(2,\)"),
    (dict(mu=[1.0, 1.0], cost=1.0, budget=1, floor=[0.5, 1.2]), r"floor: must be a service level in \(0, 1\); .*\(1,\)"),
    (dict(mu=[1.0, 1.0], cost=1.0, budget=1, floor_units=[-1, 0]), r"floor_units: must be >= 0; .*\(0,\)"),
    (dict(mu=[1.0, 5.0], cost=1.0, budget=9, floor_units=[0, 4], cap_units=[3, 3]), r"cap: below the floor .*\(1,\)"),
    (dict(samples=[[1, 2], [3, -1]], cost=1.0, budget=1), r"samples: must be >= 0; first bad value at index \(1, 1\)"),
    (dict(samples=[[1, 2.5]], cost=1.0, budget=1), r"samples: must be whole numbers"),
    (dict(mu=[1.0, 1.0], cost=1.0, budget=[1, 2]), r"budget: expected a scalar or one value per category \(1,\)"),
    (dict(mu=[1.0, 1.0], cost=1.0, budget=1, category=[0, -1]), r"category: must be >= 0; .*\(1,\)"),
])
def test_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        optimize_targets(**kwargs)


def test_type_errors():
    with pytest.raises(TypeError, match="mu: expected real numbers"):
        optimize_targets(mu=["a"], cost=1.0, budget=1)
    with pytest.raises(ValueError, match=r"category: must be whole numbers .*index \(0,\): 0.5"):
        optimize_targets(mu=[1.0], cost=1.0, budget=1, category=[0.5])


def test_empty_portfolio():
    r = optimize_targets(mu=np.zeros(0), cost=np.zeros(0) + 1, budget=10.0)
    assert r.S.shape == (0,) and r.total_value == 0


def test_thread_count_independence(rng, restore_threads):
    n = 60000
    mu = rng.gamma(0.5, 4.0, n)
    alpha = rng.uniform(0, 1, n)
    cost = rng.lognormal(1, 1, n)
    out = []
    for t in (1, 2, 3):
        skucast.set_num_threads(t)
        a = optimize_targets(mu=mu, alpha=alpha, cost=cost, fill_rate=0.95)
        b = optimize_targets(mu=mu, alpha=alpha, cost=cost, budget=a.total_value * 0.8)
        out.append((a.S, b.S, a.total_value, b.expected_filled[0]))
    for o in out[1:]:
        np.testing.assert_array_equal(o[0], out[0][0])
        np.testing.assert_array_equal(o[1], out[0][1])
        assert o[2] == out[0][2] and o[3] == out[0][3]


def test_results_to_frame():
    mu = np.full((3, 10), [[0.4], [3.0], [25.0]])
    r = optimize_targets(cost=[2.0, 9.5, 0.8], mu=mu, alpha=0.4, fill_rate=0.97, category=[0, 0, 1])
    f = r.to_frame()
    assert list(f.columns) == ["value", "expected_filled", "expected_demand", "fill_rate", "threshold", "status"]
    np.testing.assert_array_equal(f["value"], r.value)
    assert list(f["status"]) == list(r.status)
    fr = skucast.inventory.efficient_frontier(cost=[2.0, 9.5, 0.8], mu=mu, alpha=0.4, budgets=[50, 100])
    g = fr.to_frame()
    np.testing.assert_array_equal(g["goal"], [50, 100])
    np.testing.assert_array_equal(g["fill_rate"], fr.fill_rate)


def test_units_tied_at_the_threshold_are_handed_out_by_sku_without_a_list_per_unit():
    # every unit below a SKU's smallest sample has gain 1: such ties cannot be split by the
    # threshold search, and one list entry per unit took 2.4 GB for 1e8 units (bad_alloc at 1e9)
    smp = np.full((3, 4), 100_000)
    r = optimize_targets(samples=smp, cost=[2.0, 1.0, 1.0], budget=2.5e5)
    np.testing.assert_array_equal(r.S, [25_000, 100_000, 100_000])  # cheapest first, then by SKU
    assert r.total_value == 2.5e5 and r.threshold[0] == 0.5
    r = optimize_targets(samples=smp, cost=[1.0, 3.0, 1.0], fill_rate=0.5)
    np.testing.assert_array_equal(r.S, [100_000, 0, 50_000])
    assert r.total_fill_rate == 0.5
    r = optimize_targets(samples=smp, cost=[1.0, 1.5, 1.0], budget=2.5e5 + 1.0)  # a unit that does not fit
    np.testing.assert_array_equal(r.S, [100_000, 33_334, 100_000])
    big = optimize_targets(mu=[1e9, 2e9], alpha=0.0, cost=1.0, fill_rate=0.9)
    assert big.status == ["solved"] and big.total_fill_rate >= 0.9
    assert big.total_value - 1 < 0.9 * 3e9 + 1e5  # ~all units given have gain ~1


def test_levels_past_int64_are_refused():
    with pytest.raises(ValueError, match=r"^mu: the level where .* passes 2\*\*62 .* index \(0,\): 1e\+19"):
        optimize_targets(mu=[1e19, 1.0], alpha=0.5, cost=1.0, budget=1e30)
    with pytest.raises(ValueError, match=r"^mu: the level where .* index \(1,\): 1e\+300"):
        optimize_targets(mu=[1.0, 1e300], alpha=0.5, cost=1.0, budget=10)
    with pytest.raises(ValueError, match=r"^samples: must be <= 2\*\*62 / horizon = 1152921504606846976; "
                                         r"first bad value at index \(0, 0, 0\)"):
        optimize_targets(samples=np.full((1, 2, 4), 2**62), cost=1.0, fill_rate=0.9)
    r = optimize_targets(samples=np.full((2, 3), 2**62), cost=1.0, budget=10)  # levels of 2^62 fit
    np.testing.assert_array_equal(r.S, [10, 0])
