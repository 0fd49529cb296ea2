"""skucast.window_sum and skucast.group_sum against brute-force Python loops."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import skucast

DTYPES = [np.int32, np.int64, np.float32, np.float64]
OUT_DTYPE = {np.int32: np.int64, np.int64: np.int64, np.float32: np.float32, np.float64: np.float64}


def _data(rng, shape, dtype, exact=True):
    """Integer-valued (or quarter-integer) data whose sums are exact in every accumulator."""
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        hi = min(info.max, 2**40)
        return rng.integers(-hi, hi, shape).astype(dtype)
    if exact:
        return (rng.integers(-4000, 4000, shape) / 4).astype(dtype)
    return (rng.standard_normal(shape) * 10 ** rng.uniform(-3, 3, shape)).astype(dtype)


def _window_ref(x, start, length, axis):
    """out[i, ...] = x[i, ..., start[i]:start[i]+length[i]].sum(horizon), accumulated exactly."""
    xm = np.moveaxis(x, axis, -1)
    n = x.shape[0]
    start = np.broadcast_to(start, (n,))
    length = np.broadcast_to(length, (n,))
    out = np.zeros(xm.shape[:-1], dtype=object)
    for i in range(n):
        win = xm[i, ..., start[i]:start[i] + length[i]]
        acc = np.zeros(win.shape[:-1], dtype=object)
        for t in range(win.shape[-1]):
            acc = acc + win[..., t].astype(object) if np.issubdtype(x.dtype, np.integer) \
                else acc + win[..., t].astype(np.float64).astype(object)
        out[i] = acc
    return out


def _windows(rng, n, h):
    start = rng.integers(0, h + 1, n)
    length = rng.integers(0, h + 1 - start)
    if n >= 3:
        start[0], length[0] = 0, h  # full horizon
        start[1], length[1] = h // 2, 0  # empty window
        start[2], length[2] = h, 0  # empty window at the end
    return start, length


def _assert_window(got, ref, dtype):
    assert got.dtype == OUT_DTYPE[dtype]
    assert got.shape == ref.shape
    if np.issubdtype(dtype, np.integer):
        np.testing.assert_array_equal(got, ref.astype(np.int64))
    else:
        # float32 is accumulated in float64 then rounded: with exact data both are exact.
        np.testing.assert_array_equal(got, ref.astype(np.float64).astype(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,axis", [((17, 30), -1), ((17, 30), 1), ((9, 5, 30), -1), ((9, 30, 5), 1),
                                        ((9, 30, 5), -2), ((4, 3, 30, 2), 2), ((11, 1), -1)])
def test_window_sum_vs_loops(rng, dtype, shape, axis):
    x = _data(rng, shape, dtype)
    h = x.shape[axis]
    start, length = _windows(rng, shape[0], h)
    got = skucast.window_sum(x, start, length, axis=axis)
    _assert_window(got, _window_ref(x, start, length, axis), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_window_sum_scalar_start_length_and_strided(rng, dtype):
    x = _data(rng, (12, 7, 40), dtype)
    for start, length in ((0, 40), (3, 10), (40, 0), (39, 1)):
        got = skucast.window_sum(x, start, length)
        _assert_window(got, _window_ref(x, start, length, -1), dtype)
    xs = x[::2, ::3, ::2]  # non-contiguous, horizon 20
    s, ln = _windows(rng, xs.shape[0], xs.shape[-1])
    _assert_window(skucast.window_sum(xs, s, ln), _window_ref(xs, s, ln, -1), dtype)
    xt = np.ascontiguousarray(x.transpose(0, 2, 1)).transpose(0, 2, 1)  # same values, other strides
    s, ln = _windows(rng, xt.shape[0], xt.shape[-1])
    _assert_window(skucast.window_sum(xt, s, ln), _window_ref(xt, s, ln, -1), dtype)
    s32, ln32 = s.astype(np.int32), ln.astype(np.int32)
    _assert_window(skucast.window_sum(xt, s32, ln32), _window_ref(xt, s, ln, -1), dtype)


def test_window_sum_int32_does_not_overflow():
    x = np.full((3, 100), np.iinfo(np.int32).max, dtype=np.int32)
    got = skucast.window_sum(x, 0, 100)
    assert got.dtype == np.int64
    np.testing.assert_array_equal(got, np.full(3, 100 * (2**31 - 1), dtype=np.int64))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_window_sum_continuous_floats(rng, dtype):
    x = _data(rng, (50, 8, 60), dtype, exact=False)
    start, length = _windows(rng, 50, 60)
    got = skucast.window_sum(x, start, length)
    ref = _window_ref(x, start, length, -1).astype(np.float64)
    absref = _window_ref(np.abs(x), start, length, -1).astype(np.float64)
    if dtype == np.float32:
        # float64 accumulation (error <= h eps64 sum|x|) then one rounding to float32 (0.5 ulp)
        tol = 0.5 * np.spacing(np.abs(ref).astype(np.float32)).astype(np.float64) + 60 * 2.3e-16 * absref
        np.testing.assert_array_less(np.abs(got.astype(np.float64) - ref), tol + 1e-300)
    else:
        # any summation order: error <= (h - 1) eps sum|x|
        np.testing.assert_array_less(np.abs(got - ref), 60 * 2.3e-16 * absref + 1e-300)


@given(n=st.integers(1, 12), h=st.integers(0, 25), inner=st.integers(1, 4), seed=st.integers(0, 2**32 - 1),
       dtype=st.sampled_from(DTYPES), horizon_last=st.booleans())
def test_window_sum_random_shapes(n, h, inner, seed, dtype, horizon_last):
    rng = np.random.default_rng(seed)
    shape, axis = ((n, inner, h), -1) if horizon_last else ((n, h, inner), 1)
    x = _data(rng, shape, dtype)
    start, length = _windows(rng, n, h)
    _assert_window(skucast.window_sum(x, start, length, axis=axis), _window_ref(x, start, length, axis), dtype)


# ----------------------------------------------------------------------------------------------

def _group_ref(x, ids, g):
    out = np.zeros((g,) + x.shape[1:], dtype=object)
    for i in range(x.shape[0]):
        v = x[i].astype(object) if np.issubdtype(x.dtype, np.integer) else x[i].astype(np.float64).astype(object)
        out[ids[i]] = out[ids[i]] + v
    return out


def _assert_group(got, ref, dtype):
    want = {np.int32: np.int64, np.int64: np.int64, np.float32: np.float32, np.float64: np.float64}[dtype]
    assert got.dtype == want and got.shape == ref.shape
    np.testing.assert_array_equal(got, ref.astype(np.float64 if want != np.int64 else np.int64).astype(want))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(40,), (40, 9), (40, 5, 6), (1, 3), (40, 0)])
@pytest.mark.parametrize("num_groups,max_id", [(7, 7), (1, 1), (50, 10), (3, 3)])
def test_group_sum_vs_loops(rng, dtype, shape, num_groups, max_id):
    x = _data(rng, shape, dtype)
    ids = rng.integers(0, max_id, shape[0])
    got = skucast.group_sum(x, ids, num_groups)
    _assert_group(got, _group_ref(x, ids, num_groups), dtype)
    # groups past max_id, and those no series hit, are zero
    used = np.zeros(num_groups, bool)
    used[ids] = True
    assert (got[~used] == 0).all()


@pytest.mark.parametrize("dtype", DTYPES)
def test_group_sum_id_dtypes_and_strides(rng, dtype):
    x = _data(rng, (30, 12), dtype)
    ids = rng.integers(0, 4, 30)
    ref = _group_ref(x, ids, 5)
    for id_arr in (ids.astype(np.int32), ids.astype(np.int64), ids.astype(np.uint8), ids.tolist()):
        _assert_group(skucast.group_sum(x, id_arr, 5), ref, dtype)
    xs = x[::2, ::3]
    _assert_group(skucast.group_sum(xs, ids[::2], 5), _group_ref(xs, ids[::2], 5), dtype)
    xt = np.asfortranarray(x)
    _assert_group(skucast.group_sum(xt, ids, 5), ref, dtype)


def test_group_sum_no_series():
    out = skucast.group_sum(np.zeros((0, 4), np.int64), np.zeros(0, np.int64), 3)
    assert out.shape == (3, 4) and out.dtype == np.int64 and (out == 0).all()


def test_group_sum_int32_does_not_overflow():
    x = np.full((100, 2), np.iinfo(np.int32).max, dtype=np.int32)
    got = skucast.group_sum(x, np.zeros(100, np.int64), 1)
    assert got.dtype == np.int64
    np.testing.assert_array_equal(got, np.full((1, 2), 100 * (2**31 - 1), dtype=np.int64))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_group_sum_continuous_floats(rng, dtype):
    x = _data(rng, (500, 7), dtype, exact=False)
    ids = rng.integers(0, 6, 500)
    got = skucast.group_sum(x, ids, 6).astype(np.float64)
    ref = _group_ref(x, ids, 6).astype(np.float64)
    absref = _group_ref(np.abs(x), ids, 6).astype(np.float64)
    eps = float(np.finfo(dtype).eps)
    # float sums in the input dtype, any order: error <= (m - 1) eps sum|x| for m members
    m = np.bincount(ids, minlength=6)[:, None]
    np.testing.assert_array_less(np.abs(got - ref), m * eps * absref + 1e-300)


@given(n=st.integers(0, 30), g=st.integers(1, 8), inner=st.integers(0, 3), seed=st.integers(0, 2**32 - 1),
       dtype=st.sampled_from(DTYPES))
def test_group_sum_random(n, g, inner, seed, dtype):
    rng = np.random.default_rng(seed)
    x = _data(rng, (n, inner) if inner else (n,), dtype)
    ids = rng.integers(0, g, n)
    _assert_group(skucast.group_sum(x, ids, g), _group_ref(x, ids, g), dtype)


def test_group_sum_float32_adds_in_double():
    # 2^24 plus ten ones: float32 additions would drop every one; double sums round once.
    x = np.array([[2.0**24, 3.0]] + [[1.0, 0.5]] * 10, dtype=np.float32)
    got = skucast.group_sum(x, np.zeros(11, np.int64), 2)
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, [[16777226.0, 8.0], [0.0, 0.0]])
    np.testing.assert_array_equal(got[0], skucast.window_sum(x.T[None], [0], [11])[0])


def test_group_sum_float32_many_groups_and_columns(rng):
    # More groups than fit 1024 double columns each: narrower column blocks, same sums.
    x = rng.standard_normal((3000, 37)).astype(np.float32)
    ids = rng.integers(0, 2000, 3000)
    ref = np.zeros((2000, 37))
    np.add.at(ref, ids, x.astype(np.float64))
    np.testing.assert_array_equal(skucast.group_sum(x, ids, 2000), ref.astype(np.float32))


@pytest.mark.parametrize("threads", [1, 2])
def test_int64_sums_past_int64_are_refused_not_wrapped(threads):
    """Sums that pass int64 raise (the index of the sum, its exact value); sums at the edge of
    int64 and large values that stay inside are returned exactly."""
    old = skucast.get_num_threads()
    skucast.set_num_threads(threads)
    try:
        big = 2**62
        with pytest.raises(ValueError, match=r"window sum at index \(0, 0\) is 9223372036854775808, past int64"):
            skucast.window_sum(np.array([[[big, big]]]), 0, 2)
        with pytest.raises(ValueError, match=r"window sum at index \(0, 0\) is -9223372036854775809"):
            skucast.window_sum(np.array([[[-big, -big - 1]]]), 0, 2)
        assert skucast.window_sum(np.array([[[big, big - 1]]]), 0, 2)[0, 0] == 2**63 - 1
        assert skucast.window_sum(np.array([[[-big, -big]]]), 0, 2)[0, 0] == -2**63
        # a middle-axis layout (m2 > 1) and a later series; the window decides, not the whole row
        y = np.zeros((3, 2, 10, 4), np.int64)
        y[2, 1, 4:6, 3] = big
        assert skucast.window_sum(y, [0, 0, 5], 5, axis=2)[2, 1, 3] == big
        with pytest.raises(ValueError, match=r"window sum at index \(2, 1, 3\)"):
            skucast.window_sum(y, [0, 0, 4], 5, axis=2)
        # many moderate values: each far below 2**63, their sum past it
        many = np.full((1, 1, 4096), 2**52, np.int64)
        assert skucast.window_sum(many, 0, 2047)[0, 0] == 2**63 - 2**52
        with pytest.raises(ValueError, match="past int64"):
            skucast.window_sum(many, 0, 4096)
        g = np.zeros((4, 3, 5), np.int64)
        g[1, 2, 3] = g[3, 2, 3] = big
        with pytest.raises(ValueError, match=r"group sum at index \(1, 2, 3\) is 9223372036854775808"):
            skucast.group_sum(g, [0, 1, 0, 1], 2)
        g[3, 2, 3] = big - 1
        assert skucast.group_sum(g, [0, 1, 0, 1], 2)[1, 2, 3] == 2**63 - 1
    finally:
        skucast.set_num_threads(old)


def test_int64_overflow_check_is_exact_where_float_sums_are_not():
    """Big values cancelling around many small ones: the check adds exact high and low halves
    (a float64 pre-filter could drift below 2**62 for such sums given ~2**27 values); many
    large sums are checked in the kernel, not one by one in Python."""
    top = 2**63 - 1
    x = np.concatenate([np.full(64, top), np.full(1 << 16, 2**47), np.full(64, -top)]).astype(np.int64)
    true = 2**47 * (1 << 16)  # = 2**63: one past int64
    with pytest.raises(ValueError, match=f"group sum at index \\(0, 0\\) is {true}, past int64"):
        skucast.group_sum(x.reshape(-1, 1), np.zeros(x.size, np.int64), 1)
    with pytest.raises(ValueError, match=f"window sum at index \\(0,\\) is {true}"):
        skucast.window_sum(x.reshape(1, -1), 0, x.size)
    big = np.full((200_000, 5), int(1.2 * 2**62) // 100, np.int64)  # every group's sum large, none past
    got = skucast.group_sum(big, np.arange(200_000) % 2000, 2000)
    assert (got == big[0, 0] * 100).all()
