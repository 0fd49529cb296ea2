#!/usr/bin/env python
"""order_up_to(method="exact") on M5 CA_1's day-of-week NB forecasts (daily alpha*mu differ, so the
windows are convolved) against numpy convolutions of scipy pmfs out to 1e-18 tails, an independent
reference: csl and fill-rate S and s for all 3,049 items at four levels; "moment" (the
variance-matched NB) for comparison. ~2 minutes, most of it scipy.

    python bench/exact_levels_m5_check.py [--data ../shared/data]
"""
import argparse
import sys
import time
from pathlib import Path

import numpy as np
import scipy.stats as st

sys.path.insert(0, str(Path(__file__).resolve().parent))
import skucast  # noqa: E402
from skucast.baselines import weekday_profile_nb  # noqa: E402
from m5_arrays import load_sales_and_value  # noqa: E402

LEAD, REVIEW = 3, 7
LEVELS = (0.8, 0.95, 0.98, 0.995)


def nb_law(m, a):
    """scipy's NB(m, a); Poisson where a m < 1e-9 (scipy's nbinom loses its pmf as p -> 1)."""
    return st.poisson(m) if a * m < 1e-9 else st.nbinom(1.0 / a, 1.0 / (1.0 + a * m))


def window_pmf(mus, alphas):
    pm = np.array([1.0])
    for m, a in zip(mus, alphas):
        if m == 0:
            continue
        law = nb_law(m, a)
        far = law.isf(1e-18)
        kmax = int(far) + 10 if np.isfinite(far) else int(m + 40 * np.sqrt(m + a * m * m) + 60)
        pm = np.convolve(pm, law.pmf(np.arange(kmax + 1)))
    return pm


def quantile(p, q):
    return int(np.argmax(np.cumsum(p) >= q))


def shortages(p):
    """E[(D - S)^+] for S = 0..len(p)-1."""
    tail = np.concatenate([np.cumsum(p[::-1])[::-1][1:], [0.0]])
    return np.cumsum(tail[::-1])[::-1]


def fill_levels(pl, plr, budget):
    n = max(len(pl), len(plr)) + 1
    a, b = np.zeros(n), np.zeros(n)
    a[:len(pl)], b[:len(plr)] = pl, plr
    sl, slr = shortages(a), shortages(b)
    S = int(np.argmax(slr - sl <= budget))
    return S, min(int(np.argmax(sl <= budget)), S)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    y, _ = load_sales_and_value(ap.parse_args().data)
    mu, alpha = weekday_profile_nb(y[:, :1913 - 28], horizon=LEAD + REVIEW)
    alpha = np.broadcast_to(np.asarray(alpha)[:, None] if np.ndim(alpha) == 1 else alpha, mu.shape)
    n = len(mu)
    print(f"{n} items, window means up to {mu.sum(1).max():.0f}", flush=True)
    t0 = time.perf_counter()
    pl = [window_pmf(mu[i, :LEAD], alpha[i, :LEAD]) for i in range(n)]
    plr = [window_pmf(mu[i, :LEAD + REVIEW], alpha[i, :LEAD + REVIEW]) for i in range(n)]
    print(f"reference pmfs: {time.perf_counter() - t0:.0f} s", flush=True)
    mismatches = 0
    for q in LEVELS:
        kw = dict(mu=mu, alpha=alpha, lead_time=LEAD, review_period=REVIEW, service_level=q)
        csl = skucast.inventory.order_up_to(**kw)
        fill = skucast.inventory.order_up_to(target="fill_rate", **kw)
        moment = skucast.inventory.order_up_to(method="moment", **kw)
        S_ref = np.array([quantile(p, q) for p in plr])
        for i in range(n):
            mL, mLR = mu[i, :LEAD].sum(), mu[i, :LEAD + REVIEW].sum()
            budget = (1 - q) * (mLR - mL) + 1e-12 * (mLR + 1)  # the kernels' tolerance
            want = (S_ref[i], quantile(pl[i], q)) + fill_levels(pl[i], plr[i], budget)
            got = (csl.S[i], csl.s[i], fill.S[i], fill.s[i])
            if got != want:
                mismatches += 1
                print(f"q {q} item {i}: exact {got}, reference {want}")
        print(f"q {q}: moment's csl S differs from the reference in {int((moment.S != S_ref).sum())} of {n}",
              flush=True)
    print(f"exact: {mismatches} of {n * len(LEVELS)} (item, level) pairs differ from the reference "
          "(csl S, s and fill-rate S, s)")


if __name__ == "__main__":
    main()
