"""Forecaster: a loaded (or eager) DeepAR / N-BEATS network plus skucast's NB sampler.

Sample paths come from skucast.nbinom.sample with key = (stable series key << 20 | path)
and step = forecast day, so a series' paths do not depend on the batch or chunking.
The steps are torch on every device: on a GPU the network, its state, the lag features and the
draws stay there (skucast's CUDA sampler draws the same Philox stream as the CPU's).
"""
from __future__ import annotations

import copy
import io
import warnings

import numpy as np
import torch

from .. import nbinom
from ..quantiles import quantiles as _quantiles
from .panel import PATH_BITS, build_future, build_history, scale_of, series_keys

__all__ = ["Forecaster", "Forecast", "parse_level"]

MIN_ROWS = 16   # tiny GEMMs take other kernels (gemv at 1 row): pad chunks so a row's result
                # does not depend on how many series share its batch
_TINY = np.float32(1e-12)   # mu x shock stays > 0 for the sampler
CHUNK_PATHS = 4096  # default paths per chunk: bigger chunks fall out of cache (measured ~1.6x)
GPU_CHUNK_PATHS = 1 << 20  # on a GPU: enough paths per step to fill it


def _device(device) -> torch.device:
    """torch.device for predict's ``device``: the CPU or a CUDA device skucast can sample on."""
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as e:
        raise ValueError(f"device: {e}") from None
    if dev.type == "cpu":
        return dev
    if dev.type != "cuda":
        raise ValueError(f"device: 'cpu' or a CUDA device; got {device!r}")
    from .._device import cuda_available
    if not torch.cuda.is_available():
        raise ValueError(f"device: {device!r}, but torch sees no CUDA device (a CPU-only torch build, or no GPU)")
    if not cuda_available():
        raise ValueError(f"device: {device!r}, but skucast was built without CUDA (its sampler runs on the GPU)")
    if dev.index is None:  # "cuda": the current device, named, so a copy kept for it stays there
        return torch.device("cuda", torch.cuda.current_device())
    if dev.index >= torch.cuda.device_count():
        raise ValueError(f"device: {device!r}, but torch sees {torch.cuda.device_count()} CUDA device(s)")
    return dev


def _tensor_on(a, dev):
    return torch.from_numpy(np.ascontiguousarray(a)).to(dev)


def _path_keys(keys, S):
    """(n, S) sampler keys: each series' stable key above the path index."""
    return (keys[:, None] << PATH_BITS) | np.arange(S, dtype=np.int64)[None, :]


def _draw(mu, alpha, num_samples, seed, keys, step):
    """nbinom.sample on torch tensors: CUDA tensors go to skucast's CUDA sampler and the draws
    stay there; CPU tensors through numpy."""
    if mu.is_cuda:
        return nbinom.sample(mu, alpha, num_samples, seed, keys=keys, step=step)
    step = step.numpy() if isinstance(step, torch.Tensor) else step
    return torch.from_numpy(nbinom.sample(mu.numpy(), alpha.numpy(), num_samples, seed, keys=keys.numpy(), step=step))


def parse_level(q) -> float:
    """0.9, "0.9", "p90", "q0.9" -> 0.9."""
    if isinstance(q, str):
        s = q.strip().lower()
        if s.startswith("p"):
            return float(s[1:]) / 100.0
        return float(s.lstrip("q"))
    return float(q)


class Forecast:
    """samples (n_series, num_samples, horizon) int64; unique_id (n,); ds (n, horizon)."""

    def __init__(self, samples, unique_id, ds, mu=None, alpha=None):
        self.samples, self.unique_id, self.ds = samples, unique_id, ds
        self.mu, self.alpha = mu, alpha   # N-BEATS: the NB parameters per day

    @property
    def mean(self) -> np.ndarray:
        return self.samples.mean(axis=1)

    def quantiles(self, levels, method: str = "inverted_cdf") -> np.ndarray:
        """(n_series, horizon, n_levels) from the sample paths via skucast.quantiles."""
        lv = [parse_level(q) for q in np.atleast_1d(levels)]
        return _quantiles(self.samples, lv, axis=1, method=method)

    def to_frame(self, levels=(0.5, 0.9), method: str = "inverted_cdf"):
        """Long frame: unique_id, ds, mean, q<level> columns (e.g. q0.5, q0.9)."""
        import pandas as pd
        n, _, h = self.samples.shape
        out = pd.DataFrame({"unique_id": np.repeat(self.unique_id, h), "ds": self.ds.reshape(-1),
                            "mean": self.mean.reshape(-1)})
        lv = [parse_level(q) for q in levels]
        if lv:
            qs = self.quantiles(lv, method)
            for k, q in enumerate(lv):
                out[f"q{q:g}"] = qs[..., k].reshape(-1)
        return out


class Forecaster:
    """Load with ``Forecaster.load(path)`` (TorchScript .pt or torch.export .pt2) and call
    ``predict``; ``Forecaster(trained)`` wraps an eager models.training.TrainedModel."""

    def __init__(self, trained=None, *, net=None, spec=None):
        if trained is not None:
            net, spec = trained.net.eval(), trained.spec
        self.net, self.spec = net, spec
        self._program = None  # a torch.export file's bytes, to move the program to a GPU
        self._loaded = False  # from a model file: its GPU copies are kept
        self._device_nets = {}  # str(device) -> a copy of net there

    def _net_on(self, dev: torch.device):
        """The network on dev. Copies of a loaded model file are kept per device; an eager or
        given network is copied on every call, so changes to it (training, load_state_dict) are
        seen."""
        if dev.type == "cpu":
            return self.net
        net = self._device_nets.get(str(dev))
        if net is None:
            try:
                net = self._copy_to(dev)
            except Exception as e:
                raise ValueError(f"device: this model cannot be moved to {dev}: {type(e).__name__}: {e}") from None
            if self._loaded:
                self._device_nets[str(dev)] = net
        return net

    def _copy_to(self, dev: torch.device):
        """The network on dev, the CPU one untouched: TorchScript through a reload; a torch.export
        program read again from the file's bytes (kept at load) and moved by torch's
        move_to_device_pass, which also moves devices burnt into the graph (files of older
        N-BEATS builds create their zeros on the CPU); an eager module as a moved copy."""
        with warnings.catch_warnings():  # torch.jit.* is deprecated upstream (see export.py)
            warnings.simplefilter("ignore", DeprecationWarning)
            warnings.simplefilter("ignore", FutureWarning)
            if isinstance(self.net, torch.jit.ScriptModule):
                buf = io.BytesIO()
                torch.jit.save(self.net, buf)
                buf.seek(0)
                return torch.jit.load(buf, map_location=dev)
            if self._program is not None:
                from torch.export.passes import move_to_device_pass
                return move_to_device_pass(torch.export.load(io.BytesIO(self._program)), dev).module()
        return copy.deepcopy(self.net).to(dev)

    @classmethod
    def load(cls, path: str) -> "Forecaster":
        """Load a model file; a corrupt or foreign file raises ValueError (ModelFileError)
        naming the file and the reason."""
        from .export import load_file
        net, spec = load_file(path)
        f = cls(net=net, spec=spec)
        f._loaded = True
        if spec.get("format") == "export":
            with open(path, "rb") as fh:
                f._program = fh.read()
        return f

    @property
    def horizon(self) -> int:
        return self.spec["horizon"]

    def predict(self, df, futr_df=None, horizon: int | None = None, num_samples: int = 200,
                seed: int = 0, chunk_size: int | None = None, common_shock: float = 0.0,
                device="cpu") -> Forecast:
        """Sample ``num_samples`` paths of the next ``horizon`` days for every series in df.

        df: history long frame (unique_id, ds, y + the covariates the model was trained on);
        futr_df: covariates for the horizon days (needed when the model uses non-calendar
        covariates). horizon <= the trained horizon. Series are processed ``chunk_size`` at
        a time (default: about 4096 sample paths per chunk, which keeps the LSTM state in
        cache); results do not depend on chunk_size.

        common_shock: variance v of a gamma factor G[path, day] (mean 1) that multiplies mu of
        every series on that path and day (skucast.common_shock.gamma_shock, keyed by seed,
        day and path only): it correlates the series so sums of paths (store, category) are not
        too narrow. 0 (default) samples the series independently. A dict {column: variance}
        (columns of df, e.g. {"store_id": 0.01, "dept_id": 0.02}) multiplies one factor per
        group of each column instead (skucast.common_shock.group_shock). Calibrate on a window
        before the forecast (skucast.common_shock.calibrate_shock_variance).

        device: "cpu" (default) or a CUDA device ("cuda" is the current one, "cuda:1", a
        torch.device). On a GPU the network runs there (a copy: kept for later calls when the
        model came from a file, made again each call otherwise) and skucast's CUDA sampler draws
        the paths where the network's mu and alpha are; chunks default to ~1M paths. The
        sampler's stream is the CPU's (equal draws for equal mu and alpha), but the network's
        float32 arithmetic on the GPU (cuBLAS, batch-size dependent) differs from the CPU's in
        the last bits, so a small share of draws differ from a CPU run and from GPU runs with
        another chunk_size. The Forecast holds numpy arrays either way.
        """
        h = self.horizon if horizon is None else int(horizon)
        if not 1 <= h <= self.horizon:
            raise ValueError(f"horizon: the model was trained for {self.horizon} days; got {horizon}")
        if not 1 <= int(num_samples) < 2 ** PATH_BITS:
            raise ValueError(f"num_samples: must be in [1, 2**{PATH_BITS}); got {num_samples}")
        dev = _device(device)
        net = self._net_on(dev)
        if chunk_size is None:
            chunk_size = max(MIN_ROWS, (CHUNK_PATHS if dev.type == "cpu" else GPU_CHUNK_PATHS) // int(num_samples))
        spec = self.spec
        lags = spec["lags"]
        L = (max(lags) if lags else 0) + spec["context_length"]
        p = build_history(df, spec, length=L)
        fut_num, fut_cat, ds = build_future(futr_df, p, spec, h)
        keys = series_keys(p.uids)
        shock_of = self._shock_maker(df, p, common_shock, num_samples, h, seed)
        n = len(p)
        out = np.empty((n, num_samples, h), np.int64)
        mus = alphas = None
        if spec["model"] == "nbeats":
            mus, alphas = np.empty((n, h), np.float32), np.empty((n, h), np.float32)
        with torch.inference_mode():
            for a in range(0, n, chunk_size):
                b = min(n, a + chunk_size)
                rows = np.arange(a, b)
                if len(rows) < MIN_ROWS:   # pad with copies of the last series, dropped below
                    rows = np.concatenate([rows, np.full(MIN_ROWS - len(rows), b - 1)])
                if spec["model"] == "deepar":
                    res = self._deepar_chunk(net, dev, p, rows, fut_num, fut_cat, keys, h, num_samples, seed,
                                             shock_of(rows))
                else:
                    res, mu, al = self._nbeats_chunk(net, dev, p, rows, keys, h, num_samples, seed, shock_of(rows))
                    mus[a:b], alphas[a:b] = mu[:b - a], al[:b - a]
                out[a:b] = res[:b - a]
        return Forecast(out, p.uids, ds, mus, alphas)

    @staticmethod
    def _shock_maker(df, p, common_shock, S, h, seed):
        """rows -> the shock factors of those series ((1 or rows, S, h) float32) or None."""
        if not common_shock:
            return lambda rows: None
        from ..common_shock import gamma_shock, group_shock
        try:
            if not isinstance(common_shock, dict):
                g = gamma_shock(common_shock, S, h, seed).astype(np.float32)[None]
                return lambda rows: g
            first = df.drop_duplicates("unique_id").set_index("unique_id")
            levels = {}
            for col, v in common_shock.items():
                if col not in first.columns:
                    raise ValueError(f"grouping column {col!r} is not in df")
                levels[col] = (float(v), series_keys(first.loc[p.uids, col].astype(str).to_numpy()))
            group_shock({c: (v, k[:1]) for c, (v, k) in levels.items()}, 1, 1, seed)   # checks variances
        except ValueError as e:
            raise ValueError(f"common_shock: {e}") from None
        return lambda rows: group_shock({c: (v, k[rows]) for c, (v, k) in levels.items()},
                                        S, h, seed).astype(np.float32)

    # A chunk's steps in torch on `dev`: on a GPU the network's state, the lag features and the
    # draws stay there; on the CPU the tensors share numpy's memory. The lags are taken in
    # float64, then float32 (a numpy reference of these steps in tests/test_models_device.py gives
    # the same paths bitwise).
    def _nbeats_chunk(self, net, dev, p, rows, keys, h, S, seed, shock=None):
        def to(a):
            return _tensor_on(a, dev)

        C = self.spec["context_length"]
        y, listed = p.y[rows][:, -C:], p.listed[rows][:, -C:]
        scale = scale_of(y, listed)
        mu, al = net(to(y / scale[:, None]), to(scale))
        mu, al = mu[:, :h].contiguous(), al[:, :h].contiguous()
        steps = to(np.arange(h, dtype=np.int64))
        if shock is not None:
            mp = torch.clamp_min(mu[:, None, :] * to(shock), float(_TINY))
            pk = to(_path_keys(keys[rows], S))
            draws = _draw(mp, al[:, None, :].expand(mp.shape).contiguous(), 1, seed,
                          pk[..., None].expand(mp.shape).contiguous(), steps[None, None, :].expand(mp.shape).contiguous())
            draws = draws[..., 0]
        else:
            k = to(keys[rows])[:, None].expand(mu.shape).contiguous()
            draws = _draw(mu, al, S, seed, k, steps[None, :].expand(mu.shape).contiguous()).transpose(1, 2)
        return draws.cpu().numpy(), mu.cpu().numpy(), al.cpu().numpy()

    def _deepar_chunk(self, net, dev, p, rows, fut_num, fut_cat, keys, h, S, seed, shock=None):
        def to(a):
            return _tensor_on(a, dev)

        spec = self.spec
        lags_h = np.asarray(spec["lags"])
        C = spec["context_length"]
        m = int(lags_h.max())
        L = m + C
        y, listed = p.y[rows], p.listed[rows]
        bs = len(rows)
        scale = scale_of(y[:, m:], listed[:, m:])
        sc, static = to(scale), to(p.static[rows])
        num, cat = to(p.num[rows]), to(p.cat[rows])
        hidden, layers = spec["hyper"]["hidden"], spec["hyper"]["layers"]
        hh = torch.zeros(layers, bs, hidden, device=dev)
        cc = torch.zeros_like(hh)
        enc = to(np.log1p(y[:, np.arange(m, L)[:, None] - lags_h] / scale[:, None, None]).astype(np.float32))
        for t in range(C):   # encode the context (teacher forced, one path)
            _, _, hh, cc = net(enc[:, t:t + 1], num[:, m + t], cat[:, m + t], static, sc, hh, cc)
        hh = hh.repeat_interleave(S, dim=1)
        cc = cc.repeat_interleave(S, dim=1)
        buf = torch.empty((bs, S, L + h), dtype=torch.float32, device=dev)
        buf[:, :, :L] = to(y.astype(np.float32))[:, None, :]
        pkeys = to(_path_keys(keys[rows], S))
        inv_scale = to(1.0 / scale)[:, None, None]
        lags = to(lags_h.astype(np.int64))
        fn, fc = to(fut_num[rows]), to(fut_cat[rows])
        shock = None if shock is None else to(shock)
        for k in range(h):
            lagv = torch.log1p(buf[:, :, L + k - lags] * inv_scale).float()
            mu, al, hh, cc = net(lagv, fn[:, k], fc[:, k], static, sc, hh, cc)
            if shock is not None:
                mu = torch.clamp_min(mu * shock[:, :, k], float(_TINY))
            buf[:, :, L + k] = _draw(mu.contiguous(), al.contiguous(), 1, seed, pkeys, k)[..., 0]
        return buf[:, :, L:].to(torch.int64).cpu().numpy()
