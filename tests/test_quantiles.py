"""skucast.quantiles against numpy.quantile (inverted_cdf and linear) over shapes, dtypes and strides."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import skucast

LEVELS = np.array([0.0, 0.005, 0.1, 0.25, 0.5, 0.5000001, 0.75, 0.9, 0.95, 0.98, 0.995, 1.0])
SIZES = [1, 2, 3, 7, 199, 200, 1001]
DTYPES = [np.float32, np.float64, np.int32, np.int64]


def _numpy_ref(x, levels, axis, method):
    ref = np.quantile(x, levels, axis=axis, method=method)
    return ref if np.ndim(levels) == 0 else np.moveaxis(ref, 0, -1)


def _make(rng, shape, dtype, kind):
    if kind == "ties":  # few distinct integer values: many ties
        x = rng.integers(0, 6, shape)
    elif kind == "wide":  # large-range integers
        lim = 2**31 - 1 if dtype == np.int32 else 2**40
        x = rng.integers(-lim, lim, shape, dtype=np.int64)
        if dtype == np.float32:
            x = x.astype(np.float64) / 2**17  # keep it a float32-exact-ish wide range
    else:  # continuous
        x = rng.standard_normal(shape) * 100.0
        if np.issubdtype(dtype, np.integer):
            x = np.round(x * 1000)
    return x.astype(dtype)


def _check(got, x, levels, axis, method):
    if method == "linear" and x.dtype == np.int32:
        # numpy's lerp forms next - previous in the input dtype, which wraps around for int32
        # data spanning more than 2**31; the exact answer is numpy's on the int64 copy.
        ref = _numpy_ref(x.astype(np.int64), levels, axis, method)
    else:
        ref = _numpy_ref(x, levels, axis, method)
    assert np.shape(got) == np.shape(ref)
    # dtype like numpy: inverted_cdf keeps the input dtype; linear is float32 only for float32
    # input with float32/Python-scalar levels (numpy promotes with float64 level arrays).
    assert got.dtype == ref.dtype, (got.dtype, ref.dtype)
    np.testing.assert_array_equal(got, ref)


@pytest.mark.parametrize("method", ["inverted_cdf", "linear"])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind", ["ties", "continuous", "wide"])
def test_2d_sample_axis_last(rng, method, dtype, kind):
    for s in SIZES:
        x = _make(rng, (13, s), dtype, kind)
        _check(skucast.quantiles(x, LEVELS, axis=-1, method=method), x, LEVELS, -1, method)
        _check(skucast.quantiles(x, LEVELS, axis=1, method=method), x, LEVELS, 1, method)


@pytest.mark.parametrize("method", ["inverted_cdf", "linear"])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind", ["ties", "continuous", "wide"])
def test_3d_sample_axis_middle_and_last(rng, method, dtype, kind):
    for s in (1, 2, 7, 200, 1001):
        x = _make(rng, (5, s, 4), dtype, kind)  # (n, S, h)
        _check(skucast.quantiles(x, LEVELS, axis=1, method=method), x, LEVELS, 1, method)
        y = np.ascontiguousarray(np.moveaxis(x, 1, -1))  # (n, h, S)
        _check(skucast.quantiles(y, LEVELS, axis=-1, method=method), y, LEVELS, -1, method)


@pytest.mark.parametrize("method", ["inverted_cdf", "linear"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_1d_and_axis0(rng, method, dtype):
    for s in SIZES:
        for kind in ("ties", "continuous", "wide"):
            x = _make(rng, (s,), dtype, kind)
            _check(skucast.quantiles(x, LEVELS, method=method), x, LEVELS, -1, method)
            _check(skucast.quantiles(x, LEVELS, axis=0, method=method), x, LEVELS, 0, method)
            x2 = _make(rng, (s, 6), dtype, kind)
            _check(skucast.quantiles(x2, LEVELS, axis=0, method=method), x2, LEVELS, 0, method)


@pytest.mark.parametrize("method", ["inverted_cdf", "linear"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_non_contiguous_inputs(rng, method, dtype):
    base = _make(rng, (30, 402), dtype, "continuous")
    ties = _make(rng, (30, 402), dtype, "ties")
    for x in (base[:, ::2], base[::3, 1::3], base.T[::2].T, base[::-1, ::-1], np.asfortranarray(base),
              ties[:, ::2], ties.T):
        for axis in (-1, 0) if x.ndim == 2 else (-1,):
            _check(skucast.quantiles(x, LEVELS, axis=axis, method=method), x, LEVELS, axis, method)
    x3 = _make(rng, (4, 50, 6), dtype, "continuous").transpose(2, 1, 0)  # (6, 50, 4), axis 1
    _check(skucast.quantiles(x3, LEVELS, axis=1, method=method), x3, LEVELS, 1, method)


@pytest.mark.parametrize("method", ["inverted_cdf", "linear"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_scalar_level_and_level_forms(rng, method, dtype):
    x = _make(rng, (9, 101), dtype, "continuous")
    for q in (0.0, 0.3, 0.5, 0.95, 1.0):
        got = skucast.quantiles(x, q, method=method)
        assert got.shape == (9,)
        _check(got, x, q, -1, method)
    got = skucast.quantiles(x, [0.5], method=method)
    assert got.shape == (9, 1)
    _check(got, x, np.array([0.5]), -1, method)
    got = skucast.quantiles(x, [0.9, 0.1, 0.5], method=method)  # unsorted levels keep their order
    _check(got, x, np.array([0.9, 0.1, 0.5]), -1, method)
    got = skucast.quantiles(x, np.array([0.25, 0.75], np.float32), method=method)
    assert got.shape == (9, 2)
    _check(got, x, np.array([0.25, 0.75], np.float32), -1, method)


def test_default_method_is_inverted_cdf(rng):
    x = rng.standard_normal((4, 10))
    np.testing.assert_array_equal(skucast.quantiles(x, LEVELS), _numpy_ref(x, LEVELS, -1, "inverted_cdf"))


def test_infinities_are_ordinary_values():
    x = np.array([[1.0, -np.inf, 3.0, np.inf, 2.0]])
    np.testing.assert_array_equal(skucast.quantiles(x, LEVELS), _numpy_ref(x, LEVELS, -1, "inverted_cdf"))


def test_large_batch_matches_numpy(rng):
    x = rng.negative_binomial(3, 0.2, size=(2000, 200)).astype(np.int64)
    for method in ("inverted_cdf", "linear"):
        _check(skucast.quantiles(x, LEVELS, method=method), x, LEVELS, -1, method)


@given(seed=st.integers(0, 2**32 - 1), s=st.integers(1, 300),
       levels=st.lists(st.floats(0, 1), min_size=1, max_size=12),
       method=st.sampled_from(["inverted_cdf", "linear"]),
       dtype=st.sampled_from(DTYPES))
def test_monotone_in_level(seed, s, levels, method, dtype):
    rng = np.random.default_rng(seed)
    x = _make(rng, (3, s), dtype, "continuous" if seed % 2 else "ties")
    lv = np.sort(np.array(levels))
    got = skucast.quantiles(x, lv, method=method).astype(np.float64)
    d = np.diff(got, axis=-1)
    if method == "inverted_cdf":
        assert (d >= 0).all()
    else:
        # numpy's two-sided lerp is monotone only up to rounding: allow 1 ulp of the data scale
        eps = np.finfo(np.float64).eps
        scale = np.max(np.abs(x.astype(np.float64)), axis=-1, keepdims=True)
        assert (d >= -eps * scale).all()
    _check(skucast.quantiles(x, lv, method=method), x, lv, -1, method)


LEVEL_FORMS = [0.3, 0.33, 1.0, 0.0, np.float32(0.33), np.float64(0.33), np.array([0.33, 0.7, 1.0, 0.0], np.float32),
               [0.33, 0.7], 1, 0, np.int64(1), [0, 1], np.float16(0.4), np.array([0.999, 0.5], np.float16),
               # n q rounds to a whole number in float32 / float16 (10 * float32(0.1) == 1) but not in float64
               np.float32(0.1), np.float32(0.3), np.array([0.1, 0.3, 0.7, 0.9], np.float32), np.float16(0.1)]


@pytest.mark.parametrize("method", ["inverted_cdf", "linear"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_level_types_follow_numpy(rng, method, dtype):
    # numpy computes the linear weight in the levels' type (float32 / float16 levels), lerps in
    # float32 for a Python float level on float32 samples, and takes an order statistic for
    # integer levels: same values, dtype and scalar-ness for every form
    for shape, axis in [((300, 37), -1), ((20, 7, 13), 1), ((5,), 0), ((1, 1), -1), ((40, 10), -1), ((30, 20), -1)]:
        x = _make(rng, shape, dtype, "continuous")
        for q in LEVEL_FORMS:
            got = skucast.quantiles(x, q, axis=axis, method=method)
            ref = np.quantile(x.astype(np.int64) if dtype == np.int32 else x, q, axis=axis, method=method)
            if np.ndim(q) == 1:
                ref = np.moveaxis(ref, 0, -1)
            if dtype == np.int32 and method == "inverted_cdf" or np.asarray(q).dtype.kind in "iu":
                ref = ref.astype(x.dtype)
            assert type(got) is type(ref) and got.dtype == ref.dtype and got.shape == ref.shape, (q, got.dtype)
            np.testing.assert_array_equal(got, ref)



@pytest.mark.parametrize("method", ["inverted_cdf", "linear"])
def test_float16_levels_past_their_range(method):
    # numpy's float16 index overflows past 65504 samples (its own answer is then meaningless):
    # the float64 computation, in numpy's dtype, instead of an error naming a value never passed
    x = np.arange(70000.0)
    levels = np.array([0.0, 0.5, 0.9], np.float16)
    got = skucast.quantiles(x, levels, method=method)
    want = skucast.quantiles(x, levels.astype(np.float64), method=method)
    np.testing.assert_array_equal(got, want)
    assert skucast.quantiles(x.astype(np.float32), np.float16(0.5), method=method).dtype == np.float32


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.uint16, np.uint32, np.uint64, np.float16])
def test_narrow_and_unsigned_dtypes_match_numpy_values_and_dtypes(dtype):
    # inverted_cdf returns sample values in the samples' dtype; linear follows numpy's type rules
    # for the levels given (float32 / float16 levels, a Python float on float16 samples).
    # (numpy rounds float16 differences to float16 before weighting them: so does skucast)
    rng = np.random.default_rng(3)
    for x in ((np.arange(24).reshape(2, 12) % 5).astype(dtype), (rng.random((3, 4, 17)) * 100).astype(dtype)):
        for axis in range(x.ndim):
            for method in ("inverted_cdf", "linear"):
                for levels in ([0.5, 0.9], 0.37, np.array(0.3), np.array([0.5, 0.33], np.float32), [0, 1],
                               np.array([0.1, 0.77], np.float16)):
                    ref = np.quantile(x, levels, axis=axis, method=method)
                    ref = np.moveaxis(ref, 0, -1) if np.ndim(levels) else ref
                    got = skucast.quantiles(x, levels, axis=axis, method=method)
                    assert got.dtype == ref.dtype, (axis, method, levels)
                    np.testing.assert_array_equal(got, ref)
        one = skucast.quantiles(x.reshape(-1), 0.37, method="linear")
        assert type(one) is type(np.quantile(x.reshape(-1), 0.37, method="linear"))


def test_signed_narrow_differences_do_not_wrap():
    # numpy's int8 difference 127 - (-128) wraps; skucast takes it exactly, as for int32
    x = np.array([-128, 127], np.int8)
    assert skucast.quantiles(x, 0.5, method="linear") == -0.5
    assert skucast.quantiles(x, np.float32(0.5), method="linear") == np.float32(-0.5)


def test_array_likes_with_their_own_dtype_objects():
    # a torch CPU tensor (torch.dtype has no numpy kind) and a DataFrame, as numpy reads them
    torch = pytest.importorskip("torch")
    x = np.arange(10.0).reshape(2, 5)
    want = skucast.quantiles(x, [0.5, 0.9], axis=1)
    np.testing.assert_array_equal(skucast.quantiles(torch.from_numpy(x), [0.5, 0.9], axis=1), want)
    pd = pytest.importorskip("pandas")
    np.testing.assert_array_equal(skucast.quantiles(pd.DataFrame(x), [0.5, 0.9], axis=1), want)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n", [1, 5, 100, 200, 1000, 1500])
def test_negative_zero_keeps_its_sign(rng, dtype, n):
    # rows whose zeros are all -0.0 (numpy returns -0.0): the counted, strided and network paths
    x = rng.integers(-3, 4, (20, n)).astype(dtype)
    x[x == 0] = -0.0
    x[3] = -0.0  # (rows of both zeros are left out: numpy's sign there is whatever its partition leaves)
    x[7::2] += rng.uniform(0, 0.5, x[7::2].shape).astype(dtype) * (x[7::2] != 0)  # continuous rows too
    levels = [0.0, 0.3, 0.5, 0.77, 1.0]
    for axis, arr in ((-1, x), (0, np.ascontiguousarray(x.T))):
        for method in ("inverted_cdf", "linear"):
            got = skucast.quantiles(arr, levels, axis=axis, method=method)
            want = np.moveaxis(np.quantile(arr, levels, axis=axis, method=method), 0, -1)
            np.testing.assert_array_equal(got, want)
            np.testing.assert_array_equal(np.signbit(got), np.signbit(want), err_msg=f"axis {axis} {method}")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_rows_with_both_zeros_do_not_depend_on_threads(rng, dtype, restore_threads):
    # A row holding -0.0 and +0.0 can go through the network, a count or a selection depending on
    # how rows are grouped into chunks; every path orders -0.0 first, so the bits are the same.
    for n in (17, 49, 100, 257, 575, 1500):
        for shape, axis in (((300, n), -1), ((3, n, 40), 1)):
            x = rng.standard_normal(shape).astype(dtype)
            zero = rng.random(shape) < 0.2
            x[zero] = np.where(rng.random(int(zero.sum())) < 0.5, -0.0, 0.0)
            levels = np.linspace(0, 1, 23)
            for method in ("inverted_cdf", "linear"):
                got = []
                for threads in (1, 2):
                    skucast.set_num_threads(threads)
                    got.append(skucast.quantiles(x, levels, axis=axis, method=method))
                assert got[0].tobytes() == got[1].tobytes(), (n, shape, method)
                np.testing.assert_array_equal(got[0], np.moveaxis(np.quantile(x, levels, axis=axis, method=method), 0, -1))
