"""Validation step of the M5 CA_1 evaluation: choose DeepAR's training window and budget on
the validation window d_1858..d_1885 (models trained on d_..d_1857 only), never on the test days.

Candidates (same network, 2 x 40 LSTM): the evaluation's settings on the full history, the same
settings from 2014-01-01 (d_1068) on, and the smoke run's lighter settings from 2014-01-01.
Each is trained on days <= d_1857, forecasts d_1858..d_1885 (200 paths) and is scored by the
overall WRMSSE of EVALUATION.md (WSPL beside it). The winner's validation model is kept as
bench/out/m5_val_deepar.pt (m5_eval.py calibrates the common shock with it, so the shock is
calibrated out of sample); with --final the winner is retrained on d_..d_1885 and written as
bench/out/m5_eval_deepar.pt (+ .json), the file m5_eval.py --reuse evaluates. N-BEATS gets a
validation model too (its settings are not selected).

    PYTHONPATH=python nice -n 5 python3 bench/accuracy/select_training.py --final
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from skucast.data import load_m5, m5_eval_arrays, split_future  # noqa: E402
from skucast.metrics import evaluate_hierarchy  # noqa: E402
from skucast.models import Forecaster  # noqa: E402
from train_eval_models import DEEPAR, NBEATS, train_one  # noqa: E402

CUTOFF, VAL_CUTOFF, H = "2016-03-27", "2016-02-28", 28     # d_1885, d_1857
SMOKE = dict(DEEPAR, epochs=30, batches_per_epoch=40, batch_size=64, lr=3e-3)
CANDIDATES = {"full history, eval settings": (None, DEEPAR),
              "from 2014-01-01, eval settings": ("2014-01-01", DEEPAR),
              "from 2014-01-01, smoke settings": ("2014-01-01", SMOKE)}


def score(path, train, futr, test, S=200):
    fc = Forecaster.load(path).predict(train, futr, num_samples=S, seed=0)
    uids, hist, y, dollar, groups = m5_eval_arrays(train, test, uids=fc.unique_id)
    r = evaluate_hierarchy(hist, y, dollar, groups, samples=fc.samples)
    return {lv: {k: round(v, 4) for k, v in r[lv].items() if k in ("WRMSSE", "WSPL")} for lv in r}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="bench/out")
    ap.add_argument("--final", action="store_true", help="retrain the winner on d_..d_1885")
    a = ap.parse_args()
    torch.set_num_threads(1)
    df = load_m5()
    train, _, _ = split_future(df, CUTOFF, H)
    train_val, futr_val, test_val = split_future(train, VAL_CUTOFF, H)
    results = {}
    for i, (name, (start, settings)) in enumerate(CANDIDATES.items()):
        fit_df = train_val if start is None else train_val[train_val.ds >= start]
        meta = train_one(fit_df, settings, os.path.join(a.out, f"m5_val_deepar_{i}.pt"))
        meta.update(start=start, validation=score(meta["path"], train_val, futr_val, test_val))
        results[name] = meta
        v = meta["validation"]["overall"]
        print(f"{name:34s} trained {meta['cpu_s']:.0f} s CPU; validation overall WRMSSE {v['WRMSSE']:.4f} "
              f"WSPL {v['WSPL']:.4f}", flush=True)
    best = min(results, key=lambda k: results[k]["validation"]["overall"]["WRMSSE"])
    shutil.copyfile(results[best]["path"], os.path.join(a.out, "m5_val_deepar.pt"))
    nb = train_one(train_val, NBEATS, os.path.join(a.out, "m5_val_nbeats.pt"))
    out = {"validation_window": "d_1858..d_1885, models trained on days <= d_1857", "candidates": results,
           "chosen": best, "nbeats_validation_model": nb}
    print(f"chosen: {best}", flush=True)
    if a.final and best != next(iter(CANDIDATES)):    # the first one is train_eval_models.py's model
        start, settings = CANDIDATES[best]
        fit_df = train if start is None else train[train.ds >= start]
        meta = train_one(fit_df, settings, os.path.join(a.out, "m5_eval_deepar.pt"))
        meta.update(start=start, selected_by="bench/accuracy/select_training.py")
        with open(os.path.join(a.out, "m5_eval_deepar.json"), "w") as f:
            json.dump(meta, f, indent=1)
        out["final"] = meta
        print(f"final model trained in {meta['cpu_s']:.0f} s CPU / {meta['wall_s']:.0f} s wall", flush=True)
    with open(os.path.join(a.out, "m5_select_training.json"), "w") as f:
        json.dump(out, f, indent=1, default=float)


if __name__ == "__main__":
    main()
