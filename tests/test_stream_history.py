"""Sales files are validated in batches (pipeline.stream_history) with the same result as the
whole frame in memory (validate.prepare_history): reasons and details of every series, row
rejects, the NB baseline's dense window and the model's trimmed frame, for any batch size."""
import numpy as np
import pandas as pd
import pytest

from skucast.pipeline import io, plan
from skucast.pipeline.stream_history import prepare_history_streamed
from skucast.pipeline.validate import prepare_history

pytest.importorskip("pyarrow")


def messy_sales(seed=0):
    """Every fault the validation knows, spread so that batches of a few rows split them."""
    rng = np.random.default_rng(seed)
    days = pd.date_range("2024-01-01", periods=40)
    parts = []
    for i in range(14):
        y = rng.poisson(2.0, len(days)).astype(float)
        parts.append(pd.DataFrame({"unique_id": f"s{i:02d}", "ds": days, "y": y,
                                   "price": rng.uniform(1, 3, len(days))}))
    s = pd.concat(parts, ignore_index=True)
    s = s[~((s.unique_id == "s01") & (s.ds == "2024-01-15"))]                  # gap
    s = s[~((s.unique_id == "s02") & (s.ds > "2024-02-01"))]                   # ends early
    s.loc[(s.unique_id == "s03") & (s.ds == "2024-01-10"), "y"] = np.nan       # bad y (first by day)
    s.loc[(s.unique_id == "s03") & (s.ds == "2024-01-20"), "y"] = -1.0
    s.loc[(s.unique_id == "s04") & (s.ds == "2024-02-05"), "y"] = 1.5          # fractional, in the window
    dups = pd.concat([s[(s.unique_id == "s05") & (s.ds == "2024-01-12")].assign(y=9.0),   # early day
                      s[(s.unique_id == "s06") & (s.ds == "2024-02-08")],                 # in the window
                      s[(s.unique_id == "s06") & (s.ds == "2024-02-08")].assign(y=7.0)])
    s = s[~((s.unique_id == "s07") & (s.ds < "2024-02-01"))]                   # short history
    s.loc[(s.unique_id == "s08") & (s.ds == "2024-01-03"), "y"] = -2.0         # bad y and a gap
    s = s[~((s.unique_id == "s08") & (s.ds == "2024-01-30"))]
    odd = pd.DataFrame({"unique_id": ["s09", None, "", "s10"], "ds": ["not a date", "2024-01-05", "2024-01-06",
                                                                      "2024-13-01"],
                        "y": [1.0, 1.0, 2.0, 3.0], "price": 1.0})
    s = pd.concat([s.astype({"ds": str}), dups.astype({"ds": str}), odd], ignore_index=True)
    return s.sample(frac=1.0, random_state=seed).reset_index(drop=True)   # unsorted on purpose


def assert_same_history(a, b):
    np.testing.assert_array_equal(a.uids, b.uids)
    assert list(a.reason) == list(b.reason)
    assert list(a.detail) == list(b.detail)
    np.testing.assert_array_equal(a.first_row, b.first_row)
    np.testing.assert_array_equal(a.n_rows, b.n_rows)
    assert a.last_ds == b.last_ds
    pd.testing.assert_frame_equal(a.row_rejects.reset_index(drop=True), b.row_rejects.reset_index(drop=True))
    if a.dense is not None or b.dense is not None:
        np.testing.assert_array_equal(a.dense, b.dense)
    if a.frame is not None or b.frame is not None:
        pd.testing.assert_frame_equal(a.frame, b.frame, check_dtype=False)
        np.testing.assert_array_equal(a.starts, b.starts)
        np.testing.assert_array_equal(a.ends, b.ends)


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
@pytest.mark.parametrize("batch", [3, 17, 10_000])
def test_batches_give_the_in_memory_history(tmp_path, fmt, batch):
    sales = messy_sales()
    path = tmp_path / f"sales.{fmt}"
    sales.to_parquet(path) if fmt == "parquet" else sales.to_csv(path, index=False)
    whole = io.read_frame(str(path), "sales")
    reasons = set()
    for keep_frame, days, gaps, min_days in [(False, 21, "reject", 21), (False, 28, "zero", 28),
                                             (True, 10, "reject", 1)]:
        ref = prepare_history(whole, days, keep_frame=keep_frame, gaps=gaps, min_days=min_days)
        got = prepare_history_streamed(str(path), days, keep_frame=keep_frame, gaps=gaps, min_days=min_days,
                                       batch_size=batch)
        assert_same_history(ref, got)
        reasons |= set(ref.reason) - {None}
    assert reasons == {"sales_gap", "history_ends_early", "sales_bad_y", "sales_duplicate_ds", "short_history"}
    assert set(ref.row_rejects["reason"]) == {"missing_unique_id", "bad_ds"}


def test_files_without_valid_rows_and_integer_ids(tmp_path):
    empty = pd.DataFrame({"unique_id": ["a", None], "ds": ["x", "2024-01-01"], "y": [1.0, 2.0]})
    empty.to_csv(tmp_path / "e.csv", index=False)
    ref = prepare_history(io.read_frame(str(tmp_path / "e.csv")), 7, keep_frame=False)
    assert_same_history(ref, prepare_history_streamed(str(tmp_path / "e.csv"), 7, keep_frame=False, batch_size=1))
    ints = pd.DataFrame({"unique_id": np.repeat([7, 11, 300], 10), "ds": np.tile(pd.date_range("2024-01-01",
                                                                                            periods=10), 3),
                         "y": 1.0})
    ints.to_parquet(tmp_path / "i.parquet")
    ref = prepare_history(io.read_frame(str(tmp_path / "i.parquet")), 7, keep_frame=False)
    got = prepare_history_streamed(str(tmp_path / "i.parquet"), 7, keep_frame=False, batch_size=4)
    assert_same_history(ref, got)
    assert list(got.uids) == ["11", "300", "7"]


def test_plan_from_a_file_equals_plan_from_the_frame(tmp_path):
    from test_pipeline import make_stock
    sales = messy_sales(seed=3)
    sales.to_parquet(tmp_path / "sales.parquet")
    stock = make_stock(n=16).assign(unique_id=[f"s{i:02d}" for i in range(16)])
    a = plan(io.read_frame(str(tmp_path / "sales.parquet")), stock, seed=0, weeks=3)
    b = plan(str(tmp_path / "sales.parquet"), stock, seed=0, weeks=3)
    pd.testing.assert_frame_equal(a.orders, b.orders)
    pd.testing.assert_frame_equal(a.rejects, b.rejects)
    with pytest.raises(FileNotFoundError, match="sales: no such file"):
        plan(str(tmp_path / "nope.parquet"), stock)


def test_every_batch_parses_dates_with_the_files_first_format(tmp_path):
    # the whole-frame check takes the format of the first date for the column; a batch that
    # starts with another format must not switch to it
    days = pd.date_range("2024-01-01", periods=12)
    sales = pd.DataFrame({"unique_id": "a", "ds": days.strftime("%Y-%m-%d"), "y": 1.0})
    sales.loc[6, "ds"] = "01/07/2024"
    sales.to_csv(tmp_path / "s.csv", index=False)
    ref = prepare_history(io.read_frame(str(tmp_path / "s.csv")), 5, keep_frame=False)
    got = prepare_history_streamed(str(tmp_path / "s.csv"), 5, keep_frame=False, batch_size=6)
    assert_same_history(ref, got)
    assert list(got.row_rejects["reason"]) == ["bad_ds"] and list(got.row_rejects["row"]) == [6]


def _compare_file(path, batches=(1, 2, 3, 7), configs=((False, 5, "reject", 1), (True, 4, "zero", 1))):
    """Both checks under each config and batch size; returns the first config's history."""
    refs = []
    for keep_frame, days, gaps, min_days in configs:
        refs.append(prepare_history(io.read_frame(str(path), "sales"), days, keep_frame=keep_frame, gaps=gaps,
                                    min_days=min_days))
        for batch in batches:
            assert_same_history(refs[-1], prepare_history_streamed(str(path), days, keep_frame=keep_frame,
                                                                   gaps=gaps, min_days=min_days, batch_size=batch))
    return refs[0]


def test_awkward_files_read_alike(tmp_path):
    days = pd.date_range("2024-01-01", periods=8)
    base = pd.DataFrame({"unique_id": np.repeat(["a", "b", "c"], 8), "ds": np.tile(days, 3), "y": 1.0})
    # blank rows at the end of a CSV: a batch of them reads as float columns
    base.to_csv(tmp_path / "trail.csv", index=False)
    with open(tmp_path / "trail.csv", "a") as f:
        f.write(",,\n,,\n")
    assert set(_compare_file(tmp_path / "trail.csv").row_rejects["reason"]) == {"missing_unique_id"}
    # a batch of True/False in y, a batch of bare numbers in ds: the whole file's reading decides
    odd = base.astype({"y": object, "ds": str})
    odd.loc[[3, 4, 5], "y"] = True
    odd.loc[[12, 13, 14], "ds"] = "20240102"
    odd.to_csv(tmp_path / "odd.csv", index=False)
    _compare_file(tmp_path / "odd.csv")
    # the first date fits no format: every batch parses value by value, as the whole column does
    mixed = base.astype({"ds": str})
    mixed.loc[0, "ds"] = "not a date"
    mixed.loc[6, "ds"] = "01/07/2024"
    mixed.to_csv(tmp_path / "mixed.csv", index=False)
    _compare_file(tmp_path / "mixed.csv")
    # nullable integer ids written by pandas (Int64), one far-off date
    ints = base.assign(unique_id=pd.array(np.repeat([7, None, 11], 8), dtype="Int64"))
    ints.loc[0, "ds"] = pd.Timestamp("1700-01-01")
    ints.to_parquet(tmp_path / "ints.parquet")
    ref = _compare_file(tmp_path / "ints.parquet")
    assert list(ref.uids) == ["11", "7"] and list(ref.reason) == [None, "sales_gap"]
