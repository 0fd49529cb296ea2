// One natural log for host and device (fdlibm's e_log.c algorithm, error < 1 ulp), written as
// plain IEEE operations with no branch for normal arguments, so that the vector copy in
// cpu/logpmf_simd_body.h, this scalar code and the CUDA build (--fmad=false) give the same bits.
// glibc's log cannot be vectorized from here, and its log1p costs ~10 ns.
#pragma once
#include <cfloat>
#include <cstdint>
#include <cstring>

#include "skucast/core/hostdevice.h"

namespace skucast {
namespace plog {

// fdlibm constants (hex of the double in the comment there).
constexpr double kLn2Hi = 6.93147180369123816490e-01;  // 3fe62e42 fee00000
constexpr double kLn2Lo = 1.90821492927058770002e-10;  // 3dea39ef 35793c76
constexpr double kLg1 = 6.666666666666735130e-01;      // 3FE55555 55555593
constexpr double kLg2 = 3.999999999940941908e-01;      // 3FD99999 9997FA04
constexpr double kLg3 = 2.857142874366239149e-01;      // 3FD24924 94229359
constexpr double kLg4 = 2.222219843214978396e-01;      // 3FCC71C5 1D8E78AF
constexpr double kLg5 = 1.818357216161805012e-01;      // 3FC74664 96CB03DE
constexpr double kLg6 = 1.531383769920937332e-01;      // 3FC39A09 D078C69F
constexpr double kLg7 = 1.479819860511658591e-01;      // 3FC2F112 DF3E5244
constexpr double kTwo54 = 18014398509481984.0;         // scales subnormals into the normal range

SKUCAST_HD uint64_t to_bits(double x) {
#if defined(__CUDA_ARCH__)
  return static_cast<uint64_t>(__double_as_longlong(x));
#else
  uint64_t b;
  std::memcpy(&b, &x, sizeof b);
  return b;
#endif
}
SKUCAST_HD double from_bits(uint64_t b) {
#if defined(__CUDA_ARCH__)
  return __longlong_as_double(static_cast<long long>(b));
#else
  double x;
  std::memcpy(&x, &b, sizeof x);
  return x;
#endif
}

// The core for positive normal finite x: x = 2^k m with m in [sqrt(2)/2, sqrt(2)), f = m - 1,
// and log(m) = 2 atanh(s), s = f / (2 + f), by fdlibm's minimax polynomial in s^2.
// extra_k carries the exponent shift of a scaled subnormal.
SKUCAST_HD double log_normal(double x, int64_t extra_k) {
  const uint64_t bits = to_bits(x);
  const int64_t hx_full = static_cast<int64_t>(bits >> 32);
  const int64_t hx = hx_full & 0x000fffff;
  const int64_t i = (hx + 0x95f64) & 0x100000;  // set when the mantissa is >= sqrt(2): halve it
  const int64_t k = (hx_full >> 20) - 1023 + (i >> 20) + extra_k;
  const double m = from_bits((static_cast<uint64_t>(hx | (i ^ 0x3ff00000)) << 32) | (bits & 0xffffffffu));
  const double f = m - 1.0;
  const double dk = static_cast<double>(k);
  const double s = f / (2.0 + f);
  const double z = s * s;
  const double w = z * z;
  const double t1 = w * (kLg2 + w * (kLg4 + w * kLg6));
  const double t2 = z * (kLg1 + w * (kLg3 + w * (kLg5 + w * kLg7)));
  const double R = t2 + t1;
  const double hfsq = 0.5 * f * f;
  // fdlibm chooses between this form and dk ln2_hi - ((s (f - R) - dk ln2_lo) - f) by mantissa
  // range; this one alone measured <= 0.86 ulp against logl over 6e7 samples (wide exponents,
  // the whole mantissa range, arguments within 2^-40 of 1), so no branch is needed.
  return dk * kLn2Hi - ((hfsq - (s * (hfsq + R) + dk * kLn2Lo)) - f);
}

// log(x) for every double: subnormals scaled, log(0) = -inf, log(<0) = NaN, log(inf) = inf.
SKUCAST_HD double log(double x) {
  if (x >= DBL_MIN && x <= DBL_MAX) return log_normal(x, 0);
  if (x > 0.0 && x < DBL_MIN) return log_normal(x * kTwo54, -54);
  if (x == 0.0) return -INFINITY;
  if (x > 0.0) return x;  // +inf
  return x != x ? x : NAN;
}

}  // namespace plog
}  // namespace skucast
