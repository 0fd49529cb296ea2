"""Inventory decisions from demand distributions: allocation and policy simulation.

(Order-up-to levels and replenishment live beside these, in ``_policy``/``_replenish``.)
"""
from __future__ import annotations

from ._allocate import allocate
from ._simulate import SimulationResult, simulate

__all__ = ["allocate", "simulate", "SimulationResult"]
