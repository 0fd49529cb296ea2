#!/usr/bin/env python
"""optimize_targets / efficient_frontier benchmark (issue 7).

    PYTHONPATH=python python bench/bench_inventory_targets.py [--n 1000000] [--threads 1 2]

1e6 SKUs (NB protection-interval demand, gamma means, lognormal unit costs): one budget
(optimize_targets, budget mode), one portfolio fill target, and a 20-point frontier
(efficient_frontier over 20 budgets, statistics only), at 1 and 2 threads. Baseline: what a user
would write in numpy/scipy, the same threshold search vectorised (bisection on lambda, 60 steps of
scipy.stats.nbinom.ppf over all SKUs, no tie hand-out), timed on 1e5 SKUs and scaled to n.
Peak memory: each case in a fresh subprocess, ru_maxrss minus the RSS after the inputs were built.
Prints markdown; writes bench/out/inventory_targets.json.
"""
from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness as H  # noqa: E402

import skucast  # noqa: E402
from skucast.inventory import efficient_frontier, optimize_targets  # noqa: E402


def data(n, seed=7):
    rng = np.random.default_rng(seed)
    mu = rng.gamma(0.6, 6.0, n) + 0.01
    alpha = rng.uniform(0.05, 1.0, n)
    cost = rng.lognormal(1.0, 1.0, n)
    return mu, alpha, cost


def rss_mib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def case(name, n, thr):
    """Runs one case in this (fresh) process; prints a JSON line."""
    mu, alpha, cost = data(n)
    skucast.set_num_threads(thr)
    budget = float((cost * mu).sum() * 1.3)
    before = rss_mib()
    t0 = time.perf_counter()
    if name == "budget":
        r = optimize_targets(mu=mu, alpha=alpha, cost=cost, budget=budget)
        info = dict(fill_rate=r.total_fill_rate, value=r.total_value)
    elif name == "fill":
        r = optimize_targets(mu=mu, alpha=alpha, cost=cost, fill_rate=0.95)
        info = dict(fill_rate=r.total_fill_rate, value=r.total_value)
    elif name == "frontier20":
        f = efficient_frontier(mu=mu, alpha=alpha, cost=cost, budgets=budget * np.linspace(0.5, 2.5, 20))
        info = dict(fill_rate_first=float(f.fill_rate[0]), fill_rate_last=float(f.fill_rate[-1]))
    else:  # numpy/scipy threshold search on a subset
        import scipy.stats
        m = n
        nb_n, nb_p = 1 / alpha, 1 / (1 + alpha * mu)
        lo, hi = np.log(1e-12 / cost.max()), np.log(1 / cost.min())
        for _ in range(60):
            lam = np.exp(0.5 * (lo + hi))
            S = scipy.stats.nbinom.ppf(1 - np.clip(lam * cost, 1e-12, 1), nb_n, nb_p)
            if (S * cost).sum() > budget:
                lo = np.log(lam)
            else:
                hi = np.log(lam)
        info = dict(subset=m)
    dt = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(dict(case=name, n=n, threads=thr, seconds=dt, peak_extra_mib=peak - before, **info)))


def run(name, n, thr):
    out = subprocess.run([sys.executable, __file__, "--case", name, "--n", str(n), "--threads", str(thr)],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--case")
    args = ap.parse_args()
    if args.case:
        case(args.case, args.n, args.threads[0])
        return
    info = H.machine_info()
    rows = []
    n_base = min(args.n, 100_000)
    for thr in args.threads:
        for name in ("budget", "fill", "frontier20"):
            r = run(name, args.n, thr)
            rows.append(r)
            print(f"  {name:<11} n={args.n:,} thr={thr}: {r['seconds']:.2f} s, peak +{r['peak_extra_mib']:.0f} MiB", flush=True)
    b = run("numpy_baseline", n_base, 1)
    b["seconds_scaled"] = b["seconds"] * args.n / n_base
    print(f"  numpy/scipy bisection (60 ppf passes), {n_base:,} SKUs: {b['seconds']:.2f} s "
          f"-> {b['seconds_scaled']:.1f} s scaled to {args.n:,}", flush=True)
    print("\n| case | SKUs | threads | time | SKUs/s | peak extra memory |")
    print("|---|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['case']} | {r['n']:,} | {r['threads']} | {r['seconds']:.2f} s | "
              f"{r['n'] / r['seconds'] / 1e6:.2f} M | {r['peak_extra_mib']:.0f} MiB |")
    print(f"| numpy/scipy bisection baseline (budget) | {n_base:,} (scaled to {args.n:,}) | 1 | "
          f"{b['seconds_scaled']:.1f} s | {args.n / b['seconds_scaled'] / 1e6:.3f} M | - |")
    H.OUT_DIR.mkdir(exist_ok=True)
    (H.OUT_DIR / "inventory_targets.json").write_text(json.dumps(dict(machine=info, rows=rows, baseline=b), indent=1,
                                                               default=str))


if __name__ == "__main__":
    main()
