"""skucast.backtest / `skucast backtest`: curves, the replay against a plain day loop, the model
training-cut check, bad arguments, atomic output."""
import os

import numpy as np
import pandas as pd
import pytest

import skucast
from skucast.pipeline.backtest import check_model_cut, compare, replay
from skucast.pipeline.backtest_data import BacktestData

L, R = 3, 7


def synthetic(rng, n=12, days=56 + 28, with_frame=False):
    lam = rng.gamma(1.0, 2.0, n)
    wk = 1 + 0.5 * (np.arange(days) % 7 >= 5)
    sales = rng.negative_binomial(2, 2 / (2 + lam[:, None] * wk[None, :]))
    price = np.round(rng.uniform(1, 9, n)[:, None] * np.ones(days), 2)
    price[0, -10:] = np.nan                      # off sale: valued at the nearest known price
    dates = np.arange(np.datetime64("2016-01-04") - (days - 28), np.datetime64("2016-01-04") + 28)
    uid = np.array([f"s{i}" for i in range(n)])

    def frame(first):
        t = days - first
        return pd.DataFrame({"unique_id": np.repeat(uid, t), "ds": np.tile(dates[first:].astype("datetime64[ns]"), n),
                             "y": sales[:, first:].ravel().astype(float), "item_id": np.repeat(uid, t),
                             "store_id": "X", "snap": np.tile((dates[first:].astype(object) != 0) * 1.0, n),
                             "dow": np.tile(np.arange(first, days) % 7, n)})
    return BacktestData(sales, price, uid, dates, name="synthetic", frame_loader=frame if with_frame else None)


def plain_replay(demand, S, price):
    """The EVALUATION.md rules day by day: arrival, review order (S - on hand - on order), sales
    (lost when short), end-of-day count."""
    n, T = demand.shape
    on_hand = S[:, 0].astype(int).copy()
    due = np.zeros((n, T + L + 1), int)
    sold = lost = so_days = orders = 0
    units = np.zeros(T)
    value = np.zeros(T)
    for t in range(T):
        on_hand += due[:, t]
        if t % R == 0:
            on_order = due[:, t + 1:].sum(1)
            q = np.maximum(0, S[:, t // R] - on_hand - on_order)
            due[:, t + L] += q
            orders += int((q > 0).sum())
        s = np.minimum(on_hand, demand[:, t])
        sold += s.sum()
        lost += (demand[:, t] - s).sum()
        so_days += int((demand[:, t] > s).sum())
        on_hand -= s
        units[t] = on_hand.sum()
        value[t] = (on_hand * price[:, t]).sum()
    return {"fill_rate": sold / demand.sum(), "stockout_item_days": so_days, "lost_units": int(lost),
            "avg_on_hand_units": units.mean(), "avg_inventory_value": value.mean(), "orders": orders}


def test_replay_matches_a_plain_day_loop(rng):
    demand = rng.poisson(rng.uniform(0.2, 6, 5)[:, None], (5, 28))
    S = rng.integers(0, 40, (5, 4))
    price = rng.uniform(1, 5, (5, 28))
    got = replay(demand, S, price, L, R)
    ref = plain_replay(demand, S, price)
    for k, v in ref.items():
        assert got[k] == pytest.approx(v, rel=1e-12), k


def test_weekday_nb_backtest_curves_are_sane(rng):
    res = skucast.backtest(synthetic(rng), targets=[0.6, 0.8, 0.9, 0.95, 0.99], fill_rates=[0.8, 0.9, 0.95],
                           weeks=4)
    assert set(res.curves) == {"retail default (28-day MA, normal)", "weekday NB",
                               "weekday NB, optimised per-SKU targets"}
    for name, rows in res.curves.items():
        v = np.array([r["avg_inventory_value"] for r in rows])
        so = np.array([r["stockout_item_days"] for r in rows])
        f = np.array([r["fill_rate"] for r in rows])
        assert (np.diff(v) >= -1e-9).all(), name          # more service costs more stock
        assert (np.diff(so) <= 2).all() and so[-1] <= so[0], name
        assert ((f > 0) & (f <= 1)).all() and f[-1] >= f[0], name
    assert res.config["window"] == ["2016-01-04", "2016-01-31"] and len(res.config["origins"]) == 4
    assert res.claim["weekday NB"]["verdict"] in ("holds", "roughly (within 5 points)", "does not hold")


def test_claim_verdicts():
    from skucast.pipeline.backtest import _claim
    rows = lambda so, va: [{"target": t, "stockout_days_change": so, "value_change_at_equal_fill": va}
                           for t in (0.5, 0.8, 0.95, 0.995)]
    assert _claim(rows(-0.31, 0.0))["verdict"] == "holds"
    assert _claim(rows(0.0, -0.21))["verdict"] == "holds"
    assert _claim(rows(-0.10, -0.17))["verdict"].startswith("roughly")
    c = _claim(rows(-0.10, -0.05))
    assert c["verdict"] == "does not hold" and c["targets"] == [0.8, 0.95]   # the retail targets 0.80..0.99


def test_compare_interpolates_along_the_other_curve():
    base = [{"target": 0.9, "avg_inventory_value": 15.0, "fill_rate": 0.9, "stockout_item_days": 100, "lost_units": 50}]
    other = [{"avg_inventory_value": 10.0, "fill_rate": 0.85, "stockout_item_days": 100, "lost_units": 40},
             {"avg_inventory_value": 20.0, "fill_rate": 0.95, "stockout_item_days": 60, "lost_units": 20}]
    row = compare(base, other)[0]
    assert row["stockout_days_change"] == pytest.approx(-0.2)     # 80 at value 15
    assert row["lost_units_change"] == pytest.approx(-0.4)        # 30
    assert row["value_change_at_equal_fill"] == pytest.approx(0.0)  # value 15 at fill 0.9
    assert "stockout_days_change" not in compare([dict(base[0], avg_inventory_value=30.0)], other)[0]


class PoissonModel:
    """A stand-in Forecaster: Poisson paths at each series' mean of the last 28 days of the frame."""

    def __init__(self, last_ds="2016-01-03"):
        self.spec = {"model": "deepar", "horizon": 28, "context_length": 28, "lags": [], "train_last_ds": last_ds,
                     "numeric": ["snap"], "categorical": {"dow": 7}}
        self.seen_last = []

    def predict(self, df, futr_df=None, horizon=None, num_samples=100, seed=0):
        self.seen_last.append(df["ds"].max())
        assert futr_df["ds"].min() > df["ds"].max() and "y" not in futr_df
        # every protection day has covariates, also past the end of the data (neutral ones)
        assert len(futr_df) == df["unique_id"].nunique() * horizon
        past_end = futr_df["ds"] > pd.Timestamp("2016-01-31")
        assert (futr_df.loc[past_end, "snap"] == 0).all() and (futr_df.loc[~past_end, "snap"] == 1).all()
        m = df.groupby("unique_id")["y"].mean()
        r = np.random.default_rng(seed)
        samples = r.poisson(m.to_numpy()[:, None, None], (len(m), num_samples, horizon))

        class F:
            pass
        f = F()
        f.samples, f.unique_id = samples[::-1], m.index.to_numpy()[::-1]   # another order than the data's
        return f


def test_model_forecasts_use_only_days_before_each_origin(rng):
    data = synthetic(rng, with_frame=True)
    model = PoissonModel()
    res = skucast.backtest(data, model, model_name="poisson", targets=[0.8, 0.95], optimise=False, weeks=4)
    assert [str(np.datetime64(d, "D")) for d in model.seen_last] == ["2016-01-03", "2016-01-10", "2016-01-17",
                                                                    "2016-01-24"]
    assert "poisson" in res.curves and "poisson vs weekday NB" in res.comparisons
    assert res.config["model_trained_through"] == "2016-01-03"


def test_models_trained_at_or_after_the_first_origin_are_refused(rng):
    data = synthetic(rng, with_frame=True)
    with pytest.raises(ValueError, match="model: trained on data through 2016-01-04"):
        skucast.backtest(data, PoissonModel("2016-01-04"), weeks=4)
    with pytest.raises(ValueError, match="trained_through: the model file does not record"):
        check_model_cut({}, "2016-01-04")
    assert check_model_cut({}, "2016-01-04", "2015-12-31") == "2015-12-31"
    with pytest.raises(ValueError, match="disagrees"):
        check_model_cut({"train_last_ds": "2015-12-01"}, "2016-01-04", "2015-12-31")


@pytest.mark.parametrize("kw, match", [
    (dict(targets=[0.8, 1.0]), r"targets: .*index 1: 1.0"),
    (dict(targets=[]), "targets: expected a non-empty"),
    (dict(fill_rates=[0.0]), "fill_rates: .*index 0"),
    (dict(weeks=20), "weeks: 20 reviews"),
    (dict(weeks=0), "weeks: must be an integer >= 1"),
    (dict(num_samples=2.5), "num_samples"),
    (dict(forecaster="arima"), "forecaster: must be"),
    (dict(targets=[0.9, 0.8, 0.9]), "targets: level 0.9 appears more than once"),
    (dict(seed=-1), "seed: must be an integer >= 0"),
])
def test_bad_arguments_name_the_argument(rng, kw, match):
    with pytest.raises(ValueError, match=match):
        skucast.backtest(synthetic(rng), **kw)


def test_bad_data_is_refused(rng):
    with pytest.raises(TypeError, match="data: expected a BacktestData"):
        skucast.backtest(np.zeros((3, 100)))
    with pytest.raises(TypeError, match="forecaster: expected"):
        skucast.backtest(synthetic(rng), forecaster=3)
    sales = np.ones((2, 90), int)
    sales[1, 7] = -1
    with pytest.raises(ValueError, match="sales: must be >= 0; first bad value at row 1, day 7"):
        BacktestData(sales, np.ones((2, 90)), ["a", "b"], np.arange(90) + np.datetime64("2016-01-01"))
    days = np.arange(90) + np.datetime64("2016-01-01")
    price = np.ones((2, 90))
    price[1, 3] = -2.0
    with pytest.raises(ValueError, match="price: must be > 0 and finite, or NaN .* row 1, day 3"):
        BacktestData(np.ones((2, 90), int), price, ["a", "b"], days)
    gap = days.copy()
    gap[40:] += 1
    with pytest.raises(ValueError, match="dates: must be consecutive days; first bad value at index 40"):
        BacktestData(np.ones((2, 90), int), np.ones((2, 90)), ["a", "b"], gap)
    with pytest.raises(ValueError, match="trained_through: expected a date"):
        check_model_cut({}, "2016-01-04", trained_through="last tuesday")
    with pytest.raises(ValueError, match="price: expected shape"):
        BacktestData(np.ones((2, 90)), np.ones((2, 89)), ["a", "b"], np.arange(90) + np.datetime64("2016-01-01"))
    with pytest.raises(ValueError, match="no long frame"):
        skucast.backtest(synthetic(rng), PoissonModel(), weeks=4)


def test_write_is_atomic(rng, tmp_path, monkeypatch):
    res = skucast.backtest(synthetic(rng), targets=[0.8, 0.95], optimise=False, weeks=4)
    files = res.write(tmp_path)
    assert {os.path.basename(f) for f in files} >= {"backtest.json", "curves.csv", "comparisons.csv"}
    assert len(pd.read_csv(tmp_path / "curves.csv")) == 4
    before = (tmp_path / "curves.csv").read_bytes()

    def boom(self):
        raise KeyboardInterrupt

    monkeypatch.setattr(type(res), "comparisons_frame", boom)
    with pytest.raises(KeyboardInterrupt):
        res.write(tmp_path)
    assert (tmp_path / "curves.csv").read_bytes() == before           # old file intact
    assert not [p for p in os.listdir(tmp_path) if ".tmp-" in p]     # no half-written leftovers


def test_cli_backtest_on_the_demo_slice(tmp_path, capsys):
    from skucast.cli import main
    assert main(["backtest", "--demo", "--weeks", "2", "--targets", "0.8,0.95", "--fill-rates", "0.9",
                 "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "demo slice" in out and "seed's claim" in out
    assert (tmp_path / "backtest.json").exists() and (tmp_path / "curves.csv").exists()
    with pytest.raises(SystemExit, match="--targets must be comma-separated numbers"):
        main(["backtest", "--demo", "--targets", "0.8,x", "--out", str(tmp_path)])


def test_cli_refuses_a_model_trained_too_late(tmp_path):
    pytest.importorskip("torch")
    from skucast.cli import main
    with pytest.raises(ValueError, match="model: trained on data through 2016-02-01"):
        main(["backtest", "--demo", "--model", "demo", "--trained-through", "2016-02-01", "--out", str(tmp_path)])


def test_train_in_the_run_records_its_cut(rng):
    pytest.importorskip("torch")
    data = synthetic(rng, n=4, with_frame=True)
    res = skucast.backtest(data, "train", train=dict(epochs=1, batches_per_epoch=2, batch_size=4, hidden=4,
                                                     layers=1, horizon=10, context_length=14),
                           targets=[0.9], fill_rates=[0.9], weeks=2, num_samples=20)
    assert res.config["model_trained_through"] == "2016-01-17"   # the day before the first origin
    assert "DeepAR (trained in this run)" in res.curves
