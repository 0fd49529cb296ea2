"""Training of DeepAR / N-BEATS on long frames, and ``skucast.train`` (fit + write a file)."""
from __future__ import annotations

import time

import numpy as np
import torch

from ..data.frames import CATEGORICAL_COVARIATES, STATIC_COLUMNS
from .deepar import DEFAULT_LAGS, DeepARNet
from .nb_head import nb_nll
from .nbeats import NBeatsNet
from .panel import build_history, scale_of

__all__ = ["TrainedModel", "fit", "train", "make_spec", "scale_of"]


class TrainedModel:
    """An eager network with its spec (what a model file stores)."""

    def __init__(self, net, spec, history=None):
        self.net, self.spec, self.history = net, spec, history or []


def make_spec(df, model: str, horizon: int, context_length: int, numeric=None, categorical=None,
              lags=None, **hyper) -> dict:
    """Spec stored in the model file: shapes, covariates, vocabularies, scaling, versions."""
    import skucast
    if numeric is None:
        numeric = [c for c in ("price_change", "snap") if c in df.columns]
    if categorical is None:
        categorical = [c for c in CATEGORICAL_COVARIATES if c in df.columns or c in ("dow", "month")]
    static = {c: sorted(map(str, df[c].astype(object).unique())) for c in STATIC_COLUMNS if c in df.columns}
    spec = {
        "skucast_model": 1, "model": model, "freq": "D",
        "horizon": int(horizon), "context_length": int(context_length),
        "lags": list(lags or (DEFAULT_LAGS if model == "deepar" else [])),
        "numeric": list(numeric) if model == "deepar" else [],
        "categorical": {c: CATEGORICAL_COVARIATES[c] for c in categorical} if model == "deepar" else {},
        "static": static if model == "deepar" else {},
        "scaling": "1 + mean of the listed context days (DeepAR's nu); mu * scale, alpha / sqrt(scale)",
        "sampler": "skucast.nbinom.sample, keys = blake2b(unique_id)[42 bits] << 20 | path, step = forecast day",
        "skucast_version": skucast.__version__, "torch_version": torch.__version__,
        "hyper": hyper,
        # the last day the model saw: backtests refuse a model trained on days at/after an origin
        "train_last_ds": str(np.datetime64(df["ds"].max(), "D")) if len(df) else None,
    }
    return spec


def _build_net(spec):
    h = spec["hyper"]
    if spec["model"] == "deepar":
        return DeepARNet(len(spec["lags"]), 1 + len(spec["numeric"]), list(spec["categorical"].values()),
                         [len(v) + 1 for v in spec["static"].values()], h["hidden"], h["layers"])
    return NBeatsNet(spec["context_length"], spec["horizon"], h["stacks"], h["blocks"], h["width"], h["depth"])


def _deepar_loss(net, p, i, s, spec, item_dropout, rng):
    lags = np.asarray(spec["lags"])
    C, H, m = spec["context_length"], spec["horizon"], int(lags.max())
    W = m + C + H
    cols = s[:, None] + np.arange(W)
    y, listed = p.y[i[:, None], cols], p.listed[i[:, None], cols]
    scale = scale_of(y[:, m:m + C], listed[:, m:m + C])
    t = np.arange(m, W)
    lagv = np.log1p(y[:, t[:, None] - lags] / scale[:, None, None]).astype(np.float32)   # (B, C+H, L)
    num, cat = p.num[i[:, None], cols[:, m:]], p.cat[i[:, None], cols[:, m:]]
    static = p.static[i].copy()
    if static.shape[1] and item_dropout > 0:   # trains the "unknown item" embedding: cold start
        static[rng.random(len(i)) < item_dropout, 0] = 0
    B = len(i)
    lagv, num, cat, static = map(torch.from_numpy, (lagv, num, cat, static))
    sc = torch.from_numpy(scale)
    hh = torch.zeros(net.layers, B, net.hidden)
    cc = torch.zeros_like(hh)
    mus, alphas = [], []
    for k in range(C + H):
        mu, al, hh, cc = net(lagv[:, k:k + 1], num[:, k], cat[:, k], static, sc, hh, cc)
        mus.append(mu[:, 0])
        alphas.append(al[:, 0])
    mask = torch.from_numpy(listed[:, m:])
    loss = nb_nll(torch.from_numpy(y[:, m:]), torch.stack(mus, 1), torch.stack(alphas, 1), mask)
    return loss / mask.sum().clamp_min(1.0)


def _nbeats_loss(net, p, i, s, spec):
    C, H = spec["context_length"], spec["horizon"]
    cols = s[:, None] + np.arange(C + H)
    y, listed = p.y[i[:, None], cols], p.listed[i[:, None], cols]
    scale = scale_of(y[:, :C], listed[:, :C])
    mu, al = net(torch.from_numpy(y[:, :C] / scale[:, None]), torch.from_numpy(scale))
    mask = torch.from_numpy(listed[:, C:])
    return nb_nll(torch.from_numpy(y[:, C:]), mu, al, mask) / mask.sum().clamp_min(1.0)


def fit(df, model: str = "deepar", horizon: int = 28, context_length: int = 56, epochs: int = 10,
        batches_per_epoch: int = 50, batch_size: int = 64, lr: float = 1e-3, seed: int = 0,
        hidden: int = 40, layers: int = 2, stacks: str = "generic", blocks: int = 3, width: int = 128,
        depth: int = 3, item_dropout: float = 0.1, numeric=None, categorical=None, lags=None,
        verbose: bool = False) -> TrainedModel:
    """Fit DeepAR (``model="deepar"``) or N-BEATS (``"nbeats"``) on a long frame by NB
    maximum likelihood over random windows (context + horizon days ending on a listed day;
    DeepAR's loss covers the context too, teacher forced). Returns a TrainedModel (eager).

    df: unique_id, ds, y (+ listed, static and dynamic covariate columns, see skucast.data).
    """
    if model not in ("deepar", "nbeats"):
        raise ValueError(f"model: must be 'deepar' or 'nbeats'; got {model!r}")
    hyper = dict(hidden=hidden, layers=layers) if model == "deepar" else dict(
        stacks=stacks, blocks=blocks, width=width, depth=depth)
    spec = make_spec(df, model, horizon, context_length, numeric, categorical, lags, **hyper)
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    net = _build_net(spec)
    p = build_history(df, spec)
    m = max(spec["lags"]) if spec["lags"] else 0
    W = m + context_length + horizon
    n, T = p.y.shape
    if T < W:
        raise ValueError(f"df: series have {T} days; training needs at least {W} "
                         f"(max lag {m} + context {context_length} + horizon {horizon})")
    ok = p.listed[:, W - 1:] > 0           # window (i, s) ends at day s + W - 1, listed
    cand_i, cand_s = np.nonzero(ok)
    if len(cand_i) == 0:
        raise ValueError("df: no training window ends on a listed day (all series all-zero?)")
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    history = []
    t0 = time.perf_counter()
    net.train()
    for ep in range(epochs):
        tot = 0.0
        for _ in range(batches_per_epoch):
            pick = rng.integers(0, len(cand_i), batch_size)
            i, s = cand_i[pick], cand_s[pick]
            loss = (_deepar_loss(net, p, i, s, spec, item_dropout, rng) if model == "deepar"
                    else _nbeats_loss(net, p, i, s, spec))
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(net.parameters(), 10.0)
            opt.step()
            tot += loss.item()
        history.append(tot / batches_per_epoch)
        if verbose:
            print(f"epoch {ep + 1}/{epochs} nll/obs {history[-1]:.4f} ({time.perf_counter() - t0:.0f}s)")
    net.eval()
    return TrainedModel(net, spec, history)


def train(df, path: str, model: str = "deepar", format: str | None = None, **kwargs) -> str:
    """Fit a model on ``df`` and write it to ``path`` (TorchScript ``.pt``, or torch.export
    ``.pt2``; ``format`` = "torchscript" | "export" overrides the extension). Load it with
    ``skucast.Forecaster.load(path)``; the file needs no training code.

    >>> skucast.train(df, "deepar.pt", horizon=28, epochs=5)
    """
    from .export import save
    trained = fit(df, model=model, **kwargs)
    return save(trained, path, format=format)
