// One pass over a sample row for batched quantiles: min, max, whether every value is a whole
// number, whether any is NaN, and whether any is -0.0. AVX2 for contiguous float rows (the common case), scalar
// otherwise; both give identical answers.
#pragma once
#include <cmath>
#include <cstdint>
#include <type_traits>

#if defined(__AVX2__)
#include <immintrin.h>
#endif

namespace skucast {
namespace quantile {

template <class T>
struct RowScan {
  T lo, hi;
  bool whole = true, has_nan = false, negative_zero = false;
};

// Where a row holds a -0.0, the zeros' signs at the ranks are set as a sort puts them (-0.0
// before +0.0, as the sorting network and the GPU order them; numpy's answer for a row of -0.0
// zeros): the zero at rank k is -0.0 when k < (values below 0) + (-0.0 values). Counting
// rebuilds a zero as +0.0, and a selection picks either zero.
template <class T>
inline void sign_zeros(const T* src, int64_t n, int64_t stride, const int64_t* ranks, int64_t num_ranks, T* values) {
  int64_t negative_end = 0;
  for (int64_t j = 0; j < n; ++j) {
    const T v = src[j * stride];
    negative_end += (v < T(0)) | ((v == T(0)) & std::signbit(v));
  }
  for (int64_t k = 0; k < num_ranks; ++k)
    if (values[k] == T(0)) values[k] = ranks[k] < negative_end ? -T(0) : T(0);
}

template <class T>
inline void scan_scalar(const T* src, int64_t n, int64_t stride, RowScan<T>& r) {
  for (int64_t j = 0; j < n; ++j) {
    const T v = src[j * stride];
    r.lo = v < r.lo ? v : r.lo;
    r.hi = v > r.hi ? v : r.hi;
    if constexpr (!std::is_integral_v<T>) {
      r.has_nan |= (v != v);
      r.whole &= (v == std::floor(v));
      r.negative_zero |= (v == T(0)) & std::signbit(v);
    }
  }
}

template <class T>
inline RowScan<T> scan_row(const T* src, int64_t n, int64_t stride) {
  RowScan<T> r{src[0], src[0]};
#if defined(__AVX2__)
  if constexpr (std::is_same_v<T, float>) {
    if (stride == 1 && n >= 8) {
      __m256 lo = _mm256_set1_ps(src[0]), hi = lo, frac = _mm256_setzero_ps(), nan = _mm256_setzero_ps();
      const __m256i sign = _mm256_set1_epi32(INT32_MIN);
      __m256i negative_zero = _mm256_setzero_si256();
      int64_t j = 0;
      for (; j + 8 <= n; j += 8) {
        const __m256 v = _mm256_loadu_ps(src + j);
        lo = _mm256_min_ps(lo, v);
        hi = _mm256_max_ps(hi, v);
        frac = _mm256_or_ps(frac, _mm256_cmp_ps(v, _mm256_floor_ps(v), _CMP_NEQ_UQ));
        nan = _mm256_or_ps(nan, _mm256_cmp_ps(v, v, _CMP_UNORD_Q));
        negative_zero = _mm256_or_si256(negative_zero, _mm256_cmpeq_epi32(_mm256_castps_si256(v), sign));
      }
      alignas(32) float l[8], h[8];
      _mm256_store_ps(l, lo);
      _mm256_store_ps(h, hi);
      r.whole = _mm256_movemask_ps(frac) == 0;
      r.has_nan = _mm256_movemask_ps(nan) != 0;
      r.negative_zero = !_mm256_testz_si256(negative_zero, negative_zero);
      for (int k = 0; k < 8; ++k) {
        r.lo = l[k] < r.lo ? l[k] : r.lo;
        r.hi = h[k] > r.hi ? h[k] : r.hi;
      }
      scan_scalar(src + j, n - j, 1, r);
      return r;
    }
  }
  if constexpr (std::is_same_v<T, double>) {
    if (stride == 1 && n >= 4) {
      __m256d lo = _mm256_set1_pd(src[0]), hi = lo, frac = _mm256_setzero_pd(), nan = _mm256_setzero_pd();
      const __m256i sign = _mm256_set1_epi64x(INT64_MIN);
      __m256i negative_zero = _mm256_setzero_si256();
      int64_t j = 0;
      for (; j + 4 <= n; j += 4) {
        const __m256d v = _mm256_loadu_pd(src + j);
        lo = _mm256_min_pd(lo, v);
        hi = _mm256_max_pd(hi, v);
        frac = _mm256_or_pd(frac, _mm256_cmp_pd(v, _mm256_floor_pd(v), _CMP_NEQ_UQ));
        nan = _mm256_or_pd(nan, _mm256_cmp_pd(v, v, _CMP_UNORD_Q));
        negative_zero = _mm256_or_si256(negative_zero, _mm256_cmpeq_epi64(_mm256_castpd_si256(v), sign));
      }
      alignas(32) double l[4], h[4];
      _mm256_store_pd(l, lo);
      _mm256_store_pd(h, hi);
      r.whole = _mm256_movemask_pd(frac) == 0;
      r.has_nan = _mm256_movemask_pd(nan) != 0;
      r.negative_zero = !_mm256_testz_si256(negative_zero, negative_zero);
      for (int k = 0; k < 4; ++k) {
        r.lo = l[k] < r.lo ? l[k] : r.lo;
        r.hi = h[k] > r.hi ? h[k] : r.hi;
      }
      scan_scalar(src + j, n - j, 1, r);
      return r;
    }
  }
#endif
  scan_scalar(src, n, stride, r);
  return r;
}

}  // namespace quantile
}  // namespace skucast
