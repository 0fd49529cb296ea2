// numpy's linear interpolation between the neighbouring order statistics of float rows, 8
// levels at a time (AVX-512, chosen at run time like the bucket selection). Same operations as quantile::lerp_like_numpy, each
// rounded alike (the build does not contract a * b + c), so the same bits.
#pragma once
#include "skucast/cpu/avx512.h"
SKUCAST_AVX512_WARNINGS_OFF
#include <cstdint>

#if defined(__AVX2__) && defined(__GNUC__)
#include <immintrin.h>

namespace skucast {
namespace cpu {

// dst[l] = lerp of values[prev[l]] and values[next[l]] by gamma[l]: the difference in float,
// then a + d t below gamma 0.5 and b - d (1 - t) from it, in double. The neighbours are picked
// by permutes from the (at most 32) values held in two registers: measured faster here than
// gathers. Returns false (nothing written) past 32 values.
SKUCAST_AVX512_TARGET inline bool lerp_levels_avx512(
    const float* values, int64_t num_values, const int32_t* prev, const int32_t* next, const double* gamma,
    int64_t num_levels, double* dst) {
  if (num_values > 32) return false;
  const __mmask16 first16 = num_values >= 16 ? __mmask16(0xffff) : static_cast<__mmask16>((1u << num_values) - 1);
  const __mmask16 second16 = num_values <= 16 ? __mmask16(0) : static_cast<__mmask16>((1ull << (num_values - 16)) - 1);
  const __m512 low = _mm512_maskz_loadu_ps(first16, values), high = _mm512_maskz_loadu_ps(second16, values + 16);
  for (int64_t l = 0; l < num_levels; l += 8) {
    const __mmask8 live = num_levels - l >= 8 ? __mmask8(0xff) : static_cast<__mmask8>((1u << (num_levels - l)) - 1);
    const __m512i prev_at = _mm512_maskz_loadu_epi32(live, prev + l), next_at = _mm512_maskz_loadu_epi32(live, next + l);
    const __m256 a = _mm512_castps512_ps256(_mm512_permutex2var_ps(low, prev_at, high));
    const __m256 b = _mm512_castps512_ps256(_mm512_permutex2var_ps(low, next_at, high));
    const __m512d d = _mm512_cvtps_pd(_mm256_sub_ps(b, a));
    const __m512d t = _mm512_maskz_loadu_pd(live, gamma + l);
    const __m512d from_a = _mm512_add_pd(_mm512_cvtps_pd(a), _mm512_mul_pd(d, t));
    const __m512d from_b = _mm512_sub_pd(_mm512_cvtps_pd(b), _mm512_mul_pd(d, _mm512_sub_pd(_mm512_set1_pd(1.0), t)));
    const __mmask8 upper = _mm512_cmp_pd_mask(t, _mm512_set1_pd(0.5), _CMP_GE_OQ);
    _mm512_mask_storeu_pd(dst + l, live, _mm512_mask_blend_pd(upper, from_a, from_b));
  }
  return true;
}

}  // namespace cpu
}  // namespace skucast
#endif
SKUCAST_AVX512_WARNINGS_ON
