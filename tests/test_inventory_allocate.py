"""skucast.inventory.allocate: optimal (brute force over every integer split), equal to a
unit-by-unit heap greedy, exact totals, min display / reserve rules, samples input."""
import heapq
import itertools

import numpy as np
import pytest
import scipy.stats
from hypothesis import given, settings
from hypothesis import strategies as st

import skucast
from avx512_off import without_avx512
from skucast.inventory import allocate


def nb_sf_table(mu, alpha, upto):
    """P(D > y) for y = 0..upto-1 (scipy, independent of skucast)."""
    y = np.arange(upto)
    if alpha == 0:
        return scipy.stats.poisson.sf(y, mu)
    return scipy.stats.nbinom.sf(y, 1 / alpha, 1 / (1 + alpha * mu))


def expected_sales_nb(x, mu, alpha, on_hand):
    """E[min(D, stock)] = sum_{y < stock} P(D > y)."""
    tot = 0.0
    for l in range(len(x)):
        stock = int(x[l] + on_hand[l])
        if stock and mu[l] > 0:
            tot += nb_sf_table(mu[l], alpha[l], stock).sum()
    return tot


def expected_sales_samples(x, samples, on_hand):
    stock = np.asarray(x) + np.asarray(on_hand)
    return np.minimum(samples, stock[:, None]).mean(1).sum()


def compositions(total, parts):
    for cut in itertools.combinations(range(total + parts - 1), parts - 1):
        prev, out = -1, []
        for c in cut:
            out.append(c - prev - 1)
            prev = c
        out.append(total + parts - 2 - prev)
        yield out


def heap_greedy_nb(A, mu, alpha, on_hand):
    """Unit by unit: the next unit goes where cdf(stock) is smallest (ties: lowest location)."""
    m = len(mu)
    x = [0] * m
    cdf = lambda l, y: float(skucast.nbinom.cdf(y, mu[l], alpha[l]))  # noqa: E731
    h = [(cdf(l, on_hand[l]), l) for l in range(m) if mu[l] > 0]
    heapq.heapify(h)
    for _ in range(A):
        c, l = heapq.heappop(h)
        if 1 - c < 1e-12:
            break
        x[l] += 1
        heapq.heappush(h, (cdf(l, on_hand[l] + x[l]), l))
    return x


def heap_greedy_samples(A, samples, on_hand):
    m = samples.shape[0]
    x = [0] * m
    gain = lambda l, y: int((samples[l] > y).sum())  # noqa: E731
    h = [(-gain(l, on_hand[l]), l) for l in range(m)]
    heapq.heapify(h)
    for _ in range(A):
        g, l = heapq.heappop(h)
        if g == 0:
            break
        x[l] += 1
        heapq.heappush(h, (-gain(l, on_hand[l] + x[l]), l))
    return x


@settings(max_examples=60)
@given(st.integers(0, 2**32 - 1), st.integers(1, 4), st.integers(0, 9))
def test_nb_optimal_vs_brute_force(seed, m, supply):
    rng = np.random.default_rng(seed)
    mu = rng.uniform(0.2, 6.0, m)
    alpha = rng.choice([0.0, 0.1, 0.7, 2.0], m)
    oh = rng.integers(0, 4, m)
    x = allocate([supply], mu=mu[None], alpha=alpha[None], on_hand=oh[None])[0]
    assert x.dtype == np.int64 and x.sum() == supply and (x >= 0).all()
    best = max(expected_sales_nb(c, mu, alpha, oh) for c in compositions(supply, m))
    assert expected_sales_nb(x, mu, alpha, oh) == pytest.approx(best, rel=1e-12, abs=1e-12)


@settings(max_examples=60)
@given(st.integers(0, 2**32 - 1), st.integers(1, 4), st.integers(0, 10), st.integers(1, 12))
def test_samples_optimal_vs_brute_force(seed, m, supply, num):
    rng = np.random.default_rng(seed)
    smp = rng.negative_binomial(1.5, 0.4, size=(m, num))
    oh = rng.integers(0, 3, m)
    x = allocate([supply], samples=smp[None], on_hand=oh[None])[0]
    worth = sum(max(0, smp[l].max() - oh[l]) for l in range(m))  # units with a positive increment
    assert x.sum() == min(supply, worth)
    best = max(expected_sales_samples(c, smp, oh) for c in compositions(min(supply, worth), m))
    assert expected_sales_samples(x, smp, oh) == pytest.approx(best, rel=1e-12)
    assert list(x) == heap_greedy_samples(supply, smp, oh)  # ties: lowest location first


@settings(max_examples=40)
@given(st.integers(0, 2**32 - 1))
def test_nb_equals_heap_greedy(seed):
    rng = np.random.default_rng(seed)
    n, m = 3, rng.integers(1, 12)
    mu = rng.choice([0.05, 0.5, 2.0, 7.0, 40.0, 300.0], size=(n, m)) * rng.uniform(0.5, 1.5, size=(n, m))
    alpha = rng.choice([0.0, 0.05, 0.5, 3.0], size=(n, m))
    oh = rng.integers(0, 10, size=(n, m))
    supply = rng.integers(0, 120, size=n)
    X = allocate(supply, mu=mu, alpha=alpha, on_hand=oh)
    for i in range(n):
        ref = heap_greedy_nb(int(supply[i]), mu[i], alpha[i], oh[i])
        assert X[i].sum() == sum(ref)
        if list(X[i]) != ref:  # only a near-tie may be broken differently
            assert expected_sales_nb(X[i], mu[i], alpha[i], oh[i]) == pytest.approx(
                expected_sales_nb(ref, mu[i], alpha[i], oh[i]), rel=1e-12)


def test_large_locations_exact_total(rng):
    n, m = 200, 50
    mu = rng.gamma(1.0, 3.0, size=(n, m)) + 1e-3
    alpha = rng.uniform(0, 1.0, size=(n, m))
    oh = rng.integers(0, 5, size=(n, m))
    supply = rng.integers(0, 600, size=n)
    X = allocate(supply, mu=mu, alpha=alpha, on_hand=oh)
    np.testing.assert_array_equal(X.sum(1), supply)
    for i in range(0, n, 40):
        ref = heap_greedy_nb(int(supply[i]), mu[i], alpha[i], oh[i])
        assert expected_sales_nb(X[i], mu[i], alpha[i], oh[i]) == pytest.approx(
            expected_sales_nb(ref, mu[i], alpha[i], oh[i]), rel=1e-12)


def test_huge_means():
    mu = np.array([[1e6, 2e6, 5e5]])
    X = allocate([3_000_000], mu=mu, alpha=0.01)
    assert X.sum() == 3_000_000
    # equal marginal chances: the cdfs at the allocations are within one pmf step
    c = skucast.nbinom.cdf(X[0], mu[0], 0.01)
    assert np.ptp(c) < 1e-3


def test_reserve_and_min_display():
    mu = np.array([[5.0, 0.5, 0.5]])
    # min display: locations 1, 2 get up to 2 units first, then the greedy
    X = allocate([10], mu=mu, alpha=0.1, on_hand=[[0, 1, 0]], min_display=[[0, 2, 2]])
    assert X.sum() == 10 and X[0, 1] >= 1 and X[0, 2] >= 2
    # short supply: display needs met in location order
    X = allocate([3], mu=mu, alpha=0.1, on_hand=[[0, 0, 0]], min_display=[[2, 2, 2]])
    assert list(X[0]) == [2, 1, 0]
    # reserve kept back; never negative
    X = allocate([10, 4], mu=np.vstack([mu, mu]), alpha=0.1, reserve=[3, 9])
    assert list(X.sum(1)) == [7, 0]


@settings(max_examples=30)
@given(st.integers(0, 2**32 - 1), st.integers(0, 12))
def test_min_display_optimal_given_display(seed, supply):
    rng = np.random.default_rng(seed)
    m = 3
    mu = rng.uniform(0.3, 4.0, m)
    alpha = np.full(m, 0.3)
    oh = rng.integers(0, 3, m)
    md = rng.integers(0, 4, m)
    need = np.maximum(md - oh, 0)
    x = allocate([supply], mu=mu[None], alpha=alpha[None], on_hand=oh[None], min_display=md[None])[0]
    assert x.sum() == supply
    if supply >= need.sum():
        feas = [c for c in compositions(supply, m) if (np.array(c) >= need).all()]
        best = max(expected_sales_nb(c, mu, alpha, oh) for c in feas)
        assert (x >= need).all()
        assert expected_sales_nb(x, mu, alpha, oh) == pytest.approx(best, rel=1e-12)


def test_samples_leftover_and_zero_mu():
    smp = np.array([[[0, 1, 2], [0, 0, 0]]])
    X = allocate([10], samples=smp)
    assert list(X[0]) == [2, 0]  # the rest has no chance to sell: stays at the warehouse
    X = allocate([5], mu=[[0.0, 2.0]], alpha=0.0)
    assert list(X[0]) == [0, 5]


def test_thread_independent(restore_threads, rng):
    mu = rng.gamma(1.0, 3.0, size=(3000, 20)) + 0.01
    supply = rng.integers(0, 300, 3000)
    outs = []
    for th in (1, 2):
        skucast.set_num_threads(th)
        outs.append(allocate(supply, mu=mu, alpha=0.3))
    np.testing.assert_array_equal(outs[0], outs[1])


@pytest.mark.parametrize("kw, match", [
    (dict(supply=[5, -1], mu=np.ones((2, 2))), r"supply: must be >= 0; first bad value at index \(1,\): -1"),
    (dict(supply=[5, 5], mu=np.ones((2, 2)), on_hand=[[0, 0], [0, -3]]),
     r"on_hand: must be >= 0 \(negative stock\); first bad value at index \(1, 1\): -3"),
    (dict(supply=[5, 5], mu=[[1.0, -1.0], [1, 1]]), r"mu: must be finite and >= 0; first bad value at index \(0, 1\)"),
    (dict(supply=[5, 5, 5], mu=np.ones((2, 2))), r"supply: expected a scalar or one value per SKU \(2,\)"),
    (dict(supply=[5, 5], mu=np.ones((2, 2)), on_hand=np.zeros((2, 3), int)), r"on_hand: shape"),
    (dict(supply=[5, 5], mu=np.ones((2, 2)), reserve=[-1, 0]), r"reserve: must be >= 0"),
    (dict(supply=[5], samples=np.array([[[1, -2]]])), r"samples: must be >= 0; first bad value at index \(0, 0, 1\)"),
    (dict(supply=[5]), r"either mu"),
])
def test_errors(kw, match):
    with pytest.raises(ValueError, match=match):
        allocate(**kw)


# The one-pass walk (small means, cpu/allocate_nb_simd_body.h) and the general threshold search
# must agree with the unit-by-unit greedy in every regime: a supply far below or above demand
# (the guess then lands low or high: units added or given back one by one), locations without
# demand, lane groups cut short, SKUs that leave the walk (a large mean, a huge on-hand).
def walk_regimes(rng, n=60):
    cases = []
    for m in (1, 7, 9, 50, 53):
        for share in (0.05, 0.4, 1.0, 1.3, 3.0, 40.0):
            mu = rng.gamma(0.8, 4.0, size=(n, m))
            mu[rng.random((n, m)) < 0.15] = 0.0
            alpha = rng.choice([0.0, 1e-9, 0.05, 0.6, 2.5], size=(n, m))
            oh = rng.integers(0, 4, size=(n, m))
            supply = np.round(share * mu.sum(1) * rng.uniform(0.7, 1.3, n)).astype(np.int64)
            cases.append((supply, mu, alpha, oh))
    mu = rng.gamma(0.8, 4.0, size=(n, 20))
    mu[:, 3] = 150.0  # above the walk's means: the general path
    oh = rng.integers(0, 4, size=(n, 20))
    oh[::2, 5] = 600  # on hand past the walk's table: the general path
    cases.append((rng.integers(0, 400, n), mu, np.full((n, 20), 0.3), oh))
    return cases


def test_walk_regimes_equal_heap_greedy(rng):
    for supply, mu, alpha, oh in walk_regimes(rng, n=12):
        X = allocate(supply, mu=mu, alpha=alpha, on_hand=oh)
        for i in range(len(supply)):
            ref = heap_greedy_nb(int(supply[i]), mu[i], alpha[i], oh[i])
            assert X[i].sum() == sum(ref)
            if list(X[i]) != ref:  # only a near-tie may be broken differently
                assert expected_sales_nb(X[i], mu[i], alpha[i], oh[i]) == pytest.approx(
                    expected_sales_nb(ref, mu[i], alpha[i], oh[i]), rel=1e-12)


def test_walk_ties_go_to_lowest_location():
    # identical locations: every increment ties, so units go round the locations in order
    for m in (3, 8, 11):
        for supply in (1, m - 1, 2 * m + 1, 5 * m + 2):
            X = allocate([supply], mu=np.full((1, m), 2.5), alpha=0.4)[0]
            assert list(X) == heap_greedy_nb(supply, np.full(m, 2.5), np.full(m, 0.4), np.zeros(m, int))


def test_walk_four_lanes_match_eight(tmp_path, rng):
    cases = walk_regimes(rng, n=80)
    want = [allocate(s, mu=mu, alpha=a, on_hand=oh) for s, mu, a, oh in cases]
    arrays = [x for case in cases for x in case]
    expr = ("[skucast.inventory.allocate(a[4 * i], mu=a[4 * i + 1], alpha=a[4 * i + 2], on_hand=a[4 * i + 3])"
            f" for i in range({len(cases)})]")
    got = without_avx512(tmp_path, f"np.concatenate([x.ravel() for x in {expr}])", *arrays)
    np.testing.assert_array_equal(got, np.concatenate([x.ravel() for x in want]))


def test_bad_cells_found_in_the_kernel_pass(restore_threads, rng):
    # the kernel checks the cells while it allocates; the first bad one is named whatever the
    # thread count, and in the order mu, alpha, on_hand, min_display
    n, m = 5000, 12
    mu, alpha = rng.gamma(1.0, 3.0, size=(n, m)), np.full((n, m), 0.3)
    oh, md = np.zeros((n, m), np.int64), np.zeros((n, m), np.int64)
    mu[4000, 7], mu[4100, 2] = np.nan, -1.0
    alpha[3000, 1] = np.inf
    oh[2500, 0] = -2
    md[100, 5] = -1
    for th in (1, 2):
        skucast.set_num_threads(th)
        with pytest.raises(ValueError, match=r"mu: must be finite and >= 0; first bad value at index \(4000, 7\)"):
            allocate(np.full(n, 30), mu=mu, alpha=alpha, on_hand=oh, min_display=md)
        with pytest.raises(ValueError, match=r"alpha: must be finite and >= 0; first bad value at index \(3000, 1\)"):
            allocate(np.full(n, 30), mu=np.abs(np.nan_to_num(mu)), alpha=alpha, on_hand=oh, min_display=md)
        with pytest.raises(ValueError, match=r"on_hand: .*index \(2500, 0\): -2"):
            allocate(np.full(n, 30), mu=np.abs(np.nan_to_num(mu)), alpha=0.3, on_hand=oh, min_display=md)
        with pytest.raises(ValueError, match=r"min_display: must be >= 0; first bad value at index \(100, 5\): -1"):
            allocate(np.full(n, 30), mu=np.abs(np.nan_to_num(mu)), alpha=0.3, min_display=md)


def test_no_locations_and_huge_on_hand():
    # an SKU with no location gets an empty row (the walk read past an empty array)
    assert allocate([1, 5], mu=np.zeros((2, 0))).shape == (2, 0)
    assert allocate([1], samples=np.zeros((1, 0, 4), np.int64)).shape == (1, 0)
    # a huge on-hand ends the cdf table at its walk's limit (it grew to 2**40 entries before)
    np.testing.assert_array_equal(allocate([1], mu=[[1.0]], on_hand=[[2**40]]), [[0]])
    X = allocate([7], mu=[[1.0, 2.0]], alpha=0.3, on_hand=[[2**40, 0]])
    assert list(X[0]) == [0, 7]


def test_error_precedence_mu_alpha_then_supply():
    with pytest.raises(ValueError, match=r"^mu: "):
        allocate([-1], mu=[[np.nan]])
    # a bad mu is named before type or shape errors of the other arguments, as before the cell
    # checks moved into the kernel
    with pytest.raises(ValueError, match=r"^mu: "):
        allocate([1.5], mu=[[np.nan]], alpha=0.1)
    with pytest.raises(ValueError, match=r"^alpha: "):
        allocate([1, 2, 3], mu=[[1.0]], alpha=[[np.inf]])
    with pytest.raises(ValueError, match=r"^min_display: must be whole numbers"):
        allocate([1], mu=[[1.0]], min_display=[[0.5]])
    with pytest.raises(ValueError, match=r"^alpha: "):
        allocate([5], mu=[[1.0]], alpha=[[-1.0]], reserve=-2)
    with pytest.raises(ValueError, match=r"^supply: must be >= 0; first bad value at index \(1,\): -1"):
        allocate([5, -1], mu=np.ones((2, 2)), on_hand=[[0, 0], [-1, 0]])
    with pytest.raises(ValueError, match=r"^reserve: "):
        allocate([5, 1], mu=np.ones((2, 2)), reserve=[0, -3], min_display=-1)


def test_broadcast_arguments_are_read_in_place(rng):
    # a scalar alpha, a per-location alpha row, a Fortran-ordered on_hand and a per-location
    # min_display row are read through their strides, not copied out to (n, m): same result
    n, m = 500, 13
    mu = rng.gamma(1.0, 3.0, size=(n, m))
    supply = rng.integers(0, 80, n)
    oh = np.asfortranarray(rng.integers(0, 4, size=(n, m)))
    row = rng.uniform(0.0, 2.0, m)
    display = rng.integers(0, 3, m)
    full = allocate(supply, mu=mu, alpha=np.tile(row, (n, 1)), on_hand=np.ascontiguousarray(oh),
                    min_display=np.tile(display, (n, 1)))
    np.testing.assert_array_equal(allocate(supply, mu=mu, alpha=row, on_hand=oh, min_display=display), full)
    np.testing.assert_array_equal(allocate(supply, mu=mu, alpha=0.4), allocate(supply, mu=mu, alpha=np.full((n, m), 0.4)))
    with pytest.raises(ValueError, match=r"alpha: must be finite and >= 0; first bad value at index \(0, 3\)"):
        allocate(supply, mu=mu, alpha=np.where(np.arange(m) == 3, -1.0, 0.5))
