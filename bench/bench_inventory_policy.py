#!/usr/bin/env python
"""order_up_to + replenish for 1e7 rows from NB parameters: skucast vs numpy.

    python bench/bench_inventory_policy.py [--rows 10000000] [--threads 1 2] [--accuracy-rows 3000]

Workload (per row, M5-like): daily mean mu log-uniform in [0.05, 50], alpha log-uniform in
[0.01, 3], both constant over the protection interval; lead time per row uniform 1..14 days,
review period 7 days (scalar), on_hand in 0..200, on_order in 0..60 (per row), case pack 6,
moq 6 (scalars), policy (R, S), service level 0.95 (csl).

* numpy baseline: the same normal-approximation formula S = ceil(m + z sd) and the same rules
  (cases, moq), vectorized in blocks of 64k rows with preallocated buffers and in-place ufuncs
  (cache-resident temporaries), split over the threads with harness.run_chunked.
* skucast normal two-step: order_up_to(method="normal") then replenish(S=...).
* skucast fused: plan_orders (= replenish with mu/alpha) in one pass, method "normal" and "exact".
  Fused bytes/row: reads mu, alpha, lead_time, on_hand, on_order (5 x 8 B), writes order (8 B)
  and reason (1 B): 49 B/row; the bandwidth fraction is against harness.bandwidth_probe.
* accuracy: S of the NB methods vs the true convolution over M5-like cases whose daily
  alpha*mu is NOT constant (weekly pattern and day noise on mu, per-row alpha), with times.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness as H  # noqa: E402
from harness import fmt_time, run_chunked, threads  # noqa: E402

import skucast  # noqa: E402
from skucast import inventory as inv  # noqa: E402

Z95 = 1.6448536269514722
BLOCK = 1 << 16


def make_rows(n, seed=0):
    rng = np.random.default_rng(seed)
    mu = np.exp(rng.uniform(np.log(0.05), np.log(50), n))
    alpha = np.exp(rng.uniform(np.log(0.01), np.log(3), n))
    lead = rng.integers(1, 15, n, dtype=np.int64)
    on_hand = rng.integers(0, 201, n, dtype=np.int64)
    on_order = rng.integers(0, 61, n, dtype=np.int64)
    return mu, alpha, lead, on_hand, on_order


def numpy_normal(mu, alpha, lead, on_hand, on_order, review, cp, moq, nthreads):
    """Blocked, in-place numpy of S = ceil(m + z sd); order = max(S - IP, 0) in cases, >= moq.
    Returns a new order array per call, as skucast does (its page faults are part of the cost)."""
    moq_c = -(-moq // cp) * cp
    order = np.empty(mu.size, np.int64)

    def work(lo, hi):
        b = min(BLOCK, hi - lo)
        days, m, v, t = (np.empty(b) for _ in range(4))
        ip, q = np.empty(b, np.int64), np.empty(b, np.int64)
        for s in range(lo, hi, BLOCK):
            e = min(s + BLOCK, hi)
            k = e - s
            d, mm, vv, tt, ipp, qq = days[:k], m[:k], v[:k], t[:k], ip[:k], q[:k]
            np.add(lead[s:e], review, out=d)
            np.multiply(mu[s:e], d, out=mm)                  # m = (L+R) mu
            np.multiply(alpha[s:e], mu[s:e], out=vv)
            np.add(vv, 1.0, out=vv)
            np.multiply(vv, mm, out=vv)                      # v = (L+R)(mu + alpha mu^2)
            np.sqrt(vv, out=vv)
            np.multiply(vv, Z95, out=vv)
            np.add(vv, mm, out=vv)
            np.ceil(vv, out=vv)                              # S (float)
            np.add(on_hand[s:e], on_order[s:e], out=ipp)
            np.subtract(vv, ipp, out=tt)                     # S - IP
            np.maximum(tt, 0, out=tt)
            np.divide(tt, cp, out=tt)
            np.ceil(tt, out=tt)
            np.multiply(tt, cp, out=tt)                      # whole cases
            qq[...] = tt
            np.copyto(qq, moq_c, where=(qq > 0) & (qq < moq_c))
            order[s:e] = qq

    run_chunked(work, mu.size, nthreads)
    return order


def numpy_normal_naive(mu, alpha, lead, on_hand, on_order, review, cp, moq, nthreads):
    """The same formula written the usual way (whole-array temporaries), chunked over threads."""
    moq_c = -(-moq // cp) * cp

    def work(lo, hi):
        d = lead[lo:hi] + review
        m = mu[lo:hi] * d
        S = np.ceil(m + Z95 * np.sqrt(d * (mu[lo:hi] + alpha[lo:hi] * mu[lo:hi] ** 2)))
        q = np.maximum(S - (on_hand[lo:hi] + on_order[lo:hi]), 0)
        q = (np.ceil(q / cp) * cp).astype(np.int64)
        return np.where((q > 0) & (q < moq_c), moq_c, q)

    return np.concatenate(run_chunked(work, mu.size, nthreads))


def accuracy_study(n_rows, seed=1):
    rng = np.random.default_rng(seed)
    Hd = 28
    base = np.exp(rng.uniform(np.log(0.05), np.log(50), n_rows))
    week = 1 + 0.4 * np.sin(2 * np.pi * (np.arange(Hd) + rng.integers(0, 7, n_rows)[:, None]) / 7)
    mu = base[:, None] * week * np.exp(rng.normal(0, 0.2, (n_rows, Hd)))
    alpha = np.exp(rng.uniform(np.log(0.01), np.log(3), n_rows))[:, None]
    LR = rng.integers(1, 29, n_rows)
    L = rng.integers(0, LR + 1)
    R = LR - L
    m = (mu * (np.arange(Hd) < LR[:, None])).sum(1)
    rows = []
    old = inv._policy.EXACT_CONVOLUTION_MEAN
    try:
        for tgt in ("csl", "fill_rate"):
            for q in (0.9, 0.95, 0.99):
                kw = dict(mu=mu, alpha=alpha, lead_time=L, review_period=R, service_level=q, target=tgt)
                t0 = time.perf_counter()
                conv = inv.order_up_to(method="convolution", **kw).S
                t_conv = time.perf_counter() - t0
                res = {"target": tgt, "q": q, "conv_ms_per_1k": f"{t_conv / n_rows * 1e6:.1f}"}
                for name, meth, thr in [("moment", "moment", 0), ("exact", "exact", float("inf")),
                                        ("exact64", "exact", 64.0), ("normal", "normal", 0)]:
                    inv._policy.EXACT_CONVOLUTION_MEAN = thr
                    t0 = time.perf_counter()
                    S = inv.order_up_to(method=meth, **kw).S
                    dt = time.perf_counter() - t0
                    d = np.abs(S - conv)
                    res[name] = f"{np.mean(d == 0) * 100:.2f}% / {int(d.max())} / {dt / n_rows * 1e6:.1f}"
                big = m > 64
                res["moment_eq_mean_gt64"] = f"{np.mean((inv.order_up_to(method='moment', **kw).S == conv)[big]) * 100:.1f}%"
                rows.append(res)
                print(res, flush=True)
    finally:
        inv._policy.EXACT_CONVOLUTION_MEAN = old
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--accuracy-rows", type=int, default=3000)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()

    info = H.machine_info()
    bw = H.bandwidth_probe(tuple(args.threads), nbytes=2**29)
    print(H.machine_header(info, bw, 2**29), flush=True)
    n = args.rows
    mu, alpha, lead, on_hand, on_order = make_rows(n)
    review, cp, moq = 7, 6, 6
    fused_bytes = n * (5 * 8 + 8 + 1)
    rows = []
    for t in args.threads:
        with threads(t):
            order_np = numpy_normal(mu, alpha, lead, on_hand, on_order, review, cp, moq, t)

            def two_step():
                lv = inv.order_up_to(mu=mu, alpha=alpha, lead_time=lead, review_period=review, method="normal")
                return inv.replenish(on_hand=on_hand, on_order=on_order, S=lv.S, case_pack=cp, moq=moq)

            def fused(method):
                return inv.plan_orders(mu=mu, alpha=alpha, lead_time=lead, review_period=review, on_hand=on_hand,
                                       on_order=on_order, case_pack=cp, moq=moq, method=method)

            ref = two_step()
            np.testing.assert_array_equal(ref.order, order_np)  # the baseline computes the same orders
            np.testing.assert_array_equal(fused("normal").order, order_np)
            np.testing.assert_array_equal(numpy_normal_naive(mu, alpha, lead, on_hand, on_order, review, cp, moq, t),
                                          order_np)
            # every side in alternating rounds (a slow spell of the shared VM falls on all of them)
            med = H.timeit_interleaved({
                "numpy": lambda: numpy_normal(mu, alpha, lead, on_hand, on_order, review, cp, moq, t),
                "naive": lambda: numpy_normal_naive(mu, alpha, lead, on_hand, on_order, review, cp, moq, t),
                "two_step": two_step, "normal": lambda: fused("normal"), "exact": lambda: fused("exact"),
            }, repeats=args.repeats)
            t_np, t_naive, t_two, t_fn, t_fe = (med[k] for k in ("numpy", "naive", "two_step", "normal", "exact"))
            probe = bw[str(t)]
            r = {"threads": t, "numpy": fmt_time(t_np), "numpy_naive": fmt_time(t_naive),
                 "speedup_naive": f"{t_naive / t_fn:.2f}x", "two_step": fmt_time(t_two), "fused_normal": fmt_time(t_fn),
                 "fused_exact": fmt_time(t_fe),
                 "speedup_two_step": f"{t_np / t_two:.2f}x", "speedup_fused": f"{t_np / t_fn:.2f}x",
                 "fused_GBs": f"{fused_bytes / t_fn / 1e9:.1f}",
                 "bw_frac": f"{fused_bytes / t_fn / 1e9 / probe * 100:.0f}%",
                 "exact_over_normal": f"{t_fe / t_fn:.2f}x"}
            rows.append(r)
            print(r, flush=True)
    cols = [("threads", "threads"), ("numpy_naive", "numpy normal (whole arrays)"), ("numpy", "numpy normal (blocked)"), ("two_step", "skucast normal 2-step"),
            ("fused_normal", "skucast fused normal"), ("fused_exact", "skucast fused exact NB"),
            ("speedup_two_step", "2-step vs numpy"), ("speedup_fused", "fused vs blocked numpy"), ("speedup_naive", "fused vs whole-array numpy"),
            ("fused_GBs", "fused GB/s"), ("bw_frac", "of probe BW"), ("exact_over_normal", "exact / normal")]
    print(H.markdown_table(rows, cols))
    acc = accuracy_study(args.accuracy_rows) if args.accuracy_rows else []
    if acc:
        acols = [("target", "target"), ("q", "level"), ("moment", "moment NB: equal % / max |dS| / us per row"),
                 ("exact", "exact (default: convolved): ..."), ("exact64", "exact, EXACT_CONVOLUTION_MEAN = 64: ..."),
                 ("normal", "normal: ..."), ("moment_eq_mean_gt64", "moment equal, mean > 64"),
                 ("conv_ms_per_1k", "convolution us/row")]
        print(H.markdown_table(acc, acols))
    H.write_json("inventory_policy", {"machine": info, "bandwidth": bw, "rows": rows, "accuracy": acc})


if __name__ == "__main__":
    main()
