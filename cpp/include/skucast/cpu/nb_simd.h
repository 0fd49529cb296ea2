// The vector NB loops (logpmf, ppf), host only, x86-64 with AVX2 (the x86-64-v3 build): simd4
// (four lanes) and simd8 (eight lanes, AVX-512, called only where the CPU has it). Both are the
// same source, cpu/logpmf_simd_body.h and cpu/ppf_simd_body.h, compiled for each width.
#pragma once
#include <algorithm>
#include <cfloat>
#include <cstdint>
#include <cstring>

#include "skucast/core/nb_rules.h"
#include "skucast/core/portable_log.h"
#include "skucast/core/strided.h"
#include "skucast/cpu/avx512.h"
#include "skucast/dist/negbin.h"
#include "skucast/dist/negbin_ppf.h"
#include "skucast/dist/tables.h"

namespace skucast {
namespace cpu {

// One element as the strided loop does it: validate, then the full nb::logpmf. Lanes that
// leave the vector formula end here.
template <class Y, class P>
inline void logpmf_one(const Y* y, const P* mu, const P* alpha, P* out, int64_t k, BadValue& first) {
  const int arg = rules::check_triple(y[k], mu[k], alpha[k]);
  if (arg >= 0) {
    if (!first.found()) first = BadValue{k, arg};
    out[k] = P(NAN);
    return;
  }
  out[k] = static_cast<P>(nb::logpmf(static_cast<double>(y[k]), mu[k], alpha[k]));
}

// One ppf element as the strided loop does it (q_step 0: one q for all).
template <class P>
inline void ppf_one(const P* q, int64_t q_step, const P* mu, const P* alpha, int64_t* out, int64_t k,
                    BadValue& first) {
  const double qv = q[k * q_step], mv = mu[k], av = alpha[k];
  int arg = -1;
  if (!rules::valid_q(qv)) arg = rules::kArgQ;
  else arg = rules::param_arg(mv, av);
  if (arg >= 0) {
    if (!first.found()) first = BadValue{k, arg};
    out[k] = -1;
    return;
  }
  out[k] = nb::ppf(qv, mv, av);
}

}  // namespace cpu
}  // namespace skucast

#if defined(__AVX2__) && defined(__GNUC__)
#include <immintrin.h>
#define SKUCAST_HAVE_SIMD 1
#endif
#define SKUCAST_SIMD_BODY "skucast/cpu/logpmf_simd_body.h"
#include "skucast/cpu/simd_widths.h"
#undef SKUCAST_SIMD_BODY
#define SKUCAST_SIMD_BODY "skucast/cpu/ppf_simd_body.h"
#include "skucast/cpu/simd_widths.h"
#undef SKUCAST_SIMD_BODY
