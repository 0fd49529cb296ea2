"""The inventory backtest (issue 5, EVALUATION.md "Inventory backtest on M5"): re-forecast at each
weekly review of the last weeks of the data with only the days before it, set order-up-to levels,
replay the orders against the recorded sales (lost sales), and trace each policy's trade-off curve
over a sweep of service targets.

Policies, each a curve over its targets:
- retail default: 28-day moving average, S = ceil(mu (L+R) + z sigma sqrt(L+R)), uniform CSL;
- weekday NB: skucast.baselines.weekday_profile_nb -> order_up_to at a uniform CSL;
- the model (a Forecaster, or the NB baseline itself): sample paths of the L+R protection days
  -> order_up_to (empirical quantile of the window sums) at a uniform CSL;
- optimised: efficient_frontier on the same forecast, per-SKU levels for portfolio fill targets,
  cost = the item's sell price at the review.
Curves are compared by linear interpolation: stockout item-days at equal average inventory value,
inventory value at equal fill rate.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from statistics import NormalDist

import numpy as np

from .. import inventory
from ..baselines import moving_average_normal, weekday_profile_nb
from .backtest_data import BacktestData, nearest_prices
from .io import atomic_write

__all__ = ["backtest", "BacktestResult", "replay", "compare", "retail_default_levels", "check_model_cut",
           "plot_curves", "RETAIL", "WEEKDAY_NB", "DEFAULT_TARGETS", "DEFAULT_FILL_RATES"]

DEFAULT_TARGETS = (0.50, 0.60, 0.70, 0.80, 0.85, 0.90, 0.93, 0.95, 0.97, 0.98, 0.99, 0.995)
DEFAULT_FILL_RATES = (0.70, 0.80, 0.85, 0.88, 0.90, 0.92, 0.94, 0.95, 0.96, 0.97, 0.98, 0.985, 0.99, 0.995, 0.998,
                      0.999, 0.9995)
RETAIL = "retail default (28-day MA, normal)"
WEEKDAY_NB = "weekday NB"
MA_DAYS, NB_WEEKS = 28, 8
SEED_STRIDE = 1_000_003   # per-origin seed = seed * stride + origin day: origins draw different paths


def replay(demand, S, value_price, lead_time: int = 3, review_period: int = 7) -> dict:
    """Simulate (lost sales, initial on-hand = the first S, nothing in transit) and return the
    EVALUATION.md metrics. demand (n, T); S (n, reviews); value_price (n, T) for the on-hand value."""
    demand = np.asarray(demand)
    n = demand.shape[0]
    sim = inventory.simulate(demand, S=S, lead_time=lead_time, review_period=review_period, lost_sales=True,
                             trace_rows=np.arange(n))
    tot = sim.totals()
    on_hand = sim.trace["on_hand"]
    return {"fill_rate": tot["fill_rate"], "stockout_item_days": int(sim.stockout_days.sum()),
            "lost_units": int(sim.lost_units.sum()), "avg_on_hand_units": float(on_hand.sum(0).mean()),
            "avg_inventory_value": float((on_hand * value_price).sum(0).mean()),
            "orders": int(sim.num_orders.sum()), "bullwhip": tot["bullwhip"]}


def compare(base: list, other: list) -> list:
    """At each point of the ``base`` curve inside the ``other`` curve's range: the other's
    stockout item-days and lost units at the same average inventory value, and its inventory value
    at the same fill rate, as relative changes (linear interpolation along the other curve)."""
    ov = np.array([r["avg_inventory_value"] for r in other], dtype=float)
    of = np.array([r["fill_rate"] for r in other], dtype=float)
    o_so = np.array([r["stockout_item_days"] for r in other], dtype=float)
    o_lost = np.array([r["lost_units"] for r in other], dtype=float)
    iv, iff = np.argsort(ov), np.argsort(of)
    out = []
    for b in base:
        v, f = b["avg_inventory_value"], b["fill_rate"]
        row = {"target": b["target"], "base_value": v, "base_fill": f,
               "base_stockout_days": b["stockout_item_days"], "base_lost": b["lost_units"]}
        if ov.min() <= v <= ov.max():
            so = float(np.interp(v, ov[iv], o_so[iv]))
            row["stockout_days_at_value"] = so
            row["stockout_days_change"] = so / b["stockout_item_days"] - 1 if b["stockout_item_days"] else np.nan
            lost = float(np.interp(v, ov[iv], o_lost[iv]))
            row["lost_units_change"] = lost / b["lost_units"] - 1 if b["lost_units"] else np.nan
            row["fill_at_value"] = float(np.interp(v, ov[iv], of[iv]))
        if of.min() <= f <= of.max():
            val = float(np.interp(f, of[iff], ov[iff]))
            row["value_at_fill"] = val
            row["value_change_at_equal_fill"] = val / v - 1 if v else np.nan
        out.append(row)
    return out


def retail_default_levels(history, targets, lead_time: int = 3, review_period: int = 7) -> dict:
    """{target: (n,) S}: 28-day mean and std (ddof 0), S = ceil(mu (L+R) + z sigma sqrt(L+R))."""
    mean, sd = moving_average_normal(history, MA_DAYS)
    days = lead_time + review_period
    z = NormalDist().inv_cdf
    return {q: np.ceil(mean * days + z(q) * sd * np.sqrt(days)).astype(np.int64) for q in targets}


def _day(value, name: str) -> np.datetime64:
    """A date argument as a day, or a ValueError that names the argument."""
    try:
        return np.datetime64(value, "D")
    except (ValueError, TypeError) as e:
        raise ValueError(f"{name}: expected a date like 2016-01-03, got {value!r}") from e


def check_model_cut(spec: dict, first_origin, trained_through=None) -> str:
    """The last day the model was trained on (ISO date), which must be before the first origin.
    Taken from the model spec (``train_last_ds``, written by skucast.train) or, for older model
    files, from ``trained_through``; raises ValueError when neither says or it is too late."""
    first = np.datetime64(first_origin, "D")
    stated = spec.get("train_last_ds") if spec else None
    if stated is None and trained_through is None:
        raise ValueError("trained_through: the model file does not record its last training day; state it "
                         "(the last day of data the model saw) so the backtest can check it is before "
                         f"the first origin {first}")
    last = _day(stated if stated is not None else trained_through, "trained_through")
    if trained_through is not None and stated is not None and _day(trained_through, "trained_through") != last:
        raise ValueError(f"trained_through: {trained_through} disagrees with the model file's last training "
                         f"day {last}")
    if last >= first:
        raise ValueError(f"model: trained on data through {last}, at or after the first origin {first}; "
                         "a backtest needs a model trained only on days before it")
    return str(last)


def _check_levels(values, name, lo_open=0.0, hi_open=1.0):
    arr = np.atleast_1d(np.asarray(values, dtype=float))
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{name}: expected a non-empty list of levels, got {values!r}")
    bad = ~((arr > lo_open) & (arr < hi_open))
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        raise ValueError(f"{name}: each level must be in ({lo_open:g}, {hi_open:g}); first bad value at "
                         f"index {k}: {float(arr[k])!r}")
    seen, dup = np.unique(arr, return_counts=True)
    if (dup > 1).any():
        raise ValueError(f"{name}: level {float(seen[dup > 1][0])!r} appears more than once")
    return [float(x) for x in arr]


def plot_curves(curves: dict, path, title: str) -> bool:
    """PNG of replayed policy curves {name: [{fill_rate, stockout_item_days, avg_inventory_value}]}:
    fill rate and stockout item-days against average inventory value, written atomically;
    False when matplotlib is not installed."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.6))
    try:
        for name, rows in curves.items():
            v = [r["avg_inventory_value"] / 1e3 for r in rows]
            axes[0].plot(v, [r["fill_rate"] for r in rows], "o-", ms=3, label=name)
            axes[1].plot(v, [r["stockout_item_days"] / 1e3 for r in rows], "o-", ms=3, label=name)
        axes[0].set_ylabel("fill rate (replayed)")
        axes[1].set_ylabel("stockout item-days (thousands)")
        for ax in axes:
            ax.set_xlabel("average inventory value ($ thousands)")
            ax.grid(alpha=0.3)
        axes[0].legend(fontsize=8)
        fig.suptitle(title, fontsize=10)
        fig.tight_layout()
        atomic_write(Path(path), lambda p: fig.savefig(p, dpi=120, format="png"))
    finally:
        plt.close(fig)
    return True


@dataclass
class BacktestResult:
    """curves: {policy: [{target, fill_rate, stockout_item_days, lost_units, avg_on_hand_units,
    avg_inventory_value, orders, bullwhip}]}; comparisons: {"A vs B": compare(B, A)}; claim:
    the seed's claim checked against the retail default; config and timings."""
    curves: dict
    comparisons: dict
    claim: dict
    config: dict
    timings: dict = field(default_factory=dict)

    def to_frame(self):
        import pandas as pd
        return pd.DataFrame([{"policy": p, **r} for p, rows in self.curves.items() for r in rows])

    def comparisons_frame(self):
        import pandas as pd
        return pd.DataFrame([{"comparison": c, **r} for c, rows in self.comparisons.items() for r in rows])

    def to_json(self) -> str:
        """Strict JSON: a ratio with a zero baseline (NaN/inf) is written as null."""
        def clean(x):
            if isinstance(x, dict):
                return {k: clean(v) for k, v in x.items()}
            if isinstance(x, (list, tuple)):
                return [clean(v) for v in x]
            if isinstance(x, (float, np.floating)):
                return float(x) if np.isfinite(x) else None
            return x
        return json.dumps(clean({"config": self.config, "curves": self.curves, "comparisons": self.comparisons,
                                 "claim": self.claim, "timings": self.timings}), indent=1, allow_nan=False,
                          default=lambda x: None if x is None else clean(float(x)))

    def write(self, out_dir) -> list:
        """backtest.json, curves.csv, comparisons.csv and backtest.png (when matplotlib is
        installed) into out_dir, each written to a temporary name and renamed."""
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        written = []
        for name, write in (("backtest.json", lambda p: p.write_text(self.to_json())),
                            ("curves.csv", lambda p: self.to_frame().to_csv(p, index=False)),
                            ("comparisons.csv", lambda p: self.comparisons_frame().to_csv(p, index=False))):
            atomic_write(out / name, write)
            written.append(out / name)
        if self.plot(out / "backtest.png"):
            written.append(out / "backtest.png")
        return [str(p) for p in written]

    def plot(self, path) -> bool:
        """Both trade-off curves (fill rate, stockout item-days against average inventory value);
        False when matplotlib is not installed."""
        c = self.config
        return plot_curves(self.curves, path, f"{c['data']}: {c['weeks']} weekly reviews replayed "
                           f"(R={c['review_period']}, L={c['lead_time']}, lost sales), "
                           f"{c['window'][0]}..{c['window'][1]}")

    def summary_lines(self) -> list:
        lines = []
        for name, rows in self.curves.items():
            lines += [f"\n{name}", f"{'target':>7}{'fill rate':>10}{'stockout item-days':>20}{'lost units':>12}"
                      f"{'avg units':>11}{'avg inv value $':>16}{'orders':>8}{'bullwhip':>9}"]
            lines += [f"{r['target']:>7g}{r['fill_rate']:>10.4f}{r['stockout_item_days']:>20,d}"
                      f"{r['lost_units']:>12,d}{r['avg_on_hand_units']:>11,.0f}{r['avg_inventory_value']:>16,.0f}"
                      f"{r['orders']:>8,d}{r['bullwhip']:>9.2f}" for r in rows]
        for name, rows in self.comparisons.items():
            lines += [f"\n{name}: the first's changes at the second's points (interpolated)",
                      f"{'target':>7}{'base value $':>13}{'base fill':>10}{'stockout-days @value':>21}"
                      f"{'lost @value':>12}{'value @fill':>12}"]
            pct = lambda r, k: f"{100 * r[k]:+.1f}%" if k in r and np.isfinite(r[k]) else "-"
            lines += [f"{r['target']:>7g}{r['base_value']:>13,.0f}{r['base_fill']:>10.4f}"
                      f"{pct(r, 'stockout_days_change'):>21}{pct(r, 'lost_units_change'):>12}"
                      f"{pct(r, 'value_change_at_equal_fill'):>12}" for r in rows]
        lines.append("")
        for name, c in self.claim.items():
            lines.append(f"seed's claim (-30% stockouts or -20% inventory), {name}: stockout item-days at equal "
                         f"inventory value {_span(c['stockout_days_change'])}; inventory value at equal fill rate "
                         f"{_span(c['value_change_at_equal_fill'])} -> {c['verdict']}")
        return lines


def _span(vals) -> str:
    v = [x for x in vals if x is not None and np.isfinite(x)]
    if not v:
        return "(curves do not overlap)"
    return f"median {100 * np.median(v):+.1f}% (range {100 * min(v):+.1f}%..{100 * max(v):+.1f}%)"


def _claim(rows, lo=0.80, hi=0.99) -> dict:
    """The seed's claim along the retail default's targets lo..hi: 30% fewer stockout item-days at
    equal inventory value or 20% less inventory value at equal fill rate (medians over the
    points). Verdict: "holds" when a median reaches it, "roughly" within 5 points of it."""
    pick = [r for r in rows if lo - 1e-9 <= r["target"] <= hi + 1e-9]
    so = [r.get("stockout_days_change") for r in pick]
    va = [r.get("value_change_at_equal_fill") for r in pick]
    med = lambda v: float(np.median([x for x in v if x is not None and np.isfinite(x)])) if any(
        x is not None and np.isfinite(x) for x in v) else None
    m_so, m_va = med(so), med(va)
    def reach(slack):
        return (m_so is not None and m_so <= -0.30 + slack) or (m_va is not None and m_va <= -0.20 + slack)
    verdict = "holds" if reach(0.0) else "roughly (within 5 points)" if reach(0.05) else "does not hold"
    return {"targets": [r["target"] for r in pick], "stockout_days_change": so, "value_change_at_equal_fill": va,
            "median_stockout_days_change": m_so, "median_value_change_at_equal_fill": m_va, "verdict": verdict}


def _future_covariates(futr, spec, uids, origin, horizon: int):
    """The model's covariates on the protection days. Days past the end of the data (the last
    reviews' intervals) get neutral values: no price change, no SNAP day, no event (calendar
    covariates come from the date)."""
    import pandas as pd
    cols = [c for c in list(spec["numeric"]) + list(spec["categorical"]) if c in futr.columns]
    futr = futr[["unique_id", "ds"] + cols]
    if len(futr) < len(uids) * horizon:
        days = (origin + np.arange(horizon) * np.timedelta64(1, "D")).astype(futr["ds"].dtype)
        grid = pd.MultiIndex.from_product([uids, days], names=["unique_id", "ds"])
        dtypes = futr.dtypes
        futr = futr.set_index(["unique_id", "ds"]).reindex(grid).fillna(0).reset_index()
        futr = futr.astype({c: dtypes[c] for c in cols})
    return futr


def _model_paths(forecaster, frame, ds, data: BacktestData, t: int, horizon: int, num_samples: int, seed: int):
    """(n, num_samples, horizon) paths forecast at origin t from the frame's days before it, in
    data's item order."""
    import pandas as pd
    spec = forecaster.spec
    need = (max(spec["lags"]) if spec["lags"] else 0) + spec["context_length"]
    origin = data.dates[t].astype("datetime64[ns]")
    lo = data.dates[max(0, t - need)].astype("datetime64[ns]")
    hist = frame[(ds >= lo) & (ds < origin)]
    end = origin + np.timedelta64(horizon, "D").astype("timedelta64[ns]")
    futr = _future_covariates(frame[(ds >= origin) & (ds < end)], spec, hist["unique_id"].unique(), origin, horizon)
    fc = forecaster.predict(hist, futr, horizon=horizon, num_samples=num_samples, seed=seed)
    pos = pd.Index(np.asarray(fc.unique_id).astype(str)).get_indexer(data.unique_id)
    if (pos < 0).any():
        k = int(np.flatnonzero(pos < 0)[0])
        raise ValueError(f"data: series {data.unique_id[k]!r} (row {k}) has no forecast at origin {data.dates[t]}")
    return fc.samples[pos]


def backtest(data: BacktestData, forecaster="weekday-nb", *, targets=DEFAULT_TARGETS, fill_rates=DEFAULT_FILL_RATES,
             optimise: bool = True, weeks: int = 16, lead_time: int = 3, review_period: int = 7,
             num_samples: int = 100, seed: int = 0, trained_through=None, train: dict | None = None,
             model_name: str | None = None, verbose: bool = False) -> BacktestResult:
    """Backtest on the last ``weeks`` x ``review_period`` days of ``data`` (a BacktestData, see
    skucast.pipeline.backtest_data.load_m5_store / load_demo).

    forecaster: "weekday-nb" (the NB baseline only), a Forecaster (trained before the first origin:
    checked with its spec's ``train_last_ds`` or ``trained_through``), or "train" to fit DeepAR on
    the days before the first origin (``train``: skucast.models.fit keyword arguments). At each
    review the model forecasts ``num_samples`` paths of the L+R protection days (seed per origin:
    ``seed * 1000003 + origin day index``; paths keyed by series, path and day).
    targets: uniform CSL levels in (0, 1); fill_rates: portfolio fill targets of the optimised
    curve (``optimise``). Returns a BacktestResult; ``.write(out_dir)`` writes the files.
    """
    t_wall, t_cpu = time.perf_counter(), time.process_time()
    if not isinstance(data, BacktestData):
        raise TypeError(f"data: expected a BacktestData (load_m5_store / load_demo), got {type(data).__name__}")
    if isinstance(forecaster, str):
        if forecaster not in ("weekday-nb", "train"):
            raise ValueError(f"forecaster: must be 'weekday-nb', 'train' or a Forecaster, got {forecaster!r}")
    elif not (hasattr(forecaster, "predict") and hasattr(forecaster, "spec")):
        raise TypeError(f"forecaster: expected 'weekday-nb', 'train' or a Forecaster, got {type(forecaster).__name__}")
    targets = _check_levels(targets, "targets")
    fill_rates = _check_levels(fill_rates, "fill_rates") if optimise else []
    for name, v, low in (("weeks", weeks, 1), ("lead_time", lead_time, 0), ("review_period", review_period, 1),
                         ("num_samples", num_samples, 1), ("seed", seed, 0)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < low:
            raise ValueError(f"{name}: must be an integer >= {low}, got {v!r}")
    n, T = data.sales.shape
    start = T - weeks * review_period
    if start < max(MA_DAYS, 7 * NB_WEEKS):
        raise ValueError(f"weeks: {weeks} reviews of {review_period} days leave {max(start, 0)} days of history "
                         f"before the window; the baselines need {max(MA_DAYS, 7 * NB_WEEKS)}")
    origins = list(range(start, T, review_period))
    horizon = lead_time + review_period
    demand = data.sales[:, start:]
    value_price = nearest_prices(data.price)[:, start:]
    timings = {}

    model = None
    if isinstance(forecaster, str) and forecaster == "train":
        from ..models import Forecaster, fit
        kw = dict(train or {})
        first_ds = kw.pop("first_ds", None)
        first_train = int(np.searchsorted(data.dates, _day(first_ds, "train['first_ds']"))) if first_ds else 0
        t0 = time.perf_counter()
        frame = data.frame(first_train)
        ds = frame["ds"].to_numpy()
        model = Forecaster(fit(frame[ds < data.dates[start].astype("datetime64[ns]")], model="deepar",
                               verbose=verbose, **kw))
        timings["train_seconds"] = time.perf_counter() - t0
        model_name = model_name or "DeepAR (trained in this run)"
    elif not isinstance(forecaster, str):
        model = forecaster
        model_name = model_name or f"{forecaster.spec.get('model', 'model')} (model file)"
    cut = None
    if model is not None:
        cut = check_model_cut(model.spec, data.dates[start], trained_through)
        if model.spec["horizon"] < horizon:
            raise ValueError(f"forecaster: trained for {model.spec['horizon']} days, the protection interval "
                             f"L+R is {horizon}")
        if forecaster != "train":   # a trained-in-run model reuses its training frame
            need = (max(model.spec["lags"]) if model.spec["lags"] else 0) + model.spec["context_length"]
            frame = data.frame(max(0, start - need))
            ds = frame["ds"].to_numpy()
    main = model_name if model is not None else WEEKDAY_NB
    opt = f"{main}, optimised per-SKU targets"

    levels = {RETAIL: {q: [] for q in targets}, WEEKDAY_NB: {q: [] for q in targets}}
    if model is not None:
        levels[main] = {q: [] for q in targets}
    if optimise:
        levels[opt] = {f: [] for f in fill_rates}
    t_fc = t_opt = 0.0
    for k, t in enumerate(origins):
        hist = data.sales[:, :t]
        for q, S in retail_default_levels(hist, targets, lead_time, review_period).items():
            levels[RETAIL][q].append(S)
        mu, alpha = weekday_profile_nb(hist, horizon=horizon, weeks=NB_WEEKS)
        for q in targets:
            levels[WEEKDAY_NB][q].append(inventory.order_up_to(
                mu=mu, alpha=alpha, lead_time=lead_time, review_period=review_period, service_level=q).S)
        demand_kw = dict(mu=mu, alpha=alpha[:, None])
        if model is not None:
            t0 = time.perf_counter()
            paths = _model_paths(model, frame, ds, data, t, horizon, num_samples, seed * SEED_STRIDE + t)
            t_fc += time.perf_counter() - t0
            for q in targets:
                levels[main][q].append(inventory.order_up_to(
                    samples=paths, lead_time=lead_time, review_period=review_period, service_level=q).S)
            demand_kw = dict(samples=paths)
        if optimise:
            t0 = time.perf_counter()
            # cost = the sell price at the review (> 0: an item never priced gets a token cent)
            fr = inventory.efficient_frontier(cost=np.maximum(value_price[:, t - start], 0.01), fill_rates=fill_rates,
                                              return_levels=True, **demand_kw)
            t_opt += time.perf_counter() - t0
            for j, f in enumerate(fill_rates):
                levels[opt][f].append(fr.levels[j])
        if verbose:
            print(f"origin {k + 1}/{len(origins)} ({data.dates[t]}): {time.perf_counter() - t_wall:.0f} s", flush=True)

    curves = {}
    for name, table in levels.items():
        curves[name] = [dict(target=key, **replay(demand, np.stack(cols, 1), value_price, lead_time, review_period))
                        for key, cols in table.items()]
    others = [p for p in curves if p != RETAIL]
    comparisons = {f"{o} vs {RETAIL}": compare(curves[RETAIL], curves[o]) for o in others}
    if model is not None:
        comparisons[f"{main} vs {WEEKDAY_NB}"] = compare(curves[WEEKDAY_NB], curves[main])
    if optimise:
        comparisons[f"{opt} vs {main}"] = compare(curves[main], curves[opt])
    claim = {o: _claim(comparisons[f"{o} vs {RETAIL}"]) for o in others}
    timings.update(forecast_seconds=t_fc, optimise_seconds=t_opt, seconds=time.perf_counter() - t_wall,
                   cpu_seconds=time.process_time() - t_cpu)
    config = {"data": data.name, "items": int(n), "window": [str(data.dates[start]), str(data.dates[-1])],
              "origins": [str(data.dates[t]) for t in origins], "weeks": weeks, "lead_time": lead_time,
              "review_period": review_period, "forecaster": main, "model_trained_through": cut,
              "model_spec": {k: v for k, v in (model.spec.items() if model is not None else [])
                             if k in ("model", "horizon", "context_length", "lags", "hyper", "numeric",
                                      "categorical", "train_last_ds")},
              "num_samples": num_samples if model is not None else None, "seed": seed, "targets": targets,
              "fill_rates": fill_rates, "optimise": optimise}
    return BacktestResult(curves, comparisons, claim, config, timings)
