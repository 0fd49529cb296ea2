#!/usr/bin/env python
"""Allocation and policy-simulation benchmark: skucast vs what a user would otherwise write.

    python bench/bench_inventory_sim.py [--threads 1 2] [--quick]

allocate: 1e5 SKUs x 50 locations (NB demand) vs Python heap loops (unit by unit greedy),
timed on a subset of SKUs and scaled (a Python loop holds the GIL: threads do not help it).
simulate: 1e6 rows x 365 days, RS policy, L = 3, R = 7, lost sales, vs a numpy day loop
vectorised over rows (chunked over threads like every numpy baseline here).
Each baseline is checked against skucast first. Prints markdown; writes bench/out/inventory_sim.json.
"""
from __future__ import annotations

import argparse
import heapq
import resource
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness as H  # noqa: E402
from harness import fmt_time, run_chunked, threads, timeit_interleaved, timeit_median  # noqa: E402

import scipy.stats  # noqa: E402
import skucast  # noqa: E402
from skucast.inventory import allocate, simulate  # noqa: E402

ROWS, GOALS, CHECKS = [], [], []


def record(section, case, impl, thr, n_units, t, unit, ref_t=None, note=""):
    row = dict(section=section, case=case, impl=impl, threads=thr, median=fmt_time(t), median_s=t,
               rate=f"{n_units / t / 1e6:,.2f} M {unit}/s", ratio="1.00" if ref_t is None else f"{t / ref_t:,.1f}x",
               note=note)
    ROWS.append(row)
    print(f"  [{section}] {impl:<44} thr={thr} {row['median']:>10} {row['rate']:>22} {row['ratio']:>8} {note}",
          flush=True)


def check(name, ok, detail=""):
    CHECKS.append(dict(check=name, ok=bool(ok), detail=detail))
    print(f"  check {name}: {'ok' if ok else 'FAILED'} {detail}", flush=True)


# --------------------------------------------------------------------------- allocate
def alloc_data(n, m, seed=3):
    rng = np.random.default_rng(seed)
    mu = rng.gamma(1.0, 3.0, size=(n, m)) + 0.05  # period demand per store, mean ~3
    alpha = rng.uniform(0.0, 1.0, size=(n, m))
    oh = rng.poisson(0.5 * mu)
    supply = np.maximum(0, np.round(1.1 * mu.sum(1) - oh.sum(1))).astype(np.int64)
    return supply, mu, alpha, oh


def nb_sf(y, mu, alpha):
    return scipy.stats.nbinom.sf(y, 1.0 / alpha, 1.0 / (1.0 + alpha * mu))


def heap_strong(supply, mu, alpha, oh):
    """One scipy call per SKU for the first increments, then a pure-Python heap over locations
    with the next increment from the pmf recurrence (no scipy in the loop)."""
    m = len(mu)
    x = [0] * m
    sf0 = nb_sf(oh - 1, mu, alpha)             # P(D >= oh) ... increment of unit 1 is P(D >= oh + 1)
    pmf = scipy.stats.nbinom.pmf(oh, 1.0 / alpha, 1.0 / (1.0 + alpha * mu))
    sf = list(sf0 - pmf)                       # P(D > oh) = P(D >= oh + 1)
    pm = list(pmf)
    ys = [int(v) for v in oh]
    r = [float(a) for a in mu / (1.0 + alpha * mu)]
    al = [float(a) for a in alpha]
    h = [(-sf[l], l) for l in range(m)]
    heapq.heapify(h)
    for _ in range(int(supply)):
        g, l = heapq.heappop(h)
        x[l] += 1
        y = ys[l]
        pm[l] *= r[l] * (1.0 + al[l] * y) / (y + 1)   # pmf(y + 1)
        ys[l] = y + 1
        sf[l] -= pm[l]                                 # P(D > y + 1)
        heapq.heappush(h, (-sf[l], l))
    return x


def heap_naive(supply, mu, alpha, oh):
    """The textbook loop: a heap of (-P(D >= stock + 1), location), scipy for each increment."""
    m = len(mu)
    x = [0] * m
    h = [(-float(nb_sf(oh[l], mu[l], alpha[l])), l) for l in range(m)]
    heapq.heapify(h)
    for _ in range(int(supply)):
        g, l = heapq.heappop(h)
        x[l] += 1
        heapq.heappush(h, (-float(nb_sf(oh[l] + x[l], mu[l], alpha[l])), l))
    return x


def expected_sales(x, mu, alpha, oh):
    stock = np.asarray(x) + oh
    K = int(stock.max()) + 1
    y = np.arange(K)
    sf = nb_sf(y[None, :], mu[:, None], alpha[:, None])
    return float((sf * (y[None, :] < stock[:, None])).sum())


def bench_allocate(cfg):
    print("\n## allocate", flush=True)
    n, m = cfg.alloc_n, 50
    supply, mu, alpha, oh = alloc_data(n, m)
    case = f"{n:.0e} SKUs x {m} locations, mean supply {supply.mean():.0f} units/SKU"
    X = allocate(supply, mu=mu, alpha=alpha, on_hand=oh)
    check("allocate sums to supply", bool((X.sum(1) == supply).all()))
    sub_strong, sub_naive = min(n, cfg.strong_subset), min(n, cfg.naive_subset)
    worst = 0.0
    for i in range(min(sub_strong, 50)):
        xs = heap_strong(supply[i], mu[i], alpha[i], oh[i])
        a, b = expected_sales(X[i], mu[i], alpha[i], oh[i]), expected_sales(xs, mu[i], alpha[i], oh[i])
        worst = max(worst, abs(a - b) / max(b, 1e-300))
    check("heap (strong) expected sales == skucast", worst < 1e-9, f"max rel diff {worst:.1e} over 50 SKUs")
    t0 = time.perf_counter()
    for i in range(sub_strong):
        heap_strong(supply[i], mu[i], alpha[i], oh[i])
    t_strong = (time.perf_counter() - t0) * n / sub_strong
    t0 = time.perf_counter()
    for i in range(sub_naive):
        heap_naive(supply[i], mu[i], alpha[i], oh[i])
    t_naive = (time.perf_counter() - t0) * n / sub_naive
    for thr in cfg.threads:
        with threads(thr):
            t = timeit_median(lambda: allocate(supply, mu=mu, alpha=alpha, on_hand=oh), repeats=3, warmup=1)
        record("allocate", case, "skucast.inventory.allocate", thr, n * m, t, "SKU-locations")
        record("allocate", case, "heapq + pmf recurrence (strong Python)", thr, n * m, t_strong, "SKU-locations",
               ref_t=t, note=f"timed on {sub_strong} SKUs, scaled x{n / sub_strong:g}; GIL-bound")
        record("allocate", case, "heapq + scipy sf per unit (naive Python)", thr, n * m, t_naive, "SKU-locations",
               ref_t=t, note=f"timed on {sub_naive} SKUs, scaled x{n / sub_naive:g}; GIL-bound")
        GOALS.append(dict(goal="allocate vs Python heap loop (strong)", threads=thr, ratio=f"{t_strong / t:,.1f}x",
                          target=">= 100x", met="yes" if t_strong / t >= 100 else "NO"))
        GOALS.append(dict(goal="allocate vs Python heap loop (naive)", threads=thr, ratio=f"{t_naive / t:,.1f}x",
                          target=">= 100x", met="yes" if t_naive / t >= 100 else "NO"))


# --------------------------------------------------------------------------- simulate
def numpy_day_loop(d, S, L, R):
    """RS, lost sales, fixed L for all rows, first review on day 0, initial stock S."""
    n, T = d.shape
    on_hand = S.astype(np.int64).copy()
    pipe = np.zeros((L, n), np.int64)
    on_order = np.zeros(n, np.int64)
    sold_tot = np.zeros(n, np.int64)
    so_days = np.zeros(n, np.int64)
    orders = np.zeros(n, np.int64)
    oh_sum = np.zeros(n, np.int64)
    dT = np.ascontiguousarray(d.T)  # (T, n): each day's demand contiguous (part of the timed work)
    for t in range(T):
        slot = t % L
        on_hand += pipe[slot]
        on_order -= pipe[slot]
        pipe[slot] = 0
        if t % R == 0:
            q = np.maximum(S - on_hand - on_order, 0)
            pipe[slot] = q
            on_order += q
            orders += q > 0
        dt = dT[t]
        sold = np.minimum(dt, on_hand)
        on_hand -= sold
        sold_tot += sold
        so_days += dt > sold
        oh_sum += on_hand
    return sold_tot, so_days, orders, oh_sum


def bench_simulate(cfg):
    print("\n## simulate", flush=True)
    n, T, L, R = cfg.sim_n, 365, 3, 7
    rng = np.random.default_rng(7)
    mu = rng.gamma(1.0, 3.0, size=n).astype(np.float64)
    d = np.empty((n, T), np.int32)
    step = 100_000
    for lo in range(0, n, step):  # daily Poisson around a per-row mean, generated in blocks
        hi = min(n, lo + step)
        d[lo:hi] = rng.poisson(mu[lo:hi, None], size=(hi - lo, T))
    S = np.ceil(1.3 * mu * (L + R)).astype(np.int64) + 1
    case = f"{n:.0e} rows x {T} days, RS L={L} R={R}, lost sales, int32 demand"
    res = simulate(d, S=S, lead_time=L, review_period=R)
    k = min(n, 20000)
    ref = numpy_day_loop(d[:k], S[:k], L, R)
    ok = (np.array_equal(ref[0], res.sold_units[:k]) and np.array_equal(ref[1], res.stockout_days[:k])
          and np.array_equal(ref[2], res.num_orders[:k]) and np.allclose(ref[3] / T, res.avg_on_hand[:k], rtol=1e-12))
    check("numpy day loop == skucast (sold, stockout days, orders, on-hand)", ok, f"first {k} rows")
    for thr in cfg.threads:
        with threads(thr):
            # alternating rounds: the day loop's time swings by tens of percent from run to run here
            med = timeit_interleaved({
                "skucast": lambda: simulate(d, S=S, lead_time=L, review_period=R),
                "numpy": lambda: run_chunked(lambda lo, hi: numpy_day_loop(d[lo:hi], S[lo:hi], L, R), n),
            }, repeats=3, warmup=0)
            t, tn = med["skucast"], med["numpy"]
        record("simulate", case, "skucast.inventory.simulate", thr, n * T, t, "row-days")
        record("simulate", case, "numpy day loop (vectorised over rows)", thr, n * T, tn, "row-days", ref_t=t,
               note="chunked over threads")
        GOALS.append(dict(goal="simulate vs numpy day loop", threads=thr, ratio=f"{tn / t:,.1f}x", target=">= 10x",
                          met="yes" if tn / t >= 10 else "NO"))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args(argv)
    cfg = argparse.Namespace(threads=args.threads, alloc_n=100_000, strong_subset=1000, naive_subset=40,
                             sim_n=1_000_000)
    if args.quick:
        cfg.alloc_n, cfg.strong_subset, cfg.naive_subset, cfg.sim_n = 10_000, 200, 10, 50_000
    info = H.machine_info()
    print(H.machine_header(info), flush=True)
    t0 = time.perf_counter()
    bench_allocate(cfg)
    bench_simulate(cfg)
    total = time.perf_counter() - t0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print()
    H.print_table(ROWS, [("section", "kernel"), ("case", "case"), ("impl", "implementation"), ("threads", "thr"),
                         ("median", "median"), ("rate", "rate"), ("ratio", "t / t_skucast"), ("note", "note")])
    print()
    H.print_table(GOALS, [("goal", "goal"), ("threads", "thr"), ("ratio", "ratio"), ("target", "target"),
                          ("met", "met")])
    print(f"\nchecks: {sum(c['ok'] for c in CHECKS)}/{len(CHECKS)} ok; peak RSS {rss:.1f} GiB; {total:.0f} s", flush=True)
    H.write_json("inventory_sim_quick" if args.quick else "inventory_sim",
                 dict(machine=info, rows=ROWS, goals=GOALS, checks=CHECKS, seconds=total))


if __name__ == "__main__":
    main()
