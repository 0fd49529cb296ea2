// bucket_select for contiguous float rows with AVX-512, chosen at run time (use_avx512(), off
// with SKUCAST_NO_AVX512=1): the same bucket ids and histogram as the portable path, but a
// wanted bucket's members are picked out 16 at a time by compress stores (no branch per value)
// and, up to 16 of them, sorted by a bitonic network in one register on the float order keys.
// Same keys, same order as sort_small, so both paths give the same bits.
#pragma once
#include <cstdint>

#include "skucast/cpu/bucket_select.h"

#if defined(__AVX2__) && defined(__GNUC__)
#define SKUCAST_HAVE_BUCKET_AVX512 1
#include <immintrin.h>

namespace skucast {
namespace cpu {

bool use_avx512();  // nbinom.cpp: CPU check and the SKUCAST_NO_AVX512 switch, read once

namespace bucket512 {

#define SKUCAST_AVX512_FN __attribute__((target("avx512f,avx512dq,avx512vl,avx512bw"))) inline

// Bitonic network on 16 lanes: 10 layers of (partner lane, which lanes keep the max).
struct Bitonic16 {
  int32_t partner[10][16];
  uint16_t take_max[10];
};
constexpr Bitonic16 make_bitonic16() {
  Bitonic16 t{};
  int layer = 0;
  for (int k = 2; k <= 16; k *= 2)
    for (int j = k / 2; j > 0; j /= 2, ++layer)
      for (int i = 0; i < 16; ++i) {
        t.partner[layer][i] = i ^ j;
        const bool ascending = (i & k) == 0, lower = (i & j) == 0;
        if (ascending != lower) t.take_max[layer] = static_cast<uint16_t>(t.take_max[layer] | (1u << i));
      }
  return t;
}
alignas(64) inline constexpr Bitonic16 kBitonic16 = make_bitonic16();

SKUCAST_AVX512_FN __m512i sort16(__m512i v) {
  for (int layer = 0; layer < 10; ++layer) {
    const __m512i p = _mm512_permutexvar_epi32(_mm512_load_si512(kBitonic16.partner[layer]), v);
    v = _mm512_mask_blend_epi32(kBitonic16.take_max[layer], _mm512_min_epi32(v, p), _mm512_max_epi32(v, p));
  }
  return v;
}

// float bits <-> float_order_key, lane-wise (the map is its own inverse).
SKUCAST_AVX512_FN __m512i order_keys(__m512i bits) {
  return _mm512_xor_si512(bits, _mm512_and_si512(_mm512_maskz_srai_epi32(0xffff, bits, 31), _mm512_set1_epi32(0x7fffffff)));
}

SKUCAST_AVX512_FN void ids16(const float* row, int64_t n, float lo, float scale, int32_t last, int32_t* ids) {
  const __m512 vlo = _mm512_set1_ps(lo), vscale = _mm512_set1_ps(scale);
  const __m512i vlast = _mm512_set1_epi32(last);
  for (int64_t j = 0; j < n; j += 16) {
    const __mmask16 m = n - j >= 16 ? __mmask16(0xffff) : static_cast<__mmask16>((1u << (n - j)) - 1);
    const __m512 t = _mm512_mul_ps(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, row + j), vlo), vscale);
    _mm512_mask_storeu_epi32(ids + j, m, _mm512_min_epi32(_mm512_cvttps_epi32(t), vlast));
  }
}

// Copies the `count` values with id b into out (room for count + 16) by compress stores.
SKUCAST_AVX512_FN void members16(const float* row, const int32_t* ids, int64_t n, int32_t b, int64_t count,
                                 float* out) {
  const __m512i vb = _mm512_set1_epi32(b);
  int64_t c = 0;
  for (int64_t j = 0; j < n && c < count; j += 16) {
    const __mmask16 live = n - j >= 16 ? __mmask16(0xffff) : static_cast<__mmask16>((1u << (n - j)) - 1);
    const __mmask16 m = _mm512_mask_cmpeq_epi32_mask(live, _mm512_maskz_loadu_epi32(live, ids + j), vb);
    _mm512_storeu_ps(out + c, _mm512_maskz_compress_ps(m, _mm512_maskz_loadu_ps(live, row + j)));
    c += _mm_popcnt_u32(static_cast<uint32_t>(m));  // 32-bit: a 16-bit popcnt would merge into the old register
  }
}

}  // namespace bucket512

__attribute__((target("avx512f,avx512dq,avx512vl,avx512bw"))) inline bool bucket_select_avx512(
    const float* row, int64_t n, float lo, float hi, const int64_t* ranks, int64_t num_ranks, float* values,
    BucketScratch<float>& s) {
  const int32_t buckets = bucket_count(n);
  const float spread = hi - lo;
  const float scale = static_cast<float>(buckets) / spread;
  if (!(spread > 0 && spread < INFINITY && scale < INFINITY)) return false;
  s.ids.resize(static_cast<size_t>(n));
  if (s.members.size() < static_cast<size_t>(n + 16)) s.members.resize(static_cast<size_t>(n + 16));
  bucket512::ids16(row, n, lo, scale, buckets - 1, s.ids.data());
  const int32_t* ids = s.ids.data();
  const int32_t* counts = bucket_histogram(ids, n, buckets, s.counts);
  float* members = s.members.data();
  alignas(64) float sorted16[16];
  const float* sorted = sorted16;
  int64_t before = 0;  // values in buckets below b
  int32_t b = 0, loaded = -1;
  int64_t count = counts[0];
  for (int64_t k = 0; k < num_ranks; ++k) {
    while (before + count <= ranks[k]) {
      before += count;
      ++b;
      count = counts[b];
    }
    if (b != loaded) {
      bucket512::members16(row, ids, n, b, count, members);
      if (count <= 16) {
        const __mmask16 m = static_cast<__mmask16>((1u << count) - 1);
        __m512i keys = bucket512::order_keys(_mm512_castps_si512(_mm512_maskz_loadu_ps(m, members)));
        keys = _mm512_mask_mov_epi32(_mm512_set1_epi32(INT32_MAX), m, keys);  // padding sorts last
        _mm512_store_si512(sorted16, bucket512::order_keys(bucket512::sort16(keys)));
        sorted = sorted16;
      } else {
        sort_small(members, count);
        sorted = members;
      }
      loaded = b;
    }
    values[k] = sorted[ranks[k] - before];
  }
  return true;
}

#undef SKUCAST_AVX512_FN

}  // namespace cpu
}  // namespace skucast
#endif
