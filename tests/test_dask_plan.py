"""skucast.dask.plan on a LocalCluster equals the single-process skucast.plan row for row."""
import numpy as np
import pandas as pd
import pytest

pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")

from skucast import cli  # noqa: E402
from skucast import dask as skd  # noqa: E402
from skucast.pipeline import plan  # noqa: E402

from test_pipeline import make_sales, make_stock  # noqa: E402


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(n_workers=3, threads_per_worker=1, processes=False, dashboard_address=":0")
    c = distributed.Client(cluster)
    yield c
    c.close()
    cluster.close()


def _data():
    sales, stock = make_sales(n=60), make_stock(n=60)
    stock.loc[5, "on_hand"] = -2
    stock = pd.concat([stock, stock.iloc[[9]]], ignore_index=True)   # a duplicate across partitions
    return sales[sales.unique_id != "sku059"], stock


def test_dask_plan_equals_single_process(client):
    import dask.dataframe as dd
    sales, stock = _data()
    ref = plan(sales, stock, seed=7)
    ddf = dd.from_pandas(stock, npartitions=4, sort=False)
    got = skd.plan(ddf, sales=sales, client=client, seed=7)
    assert got.stats["partitions"] == 4
    pd.testing.assert_frame_equal(got.orders, ref.orders)
    pd.testing.assert_frame_equal(got.rejects.sort_values(["source", "row"]).reset_index(drop=True),
                                  ref.rejects.sort_values(["source", "row"]).reset_index(drop=True))
    assert set(got.rejects["reason"]) == {"negative_stock", "duplicate_unique_id", "unknown_sku"}


def test_dask_parameters_only_and_files(client, tmp_path):
    rng = np.random.default_rng(2)
    stock = make_stock(n=500).assign(mu=rng.gamma(1.0, 3.0, 500), alpha=rng.uniform(0, 1, 500))
    stock.to_parquet(tmp_path / "stock.parquet", row_group_size=100)
    ref = plan(None, stock)
    got = skd.plan(str(tmp_path / "stock.parquet"), client=client, out=str(tmp_path / "orders.parquet"))
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "orders.parquet"), ref.orders, check_dtype=False)
    assert got.stats["partitions"] == 5


def test_cli_dask_local(tmp_path, capsys):
    sales, stock = _data()
    sales.to_parquet(tmp_path / "sales.parquet")
    stock.to_parquet(tmp_path / "stock.parquet")
    out = tmp_path / "orders.csv"
    assert cli.main(["plan", "--sales", str(tmp_path / "sales.parquet"), "--stock", str(tmp_path / "stock.parquet"),
                     "--out", str(out), "--dask", "local:2", "--seed", "7", "--no-progress"]) == 0
    got = pd.read_csv(out)
    ref = plan(sales, stock, seed=7).orders
    assert (got["order"].to_numpy() == ref["order"].to_numpy()).all()
    assert list(pd.read_csv(tmp_path / "orders.rejects.csv")["reason"]) == ["negative_stock", "unknown_sku",
                                                                           "duplicate_unique_id"]
