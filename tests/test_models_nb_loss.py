"""The torch NB loss used for training equals skucast.nbinom.nll/logpmf, with finite gradients
at the edges that gave NaN losses in other libraries (alpha -> 0, huge alpha, tiny mu)."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")
import skucast  # noqa: E402
from skucast.models.nb_head import ALPHA_FLOOR, MU_FLOOR, nb_logpmf, nb_nll, positive  # noqa: E402

torch.set_num_threads(1)


def _random(rng, n=20000):
    y = rng.integers(0, 300, n).astype(np.float64)
    y[: n // 4] = rng.integers(0, 4, n // 4)
    mu = np.exp(rng.uniform(-10, 9, n))
    alpha = np.exp(rng.uniform(-30, 12, n))
    alpha[:50] = 0.0
    alpha[50:500] = np.exp(rng.uniform(-40, -15, 450))     # near Poisson
    return y, mu, alpha


def test_logpmf_equals_skucast(rng):
    y, mu, alpha = _random(rng)
    ref = skucast.nbinom.logpmf(y, mu, alpha)
    got = nb_logpmf(torch.tensor(y), torch.tensor(mu), torch.tensor(alpha)).numpy()
    np.testing.assert_allclose(got, ref, rtol=1e-10, atol=1e-10)


def test_nll_equals_skucast_sum(rng):
    y, mu, alpha = _random(rng, 5000)
    ref = skucast.nbinom.nll(y, mu, alpha)
    got = float(nb_nll(torch.tensor(y), torch.tensor(mu), torch.tensor(alpha)))
    assert got == pytest.approx(ref, rel=1e-11)
    mask = (rng.random(5000) < 0.5).astype(np.float64)
    got_m = float(nb_nll(torch.tensor(y), torch.tensor(mu), torch.tensor(alpha), torch.tensor(mask)))
    assert got_m == pytest.approx(skucast.nbinom.nll(y[mask > 0], mu[mask > 0], alpha[mask > 0]), rel=1e-11)


def test_float32_loss_close_and_gradients_finite(rng):
    y, mu, alpha = _random(rng, 5000)
    ref = skucast.nbinom.logpmf(y, mu, alpha)
    m = torch.tensor(mu, dtype=torch.float32, requires_grad=True)
    a = torch.tensor(alpha, dtype=torch.float32, requires_grad=True)
    lp = nb_logpmf(torch.tensor(y, dtype=torch.float32), m, a)
    np.testing.assert_allclose(lp.detach().numpy(), ref, rtol=2e-4, atol=2e-3)
    lp.sum().backward()
    assert torch.isfinite(m.grad).all() and torch.isfinite(a.grad).all()


def test_positive_transform_never_zero():
    x = torch.tensor([-1e4, -200.0, -90.0, 0.0, 50.0, 1e4], requires_grad=True)
    mu, al = positive(x, MU_FLOOR), positive(x, ALPHA_FLOOR)
    assert (mu > 0).all() and (al > 0).all() and torch.isfinite(mu).all()
    nll = nb_nll(torch.full_like(x, 3.0), mu, al)
    nll.backward()
    assert torch.isfinite(nll) and torch.isfinite(x.grad).all()
