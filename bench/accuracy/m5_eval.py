"""M5 CA_1 accuracy evaluation (issue 4): DeepAR and N-BEATS against the simple baselines,
one run, protocol of ../shared/EVALUATION.md.

Train d_1..d_1885, forecast d_1886..d_1913 (h = 28), all 3,049 items. For every method:
WRMSSE and WSPL at the item / department / category / store levels and overall, item CRPS,
randomized-PIT coverage (closed-interval coverage beside it, labelled) of the 50/67/95/99%
intervals; aggregate quantiles from summed sample paths. The neural models are trained here
(bench/accuracy/train_eval_models.py), saved as TorchScript and predicted through
Forecaster.load (the served path).

Distributions: each baseline's point forecast with (a) NB, dispersion by moments of its
in-sample one-step residuals ("NB"), (b) resampled residual days shared by all series ("emp"),
(c) NB with a common gamma shock ("NB+shock"), (d) NB with a store factor x a department factor
("NB+dept shock"). The shock variances of every method (neural ones too) are calibrated on
the validation window d_1858..d_1885 from the origin d_1857, never on the test days; for the
neural models with the validation models of bench/accuracy/select_training.py (trained on days
<= d_1857) when bench/out/m5_val_<model>.pt exist, else with the test models themselves (that
window is then in their training data: an optimistic, i.e. too small, calibration).

    PYTHONPATH=python nice -n 5 python3 bench/accuracy/m5_eval.py   # ~11 min CPU training + ~5 min eval
    PYTHONPATH=python python3 bench/accuracy/m5_eval.py --quick     # 100 series, ~15 s smoke test
    PYTHONPATH=python python3 bench/accuracy/m5_eval.py --reuse     # keep trained models
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import skucast  # noqa: E402
from skucast import baselines as bl  # noqa: E402
from skucast.common_shock import calibrate_shock_variance, gamma_shock, group_shock, nested_variance  # noqa: E402
from skucast.data import load_m5, m5_eval_arrays, split_future  # noqa: E402
from skucast.metrics import evaluate_hierarchy  # noqa: E402
from skucast.models import Forecaster  # noqa: E402
from skucast.models.panel import series_keys  # noqa: E402
from train_eval_models import train_models  # noqa: E402

CUTOFF, VAL_CUTOFF, H = "2016-03-27", "2016-02-28", 28     # d_1885, d_1857
INTERVALS = (0.5, 0.67, 0.95, 0.99)
LEVELS = ("item", "department", "category", "store")
# EVALUATION.md cross-check: (item WRMSSE, overall WRMSSE) of three point forecasts
CROSS_CHECK = {"28-day mean": (0.8351, 1.0322), "seasonal naive": (1.0715, 0.9075),
               "weekday profile": (0.8329, 0.5674)}


def point_baselines(hist):
    """{name: (point (n, H), fitted one-step forecasts (n, T))} of every baseline; the weekday
    profile's second entry is its NB dispersion (n,) instead (it has no residual variants)."""
    out = {"naive": bl.naive(hist, H), "seasonal naive": bl.seasonal_naive(hist, H, 7),
           "28-day mean": bl.window_mean(hist, H, 28), "SES": bl.ses(hist, H)[:2],
           "Croston": bl.croston(hist, H, 0.1), "SBA": bl.croston(hist, H, 0.1, sba=True),
           "TSB": bl.tsb(hist, H, 0.1, 0.1)}
    # weekday profile: NB of skucast.baselines.weekday_profile_nb (dispersion about the profile);
    # its point forecast is the raw profile (mu is floored at MIN_MU for the NB)
    mu, alpha = bl.weekday_profile_nb(hist, H, weeks=8)
    out["weekday profile"] = (np.where(mu <= bl.MIN_MU, 0.0, mu), alpha)
    return out


def aggregate_sums(samples, groups):
    """Summed paths of the department, category and store aggregates stacked: (G, S, h)."""
    return np.concatenate([skucast.group_sum(np.ascontiguousarray(samples), np.asarray(g, np.int64), k)
                           for name, (g, k) in groups.items() if name != "item"])


def shock_variance(val_samples, val_y, groups) -> float:
    """Calibrated on the validation window: paths without a shock vs the actual sums."""
    ys = aggregate_sums(val_y[:, None, :], groups)[:, 0]
    return calibrate_shock_variance(aggregate_sums(val_samples, groups), ys)


def dept_shock_variances(val_samples, val_y, groups) -> dict:
    """Store factor x department factor: the store variance from the store total's errors,
    the department one so that the product matches the departments' errors."""
    def level(name):
        g, k = groups[name]
        g = np.asarray(g, np.int64)
        ys = skucast.group_sum(np.ascontiguousarray(val_y[:, None, :]), g, k)[:, 0]
        return calibrate_shock_variance(skucast.group_sum(np.ascontiguousarray(val_samples), g, k), ys)
    v_store = level("store")
    return {"store_id": v_store, "dept_id": nested_variance(v_store, level("department"))}


class Run:
    """Evaluation context: test arrays, seeds, results and timings."""

    def __init__(self, hist, y, dollar, groups, keys, S, seed=0):
        self.hist, self.y, self.dollar, self.groups = hist, y, dollar, groups
        self.keys, self.S, self.seed = keys, S, seed
        self.results, self.seconds = {}, {}

    def evaluate(self, name, point, samples, t0):
        cpu, wall = time.process_time() - t0[0], time.perf_counter() - t0[1]
        r = evaluate_hierarchy(self.hist, self.y, self.dollar, self.groups, point=point, samples=samples,
                               intervals=INTERVALS)
        self.results[name] = r
        self.seconds[name] = {"forecast_cpu_s": round(cpu, 2), "forecast_wall_s": round(wall, 2)}
        print(f"{name:28s} WRMSSE {r['overall']['WRMSSE']:.4f} WSPL {r['overall']['WSPL']:.4f} "
              f"item {r['item']['WRMSSE']:.4f}/{r['item']['WSPL']:.4f}  store cov50 "
              f"{r['store']['PIT coverage 0.5']:.3f}  ({cpu:.1f} s CPU)", flush=True)


def _clock():
    return time.process_time(), time.perf_counter()


def run_baselines(run: Run, hist_val, y_val):
    """Every baseline x (NB, emp, NB+shock); the shock variance from the validation window."""
    val = point_baselines(hist_val)
    shocks = {}
    for name, (point, fitted) in point_baselines(run.hist).items():
        t0 = _clock()
        alpha = fitted if name == "weekday profile" else bl.residual_nb_alpha(run.hist, fitted)
        run.evaluate(f"{name} NB", point, bl.nb_paths(point, alpha, run.S, run.seed, run.keys), t0)
        if name != "weekday profile":
            t0 = _clock()
            run.evaluate(f"{name} emp", point, bl.empirical_paths(point, run.hist, fitted, run.S, run.seed), t0)
        vp, vf = val[name]
        va = vf if name == "weekday profile" else bl.residual_nb_alpha(hist_val, vf)
        t0 = _clock()
        v = shock_variance(bl.nb_paths(vp, va, run.S, run.seed, run.keys), y_val, run.groups)
        shocks[name] = v
        g = gamma_shock(v, run.S, H, run.seed)
        run.evaluate(f"{name} NB+shock", point, bl.nb_paths(point, alpha, run.S, run.seed, run.keys, shock=g), t0)
        t0 = _clock()
        vd = dept_shock_variances(bl.nb_paths(vp, va, run.S, run.seed, run.keys), y_val, run.groups)
        shocks[f"{name} (store, dept)"] = vd
        g = group_shock({"store_id": (vd["store_id"], np.zeros(len(point), np.int64)),
                         "dept_id": (vd["dept_id"], run.groups["department"][0])}, run.S, H, run.seed)
        run.evaluate(f"{name} NB+dept shock", point, bl.nb_paths(point, alpha, run.S, run.seed, run.keys, shock=g), t0)
    return shocks


def run_neural(run: Run, name, path, frames, uids, y_val, val_path=None):
    """Forecaster.load -> predict (independent series, then with the calibrated shock). The
    shock is calibrated on the validation window with ``val_path``'s model (trained on days
    before it, bench/accuracy/select_training.py) when given, else with the test model."""
    train, futr, train_val, futr_val = frames
    f = Forecaster.load(path)
    f_val = Forecaster.load(val_path) if val_path else f
    order = None

    def predict(df, fut, v, model=f):
        nonlocal order
        fc = model.predict(df, fut, num_samples=run.S, seed=run.seed, common_shock=v)
        if order is None:
            pos = {u: i for i, u in enumerate(fc.unique_id)}
            order = np.array([pos[u] for u in uids])
        return fc.samples[order]

    t0 = _clock()
    s = predict(train, futr, 0.0)
    run.evaluate(name, None, s, t0)
    t0 = _clock()
    val = predict(train_val, futr_val, 0.0, f_val)
    v = shock_variance(val, y_val, run.groups)
    vd = dept_shock_variances(val, y_val, run.groups)
    s = predict(train, futr, v)
    run.evaluate(f"{name}+shock", None, s, t0)
    t0 = _clock()
    s = predict(train, futr, vd)
    run.evaluate(f"{name}+dept shock", None, s, t0)
    return v, vd


def print_tables(results):
    print("\n| method | " + " | ".join(f"WRMSSE {lv}" for lv in LEVELS + ("overall",)) + " | "
          + " | ".join(f"WSPL {lv}" for lv in LEVELS + ("overall",)) + " | CRPS item |")
    for m, r in results.items():
        print(f"| {m} | " + " | ".join(f"{r[lv]['WRMSSE']:.4f}" for lv in LEVELS + ("overall",)) + " | "
              + " | ".join(f"{r[lv]['WSPL']:.4f}" for lv in LEVELS + ("overall",))
              + f" | {r['item']['CRPS']:.3f} |")
    print("\nrandomized-PIT coverage of the 50/67/95/99% intervals")
    print("| method | " + " | ".join(LEVELS) + " |")
    for m, r in results.items():
        print(f"| {m} | " + " | ".join("/".join(f"{r[lv][f'PIT coverage {c:g}']:.2f}" for c in INTERVALS)
                                        for lv in LEVELS) + " |")


def goals(results, neural):
    """Relative improvement 1 - model / baseline of each neural row over each baseline, per
    level and overall: WRMSSE (same point forecast for every variant of a baseline) and WSPL
    against the baseline's best distribution variant at that level; and the largest gap between
    randomized-PIT coverage and the nominal level over levels and intervals."""
    base = {}
    for m in results:
        for suffix in (" NB+dept shock", " NB+shock", " NB", " emp"):
            if m.endswith(suffix):
                base.setdefault(m[: -len(suffix)], []).append(m)
                break
    lv_all = LEVELS + ("overall",)
    out = {}
    for nm in neural:
        r = results[nm]
        g = {"WRMSSE improvement": {}, "WSPL improvement vs best variant": {}}
        for b, variants in base.items():
            g["WRMSSE improvement"][b] = {lv: round(1 - r[lv]["WRMSSE"] / results[variants[0]][lv]["WRMSSE"], 4)
                                          for lv in lv_all}
            g["WSPL improvement vs best variant"][b] = {
                lv: round(1 - r[lv]["WSPL"] / min(results[v][lv]["WSPL"] for v in variants), 4) for lv in lv_all}
        g["max coverage gap (points)"] = round(100 * max(abs(r[lv][f"PIT coverage {c:g}"] - c)
                                                         for lv in LEVELS for c in INTERVALS), 1)
        out[nm] = g
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="100 series, a few training batches, 50 paths")
    ap.add_argument("--reuse", action="store_true", help="load models trained by an earlier run")
    ap.add_argument("--samples", type=int, default=200)
    ap.add_argument("--no-nbeats", action="store_true")
    ap.add_argument("--baselines-only", action="store_true", help="no neural model (checks the baselines)")
    ap.add_argument("--out", default="bench/out")
    a = ap.parse_args()
    torch.set_num_threads(1)
    S = 50 if a.quick else a.samples
    t_start = _clock()
    df = load_m5(n_series=100 if a.quick else None)
    train, futr, test = split_future(df, CUTOFF, H)
    train_val, futr_val, _ = split_future(train, VAL_CUTOFF, H)
    uids, hist, y, dollar, groups = m5_eval_arrays(train, test)
    print(f"{len(uids)} series, {hist.shape[1]} training days, {S} paths", flush=True)
    which = () if a.baselines_only else ("deepar",) if a.no_nbeats else ("deepar", "nbeats")
    metas = train_models(train, a.out, quick=a.quick, reuse=a.reuse, which=which)
    run = Run(hist, y, dollar, groups, series_keys(uids), S)
    shocks = run_baselines(run, hist[:, :-H], hist[:, -H:])
    frames = (train, futr, train_val, futr_val)
    neural = []
    val_models = {}
    for name, label in (("deepar", "DeepAR"), ("nbeats", "N-BEATS")):
        if name in metas:
            vp = os.path.join(a.out, f"m5_val_{name}.pt")
            val_models[label] = vp if os.path.isfile(vp) and not a.quick else None
            shocks[label], shocks[f"{label} (store, dept)"] = run_neural(run, label, metas[name]["path"],
                                                                         frames, uids, hist[:, -H:],
                                                                         val_models[label])
            neural += [label, f"{label}+shock", f"{label}+dept shock"]
    print_tables(run.results)
    print("\nshock variances (validation window d_1858..d_1885):", shocks)
    summary = goals(run.results, neural)
    for nm, g in summary.items():
        lost = {b: [lv for lv, d in w.items() if d <= 0] for b, w in g["WRMSSE improvement"].items()}
        short = {b: [lv for lv, d in w.items() if d < 0.10] for b, w in g["WSPL improvement vs best variant"].items()}
        print(f"{nm}: WRMSSE not better than {({b: v for b, v in lost.items() if v}) or 'no baseline'}; "
              f"WSPL gain < 10% vs {({b: v for b, v in short.items() if v}) or 'no baseline'}; "
              f"overall WSPL gains {({b: w['overall'] for b, w in g['WSPL improvement vs best variant'].items()})}; "
              f"max coverage gap {g['max coverage gap (points)']} points")
    checks = {}
    for b, (item, overall) in CROSS_CHECK.items():
        r = run.results[f"{b} NB"]
        checks[b] = (round(r["item"]["WRMSSE"], 4), round(r["overall"]["WRMSSE"], 4))
        if not a.quick:
            assert abs(r["item"]["WRMSSE"] - item) < 1e-4 and abs(r["overall"]["WRMSSE"] - overall) < 1e-4, \
                f"{b}: WRMSSE {checks[b]} differs from EVALUATION.md's {(item, overall)}"
    print("cross-check WRMSSE (item, overall):", checks, "" if a.quick else "== EVALUATION.md")
    total = (time.process_time() - t_start[0], time.perf_counter() - t_start[1])
    out = {"protocol": "../shared/EVALUATION.md", "quick": a.quick, "series": len(uids), "samples": S,
           "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
           "training": metas, "shock_variance": shocks,
           "shock_calibrated_with": {k: v or "the test model (validation window in its training data)"
                                     for k, v in val_models.items()}, "results": run.results, "seconds": run.seconds,
           "goals": summary, "cross_check": checks,
           "total_cpu_s": round(total[0], 1), "total_wall_s": round(total[1], 1)}
    tag = "_quick" if a.quick else "_baselines" if a.baselines_only else ""
    path = os.path.join(a.out, f"m5_eval{tag}.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1)
    print(f"wrote {path}; total {total[0]:.0f} s CPU / {total[1]:.0f} s wall")


if __name__ == "__main__":
    main()
