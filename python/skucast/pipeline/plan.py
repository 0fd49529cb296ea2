"""The batch planning job: stock snapshot (+ sales history or NB parameters) -> forecast sample
paths -> lead-time + review demand -> order-up-to, safety stock -> order quantities, streamed
chunk by chunk so memory stays bounded; a row's result does not depend on the chunking
(counter-based sampling keyed by a stable hash of unique_id, step = forecast day)."""
from __future__ import annotations

import dataclasses
import os
import sys
import time

import numpy as np

from .. import inventory, nbinom
from ..aggregate import window_sum
from ..baselines import weekday_profile_nb
from ..quantiles import quantiles
from . import io
from .stream_history import prepare_history_streamed
from .validate import duplicate_first_rows, prepare_history, reject_frame, validate_stock

__all__ = ["plan", "Planner", "PlanResult", "BASELINE"]

BASELINE = "nb-baseline"
_POLICIES = ("RS", "base_stock", "sS")
_SAMPLE_BYTES = 1 << 26     # default chunk: about 64 MiB of sample paths per chunk
_PARAMS_CHUNK = 100_000     # default chunk of the parameters-only path


def _series_keys(uids):
    from ..models.panel import series_keys   # numpy + hashlib only (no torch)
    return series_keys(uids)


@dataclasses.dataclass
class PlanResult:
    """orders / rejects: DataFrames (None when written to files: see orders_path /
    rejects_path); stats: rows in, planned, rejected, seconds, forecaster."""
    orders: object
    rejects: object
    orders_path: str | None
    rejects_path: str | None
    stats: dict


class _Progress:
    """tqdm when importable, else a plain line on stderr every few seconds."""

    def __init__(self, total, enabled):
        self.total, self.done, self.bar = total, 0, None
        self.enabled = enabled
        self.t0 = self.last = time.perf_counter()
        if enabled:
            try:
                from tqdm import tqdm
                self.bar = tqdm(total=total, unit="rows", desc="skucast plan", file=sys.stderr)
            except ImportError:
                pass

    def update(self, n):
        self.done += n
        if not self.enabled:
            return
        if self.bar is not None:
            self.bar.update(n)
            return
        now = time.perf_counter()
        if now - self.last >= 2.0 or (self.total and self.done >= self.total):
            self.last = now
            of = f"/{self.total:,}" if self.total else ""
            print(f"skucast plan: {self.done:,}{of} rows, {now - self.t0:.0f} s, "
                  f"{self.done / max(now - self.t0, 1e-9):,.0f} rows/s", file=sys.stderr, flush=True)

    def close(self):
        if self.bar is not None:
            self.bar.close()


_FORECASTERS: dict = {}   # model path -> Forecaster, one load per process (Dask workers too)


def _history(sales, days_needed, **kw):
    """The validated history: a DataFrame in memory as it is, a file in batches (memory follows
    the series and the window, not the file)."""
    if io.is_frame(sales):
        return prepare_history(sales, days_needed, **kw)
    return prepare_history_streamed(sales, days_needed, **kw)


def _load_forecaster(path):
    f = _FORECASTERS.get(str(path))
    if f is None:
        from ..models.forecaster import Forecaster
        f = _FORECASTERS[str(path)] = Forecaster.load(str(path))
    return f


class Planner:
    """Everything that does not change from chunk to chunk: the validated history (or the
    parameters-only mode), the forecaster and the options. ``plan_chunk`` is the unit of work
    of both the streamed run and the Dask partitions. Picklable (the model is reloaded per
    process from its path)."""

    def __init__(self, sales=None, model=None, *, futr=None, service_level=0.95, review_period=7,
                 levels=(0.5, 0.9), num_samples=200, seed=0, target="csl", policy="RS", gaps="reject",
                 weeks=8):
        if policy not in _POLICIES:
            raise ValueError(f"policy: must be one of {list(_POLICIES)}, got {policy!r}")
        if target not in ("csl", "fill_rate"):
            raise ValueError(f"target: must be 'csl' or 'fill_rate', got {target!r}")
        if not 0 < float(service_level) < 1:
            raise ValueError(f"service_level: must be in (0, 1), got {service_level!r}")
        self.levels = [float(q) for q in np.atleast_1d(levels)]
        if any(not 0 < q < 1 for q in self.levels):
            raise ValueError(f"levels: each must be in (0, 1), got {levels!r}")
        self.service_level, self.review_period = float(service_level), int(review_period)
        self.num_samples, self.seed, self.target, self.policy = int(num_samples), int(seed), target, policy
        self.weeks, self.futr = int(weeks), futr
        self.model_path = None
        self._forecaster = None
        if sales is not None and not io.is_frame(sales) and not os.path.exists(sales):
            raise FileNotFoundError(f"sales: no such file {sales}")
        self.params = sales is None
        if self.params:
            if model not in (None, BASELINE):
                raise ValueError("model: a model needs sales history; without sales the stock rows must "
                                 "carry NB parameters mu and alpha")
            self.forecaster_name = "nb-params"
            self.history = None
            return
        if model is None or model == BASELINE:
            self.forecaster_name = BASELINE
            days = 7 * self.weeks
            self.history = _history(sales, days, keep_frame=False, gaps=gaps, min_days=days)
            self.horizon = None
            return
        if isinstance(model, (str, bytes)) or hasattr(model, "__fspath__"):
            self.model_path = str(model)
            f = _load_forecaster(self.model_path)
            self.forecaster_name = f"{f.spec['model']}:{self.model_path.replace(chr(92), '/').rsplit('/', 1)[-1]}"
        else:                        # a Forecaster object (single process only)
            f = self._forecaster = model
            self.forecaster_name = f.spec["model"]
        if gaps != "reject":
            raise ValueError("gaps: 'zero' is for the NB baseline; a model needs complete histories")
        spec = f.spec
        from ..data.frames import CALENDAR_COVARIATES
        need = list(spec["numeric"]) + [c for c in spec["categorical"] if c not in CALENDAR_COVARIATES]
        lacking = [c for c in need if c not in io.column_names(sales)]
        if lacking:
            raise ValueError(f"model: {self.forecaster_name} was trained with covariates {need}; "
                             f"sales lacks {lacking}")
        if need and futr is None:
            raise ValueError(f"futr: the model uses future covariates {need}; pass futr (unique_id, ds and "
                             "those columns for the horizon days)")
        self.futr = io.read_frame(futr, "futr")
        self.horizon = int(spec["horizon"])
        lags = spec["lags"]
        self.history = _history(sales, (max(lags) if lags else 0) + spec["context_length"],
                                keep_frame=True, gaps=gaps, min_days=1)

    def __getstate__(self):
        st = dict(self.__dict__)
        if self.model_path is not None:
            st["_forecaster"] = None
        return st

    @property
    def forecaster(self):
        if self._forecaster is None and self.model_path is not None:
            self._forecaster = _load_forecaster(self.model_path)
        return self._forecaster

    def default_chunk_size(self) -> int:
        if self.params:
            return _PARAMS_CHUNK
        h = self.horizon or 28
        return max(256, _SAMPLE_BYTES // (8 * self.num_samples * h))

    # ------------------------------------------------------------------ one chunk
    def plan_chunk(self, chunk, row0: int, dup_first_rows: dict):
        """Plan one chunk of stock rows (``row0``: its first row's position in the whole
        input). Returns (orders frame, rejects frame)."""
        import pandas as pd
        v, rej = validate_stock(chunk, row0, default_service_level=self.service_level,
                                default_review_period=self.review_period, params=self.params,
                                dup_first_rows=dup_first_rows)
        rejects = [rej]
        if not self.params:
            if "unique_id" in chunk.columns:   # a stock row rejected for its own fields still uses its series
                self.history.mark_used(io.as_text_ids(chunk["unique_id"]))
            idx = self.history.index_of(v["unique_id"])
            known = idx >= 0
            reason = np.full(len(idx), None, object)
            detail = np.full(len(idx), "", object)
            reason[~known] = "unknown_sku"
            reason[known] = self.history.reason[idx[known]]
            detail[known] = self.history.detail[idx[known]]
            if self.horizon is not None:
                window = v["lead_time"] + v["review_period"]
                over = (reason == None) & (window > self.horizon)  # noqa: E711
                reason[over] = "horizon_exceeds_model"
                detail[over] = [f"lead_time + review_period = {w} > {self.horizon}" for w in window[over]]
            bad = reason != None  # noqa: E711
            if bad.any():
                rejects.append(reject_frame("stock", v["row"][bad], v["unique_id"][bad], reason[bad], detail[bad]))
                v = {k: a[~bad] for k, a in v.items()}
                idx = idx[~bad]
        n = len(v["row"])
        if n == 0:
            out = self._frame(v, *(np.zeros(0, np.int64),) * 2, np.zeros(0), np.zeros((0, len(self.levels))),
                              np.zeros(0, np.int64), np.zeros(0, np.int8))
        elif self.params:
            out = self._plan_params(v)
        else:
            out = self._plan_samples(v, self._samples(v, idx))
        rejects = pd.concat(rejects, ignore_index=True) if len(rejects) > 1 else rejects[0]
        return out, _typed_rejects(rejects.sort_values("row", kind="stable").reset_index(drop=True))

    def _samples(self, v, idx):
        """(n, num_samples, horizon) int64 sample paths for the chunk's rows."""
        if self.horizon is None:     # NB baseline from the dense history
            h = max(int((v["lead_time"] + v["review_period"]).max()), 1)
            mu, alpha = weekday_profile_nb(self.history.dense[idx], horizon=h, weeks=self.weeks)
            keys = _series_keys(v["unique_id"])
            paths = nbinom.sample(mu, alpha[:, None], self.num_samples, self.seed, keys=keys[:, None],
                                  step=np.arange(h)[None, :])
            return np.moveaxis(paths, -1, 1)
        hist = self.history
        rows = np.concatenate([np.arange(hist.starts[i], hist.ends[i]) for i in idx])
        sub = hist.frame.iloc[rows]
        fc = self.forecaster.predict(sub, self.futr, horizon=self.horizon, num_samples=self.num_samples,
                                     seed=self.seed)
        pos = np.searchsorted(np.asarray(fc.unique_id, dtype=str), np.asarray(v["unique_id"], dtype=str))
        return fc.samples[pos]

    def _plan_samples(self, v, paths):
        lt, rp = v["lead_time"], v["review_period"]
        demand = window_sum(paths, 0, lt + rp)                          # (n, num_samples)
        qs = quantiles(demand, self.levels, axis=1).astype(np.float64)  # (n, levels)
        n = len(lt)
        S, s = np.zeros(n, np.int64), np.zeros(n, np.int64)
        mean = np.zeros(n)
        for q, g in _by_target(v["service_level"]):
            r = inventory.order_up_to(samples=paths[g], lead_time=lt[g], review_period=rp[g], service_level=q,
                                      target=self.target)
            S[g], s[g], mean[g] = r.S, r.s, r.mean_demand
        rep = inventory.replenish(on_hand=v["on_hand"], on_order=v["on_order"], S=S, s=s, policy=self.policy,
                                  moq=v["moq"], case_pack=v["case_pack"], max_order=v["max_order"])
        return self._frame(v, S, s, mean, qs, rep.order, rep.reason)

    def _plan_params(self, v):
        lt, rp = v["lead_time"], v["review_period"]
        mu, alpha = v["mu"], v["alpha"]
        n = len(lt)
        S, s = np.zeros(n, np.int64), np.zeros(n, np.int64)
        order, reason = np.zeros(n, np.int64), np.zeros(n, np.int8)
        for q, g in _by_target(v["service_level"]):
            r = inventory.plan_orders(mu=mu[g], alpha=alpha[g], lead_time=lt[g], review_period=rp[g],
                                      on_hand=v["on_hand"][g], on_order=v["on_order"][g], service_level=q,
                                      target=self.target, policy=self.policy, moq=v["moq"][g],
                                      case_pack=v["case_pack"][g], max_order=v["max_order"][g],
                                      return_levels=True)
            S[g], s[g], order[g], reason[g] = r.S, r.s, r.order, r.reason
        days = (lt + rp).astype(np.float64)
        mean = mu * days
        # the sum of D iid NB(mu, alpha) days is NB(D mu, alpha / D): exact window quantiles
        pos = mean > 0
        qs = np.zeros((n, len(self.levels)))
        if pos.any():
            qs[pos] = nbinom.ppf(np.asarray(self.levels)[None, :], mean[pos, None],
                                 (alpha[pos] / days[pos])[:, None])
        return self._frame(v, S, s, mean, qs, order, reason)

    def _frame(self, v, S, s, mean, qs, order, reason):
        import pandas as pd
        def text(names, codes):  # a string column of a few names: one take, no Python str per row
            return pd.array(names, dtype="string").take(np.asarray(codes, np.intp))

        cols = {
            "row": v["row"], "unique_id": pd.array(v["unique_id"], dtype="string"),
            "forecaster": text([self.forecaster_name], np.zeros(len(v["row"]), np.intp)),
        }
        for c in ("on_hand", "on_order", "lead_time", "review_period"):
            cols[c] = v[c]
        cols["service_level"] = v["service_level"]
        cols["demand_mean"] = mean
        for k, q in enumerate(self.levels):
            cols[f"demand_q{q:g}"] = qs[:, k]
        cols["order_up_to"] = S
        cols["reorder_point"] = s
        cols["safety_stock"] = S - mean
        cols["order"] = order
        cols["reason"] = text(list(inventory.REASON_NAMES), reason)
        cols["order_value"] = order * v["unit_cost"]
        cols["safety_stock_holding_cost"] = np.maximum(S - mean, 0) * v["unit_cost"] * v["holding_cost_rate"]
        return pd.DataFrame(cols)

    def empty_orders(self):
        v = {k: np.zeros(0, np.int64) for k in ("row", "on_hand", "on_order", "lead_time", "review_period")}
        v.update(unique_id=np.zeros(0, object), service_level=np.zeros(0), unit_cost=np.zeros(0),
                 holding_cost_rate=np.zeros(0))
        z = np.zeros(0, np.int64)
        return self._frame(v, z, z, np.zeros(0), np.zeros((0, len(self.levels))), z, np.zeros(0, np.int8))

    def final_rejects(self):
        """Sales rows rejected on their own and sales series no stock row asked for."""
        import pandas as pd
        if self.history is None:
            return _typed_rejects(reject_frame("sales", [], [], [], []))
        return _typed_rejects(pd.concat([self.history.row_rejects, self.history.unused_rejects()],
                                        ignore_index=True).sort_values("row", kind="stable")
                              .reset_index(drop=True))


def _by_target(service_level):
    """(target, rows) per distinct service level; rows is every row (a slice: views, no copies of
    the chunk's arrays or sample paths) when the chunk has one target, as it usually has."""
    targets = np.unique(service_level)
    if len(targets) == 1:
        return [(targets[0], slice(None))]
    return [(q, service_level == q) for q in targets]


def _typed_rejects(df):
    for c in ("source", "unique_id", "reason", "detail"):
        df[c] = df[c].astype("string")
    df["row"] = df["row"].astype(np.int64)
    return df


def collect(results, planner, out, rejects, bar):
    """Drain (orders, rejects, n_stock_rows) per chunk into files (written atomically) or frames.

    Shared by :func:`plan` and ``skucast.dask.plan``. Returns (orders_df, rejects_df,
    orders_path, rejects_path, counts) with counts = (stock rows, planned, rejected, sales rejects).
    """
    import pandas as pd
    writers = None
    if out is not None:
        rejects = rejects or io.rejects_path_for(out)
        writers = (io.AtomicWriter(out), io.AtomicWriter(rejects))
    kept_o, kept_r = [], []
    rows = planned = rejected = 0
    try:
        for o, r, n in results:
            rows += n
            planned += len(o)
            rejected += len(r)
            if writers:
                if len(o):
                    writers[0].write(o)
                if len(r):
                    writers[1].write(r)
            else:
                kept_o.append(o)
                kept_r.append(r)
            bar.update(n)
        final = planner.final_rejects()
        if writers:
            if len(final):
                writers[1].write(final)
            orders_path = writers[0].commit(planner.empty_orders())
            rejects_path = writers[1].commit(final.iloc[:0])
            orders_df = rejects_df = None
        else:
            orders_path = rejects_path = None
            orders_df = pd.concat(kept_o, ignore_index=True) if kept_o else planner.empty_orders()
            rejects_df = pd.concat(kept_r + [final], ignore_index=True)
    except BaseException:
        if writers:
            for w in writers:
                w.abort()
        raise
    finally:
        bar.close()
    return orders_df, rejects_df, orders_path, rejects_path, (rows, planned, rejected, len(final))


def plan(sales=None, stock=None, model=None, *, out=None, rejects=None, service_level=0.95, review_period=7,
         levels=(0.5, 0.9), num_samples=200, seed=0, target="csl", policy="RS", gaps="reject", weeks=8,
         futr=None, chunk_size=None, progress=None) -> PlanResult:
    """Plan today's orders for every stock row: history -> forecast sample paths -> demand over
    lead time + review period -> order-up-to and safety stock -> order quantity with the stock
    rules (moq, case pack, max order).

    Parameters
    ----------
    sales : long frame or .parquet/.csv path: unique_id, ds, y [+ the model's covariates].
        None = parameters-only: each stock row carries daily NB parameters ``mu`` and ``alpha``.
    stock : frame or .parquet/.csv path, one row per SKU: unique_id, on_hand, lead_time, and
        optionally on_order (0), review_period (``review_period``), moq (0), case_pack (1),
        max_order (empty = no limit), service_level (``service_level``), unit_cost,
        holding_cost_rate (annual; empty = unknown).
    model : None or "nb-baseline" (day-of-week NB from the last ``weeks`` weeks), a model file
        written by ``skucast.train`` (.pt / .pt2), or a ``skucast.Forecaster``.
    out, rejects : output paths (.parquet or .csv). Written to a temporary name and renamed when
        the run completes. ``rejects`` defaults to ``<out stem>.rejects.<ext>``. Without ``out``
        the frames are returned in memory.
    levels : quantile levels of the demand over lead time + review period (output columns
        ``demand_q<level>``). num_samples, seed : sample paths per series and the sampler seed.
    target : "csl" or "fill_rate"; policy : "RS", "base_stock" or "sS".
    gaps : "reject" (series with missing days are rejected) or "zero" (missing days = no sales;
        NB baseline only).
    chunk_size : stock rows per chunk (default: ~64 MiB of sample paths, or 100k rows without
        sales). Results are identical for any chunk size.
    progress : True / False / None (auto: on for inputs of >= 200k rows).

    Every stock row ends in the orders (``row`` = its position in the input) or in the rejects
    (source, row, unique_id, reason, detail; reasons in ``skucast.pipeline.REJECT_REASONS``),
    and so does every sales series (``not_in_stock``) and unusable sales row.

    >>> res = skucast.plan("sales.parquet", "stock.parquet", service_level=0.95)
    >>> res.orders[["unique_id", "order_up_to", "safety_stock", "order", "reason"]]
    """
    if stock is None:
        raise ValueError("stock: required (a frame or a .parquet/.csv path)")
    t0 = time.perf_counter()
    planner = Planner(sales, model, futr=futr, service_level=service_level, review_period=review_period,
                      levels=levels, num_samples=num_samples, seed=seed, target=target, policy=policy,
                      gaps=gaps, weeks=weeks)
    chunk_size = int(chunk_size or planner.default_chunk_size())
    if chunk_size < 1:
        raise ValueError(f"chunk_size: must be >= 1, got {chunk_size}")
    dup = duplicate_first_rows(io.column_batches(stock, "unique_id"))
    total = io.count_rows(stock)
    bar = _Progress(total, progress if progress is not None else (total is None or total >= 200_000))

    def chunks():
        row0 = 0
        for chunk in io.iter_frame(stock, chunk_size):
            o, r = planner.plan_chunk(chunk, row0, dup)
            row0 += len(chunk)
            yield o, r, len(chunk)

    orders_df, rejects_df, orders_path, rejects_path, counts = collect(chunks(), planner, out, rejects, bar)
    row0, planned, rejected, sales_rejected = counts
    stats = {"stock_rows": row0, "planned": planned, "stock_rejected": rejected, "sales_rejects": sales_rejected,
             "forecaster": planner.forecaster_name, "seconds": time.perf_counter() - t0, "chunk_size": chunk_size}
    return PlanResult(orders_df, rejects_df, orders_path, rejects_path, stats)
