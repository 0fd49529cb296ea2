"""Inputs of the inventory backtest: daily sales and sell prices as (items x days) arrays, plus
the long frame (unique_id, ds, y + covariates) a model forecasts from, for M5 CA_1 or the
built-in demo slice."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

M5_LAST_DAY = 1913          # EVALUATION.md: d_1..d_1913, the window is the last 16 weeks
M5_TRAIN_FIRST_DS = "2014-01-01"   # d_1069, where the smoke DeepAR's training starts
# the shipped demo model's file predates train_last_ds; python/tools/make_demo_model.py trains it on
# the slice's days before the demo's 16-week window, d_1801 = 2016-01-03
DEMO_MODEL_TRAINED_THROUGH = "2016-01-03"


@dataclass
class BacktestData:
    """sales (n, T) int64 units; price (n, T) float64 sell price, NaN when off sale; unique_id
    (n,) str; dates (T,) datetime64[D]; ``frame_loader(first_day_index)`` returns the long frame
    of days [first_day_index, T) for models (None when only baselines can run)."""
    sales: np.ndarray
    price: np.ndarray
    unique_id: np.ndarray
    dates: np.ndarray
    name: str = ""
    frame_loader: Callable | None = field(default=None, repr=False)

    def __post_init__(self):
        self.sales = np.asarray(self.sales)
        if self.sales.ndim != 2:
            raise ValueError(f"sales: expected (items, days), got shape {self.sales.shape}")
        if self.sales.dtype.kind == "f":
            bad = ~np.isfinite(self.sales) | (self.sales != np.floor(self.sales))
            if bad.any():
                i, t = np.argwhere(bad)[0]
                raise ValueError(f"sales: must be whole numbers; first bad value at row {i}, day {t}: "
                                 f"{self.sales[i, t]!r}")
        self.sales = self.sales.astype(np.int64)
        if (self.sales < 0).any():
            i, t = np.argwhere(self.sales < 0)[0]
            raise ValueError(f"sales: must be >= 0; first bad value at row {i}, day {t}: {self.sales[i, t]}")
        n, T = self.sales.shape
        self.price = np.asarray(self.price, dtype=np.float64)
        if self.price.shape != (n, T):
            raise ValueError(f"price: expected shape {(n, T)} like sales, got {self.price.shape}")
        self.unique_id = np.asarray(self.unique_id).astype(str)
        if self.unique_id.shape != (n,):
            raise ValueError(f"unique_id: expected {n} ids, got shape {self.unique_id.shape}")
        bad = ~(np.isnan(self.price) | (np.isfinite(self.price) & (self.price > 0)))
        if bad.any():
            i, t = np.argwhere(bad)[0]
            raise ValueError(f"price: must be > 0 and finite, or NaN when off sale; first bad value at row {i}, "
                             f"day {t}: {self.price[i, t]!r}")
        self.dates = np.asarray(self.dates, dtype="datetime64[D]")
        if self.dates.shape != (T,):
            raise ValueError(f"dates: expected {T} days, got shape {self.dates.shape}")
        # reviews fall on fixed weekdays and windows are cut by date: one row per consecutive day
        step = np.diff(self.dates).astype(np.int64)
        if (step != 1).any():
            k = int(np.flatnonzero(step != 1)[0]) + 1
            raise ValueError(f"dates: must be consecutive days; first bad value at index {k}: "
                             f"{self.dates[k]} after {self.dates[k - 1]}")

    def frame(self, first: int = 0):
        if self.frame_loader is None:
            raise ValueError(f"{self.name or 'data'}: no long frame to forecast from with a model")
        return self.frame_loader(first)


def nearest_prices(price: np.ndarray) -> np.ndarray:
    """Nearest known price where an item is off sale (EVALUATION.md's inventory valuation)."""
    from ..demo import filled_prices
    return filled_prices(np.asarray(price, dtype=np.float64))


def load_demo() -> BacktestData:
    """The shipped 300-item M5 CA_1 slice (demo_data/PROVENANCE.md), calendar covariates only."""
    from .. import demo
    s = demo.load_slice()
    return BacktestData(s.sales, s.price, s.item_id, s.date, name="demo slice (300 M5 CA_1 items)",
                        frame_loader=lambda first: demo.long_frame(s, first=first))


def load_m5_store(path: str | None = None, last_day: int = M5_LAST_DAY) -> BacktestData:
    """M5 files (sales / calendar / sell_prices parquet) of d_1..d_last_day; the long frame
    comes from skucast.data.load_m5 (prices, SNAP, events, calendar)."""
    import pandas as pd
    from ..data import default_m5_path, load_m5
    path = path or default_m5_path()
    for f in ("sales.parquet", "calendar.parquet", "sell_prices.parquet"):
        if not os.path.exists(os.path.join(path, f)):
            raise ValueError(f"data: {path!r} has no {f} (expected an M5 folder like shared/data/m5-ca1)")
    sales = pd.read_parquet(os.path.join(path, "sales.parquet"))
    cal = pd.read_parquet(os.path.join(path, "calendar.parquet")).set_index("d")
    prices = pd.read_parquet(os.path.join(path, "sell_prices.parquet"))
    have = sum(c.startswith("d_") for c in sales.columns)
    if not 1 <= last_day <= have:
        raise ValueError(f"last_day: the sales file has d_1..d_{have}, got {last_day}")
    days = [f"d_{d}" for d in range(1, last_day + 1)]
    y = sales[days].to_numpy(dtype=np.int64)
    week = cal.loc[days, "wm_yr_wk"].to_numpy()
    weeks = np.unique(week)
    # each (store, item) at its own store's price, never an average over stores
    wide = prices[prices["store_id"].isin(sales["store_id"].unique())].pivot_table(
        index=["store_id", "item_id"], columns="wm_yr_wk", values="sell_price")
    wide = wide.reindex(pd.MultiIndex.from_arrays([sales["store_id"], sales["item_id"]]))
    price = wide.reindex(columns=weeks).to_numpy(np.float64)[:, np.searchsorted(weeks, week)]
    uid = sales["id"].str.replace("_validation", "", regex=False).to_numpy()
    stores = sales["store_id"].astype(str).unique()
    store = stores[0] if len(stores) == 1 else os.path.basename(os.path.normpath(path))
    return BacktestData(y, price, uid, pd.to_datetime(cal.loc[days, "date"]).to_numpy(),
                        name=f"M5 {store} ({len(sales):,} items)",
                        frame_loader=lambda first: load_m5(path, first_day=first + 1, last_day=last_day))
