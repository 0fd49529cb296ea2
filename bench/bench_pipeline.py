"""Benchmark of the batch planning pipeline (issue 5): end-to-end `skucast.plan` from files to
files, each case in a fresh subprocess so its peak RSS (resource.getrusage) is its own.

    python bench/bench_pipeline.py params --rows 1000000            # NB parameters, no model
    python bench/bench_pipeline.py params --rows 10000000           # the streamed 10M-row run
    python bench/bench_pipeline.py baseline --series 100000         # NB baseline from 56 days of history
    python bench/bench_pipeline.py deepar --series 10000            # DeepAR (the demo model) inference
    python bench/bench_pipeline.py history --series 20000           # sales-file check, batched (2 years)
    python bench/bench_pipeline.py history_whole --series 20000     # the same, whole frame in memory
    python bench/bench_pipeline.py all                              # the RESULTS.md set

Inputs are generated into bench/out/pipeline/ first (not timed); rows/s counts stock rows.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out" / "pipeline"
MODEL = ROOT / "python" / "skucast" / "demo_data" / "deepar_ca1.pt"


def _ids(a, b):
    return np.char.add("sku", np.arange(a, b).astype(str))


def gen_stock(path: Path, rows: int, params: bool, seed: int = 0, block: int = 1_000_000):
    import pyarrow as pa
    import pyarrow.parquet as pq
    rng = np.random.default_rng(seed)
    writer = None
    for a in range(0, rows, block):
        b = min(rows, a + block)
        n = b - a
        cols = {
            "unique_id": pa.array(_ids(a, b)),
            "on_hand": rng.integers(0, 40, n), "on_order": rng.integers(0, 10, n),
            "lead_time": rng.integers(1, 8, n), "review_period": np.full(n, 7),
            "moq": rng.integers(0, 3, n) * 6, "case_pack": rng.choice([1, 6, 12], n),
            "max_order": np.where(rng.random(n) < 0.5, np.nan, 500.0),
            "service_level": rng.choice([0.9, 0.95, 0.98], n),
            "unit_cost": rng.uniform(0.5, 20, n), "holding_cost_rate": np.full(n, 0.25),
        }
        if params:
            cols["mu"] = rng.gamma(0.8, 2.0, n)
            cols["alpha"] = rng.uniform(0.0, 1.5, n)
        t = pa.table(cols)
        if writer is None:
            writer = pq.ParquetWriter(path, t.schema)
        writer.write_table(t, row_group_size=200_000)
    writer.close()


def gen_sales(path: Path, series: int, days: int, seed: int = 1):
    import pandas as pd
    rng = np.random.default_rng(seed)
    lam = rng.gamma(0.8, 2.0, series)
    y = rng.poisson(lam[:, None] * (1 + 0.4 * (np.arange(days) % 7 >= 5)), (series, days))
    ds = pd.date_range(end="2016-04-24", periods=days)
    pd.DataFrame({"unique_id": np.repeat(_ids(0, series), days), "ds": np.tile(ds, series),
                  "y": y.ravel().astype(np.float64)}).to_parquet(path)


HISTORY_DAYS = 730


def run_history(case: str, series: int) -> dict:
    """Runs in the child: the NB baseline's check of a sales file (56-day window), batched or
    from the whole frame; returns the figures."""
    from skucast.pipeline import io
    from skucast.pipeline.stream_history import prepare_history_streamed
    from skucast.pipeline.validate import prepare_history
    base_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    sales = str(OUT / f"sales_history_{series}.parquet")
    t0 = time.perf_counter()
    if case == "history":
        h = prepare_history_streamed(sales, 56, keep_frame=False, min_days=56)
    else:
        h = prepare_history(io.read_frame(sales, "sales"), 56, keep_frame=False, min_days=56)
    sec = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rows = series * HISTORY_DAYS
    return {"case": case, "rows": rows, "series": len(h.uids), "seconds": sec, "rows_per_s": rows / sec,
            "peak_rss_mib": peak, "rss_after_imports_mib": base_rss}


def run_case(case: str, size: int, chunk: int | None, samples: int) -> dict:
    """Runs in the child: one plan() from files to files; returns the figures."""
    if case.startswith("history"):
        return run_history(case, size)
    import skucast
    skucast.set_num_threads(int(os.environ.get("BENCH_THREADS", "2")))
    try:
        import torch
        torch.set_num_threads(int(os.environ.get("BENCH_THREADS", "2")))
    except ImportError:
        pass
    from skucast.pipeline import plan
    base_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    stock = OUT / f"stock_{case}_{size}.parquet"
    sales = None if case == "params" else OUT / f"sales_{case}_{size}.parquet"
    model = str(MODEL) if case == "deepar" else None
    t0 = time.perf_counter()
    res = plan(None if sales is None else str(sales), str(stock), model=model, out=str(OUT / f"orders_{case}.parquet"),
               num_samples=samples, chunk_size=chunk, progress=True)
    sec = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"case": case, "rows": size, "seconds": sec, "rows_per_s": size / sec, "peak_rss_mib": peak,
            "rss_after_imports_mib": base_rss, "chunk_size": res.stats["chunk_size"], "planned": res.stats["planned"],
            "rejected": res.stats["stock_rejected"], "forecaster": res.stats["forecaster"], "num_samples": samples,
            "threads": int(os.environ.get("BENCH_THREADS", "2"))}


def gen_inputs(case: str, size: int) -> None:
    """The case's input files, unless they exist (run in a subprocess of its own: Linux passes a
    process's peak RSS on to the children it starts, which would inflate the timed child's)."""
    stock = OUT / f"stock_{case}_{size}.parquet"
    if case.startswith("history"):
        sales = OUT / f"sales_history_{size}.parquet"
        if not sales.exists():
            gen_sales(sales, size, HISTORY_DAYS)
        return
    if not stock.exists():
        gen_stock(stock, size, params=case == "params")
    if case != "params":
        sales = OUT / f"sales_{case}_{size}.parquet"
        if not sales.exists():
            gen_sales(sales, size, 56 if case == "baseline" else 84)


def bench(case: str, size: int, chunk: int | None = None, samples: int = 200) -> dict:
    OUT.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, PYTHONPATH=str(ROOT / "python"))
    subprocess.run([sys.executable, __file__, "_gen", case, str(size)], env=env, check=True)
    cmd = [sys.executable, __file__, "_child", case, str(size), str(chunk or 0), str(samples)]
    out = subprocess.run(cmd, env=env, check=True, stdout=subprocess.PIPE, text=True).stdout
    row = json.loads(out.strip().splitlines()[-1])
    print(json.dumps(row), flush=True)
    return row


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "_gen":
        gen_inputs(sys.argv[2], int(sys.argv[3]))
        return
    if len(sys.argv) > 1 and sys.argv[1] == "_child":
        case, size, chunk, samples = sys.argv[2], int(sys.argv[3]), int(sys.argv[4]) or None, int(sys.argv[5])
        print(json.dumps(run_case(case, size, chunk, samples)))
        return
    ap = argparse.ArgumentParser()
    ap.add_argument("case", choices=["params", "baseline", "deepar", "history", "history_whole", "all"])
    ap.add_argument("--rows", "--series", type=int, dest="size")
    ap.add_argument("--chunk", type=int)
    ap.add_argument("--samples", type=int, default=200)
    a = ap.parse_args()
    if a.case != "all":
        rows = [bench(a.case, a.size or 1_000_000, a.chunk, a.samples)]
    else:
        rows = [bench("params", 1_000_000), bench("params", 10_000_000), bench("baseline", 100_000),
                bench("deepar", 5_000, samples=100), bench("history", 20_000), bench("history_whole", 20_000)]
    path = OUT / "results.jsonl"
    with open(path, "a") as fh:
        for r in rows:
            fh.write(json.dumps(r) + "\n")


if __name__ == "__main__":
    main()
