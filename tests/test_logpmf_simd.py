"""logpmf's vector loop (contiguous inputs: 8 lanes with AVX-512, else 4) gives the same bits as
the scalar header (strided or broadcast inputs), for every lane width, tail and chunking."""

import numpy as np
import pytest

import skucast
from avx512_off import without_avx512

nb = skucast.nbinom


def _strided(a):
    """The same values behind a non-unit stride: the scalar loop."""
    spread = np.empty(2 * a.size, dtype=a.dtype)
    spread[::2] = a
    return spread[::2]


def _bits(a):
    return np.ascontiguousarray(a).view(np.uint8)


def _random_inputs(rng, n):
    mu = np.exp(rng.uniform(np.log(1e-4), np.log(300.0), n))
    alpha = np.exp(rng.uniform(np.log(1e-9), np.log(50.0), n))
    alpha[rng.random(n) < 0.1] = 0.0
    y = rng.negative_binomial(1.0 / np.maximum(alpha, 1e-9), 1.0 / (1.0 + alpha * mu)).astype(np.float64)
    y = np.minimum(y, 1e6)
    return y, mu, alpha


def _edge_inputs():
    """Every branch edge of the vector formula and its gate, crossed."""
    ys = [0, 1, 2, 3, 62, 63, 64, 65, 126, 127, 128, 129, 1000]
    mus = [1e-5, 1e-4, 1.0000001e-4, 0.009, 0.01, 0.0100001, 0.5, 3.0, 255.9, 256.0, 300.0]
    alphas = [0.0, 1e-12, 9.9e-6, 1e-5, 0.3, 7.8, 15.6, 999.0, 1e90, 1e99, 1e101, 1e300]
    y, mu, alpha = (g.ravel() for g in np.meshgrid(ys, mus, alphas, indexing="ij"))
    return y.astype(np.float64), mu, alpha


def _same_bits(y, mu, alpha):
    dense = nb.logpmf(y, mu, alpha)
    scalar = nb.logpmf(_strided(y), _strided(mu), _strided(alpha))
    assert _bits(dense).tobytes() == _bits(scalar).tobytes()
    return dense


@pytest.mark.parametrize("n", [1, 3, 4, 7, 8, 9, 15, 63, 64, 65, 1001, 4096 + 13])
def test_random_sizes_match_scalar(rng, n):
    _same_bits(*_random_inputs(rng, n))


def test_edges_match_scalar():
    y, mu, alpha = _edge_inputs()
    out = _same_bits(y, mu, alpha)
    assert np.isfinite(out[alpha < 1e300]).all()
    # Every offset: each value lands in every lane and in the scalar tail.
    for shift in range(1, 9):
        _same_bits(y[shift:], mu[shift:], alpha[shift:])


@pytest.mark.parametrize("y_dtype", [np.int32, np.int64, np.float32, np.float64])
@pytest.mark.parametrize("p_dtype", [np.float32, np.float64])
def test_dtypes_match_scalar(rng, y_dtype, p_dtype):
    y, mu, alpha = _random_inputs(rng, 999)
    _same_bits(y.astype(y_dtype), mu.astype(p_dtype), alpha.astype(p_dtype))


def test_broadcast_matches_dense(rng):
    y, mu, alpha = _random_inputs(rng, 777)
    full = nb.logpmf(y, np.full_like(y, mu[0]), alpha)
    assert _bits(full).tobytes() == _bits(nb.logpmf(y, mu[0], alpha)).tobytes()


def test_threads_do_not_change_bits(rng, restore_threads):
    y, mu, alpha = _random_inputs(rng, 300_001)
    skucast.set_num_threads(1)
    one = nb.logpmf(y, mu, alpha)
    skucast.set_num_threads(2)
    assert _bits(one).tobytes() == _bits(nb.logpmf(y, mu, alpha)).tobytes()


def test_first_bad_index_among_vector_lanes():
    y, mu, alpha = _random_inputs(np.random.default_rng(3), 100)
    y[[37, 90]] = 0.5
    mu[[41]] = -1.0
    with pytest.raises(ValueError, match=r"y.*\(37,\)"):
        nb.logpmf(y, mu, alpha)


def test_four_lanes_match_eight(tmp_path):
    """SKUCAST_NO_AVX512=1 (read at first use) forces the four-lane loop in a fresh process."""
    rng = np.random.default_rng(11)
    parts = [_random_inputs(rng, 5003), _edge_inputs()]
    y, mu, alpha = (np.concatenate(p) for p in zip(*parts))
    four = without_avx512(tmp_path, "skucast.nbinom.logpmf(*a)", y, mu, alpha)
    assert _bits(four).tobytes() == _bits(nb.logpmf(y, mu, alpha)).tobytes()
