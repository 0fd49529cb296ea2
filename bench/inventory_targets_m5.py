"""Issue 7 on M5 CA_1: optimised per-SKU targets against uniform targets, replayed on the real sales.

    PYTHONPATH=python python bench/inventory_targets_m5.py [--data ../shared/data]

EVALUATION.md's backtest: 3,049 items, the last 16 weeks d_1802..d_1913, weekly review, 3-day
lead time, lost sales, skucast.inventory.simulate on the recorded daily sales; inventory value =
end-of-day on-hand x that week's sell price. At each review the same forecast feeds every policy:
skucast.baselines.weekday_profile_nb (day-of-week means of the last 8 weeks, NB dispersion by
moments) over the protection interval L + R = 10 days.

Policies (each a sweep, giving a curve):
- retail default: 28-day moving average, S = ceil(mu (L+R) + z sigma sqrt(L+R)), uniform CSL target
  0.80 .. 0.995 (the baseline the issue asks to beat);
- uniform NB: skucast.inventory.order_up_to on the day-of-week NB forecast, uniform CSL target;
- optimised: skucast.inventory.optimize_targets on the same forecast (the protection-interval NB),
  cost = the item's sell price at the review, a portfolio fill-rate target per review (sweep);
  also with per-SKU floor CSL 0.80 and cap 0.995.
Comparisons along the replayed curves (linear interpolation): stockout item-days and lost units at
equal average inventory value, and inventory value at equal fill rate. PNG: bench/out/targets_m5_frontier.png. The replay, the retail default and the
curve comparison are skucast.pipeline.backtest's (`skucast backtest` runs the same protocol with a
model's forecasts).
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

import skucast
from m5_arrays import load_sales_and_value
from skucast.baselines import weekday_profile_nb
from skucast.pipeline.backtest import compare, plot_curves, retail_default_levels
from skucast.pipeline.backtest import replay as replay_window

ROOT = Path(__file__).resolve().parents[1]
L, R = 3, 7
UNIFORM = [0.50, 0.60, 0.70, 0.80, 0.85, 0.90, 0.93, 0.95, 0.97, 0.98, 0.99, 0.995]
FILL = [0.70, 0.80, 0.85, 0.88, 0.90, 0.92, 0.94, 0.95, 0.96, 0.97, 0.98, 0.985, 0.99, 0.995, 0.998]


def replay(y, start, value_price, S_cols) -> dict:
    return replay_window(y[:, start:], np.stack(S_cols, 1), value_price, L, R)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=str(ROOT.parent / "shared" / "data"))
    data = Path(ap.parse_args().data)
    t0 = time.perf_counter()
    y, value_price = load_sales_and_value(data)
    n = y.shape[0]
    start = 1913 - 112
    origins = list(range(start, 1913, R))
    S_ret = {q: [] for q in UNIFORM}
    S_nb = {q: [] for q in UNIFORM}
    S_opt = {f: [] for f in FILL}
    S_optb = {f: [] for f in FILL}
    t_opt = 0.0
    for t in origins:
        mu, alpha = weekday_profile_nb(y[:, :t], horizon=L + R)
        cost = value_price[:, t - start]
        for q, S in retail_default_levels(y[:, :t], UNIFORM, L, R).items():
            S_ret[q].append(S)
        for q in UNIFORM:
            S_nb[q].append(skucast.inventory.order_up_to(mu=mu, alpha=alpha, lead_time=L, review_period=R,
                                                         service_level=q).S)
        t1 = time.perf_counter()
        # one call per review: the whole fill-target sweep (levels for every point)
        fr = skucast.inventory.efficient_frontier(mu=mu, alpha=alpha[:, None], cost=cost, fill_rates=FILL,
                                                  return_levels=True)
        frb = skucast.inventory.efficient_frontier(mu=mu, alpha=alpha[:, None], cost=cost, fill_rates=FILL,
                                                   floor=0.80, cap=0.995, return_levels=True)
        t_opt += time.perf_counter() - t1
        for j, f in enumerate(FILL):
            S_opt[f].append(fr.levels[j])
            S_optb[f].append(frb.levels[j])
    curves = {}
    for name, table in (("retail default (normal, 28-day MA)", S_ret), ("uniform NB (same forecast)", S_nb),
                        ("optimised targets", S_opt), ("optimised, floor 80% cap 99.5%", S_optb)):
        curves[name] = []
        for key, cols in table.items():
            r = replay(y, start, value_price, cols)
            r["target"] = key
            curves[name].append(r)
    base_names = ["retail default (normal, 28-day MA)", "uniform NB (same forecast)"]
    comparisons = {f"{o} vs {b}": compare(curves[b], curves[o])
                   for b in base_names for o in ("optimised targets", "optimised, floor 80% cap 99.5%")}
    comparisons["uniform NB (same forecast) vs retail default (normal, 28-day MA)"] = compare(
        curves[base_names[0]], curves[base_names[1]])
    result = {"items": int(n), "reviews": len(origins), "curves": curves, "comparisons": comparisons,
              "optimize_seconds": t_opt, "skucast": skucast.build_info()}
    result["seconds"] = time.perf_counter() - t0

    print(f"M5 CA_1: {n} items, last 16 weeks, weekly review, 3-day lead time, lost sales; "
          f"optimize_targets total {t_opt:.2f} s for {len(origins)} reviews x 2 sweeps of {len(FILL)} points")
    for name, rows in curves.items():
        print(f"\n{name}")
        print(f"{'target':>7}{'fill rate':>10}{'stockout item-days':>20}{'lost units':>12}{'avg inv value $':>16}")
        for r in rows:
            print(f"{r['target']:>7.3f}{r['fill_rate']:>10.4f}{r['stockout_item_days']:>20d}{r['lost_units']:>12d}"
                  f"{r['avg_inventory_value']:>16,.0f}")
    for name, rows in comparisons.items():
        print(f"\n{name}: changes of the first at the baseline's points")
        print(f"{'base target':>11}{'base value':>12}{'base fill':>10}{'stockout-days':>15}{'lost units':>12}"
              f"{'value @fill':>12}")
        for r in rows:
            fmt = lambda k: f"{100 * r[k]:+.1f}%" if k in r else "-"
            print(f"{r['target']:>11.3f}{r['base_value']:>12,.0f}{r['base_fill']:>10.4f}{fmt('stockout_days_change'):>15}"
                  f"{fmt('lost_units_change'):>12}{fmt('value_change_at_equal_fill'):>12}")
    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    (out / "targets_m5.json").write_text(json.dumps(result, indent=1, default=float))
    plot_curves(curves, out / "targets_m5_frontier.png",
                "M5 CA_1, 16 weeks replayed (R=7, L=3, lost sales): optimised vs uniform targets")
    print(f"\n({result['seconds']:.0f} s; bench/out/targets_m5.json, bench/out/targets_m5_frontier.png)")


if __name__ == "__main__":
    main()
