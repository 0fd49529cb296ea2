// Per-SKU order-up-to levels that spend an inventory budget (or reach a portfolio fill rate)
// where it fills the most demand per dollar (issue 7).
//
// Fill-rate notion: per protection interval. D_i is SKU i's demand over the protection interval
// (lead time + review period); with order-up-to S_i the expected units filled are
// E[min(D_i, S_i)] = sum_{k < S_i} P(D_i > k), and the portfolio fill rate is
// sum_i E[min(D_i, S_i)] / sum_i E[D_i]. Unit k + 1 at SKU i fills P(D_i > k) more units in
// expectation at cost c_i; the gain per dollar P(D_i > k) / c_i falls with k, so taking units in
// decreasing gain per dollar is optimal for the continuous relaxation (and, stopped at the budget,
// within one unit's gain of the integer optimum). The kernels never walk unit by unit: for a
// threshold lambda SKU i holds #{k : P(D_i > k) / c_i > lambda} units, an inversion of its cdf
// (NB: nb::ppf(1 - lambda c_i); samples: an order statistic), and lambda is searched.
#pragma once
#include "skucast/core/hostdevice.h"
#include "skucast/dist/negbin.h"
#include "skucast/dist/negbin_ppf.h"

namespace skucast {
namespace inv {

// Gains P(D > k) at or below this are treated as worthless (NB tails never reach 0 exactly, and
// cdf levels closer to 1 than ~1e-12 cannot be told apart in double): never stocked above a floor.
constexpr double kTargetsMinGain = 1e-12;

// NB units whose gain P(D > k) exceeds t (t > 0): the smallest k with cdf(k) >= 1 - t.
SKUCAST_HD int64_t nb_units_gain_above(double t, double mu, double alpha) {
  if (!(mu > 0.0) || t >= 1.0) return 0;
  if (t < kTargetsMinGain) t = kTargetsMinGain;
  return nb::ppf(1.0 - t, mu, alpha);
}

// E[min(D, S)] for D ~ NB(mu, alpha), from the loss function in closed form:
// E[(D - S)^+] = (mu - S) P(D > S) + mu (1 + alpha S) P(D = S)
// (from (k + 1) p(k + 1) = mu (1 + alpha k) / (1 + alpha mu) p(k)); alpha = 0 gives Poisson's.
SKUCAST_HD double nb_expected_filled(int64_t S, double mu, double alpha) {
  if (S <= 0 || !(mu > 0.0)) return 0.0;
  const double s = static_cast<double>(S);
  const double pmf = exp(nb::logpmf(s, mu, alpha));
  double loss = (mu - s) * nb::sf(s, mu, alpha) + mu * (1.0 + alpha * s) * pmf;
  const double lo = mu - s > 0.0 ? mu - s : 0.0;
  if (loss < lo) loss = lo;
  if (loss > mu) loss = mu;
  return mu - loss;
}

// Samples of D sorted ascending, a[0..num), with prefix sums P[j] = a[0] + ... + a[j-1].
// Gain of unit k + 1: #{a > k} / num. Units whose gain exceeds t: #{k : #{a > k} > t num}
// = a[num - 1 - floor(t num)] (0 when floor(t num) >= num).
SKUCAST_HD int64_t sample_units_gain_above(double t, const int64_t* asc, int64_t num) {
  if (t < kTargetsMinGain) t = kTargetsMinGain;
  const double tn = t * static_cast<double>(num);
  if (!(tn < static_cast<double>(num))) return 0;
  const int64_t j = static_cast<int64_t>(tn);
  return asc[num - 1 - j];
}

SKUCAST_HD int64_t lower_bound_i64(const int64_t* a, int64_t num, int64_t v) {
  int64_t lo = 0, hi = num;
  while (lo < hi) {
    const int64_t mid = lo + (hi - lo) / 2;
    if (a[mid] < v) lo = mid + 1; else hi = mid;
  }
  return lo;
}

// mean(min(a, S)) = (sum_{a < S} a + S #{a >= S}) / num.
SKUCAST_HD double sample_expected_filled(int64_t S, const int64_t* asc, const double* prefix, int64_t num) {
  if (S <= 0) return 0.0;
  const int64_t m = lower_bound_i64(asc, num, S);
  return (prefix[m] + static_cast<double>(S) * static_cast<double>(num - m)) / static_cast<double>(num);
}

// P(D > k) from the samples.
SKUCAST_HD double sample_gain(int64_t k, const int64_t* asc, int64_t num) {
  const int64_t above = num - lower_bound_i64(asc, num, k + 1);
  return static_cast<double>(above) / static_cast<double>(num);
}

}  // namespace inv
}  // namespace skucast
