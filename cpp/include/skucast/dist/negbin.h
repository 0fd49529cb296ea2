// Negative binomial NB(mu, alpha): mean mu, variance mu + alpha mu^2 (DeepAR/GluonTS form);
// scipy's nbinom(n = 1/alpha, p = 1/(1 + alpha mu)). alpha == 0 is Poisson(mu), exactly.
// Everything is written in alpha rather than n = 1/alpha so that alpha -> 0 stays finite.
#pragma once
#include "skucast/core/hostdevice.h"
#include "skucast/dist/special.h"

namespace skucast {
namespace nb {

// Below this alpha (y + mu + 1)^2 the NB and Poisson log-pmfs differ by < 1e-17.
constexpr double kPoissonLimit = 1e-17;
constexpr double kTiny = 1e-300;

SKUCAST_HD bool poisson_limit(double y, double mu, double alpha) {
  const double t = y + mu + 1.0;
  return alpha * t * t < kPoissonLimit;
}

// log P(Y = 0) = -log1p(alpha mu) / alpha.
SKUCAST_HD double logpmf_zero(double mu, double alpha) { return -mu * log1p_over_x(alpha * mu); }

// Poisson log-pmf by Loader's saddle point: exact to ~1e-15 relative for any y, mu.
SKUCAST_HD double poisson_logpmf(double y, double mu) {
  if (y == 0.0) return -mu;
  return -stirlerr(y) - bd0(y, mu) - 0.5 * (kLn2Pi + log(y));
}

// y whole and >= 0, mu > 0, alpha >= 0.
SKUCAST_HD double logpmf(double y, double mu, double alpha) {
  const double am = alpha * mu;
  if (y < 64.0 && mu < 256.0 && mu > 1e-4 && alpha * y < 1e3) {
    // Small counts (most retail days): prod_{i<y} r (1 + alpha i) with r = mu / (1 + alpha mu)
    // equals Gamma(y + n) / Gamma(n) * (q/1)^y up to the 1/alpha^y that cancels; no lgamma
    // difference, no cancellation, and alpha = 0 gives Poisson exactly. Factors stay in
    // [1e-4, 256], so 63 of them neither overflow nor underflow.
    const double r = mu / (1.0 + am);
    double prod = 1.0;
    for (double i = 0.0; i < y; i += 1.0) prod *= r * (1.0 + alpha * i);
    const double log_p0 = -mu * log1p_over_x(am);
    if (y == 0.0) return log_p0;
    return log(prod) - log_factorial_table(static_cast<int>(y)) + log_p0;
  }
  if (y == 0.0) return logpmf_zero(mu, alpha);
  if (alpha == 0.0 || poisson_limit(y, mu, alpha)) return poisson_logpmf(y, mu);
  // Loader's binomial saddle point with n = 1/alpha successes and N = n + y trials:
  // pmf = n/(n+y) * dbinom(n; N, p). N p and N q are formed without 1/alpha cancellation.
  const double n = 1.0 / alpha;
  const double shrink = (1.0 + alpha * y) / (1.0 + alpha * mu);
  const double lc = stirlerr(n + y) - stirlerr(n) - stirlerr(y) - bd0(n, n * shrink) - bd0(y, mu * shrink);
  const double log1p_ay = log1p(alpha * y);
  return -log1p_ay + lc - 0.5 * (kLn2Pi + log(y) - log1p_ay);
}

// Ratio pmf(k+1)/pmf(k) = mu (1 + alpha k) / ((1 + alpha mu)(k + 1)); valid for alpha = 0.
SKUCAST_HD double pmf_ratio_up(double k, double mu, double alpha) {
  return mu * (1.0 + alpha * k) / ((1.0 + alpha * mu) * (k + 1.0));
}

constexpr double kCfEps = 1e-16;
constexpr int kCfMaxIter = 1 << 22;

// Lentz continued fraction shared by the incomplete beta and gamma functions:
// h = b0 + a1/(b1 + a2/(b2 + ...)), with coefficients from `coef(i, a_i, b_i)`.
template <class Coef>
SKUCAST_HD double lentz(double b0, Coef coef) {
  constexpr double kFpMin = 1e-300;
  double f = b0 == 0.0 ? kFpMin : b0;
  double c = f, d = 0.0;
  for (int i = 1; i < kCfMaxIter; ++i) {
    double a, b;
    coef(i, a, b);
    d = b + a * d;
    if (fabs(d) < kFpMin) d = kFpMin;
    c = b + a / c;
    if (fabs(c) < kFpMin) c = kFpMin;
    d = 1.0 / d;
    const double delta = c * d;
    f *= delta;
    if (fabs(delta - 1.0) < kCfEps) break;
  }
  return f;
}

// Poisson tails through the regularized incomplete gamma with a = y + 1, x = mu.
// Returns the log of the tail that the method computes directly; *is_cdf says which one.
SKUCAST_HD double poisson_log_tail(double y, double mu, bool* is_cdf) {
  const double a = y + 1.0;
  // x^a e^-x / Gamma(a) = mu * pmf(y): Loader's pmf keeps the prefactor accurate.
  const double log_pref = log(mu) + poisson_logpmf(y, mu);
  if (mu < a) {
    // Series for P(a, x) = sf(y): terms x^k / ((a+1)...(a+k)).
    double term = 1.0 / a, sum = term;
    for (double ap = a + 1.0; ap < a + 1e9; ap += 1.0) {
      term *= mu / ap;
      sum += term;
      if (term < sum * kCfEps) break;
    }
    *is_cdf = false;
    return log_pref + log(sum);
  }
  // Legendre continued fraction for Q(a, x) = cdf(y).
  const double h = lentz(0.0, [&](int i, double& an, double& bn) {
    if (i == 1) {
      an = 1.0;
      bn = mu + 1.0 - a;
    } else {
      const double k = i - 1;
      an = -k * (k - a);
      bn = mu + 1.0 - a + 2.0 * k;
    }
  });
  *is_cdf = true;
  return log_pref + log(h);
}

// NB tails through the regularized incomplete beta: cdf(y) = I_p(n, y+1), sf(y) = I_q(y+1, n).
// The continued fraction (Numerical Recipes' betacf, modified Lentz) is evaluated for whichever
// tail lies on the near side of the mean; its coefficients are written in alpha so that none
// of them is a difference of near-equal numbers.
SKUCAST_HD double negbin_log_tail(double y, double mu, double alpha, bool* is_cdf) {
  const double one_am = 1.0 + alpha * mu;
  const double log_pmf = logpmf(y, mu, alpha);
  if (y + 2.0 < mu * (1.0 + alpha)) {
    // I_x(A, B), A = n, B = y + 1, x = p. Prefactor x^A (1-x)^B / (A B(A,B)) = pmf(y) q (1 + alpha y).
    const double q = alpha * mu / one_am;
    const double p = 1.0 / one_am;
    const double B = y + 1.0;
    const double h = lentz(0.0, [&](int i, double& an, double& bn) {
      bn = 1.0;
      if (i == 1) {
        an = 1.0;
        return;
      }
      const int j = i - 1;  // NR's d_j
      if (j % 2 == 0) {
        const double m = j / 2;
        // m (B - m) x / ((A - 1 + 2m)(A + 2m)), times alpha^2 above and below.
        an = m * (B - m) * p * alpha * alpha / ((1.0 + alpha * (2.0 * m - 1.0)) * (1.0 + 2.0 * m * alpha));
      } else {
        const double m = (j - 1) / 2;
        // -(A + m)(A + B + m) x / ((A + 2m)(A + 1 + 2m))
        an = -(1.0 + alpha * m) * (1.0 + alpha * (B + m)) * p / ((1.0 + 2.0 * m * alpha) * (1.0 + alpha * (1.0 + 2.0 * m)));
      }
    });
    *is_cdf = true;
    return log_pmf + log(q * (1.0 + alpha * y)) + log(h);
  }
  // I_x(A, B), A = y + 1, B = n, x = q. Prefactor = pmf(y) mu (1 + alpha y) / ((1 + alpha mu)(y + 1)).
  const double A = y + 1.0;
  const double q_over_alpha = mu / one_am;  // q / alpha, finite as alpha -> 0
  const double h = lentz(0.0, [&](int i, double& an, double& bn) {
    bn = 1.0;
    if (i == 1) {
      an = 1.0;
      return;
    }
    const int j = i - 1;
    if (j % 2 == 0) {
      const double m = j / 2;
      // m (B - m) x / ((A - 1 + 2m)(A + 2m)) with (B - m) x = (1 - alpha m) q / alpha
      an = m * (1.0 - alpha * m) * q_over_alpha / ((A - 1.0 + 2.0 * m) * (A + 2.0 * m));
    } else {
      const double m = (j - 1) / 2;
      // -(A + m)(A + B + m) x / ((A + 2m)(A + 1 + 2m)) with (A + B + m) x = (1 + alpha (A + m)) q / alpha
      an = -(A + m) * (1.0 + alpha * (A + m)) * q_over_alpha / ((A + 2.0 * m) * (A + 1.0 + 2.0 * m));
    }
  });
  *is_cdf = false;
  return log_pmf + log(q_over_alpha * (1.0 + alpha * y) / A) + log(h);
}

// The tail computed directly (cdf below the mean, sf above); the other is 1 - it.
SKUCAST_HD double log_tail(double y, double mu, double alpha, bool* is_cdf) {
  if (alpha == 0.0 || poisson_limit(y, mu, alpha)) return poisson_log_tail(y, mu, is_cdf);
  return negbin_log_tail(y, mu, alpha, is_cdf);
}

SKUCAST_HD double cdf(double y, double mu, double alpha) {
  if (y == 0.0) return exp(logpmf_zero(mu, alpha));
  bool is_cdf;
  const double t = exp(log_tail(y, mu, alpha, &is_cdf));
  return is_cdf ? t : 1.0 - t;
}

SKUCAST_HD double sf(double y, double mu, double alpha) {
  if (y == 0.0) return -expm1(logpmf_zero(mu, alpha));
  bool is_cdf;
  const double t = exp(log_tail(y, mu, alpha, &is_cdf));
  return is_cdf ? 1.0 - t : t;
}

}  // namespace nb
}  // namespace skucast
