"""DeepAR (Salinas et al. 2020): an LSTM over lagged scaled targets, covariates and static
embeddings, emitting NB(mu, alpha) one day at a time.

The exported unit is one time step, ``forward(lags, cov_num, cov_cat, static, scale, h, c)``,
used for training (teacher forcing over a window), for encoding the context and for
autoregressive sampling. Inputs shared by the S sample paths of a series (covariates,
embeddings, scale) are projected once per series, only the lags and the state are per path.
"""
from __future__ import annotations

from typing import List, Tuple

import torch
from torch import nn

from .nb_head import ALPHA_FLOOR, MU_FLOOR, positive

__all__ = ["DeepARNet", "DEFAULT_LAGS", "emb_dim"]

DEFAULT_LAGS = [1, 2, 3, 4, 5, 6, 7, 14, 21, 28]


def emb_dim(card: int) -> int:
    return max(1, min(8, (card + 1) // 2))


class _Cell(nn.Module):
    """LSTM cell; layer 0 gets its input already projected to gates (w_in = identity)."""

    def __init__(self, hidden: int, project: bool):
        super().__init__()
        self.w_in = nn.Linear(hidden, 4 * hidden) if project else nn.Identity()
        self.w_hh = nn.Linear(hidden, 4 * hidden, bias=False)
        if project:
            with torch.no_grad():
                self.w_in.bias[hidden:2 * hidden].fill_(1.0)

    def forward(self, x: torch.Tensor, h: torch.Tensor, c: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        i, f, g, o = (self.w_in(x) + self.w_hh(h)).chunk(4, dim=1)
        c_new = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        return torch.sigmoid(o) * torch.tanh(c_new), c_new


class DeepARNet(nn.Module):
    """One LSTM step of DeepAR with an NB head.

    Shapes (Bs series, S paths per series, L lags, H hidden):
      lags (Bs, S, L) float: log1p(y_{t-lag} / scale); cov_num (Bs, Fn) float; cov_cat (Bs, Kc)
      long codes; static (Bs, Ks) long codes (0 = unknown: a new item falls back on its
      dept/cat embeddings); scale (Bs,) > 0; h, c (layers, Bs*S, H), path-major inside a series.
    Returns mu (Bs, S), alpha (Bs, S) in data units and the new h, c.
    """

    def __init__(self, n_lags: int, n_num: int, cat_cards: List[int], static_cards: List[int],
                 hidden: int = 40, layers: int = 2):
        super().__init__()
        self.hidden = hidden
        self.layers = layers
        self.mu_floor = MU_FLOOR
        self.alpha_floor = ALPHA_FLOOR
        self.cat_emb = nn.ModuleList([nn.Embedding(c, emb_dim(c)) for c in cat_cards])
        self.static_emb = nn.ModuleList([nn.Embedding(c, emb_dim(c)) for c in static_cards])
        n_shared = n_num + 1 + sum(emb_dim(c) for c in cat_cards) + sum(emb_dim(c) for c in static_cards)
        self.w_shared = nn.Linear(n_shared, 4 * hidden)            # carries the layer-0 bias
        self.w_lag = nn.Linear(n_lags, 4 * hidden, bias=False)
        self.cells = nn.ModuleList([_Cell(hidden, k > 0) for k in range(layers)])
        self.head = nn.Linear(hidden, 2)
        with torch.no_grad():  # forget-gate bias 1 (Jozefowicz et al.)
            self.w_shared.bias[hidden:2 * hidden].fill_(1.0)

    def forward(self, lags: torch.Tensor, cov_num: torch.Tensor, cov_cat: torch.Tensor,
                static: torch.Tensor, scale: torch.Tensor, h: torch.Tensor, c: torch.Tensor
                ) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        bs = lags.shape[0]
        s = lags.shape[1]
        parts = [cov_num, torch.log(scale).unsqueeze(1)]
        for k, emb in enumerate(self.cat_emb):
            parts.append(emb(cov_cat[:, k]))
        for k, emb in enumerate(self.static_emb):
            parts.append(emb(static[:, k]))
        shared = self.w_shared(torch.cat(parts, dim=1))                       # (Bs, 4H)
        gates = (shared.unsqueeze(1) + self.w_lag(lags)).reshape(bs * s, 4 * self.hidden)
        hs: List[torch.Tensor] = []
        cs: List[torch.Tensor] = []
        x = gates
        for k, cell in enumerate(self.cells):
            h_k, c_k = cell(x, h[k], c[k])
            hs.append(h_k)
            cs.append(c_k)
            x = h_k
        raw = self.head(x)
        sc = scale.unsqueeze(1).expand(bs, s).reshape(bs * s)
        mu = sc * positive(raw[:, 0], self.mu_floor)
        alpha = positive(raw[:, 1], self.alpha_floor) / torch.sqrt(sc)
        return mu.reshape(bs, s), alpha.reshape(bs, s), torch.stack(hs), torch.stack(cs)
