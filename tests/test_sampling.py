"""skucast.nbinom.sample: shape/dtype, moments, goodness of fit, counter-based reproducibility."""
import numpy as np
import pytest
from scipy import stats

import skucast
from nb_reference import nb_cumulants, scipy_cdf_sf

nb = skucast.nbinom

# Statistical tests use fixed seeds (deterministic) and 6-sigma bounds of the estimator's normal
# approximation: a correct sampler fails one of them with probability ~2e-9.
Z = 6.0

MOMENT_CASES = [
    (3.0, 0.5), (20.0, 0.0), (20.0, 1e-12), (0.5, 1e3), (1e-3, 0.3), (1e-3, 0.0),
    (50.0, 5.0), (1e4, 1e-3), (1e6, 1e-12), (1e9, 0.0), (1e9, 1e-12), (1e9, 0.1),
]


def _draws(mu, alpha, n_elems=4, per_elem=50_000, seed=12345):
    out = nb.sample(np.full(n_elems, mu), alpha, per_elem, seed)
    assert out.shape == (n_elems, per_elem) and out.dtype == np.int64
    return out.ravel()


@pytest.mark.parametrize("mu,alpha", MOMENT_CASES)
def test_mean_variance_and_zero_fraction(mu, alpha):
    x = _draws(mu, alpha)
    n = x.size
    assert (x >= 0).all()
    k1, k2, _, k4 = nb_cumulants(mu, alpha)
    assert abs(x.mean() - k1) <= Z * np.sqrt(k2 / n), (x.mean(), k1)
    # P(Y = 0) = (1 + alpha mu)^(-1/alpha), exp(-mu) for alpha = 0; binomial proportion.
    p0 = np.exp(-mu) if alpha == 0 else np.exp(-np.log1p(alpha * mu) / alpha)
    f0 = np.mean(x == 0)
    assert abs(f0 - p0) <= Z * np.sqrt(p0 * (1 - p0) / n) + 1.0 / n, (f0, p0)
    if alpha <= 5.0:
        # Var of the unbiased sample variance: k4/n + 2 k2^2/(n-1).  Skipped for alpha = 1e3,
        # whose sample variance is far from normal (k4/k2^2 ~ 6e3).
        s2 = x.var(ddof=1)
        assert abs(s2 - k2) <= Z * np.sqrt(k4 / n + 2 * k2**2 / (n - 1)), (s2, k2)


def _ref_cdf(k, mu, alpha):
    k = np.asarray(k, float)
    if alpha == 0:
        return stats.poisson(mu).cdf(k)
    return scipy_cdf_sf(k, mu, alpha)[0]


@pytest.mark.parametrize("mu,alpha", [(3.0, 0.5), (20.0, 0.05), (0.7, 2.0), (10.0, 0.0),
                                      (5.0, 1e-12), (1e6, 0.01), (2e3, 1e-4)])
def test_chi_square_goodness_of_fit(mu, alpha):
    x = _draws(mu, alpha, per_elem=5000, seed=777)
    n = x.size
    # bins (-inf, e0], (e0, e1], ..., (e_last, inf) with edges at the reference 2.5%..97.5% quantiles
    levels = np.linspace(0, 1, 41)[1:-1]
    if alpha == 0:
        edges = stats.poisson(mu).ppf(levels)
    else:
        edges = stats.nbinom(1 / alpha, 1 / (1 + alpha * mu)).ppf(levels)
    edges = np.unique(edges)
    cdf = _ref_cdf(edges, mu, alpha)
    probs = np.diff(np.concatenate([[0.0], cdf, [1.0]]))
    observed = np.bincount(np.searchsorted(edges, x, side="left"), minlength=probs.size)
    expected = probs * n
    # merge bins with expected count < 5 into their neighbour
    obs_m, exp_m = [], []
    acc_o = acc_e = 0.0
    for o, e in zip(observed, expected):
        acc_o += o
        acc_e += e
        if acc_e >= 5:
            obs_m.append(acc_o)
            exp_m.append(acc_e)
            acc_o = acc_e = 0.0
    obs_m[-1] += acc_o
    exp_m[-1] += acc_e
    exp_m = np.array(exp_m) * (n / np.sum(exp_m))
    assert len(exp_m) >= 5
    res = stats.chisquare(np.array(obs_m), exp_m)
    assert res.pvalue > 1e-4, (res, len(exp_m))


def test_shape_dtype_and_scalar_mu():
    mu = np.full((2, 3), 4.0)
    out = nb.sample(mu, 0.2, 7, 1)
    assert out.shape == (2, 3, 7) and out.dtype == np.int64
    out = nb.sample(4.0, 0.2, 5, 1)
    assert out.shape == (5,) and out.dtype == np.int64
    out = nb.sample(np.array([1.0], np.float32), np.float32(0.5), 1, 1)
    assert out.shape == (1, 1) and out.dtype == np.int64
    out = nb.sample(np.empty((0, 4)), 0.5, 3, 1)
    assert out.shape == (0, 4, 3)


def test_extreme_parameters_no_error():
    mu = np.array([1e-12, 1e-3, 1.0, 1e6, 1e9, 1e9, 1e9, 1e-12])
    alpha = np.array([1e6, 0.0, 1e-12, 1e6, 0.0, 1e-12, 1e3, 0.0])
    x = nb.sample(mu, alpha, 2000, 99)
    assert (x >= 0).all()
    # the Poisson(1e9) and alpha = 1e-12 rows: mean within 6 sd
    for i in (4, 5):
        assert abs(x[i].mean() - 1e9) <= Z * np.sqrt(1.001e9 / 2000)


@pytest.fixture
def params(rng):
    mu = 10 ** rng.uniform(-2, 4, 3000)
    alpha = 10 ** rng.uniform(-4, 1, 3000)
    alpha[::5] = 0.0
    return mu, alpha


def test_bitwise_identical_across_thread_counts(params, restore_threads):
    mu, alpha = params
    results = []
    for t in (1, 2, 4):
        skucast.set_num_threads(t)
        results.append(nb.sample(mu, alpha, 32, 2024, step=3))
    np.testing.assert_array_equal(results[0], results[1])
    np.testing.assert_array_equal(results[0], results[2])


def test_chunking_with_keys_matches_full_batch(params):
    mu, alpha = params
    seed = 31337
    full = nb.sample(mu, alpha, 100, seed)
    np.testing.assert_array_equal(nb.sample(mu[5:7], alpha[5:7], 100, seed, keys=[5, 6]), full[5:7])
    for lo, hi in ((0, 1000), (1000, 1777), (1777, 3000)):
        part = nb.sample(mu[lo:hi], alpha[lo:hi], 100, seed, keys=np.arange(lo, hi))
        np.testing.assert_array_equal(part, full[lo:hi])
    sl = slice(7, None, 13)  # non-contiguous slice
    np.testing.assert_array_equal(
        nb.sample(mu[sl], alpha[sl], 100, seed, keys=np.arange(mu.size)[sl]), full[sl])
    # 2-D: keys are flat positions in mu's shape
    mu2, alpha2 = mu[:42].reshape(6, 7), alpha[:42].reshape(6, 7)
    full2 = nb.sample(mu2, alpha2, 10, seed)
    pos = np.arange(42).reshape(6, 7)
    np.testing.assert_array_equal(
        nb.sample(mu2[1:4, 2:6], alpha2[1:4, 2:6], 10, seed, keys=pos[1:4, 2:6]), full2[1:4, 2:6])
    np.testing.assert_array_equal(nb.sample(mu2.T, alpha2.T, 10, seed, keys=pos.T),
                                  full2.transpose(1, 0, 2))


def test_draw_j_independent_of_num_samples(params):
    mu, alpha = params
    a = nb.sample(mu[:200], alpha[:200], 50, 5)
    b = nb.sample(mu[:200], alpha[:200], 20, 5)
    np.testing.assert_array_equal(a[:, :20], b)


def test_keys_default_to_flat_positions(params):
    mu, alpha = params
    mu2, alpha2 = mu[:60].reshape(5, 12), alpha[:60].reshape(5, 12)
    np.testing.assert_array_equal(
        nb.sample(mu2, alpha2, 16, 8), nb.sample(mu2, alpha2, 16, 8, keys=np.arange(60).reshape(5, 12)))
    np.testing.assert_array_equal(
        nb.sample(mu, alpha, 4, 8), nb.sample(mu, alpha, 4, 8, keys=np.arange(mu.size)))


def test_same_key_same_stream_regardless_of_position(params):
    mu, alpha = params
    m = np.full(4, mu[0])
    a = np.full(4, alpha[0])
    x = nb.sample(m, a, 64, 3, keys=np.full(4, 12345))
    assert (x == x[0]).all()
    y = nb.sample(m, a, 64, 3, keys=np.arange(4) + 2**40)
    assert not (y == y[0]).all(axis=1)[1:].any()


def test_step_changes_draws_and_broadcasts(params):
    mu, alpha = params
    mu, alpha = mu[:500] + 5.0, alpha[:500]
    s0 = nb.sample(mu, alpha, 64, 11)
    s1 = nb.sample(mu, alpha, 64, 11, step=1)
    assert not np.array_equal(s0, s1)
    assert (s0 != s1).any(axis=1).mean() > 0.99
    np.testing.assert_array_equal(nb.sample(mu, alpha, 64, 11, step=0), s0)
    steps = np.arange(mu.size) % 7
    s = nb.sample(mu, alpha, 64, 11, step=steps)
    for i in (0, 1, 6, 7, 123, 499):
        np.testing.assert_array_equal(
            s[i], nb.sample(mu[i:i + 1], alpha[i:i + 1], 64, 11, keys=[i], step=int(steps[i]))[0])


def test_seeds(params):
    mu, alpha = params
    mu, alpha = mu[:500] + 5.0, alpha[:500]
    a = nb.sample(mu, alpha, 64, 0)
    np.testing.assert_array_equal(a, nb.sample(mu, alpha, 64, 0))
    b = nb.sample(mu, alpha, 64, 1)
    assert (a != b).any(axis=1).mean() > 0.99
    c = nb.sample(mu, alpha, 64, 2**64 - 1)
    assert (a != c).any(axis=1).mean() > 0.99
    np.testing.assert_array_equal(c, nb.sample(mu, alpha, 64, np.uint64(2**64 - 1)))
    d = nb.sample(mu, alpha, 64, 2**32)  # high word of the seed matters
    assert (a != d).any(axis=1).mean() > 0.99


def test_alpha_broadcasts_to_mu(params):
    mu, _ = params
    np.testing.assert_array_equal(nb.sample(mu[:100], 0.3, 8, 4), nb.sample(mu[:100], np.full(100, 0.3), 8, 4))
    mu2 = mu[:60].reshape(6, 10)
    alpha_row = np.linspace(0, 1, 10)
    np.testing.assert_array_equal(nb.sample(mu2, alpha_row, 8, 4),
                                  nb.sample(mu2, np.broadcast_to(alpha_row, (6, 10)).copy(), 8, 4))


def test_streams_of_neighbouring_keys_uncorrelated():
    # 4000 series with the same law; correlation between series i and i+1 across 400 draws
    x = nb.sample(np.full(4000, 30.0), 0.2, 400, 42).astype(float)
    x -= x.mean(axis=1, keepdims=True)
    x /= x.std(axis=1, keepdims=True)
    r = np.mean(x[:-1] * x[1:], axis=1)  # ~N(0, 1/400) each
    assert abs(r.mean()) <= Z / np.sqrt(400 * r.size)
