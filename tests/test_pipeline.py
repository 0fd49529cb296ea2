"""The batch planning pipeline (issue #5): rejects with reasons, chunk invariance, Parquet/CSV,
atomic outputs, the CLI, the parameters-only path and the model path."""
import numpy as np
import pandas as pd
import pytest

import skucast
from skucast import cli, inventory, nbinom
from skucast.pipeline import REJECT_REASONS, Planner, plan

pytest.importorskip("pyarrow")

DAYS = 70


def make_sales(n=40, days=DAYS, seed=0):
    rng = np.random.default_rng(seed)
    ds = pd.date_range("2024-01-01", periods=days)
    lam = rng.gamma(1.0, 2.0, n)
    y = rng.poisson(lam[:, None] * (1 + 0.3 * (np.arange(days) % 7 == 5)), (n, days))
    return pd.DataFrame({"unique_id": np.repeat([f"sku{i:03d}" for i in range(n)], days),
                         "ds": np.tile(ds, n), "y": y.ravel()})


def make_stock(n=40, seed=1):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "unique_id": [f"sku{i:03d}" for i in range(n)],
        "on_hand": rng.integers(0, 20, n), "on_order": rng.integers(0, 5, n),
        "lead_time": rng.integers(1, 6, n), "review_period": 7,
        "moq": rng.integers(0, 3, n) * 6, "case_pack": rng.choice([1, 6], n),
        "max_order": np.where(rng.random(n) < 0.3, np.nan, 60.0),
        "service_level": rng.choice([0.9, 0.95, 0.98], n),
        "unit_cost": 2.5, "holding_cost_rate": 0.25,
    })


@pytest.fixture(autouse=True)
def _one_thread():
    try:
        import torch
        torch.set_num_threads(1)
    except ImportError:
        pass


def test_plan_outputs_every_row_with_consistent_decisions():
    sales, stock = make_sales(), make_stock()
    res = plan(sales, stock, seed=3, levels=[0.5, 0.9])
    o = res.orders
    assert len(o) == len(stock) and len(res.rejects) == 0
    assert list(o["row"]) == list(range(len(stock)))
    assert (o["order"] % stock["case_pack"] == 0).all()
    assert (o["order_up_to"] >= o["demand_q0.5"] - 1e-9).all()
    assert np.allclose(o["safety_stock"], o["order_up_to"] - o["demand_mean"])
    assert set(o["reason"]) <= set(inventory.REASON_NAMES)
    assert np.allclose(o["order_value"], o["order"] * 2.5)
    # S equals the order-up-to level computed directly from the same sample paths
    from skucast.baselines import weekday_profile_nb
    from skucast.models.panel import series_keys
    hist = sales["y"].to_numpy().reshape(len(stock), DAYS)[:, -56:]
    mu, alpha = weekday_profile_nb(hist, horizon=12)
    paths = np.moveaxis(nbinom.sample(mu, alpha[:, None], 200, 3, keys=series_keys(stock["unique_id"])[:, None],
                                      step=np.arange(12)[None, :]), -1, 1)
    i = 5
    r = inventory.order_up_to(samples=paths[i:i + 1], lead_time=int(stock.lead_time[i]), review_period=7,
                              service_level=float(stock.service_level[i]))
    assert o["order_up_to"][i] == r.S[0]


def test_every_reject_reason():
    sales = make_sales(n=12)
    sales = sales[~((sales.unique_id == "sku001") & (sales.ds == "2024-02-01"))]          # gap
    sales = sales[~((sales.unique_id == "sku002") & (sales.ds > "2024-03-05"))]           # ends early
    sales.loc[(sales.unique_id == "sku003") & (sales.ds == "2024-01-10"), "y"] = np.nan    # bad y
    dup = sales[(sales.unique_id == "sku004") & (sales.ds == "2024-01-20")]
    short = make_sales(n=1, days=20).assign(unique_id="sku005")
    short["ds"] = pd.date_range(end=sales.ds.max(), periods=20)
    extra_row = pd.DataFrame({"unique_id": ["sku000", None], "ds": ["not a date", "2024-01-05"], "y": [1, 1]})
    sales = pd.concat([sales[sales.unique_id != "sku005"], dup, short, extra_row.astype({"ds": object})],
                      ignore_index=True).sample(frac=1.0, random_state=0)            # unsorted on purpose
    sales["ds"] = sales["ds"].astype(str)
    stock = make_stock(n=12).astype({"on_hand": object, "lead_time": float})
    stock.loc[6, "on_hand"] = -3                      # negative_stock
    stock.loc[7, "on_hand"] = "lots"                  # not_a_number
    stock.loc[8, "lead_time"] = 2.5                   # not_integer
    stock.loc[9, "case_pack"] = 0                     # invalid_value
    stock.loc[10, "unique_id"] = None                 # missing_unique_id
    stock.loc[11, "unique_id"] = "nosuch"             # unknown_sku
    stock = pd.concat([stock, stock.iloc[[0]]], ignore_index=True)   # duplicate_unique_id (row 12)
    stock["on_hand"] = stock["on_hand"].astype(str)   # as if read from a messy CSV
    res = plan(sales, stock, seed=0)
    rj = res.rejects
    by_row = dict(zip(rj[rj.source == "stock"]["row"], rj[rj.source == "stock"]["reason"]))
    assert by_row == {1: "sales_gap", 2: "history_ends_early", 3: "sales_bad_y", 4: "sales_duplicate_ds",
                      5: "short_history", 6: "negative_stock", 7: "not_a_number", 8: "not_integer",
                      9: "invalid_value", 10: "missing_unique_id", 11: "unknown_sku", 12: "duplicate_unique_id"}
    sales_side = set(rj[rj.source == "sales"]["reason"])
    assert sales_side == {"bad_ds", "missing_unique_id", "not_in_stock"}
    assert set(rj[rj.reason == "not_in_stock"]["unique_id"]) == {"sku010", "sku011"}
    assert set(rj["reason"]) <= set(REJECT_REASONS)
    assert (rj["detail"].str.len() > 0).sum() >= 10
    # every stock row is in the orders or the rejects, exactly once
    assert sorted(list(res.orders["row"]) + list(rj[rj.source == "stock"]["row"])) == list(range(len(stock)))
    assert list(res.orders["row"]) == [0]
    # gaps="zero": the gap and the early end are planned with zero sales on the missing days
    res0 = plan(sales, stock, seed=0, gaps="zero")
    assert {1, 2} <= set(res0.orders["row"])


def test_whole_file_errors():
    sales, stock = make_sales(n=3), make_stock(n=3)
    with pytest.raises(ValueError, match=r"stock: missing column\(s\) \['lead_time'\]"):
        plan(sales, stock.drop(columns="lead_time"))
    with pytest.raises(ValueError, match=r"sales: missing column\(s\) \['y'\]"):
        plan(sales.drop(columns="y"), stock)
    with pytest.raises(TypeError, match="'ds' must hold dates"):
        plan(sales.assign(ds=1), stock)
    with pytest.raises(ValueError, match="mu"):
        plan(None, stock)
    with pytest.raises(ValueError, match="policy"):
        plan(sales, stock, policy="sQ")


def test_results_identical_across_chunk_sizes():
    sales, stock = make_sales(n=50), make_stock(n=50)
    ref = plan(sales, stock, seed=11, chunk_size=1000).orders
    for cs in (1, 7, 33):
        pd.testing.assert_frame_equal(plan(sales, stock, seed=11, chunk_size=cs).orders, ref)
    # a series' result does not depend on which other rows are in the run
    alone = plan(sales, stock.iloc[[17]], seed=11).orders
    pd.testing.assert_frame_equal(alone.drop(columns="row"), ref.iloc[[17]].drop(columns="row").reset_index(drop=True))


def test_parameters_only_path_matches_plan_orders():
    rng = np.random.default_rng(5)
    n = 300
    stock = make_stock(n=n).assign(mu=rng.gamma(1.0, 3.0, n), alpha=rng.uniform(0, 1, n))
    stock.loc[0, "mu"] = 0.0
    a = plan(None, stock, chunk_size=1000).orders
    b = plan(None, stock, chunk_size=17).orders
    pd.testing.assert_frame_equal(a, b)
    assert a["forecaster"].iloc[0] == "nb-params"
    i = 3
    r = inventory.plan_orders(mu=stock.mu[i:i + 1].to_numpy(), alpha=stock.alpha[i:i + 1].to_numpy(),
                              lead_time=stock.lead_time[i:i + 1].to_numpy(), review_period=7,
                              on_hand=stock.on_hand[i:i + 1].to_numpy(), on_order=stock.on_order[i:i + 1].to_numpy(),
                              service_level=float(stock.service_level[i]), moq=int(stock.moq[i]),
                              case_pack=int(stock.case_pack[i]),
                              max_order=int(stock.max_order[i]) if np.isfinite(stock.max_order[i]) else 1 << 60,
                              return_levels=True)
    assert (a["order_up_to"][i], a["order"][i]) == (r.S[0], r.order[0])
    d = stock.lead_time[i] + 7
    assert a["demand_q0.9"][i] == nbinom.ppf(0.9, stock.mu[i] * d, stock.alpha[i] / d)
    assert a["demand_q0.9"][0] == 0 and a["order_up_to"][0] == 0


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_files_parquet_and_csv(tmp_path, fmt):
    sales, stock = make_sales(n=20), make_stock(n=20)
    stock.loc[3, "on_hand"] = -1
    sp, kp, op = tmp_path / f"sales.{fmt}", tmp_path / f"stock.{fmt}", tmp_path / f"orders.{fmt}"
    if fmt == "parquet":
        sales.to_parquet(sp)
        stock.to_parquet(kp)
    else:
        sales.to_csv(sp, index=False)
        stock.to_csv(kp, index=False)
    res = plan(str(sp), str(kp), out=str(op), seed=2, chunk_size=6)
    assert res.orders is None and res.orders_path == str(op)
    read = pd.read_parquet if fmt == "parquet" else pd.read_csv
    got = read(op)
    mem = plan(sales, stock, seed=2)
    assert list(got["row"]) == list(mem.orders["row"])
    assert (got["order"].to_numpy() == mem.orders["order"].to_numpy()).all()
    assert np.allclose(got["safety_stock"], mem.orders["safety_stock"])
    rj = read(tmp_path / f"orders.rejects.{fmt}")
    assert list(rj["reason"]) == ["negative_stock"]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [f"sales.{fmt}", f"stock.{fmt}", f"orders.{fmt}", f"orders.rejects.{fmt}"])


def test_interrupted_run_leaves_no_partial_output(tmp_path, monkeypatch):
    sales, stock = make_sales(n=30), make_stock(n=30)
    out = tmp_path / "orders.parquet"
    out.write_bytes(b"previous run")
    calls = {"n": 0}
    real = Planner.plan_chunk

    def failing(self, chunk, row0, dup):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt("injected")
        return real(self, chunk, row0, dup)

    monkeypatch.setattr(Planner, "plan_chunk", failing)
    with pytest.raises(KeyboardInterrupt):
        plan(sales, stock, out=str(out), chunk_size=5)
    assert out.read_bytes() == b"previous run"            # untouched
    assert sorted(p.name for p in tmp_path.iterdir()) == ["orders.parquet"]   # no temp files, no rejects


def test_cli_round_trip(tmp_path, capsys):
    sales, stock = make_sales(n=15), make_stock(n=15)
    sales.to_parquet(tmp_path / "sales.parquet")
    stock.to_csv(tmp_path / "stock.csv", index=False)
    out = tmp_path / "orders.parquet"
    assert cli.main(["plan", "--sales", str(tmp_path / "sales.parquet"), "--stock", str(tmp_path / "stock.csv"),
                     "--out", str(out), "--levels", "0.5,0.8", "--seed", "4", "--no-progress"]) == 0
    text = capsys.readouterr().out
    assert "planned 15 of 15 stock rows with nb-baseline" in text
    got = pd.read_parquet(out)
    ref = plan(sales, stock, seed=4, levels=[0.5, 0.8]).orders
    pd.testing.assert_frame_equal(got, ref, check_dtype=False)
    assert "demand_q0.8" in got.columns


def test_progress_line_without_tqdm(capsys, monkeypatch):
    import builtins
    real_import = builtins.__import__

    def no_tqdm(name, *a, **k):
        if name == "tqdm":
            raise ImportError("no tqdm")
        return real_import(name, *a, **k)

    monkeypatch.setattr(builtins, "__import__", no_tqdm)
    plan(make_sales(n=5), make_stock(n=5), progress=True)
    assert "skucast plan: 5/5 rows" in capsys.readouterr().err


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    pytest.importorskip("torch")
    import torch
    torch.set_num_threads(1)
    sales = make_sales(n=30, days=120)
    path = tmp_path_factory.mktemp("model") / "deepar.pt"
    skucast.train(sales, str(path), model="deepar", horizon=14, context_length=14, epochs=1,
                  batches_per_epoch=2, batch_size=8, hidden=8, layers=1, lags=[1, 7])
    return str(path), sales


def test_model_path_chunk_invariant_and_horizon_rejects(tiny_model):
    path, sales = tiny_model
    stock = make_stock(n=30)
    stock.loc[4, "review_period"] = 20          # 20 + lead time > the model's 14 days
    a = plan(sales, stock, model=path, num_samples=50, seed=1, chunk_size=100)
    b = plan(sales, stock, model=path, num_samples=50, seed=1, chunk_size=7)
    pd.testing.assert_frame_equal(a.orders, b.orders)
    assert a.orders["forecaster"].iloc[0] == "deepar:deepar.pt"
    assert list(a.rejects["reason"]) == ["horizon_exceeds_model"] and list(a.rejects["row"]) == [4]


def test_model_for_another_covariate_set(tiny_model):
    path, sales = tiny_model
    sales2 = sales.assign(price_change=0.0, snap=0)
    model2 = path.replace("deepar.pt", "deepar_cov.pt")
    skucast.train(sales2, model2, model="deepar", horizon=14, context_length=14, epochs=1,
                  batches_per_epoch=1, batch_size=4, hidden=4, layers=1, lags=[1])
    with pytest.raises(ValueError, match=r"trained with covariates \['price_change', 'snap'\]; sales lacks"):
        plan(sales, make_stock(n=30), model=model2)
    with pytest.raises(ValueError, match="futr"):
        plan(sales2, make_stock(n=30), model=model2)


@pytest.mark.parametrize("batch_size", [1, 3, 100])
def test_duplicate_check_tells_hash_collisions_apart(monkeypatch, tmp_path, batch_size):
    # every id hashes alike: only the exact second pass may decide what repeats
    from skucast.pipeline import io
    from skucast.pipeline.validate import duplicate_first_rows
    ids = ["a", "b", None, "a", "c", None, "b", "b", "d"]
    want = {"a": 0, "b": 1}
    assert duplicate_first_rows(np.array(ids, object)) == want
    monkeypatch.setattr(pd.util, "hash_array", lambda v, categorize=True: np.zeros(len(v), np.uint64))
    assert duplicate_first_rows(np.array(ids, object)) == want
    path = tmp_path / "stock.parquet"
    pd.DataFrame({"unique_id": ids}).to_parquet(path)
    for src in (pd.DataFrame({"unique_id": ids}), str(path)):
        assert duplicate_first_rows(io.column_batches(src, "unique_id", batch_size)) == want
    assert duplicate_first_rows(np.array(["x", "y"], object)) == {}


def test_integer_ids_with_nulls_read_alike_in_every_batch(tmp_path):
    # an int64 id column whose batches differ in having a null must give "1", never "1.0"
    import pyarrow as pa
    import pyarrow.parquet as pq
    from skucast.pipeline import io
    from skucast.pipeline.validate import duplicate_first_rows
    path = tmp_path / "stock.parquet"
    pq.write_table(pa.table({"unique_id": pa.array([1, 2, None, 1], pa.int64()), "on_hand": [1.0] * 4}), path)
    for batch_size in (1, 2, 3, 4):
        assert duplicate_first_rows(io.column_batches(str(path), "unique_id", batch_size)) == {"1": 0}
        ids = [u for c in io.iter_frame(str(path), batch_size) for u in io.as_text_ids(c["unique_id"].to_numpy())]
        assert ids == ["1", "2", None, "1"]
    assert list(io.as_text_ids(io.read_frame(str(path), "stock")["unique_id"].to_numpy())) == ["1", "2", None, "1"]
