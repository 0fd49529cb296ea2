"""Negative-binomial output layer and loss in torch, NB(mu, alpha), variance mu + alpha mu^2.

The loss is written so no term blows up at the edges that produced NaN losses elsewhere
(GluonTS #833/#1796: lgamma(1/alpha) cancellation, log(0)): it never forms log(alpha) or
lgamma(1/alpha) for small alpha. Positive parameters are softplus plus a floor, so a very
negative pre-activation cannot give mu == 0 (GluonTS #287).
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

__all__ = ["nb_logpmf", "nb_nll", "positive", "MU_FLOOR", "ALPHA_FLOOR"]

MU_FLOOR = 1e-5      # in scaled units; keeps mu > 0 when softplus underflows
ALPHA_FLOOR = 1e-5
_STIRLING_R = 1e3    # r = 1/alpha above this: lgamma difference from the Stirling series


def positive(x: torch.Tensor, floor: float) -> torch.Tensor:
    """softplus(x) + floor: > 0 and finite for every finite x, gradient sigmoid(x)."""
    return F.softplus(x) + floor


def _lgamma_ratio(y: torch.Tensor, r: torch.Tensor) -> torch.Tensor:
    """D = lgamma(y + r) - lgamma(r) - y log r, accurate for all r > 0.

    Small r: direct lgamma. Large r (alpha -> 0) the direct form cancels catastrophically
    (both lgammas ~ r log r); there D = (r + y - 1/2) log1p(y/r) - y + c(r + y) - c(r) with
    Stirling's correction c(x) = 1/(12x) - 1/(360x^3) + 1/(1260 x^5). Each branch sees
    inputs clamped to its own domain so the unused branch cannot poison gradients with NaN.
    """
    r_small = torch.clamp(r, max=_STIRLING_R)
    direct = torch.lgamma(y + r_small) - torch.lgamma(r_small) - y * torch.log(r_small)
    r_big = torch.clamp(r, min=_STIRLING_R)

    def corr(x):
        inv = 1.0 / x
        inv2 = inv * inv
        return inv * (1.0 / 12.0 - inv2 * (1.0 / 360.0 - inv2 / 1260.0))

    stirling = (r_big + y - 0.5) * torch.log1p(y / r_big) - y + (corr(r_big + y) - corr(r_big))
    return torch.where(r > _STIRLING_R, stirling, direct)


def nb_logpmf(y: torch.Tensor, mu: torch.Tensor, alpha: torch.Tensor) -> torch.Tensor:
    """log P(Y = y), Y ~ NB(mu, alpha), elementwise (broadcasting); mu > 0, alpha > 0.

    log p = D(y, r) + y log mu - (y + r) log1p(alpha mu) - lgamma(y + 1), r = 1/alpha:
    the y log(alpha) pieces cancel analytically, so alpha -> 0 tends to Poisson smoothly.
    Equal to skucast.nbinom.logpmf (tested in float64).
    """
    tiny = math.sqrt(torch.finfo(alpha.dtype).tiny)  # alpha == 0 reads as r = 1/tiny: Poisson
    a = torch.clamp(alpha, min=tiny)
    r = 1.0 / a
    am = a * mu
    return (_lgamma_ratio(y, r) + y * torch.log(mu) - (y + r) * torch.log1p(am)
            - torch.lgamma(y + 1.0))


def nb_nll(y, mu, alpha, mask=None) -> torch.Tensor:
    """Summed negative log-likelihood (mask: 1 where the term counts)."""
    lp = nb_logpmf(y, mu, alpha)
    if mask is not None:
        lp = lp * mask
    return -lp.sum()
