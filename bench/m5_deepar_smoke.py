"""Smoke run on M5 CA_1 (not the evaluation): DeepAR 2x40 trained ~2 min CPU on d_1068..d_1885,
saved as TorchScript, loaded, 100 paths x 28 days for all 3,049 items, metrics of EVALUATION.md.

    PYTHONPATH=python python bench/m5_deepar_smoke.py
"""
import time

import torch

import skucast
from skucast.data import load_m5, m5_eval_arrays, split_future
from skucast.models import Forecaster, fit, save

torch.set_num_threads(1)
skucast.set_num_threads(1)
df = load_m5()
train, futr, test = split_future(df, "2016-03-27", 28)
t0 = time.process_time()
m = fit(train[train.ds >= "2014-01-01"], model="deepar", horizon=28, context_length=56, epochs=30,
        batches_per_epoch=40, batch_size=64, lr=3e-3)
print(f"train {time.process_time() - t0:.0f} s CPU, nll/obs by epoch {[round(x, 3) for x in m.history[::5]]}")
f = Forecaster.load(save(m, "bench/out/m5_deepar.pt"))
t0 = time.perf_counter()
fc = f.predict(train, futr, num_samples=100, seed=0)
print(f"predict {len(fc.unique_id)} series x 100 x 28: {time.perf_counter() - t0:.1f} s")
u, h, y, d, g = m5_eval_arrays(train, test, uids=fc.unique_id)
for level, res in skucast.metrics.evaluate_hierarchy(h, y, d, g, samples=fc.samples).items():
    print(level, {k: round(v, 4) for k, v in res.items()})
