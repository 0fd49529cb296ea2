"""mu = 0 is no demand: all mass at 0, in every nbinom function and on every loop (scalar and
vector lanes, mixed with other means), as scipy's nbinom(n = 1/alpha, p = 1) has it."""
import numpy as np
import pytest
import scipy.stats as st

import skucast

nb = skucast.nbinom


@pytest.mark.parametrize("alpha", [0.0, 1e-12, 0.3, 5.0, 1e6])
def test_point_mass_at_zero(alpha):
    y = np.array([0, 1, 2, 50, 10**9])
    mu = np.zeros(y.size)
    np.testing.assert_array_equal(nb.logpmf(y, mu, alpha), [0.0, -np.inf, -np.inf, -np.inf, -np.inf])
    np.testing.assert_array_equal(nb.pmf(y, mu, alpha), [1.0, 0, 0, 0, 0])
    np.testing.assert_array_equal(nb.cdf(y, mu, alpha), 1.0)
    np.testing.assert_array_equal(nb.sf(y, mu, alpha), 0.0)
    np.testing.assert_array_equal(nb.ppf(np.array([1e-9, 0.5, 0.999999]), 0.0, alpha), 0)
    if alpha > 0:
        ref = st.nbinom(1 / alpha, 1.0)
        np.testing.assert_array_equal(nb.pmf(y, mu, alpha), ref.pmf(y))
        np.testing.assert_array_equal(nb.cdf(y, mu, alpha), ref.cdf(y))
    assert (nb.sample(np.zeros((3, 5)), alpha, 40, seed=1) == 0).all()
    assert nb.nll(np.zeros(4), np.zeros(4), alpha) == 0.0
    assert nb.nll(np.array([0, 1]), np.zeros(2), alpha) == np.inf


def test_zero_means_among_others_on_the_vector_lanes(rng):
    n = 4099  # several 8-lane groups and a tail
    mu = rng.uniform(0.05, 300, n)
    mu[rng.random(n) < 0.3] = 0.0
    alpha = rng.uniform(0, 2, n)
    y = rng.integers(0, 40, n)
    zero = mu == 0
    lp = nb.logpmf(y, mu, alpha)
    want_zero = np.where(y[zero] == 0, 0.0, -np.inf)
    np.testing.assert_array_equal(lp[zero], want_zero)
    np.testing.assert_array_equal(lp[~zero], nb.logpmf(y[~zero], mu[~zero], alpha[~zero]))
    for q in (0.3, 0.95):
        k = nb.ppf(q, mu, alpha)
        assert (k[zero] == 0).all()
        np.testing.assert_array_equal(k[~zero], nb.ppf(q, mu[~zero], alpha[~zero]))
    s = nb.sample(mu, alpha, 16, seed=3)
    assert (s[zero] == 0).all()
    # the other rows' draws do not depend on where the zero means are (counter-based streams)
    np.testing.assert_array_equal(s[~zero], nb.sample(mu, alpha, 16, seed=3)[~zero])


@pytest.mark.parametrize("y,mu,alpha,want", [  # mpmath, 60 digits (loggamma form)
    (1, 1e-310, 0.3, -713.8013788281542),
    (1, 5e-324, 1e6, -744.4400719213812),
    (1e10, 1e-300, 0.5, -6914686750764.711),
    (1e10, 1e-300, 0.0, -7128013788293.974),
    (1e6, 1e-320, 0.01, -741431402.4706722),
])
def test_tiny_means_keep_finite_log_pmfs(y, mu, alpha, want):
    """y / mu past the double range (subnormal or tiny mu): the deviance's log is taken as a
    difference of logs instead of reading inf."""
    np.testing.assert_allclose(nb.logpmf(y, mu, alpha), want, rtol=1e-13)


@pytest.mark.parametrize("y,alpha", [(2, 1e308), (1e9, 1e300), (10, 1e308)])
def test_alpha_times_y_past_double_is_refused(y, alpha):
    """alpha y overflowing the double range gave NaN; it is refused like alpha mu."""
    for f in (nb.logpmf, nb.cdf, nb.sf, nb.nll):
        with pytest.raises(ValueError, match=r"alpha: alpha \* mu and alpha \* y must be below 1.8e308"):
            f(y, 1.0, alpha)
