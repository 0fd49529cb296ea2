"""The built-in demo runs end to end on the shipped slice and writes complete outputs."""
import csv

import numpy as np
import pytest

from skucast import cli, demo


def test_demo_slice_ships_with_provenance():
    data = demo.load_slice()
    assert data.sales.shape == (300, 913)
    assert data.price.shape == data.sales.shape
    assert (data.sales >= 0).all()


def test_demo_run_writes_orders_for_every_item(tmp_path):
    summary = demo.run(out_dir=str(tmp_path), plots=False, forecaster="nb")
    assert summary["forecaster"].startswith("day-of-week NB baseline")
    with open(tmp_path / "orders.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == summary["items"] == 300
    assert all(int(r["order"]) >= 0 and r["reason"] for r in rows)
    policies = {r["policy"] for r in summary["rows"]}
    assert policies == {"skucast NB", "retail default"}
    for r in summary["rows"]:
        assert 0.5 < r["fill_rate"] <= 1.0
        assert r["avg_inventory_value"] > 0
    # a higher target never lowers the NB policy's inventory
    values = [r["avg_inventory_value"] for r in summary["rows"] if r["policy"] == "skucast NB"]
    assert np.all(np.diff(values) >= 0)


def test_demo_cli_and_plots(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    try:
        import torch
        torch.set_num_threads(1)
    except ImportError:
        pass
    assert cli.main(["demo", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "at equal average inventory value" in out
    try:
        import torch  # noqa: F401
        assert "forecaster for today's orders: DeepAR" in out and "skucast DeepAR" in out
    except ImportError:
        assert "torch is not installed" in out
    for name in ("orders.csv", "forecast_fan.png", "inventory_trace.png"):
        assert (tmp_path / name).stat().st_size > 0
    assert not list(tmp_path.glob(".*tmp*"))  # no half-written files left behind
