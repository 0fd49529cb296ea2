"""Batch planning pipeline (issue #5): ``skucast.plan`` and ``skucast plan`` — sales history or NB
parameters + a stock snapshot -> forecasts -> safety stock -> order quantities, streamed in
chunks, with every unusable input row written to a rejects file with its reason."""
from .plan import BASELINE, PlanResult, Planner, plan
from .validate import REJECT_REASONS, STOCK_COLUMNS

__all__ = ["plan", "Planner", "PlanResult", "REJECT_REASONS", "STOCK_COLUMNS", "BASELINE"]
