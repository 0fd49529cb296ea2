// Special functions behind the NB/Poisson math, accurate in the tails (Loader's saddle-point
// method: stirlerr + bd0) and written once for host and device.
#pragma once
#include "skucast/core/hostdevice.h"
#include "skucast/dist/tables.h"

#if !defined(__CUDA_ARCH__)
#include <array>
#endif

namespace skucast {

// log(k!) for whole k >= 0: table for small k, lgamma beyond.
SKUCAST_HD double log_factorial(double k) {
  return k < kLogFactorialTableSize ? log_factorial_table(static_cast<int>(k)) : lgamma(k + 1.0);
}

constexpr int kReciprocalTableSize = 512;
#if !defined(__CUDA_ARCH__)
namespace tables {
inline const std::array<double, kReciprocalTableSize> kReciprocals = [] {
  std::array<double, kReciprocalTableSize> t{};
  for (int k = 1; k < kReciprocalTableSize; ++k) t[k] = 1.0 / k;
  return t;
}();
}  // namespace tables
#endif

// 1.0 / k for 1 <= k < kReciprocalTableSize: a table on the CPU, a division on the GPU;
// both are the correctly rounded quotient, so the two devices agree bit for bit.
SKUCAST_HD double reciprocal(int k) {
#if defined(__CUDA_ARCH__)
  return 1.0 / k;
#else
  return tables::kReciprocals[k];
#endif
}

// stirlerr(x) = log(x!) - ((x + 1/2) log x - x + log sqrt(2 pi)), x > 0 (Loader 2000).
// The asymptotic series is used from x > 15 on: its next term there is below 3e-16.
SKUCAST_HD double stirlerr(double x) {
  constexpr double S0 = 1.0 / 12, S1 = 1.0 / 360, S2 = 1.0 / 1260, S3 = 1.0 / 1680, S4 = 1.0 / 1188;
  if (x <= 15.0) {
    const double twice = x + x;
    if (twice == floor(twice)) return stirlerr_halves_table(static_cast<int>(twice));
    // lgamma(1+x) keeps the absolute error near 1e-15 even for tiny x (the value is ~ -log(x)/2).
    return lgamma(x + 1.0) - (x + 0.5) * log(x) + x - kLnSqrt2Pi;
  }
  const double nn = x * x;
  if (x > 500) return (S0 - S1 / nn) / x;
  if (x > 80) return (S0 - (S1 - S2 / nn) / nn) / x;
  if (x > 35) return (S0 - (S1 - (S2 - S3 / nn) / nn) / nn) / x;
  return (S0 - (S1 - (S2 - (S3 - S4 / nn) / nn) / nn) / nn) / x;
}

// bd0(x, m) given both m and diff = x - m, each computed without rounding loss by the caller:
// the series near x ~ m uses diff (the small quantity), the far branch uses m.
SKUCAST_HD double bd0_diff(double x, double m, double diff) {
  if (fabs(diff) < 0.1 * (x + m)) {
    double v = diff / (x + m);
    double s = diff * v;
    double ej = 2.0 * x * v;
    v *= v;
    for (int j = 1; j < 1000; ++j) {
      ej *= v;
      const double s1 = s + ej / (2 * j + 1);
      if (s1 == s) return s1;
      s = s1;
    }
    return s;
  }
  const double ratio = x / m;  // past the double range for a tiny m (subnormal, or 1e-300 against 1e10)
  return x * (ratio < INFINITY ? log(ratio) : log(x) - log(m)) + m - x;
}

// bd0(x, m) = x log(x/m) + m - x, the deviance term, without the cancellation at x ~ m.
SKUCAST_HD double bd0(double x, double m) { return bd0_diff(x, m, x - m); }

// log1p(x)/x with no underflow for tiny x (a*mu can be subnormal while mu is not).
SKUCAST_HD double log1p_over_x(double x) {
  if (fabs(x) < 1e-5) return 1.0 - x * (0.5 - x * (1.0 / 3.0 - x * 0.25));
  return log1p(x) / x;
}

// log1p(x) - x, accurate for small |x| (Marsaglia-Tsang acceptance with huge shapes).
SKUCAST_HD double log1pmx(double x) {
  if (fabs(x) < 0.01) {
    // -x^2/2 + x^3/3 - ...: ten terms reach 1e-20 relative at |x| = 0.01.
    double term = -x * x, sum = 0.0;
    for (int k = 2; k <= 12; ++k) {
      sum += term / k;
      term *= -x;
    }
    return sum;
  }
  return log1p(x) - x;
}

// Standard normal quantile, Wichura's AS241 (PPND16): ~1e-16 relative.
SKUCAST_HD double normal_ppf(double p) {
  const double q = p - 0.5;
  if (fabs(q) <= 0.425) {
    const double r = 0.180625 - q * q;
    return q *
           (((((((2509.0809287301226727 * r + 33430.575583588128105) * r + 67265.770927008700853) * r +
                45921.953931549871457) * r + 13731.693765509461125) * r + 1971.5909503065514427) * r +
             133.14166789178437745) * r + 3.387132872796366608) /
           (((((((5226.495278852545925 * r + 28729.085735721942674) * r + 39307.89580009271061) * r +
                21213.794301586595867) * r + 5394.1960214247511077) * r + 687.1870074920579083) * r +
             42.313330701600911252) * r + 1.0);
  }
  double r = q < 0 ? p : 1.0 - p;
  r = sqrt(-log(r));
  double val;
  if (r <= 5.0) {
    r -= 1.6;
    val = (((((((7.7454501427834140764e-4 * r + 0.0227238449892691845833) * r + 0.24178072517745061177) * r +
               1.27045825245236838258) * r + 3.64784832476320460504) * r + 5.7694972214606914055) * r +
            4.6303378461565452959) * r + 1.42343711074968357734) /
          (((((((1.05075007164441684324e-9 * r + 5.475938084995344946e-4) * r + 0.0151986665636164571966) * r +
               0.14810397642748007459) * r + 0.68976733498510000455) * r + 1.6763848301838038494) * r +
            2.05319162663775882187) * r + 1.0);
  } else {
    r -= 5.0;
    val = (((((((2.01033439929228813265e-7 * r + 2.71155556874348757815e-5) * r + 0.0012426609473880784386) * r +
               0.026532189526576123093) * r + 0.29656057182850489123) * r + 1.7848265399172913358) * r +
            5.4637849111641143699) * r + 6.6579046435011037772) /
          (((((((2.04426310338993978564e-15 * r + 1.4215117583164458887e-7) * r + 1.8463183175100546818e-5) * r +
               7.868691311456132591e-4) * r + 0.0148753612908506148525) * r + 0.13692988092273580531) * r +
            0.59983220655588793769) * r + 1.0);
  }
  return q < 0 ? -val : val;
}

}  // namespace skucast
