"""window_sum's float32 eight-row path (m2 == 1, rows in groups of eight): each row's window
summed in float64 in day order, bitwise, on data where the order matters; AVX-512 and the
AVX2 fallback (SKUCAST_NO_AVX512=1, fresh process) agree bit for bit."""

import numpy as np
import pytest

import skucast
from avx512_off import without_avx512


def _day_order_ref(x, start, length):
    """float64 sums in day order; days outside the window add +0.0, which changes no bits."""
    s, h = x.shape[0], x.shape[-1]
    acc = np.zeros(x.shape[:-1], dtype=np.float64)
    t = np.arange(h)
    inside = (t[None, :] >= start[:, None]) & (t[None, :] < (start + length)[:, None])  # (s, h)
    for d in range(h):
        acc += np.where(inside[:, d].reshape((s,) + (1,) * (x.ndim - 2)), x[..., d].astype(np.float64), 0.0)
    with np.errstate(over="ignore"):
        return acc.astype(np.float32)


def _case(rng, series, rows, horizon):
    x = (rng.standard_normal((series, rows, horizon)) * 10 ** rng.uniform(-6, 6, (series, rows, horizon)))
    x = x.astype(np.float32)
    # Every third day cancels the one before it exactly: a small term added before a large
    # pair survives in one order and is lost in another, so the float64 sums pin the order.
    x[..., 2::3] = -x[..., 1:horizon - 1:3][..., :x[..., 2::3].shape[-1]]
    start = rng.integers(0, horizon + 1, series)
    length = rng.integers(0, horizon + 1 - start)
    start[0], length[0] = 0, horizon  # full horizon
    start[-1], length[-1] = horizon - min(horizon, 3), min(horizon, 3)  # window ends at the array's end
    if series > 2:
        start[1], length[1] = horizon // 2, 0
    return x, start, length


@pytest.mark.parametrize("rows", [8, 16, 21, 100])
@pytest.mark.parametrize("horizon", [1, 4, 5, 7, 8, 9, 16, 17, 28, 40])
def test_eight_row_groups_sum_in_day_order(rng, rows, horizon):
    x, start, length = _case(rng, 37, rows, horizon)
    got = skucast.window_sum(x, start, length)
    grouped = rows // 8 * 8  # rows past the last whole group take the single-row path
    ref = _day_order_ref(x, start, length)
    np.testing.assert_array_equal(got[:, :grouped].view(np.int32), ref[:, :grouped].view(np.int32))
    absref = _day_order_ref(np.abs(x), start, length).astype(np.float64)
    tol = np.spacing(np.abs(ref[:, grouped:])).astype(np.float64) + 40 * 2.3e-16 * absref[:, grouped:]
    assert (np.abs(got[:, grouped:].astype(np.float64) - ref[:, grouped:]) <= tol).all()


def test_eight_row_groups_special_values(rng):
    x, start, length = _case(rng, 9, 16, 28)
    x[2, 3, :] = np.inf
    x[3, 5, 0] = np.nan
    x[4, :, :] = -0.0
    x[5, 1, :] = np.float32(3e38)  # overflows float32 on output, not in the float64 sum
    start[2:6], length[2:6] = 0, 28
    # the kernel's IEEE propagation, bit for bit (the public function then refuses NaN/inf sums)
    got, finite = skucast._core.window_sum(x, 9, 16, 28, 1, start.astype(np.int64), length.astype(np.int64))
    assert not finite  # the kernel's own check of its sums
    np.testing.assert_array_equal(got.reshape(9, 16).view(np.int32), _day_order_ref(x, start, length).view(np.int32))
    finite_rows = [0, 1, 6, 7, 8]
    got, finite = skucast._core.window_sum(np.ascontiguousarray(x[finite_rows]), 5, 16, 28, 1,
                                           start[finite_rows].astype(np.int64), length[finite_rows].astype(np.int64))
    assert finite
    with pytest.raises(ValueError, match=r"samples: must be finite \(NaN/inf\); first bad value at index \(2, 3, 0\)"):
        skucast.window_sum(x, start, length)


def test_avx2_fallback_same_bits(tmp_path, rng):
    x, start, length = _case(rng, 301, 100, 28)
    fallback = without_avx512(tmp_path, "skucast.window_sum(*a)", x, start, length)
    assert fallback.view(np.int32).tobytes() == skucast.window_sum(x, start, length).view(np.int32).tobytes()
