"""N-BEATS (Oreshkin et al. 2020) with a negative-binomial head.

Generic stacks (learned linear bases) or interpretable ones (polynomial trend, Fourier
seasonality). The summed forecast is the pre-activation of mu; alpha comes from a linear
head on the final backcast residual and the forecast, so the output is NB(mu, alpha) per
day, sampled by the same skucast path as DeepAR.
"""
from __future__ import annotations

import math
from typing import List, Tuple

import torch
from torch import nn

from .nb_head import ALPHA_FLOOR, MU_FLOOR, positive

__all__ = ["NBeatsNet"]


def _trend_basis(degree: int, n: int, offset: int, total: int) -> torch.Tensor:
    t = (torch.arange(n, dtype=torch.float32) + offset) / total
    return torch.stack([t ** p for p in range(degree + 1)])               # (p+1, n)


def _season_basis(harmonics: int, n: int, offset: int, period: float) -> torch.Tensor:
    t = (torch.arange(n, dtype=torch.float32) + offset) * (2 * math.pi / period)
    rows = [torch.ones(n)]
    for k in range(1, harmonics + 1):
        rows += [torch.cos(k * t), torch.sin(k * t)]
    return torch.stack(rows)


class _Block(nn.Module):
    def __init__(self, context: int, horizon: int, width: int, depth: int, kind: str,
                 degree: int = 2, harmonics: int = 4, period: float = 7.0):
        super().__init__()
        layers: List[nn.Module] = []
        d = context
        for _ in range(depth):
            layers += [nn.Linear(d, width), nn.ReLU()]
            d = width
        self.fc = nn.Sequential(*layers)
        if kind == "generic":
            basis_b = torch.eye(context)
            basis_f = torch.eye(horizon)
            self.theta_b = nn.Linear(width, context, bias=False)
            self.theta_f = nn.Linear(width, horizon, bias=False)
        else:
            if kind == "trend":
                basis_b = _trend_basis(degree, context, -context, context + horizon)
                basis_f = _trend_basis(degree, horizon, 0, context + horizon)
            else:  # seasonality: a weekly Fourier basis continued across the origin
                basis_b = _season_basis(harmonics, context, -context, period)
                basis_f = _season_basis(harmonics, horizon, 0, period)
            self.theta_b = nn.Linear(width, basis_b.shape[0], bias=False)
            self.theta_f = nn.Linear(width, basis_f.shape[0], bias=False)
        self.register_buffer("basis_b", basis_b)
        self.register_buffer("basis_f", basis_f)

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        z = self.fc(x)
        return self.theta_b(z) @ self.basis_b, self.theta_f(z) @ self.basis_f


class NBeatsNet(nn.Module):
    """x (Bs, C): context y / scale; scale (Bs,) > 0 -> mu, alpha (Bs, H) in data units.

    stacks: "generic" (``blocks`` generic blocks) or "interpretable" (trend then seasonality).
    """

    def __init__(self, context: int, horizon: int, stacks: str = "generic", blocks: int = 3,
                 width: int = 128, depth: int = 3):
        super().__init__()
        kinds = ["generic"] * blocks if stacks == "generic" else ["trend"] * blocks + ["seasonality"] * blocks
        self.blocks = nn.ModuleList([_Block(context, horizon, width, depth, k) for k in kinds])
        self.alpha_head = nn.Linear(context + horizon, horizon)
        self.mu_floor = MU_FLOOR
        self.alpha_floor = ALPHA_FLOOR

    def forward(self, x: torch.Tensor, scale: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        residual = x
        forecast = x.new_zeros(x.shape[0], self.alpha_head.out_features)  # no device burnt into an export
        for block in self.blocks:
            b, f = block(residual)
            residual = residual - b
            forecast = forecast + f
        sc = scale.unsqueeze(1)
        mu = sc * positive(forecast, self.mu_floor)
        alpha = positive(self.alpha_head(torch.cat([residual, forecast], 1)), self.alpha_floor) / torch.sqrt(sc)
        return mu, alpha
