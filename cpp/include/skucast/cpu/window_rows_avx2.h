// window_sum for float rows (m2 == 1), eight rows of one series at a time, AVX2.
// Each row's window is summed day by day in double, in day order (the GPU kernel's order and
// that of the former per-day gather), so results are bitwise unchanged. Instead of one 8-lane
// gather per day (slow on current x86, microcoded), eight days of eight rows are read with
// plain contiguous loads and transposed in registers.
#pragma once
#if defined(__AVX2__)
#include <immintrin.h>

#include <cstdint>

namespace skucast {
namespace cpu {

// r[t] (day t of rows 0..7 on input as r[row]) -> r[t] holds day t of the eight rows.
inline void transpose8x8(__m256 r[8]) {
  const __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
  const __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
  const __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
  const __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
  const __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE);
  const __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
  const __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE);
  const __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
  r[0] = _mm256_permute2f128_ps(u0, u4, 0x20);
  r[1] = _mm256_permute2f128_ps(u1, u5, 0x20);
  r[2] = _mm256_permute2f128_ps(u2, u6, 0x20);
  r[3] = _mm256_permute2f128_ps(u3, u7, 0x20);
  r[4] = _mm256_permute2f128_ps(u0, u4, 0x31);
  r[5] = _mm256_permute2f128_ps(u1, u5, 0x31);
  r[6] = _mm256_permute2f128_ps(u2, u6, 0x31);
  r[7] = _mm256_permute2f128_ps(u3, u7, 0x31);
}

// Software prefetch of the lines `kPrefetchBytes` past [p, p + n): the kernel reads a few
// rows at a time with short windows, and on one core the hardware prefetcher alone left it
// ~30% below a plain streaming read (8.7 -> 12.8 GB/s on (3e4, 100, 28), 1 thread; 2-3 KiB
// ahead is a plateau, 4 KiB and the non-temporal hint were slower).
constexpr int64_t kPrefetchBytes = 3072;
inline void prefetch_ahead(const float* p, int64_t n) {
  const char* c = reinterpret_cast<const char*>(p) + kPrefetchBytes;
  for (int64_t b = 0; b < n * 4; b += 64) _mm_prefetch(c + b, _MM_HINT_T0);
}

// Window sums of eight consecutive rows (stride `horizon` floats) over days [a, a + len),
// written as float to dst[0, 8). The last block of days is read with a lane mask, so no load
// goes past the window's end (the array may end there).
inline void window_rows8_avx2(const float* rows, int64_t horizon, int64_t a, int64_t len, float* dst) {
  __m256d lo = _mm256_setzero_pd(), hi = _mm256_setzero_pd();
  const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  for (int64_t d = 0; d < len; d += 8) {
    const int64_t left = len - d;
    __m256 v[8];
    if (left >= 8) {
      for (int k = 0; k < 8; ++k) v[k] = _mm256_loadu_ps(rows + k * horizon + a + d);
    } else {
      const __m256i in = _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int32_t>(left)), lanes);
      for (int k = 0; k < 8; ++k) v[k] = _mm256_maskload_ps(rows + k * horizon + a + d, in);
    }
    transpose8x8(v);
    // Days past the window were loaded as +0.0, and adding +0.0 to a sum that started at +0.0
    // leaves its bits unchanged, so only whole halves of the block are skipped.
    const int days = left > 4 ? 8 : 4;
    for (int t = 0; t < days; ++t) {
      lo = _mm256_add_pd(lo, _mm256_cvtps_pd(_mm256_castps256_ps128(v[t])));
      hi = _mm256_add_pd(hi, _mm256_cvtps_pd(_mm256_extractf128_ps(v[t], 1)));
    }
  }
  _mm_storeu_ps(dst, _mm256_cvtpd_ps(lo));
  _mm_storeu_ps(dst + 4, _mm256_cvtpd_ps(hi));
}

}  // namespace cpu
}  // namespace skucast
#endif
