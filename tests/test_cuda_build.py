"""CPU-only checks of the GPU plumbing: the CUDA module imports when it was built, no GPU is
reported on a machine without one, and GPU arrays without a CUDA build fail clearly."""
import numpy as np
import pytest

import skucast
from skucast import _device, _gpu


class FakeGpuArray:
    """Looks like a GPU array to the dispatch (never dereferenced in these tests)."""

    @property
    def __cuda_array_interface__(self):
        return {"shape": (3,), "typestr": "<f8", "data": (0, False), "version": 3, "strides": None}


def test_cuda_module_imports_when_built():
    mod = _device.cuda_module()
    if mod is None:
        pytest.skip("skucast was built without CUDA")
    for name in ("device_count", "nb_elementwise", "nb_ppf", "nb_nll_rows", "nb_sample", "quantiles",
                 "window_sum", "group_sum", "check_windows", "check_group_ids", "stream_wait", "build_info",
                 "inv_order_up_to", "inv_replenish", "inv_plan_orders", "inv_allocate_nb", "inv_allocate_samples",
                 "inv_simulate"):
        assert hasattr(mod, name), name
    assert mod.device_count() >= 0
    assert "90" in mod.build_info()["architectures"]


def test_cuda_available_false_without_gpu():
    mod = _device.cuda_module()
    if mod is not None and mod.device_count() > 0:
        pytest.skip("a GPU is visible")
    assert skucast.cuda_available() is False
    assert skucast.build_info()["cuda"] is False


def test_dispatch_recognises_gpu_arrays():
    assert _gpu.is_gpu_array(FakeGpuArray())
    assert not _gpu.is_gpu_array(np.zeros(3))
    assert not _gpu.is_gpu_array(3.0)
    assert _gpu.any_gpu(1.0, None, FakeGpuArray())


@pytest.mark.parametrize("call", [
    lambda g: skucast.nbinom.pmf(g, 1.0, 0.5),
    lambda g: skucast.nbinom.ppf(0.5, g, 0.5),
    lambda g: skucast.nbinom.nll([1, 2, 3], g, 0.5),
    lambda g: skucast.nbinom.sample(g, 0.5, 4, 0),
    lambda g: skucast.quantiles(g, 0.5),
    lambda g: skucast.window_sum(g, 0, 1),
    lambda g: skucast.group_sum(g, [0, 0, 0], 1),
    lambda g: skucast.inventory.order_up_to(mu=g, alpha=0.5, lead_time=2),
    lambda g: skucast.inventory.safety_stock(mu=g, alpha=0.5, lead_time=2),
    lambda g: skucast.inventory.replenish(on_hand=g, S=5),
    lambda g: skucast.inventory.plan_orders(mu=g, alpha=0.5, lead_time=2, on_hand=0),
    lambda g: skucast.inventory.allocate([4], mu=g),
    lambda g: skucast.inventory.simulate(g, S=5, lead_time=1),
])
def test_gpu_array_without_cuda_build_raises(monkeypatch, call):
    monkeypatch.setattr(_device, "cuda_module", lambda: None)
    with pytest.raises(RuntimeError, match="built without CUDA"):
        call(FakeGpuArray())


class HostAsDevice:
    """A numpy array that the dispatch takes for a GPU array: the device is played by the CPU."""

    def __init__(self, a):
        self.a = np.asarray(a)
        self.shape = self.a.shape

    @property
    def __cuda_array_interface__(self):
        return {"shape": self.a.shape, "typestr": self.a.dtype.str, "data": (0, False), "version": 3, "strides": None}


@pytest.mark.parametrize("levels", [np.float32([0.1, 0.5, 0.95]), 0.3, [0, 1], np.float16(0.7), np.float32(0.5),
                                    np.array(0.3)])
@pytest.mark.parametrize("method", ["inverted_cdf", "linear"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32, np.uint8, np.float16])
def test_gpu_quantiles_take_levels_in_numpy_types_like_the_cpu(monkeypatch, levels, method, dtype):
    # levels numpy computes with in float32 / integers: the GPU path does the CPU path's rank and
    # weight arithmetic around the device's order statistics (here played by the CPU kernel);
    # narrow dtypes come back in their own dtype, as on the CPU
    def device_quantiles(samples, lv, axis, m, linear):  # the CUDA kernel takes float64 levels
        assert linear == (m == "linear")
        lv64 = np.asarray(lv, dtype=np.float64)
        a = samples.a  # widened as _gpu._samples does on the device
        if a.dtype not in (np.float32, np.float64, np.int32, np.int64):
            a = a.astype(np.float32 if a.dtype.kind == "f" else np.int64)
        out = skucast.quantiles(a, lv64.reshape(-1), axis=axis, method=m)
        return HostAsDevice(out[..., 0] if lv64.ndim == 0 else out)

    monkeypatch.setattr(_gpu, "quantiles", device_quantiles)
    monkeypatch.setattr(_gpu, "to_host", lambda x: x.a)
    monkeypatch.setattr(_gpu, "like", lambda ref, host: HostAsDevice(host))
    x = (np.random.default_rng(3).normal(10, 5, (6, 4, 33)) * 7).astype(dtype)
    for axis in (-1, 1):
        got = skucast.quantiles(HostAsDevice(x), levels, axis=axis, method=method).a
        want = np.asarray(skucast.quantiles(x, levels, axis=axis, method=method))
        assert got.dtype == want.dtype and got.shape == want.shape
        np.testing.assert_array_equal(got, want)
        ref = np.moveaxis(np.quantile(x, levels, axis=axis, method=method), 0, -1) if np.ndim(levels) else \
            np.quantile(x, levels, axis=axis, method=method)
        assert got.dtype == ref.dtype
        np.testing.assert_array_equal(got, ref)
