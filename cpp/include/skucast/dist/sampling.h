// Exact gamma-Poisson sampling of NB(mu, alpha) from a UniformStream: Marsaglia-Tsang gamma,
// inversion Poisson for small means and Hormann's PTRS rejection for large ones.
#pragma once
#include "skucast/dist/negbin.h"
#include "skucast/dist/philox.h"

namespace skucast {
namespace sampling {

constexpr double kTwoPi = 6.283185307179586476925286766559;
constexpr int kMaxRejections = 1000;  // acceptance is > 0.9 per try: never reached in practice

SKUCAST_HD double standard_normal(UniformStream& rng) {
  const double u1 = rng.next(), u2 = rng.next();
  return sqrt(-2.0 * log(u1)) * cos(kTwoPi * u2);
}

// log(G / shape) for G ~ Gamma(shape, 1): a mean-one gamma in log form, so shape = 1e12
// (alpha = 1e-12) keeps its 1e-6 relative spread and shape = 1e-6 cannot underflow.
SKUCAST_HD double log_mean_one_gamma(double shape, UniformStream& rng) {
  double boost = 0.0;  // shape < 1: G(shape) = G(shape + 1) * U^(1/shape)
  if (shape < 1.0) {
    boost = log(rng.next()) / shape + log1p(1.0 / shape);
    shape += 1.0;
  }
  const double d = shape - 1.0 / 3.0;
  const double c = 1.0 / sqrt(9.0 * d);
  for (int attempt = 0; attempt < kMaxRejections; ++attempt) {
    const double x = standard_normal(rng);
    const double t = c * x;
    if (t <= -1.0) continue;
    const double u = rng.next();
    // log acceptance: 0.5 x^2 + d (1 - v + log v), v = (1 + t)^3, written without cancellation.
    const double log_v = 3.0 * log1p(t);
    const double x2 = x * x;
    if (u < 1.0 - 0.0331 * x2 * x2 ||
        log(u) < 0.5 * x2 + d * (3.0 * log1pmx(t) - t * t * (3.0 + t))) {
      return boost + log1p(-1.0 / (3.0 * shape)) + log_v;  // log(d v / shape)
    }
  }
  return boost;
}

SKUCAST_HD double poisson(double lam, UniformStream& rng) {
  if (!(lam > 0.0)) return 0.0;
  if (lam < 10.0) {  // inversion: one uniform
    const double u = rng.next();
    double p = exp(-lam), cum = p, k = 0.0;
    while (u > cum && k < 1000.0) {
      k += 1.0;
      p *= lam / k;
      cum += p;
      if (p == 0.0) break;
    }
    return k;
  }
  // PTRS, Hormann (1993): transformed rejection with squeeze; the acceptance test uses the
  // saddle-point log-pmf, so it stays exact for lam up to 1e18.
  const double slam = sqrt(lam);
  const double b = 0.931 + 2.53 * slam;
  const double a = -0.059 + 0.02483 * b;
  const double inv_alpha = 1.1239 + 1.1328 / (b - 3.4);
  const double v_r = 0.9277 - 3.6224 / (b - 2.0);
  for (int attempt = 0; attempt < kMaxRejections; ++attempt) {
    const double U = rng.next() - 0.5;
    const double V = rng.next();
    const double us = 0.5 - fabs(U);
    const double k = floor((2.0 * a / us + b) * U + lam + 0.43);
    if (us >= 0.07 && V <= v_r) return k;
    if (k < 0.0 || (us < 0.013 && V > us)) continue;
    if (log(V) + log(inv_alpha) - log(a / (us * us) + b) <= nb::poisson_logpmf(k, lam)) return k;
  }
  return floor(lam);
}

// One draw of NB(mu, alpha) for (key = stream_key(seed, step), series key, sample index).
SKUCAST_HD int64_t negbin(double mu, double alpha, uint64_t key, uint64_t series_key, uint32_t sample) {
  UniformStream rng(key, series_key, sample);
  double lam = mu;
  // alpha mu < 1e-40: the gamma mixing changes the law by less than 1e-40 in total variation.
  if (alpha * mu >= 1e-40) lam = mu * exp(log_mean_one_gamma(1.0 / alpha, rng));
  const double k = poisson(lam, rng);
  return k < 9.2e18 ? static_cast<int64_t>(k) : INT64_MAX;
}

}  // namespace sampling
}  // namespace skucast
