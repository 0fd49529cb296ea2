#!/usr/bin/env python
"""Core-kernel benchmark: skucast vs what a user would otherwise write.

    python bench/bench_core.py [--threads 1 2] [--quick] [--only logpmf ppf quantiles window group]

Every comparison runs in the same process, with the same thread count for both sides
(numpy/scipy baselines are split into n chunks on a ThreadPoolExecutor(n); torch uses
torch.set_num_threads(n); skucast uses skucast.set_num_threads(n)). Each baseline is
checked against skucast before it is timed. Prints markdown tables and writes
bench/out/core.json (core_quick.json with --quick).
"""
from __future__ import annotations

import argparse
import gc
import math
import resource
import sys
import time
import traceback
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness as H  # noqa: E402
from harness import fmt_time, run_chunked, threads, timeit_interleaved, timeit_median, torch  # noqa: E402

import scipy.stats  # noqa: E402
import skucast  # noqa: E402

M5_LEVELS = np.array([0.005, 0.025, 0.165, 0.25, 0.5, 0.75, 0.835, 0.975, 0.995])


# --------------------------------------------------------------------------- bookkeeping
class Recorder:
    def __init__(self):
        self.rows: list[dict] = []
        self.goals: list[dict] = []
        self.checks: list[dict] = []
        self.failures: list[str] = []
        self.notes: list[str] = []

    def add(self, section, case, impl, nthreads, n_elem, t, note=None, ref_t=None):
        row = {
            "section": section,
            "case": case,
            "impl": impl,
            "threads": nthreads,
            "n_elem": int(n_elem),
            "median_s": t,
            "median": fmt_time(t),
            "melem_s": f"{n_elem / t / 1e6:,.1f}",
            # ratio = baseline time / skucast time (skucast speed-up); 1.0 on skucast rows
            "ratio": None if ref_t is None else t / ref_t,
            "ratio_str": "1.00" if ref_t is None else f"{t / ref_t:,.2f}x",
            "note": note or "",
        }
        self.rows.append(row)
        print(
            f"  [{section}] {case:<40} {impl:<28} thr={nthreads} {row['median']:>10} "
            f"{row['melem_s']:>10} Melem/s  ratio={row['ratio_str']} {row['note']}",
            flush=True,
        )
        return row

    def goal(self, name, nthreads, ratio, target):
        g = {"goal": name, "threads": nthreads, "ratio": ratio, "target": target,
             "ratio_str": f"{ratio:,.2f}x", "target_str": f">= {target:g}x",
             "met": "yes" if ratio >= target else "NO"}
        self.goals.append(g)
        return g

    def check(self, name, ok, detail=""):
        self.checks.append({"check": name, "ok": bool(ok), "detail": detail})
        status = "ok" if ok else "FAILED"
        print(f"  check {name}: {status} {detail}", flush=True)
        if not ok:
            self.failures.append(f"{name}: {detail}")
        return ok


REC = Recorder()


def rel_diff(a, b, floor=1e-300):
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    d = np.abs(a - b) / np.maximum(np.abs(b), floor)
    return float(np.max(d)) if d.size else 0.0


def nb_params(rng, n):
    """Realistic retail NB parameters: mu log-uniform 0.05..50, alpha log-uniform 0.01..3."""
    mu = np.exp(rng.uniform(math.log(0.05), math.log(50.0), n))
    alpha = np.exp(rng.uniform(math.log(0.01), math.log(3.0), n))
    return mu, alpha


def section_guard(name):
    """Decorator: run a section, record a failure instead of aborting the whole run."""
    def deco(fn):
        def wrapped(*a, **k):
            print(f"\n## {name}", flush=True)
            t0 = time.perf_counter()
            try:
                fn(*a, **k)
            except Exception as e:  # report skucast / baseline failures and go on
                tb = traceback.format_exc()
                print(tb, flush=True)
                REC.failures.append(f"{name}: exception {e!r}")
            finally:
                gc.collect()
                print(f"  ({name} took {time.perf_counter() - t0:.0f} s)", flush=True)
        return wrapped
    return deco


# --------------------------------------------------------------------------- 1. logpmf
@section_guard("logpmf")
def bench_logpmf(cfg):
    N = cfg.n_logpmf
    rng = np.random.default_rng(1)
    mu, alpha = nb_params(rng, N)
    y = rng.negative_binomial(1.0 / alpha, 1.0 / (1.0 + alpha * mu)).astype(np.float64)
    case = f"logpmf f64 n={N:.0e}"

    def sk():
        return skucast.nbinom.logpmf(y, mu, alpha)

    def scipy_chunk(lo, hi):
        a = alpha[lo:hi]
        return scipy.stats.nbinom.logpmf(y[lo:hi], n=1.0 / a, p=1.0 / (1.0 + a * mu[lo:hi]))

    def sp():
        return run_chunked(scipy_chunk, N)

    ref = sk()
    REC.check("logpmf dtype/shape", ref.dtype == np.float64 and ref.shape == (N,), f"{ref.dtype} {ref.shape}")
    sref = np.concatenate(run_chunked(scipy_chunk, N, 1))
    rd = rel_diff(ref, sref)
    REC.check("logpmf == scipy (rtol 1e-8)", np.allclose(ref, sref, rtol=1e-8, atol=1e-12), f"max rel diff {rd:.2e}")
    del sref

    have_torch = torch is not None
    if have_torch:
        yt, mut, at = (torch.from_numpy(v) for v in (y, mu, alpha))

        def tl():
            am = at * mut
            d = torch.distributions.NegativeBinomial(
                total_count=1.0 / at, probs=am / (1.0 + am), validate_args=False)
            return d.log_prob(yt)

        tref = tl().numpy()
        rdt = rel_diff(ref, tref)
        REC.check("logpmf == torch (rtol 1e-6)", np.allclose(ref, tref, rtol=1e-6, atol=1e-9), f"max rel diff {rdt:.2e}")
        del tref
    else:
        REC.notes.append("torch not importable: torch logpmf baseline skipped")
        print("  torch not importable: skipping torch baseline", flush=True)

    for n in cfg.threads:
        with threads(n):
            # skucast and scipy alternate round by round: the 2-thread skucast time depended on
            # what ran before it (52 vs 70 ms) when each side was timed in its own block
            both = timeit_interleaved({"sk": sk, "sp": sp}, repeats=cfg.interleaved_repeats, warmup=1,
                                      max_seconds=cfg.slow_budget)
            t_sk, t_sp = both["sk"], both["sp"]
            REC.add("logpmf", case, "skucast.nbinom.logpmf", n, N, t_sk, note="timed in alternation with scipy")
            REC.add("logpmf", case, "scipy.stats.nbinom.logpmf", n, N, t_sp, ref_t=t_sk,
                    note="timed in alternation with skucast")
            REC.goal("logpmf vs scipy", n, t_sp / t_sk, 10)
            if have_torch:
                t_tl = timeit_median(tl, repeats=cfg.repeats, warmup=1, max_seconds=cfg.slow_budget)
                REC.add("logpmf", case, "torch NegativeBinomial.log_prob", n, N, t_tl, ref_t=t_sk,
                        note="float64, validate_args=False")
                REC.goal("logpmf vs torch", n, t_tl / t_sk, 5)


# --------------------------------------------------------------------------- 2. ppf
@section_guard("ppf")
def bench_ppf(cfg):
    N, S = cfg.n_ppf, cfg.n_ppf_scipy
    rng = np.random.default_rng(2)
    mu, alpha = nb_params(rng, N)
    mus, als = mu[:S], alpha[:S]
    for q in (0.95, 0.98):
        case = f"ppf q={q} n={N:.0e}"

        def sk(q=q):
            return skucast.nbinom.ppf(q, mu, alpha)

        def scipy_chunk(lo, hi, q=q):
            a = als[lo:hi]
            return scipy.stats.nbinom.ppf(q, n=1.0 / a, p=1.0 / (1.0 + a * mus[lo:hi]))

        def sp():
            return run_chunked(scipy_chunk, S)

        ref = sk()
        REC.check(f"ppf q={q} dtype/shape", ref.dtype == np.int64 and ref.shape == (N,), f"{ref.dtype} {ref.shape}")
        sref = np.concatenate(run_chunked(scipy_chunk, S, 1))
        mism = np.flatnonzero(ref[:S] != sref)
        # adjudicate disagreements with scipy's cdf: k is right iff cdf(k) >= q > cdf(k-1)
        n_p, p_p = 1.0 / als, 1.0 / (1.0 + als * mus)
        k = ref[:S][mism].astype(np.float64)
        c_k = scipy.stats.nbinom.cdf(k, n_p[mism], p_p[mism])
        c_km1 = scipy.stats.nbinom.cdf(k - 1, n_p[mism], p_p[mism])
        tol = 1e-12
        bad = ~((c_k >= q - tol) & (c_km1 < q + tol))
        detail = f"{mism.size} of {S} differ from scipy; {int(bad.sum())} of those wrong by scipy's cdf"
        if mism.size:
            i = mism[0]
            detail += f" (e.g. mu={mus[i]:.6g} alpha={als[i]:.6g}: skucast {ref[i]}, scipy {sref[i]:g})"
        REC.check(f"ppf q={q} vs scipy on {S:.0e} subset", int(bad.sum()) == 0, detail)
        del sref

        for n in cfg.threads:
            with threads(n):
                t_sk = timeit_median(sk, repeats=cfg.repeats, warmup=1)
                REC.add("ppf", case, "skucast.nbinom.ppf", n, N, t_sk)
                t_sub = timeit_median(sp, repeats=cfg.repeats, warmup=1, max_seconds=cfg.slow_budget)
                t_sp = t_sub * N / S  # scaled from the subset
                REC.add("ppf", case, "scipy.stats.nbinom.ppf", n, N, t_sp, ref_t=t_sk,
                        note=f"timed on first {S:.0e} elems ({fmt_time(t_sub)}), scaled x{N // S}")
                REC.goal(f"ppf q={q} vs scipy", n, t_sp / t_sk, 100)


# --------------------------------------------------------------------------- 3. quantiles
def quantile_ranks_inverted_cdf(m, levels):
    """Order-statistic indices numpy's inverted_cdf picks for a sample of size m."""
    return np.quantile(np.arange(m, dtype=np.float64), levels, method="inverted_cdf").astype(np.int64)


def make_gather(method, m, levels, dtype):
    if method == "inverted_cdf":
        ranks = quantile_ranks_inverted_cdf(m, levels)

        def gather(s):
            return s[:, ranks]
    else:  # linear, numpy's _lerp formula
        v = levels * (m - 1)
        lo = np.floor(v).astype(np.int64)
        hi = np.minimum(lo + 1, m - 1)
        t = v - lo  # float64 weights, as numpy (float64 levels -> float64 result)
        big = t >= 0.5

        def gather(s):
            a, b = s[:, lo], s[:, hi]
            d = b - a
            out = a + d * t
            out[:, big] = (b - d * (1 - t))[:, big]
            return out
    return gather


@section_guard("quantiles")
def bench_quantiles(cfg):
    levels = M5_LEVELS
    rng = np.random.default_rng(3)
    for (R, M) in cfg.q_shapes:
        # float64 normal rows and nbinom.sample's own int64 paths once (the goals are for
        # float32; reported, not judged)
        kinds = ("nb_counts", "normal", "normal_f64", "nb_counts_i64") if (R, M) == cfg.q_shapes[0] \
            else ("nb_counts", "normal")
        for kind in kinds:
            if kind.startswith("nb_counts"):
                mu, alpha = nb_params(rng, R)
                try:
                    x = skucast.nbinom.sample(mu, alpha, M, seed=12345)
                    x = x if kind == "nb_counts_i64" else x.astype(np.float32)
                    src = "skucast.nbinom.sample"
                except Exception as e:
                    REC.failures.append(f"nbinom.sample failed while making quantile data: {e!r}")
                    x = rng.negative_binomial(1.0 / alpha[:, None], 1.0 / (1.0 + alpha * mu)[:, None],
                                              size=(R, M)).astype(np.float32)
                    src = "numpy negative_binomial"
                del mu, alpha
            else:
                x = rng.standard_normal((R, M), dtype=np.float64 if kind == "normal_f64" else np.float32)
                src = "numpy standard_normal"
            print(f"  data {kind} ({R}, {M}) {x.dtype} from {src}", flush=True)
            for method in ("inverted_cdf", "linear"):
                case = f"q9 {kind} ({R:.0e},{M}) {method}"
                gather = make_gather(method, M, levels, x.dtype)

                def sk(method=method):
                    return skucast.quantiles(x, levels, axis=1, method=method)

                def npq_chunk(lo, hi, method=method):
                    return np.moveaxis(np.quantile(x[lo:hi], levels, axis=1, method=method), 0, -1)

                def sg_chunk(lo, hi, gather=gather):
                    return gather(np.sort(x[lo:hi], axis=1))

                def npq():
                    return run_chunked(npq_chunk, R)

                def sg():
                    return run_chunked(sg_chunk, R)

                ref = sk()
                qref = npq_chunk(0, R)
                sref = sg_chunk(0, R)
                # API.md: linear on float32 gives float32; numpy 2.x gives float64 when levels is a
                # float64 array/list (NEP 50 promotion), float32 for a Python-float level. Accept either.
                ok_dtypes = {qref.dtype} if method == "inverted_cdf" else {qref.dtype, np.dtype(np.float32)}
                ok_shape = ref.shape == (R, len(levels)) and ref.dtype in ok_dtypes
                REC.check(f"{case} shape/dtype", ok_shape, f"{ref.shape} {ref.dtype} vs numpy {qref.shape} {qref.dtype}")
                if method == "inverted_cdf":
                    REC.check(f"{case} == np.quantile (exact)", np.array_equal(ref, qref),
                              f"max abs diff {np.max(np.abs(ref.astype(np.float64) - qref)):.3g}")
                    REC.check(f"{case} sort+gather == np.quantile", np.array_equal(sref, qref))
                else:
                    mad = float(np.max(np.abs(ref.astype(np.float64) - qref)))
                    exact = np.array_equal(ref, qref)
                    # float32 output vs numpy's float64 lerp: allow a few float32 ulps
                    REC.check(f"{case} == np.quantile (allclose 1e-6)",
                              np.allclose(ref, qref, rtol=1e-6, atol=1e-6 * float(np.max(np.abs(qref)))),
                              f"bitwise equal: {exact}; max abs diff {mad:.3g}")
                    REC.check(f"{case} sort+gather == np.quantile (allclose 1e-6)",
                              np.allclose(sref, qref, rtol=1e-6, atol=1e-6 * float(np.max(np.abs(qref)))),
                              f"bitwise equal: {np.array_equal(sref, qref)}")
                del ref, qref, sref
                for n in cfg.threads:
                    with threads(n):
                        # skucast and sort+gather alternate round by round (both fast, close)
                        fast = timeit_interleaved({"sk": sk, "sg": sg}, repeats=cfg.interleaved_repeats, warmup=1,
                                                  max_seconds=cfg.slow_budget)
                        t_sk, t_s = fast["sk"], fast["sg"]
                        REC.add("quantiles", case, "skucast.quantiles", n, R * M, t_sk,
                                note="timed in alternation with sort+gather")
                        t_q = timeit_median(npq, repeats=cfg.repeats, warmup=1, max_seconds=cfg.slow_budget)
                        REC.add("quantiles", case, "np.quantile(axis=1)", n, R * M, t_q, ref_t=t_sk)
                        REC.add("quantiles", case, "np.sort(axis=1)+gather", n, R * M, t_s, ref_t=t_sk,
                                note="timed in alternation with skucast")
                        if kind in ("nb_counts", "normal"):
                            REC.goal(f"{case} vs np.quantile", n, t_q / t_sk, 20)
                            REC.goal(f"{case} vs sort+gather", n, t_s / t_sk, 3)
            del x
            gc.collect()
    bench_forecast_layout(cfg, levels, rng)


def bench_forecast_layout(cfg, levels, rng):
    """A forecast's own layout, (series, samples, days) int64 paths read over samples (axis=1),
    as Forecast.quantiles reads them: reported, not judged (the goals are for rows)."""
    R, M = cfg.q_shapes[0]
    h = 28
    n_series = max(1, R // h)
    mu, alpha = nb_params(rng, n_series)
    x = np.ascontiguousarray(
        skucast.nbinom.sample(np.repeat(mu[:, None], h, 1), alpha[:, None], M, seed=7).transpose(0, 2, 1))
    ranks = quantile_ranks_inverted_cdf(M, levels)
    case = f"q9 forecast_i64 ({n_series},{M},{h}) axis=1 inverted_cdf"
    print(f"  data forecast layout {x.shape} {x.dtype} from skucast.nbinom.sample", flush=True)

    def sk():
        return skucast.quantiles(x, levels, axis=1)

    def npq_chunk(lo, hi):
        return np.moveaxis(np.quantile(x[lo:hi], levels, axis=1, method="inverted_cdf"), 0, -1)

    def sg_chunk(lo, hi):
        return np.moveaxis(np.sort(x[lo:hi], axis=1)[:, ranks, :], 1, -1)

    qref = npq_chunk(0, n_series)
    REC.check(f"{case} == np.quantile (exact)", np.array_equal(sk(), qref))
    REC.check(f"{case} sort+gather == np.quantile", np.array_equal(sg_chunk(0, n_series), qref))
    del qref
    for n in cfg.threads:
        with threads(n):
            fast = timeit_interleaved({"sk": sk, "sg": lambda: run_chunked(sg_chunk, n_series)},
                                      repeats=cfg.interleaved_repeats, warmup=1, max_seconds=cfg.slow_budget)
            REC.add("quantiles", case, "skucast.quantiles", n, x.size, fast["sk"],
                    note="timed in alternation with sort+gather")
            t_q = timeit_median(lambda: run_chunked(npq_chunk, n_series), repeats=cfg.repeats, warmup=1,
                                max_seconds=cfg.slow_budget)
            REC.add("quantiles", case, "np.quantile(axis=1)", n, x.size, t_q, ref_t=fast["sk"])
            REC.add("quantiles", case, "np.sort(axis=1)+gather", n, x.size, fast["sg"], ref_t=fast["sk"],
                    note="timed in alternation with skucast")


# --------------------------------------------------------------------------- 4. window_sum / group_sum
@section_guard("window_sum")
def bench_window_sum(cfg, bw):
    S, J, T = cfg.ws_shape
    rng = np.random.default_rng(4)
    x = rng.random((S, J, T), dtype=np.float32) * 10
    start = np.zeros(S, dtype=np.int64)
    length = rng.integers(3, 22, S)  # lead time + review period, 3..21
    mask = (np.arange(T)[None, :] < length[:, None]).astype(np.float32)  # built once, not timed
    case = f"window_sum f32 ({S:.0e},{J},{T})"
    n_elem = x.size
    bytes_all = x.nbytes
    bytes_win = int(length.sum()) * J * 4

    def sk():
        return skucast.window_sum(x, start, length, axis=-1)

    def mm_chunk(lo, hi):
        return np.matmul(x[lo:hi], mask[lo:hi, :, None])[..., 0]

    def es_chunk(lo, hi):
        return np.einsum("sjt,st->sj", x[lo:hi], mask[lo:hi], optimize=True)

    def mm():
        return run_chunked(mm_chunk, S)

    def es():
        return run_chunked(es_chunk, S)

    ref = sk()
    REC.check("window_sum shape/dtype", ref.shape == (S, J) and ref.dtype == np.float32, f"{ref.shape} {ref.dtype}")
    exact = x[:50].astype(np.float64)
    exact = np.stack([exact[i, :, : length[i]].sum(-1) for i in range(50)])
    REC.check("window_sum == float64 loop (first 50 series, rtol 1e-6)", np.allclose(ref[:50], exact, rtol=1e-6),
              f"max rel diff {rel_diff(ref[:50], exact):.2e}")
    for name, f in (("matmul", mm_chunk), ("einsum", es_chunk)):
        b = f(0, S)
        REC.check(f"window_sum == numpy {name} (rtol 1e-5)", np.allclose(ref, b, rtol=1e-5, atol=1e-4),
                  f"max rel diff {rel_diff(ref, b, 1e-3):.2e}")
    del ref, b, exact

    for n in cfg.threads:
        with threads(n):
            bwn = bw.get(str(n))
            # all three alternate round by round: memory-bound and within a few percent of each other
            t = timeit_interleaved({"sk": sk, "mm": mm, "es": es}, repeats=cfg.interleaved_repeats, warmup=1,
                                   max_seconds=3 * cfg.slow_budget)
            t_sk, t_mm, t_es = t["sk"], t["mm"], t["es"]
            gbs_win, gbs_all = bytes_win / t_sk / 1e9, bytes_all / t_sk / 1e9
            note = (f"{gbs_win:.1f} GB/s of windows read ({gbs_win / bwn:.0%} of probe), "
                    f"{gbs_all:.1f} GB/s whole array ({gbs_all / bwn:.0%}); " if bwn else "") + "alternated"
            r = REC.add("window_sum", case, "skucast.window_sum", n, n_elem, t_sk, note=note)
            r.update(gbs_windows=gbs_win, gbs_whole=gbs_all, bw_probe=bwn,
                     bw_frac_windows=gbs_win / bwn if bwn else None,
                     bw_frac_whole=gbs_all / bwn if bwn else None)
            REC.add("window_sum", case, "np.matmul(x, mask[:,:,None])", n, n_elem, t_mm, ref_t=t_sk,
                    note=f"{bytes_all / t_mm / 1e9:.1f} GB/s whole array; alternated")
            REC.add("window_sum", case, "np.einsum(optimize=True)", n, n_elem, t_es, ref_t=t_sk,
                    note=f"{bytes_all / t_es / 1e9:.1f} GB/s whole array; alternated")
            best = "matmul" if t_mm <= t_es else "einsum"
            REC.goal(f"window_sum vs best numpy ({best})", n, min(t_mm, t_es) / t_sk, 1)
    del x


@section_guard("group_sum")
def bench_group_sum(cfg):
    S, J, T = cfg.gs_shape
    G = 7
    rng = np.random.default_rng(5)
    x = rng.random((S, J, T), dtype=np.float32) * 10
    gids = rng.integers(0, G, S)
    x2 = x.reshape(S, -1)
    onehot = np.zeros((G, S), dtype=np.float32)
    onehot[gids, np.arange(S)] = 1  # built once, not timed
    case = f"group_sum f32 ({S},{J},{T})->{G}"
    C = x2.shape[1]

    def sk():
        return skucast.group_sum(x, gids, G)

    def addat():
        out = np.zeros((G, C), dtype=np.float32)
        run_chunked(lambda lo, hi: np.add.at(out[:, lo:hi], gids, x2[:, lo:hi]), C)
        return out.reshape(G, J, T)

    def oh():
        out = np.empty((G, C), dtype=np.float32)

        def f(lo, hi):
            np.matmul(onehot, x2[:, lo:hi], out=out[:, lo:hi])
        run_chunked(f, C)
        return out.reshape(G, J, T)

    ref = sk()
    exact = np.stack([x[gids == g].astype(np.float64).sum(0) for g in range(G)])
    REC.check("group_sum shape/dtype", ref.shape == (G, J, T) and ref.dtype == np.float32, f"{ref.shape} {ref.dtype}")
    REC.check("group_sum == float64 reference (rtol 1e-5)", np.allclose(ref, exact, rtol=1e-5),
              f"max rel diff {rel_diff(ref, exact):.2e}")
    REC.check("group_sum == np.add.at (rtol 1e-4)", np.allclose(ref, addat(), rtol=1e-4))
    REC.check("group_sum == one-hot matmul (rtol 1e-4)", np.allclose(ref, oh(), rtol=1e-4))
    del ref, exact
    for n in cfg.threads:
        with threads(n):
            t_sk = timeit_median(sk, repeats=cfg.repeats, warmup=1)
            REC.add("group_sum", case, "skucast.group_sum", n, x.size, t_sk,
                    note=f"{x.nbytes / t_sk / 1e9:.1f} GB/s")
            t_a = timeit_median(addat, repeats=cfg.repeats, warmup=1, max_seconds=cfg.slow_budget)
            REC.add("group_sum", case, "np.add.at", n, x.size, t_a, ref_t=t_sk)
            t_o = timeit_median(oh, repeats=cfg.repeats, warmup=1, max_seconds=cfg.slow_budget)
            REC.add("group_sum", case, "one-hot matmul", n, x.size, t_o, ref_t=t_sk)
    del x, x2


# --------------------------------------------------------------------------- main
class Config:
    def __init__(self, quick: bool, thread_counts):
        s = 10 if quick else 1
        self.quick = quick
        self.threads = list(thread_counts)
        self.repeats = 5
        self.interleaved_repeats = 9 if not quick else 3  # rounds when two close sides alternate
        self.slow_budget = 4.0 if not quick else 1.0  # seconds of timed runs before stopping at 3
        self.n_logpmf = 10_000_000 // s
        self.n_ppf = 1_000_000 // s
        self.n_ppf_scipy = 100_000 // s
        self.q_shapes = [(100_000 // s, 200), (1_000_000 // s, 100)]
        self.ws_shape = (100_000 // s, 100, 28)
        self.gs_shape = (3049 // s if quick else 3049, 200, 28)
        self.bw_bytes = 2**30 if not quick else 2**28


ROW_COLS = [("section", "kernel"), ("case", "case"), ("impl", "implementation"), ("threads", "thr"),
            ("median", "median"), ("melem_s", "M elem/s"), ("ratio_str", "t / t_skucast"), ("note", "note")]
GOAL_COLS = [("goal", "goal"), ("threads", "thr"), ("ratio_str", "skucast speed-up"),
             ("target_str", "target"), ("met", "met")]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--quick", action="store_true", help="10x smaller sizes (smoke run)")
    ap.add_argument("--only", nargs="+", choices=["logpmf", "ppf", "quantiles", "window", "group"],
                    help="run only these sections")
    ap.add_argument("--out", default=None, help="JSON name under bench/out (default core / core_quick)")
    args = ap.parse_args(argv)
    cfg = Config(args.quick, args.threads)
    only = set(args.only or ["logpmf", "ppf", "quantiles", "window", "group"])
    t_start = time.perf_counter()

    info = H.machine_info()
    print("# skucast core-kernel benchmark" + (" (--quick: sizes / 10)" if cfg.quick else ""), flush=True)
    print(H.machine_header(info), flush=True)
    print(f"\nbandwidth probe: np.add.reduce over {cfg.bw_bytes / 2**30:g} GiB float32 ...", flush=True)
    bw = H.bandwidth_probe(cfg.threads, nbytes=cfg.bw_bytes)
    print(H.machine_header(info, bw, cfg.bw_bytes).splitlines()[-1], flush=True)

    if "logpmf" in only:
        bench_logpmf(cfg)
    if "ppf" in only:
        bench_ppf(cfg)
    if "quantiles" in only:
        bench_quantiles(cfg)
    if "window" in only:
        bench_window_sum(cfg, bw)
    if "group" in only:
        bench_group_sum(cfg)

    peak_gib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    elapsed = time.perf_counter() - t_start
    print("\n## Results (median of up to 5 runs; ratio = baseline time / skucast time, same thread count)\n")
    print(H.machine_header(info, bw, cfg.bw_bytes) + "\n")
    H.print_table(REC.rows, ROW_COLS)
    print("\n## Goals\n")
    H.print_table(REC.goals, GOAL_COLS)
    print(f"\npeak RSS {peak_gib:.2f} GiB, total {elapsed:.0f} s")
    for n in REC.notes:
        print(f"note: {n}")
    if REC.failures:
        print("\n## FAILURES")
        for f in REC.failures:
            print(f"- {f}")
    else:
        print("\nall correctness checks passed")

    path = H.write_json(args.out or ("core_quick" if cfg.quick else "core"), {
        "machine": info, "bandwidth_gbs": bw, "quick": cfg.quick, "threads": cfg.threads,
        "rows": REC.rows, "goals": REC.goals, "checks": REC.checks, "failures": REC.failures,
        "notes": REC.notes, "peak_rss_gib": peak_gib, "elapsed_s": elapsed,
        "markdown_table": H.markdown_table(REC.rows, ROW_COLS),
        "markdown_goals": H.markdown_table(REC.goals, GOAL_COLS),
    })
    print(f"wrote {path}")
    return 1 if REC.failures else 0


if __name__ == "__main__":
    sys.exit(main())
