"""GPU dispatch of skucast.inventory (order_up_to, safety_stock, replenish, plan_orders, allocate,
simulate) to the CUDA module: the same checks and kernels' row logic as the CPU path.

Inputs are moved to the device of the first GPU argument (host scalars / small arrays are
uploaded); per-row arguments are broadcast to contiguous (n,) int64 arrays, NB parameters to
float64 (visible copies when a scalar or a (n,) alpha meets 2-d mu). Value checks run on the
device; when one fails, the inputs are copied to the host and the CPU function is called to
raise its exact ValueError (the error path only). Outputs are arrays of the input's library.

order_up_to with sample paths runs the CPU path's formulas (inventory/_sample_levels.py) in cupy
over skucast's GPU window sums and quantiles; torch tensors are read through cupy without a copy
(cupy must be installed) and the results come back as tensors.

Not on the GPU (NotImplementedError): NB parameters with lead_time_pmf, and levels that need pmf
arrays (target="fill_rate" with an NB method, or method="exact"/"convolution" on windows whose
daily alpha*mu differ and that are convolved); use method="normal" or "moment", sample paths, or
numpy inputs.
"""
from __future__ import annotations

import contextlib

import numpy as np

from . import _checks
from ._gpu import _F64, _I64, _Call, _Torch, _cai, _dtype, _ptr, _samples, is_gpu_array

_NEEDS_PMF = 3  # gpu::kArgNeedsPmf
_I32 = np.dtype(np.int32)


def _shape(x):
    if x is None:
        return ()
    if is_gpu_array(x):
        return tuple(_cai(x)["shape"])
    return np.shape(x)


def _host(c, x):
    return c.be.to_host(x) if is_gpu_array(x) else x


def _cpu_raise(c, func, kwargs, positional=()):
    """Re-run the CPU function on host copies: raises the CPU path's error for bad input."""
    func(*[_host(c, a) for a in positional], **{k: _host(c, v) for k, v in kwargs.items()})
    raise RuntimeError(f"{func.__name__}: the GPU kernels reported bad input the CPU path accepts")  # pragma: no cover


def _any(x) -> bool:
    return bool(x.any())


def _rows(c, x, name, n):
    """int64 (n,) contiguous device array."""
    return c.be.broadcast_contiguous(c.int64(0 if x is None else x, name), (n,))


def _one_or_each(c, v, n):
    """(device array, element stride) of a per-row device value: a single value stays one element
    read with stride 0, instead of n copies written and read again; else n contiguous values."""
    if len(_shape(v)) <= 1 and int(np.prod(_shape(v), dtype=np.int64)) == 1:
        return c.be.contiguous(v.reshape(1)), 0
    return c.be.broadcast_contiguous(v, (n,)), 1


def _row_arg(c, x, name, n):
    """(device array, (pointer, element stride)) for a per-row int64 argument."""
    v, stride = _one_or_each(c, c.int64(0 if x is None else x, name), n)
    return v, (_ptr(v), stride)


def _f64(c, x, name):
    return c.be.astype(c.device_array(x, name), _F64)


def _finite_ge0(x):
    return (abs(x) < float("inf")) & (x >= 0)


def _not_on_gpu(what):
    return NotImplementedError(f"{what} is not computed by the GPU kernels: use method='normal' or 'moment' "
                               "(target='csl' for 'moment'), or pass numpy arrays")


class _Demand:
    """NB daily parameters and windows on the device, as cpu::DemandArgs wants them."""

    def __init__(self, c, mu, alpha, lead_time, review_period, start, lead_time_pmf, n=None):
        if lead_time_pmf is not None:
            raise NotImplementedError("lead_time_pmf on the GPU: not implemented; pass numpy arrays")
        if mu is None or alpha is None or lead_time is None:
            raise ValueError("mu, alpha and lead_time are required (GPU path)")
        m = _f64(c, mu, "mu")
        shape = _shape(m)
        if len(shape) == 0 and n is not None:
            m = c.be.broadcast_contiguous(m, (n,))
            shape = (n,)
        if len(shape) not in (1, 2):
            raise ValueError(f"mu: expected shape (n, horizon) or (n,), got {shape}")
        self.n = shape[0]
        a = _f64(c, alpha, "alpha")
        if len(shape) == 1:
            self.horizon = -1
            self.mu = c.be.contiguous(m)
            self.alpha, stride = _one_or_each(c, a, self.n)
            self.mu_arg, self.alpha_arg = (_ptr(self.mu), 1, 0), (_ptr(self.alpha), stride, 0)
        else:
            self.horizon = shape[1]
            if len(_shape(a)) == 1 and _shape(a)[0] == self.n:
                _checks.per_row_alpha(self.n, self.horizon)
                a = a.reshape(self.n, 1)
            self.mu = c.be.contiguous(m)
            self.alpha = c.be.broadcast_contiguous(a, shape)
            self.mu_arg, self.alpha_arg = (_ptr(self.mu), shape[1], 1), (_ptr(self.alpha), shape[1], 1)
        self.start, self.start_arg = _row_arg(c, start, "start", self.n)
        self.lead, self.lead_arg = _row_arg(c, lead_time, "lead_time", self.n)
        self.review, self.review_arg = _row_arg(c, review_period, "review_period", self.n)

    def args(self):
        return (self.horizon, self.mu_arg, self.alpha_arg, self.start_arg, self.lead_arg, self.review_arg)


def order_up_to(kw):
    from .inventory import _policy as P

    c = _Call(*[v for v in kw.values() if is_gpu_array(v)])
    q = P._service(kw["service_level"])
    tgt = P._choice(kw["target"], "target", P._TARGETS)
    meth = P._choice(kw["method"], "method", P._METHODS)
    if kw["samples"] is not None:
        return _samples_order_up_to(c, kw, q, tgt, meth)
    if tgt == 1 and meth != 0:
        raise _not_on_gpu("target='fill_rate' with an NB method")
    dem = _Demand(c, kw["mu"], kw["alpha"], kw["lead_time"], kw["review_period"], kw["start"],
                  kw["lead_time_pmf"])
    n = dem.n
    S, s = c.be.empty((n,), _I64), c.be.empty((n,), _I64)
    mean, safety = c.be.empty((n,), _F64), c.be.empty((n,), _F64)
    bad = c.mod.inv_order_up_to(n, *dem.args(), q, tgt, meth, P.EXACT_CONVOLUTION_MEAN, _ptr(S), _ptr(s),
                                _ptr(mean), _ptr(safety), c.stream())
    if bad is not None:
        if bad[1] == _NEEDS_PMF:
            raise _not_on_gpu(f"row {bad[0]}: a window with varying daily alpha*mu under method='exact'/'convolution'")
        _cpu_raise(c, P.order_up_to, kw)
    return P.OrderUpToResult(S, s, safety, mean)


def _samples_order_up_to(c, kw, q, tgt, meth):
    """order_up_to(samples=...) for GPU arrays: the checks of the CPU path (its error on failure),
    then the CPU path's formulas in cupy, on the call's stream."""
    from .inventory import _policy as P, _sample_levels

    try:
        import cupy
    except ImportError:
        raise NotImplementedError("order_up_to with GPU sample paths runs on cupy: install cupy (e.g. "
                                  "cupy-cuda13x) or pass numpy arrays") from None
    fail = lambda: _cpu_raise(c, P.order_up_to, kw)  # noqa: E731
    if kw["mu"] is not None or kw["alpha"] is not None or (kw["lead_time"] is None) == (kw["lead_time_pmf"] is None):
        fail()
    try:  # dtype refusals (bool, uint64 past int64, ...) with the CPU path's messages
        raw = kw["samples"]
        x_in = _samples(c, raw)
        if _dtype(x_in).kind == "f" and (_dtype(raw) if is_gpu_array(raw) else np.asarray(raw).dtype).itemsize < 4:
            x_in = c.be.astype(x_in, _F64)  # float16 paths: summed in float64, as the CPU path does
        # (None is refused like the CPU path refuses it, except a lead time left out for lead_time_pmf)
        rows_in = {name: c.int64(0 if name == "lead_time" and kw[name] is None else kw[name], name)
                   for name in ("start", "review_period", "lead_time")}
    except (TypeError, ValueError):
        fail()
    torch_in = isinstance(c.be, _Torch)
    device = c.be.device.index if torch_in else c.be.device.id
    stream = c.stream()  # ordered after the inputs' producer streams (registered above)
    # cupy work on the call's stream: torch's current one for tensors (cupy's own otherwise)
    on_stream = (cupy.cuda.Stream.null if stream == 0 else cupy.cuda.ExternalStream(stream, device)) if torch_in \
        else contextlib.nullcontext()
    with cupy.cuda.Device(device), on_stream:
        x = cupy.asarray(x_in)
        if x.ndim != 3 or x.shape[1] == 0:
            fail()
        n, horizon = x.shape[0], x.shape[2]
        limit = 2**62 // max(horizon, 1)
        bad = x < 0
        if x.dtype.kind == "f":
            bad |= ~cupy.isfinite(x) | (x > limit)
        elif cupy.iinfo(x.dtype).max > limit:  # (int32 values cannot pass the limit)
            bad |= x > limit
        if bool(bad.any()):
            fail()
        rows = {}
        for name, v in rows_in.items():
            v = cupy.asarray(v)
            if v.ndim > 1 or (v.ndim == 1 and v.shape[0] != n) or bool(((v < 0) | (v > P.MAX_DAYS)).any()):
                fail()
            rows[name] = v
        pmf = None
        lead, end = rows["lead_time"], rows["start"] + rows["review_period"]
        if kw["lead_time_pmf"] is not None:
            p = kw["lead_time_pmf"]
            pmf = cupy.asarray(P._lead_time_pmf(c.be.to_host(p) if is_gpu_array(p) else p, n))
            end = end + (pmf.shape[1] - 1)
        else:
            end = end + lead
        if bool((end > horizon).any()):
            fail()
        S, s, mean = _sample_levels.levels(x, rows["start"], lead, rows["review_period"], pmf, q, tgt, meth, cupy)
        out = (S, cupy.minimum(s, S), S - mean, mean)  # s at most S, as on the CPU
    if torch_in:
        out = tuple(c.be.torch.as_tensor(a, device=c.be.device) for a in out)
    return P.OrderUpToResult(*out)


_PER_ROW = ("on_hand", "on_order", "backorders", "S", "s", "Q", "moq", "case_pack", "max_order", "shelf_capacity")


def replenish(kw):
    from .inventory import _policy as P

    c = _Call(*[v for v in kw.values() if is_gpu_array(v)])
    pol = P._choice(kw["policy"], "policy", P._POLICIES)
    fused = kw["mu"] is not None
    if fused and (kw["S"] is not None or kw["s"] is not None):
        raise ValueError("S/s: give either S/s or NB parameters mu/alpha (fused), not both")
    if not fused:
        if pol in (0, 1, 2) and kw["S"] is None:
            raise ValueError(f"S: required for policy {kw['policy']!r}")
        if pol in (2, 3) and kw["s"] is None:
            raise ValueError(f"s: required for policy {kw['policy']!r}")
    if pol == 3 and kw["Q"] is None:
        raise ValueError("Q: required for policy 'sQ'")
    lens = {len(_shape(kw[k])) and _shape(kw[k])[0] for k in (*_PER_ROW, "mu") if len(_shape(kw[k])) >= 1}
    if len(lens) > 1:
        _cpu_raise(c, P.replenish, kw)  # mismatched lengths: the CPU path's message
    n = lens.pop() if lens else 1
    a = {k: _row_arg(c, kw[k], k, n) for k in _PER_ROW}  # the arrays stay referenced until the kernels ran
    row = {k: arg for k, (_, arg) in a.items()}
    opt = {k: (None if kw[k] is None else row[k]) for k in ("max_order", "shelf_capacity")}
    order, reason = c.be.empty((n,), _I64), c.be.empty((n,), np.dtype(np.int8))
    if not fused:
        bad = c.mod.inv_replenish(n, pol, row["on_hand"], row["on_order"], row["backorders"], row["S"], row["s"],
                                  row["Q"], row["moq"], row["case_pack"], opt["max_order"], opt["shelf_capacity"],
                                  _ptr(order), _ptr(reason), c.stream())
        if bad is not None:
            _cpu_raise(c, P.replenish, kw)
        return P.ReplenishResult(order, reason)
    q = P._service(kw["service_level"])
    tgt = P._choice(kw["target"], "target", P._TARGETS)
    meth = P._choice(kw["method"], "method", P._METHODS)
    if tgt == 1 and meth != 0:
        raise _not_on_gpu("target='fill_rate' with an NB method")
    dem = _Demand(c, kw["mu"], kw["alpha"], kw["lead_time"], kw["review_period"], kw["start"],
                  kw["lead_time_pmf"], n=n)
    levels = bool(kw["return_levels"])
    S_out = c.be.empty((n,), _I64) if levels else None
    s_out = c.be.empty((n,), _I64) if levels else None
    bad = c.mod.inv_plan_orders(*dem.args(), q, tgt, meth, P.EXACT_CONVOLUTION_MEAN, n, pol, row["on_hand"],
                                row["on_order"], row["backorders"], row["Q"], row["moq"], row["case_pack"],
                                opt["max_order"], opt["shelf_capacity"], _ptr(order), _ptr(reason),
                                _ptr(S_out) if levels else 0, _ptr(s_out) if levels else 0, c.stream())
    if bad is not None:
        if bad[1] == 100 + _NEEDS_PMF:
            raise _not_on_gpu(f"row {bad[0]}: a window with varying daily alpha*mu under method='exact'/'convolution'")
        _cpu_raise(c, P.replenish, kw)
    return P.ReplenishResult(order, reason, S=S_out, s=s_out)


def _whole_int64(c, x, name):
    """int64 device array, or None (the caller raises the CPU path's error) for floats that are
    not all whole numbers within the int64 range."""
    arr = c.device_array(x, name)
    if _dtype(arr).kind == "f" and not c.be.all_whole_int64(arr):
        return None
    return c.be.astype(arr, _I64)


def allocate(supply, kw):
    from .inventory import _allocate as A

    c = _Call(*[v for v in (supply, *kw.values()) if is_gpu_array(v)])
    mu, alpha, samples = kw["mu"], kw["alpha"], kw["samples"]
    fail = lambda: _cpu_raise(c, A.allocate, kw, (supply,))  # noqa: E731
    if (mu is None) == (samples is None) or (samples is not None and alpha is not None):
        fail()
    if samples is not None:
        smp = _whole_int64(c, samples, "samples")
        if smp is None or len(_shape(smp)) != 3 or _shape(smp)[2] == 0 or _any(smp < 0) or _any(smp > 2**60):
            fail()
        smp = c.be.contiguous(smp)
        shape = _shape(smp)[:2]
    else:
        mu_d = _f64(c, mu, "mu")
        if len(_shape(mu_d)) != 2:
            fail()
        shape = _shape(mu_d)
        mu_d = c.be.contiguous(mu_d)
        al_d = c.be.broadcast_contiguous(_f64(c, 0.0 if alpha is None else alpha, "alpha"), shape)
        if not _any(~_finite_ge0(mu_d)) and not _any(~_finite_ge0(al_d)):
            pass
        else:
            fail()
    n = shape[0]
    if len(_shape(supply)) > 1 or len(_shape(kw["reserve"])) > 1:
        fail()
    sup = _rows(c, supply, "supply", n)
    res = _rows(c, kw["reserve"], "reserve", n)
    oh = c.be.broadcast_contiguous(c.int64(kw["on_hand"], "on_hand"), shape)
    md = c.be.broadcast_contiguous(c.int64(kw["min_display"], "min_display"), shape)
    if _any(sup < 0) or _any(res < 0) or _any(oh < 0) or _any(md < 0):
        fail()
    if _any(sup >= 2**62) or _any(oh >= 2**61) or _any(md >= 2**61):  # the CPU path's bounds (its errors)
        fail()
    avail = sup - res
    avail = c.be.contiguous(avail * (avail > 0))
    md_ptr = _ptr(md) if _any(md != 0) else 0
    out = c.be.empty(shape, _I64)
    if samples is not None:
        c.mod.inv_allocate_samples(n, shape[1], _shape(smp)[2], _ptr(avail), _ptr(smp), _ptr(oh), md_ptr, _ptr(out),
                                   c.stream())
    else:
        c.mod.inv_allocate_nb(n, shape[1], _ptr(avail), _ptr(mu_d), _ptr(al_d), _ptr(oh), md_ptr, _ptr(out),
                              c.stream())
    return out


def simulate(demand, kw):
    from .inventory import _simulate as Sim

    c = _Call(*[v for v in (demand, *kw.values()) if is_gpu_array(v)])
    fail = lambda: _cpu_raise(c, Sim.simulate, kw, (demand,))  # noqa: E731
    dem = c.device_array(demand, "demand")
    if _dtype(dem) not in (_I32, _I64):
        dem = _whole_int64(c, dem, "demand")
        if dem is None:
            fail()
    dem = c.be.contiguous(dem)
    if len(_shape(dem)) != 2:
        fail()
    n, T = _shape(dem)
    review_period = _checks.check_int(kw["review_period"], "review_period", 1, 2**40)
    first_review = _checks.check_int(kw["first_review"], "first_review", 0, 2**40)
    lost_sales = _checks.check_bool(kw["lost_sales"], "lost_sales")
    policy = kw["policy"]
    if (T == 0 or T > Sim.MAX_SIM_DAYS or first_review >= T or policy not in ("RS", "sS")
            or (policy == "sS" and kw["s"] is None)):
        fail()
    n_reviews = len(range(first_review, T, review_period))

    def targets(x, name):
        v = c.int64(x, name)
        shp = _shape(v)
        if len(shp) == 0:
            v = v.reshape(1, 1)
        elif len(shp) == 1:
            if shp[0] != n:
                fail()
            v = v.reshape(n, 1)
        elif len(shp) != 2 or shp[0] != n or shp[1] not in (1, n_reviews):
            fail()
        return c.be.broadcast_contiguous(v, (n, _shape(v)[1]))

    S_arr = targets(kw["S"], "S")
    s_arr = None
    if policy == "sS":
        s_arr = targets(kw["s"], "s")
        if _shape(s_arr)[1] != _shape(S_arr)[1]:
            S_arr = c.be.broadcast_contiguous(S_arr, (n, n_reviews))
            s_arr = c.be.broadcast_contiguous(s_arr, (n, n_reviews))

    def rows(x, name, integer=True):
        if len(_shape(x)) > 1 or (len(_shape(x)) == 1 and _shape(x)[0] != n):
            fail()
        v = c.int64(x, name) if integer else _f64(c, x, name)
        return c.be.broadcast_contiguous(v, (n,))

    L = rows(kw["lead_time"], "lead_time")
    oh = rows(S_arr[:, 0] if kw["initial_on_hand"] is None else kw["initial_on_hand"], "initial_on_hand")
    moq, cp = rows(kw["moq"], "moq"), rows(kw["case_pack"], "case_pack")
    mo = rows(0 if kw["max_order"] is None else kw["max_order"], "max_order")
    beta = rows(kw["smoothing"], "smoothing", integer=False)
    big = Sim.MAX_UNITS
    bad = (_any(S_arr < 0) or _any(L < 0) or _any(oh < 0) or _any(cp <= 0) or _any(moq < 0)
           or _any(~((beta > 0) & (beta <= 1))) or _any(S_arr > big) or _any(oh > big) or _any(cp > big)
           or _any(moq > big) or _any(mo > big))
    if kw["max_order"] is not None:
        cp1 = cp * (cp > 0) + (cp <= 0)
        m1 = moq * (moq > 0) + (moq <= 0)
        bad = bad or _any(mo <= 0) or _any(moq > mo) or _any(mo // cp1 * cp < m1)
    if s_arr is not None:
        bad = bad or _any(s_arr > S_arr) or _any(s_arr < -big)
    max_lead = int(L.max().item()) if n else 0
    oo, oo_cols = None, 0
    if kw["on_order"] is not None:
        o = c.int64(kw["on_order"], "on_order")
        shp = _shape(o)
        L1 = L * (L > 1) + (L <= 1)  # max(L, 1)
        if len(shp) == 1 and shp[0] == n:
            bad = bad or _any(o < 0)
            K = max(1, max_lead)
            oo = c.be.broadcast_contiguous(c.be.asarray(np.zeros((1, K), np.int64)), (n, K))
            col = (L - 1) * (L > 0)  # max(L - 1, 0)
            oo[c.be.asarray(np.arange(n)), col] = o
        elif len(shp) == 2 and shp[0] == n:
            oo = c.be.contiguous(o)
            bad = bad or _any(oo < 0)
            if shp[1] > 0:
                days = c.be.asarray(np.arange(shp[1], dtype=np.int64)).reshape(1, shp[1])
                bad = bad or _any((oo > 0) & (days >= L1.reshape(n, 1)))
        else:
            fail()
        oo_cols = _shape(oo)[1]
        if oo_cols:
            bad = bad or _any(oo > big) or _any(oo.sum(axis=1) > big)
    fvals = {k: rows(kw[k], k, integer=False) for k in ("unit_cost", "holding_cost_rate", "order_cost",
                                                        "stockout_cost")}
    price = None if kw["price"] is None else rows(kw["price"], "price", integer=False)
    if bad or any(_any(~_finite_ge0(v)) for v in fvals.values()) or (price is not None and _any(~_finite_ge0(price))):
        fail()
    args = (n_reviews, review_period, first_review, 0 if policy == "RS" else 1, lost_sales)

    def run(d, S_, s_, L_, oh_, oo_, moq_, cp_, mo_, beta_, trace):
        k = _shape(d)[0]
        out_i, out_f = c.be.empty((k, 9), _I64), c.be.empty((k, 3), _F64)
        tr = c.be.empty((k, 7, T), _I64) if trace else None
        first = c.mod.inv_simulate(k, T, _ptr(d), _dtype(d) == _I32, _ptr(S_), 0 if s_ is None else _ptr(s_),
                                   _shape(S_)[1], *args, _ptr(L_), _ptr(oh_), 0 if oo_ is None else _ptr(oo_),
                                   oo_cols, _ptr(moq_), _ptr(cp_), _ptr(mo_), _ptr(beta_), _ptr(out_i), _ptr(out_f),
                                   0 if tr is None else _ptr(tr), max_lead, c.stream())
        return out_i, out_f, tr, first

    out_i, out_f, _, first = run(dem, S_arr, s_arr, L, oh, oo, moq, cp, mo, beta, False)
    if first >= 0:
        fail()
    trace = rows_idx = None
    if kw["trace_rows"] is not None:
        rows_idx = c.int64(kw["trace_rows"], "trace_rows").reshape(-1)
        if _any((rows_idx < 0) | (rows_idx >= n)):
            fail()
        sub = lambda a: None if a is None else c.be.contiguous(a[rows_idx])  # noqa: E731
        _, _, tr, _ = run(c.be.contiguous(c.be.astype(sub(dem), _I64)), sub(S_arr), sub(s_arr), sub(L), sub(oh),
                          sub(oo), sub(moq), sub(cp), sub(mo), sub(beta), True)
        trace = {name: tr[:, j, :] for j, name in enumerate(Sim._TRACE_COLS)}
    return Sim._result(c.be, out_i, out_f, T, fvals["unit_cost"], fvals["holding_cost_rate"], fvals["order_cost"],
                       fvals["stockout_cost"], price, trace, rows_idx)
