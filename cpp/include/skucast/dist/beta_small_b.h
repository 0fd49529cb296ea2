// The regularized incomplete beta I_x(a, b) for a large (>= 65) and 0 < b <= 1, by the
// asymptotic expansion of Didonato & Morris (ACM TOMS 708, 1992, "BGRAT"), with the incomplete
// gamma ratio of their "GRAT1" at its start. In skucast it is the NB upper tail of heavy-tailed
// laws: sf(y) = I_q(y + 1, 1/alpha) with alpha >= 1, where the mass sits near 0 and the mean far
// above it. There the continued fractions computed sf as 1 - cdf (losing up to 1e-8 relative of a
// tail of 1e-7) or needed ~1e5 steps; this expansion keeps ~1e-14 relative (tests/ against mpmath).
#pragma once
#include "skucast/core/hostdevice.h"
#include "skucast/dist/special.h"

namespace skucast {
namespace nb {

// log Gamma(1 + b) for 0 <= b <= 1, with full relative accuracy as b -> 0 (where lgamma(1 + b)
// would round b away): -gamma b + sum_k (-b)^k zeta(k) / k below 0.2, lgamma above.
SKUCAST_HD double log_gamma_1p(double b) {
  if (b >= 0.2) return lgamma(1.0 + b);
  // zeta(2) .. zeta(25); the 25th term is below 1e-17 of the first for b < 0.2
  constexpr double zeta[24] = {1.6449340668482264, 1.2020569031595943, 1.0823232337111382, 1.0369277551433699,
                               1.0173430619844491, 1.0083492773819228, 1.0040773561979443, 1.0020083928260822,
                               1.0009945751278181, 1.0004941886041195, 1.0002460865533080, 1.0001227133475785,
                               1.0000612481350587, 1.0000305882363070, 1.0000152822594087, 1.0000076371976379,
                               1.0000038172932650, 1.0000019082127166, 1.0000009539620339, 1.0000004769329868,
                               1.0000002384505027, 1.0000001192199260, 1.0000000596081891, 1.0000000298035035};
  double sum = 0.0, power = -b;  // (-b)^(k-1) before the k-th term
  for (int k = 2; k <= 25; ++k) {
    power *= -b;
    sum += zeta[k - 2] * power / k;
  }
  return -0.57721566490153286061 * b + sum;
}

// Q(b, z) / R with R = z^b e^-z / Gamma(b), the upper incomplete gamma ratio for 0 < b <= 1
// (GRAT1: a Taylor series of P(b, z) / z^b below z = 1.1, a continued fraction above).
// log_r = log R.
SKUCAST_HD double gamma_q_over_r(double b, double z, double log_r) {
  if (z < 1.1) {
    double an = 3.0, c = z, sum = z / (b + 3.0);
    const double tol = 1e-17 / (b + 1.0);
    for (int i = 0; i < 200; ++i) {
      an += 1.0;
      c = -c * (z / an);
      const double t = c / (b + an);
      sum += t;
      if (fabs(t) <= tol) break;
    }
    const double j = b * z * ((sum / 6.0 - 0.5 / (b + 2.0)) * z + 1.0 / (b + 1.0));
    const double b_log_z = b * log(z);
    const double h = expm1(-log_gamma_1p(b));  // 1 / Gamma(1 + b) - 1
    const double g = 1.0 + h;
    double q;
    if ((z >= 0.25 && b < z / 2.59) || (z < 0.25 && b_log_z > -0.13394)) {
      const double l = expm1(b_log_z);  // z^b - 1, without cancellation
      q = ((1.0 + l) * j - l) * g - h;
    } else {
      q = 1.0 - exp(b_log_z) * g * (1.0 - j);
    }
    return q / exp(log_r);
  }
  double a2nm1 = 1.0, a2n = 1.0, b2nm1 = z, b2n = z + (1.0 - b), c = 1.0, an0 = a2n / b2n;
  for (int i = 0; i < 100000; ++i) {
    a2nm1 = z * a2n + c * a2nm1;
    b2nm1 = z * b2n + c * b2nm1;
    const double am0 = a2nm1 / b2nm1;
    c += 1.0;
    const double cma = c - b;
    a2n = a2nm1 + cma * a2n;
    b2n = b2nm1 + cma * b2n;
    an0 = a2n / b2n;
    if (fabs(an0 - am0) < 1e-16 * an0) break;
  }
  return an0;
}

// log I_x(a, b) for a >= 65, 0 < b <= 1, given log x (x near 1: log x = -log1p((1 - x) / x)).
// (not inlined: one device copy with its two 30-entry coefficient arrays, not one per call site)
SKUCAST_HD_NOINLINE double log_beta_large_a_small_b(double a, double b, double log_x) {
  const double bm1 = b - 1.0;
  const double nu = a + 0.5 * bm1;
  const double z = -nu * log_x;
  const double log_r = b * log(z) - z - (log_gamma_1p(b) - log(b));
  const double j0 = gamma_q_over_r(b, z, log_r);
  // u = log Gamma(a) - log Gamma(a + b) + b log nu by Stirling's series, in terms that stay
  // accurate as b -> 0 (each ~b; the result ~b / a)
  const double u = b * log1p(0.5 * bm1 / a) - (a + b - 0.5) * log1p(b / a) + b + (stirlerr(a) - stirlerr(a + b));
  const double v = 0.25 / (nu * nu), t2 = 0.25 * log_x * log_x;
  double c[31], d[31];  // 1-based, as in the recurrence
  double j = j0, sum = j0, t = 1.0, cn = 1.0, n2 = 0.0;
  for (int n = 1; n <= 30; ++n) {
    const double bp2n = b + n2;
    j = (bp2n * (bp2n + 1.0) * j + (z + bp2n + 1.0) * t) * v;
    n2 += 2.0;
    t *= t2;
    cn /= n2 * (n2 + 1.0);
    c[n] = cn;
    double s = 0.0, coef = b - n;
    for (int i = 1; i < n; ++i) {
      s += coef * c[i] * d[n - i];
      coef += b;
    }
    d[n] = bm1 * cn + s / n;
    const double dj = d[n] * j;
    sum += dj;
    if (fabs(dj) <= 1e-16 * sum) break;
  }
  return log_r - u + log(sum);
}

}  // namespace nb
}  // namespace skucast
