"""Command line: ``skucast demo`` runs the whole job on the built-in M5 slice; ``skucast train``
fits DeepAR / N-BEATS and writes a model file; ``skucast predict`` loads one and writes
quantile forecasts; ``skucast plan`` turns sales + a stock snapshot into an orders file;
``skucast backtest`` replays weekly re-forecasts and orders against actual sales (M5 CA_1 or the
demo slice) and writes the trade-off curves against the retail default."""
from __future__ import annotations

import argparse
import sys


def _read_frame(path):
    import pandas as pd
    return pd.read_parquet(path) if str(path).endswith(".parquet") else pd.read_csv(path, parse_dates=["ds"])


def _demo(a):
    from . import demo
    summary = demo.run(out_dir=a.out, service_level=a.service_level, seed=a.seed, plots=not a.no_plots,
                       forecaster=a.forecaster)
    demo.print_summary(summary)


def _train(a):
    from .models.training import train
    if a.m5 is not None:
        from .data import load_m5
        df = load_m5(a.m5 or None, n_series=a.n_series, first_day=a.first_day, last_day=a.last_day)
    elif a.input:
        df = _read_frame(a.input)
    else:
        raise SystemExit("skucast train: give --input FRAME (parquet/csv) or --m5 [DIR]")
    kw = dict(horizon=a.horizon, context_length=a.context_length, epochs=a.epochs,
              batches_per_epoch=a.batches, batch_size=a.batch_size, lr=a.lr, seed=a.seed, verbose=True)
    kw.update(dict(hidden=a.hidden, layers=a.layers) if a.model == "deepar" else dict(stacks=a.stacks))
    path = train(df, a.out, model=a.model, format=a.format, **kw)
    print(f"wrote {path}")


def _predict(a):
    from .models.forecaster import Forecaster
    f = Forecaster.load(a.model)
    df = _read_frame(a.input)
    futr = _read_frame(a.futr) if a.futr else None
    try:
        fc = f.predict(df, futr, horizon=a.horizon, num_samples=a.num_samples, seed=a.seed, device=a.device)
    except ValueError as e:
        raise SystemExit(f"skucast predict: {e}") from None
    levels = _levels_arg(a.levels, "--levels", "predict") if a.levels else []
    fc.to_frame(levels).to_csv(a.out, index=False)
    print(f"wrote {a.out}")


def _plan(a):
    levels = _levels_arg(a.levels, "--levels", "plan") if a.levels else []
    kw = dict(model=a.model, out=a.out, rejects=a.rejects, service_level=a.service_level,
              review_period=a.review_period, levels=levels, num_samples=a.num_samples, seed=a.seed,
              target=a.target, policy=a.policy, gaps=a.gaps, futr=a.futr, chunk_size=a.chunk_size,
              progress=False if a.no_progress else None)
    if a.dask:
        from . import dask as skd
        res = skd.plan(a.stock, sales=a.sales, scheduler=a.dask, partition_size=a.chunk_size, **kw)
    else:
        from .pipeline import plan
        res = plan(a.sales, a.stock, **kw)
    st = res.stats
    print(f"planned {st['planned']:,} of {st['stock_rows']:,} stock rows with {st['forecaster']} "
          f"({st['stock_rejected']:,} rejected, {st['sales_rejects']:,} sales rejects) in {st['seconds']:.1f} s")
    print(f"wrote {res.orders_path}\nwrote {res.rejects_path}")


def _levels_arg(text, name, cmd="backtest"):
    try:
        return [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise SystemExit(f"skucast {cmd}: {name} must be comma-separated numbers, got {text!r}") from None


def _backtest(a):
    import os

    from .pipeline import backtest, load_demo, load_m5_store
    from .pipeline.backtest_data import DEMO_MODEL_TRAINED_THROUGH, M5_TRAIN_FIRST_DS
    from .data import default_m5_path
    if a.threads:
        from . import set_num_threads
        set_num_threads(a.threads)
    on_m5 = not a.demo and (a.data is not None or os.path.exists(os.path.join(default_m5_path(), "sales.parquet")))
    data = load_m5_store(a.data, last_day=a.last_day) if on_m5 else load_demo()
    kw = dict(targets=_levels_arg(a.targets, "--targets"), fill_rates=_levels_arg(a.fill_rates, "--fill-rates"),
              optimise=not a.no_optimise, weeks=a.weeks, lead_time=a.lead_time, review_period=a.review_period,
              num_samples=a.num_samples, seed=a.seed, verbose=True)
    if a.threads:
        import torch
        torch.set_num_threads(a.threads)
    if a.train:
        first = a.train_from or (M5_TRAIN_FIRST_DS if on_m5 else None)
        kw["train"] = dict(horizon=a.horizon, context_length=a.context_length, epochs=a.epochs,
                           batches_per_epoch=a.batches, batch_size=a.batch_size, lr=a.lr, hidden=a.hidden,
                           layers=a.layers, seed=a.train_seed, **({"first_ds": first} if first else {}))
        forecaster = "train"
    elif a.model:
        from importlib import resources

        from .models.forecaster import Forecaster
        trained_through = a.trained_through
        if a.model == "demo":   # the shipped model: its training cut is known from its build script
            with resources.as_file(resources.files("skucast").joinpath("demo_data/deepar_ca1.pt")) as path:
                forecaster = Forecaster.load(str(path))
            trained_through = trained_through or DEMO_MODEL_TRAINED_THROUGH
            kw["model_name"] = "DeepAR (shipped demo model)"
        else:
            forecaster = Forecaster.load(a.model)
            kw["model_name"] = f"DeepAR ({os.path.basename(a.model)})"
        kw["trained_through"] = trained_through
    else:
        forecaster = "weekday-nb"
    print(f"skucast backtest: {data.name}, last {a.weeks} weeks, review every {a.review_period} days, "
          f"lead time {a.lead_time}, lost sales", flush=True)
    res = backtest(data, forecaster, **kw)
    print("\n".join(res.summary_lines()))
    t = res.timings
    print(f"({t['seconds']:.0f} s wall, {t['cpu_seconds']:.0f} s CPU of this process)")
    for f in res.write(a.out):
        print(f"wrote {f}")


def main(argv=None) -> int:
    from . import __version__
    ap = argparse.ArgumentParser(prog="skucast")
    ap.add_argument("--version", action="version", version=f"skucast {__version__}")
    sub = ap.add_subparsers(dest="cmd", required=True)
    _add_parser = sub.add_parser
    # every subcommand's --help shows the defaults
    sub.add_parser = lambda *args, **kw: _add_parser(*args, formatter_class=argparse.ArgumentDefaultsHelpFormatter, **kw)
    d = sub.add_parser("demo", help="run the whole job on the built-in M5 slice")
    d.add_argument("--out", default="skucast-demo", help="folder for orders.csv and the PNG plots")
    d.add_argument("--service-level", type=float, default=0.95, help="cycle service level target")
    d.add_argument("--seed", type=int, default=0)
    d.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    d.add_argument("--forecaster", choices=["auto", "deepar", "nb"], default="auto",
                   help="auto: the shipped DeepAR when torch is installed, else the NB baseline")
    d.set_defaults(func=_demo)
    t = sub.add_parser("train", help="fit a model and write a .pt (TorchScript) or .pt2 (torch.export) file")
    t.add_argument("--input", help="long frame (parquet or csv): unique_id, ds, y + covariates")
    t.add_argument("--m5", nargs="?", const="", default=None, help="train on the M5 files (default ../shared/data/m5-ca1)")
    t.add_argument("--n-series", type=int)
    t.add_argument("--first-day", type=int, default=1)
    t.add_argument("--last-day", type=int)
    t.add_argument("--out", required=True)
    t.add_argument("--model", choices=["deepar", "nbeats"], default="deepar")
    t.add_argument("--format", choices=["torchscript", "export"])
    t.add_argument("--stacks", choices=["generic", "interpretable"], default="generic")
    t.add_argument("--horizon", type=int, default=28)
    t.add_argument("--context-length", type=int, default=56)
    t.add_argument("--epochs", type=int, default=10)
    t.add_argument("--batches", type=int, default=50)
    t.add_argument("--batch-size", type=int, default=64)
    t.add_argument("--lr", type=float, default=1e-3)
    t.add_argument("--hidden", type=int, default=40)
    t.add_argument("--layers", type=int, default=2)
    t.add_argument("--seed", type=int, default=0)
    t.set_defaults(func=_train)
    p = sub.add_parser("predict", help="sample forecasts from a model file, write quantiles as csv")
    p.add_argument("--model", required=True)
    p.add_argument("--input", required=True)
    p.add_argument("--futr")
    p.add_argument("--out", required=True)
    p.add_argument("--horizon", type=int)
    p.add_argument("--num-samples", type=int, default=200)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--levels", default="0.5,0.9")
    p.add_argument("--device", default="cpu", help="cpu (default) or a CUDA device (cuda, cuda:1): network and "
                   "sampler on the GPU")
    p.set_defaults(func=_predict)
    pl = sub.add_parser("plan", help="sales + stock snapshot -> forecasts -> safety stock -> orders file")
    pl.add_argument("--sales", help="long sales frame (parquet/csv): unique_id, ds, y [+ covariates]; "
                    "omit when the stock rows carry NB parameters mu, alpha")
    pl.add_argument("--stock", required=True, help="stock snapshot (parquet/csv), one row per unique_id")
    pl.add_argument("--model", default=None, help="model file from `skucast train` (default: nb-baseline)")
    pl.add_argument("--futr", help="future covariates (parquet/csv) when the model needs them")
    pl.add_argument("--out", required=True, help="orders file (.parquet or .csv)")
    pl.add_argument("--rejects", help="rejects file (default: <out stem>.rejects.<ext>)")
    pl.add_argument("--service-level", type=float, default=0.95, help="default when stock has no service_level")
    pl.add_argument("--review-period", type=int, default=7, help="default when stock has no review_period")
    pl.add_argument("--levels", default="0.5,0.9", help="demand quantiles to report")
    pl.add_argument("--num-samples", type=int, default=200)
    pl.add_argument("--seed", type=int, default=0)
    pl.add_argument("--target", choices=["csl", "fill_rate"], default="csl")
    pl.add_argument("--policy", choices=["RS", "base_stock", "sS"], default="RS")
    pl.add_argument("--gaps", choices=["reject", "zero"], default="reject")
    pl.add_argument("--chunk-size", type=int, help="stock rows per chunk (Dask: per partition)")
    pl.add_argument("--dask", metavar="SCHEDULER", help="run on a Dask cluster: scheduler address, or 'local[:N]'")
    pl.add_argument("--no-progress", action="store_true")
    pl.set_defaults(func=_plan)
    b = sub.add_parser("backtest", help="weekly re-forecasts and orders replayed against actual sales: trade-off "
                       "curves against the retail default (EVALUATION.md's M5 backtest)")
    b.add_argument("--data", help="M5 folder with sales/calendar/sell_prices parquet (default: ../shared/data/m5-ca1 "
                   "or $SKUCAST_M5 when present, else the built-in demo slice)")
    b.add_argument("--demo", action="store_true", help="use the built-in 300-item M5 CA_1 slice")
    b.add_argument("--last-day", type=int, default=1913, help="M5: last day d_N of the data (the window ends "
                   "there)")
    f = b.add_mutually_exclusive_group()
    f.add_argument("--model", help="model file trained on days before the first origin ('demo': the shipped one); "
                   "default forecaster: the weekday NB baseline")
    f.add_argument("--train", action="store_true", help="train DeepAR on the days before the first origin in this run")
    b.add_argument("--trained-through", help="last day (YYYY-MM-DD) the --model saw, for files that do not record it")
    b.add_argument("--train-from", help="--train: first day of training data (default 2014-01-01 on M5, "
                   "all days on the demo)")
    b.add_argument("--epochs", type=int, default=30)
    b.add_argument("--batches", type=int, default=40, help="--train: batches per epoch")
    b.add_argument("--batch-size", type=int, default=64)
    b.add_argument("--lr", type=float, default=3e-3)
    b.add_argument("--hidden", type=int, default=40)
    b.add_argument("--layers", type=int, default=2)
    b.add_argument("--horizon", type=int, default=28, help="--train: the model's horizon (>= lead time + "
                   "review period)")
    b.add_argument("--context-length", type=int, default=56)
    b.add_argument("--train-seed", type=int, default=0)
    b.add_argument("--targets", default="0.5,0.6,0.7,0.8,0.85,0.9,0.93,0.95,0.97,0.98,0.99,0.995",
                   help="uniform cycle service levels (comma-separated)")
    b.add_argument("--fill-rates", default="0.7,0.8,0.85,0.88,0.9,0.92,0.94,0.95,0.96,0.97,0.98,0.985,0.99,0.995,0.998,"
                   "0.999,0.9995", help="portfolio fill targets of the optimised per-SKU curve")
    b.add_argument("--no-optimise", action="store_true", help="skip the optimised per-SKU targets curve")
    b.add_argument("--weeks", type=int, default=16)
    b.add_argument("--lead-time", type=int, default=3)
    b.add_argument("--review-period", type=int, default=7)
    b.add_argument("--num-samples", type=int, default=100)
    b.add_argument("--seed", type=int, default=0)
    b.add_argument("--threads", type=int, help="CPU threads for skucast and torch (default: all)")
    b.add_argument("--out", default="skucast-backtest", help="folder for backtest.json, curves.csv, comparisons.csv, "
                   "backtest.png")
    b.set_defaults(func=_backtest)
    a = ap.parse_args(argv)
    try:
        a.func(a)
    except (FileNotFoundError, IsADirectoryError, PermissionError) as e:
        # a path the user gave: one line, as argparse reports a bad option (other errors keep their
        # traceback: the library's ValueErrors already name the argument and row)
        raise SystemExit(f"skucast {a.cmd}: error: {e}") from None
    return 0


if __name__ == "__main__":
    sys.exit(main())
