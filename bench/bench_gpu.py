"""GPU benchmarks (issue 6): each skucast GPU kernel beside the cupy / torch code a user would
otherwise write, in one process, on the same device arrays; memory-bound kernels also as a
fraction of the card's measured copy bandwidth.

    python bench/bench_gpu.py            # full sizes (an H100/H200: ~2 min, ~30 GB of GPU memory)
    python bench/bench_gpu.py --quick    # sizes / 10

Timing: wall clock around the whole Python call, device synchronized before and after (what a
caller sees: argument checks, launches, the error scan), median of up to 9 runs after 2
warm-ups. Every baseline is checked against skucast before it is timed. Bandwidth: a
device-to-device copy of 2 GiB (bytes read + written) is the ceiling; a kernel's fraction is
(its minimum bytes: each input read once, each output written once) / time / ceiling.
Output: a markdown table on stdout and bench/out/gpu[_quick].json.
"""
from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

import cupy as cp
import scipy.stats
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "python"))
import skucast  # noqa: E402
from skucast import inventory as inv  # noqa: E402

OUT_DIR = Path(__file__).resolve().parent / "out"
rows: list[dict] = []
failures: list[str] = []


def sync():
    cp.cuda.runtime.deviceSynchronize()


def median_time(fn, repeats=9, warmup=2, budget=4.0) -> float:
    for _ in range(warmup):
        fn()
    sync()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - t0)
        if sum(times) > budget and len(times) >= 3:
            break
    return statistics.median(times)


def report(case, impl, seconds, elements, nbytes=None, base=None, note=""):
    row = dict(case=case, impl=impl, median_s=seconds, m_elem_s=elements / seconds / 1e6, note=note)
    if nbytes is not None:
        row["gb_s"] = nbytes / seconds / 1e9
        row["bw_fraction"] = nbytes / seconds / BANDWIDTH
    if base is not None:
        row["ratio"] = seconds / base  # > 1: skucast is faster
    rows.append(row)
    bw = f"{row['gb_s']:8.0f} GB/s {100 * row['bw_fraction']:5.1f}%" if nbytes is not None else " " * 23
    ratio = f"{row['ratio']:8.2f}x" if base is not None else " " * 9
    print(f"| {case:34s} | {impl:28s} | {seconds * 1e3:9.3f} ms | {row['m_elem_s']:10.0f} | {bw} | {ratio} | {note}",
          flush=True)


def check(name, ok):
    if not ok:
        failures.append(name)
    print(f"check {name}: {'ok' if ok else 'FAILED'}", flush=True)


def copy_bandwidth() -> float:
    a = cp.random.random(2**28, dtype=cp.float64)  # 2 GiB
    b = cp.empty_like(a)
    t = median_time(lambda: cp.copyto(b, a), repeats=15)
    return 2 * 2**31 / t


# --------------------------------------------------------------------------- core kernels
def bench_nbinom(n):
    rs = cp.random.RandomState(1)
    mu = 10 ** rs.uniform(-1.3, 1.7, n)
    alpha = 10 ** rs.uniform(-2, 0.5, n)
    y = cp.floor(mu * rs.uniform(0, 2.5, n))  # counts around the mean, as scoring meets them
    case = f"logpmf {n:.0e} f64"
    sk = lambda: skucast.nbinom.logpmf(y, mu, alpha)  # noqa: E731
    ty, tmu, ta = (torch.as_tensor(x, device="cuda") for x in (y, mu, alpha))

    def torch_lp():
        d = torch.distributions.NegativeBinomial(total_count=1 / ta, logits=torch.log(ta * tmu), validate_args=False)
        return d.log_prob(ty)

    def cupy_lp():  # the closed form with cupyx's gammaln, n = 1/alpha, p = 1/(1 + alpha mu)
        from cupyx.scipy.special import gammaln
        r = 1 / alpha
        return (gammaln(y + r) - gammaln(r) - gammaln(y + 1) - r * cp.log1p(alpha * mu)
                + y * (cp.log(alpha * mu) - cp.log1p(alpha * mu)))

    ref = sk()
    check(f"{case} torch", bool(cp.allclose(cp.asarray(torch_lp()), ref, rtol=1e-6, atol=1e-8)))
    check(f"{case} cupy", bool(cp.allclose(cupy_lp(), ref, rtol=1e-6, atol=1e-8)))
    t = median_time(sk)
    report(case, "skucast", t, n, 32 * n)
    report(case, "torch NegativeBinomial.log_prob", median_time(torch_lp), n, 32 * n, t)
    report(case, "cupy gammaln closed form", median_time(cupy_lp), n, 32 * n, t)

    q = cp.full(n // 10, 0.95)
    m, a = mu[: n // 10], alpha[: n // 10]
    case = f"ppf q=0.95 {n // 10:.0e} f64"
    t = median_time(lambda: skucast.nbinom.ppf(q, m, a))
    report(case, "skucast", t, n // 10, 32 * (n // 10), note="no GPU NB quantile in cupy/torch")
    hm, ha = cp.asnumpy(m[:200000]), cp.asnumpy(a[:200000])
    check(f"{case} vs CPU", bool((cp.asnumpy(skucast.nbinom.ppf(q[:200000], m[:200000], a[:200000]))
                                  == skucast.nbinom.ppf(0.95, hm, ha)).all()))
    tc = median_time(lambda: skucast.nbinom.ppf(0.95, hm, ha), repeats=3) * (n // 10) / 200000
    report(case, "skucast CPU, all cores", tc, n // 10, None, t, note="timed on 2e5, scaled")

    ns = n // 100
    case = f"sample {ns:.0e} x 100"
    t = median_time(lambda: skucast.nbinom.sample(mu[:ns], alpha[:ns], 100, 7))
    report(case, "skucast (int64 out)", t, ns * 100, 8 * ns * 100 + 16 * ns)
    tm, tal = tmu[:ns], ta[:ns]

    def torch_sample():
        d = torch.distributions.NegativeBinomial(total_count=1 / tal, logits=torch.log(tal * tm), validate_args=False)
        return d.sample((100,))

    report(case, "torch NegativeBinomial.sample", median_time(torch_sample), ns * 100, 8 * ns * 100 + 16 * ns, t)


def bench_quantiles(shape, levels):
    rs = cp.random.RandomState(2)
    for kind in ("nb counts", "normal"):
        x = (cp.floor(rs.standard_gamma(2.0, shape, dtype=cp.float32) * 4) if kind == "nb counts"
             else rs.standard_normal(shape, dtype=cp.float32))
        lv = np.asarray(levels)
        case = f"quantiles {shape[0]:.0e}x{shape[1]} {kind}"
        nbytes = x.nbytes + 4 * shape[0] * len(lv)
        sk = lambda: skucast.quantiles(x, lv)  # noqa: E731
        ranks = np.maximum(np.ceil(lv * shape[1]).astype(np.int64) - 1, 0)  # inverted_cdf ranks
        tx = torch.as_tensor(x, device="cuda")
        tr = torch.as_tensor(ranks, device="cuda")
        torch_sort = lambda: torch.sort(tx, dim=1).values[:, tr]  # noqa: E731
        cupy_sort = lambda: cp.sort(x, axis=1)[:, cp.asarray(ranks)]  # noqa: E731
        ref = sk()
        check(f"{case} torch sort", bool(cp.array_equal(cp.asarray(torch_sort()), ref)))
        check(f"{case} cupy sort", bool(cp.array_equal(cupy_sort(), ref)))
        t = median_time(sk)
        report(case, "skucast inverted_cdf", t, x.size, nbytes)
        report(case, "torch.sort + gather", median_time(torch_sort), x.size, nbytes, t)
        report(case, "cupy.sort + gather", median_time(cupy_sort), x.size, nbytes, t)
        tl = torch.as_tensor(lv, device="cuda", dtype=torch.float32)
        r = 2**24 // shape[1]  # torch.quantile refuses inputs of over 2**24 elements
        xs, txs = x[:r], tx[:r]
        lin = lambda: skucast.quantiles(xs, lv, method="linear")  # noqa: E731
        tq = lambda: torch.quantile(txs, tl, dim=1)  # noqa: E731
        # torch ranks and interpolates in float32: equal to float32 precision (~1e-6 of the row's spread)
        check(f"{case} torch.quantile", bool(cp.allclose(cp.asarray(tq()).T, lin(), rtol=1e-5, atol=1e-3)))
        tl_ = median_time(lin)
        report(f"{case[:10]} {r}x{shape[1]} {kind}", "skucast linear", tl_, xs.size, xs.nbytes + 4 * r * len(lv))
        report(f"{case[:10]} {r}x{shape[1]} {kind}", "torch.quantile (linear)", median_time(tq), xs.size,
               xs.nbytes + 4 * r * len(lv), tl_)


def bench_forecast_layout(series, samples, days, levels):
    """A forecast's own sample paths, (series, samples, days), read over the samples axis: the
    tiled kernel, against the same values laid out as contiguous rows (the warp kernel's best case,
    the copy not timed) and torch.sort over dim 1 + gather."""
    rs = cp.random.RandomState(4)
    lv = np.asarray(levels)
    ranks = np.maximum(np.ceil(lv * samples).astype(np.int64) - 1, 0)
    for dtype in (cp.int64, cp.float32):
        x = cp.floor(rs.standard_gamma(2.0, (series, samples, days), dtype=cp.float32) * 4).astype(dtype)
        case = f"quantiles ({series},{samples},{days}) axis=1 {cp.dtype(dtype).name}"
        nbytes = x.nbytes + x.itemsize * series * days * len(lv)
        sk = lambda: skucast.quantiles(x, lv, axis=1)  # noqa: E731
        rows = cp.ascontiguousarray(cp.moveaxis(x, 1, -1))
        sk_rows = lambda: skucast.quantiles(rows, lv, axis=-1)  # noqa: E731
        tx, tr = torch.as_tensor(x, device="cuda"), torch.as_tensor(ranks, device="cuda")
        torch_sort = lambda: torch.sort(tx, dim=1).values[:, tr, :]  # noqa: E731
        ref = sk()
        check(f"{case} == contiguous rows", bool(cp.array_equal(ref, sk_rows())))
        check(f"{case} torch sort", bool(cp.array_equal(cp.moveaxis(cp.asarray(torch_sort()), 1, -1), ref)))
        t = median_time(sk)
        report(case, "skucast axis=1 (tiled)", t, x.size, nbytes)
        report(case, "skucast on contiguous rows", median_time(sk_rows), x.size, nbytes, t)
        report(case, "torch.sort(dim=1) + gather", median_time(torch_sort), x.size, nbytes, t)
        del rows, tx


def bench_aggregates(n_series, n_samples, horizon):
    rs = cp.random.RandomState(3)
    x = cp.floor(rs.random_sample((n_series, n_samples, horizon), dtype=cp.float32) * 8)
    start = rs.randint(0, 7, n_series).astype(cp.int64)
    length = rs.randint(1, horizon - 7 + 1, n_series).astype(cp.int64)
    case = f"window_sum {n_series:.0e}x{n_samples}x{horizon}"
    sk = lambda: skucast.window_sum(x, start, length)  # noqa: E731
    days = cp.arange(horizon)
    mask = ((days >= start[:, None]) & (days < (start + length)[:, None])).astype(cp.float32)
    tx, tm = torch.as_tensor(x, device="cuda"), torch.as_tensor(mask, device="cuda")
    torch_mm = lambda: torch.bmm(tx, tm[:, :, None])[..., 0]  # noqa: E731
    cupy_mm = lambda: cp.matmul(x, mask[:, :, None])[..., 0]  # noqa: E731
    ref = sk()
    check(f"{case} torch", bool(cp.allclose(cp.asarray(torch_mm()), ref, rtol=1e-6)))
    t = median_time(sk)
    window_bytes = int(length.sum()) * n_samples * 4 + 4 * n_series * n_samples
    report(case, "skucast", t, x.size, x.nbytes + 4 * n_series * n_samples, note="vs whole array")
    report(case, "skucast (window bytes)", t, x.size, window_bytes, note="vs bytes in the windows")
    report(case, "torch.bmm with a 0/1 mask", median_time(torch_mm), x.size, x.nbytes, t)
    report(case, "cupy.matmul with a 0/1 mask", median_time(cupy_mm), x.size, x.nbytes, t)

    flat = x.reshape(n_series, n_samples * horizon)
    groups = 1000
    ids = rs.randint(0, groups, n_series).astype(cp.int64)
    case = f"group_sum {n_series:.0e}x{n_samples * horizon} -> {groups}"
    sk = lambda: skucast.group_sum(flat, ids, groups)  # noqa: E731
    tf, ti = torch.as_tensor(flat, device="cuda"), torch.as_tensor(ids, device="cuda")

    def torch_index_add():  # float32 accumulation (skucast sums float32 in double)
        return torch.zeros(groups, flat.shape[1], device="cuda").index_add_(0, ti, tf)

    def cupy_add_at():
        out = cp.zeros((groups, flat.shape[1]), cp.float32)
        cp.add.at(out, ids, flat)
        return out

    ref = sk()
    check(f"{case} torch", bool(cp.allclose(cp.asarray(torch_index_add()), ref, rtol=1e-5)))
    t = median_time(sk)
    nbytes = flat.nbytes + 4 * groups * flat.shape[1]
    report(case, "skucast (double accumulation)", t, flat.size, nbytes)
    report(case, "torch index_add_ (float32)", median_time(torch_index_add), flat.size, nbytes, t)
    report(case, "cupy.add.at (float32)", median_time(cupy_add_at, repeats=3, warmup=1), flat.size, nbytes, t)


# --------------------------------------------------------------------------- inventory
def bench_inventory(n):
    rs = cp.random.RandomState(4)
    mu = 10 ** rs.uniform(-1.3, 1.7, n)
    alpha = 10 ** rs.uniform(-2, 0.5, n)
    lead = rs.randint(1, 15, n).astype(cp.int64)
    oh = rs.randint(0, 200, n).astype(cp.int64)
    oo = rs.randint(0, 40, n).astype(cp.int64)
    pack = cp.asarray(np.random.default_rng(4).choice([1, 6, 12], n))
    kw = dict(review_period=7, service_level=0.97, case_pack=pack, moq=6, max_order=600)
    in_bytes = 8 * 5 + 8  # mu, alpha, lead, on_hand, on_order, case_pack
    out_bytes = 8 + 1  # order, reason
    gpu_time = {}
    for method in ("normal", "exact"):
        case = f"plan_orders {n:.0e} SKUs {method}"
        sk = lambda: inv.plan_orders(mu=mu, alpha=alpha, lead_time=lead, on_hand=oh, on_order=oo, method=method, **kw)  # noqa: E731,B023
        t = gpu_time[method] = median_time(sk)
        report(case, "skucast, params -> orders", t, n, n * (in_bytes + out_bytes), note="end to end, one call")
        if method == "normal":
            # the Python layer's share: the same call with the kernel launch replaced by a no-op
            mod = skucast._device.cuda_module()
            real = mod.inv_plan_orders
            mod.inv_plan_orders = lambda *a, **k: None
            try:
                report(case, "  of which Python layer", median_time(sk), n, None, note="kernel call skipped")
            finally:
                mod.inv_plan_orders = real
            # the cupy expression a user would write: normal order-up-to, then the order rules
            z = float(scipy.stats.norm.ppf(0.97))

            def cupy_reorder():
                days = lead + 7
                m = mu * days
                sd = cp.sqrt(m + alpha * mu * mu * days)
                S = cp.ceil(m + z * sd)
                need = cp.maximum(S - (oh + oo), 0)
                cases = cp.ceil(need / pack)
                cases = cp.where(cases > 0, cp.maximum(cases, cp.ceil(6 / pack)), 0)
                cases = cp.minimum(cases, cp.floor(600 / pack))
                return (cases * pack).astype(cp.int64)

            report(case, "cupy elementwise reorder", median_time(cupy_reorder), n, n * (in_bytes + out_bytes), t,
                   note="normal approx., no checks")
    hm = [cp.asnumpy(a) for a in (mu, alpha, lead, oh, oo, pack)]
    m = 200000
    for method in ("normal", "exact"):
        want = inv.plan_orders(mu=hm[0][:m], alpha=hm[1][:m], lead_time=hm[2][:m], on_hand=hm[3][:m],
                               on_order=hm[4][:m], method=method, **{**kw, "case_pack": hm[5][:m]})
        got = inv.plan_orders(mu=mu[:m], alpha=alpha[:m], lead_time=lead[:m], on_hand=oh[:m], on_order=oo[:m],
                              method=method, **{**kw, "case_pack": pack[:m]})
        check(f"plan_orders {method} GPU == CPU (2e5 rows)", bool((cp.asnumpy(got.order) == want.order).all()))
        tc = median_time(lambda: inv.plan_orders(mu=hm[0], alpha=hm[1], lead_time=hm[2], on_hand=hm[3],  # noqa: B023
                                                 on_order=hm[4], method=method, **{**kw, "case_pack": hm[5]}),  # noqa: B023
                         repeats=3)
        report(f"plan_orders {n:.0e} SKUs {method}", "skucast CPU, all cores", tc, n, None, gpu_time[method])


def bench_allocate_simulate(n_alloc, n_sim, days):
    rs = np.random.default_rng(5)
    locs = 50
    mu = 10 ** rs.uniform(-1, 1.5, (n_alloc, locs))
    alpha = rs.uniform(0.05, 1.0, (n_alloc, locs))
    oh = rs.integers(0, 5, (n_alloc, locs))
    supply = rs.integers(0, 40 * locs, n_alloc)
    d = [cp.asarray(a) for a in (supply, mu, alpha, oh)]
    case = f"allocate {n_alloc:.0e} x {locs}"
    t = median_time(lambda: inv.allocate(d[0], mu=d[1], alpha=d[2], on_hand=d[3]), repeats=5)
    report(case, "skucast GPU", t, n_alloc * locs)
    tc = median_time(lambda: inv.allocate(supply, mu=mu, alpha=alpha, on_hand=oh), repeats=3)
    report(case, "skucast CPU, all cores", tc, n_alloc * locs, None, t)

    ddem = cp.random.RandomState(5).negative_binomial(2, 0.3, (n_sim, days)).astype(cp.int32)
    dem = cp.asnumpy(ddem)
    S = rs.integers(5, 60, n_sim)
    L = rs.integers(0, 9, n_sim)
    kw = dict(S=S, lead_time=L, review_period=7, moq=2, case_pack=3, max_order=90)
    case = f"simulate {n_sim:.0e} x {days} days"
    got = inv.simulate(ddem, **kw)
    want = inv.simulate(dem, **kw)
    check(f"{case} GPU == CPU", bool((cp.asnumpy(got.sold_units) == want.sold_units).all()
                                     and (cp.asnumpy(got.num_orders) == want.num_orders).all()))
    t = median_time(lambda: inv.simulate(ddem, **kw), repeats=5)
    report(case, "skucast GPU", t, n_sim * days, dem.nbytes, note="row-days/s")
    tc = median_time(lambda: inv.simulate(dem, **kw), repeats=3)
    report(case, "skucast CPU, all cores", tc, n_sim * days, None, t)


def bench_sample_levels(n, k=200, h=28):
    """order_up_to from a forecast's sample paths (n series x k paths x h days, int64), csl by the
    empirical quantile and fill rate by the empirical loss function: GPU vs all CPU cores."""
    rs = np.random.default_rng(5)
    x = rs.negative_binomial(1.2, 0.25, (n, k, h)).astype(np.int64)
    lead = rs.integers(1, 15, n)
    xd, ld = cp.asarray(x), cp.asarray(lead)
    for target in ("csl", "fill_rate"):
        case = f"order_up_to samples ({n},{k},{h}) {target}"
        kw = dict(review_period=7, service_level=0.95, target=target)
        got = inv.order_up_to(samples=xd, lead_time=ld, **kw)
        want = inv.order_up_to(samples=x, lead_time=lead, **kw)
        check(f"{case}: S and s equal the CPU's", bool(np.array_equal(cp.asnumpy(got.S), want.S)
                                                       and np.array_equal(cp.asnumpy(got.s), want.s)))
        t = median_time(lambda: inv.order_up_to(samples=xd, lead_time=ld, **kw), repeats=5)  # noqa: B023
        report(case, "skucast GPU", t, n * k * h, x.nbytes)
        report(case, "skucast CPU, all cores", median_time(lambda: inv.order_up_to(samples=x, lead_time=lead, **kw),  # noqa: B023
                                                            repeats=3, warmup=1), n * k * h, None, t)


def bench_models(copies):
    """DeepAR sample paths (the demo's shipped model, 200 paths x its horizon) for `copies` copies of
    the shipped 300-series M5 CA_1 slice: Forecaster.predict on the GPU vs on all CPU cores."""
    import pandas as pd
    from skucast import demo
    f, _ = demo.load_forecaster("deepar")
    data = demo.load_slice()
    spec = f.spec
    end = data.sales.shape[1]
    df = demo.long_frame(data, end, end - max(spec["lags"]) - spec["context_length"])
    big = pd.concat([df.assign(unique_id=df.unique_id + f"#{c}") for c in range(copies)], ignore_index=True)
    n, h, S = big.unique_id.nunique(), f.horizon, 200
    case = f"DeepAR {n} series x {S} paths x {h} days"
    kw = dict(horizon=h, num_samples=S, seed=0)
    gpu = f.predict(big, device="cuda", **kw)
    cpu = f.predict(big, **kw)
    same = float(np.mean(gpu.samples == cpu.samples))
    check(f"{case}: GPU paths equal the CPU's in {100 * same:.2f}% of draws (> 95%)", same > 0.95)
    check(f"{case}: mean {gpu.samples.mean():.4f} (GPU) vs {cpu.samples.mean():.4f} (CPU)",
          abs(gpu.samples.mean() / cpu.samples.mean() - 1) < 0.02)
    t = median_time(lambda: f.predict(big, device="cuda", **kw), repeats=3, warmup=0)
    report(case, "Forecaster.predict GPU", t, n * S * h)
    report(case, "Forecaster.predict CPU", median_time(lambda: f.predict(big, **kw), repeats=2, warmup=0),
           n * S * h, None, t, note=f"{torch.get_num_threads()} torch threads, {skucast.get_num_threads()} skucast")


def main():
    global BANDWIDTH
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--only", nargs="*")
    args = ap.parse_args()
    k = 10 if args.quick else 1
    props = cp.cuda.runtime.getDeviceProperties(0)
    info = dict(gpu=props["name"].decode(), sms=props["multiProcessorCount"], l2_mb=props["l2CacheSize"] / 2**20,
                memory_gb=props["totalGlobalMem"] / 1e9, cupy=cp.__version__, torch=torch.__version__,
                skucast=skucast.build_info(), host=platform.processor() or platform.machine(),
                cpu_threads=skucast.get_num_threads() if hasattr(skucast, "get_num_threads") else None)
    print(json.dumps(info, default=str), flush=True)
    BANDWIDTH = copy_bandwidth()
    print(f"copy bandwidth (read + write): {BANDWIDTH / 1e9:.0f} GB/s", flush=True)
    print("| case | impl | median | M elem/s | achieved / of copy bw | t / t_skucast | note")
    print("|---|---|---|---|---|---|---|")
    parts = {
        "nbinom": lambda: bench_nbinom(100_000_000 // k),
        "quantiles": lambda: (bench_quantiles((10_000_000 // k, 100), [0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.98, 0.99]),
                              bench_quantiles((1_000_000 // k, 200), [0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.98, 0.99]),
                              bench_forecast_layout(30_490 // k, 200, 28, [0.005, 0.025, 0.165, 0.25, 0.5, 0.75, 0.835,
                                                                           0.975, 0.995])),
        "aggregates": lambda: bench_aggregates(500_000 // k, 100, 28),
        "inventory": lambda: bench_inventory(10_000_000 // k),
        "sample_levels": lambda: bench_sample_levels(30_490 // k),
        "allocate_simulate": lambda: bench_allocate_simulate(100_000 // k, 1_000_000 // k, 365),
        "models": lambda: bench_models(1 if args.quick else 10),
    }
    for name, fn in parts.items():
        if args.only and name not in args.only:
            continue
        try:
            fn()
        except Exception as e:  # report and go on: one broken part must not hide the others
            import traceback
            traceback.print_exc()
            failures.append(f"{name}: {type(e).__name__}: {e}")
        cp.get_default_memory_pool().free_all_blocks()
        torch.cuda.empty_cache()
    OUT_DIR.mkdir(exist_ok=True)
    out = OUT_DIR / ("gpu_quick.json" if args.quick else "gpu.json")
    out.write_text(json.dumps(dict(info=info, copy_bandwidth=BANDWIDTH, rows=rows, failures=failures), indent=1,
                              default=str))
    if failures:
        print("## FAILURES\n" + "\n".join(failures))
        sys.exit(1)


if __name__ == "__main__":
    main()
