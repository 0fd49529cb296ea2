"""The paired window sum (lead time and lead time + review period from one start, one pass over
the samples; what order_up_to(samples=...) reads) equals two window_sum calls bit for bit, and
raises what window_sum raises."""

import numpy as np
import pytest

import skucast
from skucast.aggregate import _window_sum_pair


def _paths(rng, dtype, shape):
    if np.dtype(dtype).kind == "i":
        return rng.integers(-50, 1000, shape).astype(dtype)
    return (rng.standard_normal(shape) * 100).astype(dtype)  # not whole: the order of the adds shows


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.float32, np.float64])
@pytest.mark.parametrize("shape, axis", [((300, 37, 28), -1), ((50, 28, 9), 1), ((40, 3, 20, 5), 2), ((64, 28), -1)])
def test_pair_equals_two_calls(rng, dtype, shape, axis):
    x = _paths(rng, dtype, shape)
    n, horizon = shape[0], shape[axis]
    start = rng.integers(0, 6, n)
    length = rng.integers(0, horizon - 6 - 7 + 1, n)
    for length2 in (length + 7, length, np.maximum(length - 3, 0), rng.integers(0, horizon - 6, n)):
        a, b = _window_sum_pair(x, start, length, length2, axis=axis)
        ra, rb = skucast.window_sum(x, start, length, axis=axis), skucast.window_sum(x, start, length2, axis=axis)
        assert a.dtype == ra.dtype and b.dtype == rb.dtype
        assert a.tobytes() == ra.tobytes() and b.tobytes() == rb.tobytes()


def test_pair_scalar_arguments_threads_and_empty(rng, restore_threads):
    x = _paths(rng, np.int64, (10_001, 20, 28))
    one = [_window_sum_pair(x, 2, 5, 12)]
    skucast.set_num_threads(1)
    one.append(_window_sum_pair(x, 2, 5, 12))
    for a, b in one:
        np.testing.assert_array_equal(a, skucast.window_sum(x, 2, 5))
        np.testing.assert_array_equal(b, skucast.window_sum(x, 2, 12))
    a, b = _window_sum_pair(np.zeros((0, 4, 7)), 0, 3, 5)
    assert a.shape == b.shape == (0, 4)


def test_pair_refuses_like_window_sum():
    x = np.zeros((3, 2, 10), np.int64)
    with pytest.raises(ValueError, match=r"length2: start \+ length must be <= the horizon \(10\)"):
        _window_sum_pair(x, 4, 2, 7)
    with pytest.raises(ValueError, match=r"length: must be >= 0"):
        _window_sum_pair(x, 0, [1, -1, 2], 3)
    big = 2**62
    y = np.zeros((2, 1, 6), np.int64)
    y[1, 0, 2:4] = big
    a, _ = _window_sum_pair(y, 0, 3, 3)  # the first window holds one big value: exact
    assert a[1, 0] == big
    with pytest.raises(ValueError, match=r"window sum at index \(1, 0\) is 9223372036854775808, past int64"):
        _window_sum_pair(y, 0, 3, 5)  # the second window passes int64
    f = np.ones((2, 3, 8))
    f[1, 2, 6] = np.nan
    np.testing.assert_array_equal(_window_sum_pair(f, 0, 2, 5)[1], np.full((2, 3), 5.0))  # NaN outside both
    with pytest.raises(ValueError, match="NaN"):
        _window_sum_pair(f, 0, 2, 7)


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.float32, np.float64])
def test_range_in_the_pass_agrees_with_value_range(rng, dtype, restore_threads):
    """The range check taken in the window pass covers every value, not only the windows'."""
    from skucast import _checks
    from skucast.aggregate import _window_sum_pair_in_range

    for threads in (1, 2):
        skucast.set_num_threads(threads)
        x = np.abs(_paths(rng, dtype, (3001, 7, 28)))
        for spot, value in [(None, None), ((17, 3, 27), -1), ((2999, 6, 27), 10**6), ((0, 0, 0), -1)]:
            y = x.copy()
            if spot is not None:
                y[spot] = value
            for low, high in [(0, 5 * 10**5), (0, None), (None, 10**7)]:
                got = _window_sum_pair_in_range(y, 0, 3, 10, low, high)
                assert (got is not None) == _checks.within(y, low, high)
                if got is not None:
                    np.testing.assert_array_equal(got[1], skucast.window_sum(y, 0, 10))
    f = np.ones((5, 3, 8))
    f[4, 2, 7] = np.nan  # outside every window
    assert _window_sum_pair_in_range(f, 0, 2, 5, 0, 10) is None


def test_order_up_to_samples_refuses_values_outside_the_windows(rng):
    """order_up_to(samples=...) checks the range in its window pass: a bad value on a day no
    window reaches is still refused, naming it."""
    from skucast import inventory as inv

    x = rng.integers(0, 20, (50, 30, 28))
    lead = rng.integers(1, 8, 50)
    bad = x.copy()
    bad[41, 7, 27] = -3
    with pytest.raises(ValueError, match=r"samples: demand must be >= 0; first bad value at index \(41, 7, 27\)"):
        inv.order_up_to(samples=bad, lead_time=lead, review_period=7)
    huge = x.copy()
    huge[3, 0, 26] = 2**62
    with pytest.raises(ValueError, match=r"samples: demand must be <= 2\*\*62 / horizon"):
        inv.order_up_to(samples=huge, lead_time=lead, review_period=7)
    nan = x.astype(np.float64)
    nan[9, 29, 27] = np.nan
    with pytest.raises(ValueError, match=r"samples: must be finite; first bad value at index \(9, 29, 27\)"):
        inv.order_up_to(samples=nan, lead_time=lead, review_period=7, target="fill_rate")
    pmf = np.zeros((50, 4))
    pmf[:, 2] = 1.0
    with pytest.raises(ValueError, match=r"\(41, 7, 27\)"):
        inv.order_up_to(samples=bad, lead_time_pmf=pmf, review_period=7)
    good = inv.order_up_to(samples=x, lead_time=lead, review_period=7)
    assert (good.S >= good.s).all()
