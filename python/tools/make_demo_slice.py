"""Builds the M5 slice shipped inside the package for `skucast demo` (run from the repo root):

    python python/tools/make_demo_slice.py [--data ../shared/data/m5-ca1]

300 items of store CA_1, stratified by department (seed 0) among items that sold in the last
16 weeks, days d_1001..d_1913, with daily sell prices and the calendar. Provenance is written
beside the file.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

FIRST_DAY, LAST_DAY, N_ITEMS = 1001, 1913, 300
OUT = Path(__file__).resolve().parents[1] / "skucast" / "demo_data"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=str(Path(__file__).resolve().parents[3] / "shared" / "data" / "m5-ca1"))
    data = Path(ap.parse_args().data)
    sales = pd.read_parquet(data / "sales.parquet")
    cal = pd.read_parquet(data / "calendar.parquet")
    prices = pd.read_parquet(data / "sell_prices.parquet")

    days = [f"d_{d}" for d in range(FIRST_DAY, LAST_DAY + 1)]
    recent = sales[[f"d_{d}" for d in range(LAST_DAY - 111, LAST_DAY + 1)]].sum(axis=1) > 0
    pool = sales[recent]
    rng = np.random.default_rng(0)
    share = pool["dept_id"].value_counts(normalize=True)
    picked = []
    for dept, frac in share.sort_index().items():
        rows = pool.index[pool["dept_id"] == dept].to_numpy()
        k = max(1, int(round(frac * N_ITEMS)))
        picked.extend(rng.choice(rows, size=min(k, rows.size), replace=False))
    picked = np.sort(np.array(picked[:N_ITEMS]))
    chosen = sales.loc[picked]

    cal = cal.set_index("d").loc[days].reset_index()
    week = cal["wm_yr_wk"].to_numpy()
    price_wide = (prices[prices["item_id"].isin(chosen["item_id"])]
                  .pivot(index="item_id", columns="wm_yr_wk", values="sell_price"))
    price_daily = np.full((len(chosen), len(days)), np.nan, dtype=np.float32)
    for i, item in enumerate(chosen["item_id"]):
        if item in price_wide.index:
            row = price_wide.loc[item]
            price_daily[i] = row.reindex(week).to_numpy(dtype=np.float32)
    event = cal["event_type_1"].fillna("").to_numpy()
    event_types = np.array(sorted(set(event) - {""}))
    np.savez_compressed(
        OUT / "m5_ca1_slice.npz",
        sales=chosen[days].to_numpy(dtype=np.int16),
        item_id=chosen["item_id"].to_numpy(dtype=str),
        dept_id=chosen["dept_id"].to_numpy(dtype=str),
        cat_id=chosen["cat_id"].to_numpy(dtype=str),
        store_id=chosen["store_id"].to_numpy(dtype=str),
        price=price_daily,
        date=cal["date"].astype(str).to_numpy(dtype=str),
        d=np.array(days),
        wday=cal["wday"].to_numpy(dtype=np.int8),
        month=cal["month"].to_numpy(dtype=np.int8),
        snap=cal["snap_CA"].to_numpy(dtype=np.int8),
        event_type=np.searchsorted(event_types, event).astype(np.int8) * (event != ""),
        event_types=event_types,
    )
    print(f"wrote {OUT / 'm5_ca1_slice.npz'}: {len(chosen)} items x {len(days)} days")


if __name__ == "__main__":
    main()
