// Whole-number float rows (sample paths of counts) with AVX-512, chosen at run time like the
// bucket selection: the same values as quantile::count_ranks without its walk over the counts.
#pragma once
// GCC 12 warns that the _mm512_undefined_* placeholders inside its own intrinsics are
// uninitialized; the instructions overwrite them in full.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <cstdint>

#include "skucast/cpu/bucket_select_avx512.h"

#if defined(SKUCAST_HAVE_BUCKET_AVX512)
namespace skucast {
namespace cpu {

// Whole-number float rows spanning at most 256 integers, |values| < 2^24 (so x - lo is exact):
// one bucket per integer, running counts by registers, and each rank's bucket by vector
// compares, with no walk over the histogram and no data-dependent branch. Same values as
// quantile::count_ranks (lo + bucket, formed in double).
SKUCAST_AVX512_FN void count_small_rows(const float* row, int64_t n, float lo, int32_t width, const int64_t* ranks,
                                        int64_t num_ranks, float* values, BucketScratch<float>& s) {
  s.ids.resize(static_cast<size_t>(n));
  bucket512::ids16(row, n, lo, 1.0f, width - 1, s.ids.data());
  const int32_t* counts = bucket_histogram(s.ids.data(), n, width, s.counts);
  alignas(64) int32_t ends[256];  // ends[b]: values <= lo + b
  __m512i carry = _mm512_setzero_si512();
  for (int32_t b = 0; b < width; b += 16) {
    const int32_t left = width - b;
    const __mmask16 valid = left >= 16 ? __mmask16(0xffff) : static_cast<__mmask16>((1u << left) - 1);
    const __m512i sums = _mm512_add_epi32(bucket512::prefix16(_mm512_maskz_loadu_epi32(valid, counts + b)), carry);
    carry = _mm512_permutexvar_epi32(_mm512_set1_epi32(15), sums);
    _mm512_store_si512(ends + b, sums);
  }
  // 32 ranks at a time (linear's 18 in one pass over the ends, inverted_cdf's 9 in the first
  // half only): each rank's bucket is the number of ends at or below it (the last end, n,
  // never is), counted over the row's few buckets; lo + bucket is exact before its one
  // rounding to float, as in double.
  const __m512 base = _mm512_set1_ps(lo);
  const __m512i one = _mm512_set1_epi32(1);
  for (int64_t k = 0; k < num_ranks; k += 32) {
    const __mmask16 live = bucket512::first_lanes(num_ranks - k), live2 = bucket512::first_lanes(num_ranks - k - 16);
    const __m512i r = bucket512::load_ranks(ranks + k, live), r2 = bucket512::load_ranks(ranks + k + 16, live2);
    __m512i b = _mm512_setzero_si512(), b2 = b;
    if (live2 == 0) {
      for (int32_t v = 0; v + 1 < width; ++v)
        b = _mm512_mask_add_epi32(b, _mm512_cmple_epi32_mask(_mm512_set1_epi32(ends[v]), r), b, one);
    } else {
      for (int32_t v = 0; v + 1 < width; ++v) {
        const __m512i end = _mm512_set1_epi32(ends[v]);
        b = _mm512_mask_add_epi32(b, _mm512_cmple_epi32_mask(end, r), b, one);
        b2 = _mm512_mask_add_epi32(b2, _mm512_cmple_epi32_mask(end, r2), b2, one);
      }
    }
    _mm512_mask_storeu_ps(values + k, live, _mm512_add_ps(base, _mm512_cvtepi32_ps(b)));
    _mm512_mask_storeu_ps(values + k + 16, live2, _mm512_add_ps(base, _mm512_cvtepi32_ps(b2)));
  }
}

}  // namespace cpu
}  // namespace skucast
#endif
#pragma GCC diagnostic pop
