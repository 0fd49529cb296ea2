"""The sales history of a Parquet or CSV file validated in batches, so that memory follows the
number of series and the days the forecaster reads, not the number of sales rows.

Same result as ``validate.prepare_history`` on the whole frame (tests/test_stream_history.py
compares them): the same per-series reasons and details, row rejects, dense window or trimmed
frame. Two passes over the file: the first finds the series (64-bit hashes of the ids, checked
against one stored id per hash) and the date range; the second gathers per-series counts, first
and last day, the first bad value, and repeated days (one bit per series and day), and keeps the
rows of the window."""
from __future__ import annotations

import numpy as np

from . import io
from .io import as_text_ids
from .validate import History, ds_text_format, flag_series, parse_sales_batch, reject_frame

__all__ = ["prepare_history_streamed"]

_ROW_BITS = 40   # rows below 2^40: (day, row) packs into one int64 key


def _hashes(uids) -> np.ndarray:
    import pandas as pd
    return pd.util.hash_array(np.asarray(uids, dtype=object), categorize=False)


def _file_ds_format(src, batch_size):
    """ds_text_format of the file's first non-empty date string (the whole-frame check's)."""
    for batch in io.iter_frame(src, batch_size):
        if "ds" not in batch.columns or batch["ds"].dtype.kind == "M":
            return None
        fmt = ds_text_format(batch["ds"])
        if fmt is not None or any(isinstance(v, str) and v.strip() for v in batch["ds"].to_numpy()):
            return fmt
    return None


def _series_of_file(src, batch_size, ds_format):
    """Pass 1: the distinct ids (sorted like np.unique), their sorted hashes with the position
    of each in the id order, and the first and last valid day."""
    hashes = np.zeros(0, np.uint64)
    rep = np.zeros(0, object)
    first = last = None
    for batch in io.iter_frame(src, batch_size):
        b = parse_sales_batch(batch, ds_format)
        ok = b.valid
        if not ok.any():
            continue
        d = b.ds[ok]
        first = d.min() if first is None else min(first, d.min())
        last = d.max() if last is None else max(last, d.max())
        h, pos = np.unique(_hashes(b.uid[ok]), return_index=True)
        new = ~np.isin(h, hashes, assume_unique=True)
        if new.any():
            hashes = np.concatenate([hashes, h[new]])
            rep = np.concatenate([rep, b.uid[ok][pos[new]]])
            order = np.argsort(hashes, kind="stable")
            hashes, rep = hashes[order], rep[order]
    by_id = np.argsort(rep.astype(str), kind="stable")     # np.unique's order of the ids
    index = np.empty(len(rep), np.int64)
    index[by_id] = np.arange(len(rep))
    return rep[by_id], hashes, rep, index, first, last


def prepare_history_streamed(src, days_needed: int, keep_frame: bool, gaps: str = "reject",
                             min_days: int = 1, batch_size: int = 500_000) -> History:
    """``prepare_history`` of a .parquet / .csv sales file read ``batch_size`` rows at a time."""
    import pandas as pd
    if gaps not in ("reject", "zero"):
        raise ValueError(f"gaps: must be 'reject' or 'zero', got {gaps!r}")
    ds_format = _file_ds_format(src, batch_size)
    uids, hashes, rep, index, first_all, last_all = _series_of_file(src, batch_size, ds_format)
    h = History()
    n = len(uids)
    span_days = 0 if n == 0 else int((last_all - first_all).astype(np.int64)) + 1
    n_rows = np.zeros(n, np.int64)
    first_row = np.full(n, np.iinfo(np.int64).max, np.int64)
    first_d = np.full(n, np.iinfo(np.int64).max, np.int64)     # days since first_all
    last_d = np.full(n, -1, np.int64)
    no_key = np.iinfo(np.int64).max
    bad_key = np.full(n, no_key, np.int64)                     # first bad y: (day, row)
    bad_y = np.zeros(n, np.float64)
    dup_day = np.full(n, no_key, np.int64)                     # first repeated day
    seen = np.zeros((n, (span_days + 7) // 8), np.uint8)       # one bit per series and day
    window_start = span_days - days_needed                     # first day (index) of the window
    dense = None if keep_frame else np.zeros((n, days_needed), np.float64)
    parts, no_id_rej, bad_ds_rej = [], [], []
    row0 = 0
    for batch in io.iter_frame(src, batch_size):
        b = parse_sales_batch(batch, ds_format)
        rows = row0 + np.arange(len(batch), dtype=np.int64)
        row0 += len(batch)
        if b.no_id.any():
            r = np.flatnonzero(b.no_id)
            no_id_rej.append((rows[r], b.uid[r], np.zeros(len(r), object)))
        if b.bad_ds.any():
            r = np.flatnonzero(b.bad_ds)
            bad_ds_rej.append((rows[r], b.uid[r], np.array([f"ds={v!r}" for v in batch["ds"].to_numpy()[r]], object)))
        keep = np.flatnonzero(b.valid)
        if keep.size == 0:
            continue
        u = b.uid[keep]
        hp = np.searchsorted(hashes, _hashes(u))
        if not (rep[hp] == u).all():   # two ids with one 64-bit hash: the in-memory check has no such limit
            raise RuntimeError("sales: two unique_ids share a 64-bit hash; pass the sales as a DataFrame")
        s = index[hp]
        day = (b.ds[keep] - first_all).astype(np.int64)
        y = b.y[keep]
        r = rows[keep]
        n_rows += np.bincount(s, minlength=n)
        np.minimum.at(first_row, s, r)
        np.minimum.at(first_d, s, day)
        np.maximum.at(last_d, s, day)
        bad = ~np.isfinite(y) | (y < 0) | (y != np.round(y))
        if bad.any():
            key = (day[bad] << _ROW_BITS) | r[bad]
            batch_min = np.full(n, no_key, np.int64)
            np.minimum.at(batch_min, s[bad], key)
            hit = key == batch_min[s[bad]]                   # each series' first bad row of this batch
            better = key[hit] < bad_key[s[bad][hit]]
            bad_key[s[bad][hit][better]] = key[hit][better]
            bad_y[s[bad][hit][better]] = y[bad][hit][better]
        # repeated (series, day): within the batch after the first of a kind (file order is the
        # in-memory order of ties), or already seen in an earlier batch
        order = np.lexsort((r, day, s))
        ss, dd = s[order], day[order]
        again = np.zeros(len(order), bool)
        again[1:] = (ss[1:] == ss[:-1]) & (dd[1:] == dd[:-1])
        byte, bit = dd >> 3, (1 << (dd & 7)).astype(np.uint8)
        again |= (seen[ss, byte] & bit) != 0
        np.bitwise_or.at(seen, (ss, byte), bit)
        dup = np.empty(len(order), bool)
        dup[order] = again
        if dup.any():
            np.minimum.at(dup_day, s[dup], day[dup])
        cut = day >= window_start
        if keep_frame:
            if cut.any():
                part = batch.iloc[keep[cut]].reset_index(drop=True)
                part["unique_id"] = u[cut]
                part["ds"] = b.ds[keep][cut].astype("datetime64[ns]")
                part["y"] = np.where(np.isfinite(y[cut]), y[cut], 0.0)
                parts.append((part, s[cut], day[cut], r[cut]))
        else:
            ok = cut & ~dup & np.isfinite(y)
            dense[s[ok], day[ok] - window_start] = y[ok]
    rej = []   # one frame per reason, built as the in-memory check builds them (same column types)
    for parts_, reason in ((no_id_rej, "missing_unique_id"), (bad_ds_rej, "bad_ds")):
        if parts_:
            r, u, text = (np.concatenate(c) for c in zip(*parts_))
            rej.append(reject_frame("sales", r, u, reason, text if reason == "bad_ds" else ""))
    h.row_rejects = pd.concat(rej, ignore_index=True) if rej else reject_frame("sales", [], [], [], [])
    if n == 0:
        return h
    h.uids = uids.astype(object)
    h.first_row, h.n_rows = first_row, n_rows
    h.used = np.zeros(n, bool)
    h.last_ds = last_all
    to_date = lambda k: first_all + np.timedelta64(int(k), "D")   # noqa: E731
    first_bad = np.flatnonzero(bad_key != no_key)
    bad_text = {i: f"y={bad_y[i]!r} at ds={to_date(bad_key[i] >> _ROW_BITS)}" for i in first_bad}
    dup_text = {i: f"ds={to_date(dup_day[i])} repeated" for i in np.flatnonzero(dup_day != no_key)}
    f_d = first_all + first_d.astype("timedelta64[D]")
    l_d = first_all + last_d.astype("timedelta64[D]")
    h.reason, h.detail = flag_series(n, bad_text, dup_text, f_d, l_d, n_rows, last_all, gaps, min_days)
    if keep_frame:
        if parts:
            frame = pd.concat([p for p, *_ in parts], ignore_index=True)
            s_all = np.concatenate([p[1] for p in parts])
            order = np.lexsort((np.concatenate([p[3] for p in parts]), np.concatenate([p[2] for p in parts]), s_all))
            frame = frame.iloc[order].reset_index(drop=True)
            sc = s_all[order]
        else:
            frame = pd.DataFrame(columns=["unique_id", "ds", "y"])
            sc = np.zeros(0, np.int64)
        h.frame = frame
        h.starts = np.searchsorted(sc, np.arange(n), "left")
        h.ends = np.searchsorted(sc, np.arange(n), "right")
    else:
        h.dense = dense
    return h
