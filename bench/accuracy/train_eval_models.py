"""Training step of the M5 CA_1 accuracy evaluation (bench/accuracy/m5_eval.py): DeepAR and
N-BEATS fitted on d_1..d_1885, written as TorchScript with a json of their settings and times.

Single-threaded torch so the CPU time is comparable across runs on the shared 2-core VM.
"""
from __future__ import annotations

import json
import os
import time

import torch

from skucast.models import fit, save

# Settings of the full evaluation; --quick scales epochs down (see m5_eval.py).
DEEPAR = dict(model="deepar", horizon=28, context_length=56, epochs=100, batches_per_epoch=40,
              batch_size=128, lr=2e-3, hidden=40, layers=2, seed=0)
NBEATS = dict(model="nbeats", horizon=28, context_length=112, epochs=60, batches_per_epoch=50,
              batch_size=256, lr=1e-3, stacks="generic", blocks=3, width=128, depth=3, seed=0)


def train_one(train_df, settings: dict, path: str) -> dict:
    """Fit, save as TorchScript, return the settings with CPU/wall seconds and the loss curve."""
    t_cpu, t_wall = time.process_time(), time.perf_counter()
    m = fit(train_df, **settings)
    meta = dict(settings, cpu_s=time.process_time() - t_cpu, wall_s=time.perf_counter() - t_wall,
                nll_by_epoch=[round(x, 4) for x in m.history], path=path)
    save(m, path)
    return meta


def train_models(train_df, out_dir: str, quick: bool = False, reuse: bool = False,
                 which=("deepar", "nbeats")) -> dict:
    """{name: meta}; with reuse, models whose file and meta json exist are not retrained."""
    torch.set_num_threads(1)
    os.makedirs(out_dir, exist_ok=True)
    metas = {}
    for name, settings in (("deepar", DEEPAR), ("nbeats", NBEATS)):
        if name not in which:
            continue
        tag = f"m5_eval_{name}{'_quick' if quick else ''}"
        path, meta_path = os.path.join(out_dir, tag + ".pt"), os.path.join(out_dir, tag + ".json")
        if reuse and os.path.isfile(path) and os.path.isfile(meta_path):
            with open(meta_path) as f:
                metas[name] = json.load(f)
            print(f"{name}: reusing {path} (trained in {metas[name]['cpu_s']:.0f} s CPU)")
            continue
        s = dict(settings)
        if quick:
            s.update(epochs=3, batches_per_epoch=10)
        meta = train_one(train_df, s, path)
        with open(meta_path, "w") as f:
            json.dump(meta, f, indent=1)
        print(f"{name}: trained in {meta['cpu_s']:.0f} s CPU / {meta['wall_s']:.0f} s wall, "
              f"nll/obs {meta['nll_by_epoch'][0]} -> {meta['nll_by_epoch'][-1]}", flush=True)
        metas[name] = meta
    return metas


if __name__ == "__main__":
    import argparse

    from skucast.data import load_m5, split_future
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--out", default="bench/out")
    a = ap.parse_args()
    df = load_m5(n_series=60 if a.quick else None)
    train, _, _ = split_future(df, "2016-03-27", 28)
    train_models(train, a.out, quick=a.quick)
