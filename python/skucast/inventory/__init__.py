"""Inventory decisions from demand distributions: allocation and policy simulation.

allocate: split warehouse supply over locations (greedy on marginal sell-through, optimal).
simulate: day-by-day backtest of (R, S) / (s, S) policies with service, cost and bullwhip metrics.
"""
from __future__ import annotations

from ._allocate import allocate
from ._simulate import SimulationResult, simulate

__all__ = ["allocate", "simulate", "SimulationResult"]
