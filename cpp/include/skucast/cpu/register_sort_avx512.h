// Sorting networks on 16-lane registers of int32 keys (AVX-512, for code chosen at run time):
// a bitonic sort of one register, merges into sorted runs of up to 64 keys, and running sums.
#pragma once
#include "skucast/cpu/avx512.h"
SKUCAST_AVX512_WARNINGS_OFF
#include <cstdint>

#if defined(__AVX2__) && defined(__GNUC__)
#include <immintrin.h>

#define SKUCAST_AVX512_FN SKUCAST_AVX512_TARGET inline

namespace skucast {
namespace cpu {
namespace bucket512 {

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

// The first `layers` layers: 10 sort all 16 lanes; 6 sort lanes 0-7 ascending and 8-15
// descending (two buckets of <= 8 in one register).
template <int layers>
SKUCAST_AVX512_FN __m512i bitonic_layers(__m512i v) {
  for (int layer = 0; layer < layers; ++layer) {
    const __m512i p = _mm512_permutexvar_epi32(_mm512_load_si512(kBitonic16.partner[layer]), v);
    v = _mm512_mask_blend_epi32(kBitonic16.take_max[layer], _mm512_min_epi32(v, p), _mm512_max_epi32(v, p));
  }
  return v;
}
SKUCAST_AVX512_FN __m512i sort16(__m512i v) { return bitonic_layers<10>(v); }

// Running sums of 16 lanes (four shift-and-add steps).
SKUCAST_AVX512_FN __m512i prefix16(__m512i x) {
  const __m512i zero = _mm512_setzero_si512();
  x = _mm512_add_epi32(x, _mm512_alignr_epi32(x, zero, 15));
  x = _mm512_add_epi32(x, _mm512_alignr_epi32(x, zero, 14));
  x = _mm512_add_epi32(x, _mm512_alignr_epi32(x, zero, 12));
  return _mm512_add_epi32(x, _mm512_alignr_epi32(x, zero, 8));
}

SKUCAST_AVX512_FN __m512i reverse16(__m512i v) {
  return _mm512_permutexvar_epi32(_mm512_set_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15), v);
}

// A bitonic register to ascending order: the last four layers (the half-cleaners of k = 16).
SKUCAST_AVX512_FN __m512i bitonic_finish(__m512i v) {
  for (int layer = 6; layer < 10; ++layer) {
    const __m512i p = _mm512_permutexvar_epi32(_mm512_load_si512(kBitonic16.partner[layer]), v);
    v = _mm512_mask_blend_epi32(kBitonic16.take_max[layer], _mm512_min_epi32(v, p), _mm512_max_epi32(v, p));
  }
  return v;
}

// Two ascending registers to one ascending run of 32 (a then b).
SKUCAST_AVX512_FN void merge32(__m512i& a, __m512i& b) {
  const __m512i r = reverse16(b);
  const __m512i low = _mm512_min_epi32(a, r), high = _mm512_max_epi32(a, r);
  a = bitonic_finish(low);
  b = bitonic_finish(high);
}

// Sorts the keys held in 1 to 4 registers (16 each; a fourth register of 3 is all padding, so
// its sort and its merge with the third are skipped: both leave the registers as they are).
SKUCAST_AVX512_FN void sort_registers(__m512i* v, int regs) {
  for (int i = 0; i < regs; ++i) v[i] = sort16(v[i]);
  if (regs < 2) return;
  merge32(v[0], v[1]);
  if (regs < 3) return;
  if (regs == 3)
    v[3] = _mm512_set1_epi32(INT32_MAX);
  else
    merge32(v[2], v[3]);
  const __m512i r2 = reverse16(v[3]), r3 = reverse16(v[2]);  // second run of 32, reversed
  const __m512i l0 = _mm512_min_epi32(v[0], r2), l1 = _mm512_min_epi32(v[1], r3);
  const __m512i h0 = _mm512_max_epi32(v[0], r2), h1 = _mm512_max_epi32(v[1], r3);
  v[0] = bitonic_finish(_mm512_min_epi32(l0, l1));
  v[1] = bitonic_finish(_mm512_max_epi32(l0, l1));
  v[2] = bitonic_finish(_mm512_min_epi32(h0, h1));
  v[3] = bitonic_finish(_mm512_max_epi32(h0, h1));
}

}  // namespace bucket512
}  // namespace cpu
}  // namespace skucast
#endif
SKUCAST_AVX512_WARNINGS_ON
