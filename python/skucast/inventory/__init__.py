"""skucast.inventory: demand distributions -> inventory decisions for millions of rows per call.

Order-up-to levels and safety stock from NB parameters or sample paths (:func:`order_up_to`,
:func:`safety_stock`); today's order quantities under (R, S), base-stock, (s, S) and (s, Q)
policies with MOQ / case pack / max order / shelf capacity rules (:func:`replenish`), and the
fused NB-parameters -> orders pass (:func:`plan_orders`); splitting warehouse supply over
locations (:func:`allocate`, greedy on marginal sell-through, optimal); and the day-by-day
policy backtest with service, cost and bullwhip metrics (:func:`simulate`); per-SKU targets
that spend an inventory budget where it fills most (:func:`optimize_targets`,
:func:`efficient_frontier`).
"""
from __future__ import annotations

from ._allocate import allocate
from ._policy import (REASON_NAMES, OrderUpToResult, ReplenishResult, order_up_to, plan_orders, replenish,
                      safety_stock)
from ._simulate import SimulationResult, simulate
from ._targets import FrontierResult, TargetsResult, efficient_frontier, optimize_targets

__all__ = ["order_up_to", "safety_stock", "replenish", "plan_orders", "allocate", "simulate", "OrderUpToResult",
           "ReplenishResult", "SimulationResult", "REASON_NAMES", "optimize_targets", "efficient_frontier",
           "TargetsResult", "FrontierResult"]
