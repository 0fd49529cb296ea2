"""M5 loader: the wide sales file melted to a long frame joined with calendar and prices."""
from __future__ import annotations

import os

import numpy as np

from .frames import EVENT_TYPES, STATIC_COLUMNS, calendar_features

__all__ = ["load_m5", "default_m5_path", "m5_eval_arrays"]


def default_m5_path() -> str:
    """../shared/data/m5-ca1 relative to the repository root, or $SKUCAST_M5."""
    env = os.environ.get("SKUCAST_M5")
    if env:
        return env
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    return os.path.normpath(os.path.join(root, "..", "shared", "data", "m5-ca1"))


def load_m5(path: str | None = None, items=None, n_series: int | None = None,
            first_day: int = 1, last_day: int | None = None):
    """Load M5 sales as a long frame.

    Columns: unique_id (the M5 ``id`` without ``_validation``), ds (datetime), y (float32
    units), item_id, dept_id, cat_id, store_id (categorical), price (weekly sell price,
    forward/back filled inside the series where the item is off sale), price_change (price
    relative to the previous week's, 0 when unknown), snap (0/1, the store's state),
    event_type (0 none, 1..4 = Cultural, National, Religious, Sporting), dow (0 = Monday),
    month (1..12), listed (0 before the series' first sale: "not yet listed", else 1).
    Rows sorted by (unique_id, ds).

    items: item_ids to keep; n_series: keep the first n rows of the sales file;
    first_day/last_day: d_ range (1-based, inclusive).

    >>> df = load_m5(n_series=10, first_day=1800)
    """
    import pandas as pd
    path = path or default_m5_path()
    sales = pd.read_parquet(os.path.join(path, "sales.parquet"))
    cal = pd.read_parquet(os.path.join(path, "calendar.parquet"))
    prices = pd.read_parquet(os.path.join(path, "sell_prices.parquet"))
    if items is not None:
        sales = sales[sales["item_id"].isin(list(items))]
    if n_series is not None:
        sales = sales.iloc[:n_series]
    day_cols = [c for c in sales.columns if c.startswith("d_")]
    last_day = last_day or len(day_cols)
    days = [f"d_{k}" for k in range(first_day, last_day + 1)]
    n, t = len(sales), len(days)
    y_all = sales[[f"d_{k}" for k in range(1, last_day + 1)]].to_numpy(np.float32)
    # listed from the full history: a sale before first_day counts
    listed = np.maximum.accumulate(y_all > 0, axis=1)[:, first_day - 1:].astype(np.float32)
    y = y_all[:, first_day - 1:]

    cal = cal.set_index("d").loc[days]
    ds = pd.to_datetime(cal["date"].to_numpy())
    state = sales["state_id"].iloc[0] if n else "CA"
    snap = cal[f"snap_{state}"].to_numpy(np.float32) if f"snap_{state}" in cal else np.zeros(t, np.float32)
    ev = cal["event_type_1"].astype(object).to_numpy()
    event = np.array([EVENT_TYPES.index(e) + 1 if e in EVENT_TYPES else 0 for e in ev], np.int64)
    calf = calendar_features(ds)

    # prices: (n, weeks) table, then per day; filled inside each series
    wk = cal["wm_yr_wk"].to_numpy()
    pt = prices[prices["store_id"].isin(sales["store_id"].unique())].pivot_table(
        index=["store_id", "item_id"], columns="wm_yr_wk", values="sell_price")
    key = pd.MultiIndex.from_arrays([sales["store_id"], sales["item_id"]])
    weeks = np.unique(wk)
    pw = pt.reindex(index=key, columns=weeks).to_numpy(np.float64)
    pw = pd.DataFrame(pw).ffill(axis=1).bfill(axis=1).fillna(1.0).to_numpy()
    prev = np.concatenate([pw[:, :1], pw[:, :-1]], axis=1)
    chg = pw / prev - 1.0
    col = np.searchsorted(weeks, wk)
    price, price_change = pw[:, col], chg[:, col]

    uid = sales["id"].str.replace("_validation", "", regex=False).to_numpy()
    out = pd.DataFrame({
        "unique_id": np.repeat(uid, t),
        "ds": np.tile(ds, n),
        "y": y.reshape(-1),
    })
    for c in STATIC_COLUMNS:
        out[c] = pd.Categorical(np.repeat(sales[c].to_numpy(), t))
    out["price"] = price.reshape(-1).astype(np.float32)
    out["price_change"] = price_change.reshape(-1).astype(np.float32)
    out["snap"] = np.tile(snap, n)
    out["event_type"] = np.tile(event, n)
    out["dow"] = np.tile(calf["dow"], n)
    out["month"] = np.tile(calf["month"], n)
    out["listed"] = listed.reshape(-1)
    return out.sort_values(["unique_id", "ds"], kind="stable").reset_index(drop=True)


def m5_eval_arrays(train_df, test_df, uids=None):
    """Dense arrays for skucast.metrics.evaluate_hierarchy from long frames: (uids, history
    (n, T), y (n, h), dollar (n,) = units x price over the last 28 training days, groups for
    the levels item / department / category / store)."""
    import pandas as pd
    hist = train_df.pivot(index="unique_id", columns="ds", values="y")
    if uids is not None:
        hist = hist.loc[list(uids)]
    uids = hist.index.to_numpy()
    y = test_df.pivot(index="unique_id", columns="ds", values="y").loc[uids].to_numpy(np.float64)
    last = train_df[train_df["ds"] > train_df["ds"].max() - pd.Timedelta(days=28)]
    dollar = (last["y"] * last["price"]).groupby(last["unique_id"]).sum().reindex(uids).fillna(0).to_numpy()
    static = train_df.drop_duplicates("unique_id").set_index("unique_id").loc[uids]
    groups = {"item": (np.arange(len(uids)), len(uids))}
    for level, col in (("department", "dept_id"), ("category", "cat_id")):
        codes, names = pd.factorize(static[col].astype(str))
        groups[level] = (codes.astype(np.int64), len(names))
    groups["store"] = (np.zeros(len(uids), np.int64), 1)
    return uids, hist.to_numpy(np.float64), y, dollar, groups
