"""GPU parity: every public function called with cupy arrays (and torch CUDA tensors) equals the CPU
result: integers exactly, floats to the API accuracy goal. Needs a CUDA build, a GPU and cupy."""
import numpy as np
import pytest

import skucast

cp = pytest.importorskip("cupy") if skucast.cuda_available() else None

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not skucast.cuda_available() or cp is None, reason="needs skucast CUDA build, a GPU and cupy"),
]

nb = skucast.nbinom
RTOL = 1e-12  # float kernels: the API accuracy goal; integers must be identical


def _cpu(x):
    return cp.asnumpy(x) if isinstance(x, cp.ndarray) else np.asarray(x)


@pytest.fixture
def data(rng):
    mu = 10 ** rng.uniform(-3, 5, 2000)
    alpha = 10 ** rng.uniform(-6, 2, 2000)
    alpha[::7] = 0.0
    y = rng.integers(0, (3 * mu).astype(np.int64) + 5)
    q = rng.uniform(0.001, 0.999, 2000)
    return y, mu, alpha, q


@pytest.mark.parametrize("name", ["logpmf", "pmf", "cdf", "sf"])
def test_elementwise(data, name):
    y, mu, alpha, _ = data
    f = getattr(nb, name)
    got = f(cp.asarray(y), cp.asarray(mu), cp.asarray(alpha))
    assert isinstance(got, cp.ndarray)
    want = f(y, mu, alpha)
    np.testing.assert_allclose(_cpu(got), want, rtol=RTOL, atol=0)


def test_ppf_and_nll(data):
    y, mu, alpha, q = data
    np.testing.assert_array_equal(_cpu(nb.ppf(cp.asarray(q), cp.asarray(mu), cp.asarray(alpha))), nb.ppf(q, mu, alpha))
    want = nb.nll(y, mu, alpha)
    got = float(_cpu(nb.nll(cp.asarray(y), cp.asarray(mu), cp.asarray(alpha))))
    assert abs(got - want) <= RTOL * abs(want) + 1e-9


def test_sample_identical(data):
    _, mu, alpha, _ = data
    got = nb.sample(cp.asarray(mu), cp.asarray(alpha), 64, 1234, step=2)
    np.testing.assert_array_equal(_cpu(got), nb.sample(mu, alpha, 64, 1234, step=2))


@pytest.mark.parametrize("method", ["inverted_cdf", "linear"])
def test_quantiles(rng, method):
    x = rng.negative_binomial(3, 0.2, (500, 201)).astype(np.int64)
    lv = [0.0, 0.1, 0.5, 0.95, 1.0]
    np.testing.assert_array_equal(_cpu(skucast.quantiles(cp.asarray(x), lv, method=method)),
                                  skucast.quantiles(x, lv, method=method))


def test_aggregates(rng):
    x = rng.integers(0, 100, (300, 8, 28))
    start = rng.integers(0, 14, 300)
    length = rng.integers(0, 15, 300)
    np.testing.assert_array_equal(_cpu(skucast.window_sum(cp.asarray(x), cp.asarray(start), cp.asarray(length))),
                                  skucast.window_sum(x, start, length))
    ids = rng.integers(0, 17, 300)
    np.testing.assert_array_equal(_cpu(skucast.group_sum(cp.asarray(x), cp.asarray(ids), 20)),
                                  skucast.group_sum(x, ids, 20))
    # float32 sums in double on both devices (2^24 + ones), and continuous values
    f = np.concatenate([np.full((1, 8, 28), 2.0**24), np.ones((299, 8, 28))]).astype(np.float32)
    f[:, :, 1::2] = rng.standard_normal((300, 8, 14))
    for got, ref in ((skucast.group_sum(cp.asarray(f), cp.asarray(ids), 20), skucast.group_sum(f, ids, 20)),
                     (skucast.window_sum(cp.asarray(f), cp.asarray(start), cp.asarray(length)),
                      skucast.window_sum(f, start, length))):
        assert got.dtype == ref.dtype == np.float32
        np.testing.assert_array_equal(_cpu(got), ref)


def test_nll_axis_and_float32(data):
    y, mu, alpha, q = data
    y2, mu2, alpha2 = y.reshape(40, 50), mu.reshape(40, 50), alpha.reshape(40, 50)
    got = nb.nll(cp.asarray(y2), cp.asarray(mu2), cp.asarray(alpha2), axis=0)
    np.testing.assert_allclose(_cpu(got), nb.nll(y2, mu2, alpha2, axis=0), rtol=RTOL)
    f32 = (mu.astype(np.float32), alpha.astype(np.float32))
    got = nb.ppf(cp.asarray(q.astype(np.float32)), cp.asarray(f32[0]), cp.asarray(f32[1]))
    np.testing.assert_array_equal(_cpu(got), nb.ppf(q.astype(np.float32), *f32))


def test_broadcast_scalars_and_keys(data):
    y, mu, _, _ = data
    np.testing.assert_allclose(_cpu(nb.cdf(cp.asarray(y[:, None]), 3.0, cp.asarray([0.0, 0.5]))),
                               nb.cdf(y[:, None], 3.0, [0.0, 0.5]), rtol=RTOL)
    keys = np.arange(5, 9)
    got = nb.sample(cp.asarray(mu[5:9]), 0.3, 32, 99, keys=cp.asarray(keys))
    np.testing.assert_array_equal(_cpu(got), nb.sample(mu, 0.3, 32, 99)[5:9])


def test_bad_values_same_message(data):
    y, mu, alpha, _ = data
    mu = mu.copy()
    mu[17] = -1.0
    with pytest.raises(ValueError) as cpu_err:
        nb.logpmf(y, mu, alpha)
    with pytest.raises(ValueError) as gpu_err:
        nb.logpmf(cp.asarray(y), cp.asarray(mu), cp.asarray(alpha))
    assert str(gpu_err.value) == str(cpu_err.value)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32])
def test_quantiles_axis0_dtypes(rng, dtype):
    x = rng.normal(10, 5, (301, 7, 3)).astype(dtype)
    for method in ("inverted_cdf", "linear"):
        np.testing.assert_array_equal(_cpu(skucast.quantiles(cp.asarray(x), [0.05, 0.5, 0.99], axis=0, method=method)),
                                      skucast.quantiles(x, [0.05, 0.5, 0.99], axis=0, method=method))


@pytest.mark.parametrize("levels", [np.float32([0.1, 0.5, 0.95]), 0.3, [0, 1], np.float16(0.7), np.array(0.3)])
def test_quantiles_levels_in_numpy_types(rng, levels):
    x = rng.normal(10, 5, (40, 101)).astype(np.float32)
    for method in ("inverted_cdf", "linear"):
        got = skucast.quantiles(cp.asarray(x), levels, method=method)
        want = np.asarray(skucast.quantiles(x, levels, method=method))
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(_cpu(got), want)


def test_aggregates_float_and_scalar_window(rng):
    x = rng.uniform(0, 10, (50, 28, 6)).astype(np.float32)
    np.testing.assert_array_equal(_cpu(skucast.window_sum(cp.asarray(x), 3, 7, axis=1)),
                                  skucast.window_sum(x, 3, 7, axis=1))
    ids = rng.integers(0, 5, 50)
    np.testing.assert_array_equal(_cpu(skucast.group_sum(cp.asarray(x), ids, 5)), skucast.group_sum(x, ids, 5))


def test_torch_cuda_tensors(data):
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("torch without CUDA")
    y, mu, alpha, _ = data
    got = nb.logpmf(torch.as_tensor(y, device="cuda"), torch.as_tensor(mu, device="cuda"), alpha)
    assert isinstance(got, torch.Tensor) and got.is_cuda
    np.testing.assert_allclose(got.cpu().numpy(), nb.logpmf(y, mu, alpha), rtol=RTOL)
    s = nb.sample(torch.as_tensor(mu, device="cuda"), 0.2, 8, 5)
    np.testing.assert_array_equal(s.cpu().numpy(), nb.sample(mu, 0.2, 8, 5))


# ---- skucast.inventory: the same calls with cupy arrays equal the CPU (integers exactly) ----------
inv = skucast.inventory


@pytest.fixture
def inv_rows(rng):
    n = 3000
    return dict(mu=10 ** rng.uniform(-2, 2.5, n), alpha=10 ** rng.uniform(-4, 0.5, n),
                lead=rng.integers(0, 15, n), review=rng.integers(0, 15, n), on_hand=rng.integers(0, 300, n),
                on_order=rng.integers(0, 50, n), case_pack=rng.choice([1, 6, 12], n), moq=rng.integers(0, 20, n))



@pytest.mark.parametrize("method,target", [("normal", "csl"), ("normal", "fill_rate"), ("moment", "csl"),
                                           ("exact", "csl")])
def test_inventory_order_up_to(inv_rows, method, target):
    r = inv_rows
    kw = dict(review_period=r["review"], service_level=0.97, method=method, target=target)
    want = inv.order_up_to(mu=r["mu"], alpha=r["alpha"], lead_time=r["lead"], **kw)
    got = inv.order_up_to(mu=cp.asarray(r["mu"]), alpha=cp.asarray(r["alpha"]), lead_time=cp.asarray(r["lead"]), **kw)
    assert isinstance(got.S, cp.ndarray)
    np.testing.assert_array_equal(_cpu(got.S), want.S)
    np.testing.assert_array_equal(_cpu(got.s), want.s)
    np.testing.assert_array_equal(_cpu(got.mean_demand), want.mean_demand)
    np.testing.assert_array_equal(_cpu(inv.safety_stock(mu=cp.asarray(r["mu"]), alpha=r["alpha"], lead_time=r["lead"],
                                                        **kw)), want.safety_stock)


def test_inventory_order_up_to_daily_mu(rng):
    mu = rng.uniform(0, 30, (500, 40))
    alpha = rng.uniform(0, 1, 500)
    kw = dict(lead_time=rng.integers(0, 10, 500), review_period=7, start=rng.integers(0, 20, 500), method="moment")
    want = inv.order_up_to(mu=mu, alpha=alpha[:, None], **kw)
    got = inv.order_up_to(mu=cp.asarray(mu), alpha=cp.asarray(alpha), **kw)
    np.testing.assert_array_equal(_cpu(got.S), want.S)
    np.testing.assert_array_equal(_cpu(got.s), want.s)
    with pytest.raises(NotImplementedError):
        inv.order_up_to(mu=cp.asarray(mu), alpha=cp.asarray(alpha), lead_time=3, method="moment", target="fill_rate")


@pytest.mark.parametrize("policy", ["RS", "base_stock", "sS", "sQ"])
def test_inventory_replenish_and_plan_orders(inv_rows, rng, policy):
    r = inv_rows
    n = len(r["mu"])
    S = rng.integers(0, 400, n)
    s = S - rng.integers(0, 100, n).clip(0, S)
    rules = dict(policy=policy, on_hand=r["on_hand"], on_order=r["on_order"], case_pack=r["case_pack"], moq=r["moq"],
                 max_order=np.maximum(r["moq"], 500), shelf_capacity=1000, Q=rng.integers(1, 30, n))
    want = inv.replenish(S=S, s=s, **rules)
    got = inv.replenish(S=cp.asarray(S), s=cp.asarray(s), **{**rules, "on_hand": cp.asarray(r["on_hand"])})
    np.testing.assert_array_equal(_cpu(got.order), want.order)
    np.testing.assert_array_equal(_cpu(got.reason), want.reason)
    for method in ("normal", "exact"):
        kw = dict(alpha=r["alpha"], lead_time=r["lead"], review_period=r["review"], method=method, return_levels=True)
        want = inv.plan_orders(mu=r["mu"], **kw, **{k: v for k, v in rules.items() if k not in ("on_hand",)},
                               on_hand=r["on_hand"])
        got = inv.plan_orders(mu=cp.asarray(r["mu"]), **kw, **{k: v for k, v in rules.items() if k != "on_hand"},
                              on_hand=cp.asarray(r["on_hand"]))
        for name in ("order", "reason", "S", "s"):
            np.testing.assert_array_equal(_cpu(getattr(got, name)), getattr(want, name))


def test_inventory_replenish_bad_value_same_message(inv_rows):
    oh = inv_rows["on_hand"].copy()
    oh[17] = -1
    with pytest.raises(ValueError) as cpu_err:
        inv.replenish(on_hand=oh, S=10)
    with pytest.raises(ValueError) as gpu_err:
        inv.replenish(on_hand=cp.asarray(oh), S=10)
    assert str(gpu_err.value) == str(cpu_err.value)


def test_inventory_allocate(rng):
    n, m = 400, 25
    mu = 10 ** rng.uniform(-1, 2.5, (n, m))
    alpha = rng.uniform(0, 1.5, (n, m))
    oh = rng.integers(0, 10, (n, m))
    supply = rng.integers(0, 3000, n)
    md = rng.integers(0, 3, (n, m))
    want = inv.allocate(supply, mu=mu, alpha=alpha, on_hand=oh, min_display=md, reserve=5)
    got = _cpu(inv.allocate(cp.asarray(supply), mu=cp.asarray(mu), alpha=cp.asarray(alpha),
                            on_hand=cp.asarray(oh), min_display=md, reserve=5))
    # The GPU runs the general threshold search; CPU SKUs of small means take the one-pass walk,
    # whose running cdf sums can break a near-tie (~1e-15) or decide a unit at the 1e-12 gain
    # cut-off the other way: such rows must agree in expected sales, not unit by unit.
    differ = np.flatnonzero((got != want).any(1))
    assert differ.size <= 2, differ
    for i in differ:
        def sales(x):
            stock = x + oh[i]
            return sum(float(skucast.nbinom.sf(np.arange(k), mu[i, l], alpha[i, l]).sum()) for l, k in enumerate(stock))
        assert abs(sales(got[i]) - sales(want[i])) <= 1e-9 * max(1.0, sales(want[i]))
    smp = rng.negative_binomial(2, 0.1, (n, m, 64))
    want = inv.allocate(supply, samples=smp, on_hand=oh)
    np.testing.assert_array_equal(_cpu(inv.allocate(cp.asarray(supply), samples=cp.asarray(smp), on_hand=oh)), want)


@pytest.mark.parametrize("dtype", [np.int32, np.int64])
def test_inventory_simulate(rng, dtype):
    n, T = 700, 120
    dem = rng.negative_binomial(2, 0.3, (n, T)).astype(dtype)
    kw = dict(S=rng.integers(5, 60, n), lead_time=rng.integers(0, 9, n), review_period=7, moq=2, case_pack=3,
              max_order=90, smoothing=0.8, on_order=rng.integers(0, 5, n), trace_rows=[0, 5, 699], lost_sales=False)
    want = inv.simulate(dem, **kw)
    got = inv.simulate(cp.asarray(dem), **kw)
    for name in ("stockout_days", "lost_units", "num_orders", "ordered_units", "demand_units", "sold_units"):
        np.testing.assert_array_equal(_cpu(getattr(got, name)), getattr(want, name))
    for name in ("fill_rate", "cycle_service_level", "avg_on_hand", "orders_var", "demand_var", "bullwhip"):
        np.testing.assert_array_equal(_cpu(getattr(got, name)), getattr(want, name))
    for name, tr in want.trace.items():
        np.testing.assert_array_equal(_cpu(got.trace[name]), tr)
    bad = dem.copy()
    bad[3, 40] = -1
    with pytest.raises(ValueError, match=r"demand.*\(3, 40\)"):
        inv.simulate(cp.asarray(bad), S=10, lead_time=2)


def test_narrow_and_uint64_samples_like_the_cpu(rng):
    x = rng.integers(0, 200, (5, 40)).astype(np.uint8)
    for method in ("inverted_cdf", "linear"):
        got = skucast.quantiles(cp.asarray(x), [0.1, 0.5, 0.9], axis=1, method=method)
        want = skucast.quantiles(x, [0.1, 0.5, 0.9], axis=1, method=method)
        assert got.dtype == want.dtype  # uint8 for inverted_cdf, as numpy
        np.testing.assert_array_equal(_cpu(got), want)
    big = np.array([[1, 2**63 + 5]], dtype=np.uint64)
    for a in (big, cp.asarray(big)):
        with pytest.raises(ValueError, match=r"values above 2\*\*63-1 are not supported"):
            skucast.quantiles(a, 0.5, axis=1)


def test_inventory_allocate_bounds_like_the_cpu():
    # the CPU path's integer bounds, with its messages (the device kernels would wrap past them)
    mu, smp = np.ones((2, 3)), np.ones((2, 3, 4), np.int64)
    cases = [(dict(supply=[2**62, 1], mu=mu), r"supply: must be < 2\*\*62"),
             (dict(supply=[5, 1], mu=mu, on_hand=np.full((2, 3), 2**61)), r"on_hand: must be < 2\*\*61"),
             (dict(supply=[5, 1], mu=mu, min_display=np.full((2, 3), 2**61)), r"min_display: must be < 2\*\*61"),
             (dict(supply=[5, 1], samples=smp * 2**61), r"samples: must be <= 2\*\*60")]
    for kw, msg in cases:
        with pytest.raises(ValueError, match=msg):
            inv.allocate(**kw)
        dev = {k: cp.asarray(v) for k, v in kw.items()}
        with pytest.raises(ValueError, match=msg):
            inv.allocate(**dev)


def _bits(x):
    """Raw bits of float outputs that must match the CPU exactly, zeros taken as +0.0 (in a row of
    non-whole values holding both -0.0 and +0.0, which zero the CPU's selection picks is not
    defined, as numpy's is not) and one NaN for all (inf - inf gives x86's negative NaN on the
    CPU, the GPU's positive one)."""
    x = np.ascontiguousarray(_cpu(x))
    if x.dtype.kind != "f":
        return x
    x = np.where(np.isnan(x), np.nan, x + 0.0).astype(x.dtype)
    return x.view(np.int64 if x.itemsize == 8 else np.int32)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32, np.int64])
def test_quantiles_every_row_length(rng, dtype):
    # the warp sort's item counts (rows of <= 32, 64, ..., 1024 values) and the segmented sort past them
    lv = [0.0, 0.01, 0.1, 0.25, 0.5, 0.5001, 0.9, 0.99, 1.0]
    for n in (1, 2, 5, 31, 32, 33, 63, 64, 65, 100, 127, 128, 129, 200, 255, 256, 257, 500, 512, 513, 1000,
              1023, 1024, 1025, 1500):
        x = rng.integers(-40, 40, (23, n)).astype(dtype)  # ties
        if x.dtype.kind == "f":
            x[::3] = rng.standard_normal((len(x[::3]), n)).astype(dtype)
            x[1, :: max(1, n // 7)] = -0.0
            x[2, :: max(1, n // 5)] = 0.0
            x[4, :: max(1, n // 3)] = np.inf
            x[5, :: max(1, n // 4)] = -np.inf
        else:
            info = np.iinfo(dtype)
            x[6, :: max(1, n // 3)] = info.max
            x[7, :: max(1, n // 3)] = info.min
        for method in ("inverted_cdf", "linear"):
            want = skucast.quantiles(x, lv, method=method)
            got = skucast.quantiles(cp.asarray(x), lv, method=method)
            assert got.dtype == want.dtype
            np.testing.assert_array_equal(_bits(got), _bits(want), err_msg=f"n={n} {method}")
            # a sample axis in the middle: strided rows
            x3 = np.ascontiguousarray(np.broadcast_to(x.T[:, None, :], (n, 2, x.shape[0])))
            np.testing.assert_array_equal(_bits(skucast.quantiles(cp.asarray(x3), lv, axis=0, method=method)),
                                          _bits(skucast.quantiles(x3, lv, axis=0, method=method)),
                                          err_msg=f"axis 0, n={n} {method}")


@pytest.mark.parametrize("n", [7, 100, 200, 1024, 1100])
def test_quantiles_nan_same_message(rng, n):
    x = rng.standard_normal((50, n)).astype(np.float32)
    x[31, n // 2] = np.nan
    x[40, 1] = np.nan
    with pytest.raises(ValueError) as cpu_err:
        skucast.quantiles(x, [0.5])
    with pytest.raises(ValueError) as gpu_err:
        skucast.quantiles(cp.asarray(x), [0.5])
    assert str(gpu_err.value) == str(cpu_err.value)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32, np.int64])
def test_quantiles_forecast_layout(rng, dtype):
    # (series, samples, days) read over samples: tiles of 32 (4-byte) or 16 (8-byte) days, whole,
    # partial (28, 40 days) and one (8 days), from shared memory; 5 days keep the strided warp read
    lv = [0.0, 0.005, 0.1, 0.5, 0.835, 0.995, 1.0]
    for days in (5, 8, 28, 40):
        for n in (1, 33, 200, 700):
            x = rng.negative_binomial(2, 0.2, (3, n, days)).astype(dtype)
            if x.dtype.kind == "f":
                x[1] = rng.standard_normal((n, days)).astype(dtype)
                x[2, :: max(1, n // 3), ::2] = -0.0
            for method in ("inverted_cdf", "linear"):
                want = skucast.quantiles(x, lv, axis=1, method=method)
                got = skucast.quantiles(cp.asarray(x), lv, axis=1, method=method)
                assert got.dtype == want.dtype
                np.testing.assert_array_equal(_bits(got), _bits(want), err_msg=f"{days} days, n={n} {method}")


def test_quantiles_nan_in_forecast_layout_same_message(rng):
    x = rng.standard_normal((6, 100, 30)).astype(np.float32)
    x[4, 10, 3] = np.nan
    x[2, 70, 29] = np.nan  # the first in C order, in a later tile row of an earlier series
    with pytest.raises(ValueError) as cpu_err:
        skucast.quantiles(x, [0.5], axis=1)
    with pytest.raises(ValueError) as gpu_err:
        skucast.quantiles(cp.asarray(x), [0.5], axis=1)
    assert str(gpu_err.value) == str(cpu_err.value)
    assert "(2, 70, 29)" in str(gpu_err.value)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32, np.int64])
def test_group_sum_bitwise(rng, dtype):
    for n, cols, groups in ((0, 5, 3), (1, 1, 1), (300, 3, 1), (1000, 40, 7), (2000, 9, 600), (50, 200, 90)):
        if np.dtype(dtype).kind == "f":
            # mixed magnitudes: the sum depends on the order it is taken in
            x = (rng.standard_normal((n, cols)) * 10.0 ** rng.integers(-8, 9, (n, cols))).astype(dtype)
        else:
            x = rng.integers(-1000, 1000, (n, cols)).astype(dtype)
        ids = rng.integers(0, groups, n)
        want = skucast.group_sum(x, ids, groups)
        got = skucast.group_sum(cp.asarray(x), cp.asarray(ids), groups)
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(_bits(got), _bits(want), err_msg=f"{n}x{cols} -> {groups}")


def test_inventory_scalar_arguments_read_with_stride_zero(inv_rows):
    # scalars (alpha, lead time, review period, order rules) are one device element read by every row
    r = inv_rows
    for method in ("normal", "exact", "moment"):
        kw = dict(alpha=0.3, lead_time=4, review_period=7, method=method, on_order=5, moq=6, case_pack=12,
                  max_order=600, backorders=0, return_levels=True)
        want = inv.plan_orders(mu=r["mu"], on_hand=r["on_hand"], **kw)
        got = inv.plan_orders(mu=cp.asarray(r["mu"]), on_hand=cp.asarray(r["on_hand"]), **kw)
        for name in ("order", "reason", "S", "s"):
            np.testing.assert_array_equal(_cpu(getattr(got, name)), getattr(want, name), err_msg=f"{method} {name}")
        want = inv.order_up_to(mu=r["mu"], alpha=np.float32(0.3), lead_time=np.int64(4), method=method)
        got = inv.order_up_to(mu=cp.asarray(r["mu"]), alpha=cp.asarray(0.3), lead_time=cp.asarray([4]),
                              method=method)
        np.testing.assert_array_equal(_cpu(got.S), want.S)
    oh = r["on_hand"].copy()
    with pytest.raises(ValueError) as cpu_err:
        inv.plan_orders(mu=r["mu"], alpha=0.3, lead_time=-1, on_hand=oh)
    with pytest.raises(ValueError) as gpu_err:
        inv.plan_orders(mu=cp.asarray(r["mu"]), alpha=0.3, lead_time=-1, on_hand=cp.asarray(oh))
    assert str(gpu_err.value) == str(cpu_err.value)


# ---- order_up_to from sample paths: the CPU path's formulas in cupy --------------------------------
@pytest.fixture
def paths(rng):
    n, k, H = 400, 257, 21
    x = rng.negative_binomial(1.5, 0.3, (n, k, H))
    fixed = rng.random((n, 1)) < 0.1  # some rows with a certain lead time of 2 days
    pmf = np.where(fixed, np.eye(5)[2], rng.dirichlet(np.ones(5), n))
    return dict(x=x, lead=rng.integers(0, 10, n), review=rng.integers(0, 6, n), start=rng.integers(0, 5, n), pmf=pmf)


def _same_levels(got, want):
    host = lambda a: a.cpu().numpy() if hasattr(a, "is_cuda") else _cpu(a)  # noqa: E731 (torch or cupy)
    for name in ("S", "s"):
        np.testing.assert_array_equal(host(getattr(got, name)), getattr(want, name))
    for name in ("mean_demand", "safety_stock"):
        np.testing.assert_allclose(host(getattr(got, name)), getattr(want, name), rtol=RTOL, atol=1e-12)


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.float64, np.float32])
@pytest.mark.parametrize("method,target", [("exact", "csl"), ("normal", "csl"), ("exact", "fill_rate"),
                                           ("normal", "fill_rate")])
def test_inventory_order_up_to_samples(paths, dtype, method, target):
    p = paths
    x = p["x"].astype(dtype) * (dtype(1) if np.dtype(dtype).kind == "i" else dtype(0.5))
    kw = dict(review_period=p["review"], start=p["start"], service_level=0.93, method=method, target=target)
    want = inv.order_up_to(samples=x, lead_time=p["lead"], **kw)
    got = inv.order_up_to(samples=cp.asarray(x), lead_time=p["lead"], **kw)
    assert isinstance(got.S, cp.ndarray) and got.S.dtype == np.int64
    _same_levels(got, want)


@pytest.mark.parametrize("target", ["csl", "fill_rate"])
def test_inventory_order_up_to_samples_lead_time_pmf(paths, target):
    p = paths
    kw = dict(review_period=p["review"], service_level=0.9, target=target)
    want = inv.order_up_to(samples=p["x"], lead_time_pmf=p["pmf"], **kw)
    _same_levels(inv.order_up_to(samples=cp.asarray(p["x"]), lead_time_pmf=p["pmf"], **kw), want)
    _same_levels(inv.order_up_to(samples=p["x"], lead_time_pmf=cp.asarray(p["pmf"]), **kw), want)


def test_inventory_order_up_to_samples_torch_and_edges(paths):
    p = paths
    kw = dict(lead_time=p["lead"], review_period=p["review"], start=p["start"], service_level=0.95)
    want = inv.order_up_to(samples=p["x"], **kw)
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        got = inv.order_up_to(samples=torch.as_tensor(p["x"], device="cuda"), **kw)
        assert isinstance(got.S, torch.Tensor) and got.S.is_cuda
        _same_levels(got, want)
    empty = inv.order_up_to(samples=cp.zeros((0, 3, 4), np.int64), lead_time=1, review_period=1)
    assert _cpu(empty.S).shape == (0,)
    one = inv.order_up_to(samples=cp.asarray(p["x"][:1, :1]), lead_time=2, review_period=1)
    np.testing.assert_array_equal(_cpu(one.S), inv.order_up_to(samples=p["x"][:1, :1], lead_time=2,
                                                                review_period=1).S)


@pytest.mark.parametrize("change,match", [
    (dict(samples_value=-1), r"samples: demand must be >= 0; first bad value at index \(3, 1, 2\)"),
    (dict(samples_value=np.nan), r"samples: must be finite; first bad value at index \(3, 1, 2\)"),
    (dict(lead_time=20), r"lead_time: the protection interval"),
    (dict(review_period=-1), r"review_period: must be >= 0"),
    (dict(alpha=0.5), r"alpha: only with mu"),
])
def test_inventory_order_up_to_samples_bad_input_same_message(paths, change, match):
    x = paths["x"][:10].astype(np.float64)
    kw = dict(lead_time=3, review_period=2)
    if "samples_value" in change:
        x[3, 1, 2] = change.pop("samples_value")
    kw.update(change)
    with pytest.raises(ValueError, match=match):
        inv.order_up_to(samples=x, **kw)
    with pytest.raises(ValueError, match=match):
        inv.order_up_to(samples=cp.asarray(x), **kw)


def test_inventory_order_up_to_samples_refusals_like_the_cpu(paths):
    x = paths["x"][:10]
    big = x.astype(np.uint64)
    big[1, 2, 3] = 2**63
    for samples, kw in [(x, dict(start=None)), (x, dict(review_period=None)), (big, {}),
                        (x.astype(bool), {})]:
        kw = dict(dict(lead_time=3, review_period=2), **kw)
        with pytest.raises((TypeError, ValueError)) as cpu_error:
            inv.order_up_to(samples=samples, **kw)
        with pytest.raises(cpu_error.type) as gpu_error:
            inv.order_up_to(samples=cp.asarray(samples), **kw)
        assert str(gpu_error.value) == str(cpu_error.value)


def test_int64_sums_past_int64_same_error():
    big = 2**62
    x = np.zeros((3, 2, 6), np.int64)
    x[2, 1, 2:4] = big
    for call in (lambda a: skucast.window_sum(a, [0, 0, 1], 4), lambda a: skucast.group_sum(a, [0, 1, 1], 2)):
        x2 = x.copy()
        x2[1, 1, 2] = big  # group 1 sums rows 1 and 2
        with pytest.raises(ValueError) as cpu_error:
            call(x2)
        with pytest.raises(ValueError) as gpu_error:
            call(cp.asarray(x2))
        assert str(gpu_error.value) == str(cpu_error.value)
    ok = x.copy()
    ok[2, 1, 3] = big - 1
    np.testing.assert_array_equal(_cpu(skucast.window_sum(cp.asarray(ok), 0, 6)), skucast.window_sum(ok, 0, 6))


def test_zero_means_like_the_cpu(data):
    y, mu, alpha, q = data
    mu = mu.copy()
    mu[::3] = 0.0
    for name in ("logpmf", "pmf", "cdf", "sf"):  # (floats to the API accuracy; inf equal to inf)
        np.testing.assert_allclose(_cpu(getattr(nb, name)(cp.asarray(y), cp.asarray(mu), cp.asarray(alpha))),
                                   getattr(nb, name)(y, mu, alpha), rtol=RTOL)
    np.testing.assert_array_equal(_cpu(nb.ppf(cp.asarray(q), cp.asarray(mu), cp.asarray(alpha))), nb.ppf(q, mu, alpha))
    np.testing.assert_array_equal(_cpu(nb.sample(cp.asarray(mu), cp.asarray(alpha), 8, 5)), nb.sample(mu, alpha, 8, 5))
    assert float(_cpu(nb.nll(cp.asarray(y), cp.asarray(mu), cp.asarray(alpha)))) == nb.nll(y, mu, alpha) == np.inf
