"""Long-frame conventions (statsforecast style) shared by the loaders and the models.

A history frame has one row per (unique_id, ds): the target ``y``, static columns
(``item_id, dept_id, cat_id, store_id``) and dynamic covariates; the future covariates for
the forecast days live in a separate frame ``futr_df`` with the same columns minus ``y``.
"""
from __future__ import annotations

import numpy as np

__all__ = ["STATIC_COLUMNS", "NUMERIC_COVARIATES", "CATEGORICAL_COVARIATES", "CALENDAR_COVARIATES",
           "EVENT_TYPES", "calendar_features", "check_long", "mark_listed", "split_future"]

STATIC_COLUMNS = ("item_id", "dept_id", "cat_id", "store_id")
# Dynamic covariates: numeric ones enter the network as they are; categorical ones are small
# integer codes (0 = none/unknown) that the network embeds.
NUMERIC_COVARIATES = ("price", "price_change", "snap")
CATEGORICAL_COVARIATES = {"event_type": 5, "dow": 7, "month": 13}
CALENDAR_COVARIATES = ("dow", "month")   # derived from ds, never required in a frame
EVENT_TYPES = ("Cultural", "National", "Religious", "Sporting")  # codes 1..4, 0 = no event


def calendar_features(ds) -> dict:
    """Day-of-week (0 = Monday) and month (1..12) codes of a datetime-like array."""
    import pandas as pd
    ds = pd.DatetimeIndex(pd.to_datetime(np.asarray(ds)))
    return {"dow": ds.day_of_week.to_numpy(np.int64), "month": ds.month.to_numpy(np.int64)}


def check_long(df, name: str = "df", require_y: bool = True, columns=()) -> None:
    """Raise ValueError naming the frame and the missing column(s) or the duplicated key."""
    need = ["unique_id", "ds"] + (["y"] if require_y else []) + list(columns)
    missing = [c for c in need if c not in df.columns]
    if missing:
        raise ValueError(f"{name}: missing column(s) {missing}; has {list(df.columns)}")
    if df.duplicated(["unique_id", "ds"]).any():
        raise ValueError(f"{name}: duplicated (unique_id, ds) rows")
    if require_y:
        y = df["y"].to_numpy(np.float64)
        bad = ~np.isfinite(y) | (y < 0) | (y != np.round(y))
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ValueError(f"{name}: y must be whole numbers >= 0; first bad row {i}: {y[i]}")


def mark_listed(df):
    """Add ``listed`` (1/0): 0 on the leading zeros before a series' first sale ("not yet
    listed"), 1 from the first sale on. Expects rows sorted by (unique_id, ds)."""
    sold = (df["y"].to_numpy() > 0).astype(np.int8)
    listed = df.assign(_s=sold).groupby("unique_id", sort=False, observed=True)["_s"].cummax()
    return df.assign(listed=listed.to_numpy(np.float32))


def split_future(df, cutoff, horizon: int):
    """Split a full frame at ``cutoff`` (last training ds): returns (train_df, futr_df, test_df)
    where futr_df holds the covariates of the next ``horizon`` days without ``y`` and test_df
    the actual ``unique_id, ds, y`` of those days."""
    import pandas as pd
    cutoff = pd.Timestamp(cutoff)
    end = cutoff + pd.Timedelta(days=horizon)
    train = df[df["ds"] <= cutoff].reset_index(drop=True)
    fut = df[(df["ds"] > cutoff) & (df["ds"] <= end)].reset_index(drop=True)
    test = fut[["unique_id", "ds", "y"]].copy()
    futr = fut.drop(columns=["y", "listed"], errors="ignore")
    return train, futr, test
