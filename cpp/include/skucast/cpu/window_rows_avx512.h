// window_sum for float rows (m2 == 1), eight rows at a time, AVX-512 (run-time dispatch, see
// use_avx512()). Same order as window_rows_avx2.h (each row: double sum in day order from
// +0.0), so both paths give the same bits. Cheaper per block: the float -> double conversion
// reads memory directly (no shuffle-port uop) and one 8x8 transpose of doubles replaces the
// float transpose plus the per-day half extraction and two conversions.
#pragma once
#include "skucast/cpu/avx512.h"
SKUCAST_AVX512_WARNINGS_OFF
#if defined(__AVX2__) && defined(__GNUC__)
#include <immintrin.h>

#include <cstdint>

namespace skucast {
namespace cpu {

// z[k] (row k, eight days) -> z[t] (day t, eight rows).
SKUCAST_AVX512_TARGET inline void transpose8x8_pd(__m512d z[8]) {
  const __m512d t0 = _mm512_unpacklo_pd(z[0], z[1]), t1 = _mm512_unpackhi_pd(z[0], z[1]);
  const __m512d t2 = _mm512_unpacklo_pd(z[2], z[3]), t3 = _mm512_unpackhi_pd(z[2], z[3]);
  const __m512d t4 = _mm512_unpacklo_pd(z[4], z[5]), t5 = _mm512_unpackhi_pd(z[4], z[5]);
  const __m512d t6 = _mm512_unpacklo_pd(z[6], z[7]), t7 = _mm512_unpackhi_pd(z[6], z[7]);
  // 128-bit lanes: (a.L0, b.L0, a.L2, b.L2) holds days 0|4 (from unpacklo) or 1|5 (unpackhi);
  // (a.L1, b.L1, a.L3, b.L3) days 2|6 or 3|7.
  const __m512i even = _mm512_setr_epi64(0, 1, 8, 9, 4, 5, 12, 13);
  const __m512i odd = _mm512_setr_epi64(2, 3, 10, 11, 6, 7, 14, 15);
  const __m512d d04a = _mm512_permutex2var_pd(t0, even, t2), d26a = _mm512_permutex2var_pd(t0, odd, t2);
  const __m512d d15a = _mm512_permutex2var_pd(t1, even, t3), d37a = _mm512_permutex2var_pd(t1, odd, t3);
  const __m512d d04b = _mm512_permutex2var_pd(t4, even, t6), d26b = _mm512_permutex2var_pd(t4, odd, t6);
  const __m512d d15b = _mm512_permutex2var_pd(t5, even, t7), d37b = _mm512_permutex2var_pd(t5, odd, t7);
  z[0] = _mm512_shuffle_f64x2(d04a, d04b, 0x44);
  z[4] = _mm512_shuffle_f64x2(d04a, d04b, 0xEE);
  z[1] = _mm512_shuffle_f64x2(d15a, d15b, 0x44);
  z[5] = _mm512_shuffle_f64x2(d15a, d15b, 0xEE);
  z[2] = _mm512_shuffle_f64x2(d26a, d26b, 0x44);
  z[6] = _mm512_shuffle_f64x2(d26a, d26b, 0xEE);
  z[3] = _mm512_shuffle_f64x2(d37a, d37b, 0x44);
  z[7] = _mm512_shuffle_f64x2(d37a, d37b, 0xEE);
}

// As window_rows8_avx2: rows [0, 8) (stride `horizon`), days [a, a + len), out to dst[0, 8).
SKUCAST_AVX512_TARGET inline void window_rows8_avx512(const float* rows, int64_t horizon, int64_t a, int64_t len,
                                                      float* dst) {
  __m512d acc = _mm512_setzero_pd();
  for (int64_t d = 0; d < len; d += 8) {
    const int64_t left = len - d;
    __m512d z[8];
    if (left >= 8) {
      for (int k = 0; k < 8; ++k) z[k] = _mm512_cvtps_pd(_mm256_loadu_ps(rows + k * horizon + a + d));
    } else {  // masked days load as +0.0, which leaves the sums' bits unchanged
      const __mmask8 in = static_cast<__mmask8>((1u << left) - 1u);
      for (int k = 0; k < 8; ++k) z[k] = _mm512_cvtps_pd(_mm256_maskz_loadu_ps(in, rows + k * horizon + a + d));
    }
    transpose8x8_pd(z);
    acc = _mm512_add_pd(acc, z[0]);
    acc = _mm512_add_pd(acc, z[1]);
    acc = _mm512_add_pd(acc, z[2]);
    acc = _mm512_add_pd(acc, z[3]);
    if (left > 4) {
      acc = _mm512_add_pd(acc, z[4]);
      acc = _mm512_add_pd(acc, z[5]);
      acc = _mm512_add_pd(acc, z[6]);
      acc = _mm512_add_pd(acc, z[7]);
    }
  }
  _mm256_storeu_ps(dst, _mm512_cvtpd_ps(acc));
}

}  // namespace cpu
}  // namespace skucast
#endif
SKUCAST_AVX512_WARNINGS_ON
