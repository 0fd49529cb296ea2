// Whole-number float rows (sample paths of counts) with AVX-512, chosen at run time like the
// bucket selection: the same values as quantile::count_ranks without its walk over the counts.
#pragma once
#include "skucast/cpu/avx512.h"
SKUCAST_AVX512_WARNINGS_OFF
#include <cstdint>
#include <cstring>

#include "skucast/cpu/bucket_select_avx512.h"

#if defined(SKUCAST_HAVE_BUCKET_AVX512)
namespace skucast {
namespace cpu {

// Each rank's value from the counts at or below each integer: ends[v] = values <= lo + v for
// v < width - 1 (the last end, n, never is at or below a rank). The bucket of a rank is the
// number of ends at or below it, counted 32 ranks at a time (linear's 18 in one pass over the
// ends, inverted_cdf's 9 in the first half only) with no data-dependent branch; lo + bucket is
// exact before its one rounding to float, as in double.
SKUCAST_AVX512_FN void values_from_ends(const int32_t* ends, int32_t width, float lo, const int64_t* ranks,
                                        int64_t num_ranks, float* values) {
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

// Integer or whole double rows as floats (exact for |values| < 2^24, the only rows the count
// kernels take).
SKUCAST_AVX512_FN void to_float_row(const int32_t* row, int64_t n, float* out) {
  for (int64_t j = 0; j < n; j += 16) {
    const __mmask16 live = bucket512::first_lanes(n - j);
    _mm512_mask_storeu_ps(out + j, live, _mm512_cvtepi32_ps(_mm512_maskz_loadu_epi32(live, row + j)));
  }
}
SKUCAST_AVX512_FN void to_float_row(const int64_t* row, int64_t n, float* out) {
  for (int64_t j = 0; j < n; j += 8) {
    const __mmask8 live = static_cast<__mmask8>(bucket512::first_lanes(n - j));
    _mm256_mask_storeu_ps(out + j, live, _mm512_cvtepi64_ps(_mm512_maskz_loadu_epi64(live, row + j)));
  }
}

SKUCAST_AVX512_FN void to_float_row(const double* row, int64_t n, float* out) {
  for (int64_t j = 0; j < n; j += 8) {
    const __mmask8 live = static_cast<__mmask8>(bucket512::first_lanes(n - j));
    _mm256_mask_storeu_ps(out + j, live, _mm512_cvtpd_ps(_mm512_maskz_loadu_pd(live, row + j)));
  }
}

// Whole-number float rows spanning at most 256 integers, |values| < 2^24 (so x - lo is exact):
// one bucket per integer, running counts by registers. Same values as quantile::count_ranks
// (lo + bucket, formed in double).
SKUCAST_AVX512_FN void count_small_rows(const float* row, int64_t n, float lo, int32_t width, const int64_t* ranks,
                                        int64_t num_ranks, float* values, BucketScratch<float>& s) {
  s.ids.resize(static_cast<size_t>(n));
  bucket512::ids16(row, n, lo, 1.0f, width - 1, s.ids.data());
  alignas(64) int32_t counts[256];
  bucket512::histogram_small<4>(s.ids.data(), n, width, counts);  // counts: runs of zeros are common
  alignas(64) int32_t ends[256];  // ends[b]: values <= lo + b
  __m512i carry = _mm512_setzero_si512();
  for (int32_t b = 0; b < width; b += 16) {
    const int32_t left = width - b;
    const __mmask16 valid = left >= 16 ? __mmask16(0xffff) : static_cast<__mmask16>((1u << left) - 1);
    const __m512i sums = _mm512_add_epi32(bucket512::prefix16(_mm512_maskz_loadu_epi32(valid, counts + b)), carry);
    carry = _mm512_permutexvar_epi32(_mm512_set1_epi32(15), sums);
    _mm512_store_si512(ends + b, sums);
  }
  values_from_ends(ends, width, lo, ranks, num_ranks, values);
}

// Past this width the byte compares (one per integer) cost more than a histogram of the row
// (measured on 100- and 200-value rows: equal near 48).
inline constexpr int32_t kTinyCountWidth = 48;

// Values at or below v among `chunks` 64-byte chunks of values - lo (bytes; pads read 255).
SKUCAST_AVX512_FN int32_t bytes_at_or_below(const __m512i* chunk, int64_t chunks, int32_t v) {
  const __m512i level = _mm512_set1_epi8(static_cast<char>(v));
  uint64_t count = 0;
  for (int64_t c = 0; c < chunks; ++c)
    count += _mm_popcnt_u64(_mm512_cmple_epu8_mask(_mm512_loadu_si512(chunk + c), level));
  return static_cast<int32_t>(count);
}

// ends[v] (v < width - 1) with the row's `chunks` chunks copied to registers first (the byte
// buffer may alias the int32 stores to ends, so loads from it would be repeated for every v).
template <int chunks>
SKUCAST_AVX512_FN void tiny_ends(const uint8_t* bytes, int32_t width, int32_t* ends) {
  __m512i b[chunks];
  for (int c = 0; c < chunks; ++c) b[c] = _mm512_loadu_si512(bytes + 64 * c);
  for (int32_t v = 0; v + 1 < width; ++v) ends[v] = bytes_at_or_below(b, chunks, v);
}

// Rows spanning at most kTinyCountWidth integers (sample paths of slow movers: mostly zeros):
// the count at or below each integer by byte compares, 64 values per compare, instead of a
// histogram whose increments chain through one memory cell when most values are equal. Same
// values as count_small_rows.
SKUCAST_AVX512_FN void count_tiny_rows(const float* row, int64_t n, float lo, int32_t width, const int64_t* ranks,
                                       int64_t num_ranks, float* values, BucketScratch<float>& s) {
  const int64_t chunks = (n + 63) / 64;
  s.bytes.resize(static_cast<size_t>(64 * chunks));
  uint8_t* bytes = s.bytes.data();
  const __m512 vlo = _mm512_set1_ps(lo);
  int64_t j = 0;
  for (; j < n; j += 16) {  // a partial last vector stores its 16 bytes, the lanes past n as pads
    const __mmask16 live = bucket512::first_lanes(n - j);
    const __m512i t = _mm512_cvttps_epi32(_mm512_sub_ps(_mm512_maskz_loadu_ps(live, row + j), vlo));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(bytes + j),
                     _mm512_cvtepi32_epi8(_mm512_mask_mov_epi32(_mm512_set1_epi32(255), live, t)));
  }
  std::memset(bytes + j, 255, static_cast<size_t>(64 * chunks - j));  // pads: above any width (<= 255)
  alignas(64) int32_t ends[kTinyCountWidth];
  switch (chunks) {  // rows of up to 256 values (the usual sample counts): bytes held in registers
    case 1: tiny_ends<1>(bytes, width, ends); break;
    case 2: tiny_ends<2>(bytes, width, ends); break;
    case 3: tiny_ends<3>(bytes, width, ends); break;
    case 4: tiny_ends<4>(bytes, width, ends); break;
    default:
      for (int32_t v = 0; v + 1 < width; ++v)
        ends[v] = bytes_at_or_below(reinterpret_cast<const __m512i*>(bytes), chunks, v);
  }
  values_from_ends(ends, width, lo, ranks, num_ranks, values);
}

}  // namespace cpu
}  // namespace skucast
#endif
SKUCAST_AVX512_WARNINGS_ON
