"""Inputs an adversarial review found mishandled: a crash, an overflow, wrong tails and ppf
answers at the edges of the documented ranges, and a thread count that exhausted the system."""
import numpy as np
import pytest

import skucast
from skucast import nbinom as nb


def test_ppf_of_a_huge_mean_does_not_crash():
    # the Cornish-Fisher start squared mu (inf past 1e154) and cast a NaN to int64
    assert nb.ppf(0.5, 2e154, 1.0) == nb.ppf(0.5, 1e154, 1.0) == 2**62   # saturates at 2^62
    assert 5e8 < nb.ppf(0.5, 1e9, 1.0) < 1e9   # median of a geometric-like law: mean ln 2


def test_lower_tail_of_a_huge_mean_stays_in_range():
    # y <= 64 far below a mean of millions: the sum of pmf ratios to P(0) overflowed to inf
    y = np.arange(40, 65, dtype=float)[:, None]
    mu = np.array([1.6e6, 1e7, 1e8])[None, :]
    for alpha in (1e-12, 1e-9, 5e-7):
        c, s = nb.cdf(y, mu, alpha), nb.sf(y, mu, alpha)
        assert np.all((c >= 0) & (c <= 1e-300)) and np.all(s == 1.0)
    assert nb.cdf(56, 1e7, 1e-12) == 0.0 and nb.sf(56, 1e7, 1e-12) == 1.0
    # and where the value is representable it matches the summed pmf
    k = np.arange(0, 41, dtype=float)
    ref = np.exp(nb.logpmf(k, 700.0, 1e-9)).sum()
    np.testing.assert_allclose(nb.cdf(40.0, 700.0, 1e-9), ref, rtol=1e-12)


def _is_smallest(k, q, mu, alpha):
    k = np.asarray(k)
    at = nb.cdf(k.astype(float), mu, alpha)
    below = np.where(k > 0, nb.cdf(np.maximum(k - 1, 0).astype(float), mu, alpha), -1.0)
    return (at >= q) & (below < q)


def test_ppf_is_the_smallest_k_for_tiny_q_and_exact_ties():
    assert nb.ppf(1e-18, 170.0, 0.06) == 0            # cdf(0) = 3.3e-18
    assert nb.ppf(5e-324, 1000.0, 0.001) == 0
    rng = np.random.default_rng(7)
    n = 4000
    mu = np.exp(rng.uniform(np.log(129), np.log(1e9), n))
    alpha = np.exp(rng.uniform(np.log(1e-6), np.log(30), n))
    q = 10.0 ** rng.uniform(-300, -12, n)
    assert _is_smallest(nb.ppf(q, mu, alpha), q, mu, alpha).all()
    # q = cdf(k) exactly: ties are decided by the same cdf (the walk's running sum used to
    # disagree with it near ties for large means)
    k = np.maximum(0, np.floor(mu + np.sqrt(mu * (1 + alpha * mu)) * rng.standard_normal(n)))
    q = nb.cdf(k, mu, alpha)
    keep = (q > 0) & (q < 1)
    assert _is_smallest(nb.ppf(q[keep], mu[keep], alpha[keep]), q[keep], mu[keep], alpha[keep]).all()
    assert nb.ppf(nb.cdf(5091, 3596.200228034884, 0.2315317198146273), 3596.200228034884,
                  0.2315317198146273) == 5091


@pytest.mark.parametrize("start, length, name", [(5, 2**63 - 1, "length"), (2**62, 2**62, "start"),
                                                 (2**63 - 1, 1, "start"), (11, 0, "start")])
def test_window_past_the_horizon_is_refused_without_overflow(start, length, name):
    with pytest.raises(ValueError, match=f"^{name}:"):
        skucast.window_sum(np.ones((3, 4, 10)), start, length)


def test_thread_count_is_bounded():
    with pytest.raises(ValueError, match=r"n: must be <= 1024"):
        skucast.set_num_threads(100_000)
    with pytest.raises(ValueError, match=r"n: must be <= 1024"):
        skucast.set_num_threads(2**31)


def test_fill_rate_reorder_point_never_above_S():
    inv = skucast.inventory
    r = inv.order_up_to(mu=[1.0], alpha=1.0, lead_time=10, review_period=1, service_level=0.9, target="fill_rate")
    assert r.s[0] <= r.S[0]
    rng = np.random.default_rng(3)
    n = 2000
    kw = dict(lead_time=rng.integers(0, 7, n), review_period=rng.integers(0, 7, n), service_level=0.9,
              target="fill_rate")
    for method in ("exact", "normal"):
        r = inv.order_up_to(mu=rng.gamma(1.0, 2.0, n), alpha=rng.uniform(0, 1, n), method=method, **kw)
        assert (r.s <= r.S).all()
    paths = rng.poisson(1.0, (50, 100, 13)).astype(float)
    r = inv.order_up_to(samples=paths, lead_time=10, review_period=1, service_level=0.9, target="fill_rate")
    assert (r.s <= r.S).all()
    # the levels feed an (s, S) replenishment as they are
    inv.replenish(on_hand=np.zeros(50, np.int64), S=r.S, s=r.s, policy="sS")


def test_negative_sample_paths_are_refused():
    with pytest.raises(ValueError, match=r"samples: demand must be >= 0; first bad value at index \(0, 0, 1\)"):
        skucast.inventory.order_up_to(samples=np.array([[[0.0, -5, -5]]]), lead_time=2, review_period=1)


def test_empty_lists_give_empty_results():
    inv = skucast.inventory
    assert inv.replenish(on_hand=[], S=[]).order.shape == (0,)
    assert inv.allocate([], mu=np.zeros((0, 3))).shape == (0, 3)


def test_a_lead_time_past_the_horizon_costs_no_memory():
    rng = np.random.default_rng(0)
    d = rng.poisson(3, (16, 30))
    kw = dict(S=40, review_period=7, initial_on_hand=20, on_order=np.full(16, 7))
    a = skucast.inventory.simulate(d, lead_time=31, **kw).to_frame()
    b = skucast.inventory.simulate(d, lead_time=10**9, **kw).to_frame()   # ring of 1e9 days before
    np.testing.assert_array_equal(a.to_numpy(), b.to_numpy())


def test_windows_of_absurd_length_are_refused_not_wrapped():
    inv = skucast.inventory
    with pytest.raises(ValueError, match=r"must be <= 2\*\*40 days"):
        inv.order_up_to(mu=[1.0], alpha=0.5, lead_time=2**62, review_period=2**62)   # S was 0, mean -9.2e18
    with pytest.raises(ValueError, match=r"^lead_time: must be <= 2\*\*40 days"):
        inv.plan_orders(mu=[1.0], alpha=0.5, on_hand=[0], lead_time=2**41, review_period=7)


@pytest.mark.parametrize("f", [nb.logpmf, nb.pmf, nb.cdf, nb.sf])
def test_counts_past_2_53_are_refused_not_nan(f):
    # cdf(1e200, 5, 0.5) was NaN and cdf(2e16, 1e16, 1) -1.35e283
    for y in (1e200, 2e16, np.int64(2**62)):
        with pytest.raises(ValueError, match=r"y: must be a whole number in \[0, 2\*\*53\]"):
            f(y, 5.0, 0.5)
    assert np.isfinite(f(2.0**53, 1e9, 0.5))


def test_stock_past_2_60_is_refused_not_wrapped():
    inv = skucast.inventory
    # the inventory position S - IP overflowed: order 0 with reason "raised_to_moq" at moq 0
    with pytest.raises(ValueError, match=r"^backorders: must be <= 2\*\*60"):
        inv.replenish(on_hand=[0], backorders=[2**62], S=[2**62])
    with pytest.raises(ValueError, match=r"^on_hand: must be <= 2\*\*60"):
        inv.plan_orders(mu=[1.0], alpha=0.5, lead_time=3, review_period=7, on_hand=[2**61], method="normal")
    assert inv.replenish(on_hand=[2**60], S=[2**62]).order[0] == 2**62 - 2**60


def test_poisson_means_near_the_double_limit_are_fast():
    # Lentz's 1 / d turned subnormal for Poisson means past ~4.5e307 and the fraction ran its 4M
    # steps per cdf call, so ppf (dozens of calls) seemed to hang; past 1e200 the fraction is
    # 1 / (mu + 1 - a) to the last bit (this test took minutes before)
    for mu in (1e250, 4e307, 5e307, 1e308):
        assert skucast.nbinom.ppf(0.5, mu, 0.0) == 2**62
        assert skucast.nbinom.cdf(1000, mu, 0.0) == 0.0


def _poisson_tail_by_summation(y, mu, upper):
    """P(X > y) (upper) or P(X <= y) of Poisson(mu) by summing pmfs at 30 digits out to 1e-25."""
    import mpmath as mp

    with mp.workdps(30):
        m = mp.mpf(mu)
        k = y + 1 if upper else y
        term = mp.e ** (-m + k * mp.log(m) - mp.loggamma(k + 1))
        total = term
        while term > total * mp.mpf(10) ** -25:
            if upper:
                k += 1
                term *= m / k
            else:
                term *= k / m
                k -= 1
            total += term
        return float(total)


def test_poisson_tails_of_huge_means_are_fast_and_exact():
    # The incomplete gamma's series and fraction need ~sqrt(mu) steps near the mean: a cdf took
    # 2 s at mu = 1e17 and ppf 15 s. From y + 1 >= 1e7 on (mu < 2 (y + 1)) the tails come from
    # Temme's uniform expansion. References: pmf sums at 30 digits, and the NB fraction at
    # alpha = 1e-30 (another algorithm; that law differs from Poisson's by ~1e-23 relative here).
    mu = 1e7
    sd = np.sqrt(mu)
    for z, upper in ((5.0, True), (10.0, True), (0.0, True), (-4.5, False)):
        y = int(np.floor(mu + z * sd))
        got = nb.sf(y, mu, 0.0) if upper else nb.cdf(y, mu, 0.0)
        assert got == pytest.approx(_poisson_tail_by_summation(y, mu, upper), rel=1e-13)
    rng = np.random.default_rng(7)
    for mu in np.concatenate([[9.99e6, 1e7, 1e9], np.exp(rng.uniform(np.log(1e7), np.log(4e15), 12))]):
        z = np.concatenate([np.linspace(-38, 38, 39), rng.normal(0, 3, 40), [-1e-3, 0.0, 1e-3]])
        y = np.unique(np.floor(mu + z * np.sqrt(mu)))
        for f in (nb.cdf, nb.sf):
            got, ref = f(y, mu, 0.0), f(y, mu, 1e-30)
            keep = (ref > 1e-300) & (ref <= 0.75)  # the tail each computes directly, or near it
            np.testing.assert_allclose(got[keep], ref[keep], rtol=5e-12, atol=0)
    for mu in (1e10, 1e13, 1e17):
        q = np.array([1e-9, 0.05, 0.5, 0.95, 1 - 1e-9])
        np.testing.assert_array_equal(nb.ppf(q, mu, 0.0), nb.ppf(q, mu, 1e-30))


def test_integer_counts_past_2_53_are_refused():
    # 2^53 + 1 as an integer converted to the double 2^53 and passed the range check
    assert nb.cdf(2**53, 1e15, 0.0) == 1.0
    for y in (2**53 + 1, np.int64(2**53 + 1), np.array([3, 2**53 + 1], np.int64), np.uint64(2**53 + 1)):
        with pytest.raises(ValueError, match=r"^y: must be a whole number in \[0, 2\*\*53\]"):
            nb.cdf(y, 1e15, 0.0)
