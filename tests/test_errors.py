"""The API error contract: ValueError/TypeError naming the argument and the first bad index; edge sizes."""
import re

import numpy as np
import pytest

import skucast

nb = skucast.nbinom


def _value_error(arg, index):
    """Regex for '<arg>: <rule>; first bad value at index <tuple>: <value>'."""
    return rf"^{re.escape(arg)}: .*; first bad value at index {re.escape(str(tuple(index)))}: "


ELEMENTWISE = [nb.logpmf, nb.pmf, nb.cdf, nb.sf, nb.nll]
F = pytest.mark.parametrize("f", ELEMENTWISE, ids=lambda f: f.__name__)

GOOD_Y = np.array([0, 1, 2, 3])
GOOD_MU = np.array([1.0, 2.0, 3.0, 4.0])
GOOD_ALPHA = np.array([0.1, 0.0, 0.5, 2.0])

BAD_Y = [
    (np.array([0.0, 1.0, np.nan, 2.0]), (2,)),
    (np.array([0.0, np.inf, 1.0, 1.0]), (1,)),
    (np.array([0.0, 1.0, 2.0, -np.inf]), (3,)),
    (np.array([0, -1, 2, -3]), (1,)),
    (np.array([0.0, 1.0, -1.0, 2.0]), (2,)),
    (np.array([0.5, 1.0, 2.0, 3.0]), (0,)),
    (np.array([1.0, 2.0, 3.0, 2.5]), (3,)),
    (np.array([0, 1, 2, 3], np.int8) - np.int8(4), (0,)),
]


@F
@pytest.mark.parametrize("y,index", BAD_Y)
def test_bad_counts(f, y, index):
    with pytest.raises(ValueError, match=_value_error("y", index)):
        f(y, GOOD_MU, GOOD_ALPHA)


BAD_MU = [
    (np.array([1.0, 2.0, -1.0, 0.0]), (2,)),
    (np.array([1.0, -1e-300, 1.0, 1.0]), (1,)),   # (0 and -0.0 are no demand: all mass at 0)
    (np.array([1.0, 1.0, 1.0, -5.0]), (3,)),
    (np.array([np.inf, 1.0, 1.0, 1.0]), (0,)),
    (np.array([1.0, np.nan, 1.0, 1.0]), (1,)),
    (np.array([1.0, 1.0, -np.inf, 1.0], np.float32), (2,)),
]


@F
@pytest.mark.parametrize("mu,index", BAD_MU)
def test_bad_mu(f, mu, index):
    with pytest.raises(ValueError, match=_value_error("mu", index)):
        f(GOOD_Y, mu, GOOD_ALPHA)


def test_message_format_example():
    with pytest.raises(ValueError) as e:
        nb.logpmf(GOOD_Y, np.array([1.0, 2.0, 3.0, -1.0]), 0.5)
    assert str(e.value).startswith("mu: must be finite and >= 0; first bad value at index (3,): -1.0")


BAD_ALPHA = [
    (np.array([0.1, -0.5, 0.1, 0.1]), (1,)),
    (np.array([0.1, 0.1, np.nan, 0.1]), (2,)),
    (np.array([0.1, 0.1, 0.1, np.inf]), (3,)),
    (np.array([-1e-300, 0.1, 0.1, 0.1]), (0,)),
]


@F
@pytest.mark.parametrize("alpha,index", BAD_ALPHA)
def test_bad_alpha(f, alpha, index):
    with pytest.raises(ValueError, match=_value_error("alpha", index)):
        f(GOOD_Y, GOOD_MU, alpha)


@F
def test_index_in_argument_own_shape(f):
    y = np.zeros((3, 4), np.int64)
    mu = np.ones((3, 4))
    mu[1, 2] = -2.0
    with pytest.raises(ValueError, match=_value_error("mu", (1, 2))):
        f(y, mu, 0.1)
    # broadcast argument: index in mu's own shape (1, 4), broadcast dim shows 0
    mu_row = np.ones((1, 4))
    mu_row[0, 3] = -0.5
    with pytest.raises(ValueError, match=_value_error("mu", (0, 3))):
        f(y, mu_row, 0.1)
    alpha_col = np.full((3, 1), 0.2)
    alpha_col[2, 0] = np.nan
    with pytest.raises(ValueError, match=_value_error("alpha", (2, 0))):
        f(y, 1.0, alpha_col)
    y2 = np.zeros((3, 4))
    y2[2, 1] = 0.25
    with pytest.raises(ValueError, match=_value_error("y", (2, 1))):
        f(y2, mu_row * 0 + 1.0, 0.1)


@F
def test_scalar_bad_value_has_empty_index(f):
    with pytest.raises(ValueError, match=_value_error("mu", ())):
        f(1, -0.1, 0.1)
    with pytest.raises(ValueError, match=_value_error("alpha", ())):
        f(1, 1.0, -1.0)


BAD_Q = [0.0, 1.0, np.nan, -0.1, 1.5, np.inf, -np.inf]


@pytest.mark.parametrize("bad", BAD_Q)
def test_ppf_bad_q(bad):
    q = np.array([0.1, 0.5, 0.9, 0.2])
    q[2] = bad
    with pytest.raises(ValueError, match=_value_error("q", (2,))):
        nb.ppf(q, GOOD_MU, GOOD_ALPHA)
    with pytest.raises(ValueError, match=_value_error("q", ())):
        nb.ppf(float(bad), 1.0, 0.1)


def test_ppf_bad_mu_alpha():
    q = np.full(4, 0.5)
    with pytest.raises(ValueError, match=_value_error("mu", (2,))):
        nb.ppf(q, np.array([1.0, 2.0, -1.0, 0.0]), 0.1)
    with pytest.raises(ValueError, match=_value_error("alpha", (1,))):
        nb.ppf(q, 1.0, np.array([0.1, np.nan, 0.1, 0.1]))


@pytest.mark.parametrize("mu,alpha,arg,index", [
    (np.array([1.0, np.inf, 1.0]), 0.1, "mu", (1,)),
    (np.array([1.0, 1.0, -0.1]), 0.1, "mu", (2,)),
    (np.array([1.0, 1.0, 1.0]), np.array([0.1, -1.0, 0.1]), "alpha", (1,)),
    (np.array([[1.0, 1.0], [1.0, -5.0]]), 0.1, "mu", (1, 1)),
])
def test_sample_bad_params(mu, alpha, arg, index):
    with pytest.raises(ValueError, match=_value_error(arg, index)):
        nb.sample(mu, alpha, 10, 0)


@pytest.mark.parametrize("n", [0, -1])
def test_sample_bad_num_samples(n):
    with pytest.raises(ValueError, match=r"^num_samples"):
        nb.sample(np.ones(3), 0.1, n, 0)


@pytest.mark.parametrize("seed", [-1, 2**64])
def test_sample_bad_seed(seed):
    with pytest.raises((ValueError, OverflowError, TypeError), match=r"seed"):
        nb.sample(np.ones(3), 0.1, 4, seed)


def test_sample_bad_shapes():
    with pytest.raises(ValueError, match=r"keys"):
        nb.sample(np.ones(3), 0.1, 4, 0, keys=np.arange(4))
    with pytest.raises(ValueError, match=r"alpha"):
        nb.sample(np.ones(3), np.ones(4), 4, 0)
    with pytest.raises(ValueError, match=r"step"):
        nb.sample(np.ones(3), 0.1, 4, 0, step=np.arange(2))


@F
def test_shape_mismatch(f):
    with pytest.raises(ValueError, match=r"mu"):
        f(np.zeros(3, np.int64), np.ones(4), 0.1)
    with pytest.raises(ValueError, match=r"alpha"):
        f(np.zeros((2, 3), np.int64), 1.0, np.full(2, 0.1))


def test_ppf_shape_mismatch():
    with pytest.raises(ValueError, match=r"mu"):
        nb.ppf(np.full(3, 0.5), np.ones(4), 0.1)


# -- wrong dtypes -------------------------------------------------------------------------------

BAD_DTYPES = {
    "object": lambda: np.array([1, 2, 3], dtype=object),
    "str": lambda: np.array(["1", "2", "3"]),
    "complex": lambda: np.array([1 + 0j, 2, 3]),
    "bool": lambda: np.array([True, False, True]),
}


@F
@pytest.mark.parametrize("kind", list(BAD_DTYPES))
@pytest.mark.parametrize("arg", ["y", "mu", "alpha"])
def test_elementwise_wrong_dtype(f, kind, arg):
    args = {"y": np.array([0, 1, 2]), "mu": np.array([1.0, 2.0, 3.0]), "alpha": np.array([0.1, 0.2, 0.3])}
    args[arg] = BAD_DTYPES[kind]()
    with pytest.raises(TypeError, match=arg):
        f(args["y"], args["mu"], args["alpha"])


@pytest.mark.parametrize("kind", list(BAD_DTYPES))
@pytest.mark.parametrize("arg", ["q", "mu", "alpha"])
def test_ppf_wrong_dtype(kind, arg):
    args = {"q": np.array([0.1, 0.5, 0.9]), "mu": np.array([1.0, 2.0, 3.0]), "alpha": np.array([0.1, 0.2, 0.3])}
    args[arg] = BAD_DTYPES[kind]()
    with pytest.raises(TypeError, match=arg):
        nb.ppf(args["q"], args["mu"], args["alpha"])


@pytest.mark.parametrize("kind", list(BAD_DTYPES))
def test_sample_wrong_dtype(kind):
    with pytest.raises(TypeError, match="mu"):
        nb.sample(BAD_DTYPES[kind](), 0.1, 4, 0)
    with pytest.raises(TypeError, match="alpha"):
        nb.sample(np.ones(3), BAD_DTYPES[kind](), 4, 0)


@pytest.mark.parametrize("kind", list(BAD_DTYPES))
def test_aggregation_wrong_dtype(kind):
    bad = BAD_DTYPES[kind]()
    with pytest.raises(TypeError, match="samples"):
        skucast.quantiles(np.stack([bad, bad]), [0.5])
    with pytest.raises(TypeError, match="levels"):
        skucast.quantiles(np.ones((2, 3)), bad)
    with pytest.raises(TypeError, match="samples"):
        skucast.window_sum(np.stack([bad, bad, bad]), 0, 1)
    with pytest.raises(TypeError, match="samples"):
        skucast.group_sum(bad, np.zeros(3, np.int64), 1)
    if kind != "bool":
        with pytest.raises(TypeError, match="group_ids"):
            skucast.group_sum(np.ones(3), bad, 4)
        with pytest.raises(TypeError, match="start"):
            skucast.window_sum(np.ones((3, 5)), bad, 1)


@pytest.mark.parametrize("dtype", [np.int8, np.uint16, np.float16])
def test_quantiles_unsupported_numeric_dtype(dtype):
    # API: input dtypes float32, float64, int32, int64; anything else is a TypeError, or must
    # give numpy's answer.
    x = np.arange(12).reshape(2, 6).astype(dtype)
    try:
        got = skucast.quantiles(x, [0.25, 0.5])
    except TypeError as e:
        assert "samples" in str(e)
    else:
        np.testing.assert_array_equal(got, np.moveaxis(np.quantile(x, [0.25, 0.5], axis=-1, method="inverted_cdf"), 0, -1))


# -- quantiles / aggregation values ----------------------------------------------------------------

@pytest.mark.parametrize("bad,index", [(-0.1, (1,)), (1.1, (2,)), (np.nan, (0,)), (np.inf, (1,))])
def test_quantiles_bad_levels(bad, index):
    lv = np.array([0.1, 0.5, 0.9])
    lv[index[0]] = bad
    with pytest.raises(ValueError, match=_value_error("levels", index)):
        skucast.quantiles(np.ones((2, 5)), lv)
    with pytest.raises(ValueError, match=_value_error("levels", ())):
        skucast.quantiles(np.ones((2, 5)), float(bad))


def test_quantiles_empty_levels():
    with pytest.raises(ValueError, match=r"^levels"):
        skucast.quantiles(np.ones((2, 5)), [])


@pytest.mark.parametrize("shape,axis", [((3, 0), -1), ((0,), -1), ((4, 0, 2), 1)])
def test_quantiles_empty_sample_axis(shape, axis):
    with pytest.raises(ValueError, match=r"^samples"):
        skucast.quantiles(np.ones(shape), [0.5], axis=axis)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_quantiles_nan_samples(dtype):
    x = np.ones((3, 6), dtype)
    x[1, 4] = np.nan
    with pytest.raises(ValueError, match=_value_error("samples", (1, 4))):
        skucast.quantiles(x, [0.5])


def test_quantiles_bad_method_and_axis():
    with pytest.raises(ValueError, match=r"method"):
        skucast.quantiles(np.ones((2, 5)), [0.5], method="nearest-ish")
    with pytest.raises((ValueError, np.exceptions.AxisError), match=r"axis"):
        skucast.quantiles(np.ones((2, 5)), [0.5], axis=2)


@pytest.mark.parametrize("start,length,arg,index", [
    ([0, -1, 0], [1, 1, 1], "start", (1,)),
    ([0, 0, 0], [1, 1, -2], "length", (2,)),
    ([0, 4, 0], [1, 2, 1], None, (1,)),      # start + length > horizon (5)
    ([6, 0, 0], [0, 1, 1], None, (0,)),      # start past the horizon
    ([0, 0, 0], [6, 1, 1], None, (0,)),
])
def test_window_sum_bad_windows(start, length, arg, index):
    x = np.ones((3, 5))
    names = "start" if arg == "start" else "length" if arg == "length" else "(start|length)"
    pattern = rf"^{names}.*index {re.escape(str(index))}"
    with pytest.raises(ValueError, match=pattern):
        skucast.window_sum(x, np.array(start), np.array(length))


def test_window_sum_bad_scalar_window_and_axis():
    x = np.ones((3, 5))
    with pytest.raises(ValueError, match=r"^(start|length)"):
        skucast.window_sum(x, 3, 3)
    with pytest.raises(ValueError, match=r"^start"):
        skucast.window_sum(x, -1, 1)
    with pytest.raises(ValueError, match=r"axis"):
        skucast.window_sum(x, 0, 1, axis=0)
    with pytest.raises(ValueError, match=r"start"):
        skucast.window_sum(x, np.zeros(4, np.int64), 1)  # one start per series


@pytest.mark.parametrize("bad,index", [(-1, (2,)), (4, (1,)), (100, (3,))])
def test_group_sum_bad_ids(bad, index):
    ids = np.array([0, 1, 2, 3, 0])
    ids[index[0]] = bad
    with pytest.raises(ValueError, match=_value_error("group_ids", index)):
        skucast.group_sum(np.ones((5, 2)), ids, 4)


def test_group_sum_shape_mismatch():
    with pytest.raises(ValueError, match=r"group_ids"):
        skucast.group_sum(np.ones((5, 2)), np.zeros(4, np.int64), 2)


# -- edge sizes -------------------------------------------------------------------------------------

@pytest.mark.parametrize("f", [nb.logpmf, nb.pmf, nb.cdf, nb.sf], ids=lambda f: f.__name__)
def test_empty_and_one_element(f):
    out = f(np.array([], np.int64), 1.0, 0.5)
    assert isinstance(out, np.ndarray) and out.shape == (0,) and out.dtype == np.float64
    out = f(np.zeros((2, 0), np.int64), np.ones((1, 0)), 0.5)
    assert out.shape == (2, 0)
    out = f(np.array([], np.int64), np.float32(1.0), np.float32(0.5))
    assert out.shape == (0,) and out.dtype == np.float32
    one = f(np.array([2]), np.array([3.0]), np.array([0.2]))
    assert isinstance(one, np.ndarray) and one.shape == (1,)
    assert one[0] == f(2, 3.0, 0.2)


def test_empty_ppf_nll_sample():
    out = nb.ppf(np.array([]), 1.0, 0.5)
    assert out.shape == (0,) and out.dtype == np.int64
    assert nb.ppf(np.array([0.5]), 1.0, 1.0).tolist() == [0]
    assert nb.nll(np.array([], np.int64), 1.0, 0.5) == 0.0
    out = nb.nll(np.zeros((0, 3), np.int64), 1.0, 0.5, axis=0)
    assert out.shape == (3,) and (out == 0).all()
    assert nb.sample(np.ones(0), 0.5, 3, 0).shape == (0, 3)


def test_empty_bad_values_are_not_checked_elsewhere():
    # broadcasting to an empty shape: no element is evaluated, no error
    out = nb.pmf(np.zeros((0, 1), np.int64), np.ones((1, 3)), 0.5)
    assert out.shape == (0, 3)


@pytest.mark.parametrize("axis", [None, 0, 1, -1])
def test_nll_first_bad_in_c_order_for_every_axis(axis):
    # the reduction runs along the axis, but the error names the first bad value in C order
    y, mu = np.ones((4, 5)), np.ones((4, 5))
    y[3, 0], mu[1, 4] = -1, -2.0
    with pytest.raises(ValueError, match=r"mu: must be finite and >= 0; first bad value at index \(1, 4\)"):
        skucast.nbinom.nll(y, mu, 0.1, axis=axis)


@pytest.mark.parametrize("func", ["logpmf", "pmf", "cdf", "sf", "ppf", "nll", "sample"])
def test_alpha_mu_past_the_double_range_is_refused(func):
    # alpha * mu = inf made every NB formula read inf / inf: logpmf, cdf and sf returned NaN
    # silently; now the pair is refused, naming alpha at the first bad element
    mu = np.array([1.0, 1e300])
    f = getattr(skucast.nbinom, func)
    args = {"ppf": (0.5, mu, 1e10), "sample": (mu, 1e10, 2, 1)}.get(func, (np.array([5, 5]), mu, 1e10))
    with pytest.raises(ValueError, match=r"^alpha: alpha \* mu and alpha \* y must be below 1\.8e308"):
        f(*args)
    # just inside the range every function stays finite
    assert np.isfinite(skucast.nbinom.cdf(5, 1e200, 1e105)) and np.isfinite(skucast.nbinom.logpmf(5, 1e200, 1e105))


def test_whole_number_floats_are_integers_and_fractions_are_refused():
    # pandas reads an integer column that once held a NaN as float64: whole values are the same
    # integers; a fraction, NaN, inf or a value past int64 is named, never truncated
    import pandas as pd
    from skucast import inventory as inv

    on_hand = pd.Series([3, 0, None]).fillna(7)  # float64
    assert on_hand.dtype == np.float64
    kw = dict(S=[10, 4, 12], case_pack=2, moq=4)
    np.testing.assert_array_equal(inv.replenish(on_hand=on_hand, **kw).order,
                                  inv.replenish(on_hand=np.array([3, 0, 7]), **kw).order)
    mu = np.array([[2.0, 3.0], [0.5, 1.0]])
    for method in ("exact", "normal"):
        a = inv.plan_orders(mu=mu, alpha=0.2, lead_time=np.array([1.0, 2.0]), on_hand=[1.0, 0.0], case_pack=3.0,
                            method=method)
        b = inv.plan_orders(mu=mu, alpha=0.2, lead_time=[1, 2], on_hand=[1, 0], case_pack=3, method=method)
        np.testing.assert_array_equal(a.order, b.order)
    demand = np.array([[1, 0, 4, 2, 0, 3]])
    np.testing.assert_array_equal(inv.simulate(demand.astype(np.float32), S=[6], lead_time=1.0).avg_on_hand,
                                  inv.simulate(demand, S=[6], lead_time=1).avg_on_hand)
    np.testing.assert_array_equal(inv.allocate([5.0], mu=[[1.0, 2.0]], min_display=[[1.0, 0.0]]),
                                  inv.allocate([5], mu=[[1.0, 2.0]], min_display=[[1, 0]]))
    for bad, shown in ((2.5, "2.5"), (np.nan, "nan"), (np.inf, "inf"), (-np.inf, "-inf"), (2.0**63, "9.223372036854776e+18")):
        with pytest.raises(ValueError, match=rf"^on_hand: must be whole numbers within the int64 range; "
                                             rf"first bad value at index \(1,\): {re.escape(shown)}$"):
            inv.replenish(on_hand=[1.0, bad, 2.0], S=[3, 3, 3])
        with pytest.raises(ValueError, match=r"^demand: must be whole numbers .*index \(0, 2\)"):
            inv.simulate(np.array([[1.0, 2.0, bad]]), S=[5], lead_time=1)
    # the most negative int64 is a float exactly: it is read, and refused as a stock below 0
    with pytest.raises(ValueError, match=r"^on_hand: must be >= 0"):
        inv.replenish(on_hand=[-2.0**63], S=[3])


def test_inventory_arguments_are_named_when_wrong():
    # each case once leaked an internal error, blamed another argument or read as a default
    from skucast import inventory as inv

    demand = np.ones((2, 5), np.int64)
    with pytest.raises(ValueError, match=r"^review_period: must be <= 1099511627776"):
        inv.simulate(demand, S=3, lead_time=1, review_period=2**63)  # was pybind's signature dump
    with pytest.raises(ValueError, match=r"^trace_rows: expected a row index or a 1-d list"):
        inv.simulate(demand, S=3, lead_time=1, trace_rows=[[0, 1]])  # was blamed on demand
    with pytest.raises(TypeError, match=r"^lost_sales: expected True or False, got 'no'"):
        inv.simulate(demand, S=3, lead_time=1, lost_sales="no")  # read as True
    np.testing.assert_array_equal(inv.simulate(demand, S=3, lead_time=1, review_period=np.array(2)).fill_rate,
                                  inv.simulate(demand, S=3, lead_time=1, review_period=2).fill_rate)
    with pytest.raises(ValueError, match=r"^unit_cost / holding_cost_rate: row 0's holding_cost passes the double"):
        inv.simulate(demand, S=3, lead_time=1, unit_cost=1e308)  # was inf
    with pytest.raises(ValueError, match=r"^on_hand: required"):
        inv.replenish(on_hand=None, S=10)  # was read as 0
    np.testing.assert_array_equal(inv.replenish(on_hand=1, S=10, case_pack=None).order, [9])  # the default, 1
    with pytest.raises(TypeError, match=r"^on_hand: cannot be read as a numeric array"):
        inv.replenish(on_hand=[[1], [1, 2]], S=5)  # was numpy's message alone
    with pytest.raises(ValueError, match=r"^policy: must be one of .* got \['RS'\]"):
        inv.replenish(on_hand=1, S=5, policy=["RS"])  # was "unhashable type"
    with pytest.raises(ValueError, match=r"^method: must be one of"):
        inv.order_up_to(mu=[1.0], alpha=0.1, lead_time=1, method=["exact"])
    with pytest.raises(TypeError, match=r"^return_levels: expected True or False"):
        inv.plan_orders(mu=[1.0], alpha=0.1, lead_time=1, on_hand=0, return_levels="yes")
    with pytest.raises(ValueError, match=r"^category: must be < 2\*\*31"):
        inv.optimize_targets(mu=[1.0, 2.0], cost=1.0, budget=1, category=[0, 2**62])  # was numpy's "too big"
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # float16 samples warned of an overflow in the range check's cast
        np.testing.assert_array_equal(inv.order_up_to(samples=np.ones((2, 5, 4), np.float16), lead_time=2).S, [2, 2])
