#!/usr/bin/env python
"""Order-up-to levels from sample paths (what `skucast plan` does per model chunk): skucast vs numpy.

    python bench/bench_sample_levels.py [--series 30490] [--threads 1 2] [--repeats 3]

Workload: a forecast's (series, 200 paths, 28 days) int64 sample paths (NB counts, M5's 30,490
series by default), lead time per series uniform 1..14 days, review period 7, 95% cycle service.
Levels: S = the 95% quantile (inverted_cdf) of the demand over lead time + review period per
series, s = the same over the lead time.

* skucast: inventory.order_up_to(samples=..., lead_time=..., review_period=7) (checks the
  paths' range, sums both windows in one pass, quantiles by selection).
* numpy: the same levels from a cumulative sum over the horizon (np.cumsum, then
  np.take_along_axis at start + L and start + L + R) and np.quantile(method="inverted_cdf"),
  in blocks of 512 series (cache-sized temporaries), split over the threads with
  harness.run_chunked; no range checks.
Both sides are checked equal first, then timed in alternating rounds. Writes
bench/out/sample_levels.json.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness as H  # noqa: E402
from harness import fmt_time, run_chunked, threads  # noqa: E402

from skucast import inventory as inv  # noqa: E402

BLOCK = 512
Q = 0.95


def numpy_levels(x, lead, review, nthreads):
    """(S, s): blocked cumulative sums and np.quantile per series."""
    n = x.shape[0]
    S, s = np.empty(n, np.int64), np.empty(n, np.int64)

    def work(lo, hi):
        for b in range(lo, hi, BLOCK):
            e = min(b + BLOCK, hi)
            c = np.zeros(x[b:e].shape[:2] + (x.shape[2] + 1,), np.int64)
            np.cumsum(x[b:e], axis=2, out=c[:, :, 1:])
            at_l = lead[b:e, None, None]
            d_l = np.take_along_axis(c, np.broadcast_to(at_l, c.shape[:2] + (1,)), axis=2)[:, :, 0]
            d_lr = np.take_along_axis(c, np.broadcast_to(at_l + review, c.shape[:2] + (1,)), axis=2)[:, :, 0]
            S[b:e] = np.ceil(np.quantile(d_lr, Q, axis=1, method="inverted_cdf"))
            s[b:e] = np.ceil(np.quantile(d_l, Q, axis=1, method="inverted_cdf"))

    run_chunked(work, n, nthreads)
    return S, s


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--series", type=int, default=30490)
    ap.add_argument("--paths", type=int, default=200)
    ap.add_argument("--horizon", type=int, default=28)
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    print(H.machine_header(H.machine_info()), flush=True)
    rng = np.random.default_rng(0)
    x = rng.negative_binomial(2, 0.4, size=(args.series, args.paths, args.horizon)).astype(np.int64)
    lead = rng.integers(1, 15, args.series)
    review = 7
    rows = []
    for t in args.threads:
        with threads(t):
            def sk():
                return inv.order_up_to(samples=x, lead_time=lead, review_period=review, service_level=Q)

            ref = sk()
            S, s = numpy_levels(x, lead, review, t)
            np.testing.assert_array_equal(ref.S, S)
            np.testing.assert_array_equal(ref.s, s)
            med = H.timeit_interleaved({"skucast": sk, "numpy": lambda: numpy_levels(x, lead, review, t)},
                                       repeats=args.repeats)
            r = {"threads": t, "skucast": fmt_time(med["skucast"]), "numpy": fmt_time(med["numpy"]),
                 "ratio": f"{med['numpy'] / med['skucast']:.2f}x", "skucast_s": med["skucast"], "numpy_s": med["numpy"]}
            rows.append(r)
            print(r, flush=True)
    print(H.markdown_table(rows, [("threads", "threads"), ("skucast", "skucast order_up_to(samples)"),
                                  ("numpy", "numpy cumsum + quantile (blocked)"), ("ratio", "ratio")]))
    H.write_json("sample_levels", {"machine": H.machine_info(), "shape": [args.series, args.paths, args.horizon],
                                   "rows": rows})


if __name__ == "__main__":
    main()
