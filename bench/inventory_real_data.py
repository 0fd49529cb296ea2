"""Inventory decisions on the real data sets (issue 3): RAF spare parts and M5 store CA_1.

    python bench/inventory_real_data.py [--data ../shared/data]

RAF (5,000 parts, monthly 1996-2002, real lead times and prices): each month from month 13 on,
NB parameters by moments from all months before it, order-up-to for a 95% cycle service level
over lead time + 1 month of review, replayed against the real demand with backorders for the
remaining 72 months; beside it the normal-approximation policy (same mean and sd, z*sigma).

M5 CA_1 (3,049 items, daily): EVALUATION.md's backtest, the last 16 weeks d_1802..d_1913,
weekly review, 3-day lead time, lost sales, a day-of-week NB forecast at each review versus the
retail default (28-day moving average, S = mu(L+R) + z sigma sqrt(L+R)), several targets.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from statistics import NormalDist

import numpy as np
import pandas as pd

import skucast
from skucast.baselines import moving_average_normal, weekday_profile_nb
from m5_arrays import load_sales_and_value

ROOT = Path(__file__).resolve().parents[1]


def raf(data: Path, target: float = 0.95, warmup: int = 12) -> dict:
    df = pd.read_csv(data / "raf" / "raf_5000_items_monthly_1996_2002.csv", encoding="latin-1")
    months = [c for c in df.columns[4:]]
    demand = df[months].to_numpy(dtype=np.int64)
    lead = df["Lead Time (months)"].to_numpy(dtype=np.int64)
    price = df.iloc[:, 3].to_numpy(dtype=np.float64)
    n, T = demand.shape
    reviews = range(warmup, T)
    S_nb, S_normal = [], []
    z = NormalDist().inv_cdf(target)
    for t in reviews:
        hist = demand[:, :t].astype(np.float64)
        m = np.maximum(hist.mean(axis=1), 1e-3)
        v = hist.var(axis=1)
        alpha = np.clip((v - m) / m**2, 0.0, 50.0)
        res = skucast.inventory.order_up_to(mu=m, alpha=alpha, lead_time=lead, review_period=1, service_level=target)
        S_nb.append(res.S)
        days = lead + 1
        S_normal.append(np.ceil(m * days + z * np.sqrt(v * days)).astype(np.int64))
    out = {}
    for name, S in (("NB order-up-to (skucast)", np.stack(S_nb, 1)), ("normal approximation", np.stack(S_normal, 1))):
        sim = skucast.inventory.simulate(demand[:, warmup:], S=S, lead_time=lead, review_period=1, lost_sales=False,
                                         unit_cost=price)
        tot = sim.totals()
        out[name] = {
            "fill_rate": tot["fill_rate"],
            "cycle_service_level": tot["cycle_service_level"],
            "stockout_item_months": int(sim.stockout_days.sum()),
            "avg_inventory_value_gbp": float((sim.avg_on_hand * price).sum()),
            "orders": int(sim.num_orders.sum()),
        }
    return {"items": int(n), "months_simulated": T - warmup, "target_csl": target, "policies": out}


def m5(data: Path, targets=(0.80, 0.85, 0.90, 0.95, 0.97, 0.98, 0.99)) -> dict:
    y, value_price = load_sales_and_value(data)
    L, R, start = 3, 7, 1913 - 112
    origins = range(start, 1913, R)
    z_of = NormalDist().inv_cdf
    rows = []
    for target in targets:
        S_nb, S_ret = [], []
        for t in origins:
            mu, alpha = weekday_profile_nb(y[:, :t], horizon=L + R)
            S_nb.append(skucast.inventory.order_up_to(mu=mu, alpha=alpha, lead_time=L, review_period=R,
                                                      service_level=target).S)
            mean, sd = moving_average_normal(y[:, :t], 28)
            S_ret.append(np.ceil(mean * (L + R) + z_of(target) * sd * np.sqrt(L + R)).astype(np.int64))
        for name, S in (("NB day-of-week (skucast)", S_nb), ("retail default", S_ret)):
            sim = skucast.inventory.simulate(y[:, start:], S=np.stack(S, 1), lead_time=L, review_period=R,
                                             lost_sales=True, trace_rows=np.arange(y.shape[0]))
            tot = sim.totals()
            rows.append({"policy": name, "target": target, "fill_rate": tot["fill_rate"],
                         "stockout_item_days": int(sim.stockout_days.sum()),
                         "avg_inventory_value": float((sim.trace["on_hand"] * value_price).sum(0).mean()),
                         "bullwhip": tot["bullwhip"], "orders": int(sim.num_orders.sum())})
    return {"items": int(y.shape[0]), "rows": rows}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=str(ROOT.parent / "shared" / "data"))
    data = Path(ap.parse_args().data)
    t0 = time.perf_counter()
    result = {"raf": raf(data), "m5_ca1": m5(data), "skucast": skucast.build_info()}
    result["seconds"] = time.perf_counter() - t0
    r = result["raf"]
    print(f"RAF: {r['items']} parts, {r['months_simulated']} months replayed with backorders, target CSL {r['target_csl']}")
    print(f"{'policy':<28}{'fill rate':>10}{'CSL':>8}{'stockout item-months':>22}{'avg inventory GBP':>19}")
    for name, m in r["policies"].items():
        print(f"{name:<28}{m['fill_rate']:>10.3f}{m['cycle_service_level']:>8.3f}{m['stockout_item_months']:>22d}"
              f"{m['avg_inventory_value_gbp']:>19,.0f}")
    print(f"\nM5 CA_1: {result['m5_ca1']['items']} items, last 16 weeks, weekly review, 3-day lead time, lost sales")
    print(f"{'policy':<26}{'target':>7}{'fill rate':>10}{'stockout item-days':>20}{'avg inv value $':>16}{'bullwhip':>9}")
    for row in result["m5_ca1"]["rows"]:
        print(f"{row['policy']:<26}{row['target']:>7.2f}{row['fill_rate']:>10.3f}{row['stockout_item_days']:>20d}"
              f"{row['avg_inventory_value']:>16,.0f}{row['bullwhip']:>9.2f}")
    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    (out / "real_data.json").write_text(json.dumps(result, indent=1, default=float))
    print(f"\n({result['seconds']:.0f} s; bench/out/real_data.json)")


if __name__ == "__main__":
    main()
