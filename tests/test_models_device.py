"""Forecaster.predict(device=...): the torch steps that keep the network, its state and the
draws on a GPU give the numpy steps' paths when run on the CPU; on a GPU (skipped without one)
they run end to end and draw from the same stream; bad devices are refused clearly."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("pandas")
from model_frames import make_frame  # noqa: E402
import skucast  # noqa: E402
import skucast.models.forecaster as forecaster_module  # noqa: E402
from skucast.models import Forecaster, fit, save  # noqa: E402

torch.set_num_threads(1)
GPU = torch.cuda.is_available() and skucast.cuda_available()


@pytest.fixture(scope="module")
def frames():
    return make_frame(n_series=12, days=160, seed=0)


@pytest.fixture(scope="module")
def models(frames):
    train, _, _ = frames
    deepar = fit(train, model="deepar", horizon=14, context_length=21, epochs=1, batches_per_epoch=3,
                 batch_size=16, hidden=8, layers=2, lags=[1, 2, 7, 14])
    nbeats = fit(train, model="nbeats", horizon=14, context_length=28, epochs=1, batches_per_epoch=3,
                 batch_size=16, blocks=1, width=16, depth=2)
    return {"deepar": deepar, "nbeats": nbeats}


CASES = [("deepar", 0.0), ("deepar", 0.3), ("deepar", {"dept_id": 0.2}), ("nbeats", 0.0), ("nbeats", 0.3)]


@pytest.mark.parametrize("model,shock", CASES)
def test_torch_steps_on_cpu_give_the_numpy_paths(frames, models, model, shock, monkeypatch):
    train, futr, _ = frames
    f = Forecaster(models[model])
    kw = dict(horizon=14, num_samples=25, seed=5, common_shock=shock)
    want = f.predict(train, futr, **kw)
    monkeypatch.setattr(forecaster_module, "_TORCH_STEPS_ON_CPU", True)
    got = f.predict(train, futr, **kw)
    np.testing.assert_array_equal(got.samples, want.samples)
    np.testing.assert_array_equal(f.predict(train, futr, chunk_size=5, **kw).samples, want.samples)
    if model == "nbeats":
        np.testing.assert_array_equal(got.mu, want.mu)


@pytest.mark.parametrize("model", ["deepar", "nbeats"])
def test_network_copies_for_a_device(frames, models, model, tmp_path):
    # the copy a GPU call runs, made here for the CPU: eager, TorchScript (a reload) and torch.export
    # (read again, moved by move_to_device_pass) networks give the CPU network's predictions
    import warnings
    train, futr, _ = frames
    kw = dict(horizon=14, num_samples=20, seed=2)
    for f in [Forecaster(models[model])] + [Forecaster.load(save(models[model], str(tmp_path / f"m.{ext}")))
                                            for ext in ("pt", "pt2")]:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            moved = f._copy_to(torch.device("cpu"))
        assert moved is not f.net
        copy_f = Forecaster(net=moved, spec=f.spec)
        np.testing.assert_array_equal(copy_f.predict(train, futr, **kw).samples, f.predict(train, futr, **kw).samples)
    if model == "nbeats":  # no device burnt into the exported graph (its zeros follow the input)
        ep = torch.export.load(str(tmp_path / "m.pt2"))
        assert not [n for n in ep.graph_module.graph.nodes if "device" in n.kwargs]


def test_eager_networks_are_copied_each_call_loaded_files_once(models, tmp_path):
    # (the meta device stands in for a GPU: copies are made the same way)
    meta = torch.device("meta")
    eager = Forecaster(models["deepar"])
    assert eager._net_on(meta) is not eager._net_on(meta)  # later training of the eager net shows
    loaded = Forecaster.load(save(models["deepar"], str(tmp_path / "m.pt2")))
    assert loaded._net_on(meta) is loaded._net_on(meta)
    assert next(iter(models["deepar"].net.parameters())).device.type == "cpu"


def test_bad_devices(frames, models):
    train, futr, _ = frames
    f = Forecaster(models["deepar"])
    with pytest.raises(ValueError, match="device: 'cpu' or a CUDA device; got 'meta'"):
        f.predict(train, futr, horizon=14, device="meta")
    with pytest.raises(ValueError, match="device: "):
        f.predict(train, futr, horizon=14, device="gpu please")
    if not GPU:
        with pytest.raises(ValueError, match="device: 'cuda', but"):
            f.predict(train, futr, horizon=14, device="cuda")


@pytest.mark.skipif(not GPU, reason="needs a CUDA device, torch with CUDA and skucast's CUDA build")
@pytest.mark.parametrize("model,shock", CASES)
def test_gpu_paths_match_the_cpu_paths(frames, models, model, shock, tmp_path):
    train, futr, _ = frames
    kw = dict(horizon=14, num_samples=200, seed=5, common_shock=shock)
    loaded = [Forecaster.load(save(models[model], str(tmp_path / f"m.{ext}"))) for ext in ("pt", "pt2")]
    for f in [Forecaster(models[model])] + loaded:
        cpu = f.predict(train, futr, **kw)
        try:
            gpu = f.predict(train, futr, device="cuda", **kw)
        except ValueError as e:  # a torch.export program may not move; then it must say so
            assert f is loaded[1] and "device: this model cannot be moved to cuda" in str(e), e
            continue
        assert gpu.samples.shape == cpu.samples.shape and gpu.samples.dtype == np.int64
        # same sampler stream; the network's float32 results differ from the CPU's in the last bits,
        # and a differing draw feeds DeepAR's later days, so compare shares, not every path
        same = np.mean(gpu.samples == cpu.samples)
        assert same > (0.95 if model == "deepar" else 0.999), same
        np.testing.assert_allclose(gpu.samples.mean(), cpu.samples.mean(), rtol=0.02)
        again = f.predict(train, futr, device="cuda", **kw)
        np.testing.assert_array_equal(again.samples, gpu.samples)  # deterministic for one chunking
        if model == "nbeats":
            np.testing.assert_allclose(gpu.mu, cpu.mu, rtol=1e-4)
    # the CPU model is untouched by a GPU call (the GPU runs a copy)
    assert next(iter(models[model].net.parameters())).device.type == "cpu"
