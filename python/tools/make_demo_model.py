"""Trains the small DeepAR shipped beside the demo slice (run from the repo root):

    PYTHONPATH=python python python/tools/make_demo_model.py

`skucast.train` on the 300 CA_1 items of demo_data/m5_ca1_slice.npz, days before the demo's
16-week replay window only (so the replay stays out of sample), calendar covariates only (no
future frame needed), 2 x 24 LSTM, TorchScript. ~1-2 minutes on one CPU thread.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import skucast  # noqa: E402
from skucast import demo  # noqa: E402

OUT = Path(__file__).resolve().parents[1] / "skucast" / "demo_data" / "deepar_ca1.pt"


def main() -> None:
    torch.set_num_threads(1)
    data = demo.load_slice()
    train_days = data.sales.shape[1] - demo.BACKTEST_DAYS
    df = demo.long_frame(data, train_days)
    t0 = time.perf_counter()
    skucast.train(df, str(OUT), model="deepar", horizon=28, context_length=56, epochs=24, batches_per_epoch=30,
                  batch_size=64, hidden=24, layers=2, lr=3e-3, seed=0, verbose=True)
    print(f"wrote {OUT} ({OUT.stat().st_size / 1024:.0f} KiB) in {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
