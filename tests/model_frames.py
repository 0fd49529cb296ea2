"""Small synthetic long frames for the model tests (weekly NB demand, covariates, leading zeros)."""
import numpy as np


def make_frame(n_series=12, days=160, seed=0):
    import pandas as pd
    rng = np.random.default_rng(seed)
    ds = pd.date_range("2020-01-01", periods=days + 28, freq="D")
    rows = []
    for i in range(n_series):
        level = rng.uniform(0.3, 8.0)
        week = 1.0 + 0.5 * np.sin(2 * np.pi * np.arange(len(ds)) / 7 + i)
        snap = (ds.day <= 10).astype(np.float32)
        price_change = np.where(rng.random(len(ds)) < 0.05, -0.2, 0.0).astype(np.float32)
        mu = level * week * (1 + 0.3 * snap) * (1 - 2 * price_change)
        y = rng.negative_binomial(2.0, 2.0 / (2.0 + mu)).astype(np.float32)
        start = int(rng.integers(0, 60)) if i % 3 == 0 else 0     # not listed before `start`
        y[:start] = 0
        dept = f"D{i % 3}"
        rows.append(pd.DataFrame({
            "unique_id": f"S{i:03d}", "ds": ds, "y": y,
            "item_id": f"I{i:03d}", "dept_id": dept, "cat_id": "C" + dept[-1:] if i % 2 else "C0",
            "store_id": "ST1", "price": 5.0, "price_change": price_change, "snap": snap,
            "event_type": (ds.day_of_year % 50 == 0).astype(np.int64) * 2,
        }))
    full = pd.concat(rows, ignore_index=True)
    from skucast.data import mark_listed, split_future
    full = mark_listed(full)
    return split_future(full, ds[days - 1], 28)   # train, futr, test
