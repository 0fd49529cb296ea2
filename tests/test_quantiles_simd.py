"""The AVX-512 paths for float32 and float64 rows (sorting network, counting, bucket selection)
give the same bits as the portable path (SKUCAST_NO_AVX512=1, run in a subprocess), and both
equal numpy, on random and edge rows:
every length 1..300 and some to 1025 (tails of any width), ties, all-equal rows, +-inf, -0.0 next to 0.0 (and
one -0.0 among continuous rows: the sorting network's order-key variant), outliers (buckets too
full for the register sort), whole-number rows (the counting variant and its limits, the
byte-compare variant of narrow ranges at its width limit), NaN rows, strided copies. 21 rows of
each: full and padded groups of the sorting network of rows up to 1024 values (16 float32 rows a
group, 8 float64 rows)."""
import os
import subprocess
import sys

import numpy as np
import pytest

import skucast

LEVELS = np.array([0.0, 0.005, 0.025, 0.1, 0.165, 0.25, 0.5, 0.5000001, 0.75, 0.835, 0.9, 0.975, 0.995, 1.0])
ROWS = 21
KINDS = ["normal", "one_negative_zero", "ties", "equal", "inf", "zeros", "outlier", "wide", "tiny",
         "counts", "counts_wide", "whole_negative", "whole_near_2_24", "whole_above_2_24", "whole_tiny_limit",
         "sparse_counts"]


def _rows(kind, n, rng):
    if kind == "normal":
        return rng.standard_normal((ROWS, n))
    if kind == "one_negative_zero":  # continuous rows, one -0.0 in the second group
        x = rng.standard_normal((ROWS, n))
        x[17, n // 2] = -0.0
        return x
    if kind == "ties":  # few distinct non-whole values: many ties, not the counting path
        return rng.integers(0, 6, (ROWS, n)) * 0.37
    if kind == "equal":
        return np.full((ROWS, n), 1.5)
    if kind == "inf":
        x = rng.standard_normal((ROWS, n))
        x[:, rng.integers(0, n, 2)] = [np.inf, -np.inf] if n > 1 else np.inf
        return x
    if kind == "zeros":
        return rng.choice([-0.0, 0.0, 0.25, -0.25, 1e-3], (ROWS, n))
    if kind == "outlier":  # one far value: the other values share a few overfull buckets
        x = rng.standard_normal((ROWS, n))
        x[:, 0] = 1e30
        return x
    if kind == "wide":  # spread overflows float32: the selection fallback
        x = rng.standard_normal((ROWS, n))
        x[:, 0], x[:, -1] = 3e38, -3e38
        return x
    if kind == "counts":  # whole numbers of a small range: the counting path
        return rng.negative_binomial(1, 0.3, (ROWS, n))
    if kind == "counts_wide":  # ranges past the 64-integer register variant
        return rng.negative_binomial(1, 0.01, (ROWS, n))
    if kind == "whole_negative":
        return rng.integers(-40, 20, (ROWS, n)) * 1.0
    if kind == "whole_near_2_24":  # largest values the register variant takes
        return 2.0**24 - 64 + rng.integers(0, 63, (ROWS, n))
    if kind == "whole_tiny_limit":  # widths 48 (last of the byte-compare variant), 49 and 47
        x = -7.0 + rng.integers(0, 47, (ROWS, n))
        x[:, 0] = -7.0
        x[:, -1] = np.resize([40.0, 41.0, 39.0], ROWS) if n > 1 else x[:, -1]
        return x
    if kind == "sparse_counts":  # slow movers: mostly zeros, a few ones and twos
        return rng.choice([0.0, 1.0, 2.0], (ROWS, n), p=[0.9, 0.08, 0.02])
    if kind == "whole_above_2_24":  # whole floats past 2^24 (even): the scalar counting path
        return 2.0**24 + 2 * rng.integers(0, 30, (ROWS, n))
    return rng.standard_normal((ROWS, n)) * 1e-42  # subnormal spread


# every count of real 16-value blocks the 64-, 128- and 256-wire networks are unrolled for (their
# merges leave out the padding blocks' comparators)
F64_LENGTHS = list(range(1, 34)) + [40, 49, 63, 64, 65, 81, 97, 100, 113, 127, 128, 129, 145, 161, 177, 200, 209,
                                    225, 241, 255, 256, 257, 300, 513, 600, 1024]
# networks of 512 and 1024 wires (their wide far stages), and the first length past them
LONG_LENGTHS = [384, 511, 512, 600, 700, 1000, 1024, 1025]


def _inputs():
    rng = np.random.default_rng(7)
    out = {f"{kind}_{n}": _rows(kind, n, rng).astype(np.float32) for kind in KINDS
           for n in list(range(1, 301)) + LONG_LENGTHS}
    # float64 rows (the network's 8-row groups; its int64-key variant for -0.0), fewer lengths
    out.update({f"{kind}_{n}_f64": _rows(kind, n, rng) for kind in KINDS for n in F64_LENGTHS})
    return out


# One rank per level (inverted_cdf then writes straight into the output row), and one level.
DISTINCT_LEVELS = [np.array([0.1, 0.5, 0.9]), np.array([0.5])]
SIGNED_ZERO_KINDS = ("zeros", "one_negative_zero")
# int32/int64 copies of these rows are counted on float copies (exact below 2^24) or, near 2^24,
# row by row
WHOLE_KINDS = ("counts", "sparse_counts", "whole_tiny_limit", "whole_negative", "whole_near_2_24")


def _results(inputs):
    out = {}
    for name, x in inputs.items():
        for method in ("inverted_cdf", "linear"):
            out[f"{name}_{method}"] = np.asarray(skucast.quantiles(x, LEVELS, axis=1, method=method))
        for i, levels in enumerate(DISTINCT_LEVELS):
            out[f"{name}_distinct{i}"] = np.asarray(skucast.quantiles(x, levels, axis=1))
            if name.rsplit("_", 1)[0] in WHOLE_KINDS:  # integer inputs of the same rows
                for dt in ("int32", "int64"):
                    out[f"{name}_distinct{i}_{dt}"] = np.asarray(skucast.quantiles(x.astype(dt), levels, axis=1))
    return out


_CHILD = """
import sys, numpy as np
sys.path.insert(0, {tests!r})
import test_quantiles_simd as t
np.savez(sys.argv[1], **t._results(t._inputs()))
"""


@pytest.fixture(scope="module")
def portable(tmp_path_factory):
    path = tmp_path_factory.mktemp("simd") / "portable.npz"
    env = dict(os.environ, SKUCAST_NO_AVX512="1")
    code = _CHILD.format(tests=os.path.dirname(__file__))
    subprocess.run([sys.executable, "-c", code, str(path)], check=True, env=env)
    with np.load(path) as f:
        return {k: f[k] for k in f.files}


def test_avx512_matches_portable_bits(portable):
    if skucast.build_info().get("logpmf_lanes") != 8:
        pytest.skip("no AVX-512 on this CPU: both runs take the portable path")
    here = _results(_inputs())
    assert here.keys() == portable.keys()
    for k in here:
        assert here[k].dtype == portable[k].dtype, k
        # A zero's sign is unspecified (as numpy's order of -0.0 and 0.0 ties): the counting path
        # drops it, and the paths order signed zeros among subnormals differently ("tiny").
        a, b = np.where(here[k] == 0, 0, here[k]), np.where(portable[k] == 0, 0, portable[k])
        assert a.tobytes() == b.tobytes(), k


def test_both_paths_match_numpy(portable):
    here = _results(_inputs())
    for name, x in _inputs().items():
        for i, levels in enumerate(DISTINCT_LEVELS):
            keys = [k for k in here if k.startswith(f"{name}_distinct{i}")]
            with np.errstate(invalid="ignore", over="ignore"):
                ref = np.moveaxis(np.quantile(x, levels, axis=1, method="inverted_cdf"), 0, -1)
            for k in keys:
                for got in (here[k], portable[k]):
                    if name.startswith(SIGNED_ZERO_KINDS):
                        np.testing.assert_array_equal(np.where(got == 0, 0, got), np.where(ref == 0, 0, ref))
                    else:
                        np.testing.assert_array_equal(got, ref.astype(got.dtype), err_msg=k)
        for method in ("inverted_cdf", "linear"):
            with np.errstate(invalid="ignore", over="ignore"):  # numpy's lerp of inf and wide rows
                ref = np.moveaxis(np.quantile(x, LEVELS, axis=1, method=method), 0, -1)
            for got in (here[f"{name}_{method}"], portable[f"{name}_{method}"]):
                assert got.dtype == ref.dtype
                if name.startswith(SIGNED_ZERO_KINDS):  # numpy's order of -0.0 and 0.0 ties is unspecified
                    np.testing.assert_array_equal(got == 0, ref == 0)
                    np.testing.assert_array_equal(np.where(got == 0, 0, got), np.where(ref == 0, 0, ref))
                else:
                    np.testing.assert_array_equal(got, ref, err_msg=f"{name} {method}")


def test_strided_rows_match_contiguous():
    for name, x in _inputs().items():
        spread = np.empty((x.shape[0], 2 * x.shape[1]), dtype=x.dtype)
        spread[:, ::2] = x
        for axis_last in (True, False):
            strided = spread[:, ::2] if axis_last else np.ascontiguousarray(x.T).T
            for method in ("inverted_cdf", "linear"):
                a = skucast.quantiles(x, LEVELS, axis=1, method=method)
                b = skucast.quantiles(strided, LEVELS, axis=1, method=method)
                assert np.asarray(a).tobytes() == np.asarray(b).tobytes(), (name, method)


def test_nan_rows_report_the_first_nan():
    # Groups of the sorting network (4 rows, 16 + 24, continuous or counted rows of 200; float32
    # and float64) and the row-by-row paths alike.
    for env_off in ("", "1"):
        code = (
            "import numpy as np, skucast\n"
            "rng = np.random.default_rng(1)\n"
            "for shape in ((4, 37), (40, 37), (40, 200)):\n"
            "    for dtype in (np.float32, np.float64):\n"
            "        for x in (rng.standard_normal(shape), rng.integers(0, 9, shape) * 1.0):\n"
            "            x = x.astype(dtype)\n"
            "            x[2, 20] = np.nan; x[3, 5] = np.nan; x[-1, 1] = np.nan\n"
            "            try:\n                skucast.quantiles(x, [0.5])\n"
            "            except ValueError as e:\n                print(e)\n"
        )
        env = dict(os.environ, SKUCAST_NO_AVX512=env_off)
        out = subprocess.run([sys.executable, "-c", code], check=True, env=env, capture_output=True, text=True)
        lines = out.stdout.splitlines()
        assert len(lines) == 12 and all("index (2, 20)" in line for line in lines), out.stdout


def test_many_levels_match_numpy():
    # More than 32 ranks: several passes of the 16- and 32-rank steps and of the 8-level lerp.
    levels = np.linspace(0.0, 1.0, 41)
    rng = np.random.default_rng(11)
    for kind in ("normal", "counts", "counts_wide", "inf", "outlier"):
        for n in (5, 37, 100, 200, 256, 300):
            x = _rows(kind, n, rng).astype(np.float32)
            for method in ("inverted_cdf", "linear"):
                with np.errstate(invalid="ignore", over="ignore"):
                    ref = np.moveaxis(np.quantile(x, levels, axis=1, method=method), 0, -1)
                np.testing.assert_array_equal(skucast.quantiles(x, levels, axis=1, method=method), ref,
                                              err_msg=f"{kind} {n} {method}")


def test_sample_axis_in_the_middle_matches_contiguous_rows(restore_threads):
    # (outer, samples, inner) arrays read over axis 1, as a forecast's (series, samples, days):
    # groups of consecutive inner positions go through the network as columns (int32/int64 as
    # floats up to 2^24; past it, and with a NaN, row by row). The same rows laid out as
    # contiguous rows give the same bits (a zero's sign as the contiguous path gives it).
    inputs = _inputs()
    for name, x in inputs.items():
        n = x.shape[1]
        if n not in (1, 2, 5, 16, 17, 100, 128, 129, 200, 256, 300, 700, 1024, 1025):
            continue
        dtypes = [x.dtype] + (["int32", "int64"] if name.rsplit("_", 1)[0] in WHOLE_KINDS else [])
        for dt in dtypes:
            rows = x.astype(dt)
            # 21 rows as (1, n, 21): groups of 16 + 5 (float) / 8 + 8 + 5 (double); as (3, n, 7)
            for outer, inner in ((1, 21), (3, 7)):
                cube = np.ascontiguousarray(rows.reshape(outer, inner, n).transpose(0, 2, 1))
                for method in ("inverted_cdf", "linear"):
                    want = skucast.quantiles(rows, LEVELS, axis=1, method=method).reshape(outer, inner, -1)
                    for threads in (1, 2):
                        skucast.set_num_threads(threads)
                        got = skucast.quantiles(cube, LEVELS, axis=1, method=method)
                        assert got.dtype == want.dtype
                        assert got.tobytes() == want.tobytes(), (name, dt, outer, inner, method, threads)


def test_sample_axis_in_the_middle_past_2_24_and_nan():
    rng = np.random.default_rng(3)
    for dt in (np.int32, np.int64):
        x = rng.integers(0, 50, (2, 200, 28)).astype(dt)
        x[1, 7, 20] = 2**24 + 1  # not exact as a float: that group goes row by row
        x[0, 9, 3] = -(2**24) - 3
        want = np.moveaxis(np.quantile(x, LEVELS, axis=1, method="inverted_cdf"), 0, -1)
        np.testing.assert_array_equal(skucast.quantiles(x, LEVELS, axis=1), want)
    for dt in (np.float32, np.float64):
        x = rng.standard_normal((2, 200, 28)).astype(dt)
        x[1, 50, 3] = np.nan
        x[1, 10, 20] = np.nan
        with pytest.raises(ValueError, match=r"index \(1, 10, 20\)"):
            skucast.quantiles(x, [0.5], axis=1)
