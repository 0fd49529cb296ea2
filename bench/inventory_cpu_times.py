#!/usr/bin/env python
"""Issue 3's inventory goals on a shared machine: per-thread CPU time (time.thread_time) of both
sides at 1 thread, which other jobs on the machine disturb far less than wall time.

    python bench/inventory_cpu_times.py [--with-day-loop]      # uses the skucast on sys.path

Same workloads as bench_inventory_policy.py (1e7 rows; exact NB on the first 1e6, x10) and
bench_inventory_sim.py (allocate 1e5 x 50, strong heap loop on 300 SKUs scaled; simulate
1e6 x 365, numpy day loop on all rows with --with-day-loop, ~10 s). Best of 3 (exact: 2).
Not a replacement for the wall-clock benchmarks on a quiet machine.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import skucast  # noqa: E402
from skucast import inventory as inv  # noqa: E402
from bench_inventory_policy import make_rows, numpy_normal  # noqa: E402
from bench_inventory_sim import alloc_data, heap_strong, numpy_day_loop  # noqa: E402


def cpu(f, reps=3):
    f()
    best = float("inf")
    for _ in range(reps):
        c0 = time.thread_time()
        f()
        best = min(best, time.thread_time() - c0)
    return best


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--with-day-loop", action="store_true")
    args = ap.parse_args()
    skucast.set_num_threads(1)
    out = {}
    n = 10_000_000
    mu, alpha, lead, oh, oo = make_rows(n)
    kw = dict(review_period=7, case_pack=6, moq=6)
    out["plan_orders normal, 1e7"] = cpu(lambda: inv.plan_orders(mu=mu, alpha=alpha, lead_time=lead, on_hand=oh,
                                                                 on_order=oo, method="normal", **kw))
    out["numpy blocked normal, 1e7"] = cpu(lambda: numpy_normal(mu, alpha, lead, oh, oo, 7, 6, 6, 1))
    k = n // 10
    out["plan_orders exact, 1e7 (1e6 x10)"] = 10 * cpu(lambda: inv.plan_orders(
        mu=mu[:k], alpha=alpha[:k], lead_time=lead[:k], on_hand=oh[:k], on_order=oo[:k], method="exact", **kw), 2)
    del mu, alpha, lead, oh, oo
    supply, amu, aal, aoh = alloc_data(100_000, 50)
    out["allocate 1e5 x 50"] = cpu(lambda: inv.allocate(supply, mu=amu, alpha=aal, on_hand=aoh))
    c0 = time.thread_time()
    for i in range(300):
        heap_strong(supply[i], amu[i], aal[i], aoh[i])
    out["heap loop (strong), 300 SKUs x333"] = (time.thread_time() - c0) * 100_000 / 300
    n, T, L, R = 1_000_000, 365, 3, 7
    rng = np.random.default_rng(7)
    smu = rng.gamma(1.0, 3.0, size=n)
    d = np.empty((n, T), np.int32)
    for lo in range(0, n, 100_000):
        hi = min(n, lo + 100_000)
        d[lo:hi] = rng.poisson(smu[lo:hi, None], size=(hi - lo, T))
    S = np.ceil(1.3 * smu * (L + R)).astype(np.int64) + 1
    out["simulate 1e6 x 365"] = cpu(lambda: inv.simulate(d, S=S, lead_time=L, review_period=R))
    if args.with_day_loop:
        c0 = time.thread_time()
        numpy_day_loop(d, S, L, R)
        out["numpy day loop 1e6 x 365"] = time.thread_time() - c0
    for name, t in out.items():
        print(f"{name:<40} {t * 1e3:10.1f} ms cpu")


if __name__ == "__main__":
    main()
