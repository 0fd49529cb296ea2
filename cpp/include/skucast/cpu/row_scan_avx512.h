// quantile::scan_row for contiguous float and integer rows (AVX-512, chosen at run time like
// the bucket selection). Tail lanes repeat the row's first value, which changes neither the
// range nor the flags. Only the sign of a zero minimum or maximum may differ from the AVX2 scan, and
// no path's output depends on it (lo is a bucket base and a spread end, never a result).
#pragma once
#include "skucast/cpu/avx512.h"
SKUCAST_AVX512_WARNINGS_OFF
#include <cstdint>
#include <type_traits>

#include "skucast/quantile/row_scan.h"

#if defined(__AVX2__) && defined(__GNUC__)
#include <immintrin.h>

namespace skucast {
namespace cpu {

SKUCAST_AVX512_TARGET inline quantile::RowScan<float> scan_row_avx512(
    const float* src, int64_t n) {
  const __m512 first = _mm512_set1_ps(src[0]);
  __m512 lo = first, hi = first;
  // -0.0 is the one float whose bits, read as int32, are INT32_MIN: a min finds it without
  // another compare into a mask register (those share one port with the other flags' ORs).
  __m512i least_bits = _mm512_set1_epi32(INT32_MAX);
  __mmask16 fraction = 0, nan = 0;
  for (int64_t j = 0; j < n; j += 16) {
    const __mmask16 live = n - j >= 16 ? __mmask16(0xffff) : static_cast<__mmask16>((1u << (n - j)) - 1);
    const __m512 v = _mm512_mask_loadu_ps(first, live, src + j);
    lo = _mm512_min_ps(lo, v);
    hi = _mm512_max_ps(hi, v);
    fraction |= _mm512_cmp_ps_mask(v, _mm512_roundscale_ps(v, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC), _CMP_NEQ_UQ);
    nan |= _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
    least_bits = _mm512_min_epi32(least_bits, _mm512_castps_si512(v));
  }
  quantile::RowScan<float> r{_mm512_reduce_min_ps(lo), _mm512_reduce_max_ps(hi)};
  r.whole = fraction == 0;
  r.has_nan = nan != 0;
  r.negative_zero = _mm512_reduce_min_epi32(least_bits) == INT32_MIN;
  return r;
}

// The range of contiguous int32 / int64 rows (whole, no NaN by nature), 16 or 8 lanes.
template <class I>
SKUCAST_AVX512_TARGET inline quantile::RowScan<I> scan_row_avx512(const I* src, int64_t n) {
  static_assert(std::is_same_v<I, int32_t> || std::is_same_v<I, int64_t>, "int32 or int64 rows");
  constexpr bool wide = sizeof(I) == 8;
  constexpr int64_t lanes = 64 / sizeof(I);
  const __m512i first =
      wide ? _mm512_set1_epi64(static_cast<int64_t>(src[0])) : _mm512_set1_epi32(static_cast<int32_t>(src[0]));
  __m512i lo = first, hi = first;
  for (int64_t j = 0; j < n; j += lanes) {
    const __mmask16 live = static_cast<__mmask16>(n - j >= lanes ? (1u << lanes) - 1 : (1u << (n - j)) - 1);
    if constexpr (wide) {
      const __m512i v = _mm512_mask_loadu_epi64(first, static_cast<__mmask8>(live), src + j);
      lo = _mm512_min_epi64(lo, v), hi = _mm512_max_epi64(hi, v);
    } else {
      const __m512i v = _mm512_mask_loadu_epi32(first, live, src + j);
      lo = _mm512_min_epi32(lo, v), hi = _mm512_max_epi32(hi, v);
    }
  }
  if constexpr (wide)
    return {_mm512_reduce_min_epi64(lo), _mm512_reduce_max_epi64(hi)};
  else
    return {_mm512_reduce_min_epi32(lo), _mm512_reduce_max_epi32(hi)};
}

}  // namespace cpu
}  // namespace skucast
#endif
SKUCAST_AVX512_WARNINGS_ON
