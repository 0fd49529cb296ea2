// Negative binomial NB(mu, alpha): mean mu, variance mu + alpha mu^2 (DeepAR/GluonTS form);
// scipy's nbinom(n = 1/alpha, p = 1/(1 + alpha mu)). alpha == 0 is Poisson(mu), exactly.
// Everything is written in alpha rather than n = 1/alpha so that alpha -> 0 stays finite.
#pragma once
#include "skucast/core/hostdevice.h"
#include "skucast/core/portable_log.h"
#include "skucast/dist/beta_small_b.h"
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

// Where logpmf_small_counts applies (most retail days). Its factors r (1 + alpha i) lie between
// min(mu, 1/alpha) / 2 and max(mu, i) < 256, with 1/alpha > y / 1e3: at most 63 of them from
// 5e-5 up, or 127 from 5e-3 up (mu > 0.01), stay within [1e-292, 2^1016]. alpha mu < 1e100 keeps
// u alpha mu in range.
SKUCAST_HD bool small_counts(double y, double mu, double alpha) {
  return y < 128.0 && mu < 256.0 && mu > (y < 64.0 ? 1e-4 : 1e-2) && alpha * y < 1e3 && alpha * mu < 1e100;
}

// log P(y) = log(prod_{i<y} r (1 + alpha i)) - log y! + log P(0), r = mu / (1 + alpha mu):
// Gamma(y + n) / Gamma(n) (q/1)^y without the 1/alpha^y that cancels; no lgamma difference, no
// cancellation, and alpha = 0 gives Poisson exactly. y = 0 gives log(1) - 0 + log P(0) exactly.
// Written for cpu/logpmf_simd_body.h, which repeats these operations in this order on 4 or 8
// lanes (lanes past their count multiply by 1.0, exact). The logs are plog's, and one division
// gives both 1/u and 1/(alpha mu).
SKUCAST_HD double logpmf_small_counts(double y, double mu, double alpha) {
  const double am = alpha * mu;
  const double u = 1.0 + am;
  // log P(0) = -mu log1p(am) / am: a series below 1e-5 (next term < 1e-20 relative).
  const bool series = am < 1e-5;
  const double t = 1.0 / (series ? u : u * am);
  const double inv_u = series ? t : am * t;
  const double r = mu * inv_u;
  const double ra = r * alpha;  // factor i: r (1 + alpha i) = r + ra i
  // Factors i and y-1-i multiply to A + B i (y-1-i): whole i (y-1-i) is exact and >= 0, so
  // there is no cancellation, and half the multiplies. Pair i goes to chain i % 2.
  const double A = r * (r + ra * (y - 1.0));
  const double B = ra * ra;
  const double pairs = floor(y * 0.5);
  const double y_m1 = y - 1.0;
  double c0 = 1.0, c1 = 1.0;
  auto pair = [&](double i) { return A + B * (i * (y_m1 - i)); };
  double i = 0.0;
  for (; i + 1.0 < pairs; i += 2.0) {
    c0 *= pair(i);
    c1 *= pair(i + 1.0);
  }
  if (i < pairs) c0 *= pair(i);
  if (pairs + pairs != y) c0 *= r + ra * pairs;  // odd y: the middle factor i = (y-1)/2
  const double prod = c0 * c1;
  // log1p(am) = log(u) + (am - (u - 1)) / u (the correction restores what rounding u lost).
  const double log1p_am = plog::log_normal(u, 0) + (am - (u - 1.0)) * inv_u;
  const double log1p_over_am = series ? 1.0 - am * (0.5 - am * (1.0 / 3.0 - am * 0.25)) : log1p_am * (u * t);
  const double log_p0 = -mu * log1p_over_am;
  return plog::log(prod) - log_factorial_table(static_cast<int>(y)) + log_p0;
}

// y whole and >= 0, mu >= 0 (0: all mass at 0), alpha >= 0.
SKUCAST_HD double logpmf(double y, double mu, double alpha) {
  if (small_counts(y, mu, alpha)) return logpmf_small_counts(y, mu, alpha);
  if (mu == 0.0) return y == 0.0 ? 0.0 : -INFINITY;
  if (y == 0.0) return logpmf_zero(mu, alpha);
  if (alpha == 0.0 || poisson_limit(y, mu, alpha)) return poisson_logpmf(y, mu);
  // Loader's binomial saddle point with n = 1/alpha successes and N = n + y trials:
  // pmf = n/(n+y) * dbinom(n; N, p). N p and N q are formed without 1/alpha cancellation.
  // N p = n (1 + d) and N q = y - e with d = alpha (y - mu) / (1 + alpha mu), e = (y - mu) / (1 + alpha mu):
  // the deviance terms take d and e directly, so N p, N q ~ 1e21 lose nothing to rounding.
  const double n = 1.0 / alpha;
  const double e = (y - mu) / (1.0 + alpha * mu);
  const double d = alpha * e;
  // log(1 + d) - d, with 1 + d = (1 + alpha y) / (1 + alpha mu) taken from logs when d is not small
  const double log_shrink_m_d = fabs(d) < 0.5 ? log1pmx(d) : (log1p(alpha * y) - log1p(alpha * mu)) - d;
  // (mu (1 + alpha y) passes the double range first for means near it: then the ratio first)
  const double nq_num = mu * (1.0 + alpha * y);
  const double nq = nq_num < INFINITY ? nq_num / (1.0 + alpha * mu) : mu * ((1.0 + alpha * y) / (1.0 + alpha * mu));
  const double lc = stirlerr(n + y) - stirlerr(n) - stirlerr(y) + log_shrink_m_d / alpha - bd0_diff(y, nq, e);
  const double log1p_ay = log1p(alpha * y);
  return -log1p_ay + lc - 0.5 * (kLn2Pi + log(y) - log1p_ay);
}

// Ratio pmf(k+1)/pmf(k) = mu (1 + alpha k) / ((1 + alpha mu)(k + 1)); valid for alpha = 0.
// (Near the double range, mu (1 + alpha k) or the denominator overflow: then the two ratios.)
SKUCAST_HD double pmf_ratio_up(double k, double mu, double alpha) {
  const double num = mu * (1.0 + alpha * k), den = (1.0 + alpha * mu) * (k + 1.0);
  if (num < INFINITY && den < INFINITY) return num / den;
  return (mu / (1.0 + alpha * mu)) * ((1.0 + alpha * k) / (k + 1.0));
}

constexpr double kCfEps = 1e-16;
constexpr int kCfMaxIter = 1 << 22;

// Lentz continued fraction (the Poisson tails' incomplete gamma):
// h = b0 + a1/(b1 + a2/(b2 + ...)), with coefficients from `coef(i, a_i, b_i)`, until a step
// changes h by less than kCfEps relative (or kCfMaxIter steps).
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

// r = 1 / (b0 + a_1 / (b_1 + a_2 / (b_2 + ...))) by the three-term recurrence of its convergents,
// rescaled each step (the form of TOMS 708's BFRAC), with coefficients from `coef(m, a_m, b_m)`,
// until a step changes r by at most kFracEps relative (or kCfMaxIter steps): DBL_EPSILON, at
// least one ulp of r, so a fraction whose convergents alternate in the last bit stops (with
// 1e-16 only exact equality stopped it, or the 4M-step cap).
constexpr double kFracEps = 2.220446049250313e-16;
template <class Coef>
SKUCAST_HD double recurrence_fraction(double b0, Coef coef) {
  double num0 = 0.0, den0 = 1.0, num1 = 1.0, den1 = b0, r = 1.0 / b0;
  for (int m = 1; m < kCfMaxIter; ++m) {
    double an, bn;
    coef(static_cast<double>(m), an, bn);
    const double num2 = an * num0 + bn * num1, den2 = an * den0 + bn * den1;
    const double r_prev = r, inv_den2 = 1.0 / den2;  // one division per step, not three
    r = num2 * inv_den2;
    if (fabs(r - r_prev) <= kFracEps * r) break;
    num0 = num1 * inv_den2;
    den0 = den1 * inv_den2;
    num1 = r;
    den1 = 1.0;
  }
  return r;
}

// From this shape a = y + 1 on, Poisson tails take Temme's uniform expansion: the series and
// the fraction below need ~sqrt(a) steps near the mean (seconds a value past mu ~ 1e16).
constexpr double kUniformShape = 1e7;

// log of the Poisson tail that is below 1/2 or near it: cdf(y) = Q(a, mu) when mu > a, else
// sf(y) = P(a, mu), a = y + 1 >= kUniformShape, mu < 2a, by Temme's uniform asymptotic expansion (DLMF
// 8.12.3-8.12.4): with lambda = mu / a and eta = sign(lambda - 1) sqrt(2 (lambda - 1 - log lambda)),
//   tail = erfc(t) / 2 + s e^(-t^2) (c0(eta) + c1(eta) / a + ...) / sqrt(2 pi a),  t = |eta| sqrt(a / 2),
// s = +1 for Q, -1 for P, and t^2 = a eta^2 / 2 = bd0(a, mu) as Loader's pmf forms it. The
// next term, c2 / a^2 ~ 4e-3 / a^2, is below 1e-16 of c0's from a = 1e7; relative to the tail,
// the correction itself is ~|eta c0| smaller, so c0 needs ~1e-12 and c1 ~1e-6 relative: closed
// forms, and Taylor series (DLMF 8.12.9-8.12.10's coefficients) where the closed forms cancel.
SKUCAST_HD double poisson_log_tail_uniform(double y, double mu, bool* is_cdf) {
  const double a = y + 1.0;
  const double d = (mu - a) / a;  // lambda - 1
  const double t2 = bd0(a, mu);   // a eta^2 / 2
  const double t = sqrt(t2);
  const double e = d < 0.0 ? -sqrt(2.0 * t2 / a) : sqrt(2.0 * t2 / a);  // eta
  const double c0 = fabs(e) < 0.01
      ? -1.0 / 3 + e * (1.0 / 12 + e * (-2.0 / 135 + e * (1.0 / 864 + e * (1.0 / 2835 - e * (139.0 / 777600)))))
      : 1.0 / d - 1.0 / e;
  const double c1 = fabs(e) < 0.05
      ? -1.0 / 540 + e * (-1.0 / 288 + e * (1.0 / 378 + e * (-77.0 / 77760 + e * (1.0 / 4860))))
      : 1.0 / (e * e * e) - 1.0 / (d * d * d) - 1.0 / (d * d) - 1.0 / (12.0 * d);
  *is_cdf = d > 0.0;
  const double corr = (*is_cdf ? 1.0 : -1.0) * (c0 + c1 / a) / sqrt(2.0 * kPi * a);
  if (t < 26.0) return log(0.5 * erfc(t) + exp(-t2) * corr);
  // erfc(t) underflows past t ~ 26.5: e^(t^2) erfc(t) by its asymptotic series (8 terms: the
  // next is below 1e-17 from t = 26 on)
  const double u = 1.0 / (2.0 * t2);
  double term = 1.0, sum = 1.0;
  for (int n = 1; n <= 8; ++n) {
    term *= -(2 * n - 1) * u;
    sum += term;
  }
  return -t2 + log(0.5 * sum / (t * kSqrtPi) + corr);
}

// Poisson tails through the regularized incomplete gamma with a = y + 1, x = mu.
// Returns the log of the tail that the method computes directly; *is_cdf says which one.
SKUCAST_HD double poisson_log_tail(double y, double mu, bool* is_cdf) {
  const double a = y + 1.0;
  // (not far below the mean, mu > 2a: there the fraction takes a few steps, and the expansion's
  // terms cancel more as mu / a grows: to nothing at mu = 4e307, a = 1e18)
  if (a >= kUniformShape && mu < 2.0 * a) return poisson_log_tail_uniform(y, mu, is_cdf);
  // x^a e^-x / Gamma(a) = mu * pmf(y): Loader's pmf keeps the prefactor accurate.
  const double log_pref = log(mu) + poisson_logpmf(y, mu);
  if (mu <= a) {  // (mu == a: at 2^53 the fraction below divides 0 by 0)
    // Series for P(a, x) = sf(y): terms x^k / ((a+1)...(a+k)).
    // (counted in k: past a = 2^53, ap += 1 would no longer change ap, and the loop never ended)
    double term = 1.0 / a, sum = term;
    for (int64_t k = 1; k < 1000000000; ++k) {
      term *= mu / (a + static_cast<double>(k));
      sum += term;
      if (term < sum * kCfEps) break;
    }
    *is_cdf = false;
    return log_pref + log(sum);
  }
  // Legendre continued fraction for Q(a, x) = cdf(y). Past x = 1e200 it is 1 / (x + 1 - a) to
  // the last bit (the next term is below (a / x)^2 < 1e-368 relative), and Lentz's 1 / d would
  // turn subnormal near x ~ 1e308 and never converge (4M steps per call).
  if (mu > 1e200) {
    *is_cdf = true;
    return log_pref - log(mu + 1.0 - a);
  }
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

// NB tails through the regularized incomplete beta: cdf(y) = I_p(n, y+1), sf(y) = I_q(y+1, n),
// by the continued fraction of Didonato & Morris (ACM TOMS 708, 1992, "BFRAC"), contracted
// around lambda = a (1 - x) - b x, the distance of the argument from the mean, so that its
// coefficients are positive: Numerical Recipes' form of the same fraction has partial numerators
// near -1 (q -> 1 for the sf, n = 1/alpha large for the cdf), where 1 + a d cancels (up to 4e-8
// relative was lost). Coefficients are written in alpha so that alpha -> 0 stays finite.

// log of sum_{k <= y} pmf(k) / pmf(y), summed downward from y: below the mean every ratio is <= 1,
// all terms are positive, and they fall off at least like a Gaussian of width sd.
SKUCAST_HD double log_sum_down_to_zero(double y, double mu, double alpha) {
  const double one_am = 1.0 + alpha * mu;
  double term = 1.0, sum = 1.0;
  for (double k = y; k >= 1.0; k -= 1.0) {
    term *= k * one_am / (mu * (1.0 + alpha * (k - 1.0)));
    sum += term;
    if (term < sum * 1e-17) break;
  }
  return log(sum);
}

// log cdf(y), for y below the mean (where the fraction converges fast).
SKUCAST_HD double negbin_log_cdf_direct(double y, double mu, double alpha, double log_pmf) {
  const double one_am = 1.0 + alpha * mu;
  if (y <= 64.0) {
    // The finite sum: log cdf = log P(0) + log1p(sum_{k=1..y} pmf(k)/P(0)). Both terms keep
    // their relative accuracy, so sf = -expm1(log cdf) stays exact even when P(0) ~ 1 - 1e-5
    // (huge alpha), where the fraction's log would carry an absolute error of ~1e-15.
    double term = 1.0, sum = 0.0;
    for (double k = 1.0; k <= y; k += 1.0) {
      term *= mu * (1.0 + alpha * (k - 1.0)) / (one_am * k);
      sum += term;
    }
    if (sum < 1e300) return logpmf_zero(mu, alpha) + log1p(sum);
    // A huge mean: the ratios to P(0) pass the double range (cdf(56) at mu = 1e7 read inf).
    return log_pmf + log_sum_down_to_zero(y, mu, alpha);
  }
  // I_x(a, b) with a = n, b = B = y + 1, x = p, lambda = n q - B p = p (mu - B); m / a = alpha m,
  // a / (a + 2m - 1) = 1 / (1 + alpha (2m - 1)). Prefactor x^a (1-x)^b / B(a, b) = pmf(y) mu p (1 + alpha y).
  const double B = y + 1.0;
  const double p = 1.0 / one_am;
  const double q = alpha * mu * p;
  const double c = 1.0 + p * (mu - B);  // 1 + lambda
  const double c0 = B * alpha;          // b / a
  const double c1 = 1.0 + alpha;        // 1 + 1 / a
  double ratio = 1.0;                   // 1 + (m - 1) / a
  const double r = recurrence_fraction(
      c / c1,
      [&](double m, double& an, double& bn) {
        const double t = alpha * m;
        const double w = m * (B - m) * p;                         // m (b - m) x
        const double e = 1.0 / (1.0 + alpha * (2.0 * m - 1.0));  // a / (a + 2m - 1)
        an = ratio * (ratio + c0) * e * e * (w * p);
        bn = m + w * alpha * e + (t + 1.0) / (c1 + t + t) * (c + m * (1.0 + q));
        ratio = t + 1.0;
      });
  return log_pmf + log(mu * p * (1.0 + alpha * y)) + log(r);
}

// log sf(y), for y above the mean: I_x(a, b) with a = A = y + 1, b = n, x = q, lambda =
// A p - n q = p (y + 1 - mu); b - m = (1 - alpha m) / alpha. Prefactor x^a (1-x)^b / B(a, b) =
// pmf(y) (q / alpha) (1 + alpha y).
SKUCAST_HD double negbin_log_sf_direct(double y, double mu, double alpha, double log_pmf) {
  const double A = y + 1.0;
  const double p = 1.0 / (1.0 + alpha * mu);
  const double q_over_alpha = mu * p;
  const double q = alpha * q_over_alpha;
  const double c = 1.0 + p * (A - mu);  // 1 + lambda
  const double inv_A = 1.0 / A;
  const double c1 = 1.0 + inv_A;
  const double q_over_alpha_a = q_over_alpha * inv_A;  // (b / a) x
  double ratio = 1.0, s = A + 1.0;                     // 1 + (m - 1) / a and a + 2m - 1
  const double r = recurrence_fraction(
      c / c1,
      [&](double m, double& an, double& bn) {
        const double t = m * inv_A;
        const double w = m * (1.0 - alpha * m) * q_over_alpha;  // m (b - m) x
        const double inv_s = 1.0 / s;
        const double e = A * inv_s;
        an = ratio * (ratio * q + q_over_alpha_a) * e * e * w;
        bn = m + w * inv_s + (t + 1.0) / (c1 + t + t) * (c + m * (1.0 + p));
        ratio = t + 1.0;
        s += 2.0;
      });
  return log_pmf + log(q_over_alpha * (1.0 + alpha * y)) + log(r);
}

// Heavy tails (alpha >= 1: shape 1/alpha <= 1; alpha mu >= 1: q >= 1/2, where the expansion
// holds to ~1e-14), y >= 65: sf = I_q(y + 1, 1/alpha) directly, whenever it is the smaller tail.
SKUCAST_HD bool heavy_tail_sf(double y, double mu, double alpha) {
  return alpha >= 1.0 && y >= 65.0 && alpha * mu >= 1.0;
}

// The mean decides which fraction converges fast: cdf below it, sf above it; but a heavy tail's
// sf comes from its asymptotic expansion, not as 1 - cdf (which lost up to 1e-8 of a 1e-7 tail).
SKUCAST_HD double negbin_log_tail(double y, double mu, double alpha, bool* is_cdf, double* log_pmf_out = nullptr) {
  if (heavy_tail_sf(y, mu, alpha)) {
    const double log_sf = log_beta_large_a_small_b(y + 1.0, 1.0 / alpha, -log1p(1.0 / (alpha * mu)));
    if (log_sf <= -0.6931471805599453) {
      *is_cdf = false;
      return log_sf;
    }
  }
  const double log_pmf = logpmf(y, mu, alpha);
  if (log_pmf_out) *log_pmf_out = log_pmf;
  *is_cdf = y + 2.0 < mu * (1.0 + alpha);
  if (*is_cdf) return negbin_log_cdf_direct(y, mu, alpha, log_pmf);
  return negbin_log_sf_direct(y, mu, alpha, log_pmf);
}

// The tail computed directly (cdf below the mean, sf above); the other is 1 - it. log_pmf_out
// (optional) receives logpmf(y) when the NB fractions computed it for their prefactor.
SKUCAST_HD double log_tail(double y, double mu, double alpha, bool* is_cdf, double* log_pmf_out = nullptr) {
  if (alpha == 0.0 || poisson_limit(y, mu, alpha)) return poisson_log_tail(y, mu, is_cdf);
  return negbin_log_tail(y, mu, alpha, is_cdf, log_pmf_out);
}

// logpmf's value is <= 0 (up to rounding): this marks "not computed".
constexpr double kNoLogPmf = 1.0;

// cdf(y), and logpmf(y) in *log_pmf where the NB fractions computed it for their prefactor (else
// kNoLogPmf): ppf's walk starts from both, without evaluating the pmf a second time.
// The other tail is -expm1(log tail): exact when the computed tail's log is (near 0 as well).
SKUCAST_HD double cdf_and_log_pmf(double y, double mu, double alpha, double* log_pmf) {
  *log_pmf = kNoLogPmf;
  if (mu == 0.0) return 1.0;  // all mass at 0
  if (y == 0.0) return exp(logpmf_zero(mu, alpha));
  bool is_cdf;
  const double lt = log_tail(y, mu, alpha, &is_cdf, log_pmf);
  return is_cdf ? exp(lt) : -expm1(lt);
}

SKUCAST_HD double cdf(double y, double mu, double alpha) {
  double log_pmf;
  return cdf_and_log_pmf(y, mu, alpha, &log_pmf);
}

SKUCAST_HD double sf(double y, double mu, double alpha) {
  if (mu == 0.0) return 0.0;  // all mass at 0
  if (y == 0.0) return -expm1(logpmf_zero(mu, alpha));
  bool is_cdf;
  const double lt = log_tail(y, mu, alpha, &is_cdf);
  return is_cdf ? -expm1(lt) : exp(lt);
}

}  // namespace nb
}  // namespace skucast
