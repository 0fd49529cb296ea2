"""M5 loader: wide -> long, calendar and price joins, leading zeros marked not listed."""
import os

import numpy as np
import pytest

pd = pytest.importorskip("pandas")
pytest.importorskip("pyarrow")
from skucast.data import load_m5, split_future  # noqa: E402

M5 = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data", "m5-ca1"))
pytestmark = pytest.mark.skipif(not os.path.isdir(M5), reason=f"M5 data not found at {M5}")


@pytest.fixture(scope="module")
def m5():
    return load_m5(M5, n_series=30, first_day=1, last_day=1913)


def test_long_frame_shape_and_columns(m5):
    assert len(m5) == 30 * 1913
    assert list(m5.columns[:3]) == ["unique_id", "ds", "y"]
    for c in ("item_id", "dept_id", "cat_id", "store_id", "price", "price_change", "snap",
              "event_type", "dow", "month", "listed"):
        assert c in m5.columns
    assert m5["ds"].min() == pd.Timestamp("2011-01-29") and m5["ds"].max() == pd.Timestamp("2016-04-24")
    assert not m5.duplicated(["unique_id", "ds"]).any()
    assert m5["unique_id"].iloc[0] == "HOBBIES_1_001_CA_1"
    raw = pd.read_parquet(os.path.join(M5, "sales.parquet")).iloc[:30]
    wide = m5.pivot(index="unique_id", columns="ds", values="y").loc[raw["id"].str.replace("_validation", "")]
    np.testing.assert_array_equal(wide.to_numpy(), raw[[f"d_{k}" for k in range(1, 1914)]].to_numpy())


def test_leading_zeros_not_listed(m5):
    for _, g in m5.groupby("unique_id"):
        y, listed = g["y"].to_numpy(), g["listed"].to_numpy()
        first = int(np.argmax(y > 0))
        assert (listed[:first] == 0).all() and (listed[first:] == 1).all()
    assert (m5["listed"] == 0).mean() > 0.05          # many CA_1 items start late


def test_calendar_and_price_joins(m5):
    cal = pd.read_parquet(os.path.join(M5, "calendar.parquet"))
    prices = pd.read_parquet(os.path.join(M5, "sell_prices.parquet"))
    g = m5[m5.unique_id == "HOBBIES_1_001_CA_1"].reset_index(drop=True)
    assert (g["snap"].to_numpy() == cal["snap_CA"].to_numpy()[:1913]).all()
    assert (g["dow"].to_numpy() == pd.to_datetime(cal["date"]).dt.day_of_week.to_numpy()[:1913]).all()
    ev = cal["event_type_1"].iloc[:1913].notna().to_numpy()
    assert ((g["event_type"].to_numpy() > 0) == ev).all()
    p = prices[(prices.store_id == "CA_1") & (prices.item_id == "HOBBIES_1_001")].set_index("wm_yr_wk")["sell_price"]
    wk = cal["wm_yr_wk"].to_numpy()[:1913]
    on_sale = np.isin(wk, p.index)
    np.testing.assert_allclose(g["price"].to_numpy()[on_sale], p.loc[wk[on_sale]].to_numpy(), rtol=1e-6)
    assert np.isfinite(g["price"]).all() and np.isfinite(g["price_change"]).all()


def test_split(m5):
    train, futr, test = split_future(m5, "2016-03-27", 28)   # d_1885 / d_1886..d_1913
    assert train["ds"].max() == pd.Timestamp("2016-03-27") and len(test) == 30 * 28
    assert "y" not in futr.columns and len(futr) == 30 * 28
