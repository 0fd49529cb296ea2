"""Hypothesis properties of skucast.nbinom: cdf shape, cdf+sf, pmf vs logpmf, Poisson limit, nll."""
import math

import numpy as np
from hypothesis import assume, given
from hypothesis import strategies as st

import skucast

nb = skucast.nbinom

EPS = np.finfo(np.float64).eps  # 2.2e-16
RTOL = 1e-12  # accuracy goal of the API contract for each function

_mu = st.floats(-6, 6).map(lambda e: 10.0**e)
_alpha = st.one_of(st.just(0.0), st.floats(-8, 4).map(lambda e: 10.0**e))


def _span(mu, alpha, width=8):
    sd = math.sqrt(mu + alpha * mu * mu)
    return int(min(mu + width * sd + 20, 2e5))


@given(mu=_mu, alpha=_alpha)
def test_cdf_monotone_and_bounded(mu, alpha):
    hi = _span(mu, alpha)
    y = np.unique(np.linspace(0, hi, 2000).astype(np.int64))
    c = nb.cdf(y, mu, alpha)
    s = nb.sf(y, mu, alpha)
    assert ((c >= 0) & (c <= 1)).all()
    assert ((s >= 0) & (s <= 1)).all()
    assert (np.diff(c) >= 0).all()
    assert (np.diff(s) <= 0).all()


@given(mu=_mu, alpha=_alpha, frac=st.floats(0, 3))
def test_cdf_plus_sf_is_one(mu, alpha, frac):
    y = np.arange(0, 200) + int(frac * mu)
    c = nb.cdf(y, mu, alpha)
    s = nb.sf(y, mu, alpha)
    # Each of cdf and sf is accurate to RTOL relative, so cdf + sf - 1 is at most RTOL*min(cdf, sf)
    # plus the rounding of the two results and of their sum (<= 2 ulp(1) = 4.4e-16).
    tol = RTOL * np.minimum(c, s) + 2 * EPS
    err = np.abs((c + s) - 1.0)
    assert (err <= tol).all(), (y[np.argmax(err - tol)], (err - tol).max())


@given(mu=_mu, alpha=_alpha, frac=st.floats(0, 5))
def test_pmf_is_exp_logpmf(mu, alpha, frac):
    y = np.arange(0, 100) + int(frac * mu)
    p = nb.pmf(y, mu, alpha)
    lp = nb.logpmf(y, mu, alpha)
    assert np.isfinite(lp).all()
    normal = p > 1e-300
    # logpmf accurate to RTOL*max(1,|logpmf|) absolute -> exp(logpmf) relative error of that size;
    # pmf itself accurate to RTOL relative; plus the rounding of exp.
    tol = RTOL * np.maximum(1.0, np.abs(lp)) + RTOL + 2 * EPS
    rel = np.abs(p - np.exp(lp)) / np.where(normal, p, 1.0)
    assert (rel[normal] <= tol[normal]).all()
    assert (np.exp(lp[~normal]) <= 1e-290).all()


@given(mu=st.floats(-3, np.log10(50)).map(lambda e: 10.0**e), alpha=_alpha)
def test_pmf_sums_to_cdf(mu, alpha):
    k_max = _span(mu, alpha, 5)
    assume(k_max <= 5000)
    y = np.arange(0, k_max + 1)
    p = nb.pmf(y, mu, alpha)
    c = nb.cdf(y, mu, alpha)
    partial = np.cumsum(p)
    exact_sum = math.fsum(p)
    # K+1 terms each with RTOL relative error (no cancellation), sum rounded: (RTOL + (K+1) eps).
    tol = 2 * RTOL + (k_max + 1) * EPS
    assert abs(exact_sum - c[-1]) <= tol * c[-1]
    check = slice(None, None, max(1, k_max // 50))
    np.testing.assert_allclose(partial[check], c[check], rtol=tol, atol=0)


@given(mu=st.floats(-3, 3).map(lambda e: 10.0**e), z=st.floats(-6, 6))
def test_small_alpha_converges_to_poisson(mu, z):
    # log NB(y; mu, a) - log Pois(y; mu) = (a/2) ((y - mu)^2 - y) + O(a^2 (y + mu)^3)
    a = 1e-12
    y = np.unique(np.maximum(0, np.floor(mu + z * np.sqrt(mu) + np.arange(-3, 4))))
    l_nb = nb.logpmf(y, mu, a)
    l_po = nb.logpmf(y, mu, 0.0)
    first_order = 0.5 * a * ((y - mu) ** 2 - y)
    tol = 2 * RTOL * np.maximum(1.0, np.abs(l_po)) + a * a * (y + mu + 1) ** 3
    assert (np.abs(l_nb - l_po - first_order) <= tol).all()
    # pmf within 1e-9 relative of Poisson wherever the first-order term is below 5e-10
    near = np.abs(first_order) <= 5e-10
    p_nb, p_po = nb.pmf(y, mu, a), nb.pmf(y, mu, 0.0)
    ok = p_po > 1e-300
    assert (np.abs(p_nb - p_po)[near & ok] <= 1e-9 * p_po[near & ok]).all()
    # cdf: d cdf / d a at a = 0 is (mu^2/2) (pmf(y) - pmf(y-1)) (second mu-derivative of the
    # Poisson cdf), higher orders below a^2 mu^4.
    c_nb, c_po = nb.cdf(y, mu, a), nb.cdf(y, mu, 0.0)
    dc = 0.5 * a * mu * mu * (p_po - nb.pmf(np.maximum(y - 1, 0), mu, 0.0) * (y > 0))
    tol_c = 2 * RTOL * np.maximum(c_nb, c_po) + a * a * mu**4 + 1e-300
    assert (np.abs(c_nb - c_po - dc) <= tol_c).all()


def _nll_tol(lp, n_terms):
    # each term accurate to RTOL*max(1,|logpmf|); summation rounding <= n eps sum|logpmf|
    return RTOL * np.sum(np.maximum(1.0, np.abs(lp))) + n_terms * EPS * np.sum(np.abs(lp))


@given(n=st.integers(1, 40), m=st.integers(1, 30), seed=st.integers(0, 2**32 - 1))
def test_nll_equals_minus_sum_logpmf(n, m, seed):
    rng = np.random.default_rng(seed)
    mu = 10 ** rng.uniform(-2, 4, (n, 1))
    alpha = 10 ** rng.uniform(-4, 1, (1, m))
    alpha[0, rng.random(m) < 0.2] = 0.0
    y = rng.poisson(mu * rng.gamma(2.0, 0.5, (n, m)))
    lp = nb.logpmf(y, mu, alpha)
    total = nb.nll(y, mu, alpha)
    assert isinstance(total, float)
    assert abs(total - (-math.fsum(lp.ravel()))) <= _nll_tol(lp, lp.size)
    for axis in (0, 1, -1):
        got = nb.nll(y, mu, alpha, axis=axis)
        want = -lp.sum(axis=axis)
        assert got.shape == want.shape and got.dtype == np.float64
        tol = RTOL * np.maximum(1.0, np.abs(lp)).sum(axis=axis) + lp.shape[axis] * EPS * np.abs(lp).sum(axis=axis)
        assert (np.abs(got - want) <= tol).all()


def test_nll_broadcast_scalars_and_float32():
    y = np.array([[0, 3, 7], [1, 2, 40]])
    total = nb.nll(y, np.float32(4.0), np.float32(0.3))
    mu64, a64 = float(np.float32(4.0)), float(np.float32(0.3))  # float32 inputs upcast exactly
    want = -np.sum(nb.logpmf(y, mu64, a64))  # nll is float64 whatever the input dtype
    assert isinstance(total, float)
    assert abs(total - want) <= 1e-12 * abs(want)
    out = nb.nll(y, np.float32(4.0), np.float32(0.3), axis=1)
    assert out.dtype == np.float64 and out.shape == (2,)
    np.testing.assert_allclose(out, -nb.logpmf(y, mu64, a64).sum(axis=1), rtol=1e-12)
