"""_checks.within (the one-pass C++ range check of large arrays) against numpy masks."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import skucast
from skucast import _checks, _core


def _reference(arr, low, high, whole):
    a = np.asarray(arr)
    if a.size == 0:
        return True
    if a.dtype.kind == "f":
        if not np.isfinite(a).all() or (whole and (a != np.floor(a)).any()):
            return False
    return bool((low is None or (a >= low).all()) and (high is None or (a <= high).all()))


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32, np.int64])
def test_matches_masks_on_large_arrays(rng, dtype, threads):
    old = skucast.get_num_threads()
    skucast.set_num_threads(threads)
    try:
        base = rng.integers(0, 1000, 300_001).astype(dtype)  # several threads' ranges and a tail
        cases = [(0, 999, False), (1, None, False), (None, 998, False), (0, None, True)]
        for low, high, whole in cases:
            assert _checks.within(base, low, high, whole) == _reference(base, low, high, whole)
        for pos in (0, 7, 150_000, 300_000):  # a bad value at the start, in a lane, mid, in the tail
            for bad in ([-1, 5000] + ([np.nan, np.inf, -np.inf, 2.5] if base.dtype.kind == "f" else [])):
                a = base.copy()
                a[pos] = bad
                for low, high, whole in [(0, 999, False), (0, 999, True), (None, None, True)]:
                    assert _checks.within(a, low, high, whole) == _reference(a, low, high, whole), (pos, bad)
    finally:
        skucast.set_num_threads(old)


def test_extremes_and_edges():
    big = np.array([2**62, -(2**62), 5], np.int64)
    assert _core.value_range(big)[:2] == (-(2**62), 2**62)  # integers exactly, past 2^53
    assert _checks.within(big, -(2**62), 2**62) and not _checks.within(big, -(2**62), 2**62 - 1)
    assert _core.value_range(np.zeros(0)) == (None, None, False, False)
    assert _checks.within(np.zeros(0), 0, 0)
    assert _checks.within(np.array([3.0]), 3, 3, whole=True)
    assert not _checks.within(np.array([np.nan]))
    assert not _checks.within(np.arange(10.0)[::2], 0)  # not contiguous: the caller's masks decide
    assert not _checks.within(np.arange(10, dtype=np.int16), 0)  # other dtypes likewise


@settings(max_examples=200, deadline=None)
@given(hnp.arrays(st.sampled_from([np.float32, np.float64, np.int32, np.int64]), st.integers(0, 70),
                  elements=dict(allow_nan=True, allow_infinity=True)),
       st.sampled_from([None, -5, 0, 3]), st.sampled_from([None, 0, 10, 2**40]), st.booleans())
def test_property_same_as_masks(arr, low, high, whole):
    assert _checks.within(arr, low, high, whole) == _reference(arr, low, high, whole)


def test_contiguous_views_with_odd_strides_still_checked():
    """numpy calls a (1, m) slice of a record field contiguous whatever its row stride: the checks
    read it flat instead of refusing it (simulate and allocate accepted it before the fast check)."""
    rec = np.zeros(3, dtype=[("d", "<f8", (6,)), ("flag", "i1")])
    rec["d"] = 2.0
    view = rec["d"][:1]
    assert view.flags.c_contiguous and _checks.within(view, 0, 2, whole=True)
    assert skucast.inventory.simulate(view, S=3, lead_time=1).fill_rate[0] == 0.25
    rec2 = np.zeros(2, dtype=[("s", "<i8", (2, 4)), ("flag", "i1")])
    rec2["s"] = 1
    np.testing.assert_array_equal(skucast.inventory.allocate([5], samples=rec2["s"][:1]),
                                  skucast.inventory.allocate([5], samples=rec2["s"][:1].copy()))
