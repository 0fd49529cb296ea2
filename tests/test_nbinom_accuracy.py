"""Accuracy of skucast.nbinom logpmf/pmf/cdf/sf against scipy (moderate grid) and mpmath (extremes)."""
import mpmath as mp
import numpy as np
import pytest
from scipy import stats

import skucast
from nb_reference import mp_cdf_sf, mp_logpmf, scipy_cdf_sf, scipy_nbinom

nb = skucast.nbinom

# Accuracy goal of the API contract (float64): relative 1e-12.  For logpmf, whose value can be
# near 0, the bound is |err| <= 1e-12 * max(1, |ref|).
RTOL = 1e-12
# Below this, cdf/sf/pmf values are (near-)subnormal and carry no relative precision in float64:
# only check that the result is tiny as well.
TINY = 1e-300
# Reference error budget: scipy is used as a reference only where it is itself accurate to
# 1e-13 (a tenth of the tolerance), judged against mpmath for logpmf.
SCIPY_OK = 1e-13


def _check_logpmf(got, ref, what):
    got, ref = np.asarray(got, float), np.asarray(ref, float)
    tol = RTOL * np.maximum(1.0, np.abs(ref))
    err = np.abs(got - ref)
    bad = ~(err <= tol)
    assert not bad.any(), f"{what}: {bad.sum()} of {bad.size} out of tolerance; worst {_worst(err / tol, bad)}"


def _check_rel(got, ref, what, context=None, rtol=None):
    rtol = RTOL if rtol is None else rtol
    got, ref = np.asarray(got, float), np.asarray(ref, float)
    normal = ref >= TINY
    rel = np.where(normal, np.abs(got - ref) / np.where(normal, ref, 1.0), 0.0)
    bad = normal & ~(rel <= rtol)
    bad |= ~normal & ~(np.abs(got) <= 1e-290)  # reference below 1e-300: result must be tiny too
    if bad.any():
        i = np.flatnonzero(bad.ravel())[0]
        where = "" if context is None else f" at (y, mu, alpha)={tuple(c.ravel()[i] for c in context)}"
        raise AssertionError(
            f"{what}: {bad.sum()} of {bad.size} out of tolerance; first{where}: "
            f"got {got.ravel()[i]!r}, expected {ref.ravel()[i]!r} (rel err {rel.ravel()[i]:.3g})")


def _worst(ratio, bad):
    i = np.argmax(np.where(bad, ratio, -1))
    return f"flat index {i}, err/tol = {ratio.ravel()[i]:.3g}"


# ----------------------------------------------------------------------------------------------
# Moderate grid: alpha in [1e-3, 1e2], mu in [1e-3, 1e4], y up to 1e4 (both fixed counts and
# points in the bulk and tails of each distribution).

def _moderate_grid():
    pts = []
    for alpha in np.logspace(-3, 2, 6):
        for mu in np.logspace(-3, 4, 8):
            sd = np.sqrt(mu + alpha * mu * mu)
            ys = {0, 1, 2, 5, 10, 30, 100, 300, 1000, 3000, 10000}
            ys |= {max(0.0, np.floor(mu + k * sd)) for k in (-3, -1, 0, 1, 3, 6)}
            pts.extend((y, mu, alpha) for y in sorted(ys) if y <= 1e4)
    y, mu, alpha = np.array(pts).T
    return y, mu, alpha


@pytest.fixture(scope="module")
def moderate():
    y, mu, alpha = _moderate_grid()
    with mp.workdps(40):
        ref_logpmf = np.array([float(mp_logpmf(*p)) for p in zip(y, mu, alpha)])
    return y, mu, alpha, ref_logpmf


def test_logpmf_moderate_grid_vs_mpmath(moderate):
    y, mu, alpha, ref = moderate
    _check_logpmf(nb.logpmf(y.astype(np.int64), mu, alpha), ref, "logpmf vs mpmath")


def test_logpmf_pmf_moderate_grid_vs_scipy(moderate):
    y, mu, alpha, ref = moderate
    dist = scipy_nbinom(mu, alpha)
    sp_log = dist.logpmf(y)
    # scipy's logpmf cancels gammaln terms of size ~(n+y)log(n+y) and takes log1p(-p) from the
    # rounded p: keep only points where it agrees with mpmath to 1e-13 (most of the grid).
    ok = np.abs(sp_log - ref) <= SCIPY_OK * np.maximum(1.0, np.abs(ref))
    assert ok.mean() > 0.7
    _check_logpmf(nb.logpmf(y[ok], mu[ok], alpha[ok]), sp_log[ok], "logpmf vs scipy")
    # pmf: relative error of scipy's pmf ~ absolute error of its logpmf.
    okp = np.abs(sp_log - ref) <= SCIPY_OK
    _check_rel(nb.pmf(y[okp], mu[okp], alpha[okp]), dist.pmf(y)[okp], "pmf vs scipy",
               (y[okp], mu[okp], alpha[okp]))


def test_pmf_moderate_grid_vs_mpmath(moderate):
    y, mu, alpha, ref = moderate
    with mp.workdps(40):
        ref_pmf = np.array([float(mp.exp(mp_logpmf(*p))) for p in zip(y, mu, alpha)])
    _check_rel(nb.pmf(y, mu, alpha), ref_pmf, "pmf vs mpmath", (y, mu, alpha))


def test_cdf_sf_moderate_grid_vs_scipy(moderate):
    y, mu, alpha, _ = moderate
    cdf_ref, sf_ref = scipy_cdf_sf(y, mu, alpha)
    # scipy's incomplete beta (boost) was checked against nb_reference.mp_cdf_sf on this grid:
    # max relative error 4e-13 for values >= 1e-200, but 3e-10 near 1e-297, so the
    # comparison is restricted to reference values >= 1e-200 (the mpmath tests cover the rest).
    for name, got, ref in (("cdf", nb.cdf(y, mu, alpha), cdf_ref), ("sf", nb.sf(y, mu, alpha), sf_ref)):
        keep = ref >= 1e-200
        _check_rel(got[keep], ref[keep], f"{name} vs scipy.special.betainc",
                   (y[keep], mu[keep], alpha[keep]))
    # scipy.stats.nbinom itself, where p = 1/(1+alpha mu) <= 1/2 so that it forms 1-p exactly.
    p = 1 / (1 + alpha * mu)
    keep = p <= 0.5
    dist = scipy_nbinom(mu[keep], alpha[keep])
    for name, got, ref in (("cdf", nb.cdf(y[keep], mu[keep], alpha[keep]), dist.cdf(y[keep])),
                           ("sf", nb.sf(y[keep], mu[keep], alpha[keep]), dist.sf(y[keep]))):
        k2 = ref >= 1e-200
        _check_rel(got[k2], ref[k2], f"{name} vs scipy.stats.nbinom",
                   (y[keep][k2], mu[keep][k2], alpha[keep][k2]))


def test_poisson_moderate_grid_vs_scipy():
    pts = []
    for mu in np.logspace(-3, 4, 8):
        ys = {0, 1, 2, 5, 10, 30, 100, 300, 1000, 3000, 10000}
        ys |= {max(0.0, np.floor(mu + k * np.sqrt(mu))) for k in (-3, -1, 0, 1, 3, 6)}
        pts.extend((y, mu) for y in sorted(ys))
    y, mu = np.array(pts).T
    zero = np.zeros_like(mu)
    with mp.workdps(40):
        ref = np.array([float(mp_logpmf(a, b, 0.0)) for a, b in zip(y, mu)])
    dist = stats.poisson(mu)
    sp_log = dist.logpmf(y)
    _check_logpmf(nb.logpmf(y, mu, zero), ref, "poisson logpmf vs mpmath")
    ok = np.abs(sp_log - ref) <= SCIPY_OK * np.maximum(1.0, np.abs(ref))
    assert ok.mean() > 0.7
    _check_logpmf(nb.logpmf(y[ok], mu[ok], 0.0), sp_log[ok], "poisson logpmf vs scipy")
    okp = np.abs(sp_log - ref) <= SCIPY_OK
    _check_rel(nb.pmf(y[okp], mu[okp], 0.0), dist.pmf(y)[okp], "poisson pmf vs scipy",
               (y[okp], mu[okp], zero[okp]))
    # scipy's pdtr/pdtrc (boost gamma_q/gamma_p) measured at <= 4e-13 here for values >= 1e-200.
    for name, got, sp in (("cdf", nb.cdf(y, mu, 0.0), dist.cdf(y)), ("sf", nb.sf(y, mu, 0.0), dist.sf(y))):
        keep = sp >= 1e-200
        _check_rel(got[keep], sp[keep], f"poisson {name} vs scipy", (y[keep], mu[keep], zero[keep]))


# ----------------------------------------------------------------------------------------------
# Extreme points vs mpmath: y up to 1e9, mu in [1e-12, 1e9], alpha in {0} u [1e-12, 1e6].

_ALPHAS = [0.0, 1e-12, 1e-9, 1e-6, 1e-3, 1.0, 1e3, 1e6]
_MUS = [1e-12, 1e-8, 1e-4, 0.5, 1e2, 1e5, 1e7, 1e9]


def _extreme_points():
    pts = []
    for alpha in _ALPHAS:
        for mu in _MUS:
            sd = np.sqrt(mu + alpha * mu * mu)
            ys = {0.0, 1.0, 7.0, np.floor(mu), np.floor(mu + 5 * sd), max(0.0, np.floor(mu - 5 * sd)), 1e9}
            pts.extend((y, mu, alpha) for y in sorted(ys) if y <= 1e9)
    return np.array(pts)


_EXTREME = _extreme_points()


def _cdf_sf_subset():
    """~130 extreme points (two per (mu, alpha) pair, deterministic) plus 40 moderate-grid points."""
    rng = np.random.default_rng(20240607)
    chosen = []
    for alpha in _ALPHAS:
        for mu in _MUS:
            rows = np.flatnonzero((_EXTREME[:, 1] == mu) & (_EXTREME[:, 2] == alpha))
            chosen.extend(_EXTREME[rng.choice(rows, size=min(2, rows.size), replace=False)])
    y, mu, alpha = _moderate_grid()
    mod = np.c_[y, mu, alpha]
    chosen.extend(mod[rng.choice(len(mod), size=40, replace=False)])
    # hand-picked hard cases: bulk of huge-mean / tiny-alpha laws and heavy tails
    chosen.extend([(1e9, 1e9, 1e-12), (1e9 + 1e5, 1e9, 1e-12), (1e9 - 2e5, 1e9, 1e-12),
                   (1e9 + 2e5, 1e9, 0.0), (1e9 - 1e5, 1e9, 0.0), (1e9, 1e9, 1.0),
                   (7.0, 1e9, 1e6), (1e9, 1e3, 1e6), (5.0, 1.0, 1e-12), (0.0, 1e-12, 1e-12)])
    return np.array(chosen)


@pytest.fixture(scope="module")
def extreme_cdf_sf():
    pts = _cdf_sf_subset()
    with mp.workdps(60):
        ref = [mp_cdf_sf(*p) for p in pts]
    cdf = np.array([float(c) for c, _ in ref])
    sf = np.array([float(s) for _, s in ref])
    return pts, cdf, sf


def test_logpmf_extremes_vs_mpmath():
    y, mu, alpha = _EXTREME.T
    with mp.workdps(40):
        ref = np.array([float(mp_logpmf(*p)) for p in _EXTREME])
    got = nb.logpmf(y.astype(np.int64), mu, alpha)
    _check_logpmf(got, ref, "logpmf extremes vs mpmath")


def test_pmf_extremes_vs_mpmath():
    y, mu, alpha = _EXTREME.T
    with mp.workdps(40):
        ref = np.array([float(mp.exp(mp_logpmf(*p))) for p in _EXTREME])
    _check_rel(nb.pmf(y, mu, alpha), ref, "pmf extremes vs mpmath", (y, mu, alpha))


@pytest.mark.parametrize("which", ["cdf", "sf"])
def test_tails_extremes_vs_mpmath(extreme_cdf_sf, which):
    pts, cdf, sf = extreme_cdf_sf
    ref = cdf if which == "cdf" else sf
    y, mu, alpha = pts.T
    _check_rel(getattr(nb, which)(y.astype(np.int64), mu, alpha), ref, f"{which} vs mpmath", (y, mu, alpha))


def _large_parameter_points():
    """Laws with alpha < 1 and large means, from 3 sd below to 6 sd above the mean. Here Numerical
    Recipes' fraction lost up to 4e-8 relative (sf, q -> 1) and summing pmfs down from y lost
    2e-12 (cdf, alpha < 1e-3); the fraction contracted around lambda holds 1e-12."""
    pts = [(3.84605e8, 1e8, 0.9), (6.6921e8, 1e8, 0.9), (1.3e8, 1e8, 0.01), (1.01e7, 1e7, 1e-4),
           (1e9 - 3e4, 1e9, 1e-12), (1e9 - 1e5, 1e9, 1e-9)]
    for alpha in (1e-6, 1e-4, 1e-2, 0.5, 0.9):
        for mu in (1e5, 1e7, 1e9):
            sd = np.sqrt(mu + alpha * mu * mu)
            pts.extend((np.floor(mu + k * sd), mu, alpha) for k in (-3, -1, 0, 1, 3, 6)
                       if 0 <= np.floor(mu + k * sd) <= 1e9)
    return np.array(pts)


def _check_cdf_sf_vs_mpmath(pts, what, dps):
    with mp.workdps(dps):
        ref = [mp_cdf_sf(*p) for p in pts]
    y, mu, alpha = pts.T
    for which, k in (("cdf", 0), ("sf", 1)):
        want = np.array([float(r[k]) for r in ref])
        _check_rel(getattr(nb, which)(y.astype(np.int64), mu, alpha), want, f"{what} {which} vs mpmath",
                   (y, mu, alpha))


def test_large_parameter_tails_vs_mpmath():
    _check_cdf_sf_vs_mpmath(_large_parameter_points(), "large-parameter", 40)


@pytest.mark.parametrize("mu", [1e3, 1e6, 1e9])
def test_geometric_closed_form(mu):
    # alpha == 1 is geometric: sf(k) = (mu / (1 + mu))**(k + 1) exactly.
    k = np.unique(np.floor(np.array([0.1, 0.5, 1, 2, 3, 10, 30]) * mu))
    k = k[k <= 1e9]
    with mp.workdps(40):
        r = mp.mpf(mu) / (1 + mp.mpf(mu))
        sf = np.array([float(r ** (int(v) + 1)) for v in k])
        cdf = np.array([float(1 - r ** (int(v) + 1)) for v in k])
    ctx = (k, np.full_like(k, mu), np.ones_like(k))
    _check_rel(nb.sf(k, mu, 1.0), sf, "geometric sf", ctx)
    _check_rel(nb.cdf(k, mu, 1.0), cdf, "geometric cdf", ctx)


def test_results_finite_on_extremes():
    y, mu, alpha = _EXTREME.T
    for f in (nb.pmf, nb.cdf, nb.sf, nb.logpmf):
        out = f(y, mu, alpha)
        assert np.isfinite(out).all(), f.__name__
    assert ((nb.pmf(y, mu, alpha) >= 0) & (nb.cdf(y, mu, alpha) <= 1)).all()


def test_poisson_extremes_vs_scipy_poisson():
    # alpha == 0 must be Poisson; scipy.stats.poisson as a second reference where it is accurate
    # (pmf/logpmf with small y*log(mu) cancellation: y <= 100).
    mu = np.array([1e-12, 1e-8, 1e-4, 0.5, 3.0, 20.0])
    y = np.arange(0, 101)[:, None]
    got = nb.logpmf(y, mu, 0.0)
    ref = stats.poisson(mu).logpmf(y)
    _check_logpmf(got, ref, "poisson logpmf vs scipy")


# ----------------------------------------------------------------------------------------------
# dtypes and conventions

def test_float32_result_is_rounded_float64(rng):
    mu32 = (10 ** rng.uniform(-3, 4, 400)).astype(np.float32)
    alpha32 = (10 ** rng.uniform(-4, 2, 400)).astype(np.float32)
    alpha32[::7] = 0
    y = rng.integers(0, 3 * mu32.astype(np.int64) + 5)
    for f in (nb.logpmf, nb.pmf, nb.cdf, nb.sf):
        got = f(y, mu32, alpha32)
        assert got.dtype == np.float32, f.__name__
        want = f(y, mu32.astype(np.float64), alpha32.astype(np.float64)).astype(np.float32)
        np.testing.assert_array_equal(got, want, err_msg=f.__name__)


@pytest.mark.parametrize("mu_dt,alpha_dt,out_dt", [
    (np.float32, np.float32, np.float32),
    (np.float32, np.float64, np.float64),
    (np.float64, np.float32, np.float64),
    (np.float64, np.float64, np.float64),
])
def test_result_dtype(mu_dt, alpha_dt, out_dt):
    y = np.array([0, 1, 5], dtype=np.int32)
    for f in (nb.logpmf, nb.pmf, nb.cdf, nb.sf):
        out = f(y, np.array([2.0, 2.0, 2.0], mu_dt), np.array([0.5], alpha_dt))
        assert out.dtype == out_dt and out.shape == (3,)


@pytest.mark.parametrize("ydt", [np.int8, np.uint8, np.int16, np.uint16, np.int32, np.uint32,
                                 np.int64, np.uint64, np.float32, np.float64])
def test_count_dtypes_agree(ydt):
    y = np.array([0, 1, 2, 7, 100, 127], dtype=ydt)
    y64 = y.astype(np.int64)
    for f in (nb.logpmf, nb.pmf, nb.cdf, nb.sf):
        np.testing.assert_array_equal(f(y, 3.5, 0.25), f(y64, 3.5, 0.25), err_msg=f.__name__)


def test_scalar_inputs_return_numpy_scalars():
    for f in (nb.logpmf, nb.pmf, nb.cdf, nb.sf):
        r = f(3, 2.0, 0.5)
        assert isinstance(r, np.float64) and not isinstance(r, np.ndarray), f.__name__
        r32 = f(3, np.float32(2.0), np.float32(0.5))
        assert isinstance(r32, np.float32), f.__name__
    assert isinstance(nb.ppf(0.5, 2.0, 0.5), np.int64)
    assert isinstance(nb.pmf([3], 2.0, 0.5), np.ndarray)


def test_exact_small_values():
    # NB(mu=2, alpha=0.5): n=2, p=1/2, pmf(k) = (k+1) / 2**(k+2); exactly representable.
    k = np.arange(0, 40)
    want = (k + 1) / 2.0 ** (k + 2)
    np.testing.assert_allclose(nb.pmf(k, 2.0, 0.5), want, rtol=RTOL, atol=0)
    # cdf(k) = 1 - (k+3)/2**(k+2)
    np.testing.assert_allclose(nb.sf(k, 2.0, 0.5), (k + 3) / 2.0 ** (k + 2), rtol=RTOL, atol=0)
    assert nb.pmf(0, 2.0, 0.5) == 0.25


def _heavy_tail_points():
    """alpha >= 1 with the mass near 0 and the mean far above: y from 65 to past the point where
    the fractions switch tails (~ mu (1 + alpha)), where sf used to be 1 - cdf (up to 2.6e-8
    relative error at alpha = 1e6) or a fraction of ~1e5 steps."""
    pts = []
    for alpha in (1.0, 10.0, 1e3, 1e6):
        for am in (1.0, 1e3, 1e7):
            mu = am / alpha
            switch = mu * (1 + alpha)
            for y in sorted({65.0, 300.0} | {max(65.0, np.floor(f * switch)) for f in (0.1, 0.9, 1.05, 5.0)}):
                if y <= 1e9:
                    pts.append((y, mu, alpha))
    return np.array(pts)


def test_heavy_tails_vs_mpmath():
    _check_cdf_sf_vs_mpmath(_heavy_tail_points(), "heavy-tail", 60)
