"""High-precision (mpmath) and well-conditioned scipy references for the NB(mu, alpha) distribution."""
import mpmath as mp
import numpy as np
from scipy import special, stats

# Integrand values below exp(-_DROP) times the peak are neglected: relative contribution < 1e-60.
_DROP = 150


def _concave_integral(g, g1, g2, lo, hi, peak):
    """Return (gm, v) with int_lo^hi exp(g(s)) ds == exp(gm) * v, for a concave g.

    The interval is split at the peak and at geometrically growing distances from it
    (in units of the local width) until the integrand has dropped by exp(-_DROP); each piece is
    smooth and is integrated with mpmath's tanh-sinh quadrature.  Concavity guarantees that the
    neglected tails are below exp(-_DROP) relative.
    """
    m = hi if (peak is None or peak > hi) else peak
    m = lo if m < lo else m
    gm = g(m)
    curv = -g2(m)
    w = 1 / mp.sqrt(curv) if curv > 0 else mp.inf
    slope = abs(g1(m))
    if (m == lo or m == hi) and slope > 0:
        w = min(w, 1 / slope)
    pts = [m]
    for direction, bound in ((-1, lo), (1, hi)):
        if (direction < 0 and m <= lo) or (direction > 0 and m >= hi):
            continue
        step = w
        for _ in range(600):
            s = m + direction * step
            if (direction < 0 and s <= lo) or (direction > 0 and s >= hi):
                pts.append(bound)
                break
            pts.append(s)
            if g(s) < gm - _DROP:
                break
            step *= 2
    pts = sorted(set(pts))
    f = lambda s: mp.exp(g(s) - gm)  # noqa: E731
    total = mp.mpf(0)
    for a, b in zip(pts[:-1], pts[1:]):
        total += mp.quad(f, [a, b])
    return gm, total


def mp_logpmf(y, mu, alpha):
    """log pmf of NB(mu, alpha) (Poisson for alpha == 0) at the exact binary values of the inputs."""
    y, mu, alpha = mp.mpf(float(y)), mp.mpf(float(mu)), mp.mpf(float(alpha))
    if alpha == 0:
        return y * mp.log(mu) - mu - mp.loggamma(y + 1)
    n = 1 / alpha
    am = alpha * mu
    l1p = mp.log1p(am)
    return (mp.loggamma(y + n) - mp.loggamma(n) - mp.loggamma(y + 1)
            - n * l1p + y * (mp.log(am) - l1p))


def mp_cdf_sf(y, mu, alpha):
    """(cdf, sf) of NB(mu, alpha) at integer y as mpf, to well beyond 30 significant digits.

    NB:      cdf = I_p(n, y+1) = int_{-inf}^{log p} e^{g(s)} ds / B(n, y+1),
             sf  = int_{log p}^{0} e^{g(s)} ds / B(n, y+1),   g(s) = n s + y log(1 - e^s)  (t = e^s).
    Poisson: cdf = Q(y+1, mu) = int_{log mu}^{inf} e^{g(s)} ds / y!,
             sf  = P(y+1, mu) = int_{-inf}^{log mu} e^{g(s)} ds / y!,   g(s) = (y+1) s - e^s.
    g is concave in both cases, so the side of the cut that holds the peak has mass >= 1/e: we
    integrate the other side and take the complement, which keeps full relative accuracy for both.
    (mpmath.betainc is not used: it cancels catastrophically for upper tails and does not converge
    for large parameters.)  Call inside mp.workdps(>= 60): g reaches ~1e14 for n = 1e12.
    """
    y, mu, alpha = mp.mpf(float(y)), mp.mpf(float(mu)), mp.mpf(float(alpha))
    if alpha == 0:
        a = y + 1
        g = lambda s: a * s - mp.exp(s)  # noqa: E731
        g1 = lambda s: a - mp.exp(s)  # noqa: E731
        g2 = lambda s: -mp.exp(s)  # noqa: E731
        peak, cut, lognorm = mp.log(a), mp.log(mu), mp.loggamma(a)
        if peak >= cut:  # peak on the cdf side: integrate the sf side
            gm, v = _concave_integral(g, g1, g2, -mp.inf, cut, peak)
            sf = mp.exp(gm - lognorm) * v
            return 1 - sf, sf
        gm, v = _concave_integral(g, g1, g2, cut, mp.inf, peak)
        cdf = mp.exp(gm - lognorm) * v
        return cdf, 1 - cdf
    n = 1 / alpha
    l1p = mp.log1p(alpha * mu)
    if y == 0:
        return mp.exp(-n * l1p), -mp.expm1(-n * l1p)
    g = lambda s: n * s + y * mp.log(-mp.expm1(s))  # noqa: E731
    g1 = lambda s: n - y * mp.exp(s) / (-mp.expm1(s))  # noqa: E731
    g2 = lambda s: -y * mp.exp(s) / mp.expm1(s) ** 2  # noqa: E731
    peak, cut = mp.log(n / (n + y)), -l1p
    lognorm = mp.loggamma(n) + mp.loggamma(y + 1) - mp.loggamma(n + y + 1)
    if peak >= cut:  # peak on the sf side: integrate the cdf side
        gm, v = _concave_integral(g, g1, g2, -mp.inf, cut, peak)
        cdf = mp.exp(gm - lognorm) * v
        return cdf, 1 - cdf
    gm, v = _concave_integral(g, g1, g2, cut, mp.mpf(0), peak)
    sf = mp.exp(gm - lognorm) * v
    return 1 - sf, sf


def scipy_nbinom(mu, alpha):
    """The scipy.stats frozen distribution named in the API contract (alpha > 0)."""
    mu, alpha = np.asarray(mu, float), np.asarray(alpha, float)
    return stats.nbinom(n=1 / alpha, p=1 / (1 + alpha * mu))


def scipy_cdf_sf(y, mu, alpha):
    """NB cdf and sf from scipy's regularized incomplete beta, passing whichever of
    p = 1/(1+alpha mu) and q = alpha mu/(1+alpha mu) is <= 1/2 (both are computed directly, to
    ~1 ulp).  scipy.stats.nbinom only receives p and forms 1-p internally, which loses
    log10(1/q) digits when alpha*mu is small; this form does not.
    cdf = I_p(n, y+1) = 1 - I_q(y+1, n); sf = I_q(y+1, n) = 1 - I_p(n, y+1).
    """
    y, mu, alpha = np.broadcast_arrays(*(np.asarray(v, float) for v in (y, mu, alpha)))
    n = 1 / alpha
    am = alpha * mu
    p = 1 / (1 + am)
    q = am / (1 + am)
    small_p = p <= 0.5
    cdf = np.where(small_p, special.betainc(n, y + 1, p), special.betaincc(y + 1, n, q))
    sf = np.where(small_p, special.betaincc(n, y + 1, p), special.betainc(y + 1, n, q))
    return cdf, sf


def nb_cumulants(mu, alpha):
    """First four cumulants of NB(mu, alpha) (gamma-Poisson mixture)."""
    k1 = mu
    k2 = mu + alpha * mu**2
    k3 = mu + 3 * alpha * mu**2 + 2 * alpha**2 * mu**3
    k4 = mu + 7 * alpha * mu**2 + 12 * alpha**2 * mu**3 + 6 * alpha**3 * mu**4
    return k1, k2, k3, k4
