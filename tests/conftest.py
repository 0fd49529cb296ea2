"""Shared pytest configuration: the default hypothesis profile and common fixtures."""
import os
import zlib

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    deadline=None,
    max_examples=60,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture
def rng(request):
    """A numpy Generator seeded from the test's node id: deterministic, distinct per test."""
    return np.random.default_rng(zlib.crc32(request.node.nodeid.encode()))


@pytest.fixture
def restore_threads():
    """Restore skucast's thread count after a test that changes it."""
    import skucast

    saved = skucast.get_num_threads()
    yield
    skucast.set_num_threads(saved)
