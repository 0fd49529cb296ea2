"""skucast.nbinom.ppf: agreement with scipy, exactness (smallest k with cdf(k) >= q), properties."""
import mpmath as mp
import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from scipy import stats

import skucast
from nb_reference import mp_cdf_sf, scipy_cdf_sf, scipy_nbinom

nb = skucast.nbinom

Q_GRID = np.array([0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.98, 0.99, 0.995])
# A reference cdf within this relative distance of q cannot decide between k and k +- 1: the API's
# accuracy goal is 1e-12 relative for skucast's cdf, and scipy's incomplete beta is good to ~4e-13.
AMBIG = 2e-12


def _ref_cdf(k, mu, alpha):
    """Accurate float64 cdf (scipy incomplete beta with well-conditioned arguments; Poisson: pdtr)."""
    k, mu, alpha = np.broadcast_arrays(np.asarray(k, float), np.asarray(mu, float), np.asarray(alpha, float))
    out = np.empty(k.shape)
    pois = alpha == 0
    out[pois] = stats.poisson(mu[pois]).cdf(k[pois])
    out[~pois] = scipy_cdf_sf(k[~pois], mu[~pois], alpha[~pois])[0]
    return np.where(k < 0, 0.0, out)


def _assert_matches_reference_ppf(got, want, q, mu, alpha):
    got, want, q, mu, alpha = np.broadcast_arrays(got, want, q, mu, alpha)
    diff = got != want
    if not diff.any():
        return
    lo = np.minimum(got, want)[diff]
    c = _ref_cdf(lo, mu[diff], alpha[diff])
    ambiguous = (np.abs(c - q[diff]) <= AMBIG * q[diff]) & (np.abs(got - want)[diff] == 1)
    assert ambiguous.all(), (
        f"ppf differs from the reference at (q, mu, alpha)={q[diff][~ambiguous][0], mu[diff][~ambiguous][0], alpha[diff][~ambiguous][0]}: "
        f"got {got[diff][~ambiguous][0]}, expected {want[diff][~ambiguous][0]}")
    assert diff.sum() <= max(2, diff.size // 1000)


def test_ppf_grid_vs_scipy():
    mu = np.logspace(-3, 4, 15)[None, :, None]
    alpha = np.logspace(-3, 2, 11)[None, None, :]
    q = Q_GRID[:, None, None]
    got = nb.ppf(q, mu, alpha)
    assert got.dtype == np.int64 and got.shape == (Q_GRID.size, 15, 11)
    want = scipy_nbinom(mu, alpha).ppf(q).astype(np.int64)
    _assert_matches_reference_ppf(got, want, q, mu, alpha)


def test_ppf_poisson_vs_scipy():
    mu = np.logspace(-3, 5, 33)[None, :]
    q = Q_GRID[:, None]
    got = nb.ppf(q, mu, 0.0)
    assert got.dtype == np.int64
    want = stats.poisson(mu).ppf(q).astype(np.int64)
    _assert_matches_reference_ppf(got, want, q, mu, np.zeros_like(mu))


def _random_cases(rng, n):
    mu = 10 ** rng.uniform(-3, 4, n)
    alpha = 10 ** rng.uniform(-3, 2, n)
    alpha[rng.random(n) < 0.15] = 0.0
    q = rng.uniform(0.001, 0.999, n)
    q[:24] = np.resize([0.95, 0.98, 0.5, 0.005, 0.995, 0.9], 24)
    return q, mu, alpha


def test_ppf_is_smallest_k_with_own_cdf_at_least_q(rng):
    q, mu, alpha = _random_cases(rng, 3000)
    k = nb.ppf(q, mu, alpha)
    assert k.dtype == np.int64 and (k >= 0).all()
    assert (nb.cdf(k, mu, alpha) >= q).all()
    pos = k > 0
    below = nb.cdf(k[pos] - 1, mu[pos], alpha[pos])
    bad = ~(below < q[pos])
    assert not bad.any(), f"cdf(k-1) >= q at (q, mu, alpha)={q[pos][bad][0], mu[pos][bad][0], alpha[pos][bad][0]}"


def test_ppf_is_smallest_k_with_reference_cdf(rng):
    q, mu, alpha = _random_cases(rng, 3000)
    k = nb.ppf(q, mu, alpha)
    c = _ref_cdf(k, mu, alpha)
    cm1 = _ref_cdf(k - 1, mu, alpha)
    # tolerance: the reference cannot resolve |cdf - q| below AMBIG * q
    bad = ~((c >= q * (1 - AMBIG)) & (cm1 < q * (1 + AMBIG)))
    assert not bad.any(), (
        f"(q, mu, alpha, k)={q[bad][0], mu[bad][0], alpha[bad][0], k[bad][0]}: cdf(k)={c[bad][0]!r}, cdf(k-1)={cm1[bad][0]!r}")


_mu = st.floats(-3, 4).map(lambda e: 10.0**e)
_alpha = st.one_of(st.just(0.0), st.floats(-4, 2).map(lambda e: 10.0**e))


@given(mu=_mu, alpha=_alpha, frac=st.floats(0, 4))
def test_ppf_inverts_cdf(mu, alpha, frac):
    k = int(frac * (mu + np.sqrt(mu + alpha * mu * mu)))
    q = float(nb.cdf(k, mu, alpha))
    assume(0.0 < q < 1.0)
    assume(float(nb.pmf(k, mu, alpha)) > 1e-12 * q)
    assert nb.ppf(q, mu, alpha) == k


@given(mu=_mu, alpha=_alpha)
def test_ppf_monotone_in_q(mu, alpha):
    q = np.linspace(0.0005, 0.9995, 1000)
    k = nb.ppf(q, mu, alpha)
    assert (np.diff(k) >= 0).all()
    assert k[0] >= 0


@pytest.mark.parametrize("mu", [1e6, 1e9])
@pytest.mark.parametrize("alpha", [0.0, 1e-12, 1e-6, 1e-3, 1.0])
def test_ppf_large_mu_exact_with_own_cdf(mu, alpha):
    q = np.array([0.005, 0.05, 0.5, 0.95, 0.98, 0.995])
    k = nb.ppf(q, mu, alpha)
    assert k.dtype == np.int64
    assert (np.diff(k) >= 0).all()
    assert (nb.cdf(k, mu, alpha) >= q).all()
    assert (nb.cdf(k - 1, mu, alpha) < q).all()
    # the median of a law with mean mu and sd s lies within s of the mean (any unimodal law)
    sd = np.sqrt(mu + alpha * mu * mu)
    assert abs(k[2] - mu) <= sd + 1


@pytest.mark.parametrize("q,mu,alpha", [(0.5, 1e9, 0.0), (0.98, 1e9, 1e-12), (0.005, 1e6, 1e-3),
                                        (0.5, 1e9, 1.0), (0.95, 1e6, 1.0), (0.5, 1e6, 1e-6)])
def test_ppf_large_mu_vs_mpmath(q, mu, alpha):
    k = int(nb.ppf(q, mu, alpha))
    with mp.workdps(60):
        c_k = mp_cdf_sf(k, mu, alpha)[0]
        c_km1 = mp_cdf_sf(k - 1, mu, alpha)[0]
    assert c_k >= q * (1 - 1e-12) and c_km1 < q * (1 + 1e-12), (k, float(c_k), float(c_km1))


def test_ppf_exact_ties():
    # NB(mu=1, alpha=1): geometric with p=1/2, cdf(0) = 1/2 exactly, cdf(1) = 3/4 exactly.
    assert nb.ppf(0.5, 1.0, 1.0) == 0
    assert nb.ppf(np.nextafter(0.5, 1), 1.0, 1.0) == 1
    assert nb.ppf(0.75, 1.0, 1.0) == 1
    assert nb.ppf(np.nextafter(0.75, 1), 1.0, 1.0) == 2


def test_ppf_dtypes_and_scalars():
    assert isinstance(nb.ppf(0.5, 3.0, 0.2), np.int64)
    out = nb.ppf(np.array([0.1, 0.9], np.float32), np.float32(3.0), np.float32(0.2))
    assert out.dtype == np.int64
    out = nb.ppf([0.1, 0.9], [3.0, 30.0], 0.2)
    assert out.dtype == np.int64 and out.shape == (2,)
