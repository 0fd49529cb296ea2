"""The command line's own behaviour: version, one-line errors for bad paths and options,
defaults in --help, readable reject details."""
import numpy as np
import pandas as pd
import pytest

import skucast
from skucast.cli import main


def test_version(capsys):
    with pytest.raises(SystemExit) as e:
        main(["--version"])
    assert e.value.code == 0
    assert capsys.readouterr().out.strip() == f"skucast {skucast.__version__}"


def test_missing_file_and_bad_levels_are_one_line(tmp_path):
    with pytest.raises(SystemExit, match=r"^skucast plan: error: .*no such file") as e:
        main(["plan", "--stock", str(tmp_path / "none.csv"), "--sales", str(tmp_path / "none.csv"),
              "--out", str(tmp_path / "o.csv")])
    assert "\n" not in str(e.value)
    with pytest.raises(SystemExit, match=r"skucast plan: --levels must be comma-separated numbers, got '0.5 0.99'"):
        main(["plan", "--stock", "x", "--out", "y", "--levels", "0.5 0.99"])


def test_help_shows_defaults(capsys):
    with pytest.raises(SystemExit):
        main(["plan", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "(default: 0.95)" in out and "(default: 0.5,0.9)" in out


def test_reject_details_show_plain_values(tmp_path):
    days = list(pd.date_range("2024-01-01", periods=60))
    sales = pd.DataFrame({"unique_id": ["a"] * 60 + ["b"] * 60, "ds": days * 2,
                          "y": [1.0] * 90 + [-1.0] + [1.0] * 29})
    stock = pd.DataFrame({"unique_id": ["a", "b", "c"], "on_hand": [np.nan, 3, 2.5], "lead_time": [2, 2, 2]})
    res = skucast.plan(sales, stock, out=str(tmp_path / "o.csv"))
    details = " ".join(pd.read_csv(res.rejects_path)["detail"].astype(str))
    assert "on_hand=nan" in details and "on_hand=2.5" in details and "y=-1.0" in details
    assert "np." not in details
