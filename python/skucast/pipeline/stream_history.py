"""The sales history of a Parquet or CSV file validated in batches, so that memory follows the
number of series and the days the forecaster reads, not the number of sales rows.

Same result as ``validate.prepare_history`` on the whole frame (tests/test_stream_history.py
compares them): the same per-series reasons and details, row rejects, dense window or trimmed
frame. Two passes over the file: the first finds the series (64-bit hashes of the ids, checked
against one stored id per hash) and each one's first and last day; the second gathers per-series
counts, the first bad value and repeated days (one bit per day of the series' own span), and keeps
the rows of the window. A CSV file with covariates for a model is checked whole (its batches would
guess the covariates' types each on their own)."""
from __future__ import annotations

import numpy as np

from . import io
from .validate import (History, bad_ds_detail, bad_sales_y, ds_text_format, first_date_text, flag_series,
                       model_rows, parse_sales_batch, prepare_history, reject_frame, value_text)

__all__ = ["prepare_history_streamed"]

_ROW_BITS = 40   # rows below 2^40: (day, row) packs into one int64 key


def _file_ds_format(src, batch_size):
    """ds_text_format of the file's first non-blank date string (the whole-frame check's)."""
    for batch in io.iter_frame(src, batch_size):
        if "ds" not in batch.columns:
            return None
        first = first_date_text(batch["ds"])
        if first is not None:
            return ds_text_format(first)
    return None


class _TypesDiffer(Exception):
    """Batches of a CSV file read ds or y as different kinds of column."""


def _types_differ(kinds) -> bool:
    """True when the batches' column kinds would not make one type for the whole file (a date or
    text column with a batch of bare numbers; numbers with a batch of True/False): the whole
    file's own reading decides those."""
    ds, y = kinds["ds"], kinds["y"]
    return (len(ds) > 1 and bool(ds & set("iufb"))) or ("b" in y and len(y) > 1)


def _series_of_file(src, batch_size, ds_format):
    """Pass 1: the distinct ids (sorted like np.unique), their sorted hashes with the position
    of each in the id order, and each series' first and last valid day (days since 1970, in
    the id order)."""
    hashes = np.zeros(0, np.uint64)
    rep = np.zeros(0, object)
    lo = np.zeros(0, np.int64)
    hi = np.zeros(0, np.int64)
    big = np.iinfo(np.int64).max
    kinds = {"ds": set(), "y": set()}
    for batch in io.iter_frame(src, batch_size):
        for c in kinds:
            if c in batch.columns and batch[c].notna().any():
                kinds[c].add(batch[c].dtype.kind)
        if _types_differ(kinds):
            raise _TypesDiffer
        b = parse_sales_batch(batch, ds_format)
        ok = b.valid
        if not ok.any():
            continue
        day = b.ds[ok].astype(np.int64)
        h, pos, inv = np.unique(io.id_hashes(b.uid[ok]), return_index=True, return_inverse=True)
        batch_lo = np.full(len(h), big, np.int64)
        batch_hi = np.full(len(h), -big, np.int64)
        np.minimum.at(batch_lo, inv, day)
        np.maximum.at(batch_hi, inv, day)
        new = ~np.isin(h, hashes, assume_unique=True)
        if new.any():
            hashes = np.concatenate([hashes, h[new]])
            rep = np.concatenate([rep, b.uid[ok][pos[new]]])
            lo = np.concatenate([lo, np.full(int(new.sum()), big, np.int64)])
            hi = np.concatenate([hi, np.full(int(new.sum()), -big, np.int64)])
            order = np.argsort(hashes, kind="stable")
            hashes, rep, lo, hi = hashes[order], rep[order], lo[order], hi[order]
        at = np.searchsorted(hashes, h)
        lo[at] = np.minimum(lo[at], batch_lo)
        hi[at] = np.maximum(hi[at], batch_hi)
    by_id = np.argsort(rep.astype(str), kind="stable")     # np.unique's order of the ids
    index = np.empty(len(rep), np.int64)
    index[by_id] = np.arange(len(rep))
    return rep[by_id], hashes, rep, index, lo[by_id], hi[by_id]


def prepare_history_streamed(src, days_needed: int, keep_frame: bool, gaps: str = "reject",
                             min_days: int = 1, batch_size: int = 500_000) -> History:
    """``prepare_history`` of a .parquet / .csv sales file read ``batch_size`` rows at a time."""
    import pandas as pd
    if gaps not in ("reject", "zero"):
        raise ValueError(f"gaps: must be 'reject' or 'zero', got {gaps!r}")
    if keep_frame and io.file_kind(src) == "csv" and set(io.column_names(src)) - {"unique_id", "ds", "y"}:
        # CSV batches guess each covariate's type from their own rows; a model's frame needs the
        # whole file's types, so this case is checked in memory
        return prepare_history(io.read_frame(src, "sales"), days_needed, keep_frame=True, gaps=gaps,
                               min_days=min_days)
    ds_format = _file_ds_format(src, batch_size)
    try:
        uids, hashes, rep, index, lo, hi = _series_of_file(src, batch_size, ds_format)
    except _TypesDiffer:
        return prepare_history(io.read_frame(src, "sales"), days_needed, keep_frame=keep_frame, gaps=gaps,
                               min_days=min_days)
    h = History()
    n = len(uids)
    first_all = np.datetime64(int(lo.min()), "D") if n else None
    last_all = np.datetime64(int(hi.max()), "D") if n else None
    span_days = 0 if n == 0 else int((last_all - first_all).astype(np.int64)) + 1
    n_rows = np.zeros(n, np.int64)
    first_row = np.full(n, np.iinfo(np.int64).max, np.int64)
    no_key = np.iinfo(np.int64).max
    bad_key = np.full(n, no_key, np.int64)                     # first bad y: (day, row)
    bad_y = np.zeros(n, np.float64)
    dup_day = np.full(n, no_key, np.int64)                     # first repeated day
    # one bit per series and day of its own span (memory ~ rows / 8, whatever the file's span)
    lo_rel = lo - (0 if n == 0 else int(lo.min()))
    bit_start = np.concatenate([[0], np.cumsum((hi - lo + 8) // 8)]) if n else np.zeros(1, np.int64)
    seen = np.zeros(int(bit_start[-1]), np.uint8)
    window_start = span_days - days_needed                     # first day (index) of the window
    dense = None if keep_frame else np.zeros((n, days_needed), np.float64)
    parts, no_id_rej, bad_ds_rej = [], [], []
    row0, empty = 0, None
    for batch in io.iter_frame(src, batch_size):
        if empty is None:
            empty = batch.iloc[:0]
        b = parse_sales_batch(batch, ds_format)
        rows = row0 + np.arange(len(batch), dtype=np.int64)
        row0 += len(batch)
        if b.no_id.any():
            r = np.flatnonzero(b.no_id)
            no_id_rej.append((rows[r], b.uid[r], np.zeros(len(r), object)))
        if b.bad_ds.any():
            r = np.flatnonzero(b.bad_ds)
            bad_ds_rej.append((rows[r], b.uid[r], np.array(bad_ds_detail(batch["ds"], r), object)))
        keep = np.flatnonzero(b.valid)
        if keep.size == 0:
            continue
        u = b.uid[keep]
        hp = np.searchsorted(hashes, io.id_hashes(u))
        if not (rep[hp] == u).all():   # two ids with one 64-bit hash: the in-memory check has no such limit
            raise RuntimeError("sales: two unique_ids share a 64-bit hash; pass the sales as a DataFrame")
        s = index[hp]
        day = (b.ds[keep] - first_all).astype(np.int64)
        y = b.y[keep]
        r = rows[keep]
        n_rows += np.bincount(s, minlength=n)
        np.minimum.at(first_row, s, r)
        bad = bad_sales_y(y)
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
        at = dd - lo_rel[ss]
        byte, bit = bit_start[ss] + (at >> 3), (1 << (at & 7)).astype(np.uint8)
        again |= (seen[byte] & bit) != 0
        np.bitwise_or.at(seen, byte, bit)
        dup = np.empty(len(order), bool)
        dup[order] = again
        if dup.any():
            np.minimum.at(dup_day, s[dup], day[dup])
        cut = day >= window_start
        if keep_frame:
            if cut.any():
                part = model_rows(batch.iloc[keep[cut]], u[cut], b.ds[keep][cut], y[cut])
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
    bad_text = {i: f"y={value_text(bad_y[i])} at ds={to_date(bad_key[i] >> _ROW_BITS)}" for i in first_bad}
    dup_text = {i: f"ds={to_date(dup_day[i])} repeated" for i in np.flatnonzero(dup_day != no_key)}
    f_d, l_d = lo.astype("datetime64[D]"), hi.astype("datetime64[D]")
    h.reason, h.detail = flag_series(n, bad_text, dup_text, f_d, l_d, n_rows, last_all, gaps, min_days)
    if keep_frame:
        if parts:
            frame = pd.concat([p for p, *_ in parts], ignore_index=True)
            s_all = np.concatenate([p[1] for p in parts])
            order = np.lexsort((np.concatenate([p[3] for p in parts]), np.concatenate([p[2] for p in parts]), s_all))
            frame = frame.iloc[order].reset_index(drop=True)
            sc = s_all[order]
        else:   # no row in the window: the file's columns, no rows
            frame = empty.reset_index(drop=True).assign(unique_id=np.zeros(0, object),
                                                        ds=np.zeros(0, "datetime64[ns]"), y=np.zeros(0))
            sc = np.zeros(0, np.int64)
        h.frame = frame
        h.starts = np.searchsorted(sc, np.arange(n), "left")
        h.ends = np.searchsorted(sc, np.arange(n), "right")
    else:
        h.dense = dense
    return h
