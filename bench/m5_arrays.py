"""M5 CA_1 as arrays for the inventory replays: daily sales (items x days, d_1..d_1913) and the
daily sell price of the last 16 weeks (nearest known price where an item is off sale)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from skucast.demo import filled_prices

LAST_DAY = 1913
REPLAY_DAYS = 112


def load_sales_and_value(data: Path):
    sales = pd.read_parquet(data / "m5-ca1" / "sales.parquet")
    cal = pd.read_parquet(data / "m5-ca1" / "calendar.parquet").set_index("d")
    prices = pd.read_parquet(data / "m5-ca1" / "sell_prices.parquet")
    days = [f"d_{d}" for d in range(1, LAST_DAY + 1)]
    y = sales[days].to_numpy(dtype=np.int64)
    week = cal.loc[days, "wm_yr_wk"].to_numpy()
    wide = prices.pivot(index="item_id", columns="wm_yr_wk", values="sell_price").reindex(sales["item_id"])
    price = wide.reindex(columns=np.unique(week)).to_numpy()[:, np.searchsorted(np.unique(week), week)]
    return y, filled_prices(price.astype(np.float64))[:, -REPLAY_DAYS:]
