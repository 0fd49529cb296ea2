// logpmf and ppf over dense (contiguous, unbroadcast) operands: lanes through the vector loops
// (cpu/nb_simd.h; ppf's large means through a vector start and the scalar walk after it), every
// other element (invalid values, large counts, near-ties, the last few) through the scalar header. logpmf lanes agree bit for bit with the scalar path and
// ppf lanes give the same exact quantile, so the output depends neither on the lane width nor
// on where chunks and tails fall.
#pragma once
#include <cstdint>

#include "skucast/core/nb_rules.h"
#include "skucast/core/strided.h"
#include "skucast/cpu/avx512.h"
#include "skucast/cpu/nb_simd.h"
#include "skucast/dist/negbin.h"

namespace skucast {
namespace cpu {

// Elements [begin, end); returns the first invalid one.
template <class Y, class P>
BadValue logpmf_dense(const Y* y, const P* mu, const P* alpha, P* out, int64_t begin, int64_t end) {
  BadValue first;
  int64_t k = begin;
#if defined(SKUCAST_HAVE_SIMD)
  if (use_avx512()) k = simd8::logpmf_lanes(y, mu, alpha, out, k, end, first);
  k = simd4::logpmf_lanes(y, mu, alpha, out, k, end, first);
#endif
  for (; k < end; ++k) logpmf_one(y, mu, alpha, out, k, first);
  return first;
}

// Elements [begin, end) of ppf; returns the first invalid one. q_step: 1 for a dense q, 0 for
// one q for all (the common ppf(0.95, mu, alpha)).
template <class P>
BadValue ppf_dense(const P* q, int64_t q_step, const P* mu, const P* alpha, int64_t* out, int64_t begin,
                   int64_t end) {
  BadValue first;
  int64_t k = begin;
#if defined(SKUCAST_HAVE_SIMD)
  if (use_avx512()) k = simd8::ppf_lanes(q, q_step, mu, alpha, out, k, end, first);
  k = simd4::ppf_lanes(q, q_step, mu, alpha, out, k, end, first);
#endif
  for (; k < end; ++k) ppf_one(q, q_step, mu, alpha, out, k, first);
  return first;
}

}  // namespace cpu
}  // namespace skucast
