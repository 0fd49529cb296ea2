// Allocation of a warehouse's supply over locations, maximising expected units sold.
// Expected sales E[min(D_l, x_l)] are concave in x_l with increments P(D_l >= x_l + 1), so
// taking the largest increments first (greedy) is optimal. Instead of a unit-by-unit heap the
// kernels search the threshold on the increment: "units at l whose increment beats t" is an
// inversion of l's cdf (NB: ppf; samples: an order statistic).
#pragma once
#include "skucast/core/hostdevice.h"
#include "skucast/dist/negbin.h"
#include "skucast/dist/negbin_ppf.h"

namespace skucast {
namespace inv {

// Increments below this are treated as zero: NB tails never reach 0 exactly, and cdf levels
// closer to 1 than ~1e-12 cannot be told apart in double.
constexpr double kMinGain = 1e-12;

// A running count of units over locations, saturating at nb::kPpfMax = 2^62: counts are compared
// with the supply (< 2^62) only, and a heavy tail's count at a deep threshold can reach 2^62 at
// each location (ppf saturates there), so a plain sum over locations could wrap.
SKUCAST_HD int64_t add_units(int64_t count, int64_t units) {  // 0 <= count, units <= nb::kPpfMax
  return units >= nb::kPpfMax - count ? nb::kPpfMax : count + units;
}

// NB: number of extra units at a location holding `base` whose increment 1 - cdf(y) exceeds
// 1 - q, i.e. #{y >= base : cdf(y) < q} = max(0, ppf(q) - base). q in [0, 1).
SKUCAST_HD_NOINLINE int64_t nb_units_above(double q, double mu, double alpha, int64_t base) {
  if (q <= 0.0 || mu <= 0.0) return 0;
  const int64_t k = nb::ppf(q, mu, alpha);
  return k > base ? k - base : 0;
}

// Running cdf of NB for small means (the bulk of retail rows): pmf terms summed from 0 by the
// ratio recurrence, as nb::ppf does; all terms are positive so the sum matches nb::cdf to
// ~k ulps. Usable while mu <= 128 and P(0) does not underflow (start() says).
struct NbCdfWalk {
  double shrink = 0.0, alpha = 0.0, term = 0.0, sum = 0.0;
  int k = 0;
  // Starts at cdf(0); false (and unusable) for large means or an underflowing P(0).
  SKUCAST_HD bool start(double mu, double a) {
    if (!(mu > 0.0 && mu <= 128.0)) return false;
    const double log_p0 = nb::logpmf_zero(mu, a);
    if (log_p0 <= -600.0) return false;
    alpha = a;
    shrink = mu / (1.0 + a * mu);
    term = exp(log_p0);
    sum = term;
    k = 0;
    return true;
  }
  // cdf(k + 1); false once the reciprocal table is exhausted.
  SKUCAST_HD bool next() {
    if (k + 1 >= kReciprocalTableSize) return false;
    ++k;
    term *= shrink * (1.0 + alpha * (k - 1)) * reciprocal(k);
    sum += term;
    return true;
  }
};

// Samples sorted in descending order (d[0] >= d[1] >= ...): units whose increment
// #{samples > y} / N exceeds j / N number max(0, d[j] - base) (j < N; none for j >= N).
SKUCAST_HD int64_t sample_units_above(const int64_t* desc, int64_t num, int64_t j, int64_t base) {
  if (j >= num) return 0;
  return desc[j] > base ? desc[j] - base : 0;
}

// Minimum display stock first: location l needs max(0, min_display_l - on_hand_l); when the
// supply is short the needs are met in location order. Returns the supply left.
SKUCAST_HD int64_t min_display_pass(int64_t supply, const int64_t* on_hand, const int64_t* min_display, int64_t m,
                                    int64_t* alloc) {
  for (int64_t l = 0; l < m; ++l) {
    int64_t need = min_display ? min_display[l] - on_hand[l] : 0;
    if (need < 0) need = 0;
    if (need > supply) need = supply;
    alloc[l] = need;
    supply -= need;
  }
  return supply;
}

}  // namespace inv
}  // namespace skucast
