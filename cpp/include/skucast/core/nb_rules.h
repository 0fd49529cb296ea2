// Per-element value rules, function choice and summation step shared by the CPU loops
// (cpp/src/nbinom.cpp) and the CUDA kernels (cuda/nbinom.cu): one definition, two devices.
#pragma once
#include <type_traits>

#include "skucast/core/hostdevice.h"
#include "skucast/dist/negbin.h"

namespace skucast {
namespace rules {

// Counts: whole numbers in [0, 2^53], as integers or floats (a float's floor is exact in double).
// Past 2^53 a double no longer holds every count, and the tails came out NaN or absurd there.
constexpr double kMaxCount = 9007199254740992.0;  // 2^53
template <class T>
SKUCAST_HD bool valid_count(T v) {
  if constexpr (std::is_integral_v<T>) {
    // compared as integers: 2^53 + 1 converts to the double 2^53 and passed
    return v >= 0 && static_cast<uint64_t>(v) <= (uint64_t{1} << 53);
  } else {
    const double d = static_cast<double>(v);
    return d >= 0 && d <= kMaxCount && d == floor(d);
  }
}
// mu = 0 is no demand: all mass at 0 (a forecast's closed days, a delisted item).
SKUCAST_HD bool valid_mu(double v) { return v >= 0 && v < INFINITY; }
SKUCAST_HD bool valid_alpha(double v) { return v >= 0 && v < INFINITY; }
SKUCAST_HD bool valid_q(double v) { return v > 0 && v < 1; }

// Argument positions reported in BadValue::arg (same values as cpu::NbArg); kArgAlphaMu names
// alpha, for a product alpha mu past the double range (every NB formula then reads inf / inf).
constexpr int kArgY = 0, kArgMu = 1, kArgAlpha = 2, kArgQ = 3, kArgAlphaMu = 4;

// Checks the (mu, alpha) pair; returns the failing argument or -1.
SKUCAST_HD int param_arg(double mu, double alpha) {
  if (!valid_mu(mu)) return kArgMu;
  if (!valid_alpha(alpha)) return kArgAlpha;
  if (!(alpha * mu < INFINITY)) return kArgAlphaMu;
  return -1;
}

// Checks one (y, mu, alpha) triple; returns the failing argument or -1. alpha y past the double
// range overflows the pmf's 1 + alpha y as alpha mu would (a NaN came out).
template <class Y, class P>
SKUCAST_HD int check_triple(Y y, P mu, P alpha) {
  if (!valid_count(y)) return kArgY;
  const int arg = param_arg(static_cast<double>(mu), static_cast<double>(alpha));
  if (arg < 0 && !(static_cast<double>(alpha) * static_cast<double>(y) < INFINITY)) return kArgAlphaMu;
  return arg;
}

// func: 0 logpmf, 1 pmf, 2 cdf, 3 sf (cpu::NbFunc values).
SKUCAST_HD double nb_value(int func, double y, double mu, double alpha) {
  switch (func) {
    case 0: return nb::logpmf(y, mu, alpha);
    case 1: return exp(nb::logpmf(y, mu, alpha));
    case 2: return nb::cdf(y, mu, alpha);
    default: return nb::sf(y, mu, alpha);
  }
}

// One step of Neumaier's compensated sum: the total does not drift with the number of terms.
// An infinite total (a count impossible under its law, e.g. y > 0 at mu = 0) stays infinite:
// its compensation would be inf - inf.
SKUCAST_HD void neumaier_add(double& sum, double& comp, double term) {
  const double t = sum + term;
  if (fabs(t) < INFINITY) comp += fabs(sum) >= fabs(term) ? (sum - t) + term : (term - t) + sum;
  sum = t;
}

}  // namespace rules
}  // namespace skucast
