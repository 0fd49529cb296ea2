// Exact NB quantile: the smallest integer k with cdf(k) >= q (no normal approximation).
#pragma once
#include "skucast/dist/negbin.h"

namespace skucast {
namespace nb {

constexpr int64_t kPpfMax = INT64_C(4611686018427387904);  // 2^62: saturate beyond

// Moves k to the smallest value whose canonical cdf reaches q. Used only near a boundary,
// where the running sums of the fast walks could disagree with cdf() in the last bits.
SKUCAST_HD_NOINLINE int64_t settle(int64_t k, double q, double mu, double alpha) {
  while (k > 0 && cdf(static_cast<double>(k - 1), mu, alpha) >= q) --k;
  while (k < kPpfMax && cdf(static_cast<double>(k), mu, alpha) < q) ++k;
  return k;
}

// Smallest k with cdf(k) >= q by exponential bracketing and bisection on cdf().
SKUCAST_HD_NOINLINE int64_t bisect(int64_t guess, double q, double mu, double alpha) {
  int64_t lo = -1, hi = guess < 0 ? 0 : guess;  // invariant: cdf(lo) < q <= cdf(hi)
  if (cdf(static_cast<double>(hi), mu, alpha) >= q) {
    int64_t step = 1;
    for (;;) {  // walk down until below q
      const int64_t cand = hi - step;
      if (cand < 0) break;
      if (cdf(static_cast<double>(cand), mu, alpha) < q) {
        lo = cand;
        break;
      }
      hi = cand;
      step *= 2;
    }
  } else {
    lo = hi;
    int64_t step = 1;
    for (;;) {
      if (hi >= kPpfMax - step) return kPpfMax;
      hi += step;
      if (cdf(static_cast<double>(hi), mu, alpha) >= q) break;
      lo = hi;
      step *= 2;
    }
  }
  while (hi - lo > 1) {
    const int64_t mid = lo + (hi - lo) / 2;
    if (cdf(static_cast<double>(mid), mu, alpha) >= q) hi = mid; else lo = mid;
  }
  return hi;
}

// A start index from a real one: 0 below 0 (or NaN, rather than an undefined conversion), at
// most 1e18.
SKUCAST_HD int64_t start_index(double x) {
  return !(x >= 0.0) ? 0 : (x > 1e18 ? INT64_C(1000000000000000000) : static_cast<int64_t>(x));
}

// Large means start from a Cornish-Fisher guess (z = normal_ppf(q)); sd is the law's.
struct GuessStart {
  int64_t k;
  double sd;
};
SKUCAST_HD GuessStart cornish_fisher_start(double z, double mu, double alpha) {
  const double sd = sqrt(mu) * sqrt(1.0 + alpha * mu);  // not sqrt(mu + alpha mu^2): mu^2 overflows past 1e154
  const double skew = (1.0 + 2.0 * alpha * mu) / sd;
  return {start_index(floor(mu + sd * (z + skew / 6.0 * (z * z - 1.0)))), sd};
}

constexpr int kMaxWalkSteps = 64;

// Whether a start with cdf c and pmf term at k is too far from q for the walk: the cdf's local
// slope puts q more than half the walk's reach away (NaN: not far, the walk decides).
SKUCAST_HD bool start_is_far(double q, double c, double term) {
  return fabs((q - c) / term) > 0.5 * kMaxWalkSteps;
}

// From a start at k with cdf(k) = c and pmf(k) = term (cdf()'s value and the pmf there, or
// the same to ~1e-12 relative: the tie margin below is 3e-8), a short walk on pmf ratios to
// the smallest k with cdf(k) >= q. The vector large-mean path (cpu/ppf_large_simd_body.h)
// finishes its lanes here too.
SKUCAST_HD_NOINLINE int64_t walk_from_start(int64_t k, double c, double term, double q, double mu, double alpha) {
  const double c_start = c;
  int steps = 0;
  if (c >= q) {
    while (k > 0 && steps < kMaxWalkSteps) {
      const double below = c - term;
      if (below < q) break;
      c = below;
      term /= pmf_ratio_up(static_cast<double>(k - 1), mu, alpha);
      --k;
      ++steps;
    }
  } else {
    while (c < q && steps < kMaxWalkSteps) {
      term *= pmf_ratio_up(static_cast<double>(k), mu, alpha);
      ++k;
      c += term;
      ++steps;
    }
    if (c < q) return bisect(k, q, mu, alpha);
  }
  if (steps == kMaxWalkSteps) return bisect(k, q, mu, alpha);
  // Near a tie the walk's running sum and cdf() itself may disagree: the sum's error is relative
  // to the largest value it held (the start, when walking down to a small q), so anything closer
  // than 3e-8 is settled by cdf() itself: ties are decided by the same cdf. (The margin dates
  // from a cdf good to only 2e-8 for the largest parameters, when 1e-11 left 1,026 violations of
  // "smallest k with cdf(k) >= q" in 1e5 exact ties up to mu = 1e9, alpha = 30, and 3e-8 none;
  // it is kept: the extra cdf() calls cost ~2% there.)
  const double tol = (q > c_start ? q : c_start) * (3e-8 + steps * 1e-15);
  if (fabs(c - q) <= tol || fabs(c - term - q) <= tol) return settle(k, q, mu, alpha);
  return k;
}

// Large means: a Cornish-Fisher start, cdf() there, then a short walk on pmf ratios.
SKUCAST_HD_NOINLINE int64_t ppf_from_guess(double q, double mu, double alpha) {
  const GuessStart start = cornish_fisher_start(normal_ppf(q), mu, alpha);
  const double sd = start.sd;
  int64_t k = start.k;
  double log_pmf, c, term;
  auto anchor = [&]() {  // cdf() and the pmf at k: where the walk starts
    c = cdf_and_log_pmf(static_cast<double>(k), mu, alpha, &log_pmf);
    term = exp(log_pmf != kNoLogPmf ? log_pmf : logpmf(static_cast<double>(k), mu, alpha));
  };
  anchor();
  // A guess far off (skewed laws: heavy tails, huge means) first moves by the cdf's local slope,
  // (q - c) / pmf(k) units, at most 4 sd per move and 6 moves (one cdf() each), rather than
  // walking 64 steps and bisecting (~2 log2(distance) cdf() calls). Only the start moves: the
  // walk decides, from a cdf() value, as before.
  const double max_move = 4.0 * sd > 4.0 * kMaxWalkSteps ? 4.0 * sd : 4.0 * kMaxWalkSteps;
  for (int move = 0; move < 6 && start_is_far(q, c, term); ++move) {
    double dist = (q - c) / term;
    dist = dist > max_move ? max_move : (dist < -max_move ? -max_move : dist);
    const int64_t k_new = start_index(floor(static_cast<double>(k) + dist));
    if (k_new == k) break;
    k = k_new;
    anchor();
  }
  return walk_from_start(k, c, term, q, mu, alpha);
}

// 0 < q < 1, mu >= 0 (0: all mass at 0), alpha >= 0.
SKUCAST_HD int64_t ppf(double q, double mu, double alpha) {
  if (mu == 0.0) return 0;
  if (mu > 128.0) return ppf_from_guess(q, mu, alpha);  // (before log P(0): ~6% of a large mean's time)
  const double log_p0 = logpmf_zero(mu, alpha);
  if (log_p0 < -600.0) return ppf_from_guess(q, mu, alpha);
  // Small means (retail's bulk): add pmf terms from 0; all terms are positive, so the running
  // sum matches cdf() to ~k ulps and only a near-tie needs cdf() itself.
  double term = exp(log_p0), sum = term;
  if (sum >= q) return sum - q <= q * 2e-14 ? settle(0, q, mu, alpha) : 0;
  const double shrink = mu / (1.0 + alpha * mu);
  // Two terms per step: the running product and sum then carry one multiply and one add per
  // two terms on their dependency chains.
  for (int k = 1; k + 1 < kReciprocalTableSize; k += 2) {
    const double f1 = shrink * (1.0 + alpha * (k - 1)) * reciprocal(k);
    const double f2 = shrink * (1.0 + alpha * k) * reciprocal(k + 1);
    const double t1 = term * f1;
    const double t2 = term * (f1 * f2);
    const double prev = sum;
    const double sum1 = sum + t1;
    sum = sum + (t1 + t2);
    if (sum >= q) {
      const bool first = sum1 >= q;
      const int64_t kk = first ? k : k + 1;
      const double below = first ? prev : sum1, at = first ? sum1 : sum;
      const double tol = q * (2e-14 + kk * 1e-15);
      if (at - q <= tol || q - below <= tol) return settle(kk, q, mu, alpha);
      return kk;
    }
    term = t2;
  }
  return ppf_from_guess(q, mu, alpha);
}

}  // namespace nb
}  // namespace skucast
