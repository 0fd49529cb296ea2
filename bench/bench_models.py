"""DeepAR inference speed: skucast Forecaster (eager / TorchScript / torch.export network,
shared per-series projections, skucast counter-based NB sampler) against the same network in
eager PyTorch the usual way (every input repeated per sample path, torch.distributions
NegativeBinomial sampling), series/s for --paths paths x --horizon days, same process and
threads. Trains a small 2x40 DeepAR on M5 CA_1 first (capped CPU time).

    python bench/bench_models.py --quick          # ~1 min
    python bench/bench_models.py                  # 256 series, threads 1 and 2, ~3 min
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402
from skucast.data import load_m5, split_future  # noqa: E402
from skucast.models import Forecaster, fit, save  # noqa: E402
from skucast.models.panel import build_future, build_history, scale_of  # noqa: E402


def eager_baseline(net, spec, df, futr, horizon, S, seed=0, chunk=40):
    """The straightforward eager predictor: repeat every series S times, step the same
    DeepARNet on Bs*S rows, draw with torch.distributions.NegativeBinomial."""
    torch.manual_seed(seed)
    lags = np.asarray(spec["lags"])
    C, m = spec["context_length"], int(lags.max())
    L = m + C
    p = build_history(df, spec, length=L)
    fnum, fcat, _ = build_future(futr, p, spec, horizon)
    out = []
    lag_t = torch.from_numpy(lags)
    with torch.inference_mode():
        for a in range(0, len(p), chunk):
            r = np.arange(a, min(len(p), a + chunk))
            bs, B = len(r), len(r) * S
            y = torch.from_numpy(p.y[r]).repeat_interleave(S, 0)                 # (B, L)
            scale = torch.from_numpy(scale_of(p.y[r][:, m:], p.listed[r][:, m:])).repeat_interleave(S)
            static = torch.from_numpy(p.static[r]).repeat_interleave(S, 0)
            num = torch.from_numpy(p.num[r]).repeat_interleave(S, 0)
            cat = torch.from_numpy(p.cat[r]).repeat_interleave(S, 0)
            fn = torch.from_numpy(fnum[r]).repeat_interleave(S, 0)
            fc = torch.from_numpy(fcat[r]).repeat_interleave(S, 0)
            h = torch.zeros(net.layers, B, net.hidden)
            c = torch.zeros_like(h)
            for t in range(m, L):
                lagv = torch.log1p(y[:, t - lag_t] / scale[:, None]).unsqueeze(1)
                _, _, h, c = net(lagv, num[:, t], cat[:, t], static, scale, h, c)
            buf = torch.cat([y, torch.zeros(B, horizon)], 1)
            for k in range(horizon):
                lagv = torch.log1p(buf[:, L + k - lag_t] / scale[:, None]).unsqueeze(1)
                mu, al, h, c = net(lagv, fn[:, k], fc[:, k], static, scale, h, c)
                mu, al = mu[:, 0], al[:, 0]
                d = torch.distributions.NegativeBinomial(total_count=1.0 / al, probs=al * mu / (1.0 + al * mu),
                                                         validate_args=False)
                buf[:, L + k] = d.sample()
            out.append(buf[:, L:].reshape(bs, S, horizon).numpy().astype(np.int64))
    return np.concatenate(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--series", type=int, default=256)
    ap.add_argument("--paths", type=int, default=100)
    ap.add_argument("--horizon", type=int, default=28)
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--train-series", type=int, default=300)
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--big-batch-baseline", action="store_true", help="also time the baseline on one batch")
    a = ap.parse_args()
    if a.quick:
        a.series, a.train_series, a.epochs = 128, 200, 2
    info = harness.machine_info()
    print(harness.machine_header(info))
    H, S = a.horizon, a.paths
    torch.set_num_threads(1)
    df = load_m5(n_series=max(a.series, a.train_series), first_day=1500, last_day=1913)
    train, futr, _ = split_future(df, "2016-03-27", H)
    ids = train["unique_id"].unique()
    t0 = time.process_time()
    m = fit(train[train.unique_id.isin(ids[:a.train_series])], model="deepar", horizon=H,
            context_length=56, epochs=a.epochs, batches_per_epoch=30, batch_size=64, hidden=40, layers=2)
    train_cpu = time.process_time() - t0
    print(f"\ntrained 2x40 DeepAR on {a.train_series} series: {train_cpu:.0f} s CPU, nll/obs {m.history[-1]:.3f}")
    out = harness.OUT_DIR
    out.mkdir(exist_ok=True)
    fcs = {"skucast eager": Forecaster(m),
           "skucast TorchScript": Forecaster.load(save(m, str(out / "deepar_bench.pt"))),
           "skucast torch.export": Forecaster.load(save(m, str(out / "deepar_bench.pt2")))}
    hist = train[train.unique_id.isin(ids[:a.series])]
    fut = futr[futr.unique_id.isin(ids[:a.series])]
    n = hist["unique_id"].nunique()
    rows = []
    print(f"\n{n} series x {S} paths x {H} days; series/s = {n} / median wall time\n")
    print("| implementation | thr | median | series/s | speed-up vs eager torch.distributions |")
    print("|---|---|---|---|---|")
    for thr in a.threads:
        with harness.threads(thr):
            kept = []
            chunk = max(1, 4096 // S)     # the baseline's best batch (same paths per chunk as ours)
            t_base = harness.timeit_median(
                lambda: kept.append(eager_baseline(m.net, m.spec, hist, fut, H, S, chunk=chunk)),
                repeats=3, warmup=0, max_seconds=30)
            base_samples = kept[0]
            res = {f"eager torch.distributions (baseline, {chunk} series/batch)": t_base}
            if a.big_batch_baseline:
                res[f"eager torch.distributions ({n} series/batch)"] = harness.timeit_median(
                    lambda: eager_baseline(m.net, m.spec, hist, fut, H, S, chunk=n), repeats=1, warmup=0)
            for name, f in fcs.items():
                res[name] = harness.timeit_median(lambda: f.predict(hist, fut, num_samples=S, seed=0),
                                                  repeats=3, warmup=1)
            ours = fcs["skucast TorchScript"].predict(hist, fut, num_samples=S, seed=0).samples
            # same model, different RNG: the path means must agree in distribution
            rel = abs(ours.mean() - base_samples.mean()) / max(base_samples.mean(), 1e-9)
            for name, t in res.items():
                rows.append(dict(impl=name, threads=thr, median_s=t, series_per_s=n / t, speedup=t_base / t))
                print(f"| {name} | {thr} | {t:.3f} s | {n / t:.0f} | {t_base / t:.2f}x |")
            print(f"| check: mean of all paths skucast {ours.mean():.4f} vs baseline {base_samples.mean():.4f} "
                  f"(rel diff {rel:.3f}) | {thr} | | | |")
    (out / "models.json").write_text(json.dumps(dict(machine=info, series=n, paths=S, horizon=H,
                                                     train_cpu_s=train_cpu, rows=rows), indent=1, default=str))


if __name__ == "__main__":
    main()
