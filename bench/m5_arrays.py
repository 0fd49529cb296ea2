"""M5 CA_1 as arrays for the inventory replays: daily sales (items x days, d_1..d_1913) and the
daily sell price of the last 16 weeks (nearest known price where an item is off sale), via the
loader `skucast backtest` uses (skucast.pipeline.backtest_data)."""
from __future__ import annotations

from pathlib import Path

from skucast.pipeline.backtest_data import load_m5_store, nearest_prices

LAST_DAY = 1913
REPLAY_DAYS = 112


def load_sales_and_value(data: Path):
    d = load_m5_store(str(Path(data) / "m5-ca1"), last_day=LAST_DAY)
    return d.sales, nearest_prices(d.price)[:, -REPLAY_DAYS:]
