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
