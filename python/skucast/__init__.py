"""skucast: probabilistic retail demand and inventory kernels (C++/CUDA, thin Python layer).

Negative-binomial math in the DeepAR parametrisation NB(mu, alpha) (variance mu + alpha mu^2),
counter-based sampling, batched quantiles and sums over sample paths.
"""
from __future__ import annotations

from . import _core, metrics, nbinom
from .aggregate import group_sum, window_sum
from .quantiles import quantiles
from . import inventory  # noqa: E402  (after the core modules it uses)

__version__ = _core.build_info()["version"]

__all__ = ["nbinom", "inventory", "metrics", "quantiles", "window_sum", "group_sum", "set_num_threads", "get_num_threads",
           "build_info", "cuda_available", "__version__", "train", "Forecaster", "plan", "backtest"]


def __getattr__(name):
    # torch is the optional `models` extra: import it only when a model API is used
    if name in ("train", "Forecaster"):
        try:
            from . import models
            return getattr(models, name)
        except ImportError as e:
            raise ImportError(f"skucast.{name} needs the 'models' extra (torch, pandas, pyarrow): "
                              f"pip install 'skucast[models]' ({e})") from e
    if name in ("plan", "backtest"):   # pandas/pyarrow are needed only by the pipeline
        from . import pipeline
        return getattr(pipeline, name)
    raise AttributeError(f"module 'skucast' has no attribute {name!r}")


MAX_THREADS = 1024   # a pool beyond this only waits on locks (and can exhaust the system's thread limit)


def set_num_threads(n: int) -> None:
    """Threads used by every CPU kernel (default: all cores; at most MAX_THREADS). Results do
    not depend on it."""
    from ._checks import check_int
    _core.set_num_threads(check_int(n, "n", 1, MAX_THREADS))


def get_num_threads() -> int:
    """Threads the CPU kernels use."""
    return _core.get_num_threads()


def cuda_available() -> bool:
    """True when the CUDA module was built and a GPU is visible."""
    from . import _device
    return _device.cuda_available()


def build_info() -> dict:
    """Version, compiler, SIMD level, thread count, whether the CUDA module was compiled in
    (``cuda_compiled``) and whether a GPU can be used now (``cuda``)."""
    info = dict(_core.build_info())
    info["threads"] = _core.get_num_threads()
    info["cuda"] = cuda_available()
    return info
