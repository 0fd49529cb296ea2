"""ppf's vector walk (contiguous inputs) gives the same exact quantiles as the scalar path
(strided or broadcast inputs), for every lane width, block, tail and near-tie."""

import numpy as np
import pytest

import skucast
from avx512_off import without_avx512

nb = skucast.nbinom


def _strided(a):
    spread = np.empty(2 * a.size, dtype=a.dtype)
    spread[::2] = a
    return spread[::2]


def _random_inputs(rng, n):
    mu = np.exp(rng.uniform(np.log(1e-3), np.log(200.0), n))
    alpha = np.exp(rng.uniform(np.log(1e-6), np.log(20.0), n))
    alpha[rng.random(n) < 0.1] = 0.0
    q = rng.uniform(1e-4, 1 - 1e-4, n)
    levels = rng.random(n) < 0.3
    q[levels] = rng.choice([0.5, 0.9, 0.95, 0.98, 0.995, 0.9999], levels.sum())
    return q, mu, alpha


def _same_as_scalar(q, mu, alpha):
    dense = nb.ppf(q, mu, alpha)
    scalar = nb.ppf(_strided(q), _strided(mu), _strided(alpha))
    np.testing.assert_array_equal(dense, scalar)
    return dense


@pytest.mark.parametrize("n", [1, 7, 8, 9, 255, 256, 257, 1000, 4096 + 5])
def test_random_sizes_match_scalar(rng, n):
    _same_as_scalar(*_random_inputs(rng, n))


@pytest.mark.parametrize("q", [0.005, 0.5, 0.95, 0.98, 0.999999])
def test_one_q_for_all_matches_scalar(rng, q):
    """ppf(q, mu, alpha) with a scalar q also takes the vector walk."""
    _, mu, alpha = _random_inputs(rng, 2001)
    np.testing.assert_array_equal(nb.ppf(q, mu, alpha), nb.ppf(q, _strided(mu), _strided(alpha)))


@pytest.mark.parametrize("p_dtype", [np.float32, np.float64])
def test_dtypes_match_scalar(rng, p_dtype):
    q, mu, alpha = _random_inputs(rng, 999)
    _same_as_scalar(q.astype(p_dtype), mu.astype(p_dtype), alpha.astype(p_dtype))


def test_near_ties_match_scalar(rng):
    """q at (and one ulp around) cdf(k): the lanes the walk hands to the scalar settle."""
    n = 600
    mu = np.exp(rng.uniform(np.log(0.05), np.log(120.0), n))
    alpha = np.exp(rng.uniform(np.log(1e-4), np.log(5.0), n))
    k = rng.integers(0, 60, n).astype(np.float64)
    c = nb.cdf(k, mu, alpha)
    keep = (c > 1e-6) & (c < 1 - 1e-9)
    c, mu, alpha = c[keep], mu[keep], alpha[keep]
    q = np.concatenate([c, np.nextafter(c, 0), np.nextafter(c, 1)])
    got = _same_as_scalar(q, np.tile(mu, 3), np.tile(alpha, 3))
    assert (got[: c.size] == k[keep]).all()


def test_long_walks_and_large_means_match_scalar():
    """Walks past every window and the reciprocal table, and means outside the walk."""
    mu = np.array([0.5, 20.0, 100.0, 127.9, 128.0, 128.1, 300.0, 5e4, 1e-3])
    alpha = np.array([0.0, 3.0, 5.0, 20.0, 0.01, 0.0, 2.0, 0.1, 50.0])
    q = np.array([0.5, 0.95, 0.999, 0.9999, 0.98, 0.3, 0.995, 0.5, 0.999999])
    reps = 13
    _same_as_scalar(np.tile(q, reps), np.tile(mu, reps), np.tile(alpha, reps))


def test_first_bad_index_among_vector_lanes():
    q, mu, alpha = _random_inputs(np.random.default_rng(5), 300)
    q[[290, 41]] = 1.0
    alpha[[17, 200]] = -1.0
    with pytest.raises(ValueError, match=r"alpha.*\(17,\)"):
        nb.ppf(q, mu, alpha)


def test_threads_do_not_change_result(rng, restore_threads):
    q, mu, alpha = _random_inputs(rng, 100_003)
    skucast.set_num_threads(1)
    one = nb.ppf(q, mu, alpha)
    skucast.set_num_threads(2)
    np.testing.assert_array_equal(one, nb.ppf(q, mu, alpha))


def test_four_lanes_match_eight(tmp_path):
    """SKUCAST_NO_AVX512=1 (read at first use) forces the four-lane loop in a fresh process."""
    q, mu, alpha = _random_inputs(np.random.default_rng(9), 5003)
    four = without_avx512(tmp_path, "skucast.nbinom.ppf(*a)", q, mu, alpha)
    np.testing.assert_array_equal(four, nb.ppf(q, mu, alpha))
