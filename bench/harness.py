"""Shared benchmark harness for skucast.

Timing: ``timeit_median`` (time.perf_counter, median of repeats after warmup).
Threads: ``threads(n)`` sets the thread count of skucast, torch (if present) and
the BLAS under numpy (threadpoolctl, if present); numpy/scipy baselines get the
same thread count through ``run_chunked`` (a ThreadPoolExecutor(n) over n
chunks: numpy/scipy ufuncs, reductions, matmul and np.sort release the GIL).
"""
from __future__ import annotations

import concurrent.futures as cf
import contextlib
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

try:  # optional
    import torch  # type: ignore
except Exception:  # pragma: no cover - torch is optional
    torch = None

try:  # optional: lets us pin OpenBLAS threads so "n threads" is honest for matmul
    from threadpoolctl import threadpool_limits  # type: ignore
except Exception:  # pragma: no cover
    threadpool_limits = None

import skucast

BENCH_DIR = Path(__file__).resolve().parent
OUT_DIR = BENCH_DIR / "out"

_CURRENT_THREADS = [os.cpu_count() or 1]


# --------------------------------------------------------------------------- timing
def timeit_median(fn, repeats: int = 5, warmup: int = 1, max_seconds: float | None = None) -> float:
    """Median wall time (seconds) of ``fn()`` over ``repeats`` runs after ``warmup`` runs.

    If ``max_seconds`` is given, stop early once the timed runs exceed that budget
    (always at least 3 timed runs, or ``repeats`` if smaller).
    """
    for _ in range(warmup):
        fn()
    times = []
    spent = 0.0
    for i in range(repeats):
        t0 = time.perf_counter()
        fn()
        dt = time.perf_counter() - t0
        times.append(dt)
        spent += dt
        if max_seconds is not None and spent > max_seconds and i + 1 >= min(3, repeats):
            break
    return statistics.median(times)


def timeit_interleaved(fns: dict, repeats: int = 5, warmup: int = 1, max_seconds: float | None = None) -> dict:
    """Median wall time (seconds) of each of ``fns`` (name -> callable), timed in rounds that
    call every function once, so that a slow spell of a shared machine (another tenant,
    background page compaction) falls on all of them rather than on whichever ran then. The
    order rotates from round to round, so no function always runs right after the same other
    one (whose freed pages or cache state it would inherit).

    If ``max_seconds`` is given, stop after the round in which the timed runs exceed it (always
    at least 3 rounds, or ``repeats`` if smaller).
    """
    names = list(fns)
    for _ in range(warmup):
        for fn in fns.values():
            fn()
    times = {name: [] for name in names}
    spent = 0.0
    for i in range(repeats):
        k = i % len(names)
        for name in names[k:] + names[:k]:
            t0 = time.perf_counter()
            fns[name]()
            dt = time.perf_counter() - t0
            times[name].append(dt)
            spent += dt
        if max_seconds is not None and spent > max_seconds and i + 1 >= min(3, repeats):
            break
    return {name: statistics.median(t) for name, t in times.items()}


# --------------------------------------------------------------------------- threads
def _blas_limit(n):
    if threadpool_limits is None:
        return contextlib.nullcontext()
    return threadpool_limits(limits=n, user_api="blas")


@contextlib.contextmanager
def threads(n: int):
    """Run a block with ``n`` threads for skucast, torch and BLAS; restores afterwards."""
    old_sk = skucast.get_num_threads()
    old_torch = torch.get_num_threads() if torch is not None else None
    old_cur = _CURRENT_THREADS[0]
    skucast.set_num_threads(n)
    if torch is not None:
        torch.set_num_threads(n)
    _CURRENT_THREADS[0] = n
    try:
        with _blas_limit(n):
            yield n
    finally:
        skucast.set_num_threads(old_sk)
        if torch is not None:
            torch.set_num_threads(old_torch)
        _CURRENT_THREADS[0] = old_cur


def current_threads() -> int:
    return _CURRENT_THREADS[0]


_POOLS: dict[int, cf.ThreadPoolExecutor] = {}


def _pool(n: int) -> cf.ThreadPoolExecutor:
    if n not in _POOLS:
        _POOLS[n] = cf.ThreadPoolExecutor(max_workers=n)
    return _POOLS[n]


def chunk_bounds(length: int, n: int):
    """n contiguous (lo, hi) ranges covering [0, length)."""
    edges = np.linspace(0, length, n + 1).astype(np.int64)
    return [(int(edges[i]), int(edges[i + 1])) for i in range(n) if edges[i + 1] > edges[i]]


def run_chunked(fn, length: int, n: int | None = None):
    """Call ``fn(lo, hi)`` on n contiguous chunks of [0, length) with n threads.

    Returns the list of per-chunk results (in order). With n == 1 it is a plain call.
    BLAS is pinned to 1 thread per chunk while chunks run concurrently, so the
    total thread count is n.
    """
    n = current_threads() if n is None else n
    if n <= 1:
        return [fn(0, length)]
    bounds = chunk_bounds(length, n)
    with _blas_limit(1):
        futs = [_pool(n).submit(fn, lo, hi) for lo, hi in bounds]
        return [f.result() for f in futs]


# --------------------------------------------------------------------------- machine info
def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def mem_total_gib() -> float | None:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal"):
                    return round(int(line.split()[1]) / 2**20, 1)
    except OSError:
        pass
    return None


def machine_info() -> dict:
    import scipy

    info = {
        "cpu_model": cpu_model(),
        "cores": os.cpu_count(),
        "mem_total_gib": mem_total_gib(),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "torch": torch.__version__ if torch is not None else None,
        "threadpoolctl": threadpool_limits is not None,
    }
    try:
        info["skucast"] = skucast.build_info()
    except Exception as e:  # report, don't die
        info["skucast"] = {"error": repr(e)}
    return info


def machine_header(info: dict, bw: dict | None = None, bw_bytes: int = 2**30) -> str:
    sk = info.get("skucast", {})
    lines = [
        f"- CPU: {info['cpu_model']}, {info['cores']} cores, {info['mem_total_gib']} GiB RAM",
        f"- Python {info['python']}, numpy {info['numpy']}, scipy {info['scipy']}, torch {info['torch']}",
        f"- skucast build_info: {sk}",
    ]
    if bw:
        lines.append(
            f"- Memory read bandwidth (np.add.reduce over {bw_bytes / 2**30:g} GiB float32, chunked over threads): "
            + ", ".join(f"{k} thr {v:.1f} GB/s" for k, v in sorted(bw.items(), key=lambda kv: int(kv[0])))
        )
    return "\n".join(lines)


# --------------------------------------------------------------------------- bandwidth probe
def bandwidth_probe(thread_counts=(1, 2), nbytes: int = 2**30, repeats: int = 5) -> dict:
    """Read bandwidth (GB/s, 1e9 bytes) of np.add.reduce over an ``nbytes`` float32 array.

    Multi-thread numbers use ``run_chunked`` over contiguous chunks.
    """
    a = np.ones(nbytes // 4, dtype=np.float32)  # touches every page
    res = {}
    for n in thread_counts:
        def go(n=n):
            return run_chunked(lambda lo, hi: np.add.reduce(a[lo:hi]), a.size, n)

        t = timeit_median(go, repeats=repeats, warmup=1)
        res[str(n)] = a.nbytes / t / 1e9
    del a
    return res


# --------------------------------------------------------------------------- output
def fmt_time(s: float) -> str:
    if s >= 1:
        return f"{s:.2f} s"
    if s >= 1e-3:
        return f"{s * 1e3:.1f} ms"
    return f"{s * 1e6:.0f} us"


def markdown_table(rows: list[dict], columns: list[tuple[str, str]]) -> str:
    """rows: list of dicts; columns: (key, header). Values are str()-ed ('' for None)."""
    head = "| " + " | ".join(h for _, h in columns) + " |"
    sep = "|" + "|".join("---" for _ in columns) + "|"
    body = []
    for r in rows:
        cells = []
        for k, _ in columns:
            v = r.get(k)
            cells.append("" if v is None else str(v))
        body.append("| " + " | ".join(cells) + " |")
    return "\n".join([head, sep] + body)


def print_table(rows, columns, file=None):
    print(markdown_table(rows, columns), file=file or sys.stdout, flush=True)


def write_json(name: str, payload: dict) -> Path:
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    path = OUT_DIR / f"{name}.json"

    def default(o):
        if isinstance(o, (np.integer,)):
            return int(o)
        if isinstance(o, (np.floating,)):
            return float(o)
        if isinstance(o, np.ndarray):
            return o.tolist()
        return str(o)

    with open(path, "w") as f:
        json.dump(payload, f, indent=2, default=default)
    return path
