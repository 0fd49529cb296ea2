"""The built-in demo: real M5 sales (a slice shipped in the package) -> NB forecasts -> order-up-to
levels -> a 16-week replay against actual sales, compared with the retail default, then
today's orders, a fan chart and an inventory trace.

Forecasters: the day-of-week NB baseline (numpy only) always runs; when torch is installed the
small DeepAR shipped beside the slice (demo_data/deepar_ca1.pt, trained with `skucast train` on
the days before the replay window, see python/tools/make_demo_model.py) is replayed too and
makes today's orders. The summary says which forecaster made the orders.
"""
from __future__ import annotations

import csv
import time
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from . import inventory, nbinom
from .baselines import moving_average_normal, weekday_profile_nb
from .pipeline.io import atomic_write as _atomic_write
from .quantiles import quantiles

LEAD_TIME, REVIEW = 3, 7                 # EVALUATION.md: weekly review, 3-day lead time
BACKTEST_DAYS = 112                       # the last 16 weeks of the data
TARGETS = (0.80, 0.90, 0.95, 0.98)
FAN_LEVELS = (0.05, 0.25, 0.5, 0.75, 0.95)


@dataclass
class Slice:
    sales: np.ndarray        # (n, T) int
    price: np.ndarray        # (n, T) float, NaN when not on sale
    item_id: np.ndarray
    dept_id: np.ndarray
    date: np.ndarray


def load_slice() -> Slice:
    """The shipped M5 CA_1 slice (see demo_data/PROVENANCE.md)."""
    with resources.files("skucast").joinpath("demo_data/m5_ca1_slice.npz").open("rb") as fh:
        z = np.load(fh)
        return Slice(z["sales"].astype(np.int64), z["price"].astype(np.float64), z["item_id"], z["dept_id"], z["date"])


MODEL_FILE = "demo_data/deepar_ca1.pt"
DEEPAR_SAMPLES = 200


def long_frame(data: Slice, days: int | None = None, first: int = 0):
    """Days [first, days) of the slice as a long frame (unique_id, ds, y, item/dept/cat/store
    ids) for skucast.train / Forecaster.predict."""
    import pandas as pd
    n, T = data.sales.shape
    days = (T if days is None else days)
    span = days - first
    dept = np.asarray(data.dept_id).astype(str)
    return pd.DataFrame({
        "unique_id": np.repeat(np.asarray(data.item_id).astype(str), span),
        "ds": np.tile(pd.to_datetime(data.date[first:days]).to_numpy(), n),
        "y": data.sales[:, first:days].ravel().astype(np.float64),
        "item_id": np.repeat(np.asarray(data.item_id).astype(str), span),
        "dept_id": np.repeat(dept, span),
        "cat_id": np.repeat(np.char.partition(dept, "_")[:, 0], span),
        "store_id": "CA_1",
    })


def filled_prices(price: np.ndarray) -> np.ndarray:
    """Nearest known price where an item is off sale (EVALUATION.md's inventory valuation)."""
    out = price.copy()
    for row in out:
        known = np.flatnonzero(~np.isnan(row))
        if known.size == 0:
            row[:] = 0.0
            continue
        idx = np.searchsorted(known, np.arange(row.size))
        left = known[np.clip(idx - 1, 0, known.size - 1)]
        right = known[np.clip(idx, 0, known.size - 1)]
        nearest = np.where(np.abs(np.arange(row.size) - left) <= np.abs(right - np.arange(row.size)), left, right)
        row[:] = row[nearest]
    return out


def skucast_targets(sales: np.ndarray, origins, service_level: float) -> np.ndarray:
    """Order-up-to per review from NB forecasts made with data before each review: (n, reviews)."""
    cols = []
    for t in origins:
        mu, alpha = weekday_profile_nb(sales[:, :t], horizon=LEAD_TIME + REVIEW)
        res = inventory.order_up_to(mu=mu, alpha=alpha, lead_time=LEAD_TIME, review_period=REVIEW,
                                    service_level=service_level)
        cols.append(res.S)
    return np.stack(cols, axis=1)


def load_forecaster(which: str = "auto"):
    """(Forecaster or None, description). which: "auto" (DeepAR when torch is installed),
    "deepar" (required) or "nb" (the numpy baseline)."""
    if which not in ("auto", "deepar", "nb"):
        raise ValueError(f"forecaster: must be 'auto', 'deepar' or 'nb', got {which!r}")
    if which == "nb":
        return None, "day-of-week NB baseline (numpy)"
    try:
        from .models.forecaster import Forecaster
    except ImportError as e:
        if which == "deepar":
            raise ImportError(f"the DeepAR demo needs torch: pip install 'skucast[models]' ({e})") from e
        return None, "day-of-week NB baseline (numpy; torch is not installed, so the shipped DeepAR did not run)"
    with resources.as_file(resources.files("skucast").joinpath(MODEL_FILE)) as path:
        f = Forecaster.load(str(path))
    return f, f"DeepAR ({MODEL_FILE}, trained with skucast train)"


def deepar_paths(forecaster, data: Slice, end: int, horizon: int, seed: int, num_samples: int = DEEPAR_SAMPLES):
    """(n, num_samples, horizon) DeepAR sample paths from the days before ``end``."""
    spec = forecaster.spec
    need = max(spec["lags"]) + spec["context_length"]
    fc = forecaster.predict(long_frame(data, end, max(0, end - need)), horizon=horizon, num_samples=num_samples,
                            seed=seed)
    order = np.searchsorted(fc.unique_id.astype(str), np.asarray(data.item_id).astype(str))
    return fc.samples[order]


def deepar_targets(forecaster, data: Slice, origins, targets, seed: int) -> dict:
    """{target: (n, reviews) order-up-to} from DeepAR paths forecast at each review."""
    cols = {t: [] for t in targets}
    for t in origins:
        paths = deepar_paths(forecaster, data, t, LEAD_TIME + REVIEW, seed, num_samples=100)
        for tgt in targets:
            cols[tgt].append(inventory.order_up_to(samples=paths, lead_time=LEAD_TIME, review_period=REVIEW,
                                                   service_level=tgt).S)
    return {t: np.stack(c, axis=1) for t, c in cols.items()}


def retail_default_targets(sales: np.ndarray, origins, service_level: float) -> np.ndarray:
    """28-day moving average with normal safety stock: S = ceil(mu (L+R) + z sigma sqrt(L+R))."""
    from statistics import NormalDist
    z = NormalDist().inv_cdf(service_level)
    days = LEAD_TIME + REVIEW
    cols = []
    for t in origins:
        mean, sd = moving_average_normal(sales[:, :t], 28)
        cols.append(np.ceil(mean * days + z * sd * np.sqrt(days)).astype(np.int64))
    return np.stack(cols, axis=1)


def replay(data: Slice, targets: np.ndarray, value_price: np.ndarray):
    """Simulate the last 16 weeks with lost sales; inventory valued at that day's price."""
    demand = data.sales[:, -BACKTEST_DAYS:]
    n = demand.shape[0]
    res = inventory.simulate(demand, S=targets, lead_time=LEAD_TIME, review_period=REVIEW, lost_sales=True,
                             trace_rows=np.arange(n))
    on_hand = res.trace["on_hand"]
    totals = res.totals()
    return {
        "fill_rate": totals["fill_rate"],
        "stockout_item_days": int(res.stockout_days.sum()),
        "avg_inventory_value": float((on_hand * value_price).sum(axis=0).mean()),
        "avg_on_hand_units": float(on_hand.sum(axis=0).mean()),
        "orders": int(res.num_orders.sum()),
        "bullwhip": totals["bullwhip"],
    }, res


def todays_orders(data: Slice, on_hand: np.ndarray, on_order: np.ndarray, service_level: float, seed: int,
                  forecaster=None):
    """Forecast 28 days from the end of the data, sample paths, order-up-to and orders."""
    mu, alpha = weekday_profile_nb(data.sales, horizon=28)
    n = mu.shape[0]
    if forecaster is not None:
        paths = deepar_paths(forecaster, data, data.sales.shape[1], 28, seed)
        mu = paths.mean(axis=1)
    else:
        # keys name the series, step the forecast day: each series' paths are fixed by the seed alone
        paths = nbinom.sample(mu, alpha[:, None], num_samples=200, seed=seed, keys=np.arange(n)[:, None],
                              step=np.arange(28)[None, :])
        paths = np.moveaxis(paths, -1, 1)                      # (n, samples, 28)
    fan = quantiles(paths, FAN_LEVELS, axis=1)                 # (n, 28, levels)
    if forecaster is not None:
        policy = inventory.order_up_to(samples=paths, lead_time=LEAD_TIME, review_period=REVIEW,
                                       service_level=service_level)
    else:
        policy = inventory.order_up_to(mu=mu, alpha=alpha, lead_time=LEAD_TIME, review_period=REVIEW,
                                       service_level=service_level)
    orders = inventory.replenish(on_hand=on_hand, on_order=on_order, S=policy.S)
    return mu, paths, fan, policy, orders


def _plots(out: Path, data: Slice, fan, trace_row: dict, item: int) -> list[Path]:
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return []
    written = []
    busiest = np.argsort(-data.sales[:, -56:].sum(axis=1))[:4]
    fig, axes = plt.subplots(2, 2, figsize=(11, 6), sharex=True)
    hist_days = np.arange(-56, 0)
    fc_days = np.arange(0, 28)
    for ax, i in zip(axes.ravel(), busiest):
        ax.plot(hist_days, data.sales[i, -56:], color="k", lw=1, label="actual sales")
        ax.fill_between(fc_days, fan[i, :, 0], fan[i, :, 4], color="tab:blue", alpha=0.2, label="90% interval")
        ax.fill_between(fc_days, fan[i, :, 1], fan[i, :, 3], color="tab:blue", alpha=0.35, label="50% interval")
        ax.plot(fc_days, fan[i, :, 2], color="tab:blue", lw=1.5, label="median")
        ax.set_title(f"{data.item_id[i]} ({data.dept_id[i]})", fontsize=9)
        ax.axvline(0, color="grey", lw=0.5)
    axes[0, 0].legend(fontsize=7)
    fig.suptitle("skucast demo: 28-day forecast fan (last 8 weeks of actual sales before it)")
    fig.tight_layout()
    path = out / "forecast_fan.png"
    _atomic_write(path, lambda p: fig.savefig(p, dpi=110, format="png"))
    plt.close(fig)
    written.append(path)

    fig, ax = plt.subplots(figsize=(11, 4))
    days = np.arange(trace_row["on_hand"].size)
    ax.step(days, trace_row["on_hand"], where="post", label="end-of-day on hand")
    ax.bar(days, trace_row["order"], color="tab:green", alpha=0.6, label="order placed")
    stock_out = np.flatnonzero(trace_row["unmet"] > 0)
    ax.scatter(stock_out, np.zeros_like(stock_out), color="tab:red", marker="x", label="lost sales")
    ax.plot(days, trace_row["demand"], color="k", lw=0.7, alpha=0.6, label="demand")
    ax.set_title(f"Replay of the last 16 weeks for {data.item_id[item]}: weekly review, 3-day lead time")
    ax.set_xlabel("day of the backtest window")
    ax.legend(fontsize=8)
    fig.tight_layout()
    path = out / "inventory_trace.png"
    _atomic_write(path, lambda p: fig.savefig(p, dpi=110, format="png"))
    plt.close(fig)
    written.append(path)
    return written


def run(out_dir: str = "skucast-demo", service_level: float = 0.95, seed: int = 0, plots: bool = True,
        forecaster: str = "auto") -> dict:
    """Run the whole demo; returns the summary and writes orders.csv (+ PNGs) into out_dir.
    forecaster: "auto" (the shipped DeepAR when torch is installed, else the NB baseline),
    "deepar" or "nb"; ``summary["forecaster"]`` says which one made the orders."""
    t0 = time.perf_counter()
    model, model_name = load_forecaster(forecaster)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    data = load_slice()
    n, T = data.sales.shape
    start = T - BACKTEST_DAYS
    origins = range(start, T, REVIEW)
    value_price = filled_prices(data.price)[:, -BACKTEST_DAYS:]
    rows = []
    kept = {}
    for target in TARGETS:
        for name, make in (("skucast NB", skucast_targets), ("retail default", retail_default_targets)):
            metrics, res = replay(data, make(data.sales, origins, target), value_price)
            rows.append({"policy": name, "target": target, **metrics})
            if target == service_level and name == "skucast NB" and model is None:
                kept = {"result": res}
    if model is not None:
        for target, S in deepar_targets(model, data, origins, TARGETS, seed).items():
            metrics, res = replay(data, S, value_price)
            rows.append({"policy": "skucast DeepAR", "target": target, **metrics})
            if target == service_level:
                kept = {"result": res}
    if not kept:
        S = (deepar_targets(model, data, origins, [service_level], seed)[service_level] if model is not None
             else skucast_targets(data.sales, origins, service_level))
        metrics, res = replay(data, S, value_price)
        kept = {"result": res}
    res = kept["result"]
    end_on_hand = res.trace["on_hand"][:, -1]
    in_transit = res.trace["order"].sum(axis=1) - res.trace["arrival"].sum(axis=1)  # nothing in transit at start
    mu, paths, fan, policy, orders = todays_orders(data, end_on_hand, in_transit, service_level, seed,
                                                   model)

    orders_path = out / "orders.csv"

    def write_orders(p):
        with open(p, "w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["item_id", "dept_id", "mean_demand_L_plus_R", "order_up_to", "safety_stock", "on_hand",
                        "on_order", "order", "reason"])
            for i in range(n):
                w.writerow([data.item_id[i], data.dept_id[i], f"{policy.mean_demand[i]:.3f}", int(policy.S[i]),
                            f"{policy.safety_stock[i]:.3f}", int(end_on_hand[i]), int(in_transit[i]),
                            int(orders.order[i]), orders.reason_names[orders.reason[i]]])

    _atomic_write(orders_path, write_orders)
    written = [orders_path]
    if plots:
        item = int(np.argmax(data.sales[:, -BACKTEST_DAYS:].sum(axis=1)))
        tr = {k: res.trace[k][item] for k in ("on_hand", "order", "unmet")}
        tr["demand"] = data.sales[item, -BACKTEST_DAYS:]
        pngs = _plots(out, data, fan, tr, item)
        if not pngs:
            print("(matplotlib is not installed: no plots; pip install 'skucast[plots]')")
        written += pngs
    return {"rows": rows, "items": n, "forecaster": model_name, "files": [str(p) for p in written], "seconds": time.perf_counter() - t0,
            "orders_placed": int((orders.order > 0).sum()), "units_ordered": int(orders.order.sum())}


def equal_inventory_comparison(rows) -> list[str]:
    """Each skucast curve (the NB baseline, and DeepAR when it ran) read at the retail default's
    inventory values (linear interpolation; values outside a curve's range are skipped)."""
    def curve(name):
        pts = sorted((r["avg_inventory_value"], r["stockout_item_days"], r["fill_rate"]) for r in rows
                     if r["policy"] == name)
        return np.array(pts).T
    base = curve("retail default")
    lines = ["\nat equal average inventory value (each skucast curve interpolated; - is fewer stockouts):"]
    for name in dict.fromkeys(r["policy"] for r in rows if r["policy"] != "retail default"):
        ours = curve(name)
        found = False
        for value, stockouts, fill in base.T:
            if not ours[0, 0] <= value <= ours[0, -1]:
                continue
            s_ours = np.interp(value, ours[0], ours[1])
            f_ours = np.interp(value, ours[0], ours[2])
            lines.append(f"  {name:<15} ${value:,.0f}: stockout item-days {s_ours:,.0f} vs {stockouts:,.0f} "
                         f"({(s_ours / stockouts - 1) * 100:+.1f}%), fill rate {f_ours:.3f} vs {fill:.3f}")
            found = True
        if not found:
            lines.append(f"  {name:<15} (its curve and the retail default's do not overlap in inventory value)")
    return lines


def print_summary(summary: dict) -> None:
    print(f"skucast demo: {summary['items']} M5 CA_1 items (shipped slice), last 16 weeks replayed "
          f"(weekly review, {LEAD_TIME}-day lead time, lost sales)\n")
    head = f"{'policy':<16}{'target':>7}{'fill rate':>11}{'stockout item-days':>20}{'avg inv value $':>17}{'orders':>8}{'bullwhip':>10}"
    print(head)
    print("-" * len(head))
    for r in summary["rows"]:
        print(f"{r['policy']:<16}{r['target']:>7.2f}{r['fill_rate']:>11.3f}{r['stockout_item_days']:>20d}"
              f"{r['avg_inventory_value']:>17.0f}{r['orders']:>8d}{r['bullwhip']:>10.2f}")
    for line in equal_inventory_comparison(summary["rows"]):
        print(line)
    print(f"\nforecaster for today's orders: {summary.get('forecaster', '')}")
    print(f"today: {summary['orders_placed']} items to order, {summary['units_ordered']} units")
    for f in summary["files"]:
        print(f"wrote {f}")
    print(f"({summary['seconds']:.1f} s)")
