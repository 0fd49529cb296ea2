"""N-BEATS with an NB head: generic and interpretable stacks train, export and sample through
the same Forecaster path as DeepAR."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("pandas")
from model_frames import make_frame  # noqa: E402
import skucast  # noqa: E402
from skucast.models import Forecaster, fit, save  # noqa: E402

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def frames():
    return make_frame(n_series=10, days=120, seed=1)


@pytest.mark.parametrize("stacks", ["generic", "interpretable"])
def test_nbeats_train_export_predict(frames, stacks, tmp_path):
    train, _, _ = frames
    m = fit(train, model="nbeats", horizon=14, context_length=28, epochs=2, batches_per_epoch=5,
            batch_size=16, stacks=stacks, blocks=2, width=16, depth=2)
    assert np.isfinite(m.history).all()
    eager = Forecaster(m).predict(train, None, num_samples=30, seed=2)   # no covariates needed
    assert eager.samples.shape == (10, 30, 14)
    # N-BEATS paths are independent days of NB(mu, alpha): sample mean near mu
    assert np.all(eager.mu > 0) and np.all(eager.alpha > 0)
    x = torch.rand(16, 28) * 3
    sc = torch.rand(16) * 4 + 1
    for ext in ("pt", "pt2"):
        f = Forecaster.load(save(m, str(tmp_path / f"nb.{ext}")))
        with torch.no_grad():
            for a, b in zip(m.net(x, sc), f.net(x, sc)):
                torch.testing.assert_close(b, a, rtol=1e-6, atol=1e-7)
        got = f.predict(train, None, num_samples=30, seed=2)
        np.testing.assert_array_equal(got.samples, eager.samples)
    one = Forecaster(m).predict(train[train.unique_id == "S007"], None, num_samples=30, seed=2)
    np.testing.assert_array_equal(one.samples[0], eager.samples[7])
    # quantiles through skucast.quantiles, equal to numpy's inverted_cdf
    q = eager.quantiles([0.5, 0.9])
    ref = np.moveaxis(np.quantile(eager.samples, [0.5, 0.9], axis=1, method="inverted_cdf"), 0, -1)
    np.testing.assert_array_equal(q, ref)
    with pytest.raises(ValueError, match="horizon: the model was trained for 14 days; got 15"):
        Forecaster(m).predict(train, horizon=15)
    short = Forecaster(m).predict(train, horizon=7, num_samples=30, seed=2)
    np.testing.assert_array_equal(short.samples, eager.samples[:, :, :7])


def test_nb_head_mean_matches_samples(frames):
    train, _, _ = frames
    m = fit(train, model="nbeats", horizon=7, context_length=14, epochs=1, batches_per_epoch=2,
            batch_size=8, width=8, depth=1, blocks=1)
    fc = Forecaster(m).predict(train, num_samples=4000, seed=0)
    np.testing.assert_allclose(fc.mean, fc.mu, rtol=0.15, atol=0.1)
    assert skucast.nbinom.nll(np.zeros_like(fc.mu), fc.mu, fc.alpha) > 0


def test_common_shock_chunk_invariant(frames):
    train, _, _ = frames
    m = fit(train, model="nbeats", horizon=7, context_length=14, epochs=1, batches_per_epoch=2,
            batch_size=8, width=8, depth=1, blocks=1)
    f = Forecaster(m)
    full = f.predict(train, num_samples=300, seed=1, common_shock=0.2)
    np.testing.assert_array_equal(f.predict(train, num_samples=300, seed=1, common_shock=0.2,
                                            chunk_size=3).samples, full.samples)
    np.testing.assert_array_equal(f.predict(train, num_samples=50, seed=1, common_shock=0.2).samples,
                                  full.samples[:, :50])
    plain = f.predict(train, num_samples=300, seed=1)
    assert full.samples.sum(0).var(0).mean() > plain.samples.sum(0).var(0).mean()
