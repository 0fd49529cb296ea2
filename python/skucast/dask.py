"""``skucast.dask.plan``: the planning job of ``skucast.plan`` run partition by partition on a Dask
cluster. Each partition is one chunk of the same pipeline (counter-based sampling keyed by
unique_id), so the orders equal a single-process run row for row. Dask is imported only here
(``pip install 'skucast[dask]'``)."""
from __future__ import annotations

import os
import time

import numpy as np

__all__ = ["plan"]


def _dask():
    try:
        import dask
        import dask.dataframe as dd
    except ImportError as e:
        raise ImportError(f"skucast.dask needs the 'dask' extra: pip install 'skucast[dask]' ({e})") from e
    return dask, dd


def _client(client, scheduler):
    """(client, owned objects to close). scheduler: an address, 'local' or 'local:N' (N workers)."""
    if client is not None:
        return client, []
    if scheduler is None:
        try:
            from distributed import get_client
            return get_client(), []
        except (ImportError, ValueError):
            return None, []
    from distributed import Client, LocalCluster
    if str(scheduler).startswith("local"):
        n = int(str(scheduler).split(":", 1)[1]) if ":" in str(scheduler) else min(4, os.cpu_count() or 1)
        cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=False, dashboard_address=":0")
        c = Client(cluster)
        return c, [c, cluster]
    c = Client(scheduler)
    return c, [c]


def _as_ddf(stock, partition_size):
    import pandas as pd
    dask, dd = _dask()
    if isinstance(stock, dd.DataFrame):
        return stock
    if isinstance(stock, pd.DataFrame):
        return dd.from_pandas(stock, chunksize=int(partition_size or 100_000), sort=False)
    path = str(stock)
    if not os.path.exists(path):
        raise FileNotFoundError(f"stock: no such file {path}")
    if path.lower().endswith((".parquet", ".pq")):
        return dd.read_parquet(path, split_row_groups=True)
    return dd.read_csv(path, dtype={"unique_id": str}, blocksize="16MB")


def _run(planner, part, row0, dup):
    return planner.plan_chunk(part, int(row0), dup)


def plan(stock, sales=None, model=None, *, client=None, scheduler=None, out=None, rejects=None,
         partition_size=None, progress=None, chunk_size=None, **kwargs):
    """Run :func:`skucast.plan` over the partitions of a Dask DataFrame of stock rows.

    stock : dask DataFrame, pandas DataFrame (split into ``partition_size`` rows) or a
        .parquet/.csv path (read with dask). sales, model and the other keywords are as in
        :func:`skucast.plan`; sales is validated once on the client and shipped to the workers
        (scattered); a model is loaded from its file once per worker process.
    client / scheduler : a ``distributed.Client``, or a scheduler address, or "local[:N]"
        (a LocalCluster of N in-process workers); default: the current client, else Dask's
        local threads.

    Returns a :class:`skucast.pipeline.PlanResult`; orders and rejects are equal to the
    single-process run (``row`` is the position in the whole stock input).

    >>> from distributed import Client; c = Client("tcp://scheduler:8786")
    >>> skucast.dask.plan(dd.read_parquet("stock/"), sales="sales.parquet", out="orders.parquet")
    """
    dask, dd = _dask()
    from .pipeline import io
    from .pipeline.plan import Planner, PlanResult, _Progress, collect
    from .pipeline.validate import duplicate_first_rows
    t0 = time.perf_counter()
    planner = Planner(sales, model, **kwargs)
    ddf = _as_ddf(stock, partition_size or chunk_size)
    c, owned = _client(client, scheduler)
    try:
        parts = ddf.to_delayed()
        lengths = dask.compute(*[dask.delayed(len)(p) for p in parts], **({} if c else {"scheduler": "threads"}))
        offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
        total = int(np.sum(lengths))
        uids = ddf["unique_id"].compute().to_numpy() if "unique_id" in ddf.columns else None
        dup = duplicate_first_rows(uids)
        if planner.history is not None and uids is not None:
            planner.history.used[:] = False
            planner.history.mark_used(io.as_text_ids(uids))
        pl = c.scatter(planner, broadcast=True) if c else planner
        tasks = [dask.delayed(_run)(pl, p, int(o), dup) for p, o in zip(parts, offsets)]
        bar = _Progress(total, progress if progress is not None else total >= 200_000)
        if c:
            futures = c.compute(tasks)

            def results():
                for k, f in enumerate(futures):
                    o, r = f.result()
                    f.release()
                    yield o, r, lengths[k]
        else:
            def results():
                for k, (o, r) in enumerate(dask.compute(*tasks, scheduler="threads")):
                    yield o, r, lengths[k]
        orders_df, rejects_df, orders_path, rejects_path, counts = collect(results(), planner, out, rejects, bar)
        _, planned, rejected, sales_rejected = counts
    finally:
        for obj in owned:
            obj.close()
    stats = {"stock_rows": total, "planned": planned, "stock_rejected": rejected, "sales_rejects": sales_rejected,
             "forecaster": planner.forecaster_name, "seconds": time.perf_counter() - t0,
             "partitions": len(parts)}
    return PlanResult(orders_df, rejects_df, orders_path, rejects_path, stats)
