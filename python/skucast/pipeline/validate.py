"""Input checks of the planning pipeline. Problems with a whole file (missing columns, a column
of the wrong type, a model that does not fit the data) raise; problems with single rows or
series become rejects with a reason, so every input row ends in the orders or the rejects."""
from __future__ import annotations

import numpy as np

from .io import as_text_ids, id_hashes

__all__ = ["REJECT_REASONS", "STOCK_COLUMNS", "History", "prepare_history", "validate_stock", "reject_frame",
           "parse_sales_batch", "first_date_text", "ds_text_format", "bad_ds_detail", "bad_sales_y", "model_rows",
           "flag_series"]

# reason -> what it means (written in the rejects file's `reason` column; `detail` adds the value)
REJECT_REASONS = {
    "missing_unique_id": "the row has no unique_id",
    "duplicate_unique_id": "an earlier stock row has the same unique_id (the first one is planned)",
    "not_a_number": "a required numeric field is empty, NaN or not a number",
    "not_integer": "a count field (stock, lead time, pack sizes) is not a whole number",
    "negative_stock": "on_hand or on_order is negative",
    "invalid_value": "a field is out of range (lead_time < 0, case_pack < 1, moq > max_order, "
                     "service_level outside (0, 1), mu/alpha < 0, cost < 0)",
    "unknown_sku": "the unique_id has no sales history (and no mu/alpha columns)",
    "not_in_stock": "sales history of a unique_id that no stock row asks for",
    "bad_ds": "a sales row whose ds is not a date",
    "sales_bad_y": "the series' sales y has NaN, negative or fractional values",
    "sales_duplicate_ds": "the series has duplicate (unique_id, ds) sales rows",
    "sales_gap": "the series misses days inside its history (gaps='zero' fills them with 0)",
    "history_ends_early": "the series' last sales day is before the latest day in the file "
                          "(gaps='zero' fills the missing days with 0)",
    "short_history": "fewer history days than the forecaster needs",
    "horizon_exceeds_model": "lead_time + review_period is longer than the model's horizon",
}

# column -> (default when the column is absent (None = required), kind)
STOCK_COLUMNS = {
    "unique_id": (None, "id"),
    "on_hand": (None, "count"),
    "on_order": (0, "count"),
    "lead_time": (None, "count"),
    "review_period": ("arg", "count"),
    "moq": (0, "count"),
    "case_pack": (1, "count"),
    "max_order": (np.nan, "count_or_empty"),   # empty = no limit
    "service_level": ("arg", "float"),
    "unit_cost": (np.nan, "float_or_empty"),
    "holding_cost_rate": (np.nan, "float_or_empty"),
}
PARAM_COLUMNS = ("mu", "alpha")
NO_LIMIT = np.int64(1) << 60   # max_order when the field is empty


def value_text(value) -> str:
    """A value for a reject's detail as the user wrote it: -1.0, nan, 'x' (not np.float64(-1.0))."""
    return repr(value.item() if isinstance(value, np.generic) else value)


def reject_frame(source, row, unique_id, reason, detail):
    import pandas as pd
    n = len(row)
    return pd.DataFrame({
        "source": np.full(n, source, dtype=object) if np.ndim(source) == 0 else np.asarray(source, object),
        "row": np.asarray(row, np.int64),
        "unique_id": np.asarray(unique_id, object),
        "reason": np.asarray(reason, object),
        "detail": np.asarray(detail, object),
    })


def _numeric_column(df, name):
    """Column as float64 (non-numbers -> NaN) and the original values for the detail text."""
    import pandas as pd
    col = df[name]
    kind = col.dtype.kind
    if kind in "bMmc":
        raise TypeError(f"stock: column {name!r} has dtype {col.dtype}; expected numbers")
    if kind in "iuf":
        return col.to_numpy(np.float64), col
    return pd.to_numeric(col, errors="coerce").to_numpy(np.float64), col


class History:
    """Sales history of the series, validated once: per-series reject reasons and the dense
    arrays the forecasters read (only the days they need are kept)."""

    def __init__(self):
        self.uids = np.zeros(0, object)      # sorted unique ids
        self.reason = np.zeros(0, object)    # per series: None or a reject reason
        self.detail = np.zeros(0, object)
        self.first_row = np.zeros(0, np.int64)
        self.n_rows = np.zeros(0, np.int64)
        self.dense = None                    # (n_series, days) float64 for the NB baseline
        self.frame = None                    # trimmed long frame sorted by (unique_id, ds) for models
        self.starts = self.ends = None       # row range of each series in `frame`
        self.last_ds = None
        self.row_rejects = None              # sales rows rejected on their own (bad ds, no id)
        self.used = np.zeros(0, bool)

    def index_of(self, uids) -> np.ndarray:
        """Series index of each id, -1 when there is no history."""
        if len(self.uids) == 0 or len(uids) == 0:
            return np.full(len(uids), -1, np.int64)
        uids = np.array(["\x00<none>" if u is None else u for u in uids], dtype=object)
        pos = np.searchsorted(self.uids, uids)
        pos = np.minimum(pos, len(self.uids) - 1)
        return np.where(self.uids[pos] == uids, pos, -1).astype(np.int64)

    def mark_used(self, uids) -> None:
        idx = self.index_of(np.asarray(uids, object))
        self.used[idx[idx >= 0]] = True

    def unused_rejects(self):
        """Sales series no stock row asked for (one entry per series: its first row, row count)."""
        idx = np.flatnonzero(~self.used)
        return reject_frame("sales", self.first_row[idx], self.uids[idx], "not_in_stock",
                            [f"{int(k)} sales rows" for k in self.n_rows[idx]])


def missing_ids(uid) -> np.ndarray:
    """Rows of text ids (as_text_ids' form) with no id: None or empty."""
    import pandas as pd
    return np.asarray(pd.isna(uid) | (uid == ""), bool)


class SalesBatch:
    """The checked key columns of sales rows: text ids, days, values and the row-level faults."""

    def __init__(self, uid, ds, y):
        self.uid, self.ds, self.y = uid, ds, y
        self.no_id = missing_ids(uid)
        self.bad_ds = np.isnat(ds) & ~self.no_id
        self.valid = ~(self.no_id | self.bad_ds)


_BLANK_DATES = {"", "nat", "nan", "none", "null"}


def first_date_text(ds):
    """The first non-blank date string of a column; "" when its first value is already a date
    (or the column holds no string at all), None when the column has only blanks so far."""
    if ds.dtype.kind == "M":
        return ""
    for v in ds.to_numpy():
        if isinstance(v, str):
            if v.strip().lower() not in _BLANK_DATES:
                return v
        elif v is not None and v == v:        # a parsed date (datetime.date, Timestamp), not a blank
            return ""
    return None


def ds_text_format(first_text) -> str | None:
    """The date format for every batch of one file, from its first non-blank date string (what
    pandas guesses for a whole column): None when the dates are parsed already, "mixed"
    (value by value) when that string fits no format."""
    from pandas.tseries.api import guess_datetime_format
    if not first_text:
        return None
    return guess_datetime_format(first_text) or "mixed"


def bad_ds_detail(ds, rows) -> list:
    """The rejects' detail of unreadable dates: the value as read (Python objects, so a blank
    reads nan whatever the dtype its batch got)."""
    return [f"ds={v!r}" for v in ds.astype(object).to_numpy()[rows]]


def bad_sales_y(y) -> np.ndarray:
    """Sales values a series may not carry: NaN, infinite, negative or fractional."""
    return ~np.isfinite(y) | (y < 0) | (y != np.round(y))


def parse_sales_batch(sales, ds_format: str | None = None) -> SalesBatch:
    """unique_id as text, ds as days (NaT where not a date, parsed with ``ds_format`` when
    given), y as float64 (NaN where not a number) of a sales frame or batch; a missing column or
    a column of the wrong kind raises (a column with no value at all, as a batch of blank CSV
    rows reads, is not checked)."""
    import pandas as pd
    missing = [c for c in ("unique_id", "ds", "y") if c not in sales.columns]
    if missing:
        raise ValueError(f"sales: missing column(s) {missing}; has {list(sales.columns)}")
    valued = lambda c: sales[c].notna().any()   # noqa: E731
    if sales["ds"].dtype.kind in "iufb" and valued("ds"):
        raise TypeError(f"sales: column 'ds' must hold dates, got dtype {sales['ds'].dtype}")
    uid = as_text_ids(sales["unique_id"])
    ds = sales["ds"] if sales["ds"].dtype.kind not in "iufb" else sales["ds"].astype(object)
    ds = pd.to_datetime(ds, errors="coerce", format=ds_format)
    ds = ds.to_numpy("datetime64[ns]").astype("datetime64[D]")
    if sales["y"].dtype.kind in "bMm" and valued("y"):
        raise TypeError(f"sales: column 'y' must hold numbers, got dtype {sales['y'].dtype}")
    y = pd.to_numeric(sales["y"], errors="coerce").to_numpy(np.float64)
    return SalesBatch(uid, ds, y)


def model_rows(rows, uid, days, y):
    """The window rows a model reads: the sales rows (covariates kept) with the checked id as
    text, ds as a timestamp and a missing y as 0."""
    frame = rows.reset_index(drop=True)
    frame["unique_id"] = uid
    frame["ds"] = days.astype("datetime64[ns]")
    frame["y"] = np.where(np.isfinite(y), y, 0.0)
    return frame


def flag_series(n, bad_text: dict, dup_text: dict, first_d, last_d, counts, last_all, gaps, min_days):
    """Per-series reject reason and detail, the first that applies in this order: a bad value
    (bad_text: series -> detail), a repeated day (dup_text), a gap or an early end (gaps =
    "reject"), too short a history."""
    reason = np.full(n, None, object)
    detail = np.full(n, "", object)

    def flag(mask, name, text):
        new = mask & (reason == None)  # noqa: E711  (object array)
        reason[new] = name
        detail[new] = [text(i) for i in np.flatnonzero(new)]

    def has(texts):
        m = np.zeros(n, bool)
        m[list(texts)] = True
        return m

    flag(has(bad_text), "sales_bad_y", bad_text.__getitem__)
    flag(has(dup_text), "sales_duplicate_ds", dup_text.__getitem__)
    span = (last_d - first_d).astype(np.int64) + 1
    if gaps == "reject":
        flag(span != counts, "sales_gap", lambda i: f"{int(span[i] - counts[i])} missing days between "
                                                    f"{first_d[i]} and {last_d[i]}")
        flag(last_d < last_all, "history_ends_early", lambda i: f"last ds {last_d[i]}, file ends {last_all}")
    n_days = (last_all - first_d).astype(np.int64) + 1
    flag(n_days < min_days, "short_history", lambda i: f"{int(n_days[i])} days, need {min_days}")
    return reason, detail


def prepare_history(sales, days_needed: int, keep_frame: bool, gaps: str = "reject",
                    min_days: int = 1) -> History:
    """Validate a long sales frame (unique_id, ds, y [+ covariates]).

    days_needed: days of history the forecaster reads, ending on the latest ds of the file.
    keep_frame: keep a trimmed long frame (model path) instead of the dense array (NB baseline).
    gaps: "reject" (series with missing days or ending early are rejected) or "zero" (missing
    days are zero sales; NB baseline only). min_days: fewer days of history -> short_history.
    (Files are validated in batches by stream_history.prepare_history_streamed, same result.)
    """
    import pandas as pd
    if gaps not in ("reject", "zero"):
        raise ValueError(f"gaps: must be 'reject' or 'zero', got {gaps!r}")
    b = parse_sales_batch(sales, ds_text_format(first_date_text(sales["ds"])) if "ds" in sales.columns else None)
    uid, ds, y = b.uid, b.ds, b.y
    h = History()
    rej = []
    if b.no_id.any():
        r = np.flatnonzero(b.no_id)
        rej.append(reject_frame("sales", r, uid[r], "missing_unique_id", ""))
    if b.bad_ds.any():
        r = np.flatnonzero(b.bad_ds)
        rej.append(reject_frame("sales", r, uid[r], "bad_ds", bad_ds_detail(sales["ds"], r)))
    h.row_rejects = pd.concat(rej, ignore_index=True) if rej else reject_frame("sales", [], [], [], [])
    keep = np.flatnonzero(b.valid)
    if keep.size == 0:
        return h
    uid_k = uid[keep].astype(str)
    order = np.lexsort((ds[keep], uid_k))            # sorted by (unique_id, ds); unsorted input is fine
    rows = keep[order]
    u, d, yy = uid_k[order], ds[rows], y[rows]
    uniq, starts, counts = np.unique(u, return_index=True, return_counts=True)
    ends = starts + counts
    n = len(uniq)
    h.uids = uniq.astype(object)
    h.first_row = np.minimum.reduceat(rows, starts)
    h.n_rows = counts.astype(np.int64)
    h.used = np.zeros(n, bool)
    last_all = d.max()
    h.last_ds = last_all
    series_of = np.repeat(np.arange(n), counts)
    bad_text, dup_text = {}, {}
    bad_y = bad_sales_y(yy)
    if bad_y.any():
        first_bad = np.full(n, -1, np.int64)
        bi = np.flatnonzero(bad_y)
        first_bad[series_of[bi[::-1]]] = bi[::-1]
        bad_text = {i: f"y={value_text(yy[first_bad[i]])} at ds={d[first_bad[i]]}" for i in np.flatnonzero(first_bad >= 0)}
    dup = np.zeros(len(d), bool)
    dup[1:] = (d[1:] == d[:-1]) & (series_of[1:] == series_of[:-1])
    if dup.any():
        first_dup = np.full(n, -1, np.int64)
        di = np.flatnonzero(dup)
        first_dup[series_of[di[::-1]]] = di[::-1]
        dup_text = {i: f"ds={d[first_dup[i]]} repeated" for i in np.flatnonzero(first_dup >= 0)}
    h.reason, h.detail = flag_series(n, bad_text, dup_text, d[starts], d[ends - 1], counts, last_all, gaps, min_days)
    if keep_frame:
        cut = d > last_all - np.timedelta64(days_needed, "D")
        sel = rows[cut]
        h.frame = model_rows(sales.iloc[sel], u[cut], d[cut], yy[cut])
        sc = series_of[cut]
        h.starts = np.searchsorted(sc, np.arange(n), "left")
        h.ends = np.searchsorted(sc, np.arange(n), "right")
    else:
        col = (d - last_all).astype(np.int64) + days_needed - 1     # day index in the dense window
        ok = (col >= 0) & ~dup & np.isfinite(yy)
        dense = np.zeros((n, days_needed), np.float64)
        dense[series_of[ok], col[ok]] = yy[ok]
        h.dense = dense
    return h


def _duplicate_mask(uids, dup_first_rows, row0):
    """Rows whose unique_id appeared on an earlier stock row (dup_first_rows: uid -> first row)."""
    if not dup_first_rows:
        return np.zeros(len(uids), bool)
    rows = row0 + np.arange(len(uids))
    return np.array([u in dup_first_rows and r != dup_first_rows[u] for u, r in zip(uids, rows)], bool)


def duplicate_first_rows(ids) -> dict:
    """{unique_id: first row} for the ids that occur more than once in the stock input.

    ids: the id column as an array, or a zero-argument callable yielding it in batches of text
    ids (io.column_batches), read twice: first a 64-bit hash per row (8 B/row, so a streamed
    10M-row run checks the whole file in ~0.3 GiB), then the actual ids of the rows whose hash
    repeats (hash collisions are told apart there)."""
    import pandas as pd
    if ids is None:
        return {}
    if callable(ids):
        batches = ids
    else:
        text = as_text_ids(np.asarray(ids))
        batches = lambda: iter([text])   # noqa: E731
    hash_of = id_hashes
    h = [hash_of(b) for b in batches()]
    h = np.concatenate(h) if h else np.empty(0, np.uint64)
    h.sort()
    repeated = np.unique(h[1:][h[1:] == h[:-1]])
    del h
    if len(repeated) == 0:
        return {}
    rows, vals, row0 = [], [], 0
    for b in batches():
        pick = np.flatnonzero(np.isin(hash_of(b), repeated))
        rows.append(pick + row0)
        vals.append(b[pick])
        row0 += len(b)
    s = pd.Series(np.concatenate(rows), index=np.concatenate(vals))
    s = s[s.index.notna()]
    g = s.groupby(level=0, sort=False).agg(["min", "size"])
    g = g[g["size"] > 1]
    return {u: int(i) for u, i in zip(g.index, g["min"])}


def validate_stock(chunk, row0: int, *, default_service_level: float, default_review_period: int,
                   params: bool, dup_first_rows: dict):
    """Check one chunk of stock rows. Returns (valid: dict of per-row arrays incl. 'row', rejects frame)."""
    import pandas as pd
    need = [c for c, (default, _) in STOCK_COLUMNS.items() if default is None]
    if params:
        need += list(PARAM_COLUMNS)
    missing = [c for c in need if c not in chunk.columns]
    if missing:
        raise ValueError(f"stock: missing column(s) {missing}; has {list(chunk.columns)}"
                         + ("" if not params else " (without sales, every row needs mu and alpha)"))
    n = len(chunk)
    rows = row0 + np.arange(n, dtype=np.int64)
    uid = as_text_ids(chunk["unique_id"])
    reason = np.full(n, None, object)
    detail = np.full(n, "", object)
    flagged = np.zeros(n, bool)  # a row keeps its first reason (kept as bools: comparing the
                                 # object array to None on every check cost more than the checks)

    def flag(mask, name, text):
        new = np.asarray(mask, bool) & ~flagged
        if new.any():
            flagged[new] = True
            reason[new] = name
            detail[new] = [text(i) for i in np.flatnonzero(new)]

    flag(missing_ids(uid), "missing_unique_id", lambda i: "")
    flag(_duplicate_mask(uid, dup_first_rows, row0), "duplicate_unique_id",
         lambda i: f"first at stock row {dup_first_rows[uid[i]]}")
    vals = {}
    spec = dict(STOCK_COLUMNS)
    if params:
        spec.update({"mu": (None, "float"), "alpha": (None, "float")})
    for name, (default, kind) in spec.items():
        if kind == "id":
            continue
        if name in chunk.columns:
            v, orig = _numeric_column(chunk, name)
        else:
            d = {"service_level": default_service_level, "review_period": default_review_period}.get(name, default)
            v, orig = np.full(n, d, np.float64), None
        empty_ok = kind.endswith("_or_empty")
        nan = np.isnan(v)
        inf = np.isinf(v)
        shown = orig.to_numpy() if orig is not None else v
        flag((inf | (nan & ~empty_ok)), "not_a_number", lambda i, nm=name, s=shown: f"{nm}={value_text(s[i])}")
        if kind.startswith("count"):
            flag(np.isfinite(v) & (v != np.round(v)), "not_integer", lambda i, nm=name: f"{nm}={value_text(v[i])}")
        vals[name] = v
    for name in ("on_hand", "on_order"):
        flag(vals[name] < 0, "negative_stock", lambda i, nm=name: f"{nm}={vals[nm][i]:g}")
    checks = [
        ("lead_time", vals["lead_time"] < 0, "must be >= 0"),
        ("review_period", vals["review_period"] < 0, "must be >= 0"),
        ("moq", vals["moq"] < 0, "must be >= 0"),
        ("case_pack", vals["case_pack"] < 1, "must be >= 1"),
        ("max_order", vals["max_order"] < 0, "must be >= 0"),
        ("moq", vals["moq"] > vals["max_order"], "must be <= max_order"),
        ("service_level", ~((vals["service_level"] > 0) & (vals["service_level"] < 1)), "must be in (0, 1)"),
        ("unit_cost", vals["unit_cost"] < 0, "must be >= 0"),
        ("holding_cost_rate", vals["holding_cost_rate"] < 0, "must be >= 0"),
    ]
    if params:
        checks += [("mu", vals["mu"] < 0, "must be >= 0"), ("alpha", vals["alpha"] < 0, "must be >= 0")]
    for name, mask, rule in checks:
        with np.errstate(invalid="ignore"):
            flag(mask, "invalid_value", lambda i, nm=name, r=rule: f"{nm}={vals[nm][i]:g} {r}")
    bad = flagged
    rej = reject_frame("stock", rows[bad], uid[bad], reason[bad], detail[bad])
    good = ~bad
    out = {"row": rows[good], "unique_id": uid[good]}
    for name, v in vals.items():
        if name in ("service_level", "unit_cost", "holding_cost_rate", "mu", "alpha"):
            out[name] = v[good]
        elif name == "max_order":
            out[name] = np.where(np.isnan(v[good]), NO_LIMIT, np.nan_to_num(v[good])).astype(np.int64)
        else:
            out[name] = v[good].astype(np.int64)
    out["_has_limit"] = ~np.isnan(vals["max_order"][good])
    return out, rej
