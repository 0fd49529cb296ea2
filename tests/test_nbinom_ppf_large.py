"""ppf's vector start for large means (contiguous inputs; cpu/ppf_large_simd_body.h: the
start's cdf by a division-free form of the incomplete-beta fraction and its pmf by Stirling's
series, on 8 or 4 lanes) gives nb::ppf's exact quantile: the same k as the scalar path
(strided inputs), and the smallest k with cdf(k) >= q, at every gate edge and near-tie."""

import numpy as np
import pytest
from scipy import stats

import skucast
from avx512_off import without_avx512

nb = skucast.nbinom


def _strided(a):
    """The same values behind a non-unit stride: the scalar loop."""
    spread = np.empty(2 * a.size, dtype=a.dtype)
    spread[::2] = a
    return spread[::2]


def _same_as_scalar(q, mu, alpha):
    dense = nb.ppf(q, mu, alpha)
    scalar = nb.ppf(_strided(np.broadcast_to(q, mu.shape).copy()), _strided(mu), _strided(alpha))
    np.testing.assert_array_equal(dense, scalar)
    return dense


def _is_quantile(k, q, mu, alpha):
    """k is the smallest count whose cdf reaches q (skucast's cdf: the definition ppf keeps)."""
    q = np.broadcast_to(q, mu.shape)
    assert (nb.cdf(k, mu, alpha) >= q).all()
    below = k > 0
    assert (nb.cdf(k[below] - 1, mu[below], alpha[below]) < q[below]).all()


def _large_laws(rng, n, alpha_lo=1e-12, alpha_hi=1e3):
    mu = np.exp(rng.uniform(np.log(128.0), np.log(1e7), n))
    alpha = np.exp(rng.uniform(np.log(alpha_lo), np.log(alpha_hi), n))
    alpha[rng.random(n) < 0.05] = 0.0
    return mu, alpha


def _window_laws(rng, n):
    """The inventory benchmark's protection-interval laws: NB(d mu, alpha / d), d = L + R."""
    mu = np.exp(rng.uniform(np.log(0.05), np.log(50), n))
    alpha = np.exp(rng.uniform(np.log(0.01), np.log(3), n))
    d = rng.integers(1, 15, n) + 7
    return mu * d, alpha / d


@pytest.mark.parametrize("q", [1e-6, 0.05, 0.5, 0.9, 0.95, 0.98, 0.999, 0.999999])
def test_one_q_large_means_match_scalar(rng, q):
    mu, alpha = _large_laws(rng, 3001)
    k = _same_as_scalar(q, mu, alpha)
    _is_quantile(k, q, mu, alpha)


@pytest.mark.parametrize("n", [1, 7, 8, 9, 255, 256, 257, 2049])
def test_dense_q_large_means_match_scalar(rng, n):
    mu, alpha = _large_laws(rng, n)
    q = rng.uniform(1e-5, 1 - 1e-5, n)
    _same_as_scalar(q, mu, alpha)


def test_window_laws_match_scalar_and_definition(rng):
    mu, alpha = _window_laws(rng, 20_000)
    for q in (0.5, 0.95, 0.99):
        k = _same_as_scalar(q, mu, alpha)
        _is_quantile(k, q, mu, alpha)


def test_window_laws_match_scipy(rng):
    """An independent reference where scipy's ppf is reliable (means up to ~1e3)."""
    mu, alpha = _window_laws(rng, 3000)
    keep = mu > 128
    mu, alpha = mu[keep], alpha[keep]
    ref = stats.nbinom.ppf(0.95, 1.0 / alpha, 1.0 / (1.0 + alpha * mu))
    np.testing.assert_array_equal(nb.ppf(0.95, mu, alpha), ref.astype(np.int64))


def test_near_ties_match_scalar(rng):
    """q at cdf(k) and one ulp either side: the walk hands these to cdf() itself."""
    mu, alpha = _large_laws(rng, 800, alpha_hi=50.0)
    k = np.floor(mu * rng.uniform(0.8, 1.6, mu.size))
    c = nb.cdf(k, mu, alpha)
    keep = (c > 1e-6) & (c < 1 - 1e-9)
    c, mu, alpha, k = c[keep], mu[keep], alpha[keep], k[keep]
    q = np.concatenate([c, np.nextafter(c, 0), np.nextafter(c, 1)])
    mu3, alpha3 = np.tile(mu, 3), np.tile(alpha, 3)
    got = _same_as_scalar(q, mu3, alpha3)
    assert (got[: c.size] == k).all()
    _is_quantile(got, q, mu3, alpha3)


def test_gate_edges_match_scalar():
    """Where the vector start hands over to nb::ppf: alpha at 1e3, n = 1 / alpha at 1 and 15
    (the Stirling shift), heavy tails (alpha >= 1, alpha mu >= 1), Poisson limits, cdf starts
    at or below 64, huge means and shapes (the rounding bound), and mean 128 itself."""
    alphas = [0.0, 1e-300, 1e-20, 1e-12, 1e-6, 1 / 15.000001, 1 / 15, 1 / 14.999999, 0.3, 0.999999, 1.0,
              1.000001, 7.5, 999.0, 1000.0, 1000.1, 1e6]
    mus = [128.0, 128.000001, 300.0, 5e3, 1e5, 1e7, 9.99e11, 1e12, 1.0001e12, 1e15]
    qs = [1e-9, 1e-3, 0.3, 0.5, 0.95, 0.999999]
    q, mu, alpha = (g.ravel() for g in np.meshgrid(qs, mus, alphas, indexing="ij"))
    k = _same_as_scalar(q, mu, alpha)
    finite = (mu < 1e12) & (k < 2**53)
    _is_quantile(k[finite], q[finite], mu[finite], alpha[finite])


def test_offsets_put_each_row_in_every_lane(rng):
    mu, alpha = _window_laws(rng, 700)
    for shift in range(9):
        _same_as_scalar(0.95, mu[shift:], alpha[shift:])


def test_mixed_blocks_match_scalar(rng):
    """Small and large means interleaved in one block: the walk's lanes and the large queue."""
    n = 5000
    mu = np.where(rng.random(n) < 0.5, np.exp(rng.uniform(np.log(0.01), np.log(128), n)),
                  np.exp(rng.uniform(np.log(128), np.log(1e5), n)))
    alpha = np.exp(rng.uniform(np.log(1e-4), np.log(10.0), n))
    _same_as_scalar(rng.uniform(0.01, 0.999, n), mu, alpha)


def test_float32_inputs_match_scalar(rng):
    mu, alpha = _large_laws(rng, 999, alpha_hi=100.0)
    _same_as_scalar(np.float32(0.95), mu.astype(np.float32), alpha.astype(np.float32))


def test_four_lanes_match_eight(tmp_path):
    """SKUCAST_NO_AVX512=1 (read at first use) forces the four-lane loop in a fresh process."""
    rng = np.random.default_rng(11)
    mu, alpha = _large_laws(rng, 6007)
    q = rng.uniform(1e-4, 1 - 1e-4, mu.size)
    four = without_avx512(tmp_path, "skucast.nbinom.ppf(*a)", q, mu, alpha)
    np.testing.assert_array_equal(four, nb.ppf(q, mu, alpha))
