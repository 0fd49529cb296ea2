"""GPU dispatch: the CUDA module is imported only when a GPU array arrives."""
from __future__ import annotations

import functools


@functools.lru_cache(maxsize=1)
def cuda_module():
    """The compiled CUDA extension, or None when skucast was built without CUDA."""
    try:
        from . import _cuda  # noqa: F401
    except ImportError:
        return None
    return _cuda


def cuda_available() -> bool:
    mod = cuda_module()
    if mod is None:
        return False
    try:
        return bool(mod.device_count() > 0)
    except Exception:
        return False
