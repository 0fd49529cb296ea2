"""GPU parity skeleton: every function on cupy arrays equals the CPU result (needs CUDA and cupy)."""
import numpy as np
import pytest

import skucast

cp = pytest.importorskip("cupy") if skucast.cuda_available() else None

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not skucast.cuda_available() or cp is None, reason="needs skucast CUDA build, a GPU and cupy"),
]

nb = skucast.nbinom
RTOL = 1e-12  # float kernels: the API accuracy goal; integers must be identical


def _cpu(x):
    return cp.asnumpy(x) if isinstance(x, cp.ndarray) else np.asarray(x)


@pytest.fixture
def data(rng):
    mu = 10 ** rng.uniform(-3, 5, 2000)
    alpha = 10 ** rng.uniform(-6, 2, 2000)
    alpha[::7] = 0.0
    y = rng.integers(0, (3 * mu).astype(np.int64) + 5)
    q = rng.uniform(0.001, 0.999, 2000)
    return y, mu, alpha, q


@pytest.mark.parametrize("name", ["logpmf", "pmf", "cdf", "sf"])
def test_elementwise(data, name):
    y, mu, alpha, _ = data
    f = getattr(nb, name)
    got = f(cp.asarray(y), cp.asarray(mu), cp.asarray(alpha))
    assert isinstance(got, cp.ndarray)
    want = f(y, mu, alpha)
    np.testing.assert_allclose(_cpu(got), want, rtol=RTOL, atol=0)


def test_ppf_and_nll(data):
    y, mu, alpha, q = data
    np.testing.assert_array_equal(_cpu(nb.ppf(cp.asarray(q), cp.asarray(mu), cp.asarray(alpha))), nb.ppf(q, mu, alpha))
    want = nb.nll(y, mu, alpha)
    got = float(_cpu(nb.nll(cp.asarray(y), cp.asarray(mu), cp.asarray(alpha))))
    assert abs(got - want) <= RTOL * abs(want) + 1e-9


def test_sample_identical(data):
    _, mu, alpha, _ = data
    got = nb.sample(cp.asarray(mu), cp.asarray(alpha), 64, 1234, step=2)
    np.testing.assert_array_equal(_cpu(got), nb.sample(mu, alpha, 64, 1234, step=2))


@pytest.mark.parametrize("method", ["inverted_cdf", "linear"])
def test_quantiles(rng, method):
    x = rng.negative_binomial(3, 0.2, (500, 201)).astype(np.int64)
    lv = [0.0, 0.1, 0.5, 0.95, 1.0]
    np.testing.assert_array_equal(_cpu(skucast.quantiles(cp.asarray(x), lv, method=method)),
                                  skucast.quantiles(x, lv, method=method))


def test_aggregates(rng):
    x = rng.integers(0, 100, (300, 8, 28))
    start = rng.integers(0, 14, 300)
    length = rng.integers(0, 15, 300)
    np.testing.assert_array_equal(_cpu(skucast.window_sum(cp.asarray(x), cp.asarray(start), cp.asarray(length))),
                                  skucast.window_sum(x, start, length))
    ids = rng.integers(0, 17, 300)
    np.testing.assert_array_equal(_cpu(skucast.group_sum(cp.asarray(x), cp.asarray(ids), 20)),
                                  skucast.group_sum(x, ids, 20))
