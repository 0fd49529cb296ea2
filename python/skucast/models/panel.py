"""Long frames -> dense per-series arrays the networks consume (one code path for training
and prediction), and the stable per-series keys of the counter-based sampler."""
from __future__ import annotations

import hashlib

import numpy as np

from ..data.frames import CALENDAR_COVARIATES, calendar_features, check_long

__all__ = ["Panel", "build_history", "build_future", "series_keys", "scale_of", "PATH_BITS"]

PATH_BITS = 20          # sampler key = series key << PATH_BITS | path index (num_samples < 2**20)
_SERIES_KEY_BITS = 42


def series_keys(uids) -> np.ndarray:
    """Stable int64 key per unique_id (blake2b of the id): the same series gets the same
    random numbers in any batch, chunk, process or machine."""
    out = np.empty(len(uids), np.int64)
    for i, u in enumerate(uids):
        h = hashlib.blake2b(str(u).encode(), digest_size=8).digest()
        out[i] = int.from_bytes(h, "little") & ((1 << _SERIES_KEY_BITS) - 1)
    return out


def scale_of(y: np.ndarray, listed: np.ndarray) -> np.ndarray:
    """Per-series scale nu = 1 + mean of y over the listed days of each row (DeepAR's choice;
    1 when none is listed, so an all-zero history never divides by zero)."""
    return (1.0 + (y * listed).sum(-1) / np.maximum(listed.sum(-1), 1.0)).astype(np.float32)


class Panel:
    """Arrays of n series over T days, right-aligned (last day = each series' last ds).

    y, listed (n, T) float32; num (n, T, Fn) float32 with ``listed`` first; cat (n, T, Kc)
    int64; static (n, Ks) int64 (0 = unknown); uids (n,); last_ds (n,) datetime64.
    """

    def __init__(self, uids, y, listed, num, cat, static, last_ds):
        self.uids, self.y, self.listed, self.num, self.cat = uids, y, listed, num, cat
        self.static, self.last_ds = static, last_ds

    def __len__(self):
        return len(self.uids)


def _needed(spec):
    num = list(spec["numeric"])
    cat = [c for c in spec["categorical"] if c not in CALENDAR_COVARIATES]
    return num, cat


def _cat_codes(frame_cols, ds, spec):
    cal = calendar_features(ds) if any(c in CALENDAR_COVARIATES for c in spec["categorical"]) else {}
    out = []
    for name, card in spec["categorical"].items():
        v = cal[name] if name in CALENDAR_COVARIATES else np.asarray(frame_cols[name], np.int64)
        out.append(np.clip(v, 0, card - 1))
    return np.stack(out, -1) if out else np.zeros((len(ds), 0), np.int64)


def build_history(df, spec, length: int | None = None) -> Panel:
    """The last ``length`` days of each series (all days when None), left-padded with
    zeros marked not listed for short series. A missing ``listed`` column is derived
    (0 before the first sale)."""
    import pandas as pd
    num_cols, cat_cols = _needed(spec)
    check_long(df, "df", columns=num_cols + cat_cols)
    df = df.sort_values(["unique_id", "ds"], kind="stable")
    uid_all = df["unique_id"].to_numpy()
    uids, starts, counts = np.unique(uid_all, return_index=True, return_counts=True)
    T = int(length or counts.max())
    rows = (starts + counts)[:, None] - T + np.arange(T)
    valid = rows >= starts[:, None]
    rows = np.where(valid, rows, starts[:, None])
    y = np.where(valid, df["y"].to_numpy(np.float32)[rows], 0).astype(np.float32)
    if "listed" in df.columns:
        listed = np.where(valid, df["listed"].to_numpy(np.float32)[rows], 0).astype(np.float32)
    else:  # before the first sale in the frame (or padding): not yet listed
        listed = np.maximum.accumulate(y > 0, axis=1).astype(np.float32)
    num = [listed] + [df[c].to_numpy(np.float32)[rows] for c in num_cols]
    num = np.nan_to_num(np.stack(num, -1), nan=0.0, posinf=0.0, neginf=0.0).astype(np.float32)
    ds = pd.to_datetime(df["ds"]).to_numpy()
    cat = _cat_codes({c: df[c].to_numpy() for c in cat_cols}, ds, spec)[rows]
    static = np.zeros((len(uids), len(spec["static"])), np.int64)
    for k, (name, vocab) in enumerate(spec["static"].items()):
        if name in df.columns:
            lookup = {v: i + 1 for i, v in enumerate(vocab)}
            first = df[name].astype(object).to_numpy()[starts]
            static[:, k] = [lookup.get(str(v), 0) for v in first]
    return Panel(uids, y, listed, num, cat, static, ds[starts + counts - 1])


def build_future(futr_df, panel: Panel, spec, horizon: int):
    """Covariates of the ``horizon`` days after each series' last ds: (num (n, h, Fn) with
    listed = 1, cat (n, h, Kc), ds (n, h)). futr_df may be None when the model only uses
    calendar covariates."""
    import pandas as pd
    num_cols, cat_cols = _needed(spec)
    n = len(panel)
    ds = panel.last_ds[:, None] + np.arange(1, horizon + 1) * np.timedelta64(1, "D")
    flat_ds = ds.reshape(-1)
    cols = {}
    if num_cols or cat_cols:
        if futr_df is None:
            raise ValueError(f"futr_df: the model uses future covariates {num_cols + cat_cols}; "
                             "pass futr_df with unique_id, ds and those columns for the horizon")
        check_long(futr_df, "futr_df", require_y=False, columns=num_cols + cat_cols)
        idx = pd.MultiIndex.from_arrays([futr_df["unique_id"].to_numpy(),
                                         pd.to_datetime(futr_df["ds"]).to_numpy()])
        want = pd.MultiIndex.from_arrays([np.repeat(panel.uids, horizon), flat_ds])
        pos = idx.get_indexer(want)
        if (pos < 0).any():
            k = int(np.flatnonzero(pos < 0)[0])
            raise ValueError(f"futr_df: {(pos < 0).sum()} of the {n * horizon} (unique_id, ds) rows of "
                             f"the horizon are missing; first: ({want[k][0]!r}, {want[k][1]})")
        cols = {c: futr_df[c].to_numpy()[pos] for c in num_cols + cat_cols}
    num = [np.ones(n * horizon, np.float32)] + [np.asarray(cols[c], np.float32) for c in num_cols]
    num = np.nan_to_num(np.stack(num, -1), nan=0.0).astype(np.float32).reshape(n, horizon, -1)
    cat = _cat_codes(cols, flat_ds, spec).reshape(n, horizon, -1)
    return num, cat, ds
