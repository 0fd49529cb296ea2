"""Batch planning pipeline (issue #5): ``skucast.plan`` and ``skucast plan`` — sales history or NB
parameters + a stock snapshot -> forecasts -> safety stock -> order quantities, streamed in
chunks, with every unusable input row written to a rejects file with its reason; and
``skucast.backtest`` / ``skucast backtest``, the weekly-review inventory backtest on M5."""
from .backtest import BacktestResult, backtest
from .backtest_data import BacktestData, load_demo, load_m5_store
from .plan import BASELINE, PlanResult, Planner, plan
from .validate import REJECT_REASONS, STOCK_COLUMNS

__all__ = ["plan", "Planner", "PlanResult", "REJECT_REASONS", "STOCK_COLUMNS", "BASELINE", "backtest", "BacktestResult", "BacktestData",
           "load_demo", "load_m5_store"]
