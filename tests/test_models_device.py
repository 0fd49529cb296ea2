"""Forecaster.predict(device=...): its torch steps (the network, its state and the draws stay on
the device) give, on the CPU, the paths of a plain numpy reference of the same steps; on a GPU
(skipped without one) they run end to end and draw from the same stream; bad devices are
refused clearly."""
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


# The reference: a chunk's steps in numpy on the CPU network (what predict ran before its steps
# became torch on every device).
def _numpy_nbeats_chunk(self, net, dev, p, rows, keys, h, S, seed, shock=None):
    fm = forecaster_module
    C = self.spec["context_length"]
    y, listed = p.y[rows][:, -C:], p.listed[rows][:, -C:]
    scale = fm.scale_of(y, listed)
    mu, al = self.net(torch.from_numpy(y / scale[:, None]), torch.from_numpy(scale))
    mu, al = mu[:, :h].numpy(), al[:, :h].numpy()
    if shock is not None:   # one draw per (series, path, day) from mu x G[path, day]
        mp = np.maximum(mu[:, None, :] * shock, fm._TINY)
        pk = fm._path_keys(keys[rows], S)
        draws = skucast.nbinom.sample(mp, al[:, None, :], 1, seed, keys=np.broadcast_to(pk[..., None], mp.shape),
                                      step=np.arange(h)[None, None, :])
        return draws[..., 0], mu, al
    k = np.broadcast_to(keys[rows][:, None], mu.shape)
    draws = skucast.nbinom.sample(mu, al, S, seed, keys=k, step=np.arange(h)[None, :])   # (bs, h, S)
    return draws.transpose(0, 2, 1), mu, al


def _numpy_deepar_chunk(self, net, dev, p, rows, fut_num, fut_cat, keys, h, S, seed, shock=None):
    fm = forecaster_module
    spec, net = self.spec, self.net
    lags = np.asarray(spec["lags"])
    C = spec["context_length"]
    m = int(lags.max())
    L = m + C
    y, listed = p.y[rows], p.listed[rows]
    bs = len(rows)
    scale = fm.scale_of(y[:, m:], listed[:, m:])
    sc = torch.from_numpy(scale)
    static = torch.from_numpy(p.static[rows])
    num, cat = torch.from_numpy(p.num[rows]), torch.from_numpy(p.cat[rows])
    hh = torch.zeros(spec["hyper"]["layers"], bs, spec["hyper"]["hidden"])
    cc = torch.zeros_like(hh)
    enc = torch.from_numpy(np.log1p(y[:, np.arange(m, L)[:, None] - lags] / scale[:, None, None]).astype(np.float32))
    for t in range(C):
        _, _, hh, cc = net(enc[:, t:t + 1], num[:, m + t], cat[:, m + t], static, sc, hh, cc)
    hh = hh.repeat_interleave(S, dim=1)
    cc = cc.repeat_interleave(S, dim=1)
    buf = np.empty((bs, S, L + h), np.float32)
    buf[:, :, :L] = y[:, None, :]
    pkeys = fm._path_keys(keys[rows], S)
    inv_scale = (1.0 / scale)[:, None, None]
    fn, fc = torch.from_numpy(fut_num[rows]), torch.from_numpy(fut_cat[rows])
    for k in range(h):
        lagv = np.log1p(buf[:, :, L + k - lags] * inv_scale).astype(np.float32)
        mu, al, hh, cc = net(torch.from_numpy(lagv), fn[:, k], fc[:, k], static, sc, hh, cc)
        mu = mu.numpy() if shock is None else np.maximum(mu.numpy() * shock[:, :, k], fm._TINY)
        buf[:, :, L + k] = skucast.nbinom.sample(mu, al.numpy(), 1, seed, keys=pkeys, step=k)[..., 0]
    return buf[:, :, L:].astype(np.int64)


@pytest.mark.parametrize("model,shock", CASES)
def test_torch_steps_on_cpu_give_the_numpy_paths(frames, models, model, shock, monkeypatch):
    train, futr, _ = frames
    f = Forecaster(models[model])
    kw = dict(horizon=14, num_samples=25, seed=5, common_shock=shock)
    got = f.predict(train, futr, **kw)
    chunked = f.predict(train, futr, chunk_size=5, **kw)
    monkeypatch.setattr(Forecaster, "_nbeats_chunk", _numpy_nbeats_chunk)
    monkeypatch.setattr(Forecaster, "_deepar_chunk", _numpy_deepar_chunk)
    want = f.predict(train, futr, **kw)
    np.testing.assert_array_equal(got.samples, want.samples)
    np.testing.assert_array_equal(chunked.samples, want.samples)
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
