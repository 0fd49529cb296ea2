// Order statistics of 16 contiguous float rows (8 double rows) at once, one row per lane (AVX-512,
// chosen at run time like the bucket selection). The rows are transposed so that register j holds
// value j of every row, then go through a sorting network that does not look at the data: Batcher's
// odd-even merge sort of each 16 values in registers, then bitonic merges up to the row's power
// of two (padding sorts last and never moves, so the merges leave out its comparators). Each
// compare-exchange is one min and one max for 16 rows, with no branch, histogram or bookkeeping
// per row; the bucket selection spent most of its time on those for continuous rows. The last
// merge stops at the 16-wire blocks that hold a wanted rank.
// The network compares floats (vminps/vmaxps: twice the throughput of integer min/max here).
// That gives the order of sort_small's keys for every value but -0.0, which float min/max do
// not tell from 0.0, so a group holding a -0.0 is sorted on the int32 order keys instead: the
// same bits as the paths that sort on the keys either way.
#pragma once
#include "skucast/cpu/avx512.h"
SKUCAST_AVX512_WARNINGS_OFF
#include <array>
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <utility>

#include "skucast/cpu/bucket_select_avx512.h"
#include "skucast/cpu/window_rows_avx512.h"

#if defined(SKUCAST_HAVE_BUCKET_AVX512)

namespace skucast {
namespace cpu {
namespace network512 {

// The network's pieces take their register arrays by pointer: inlined, the arrays stay in
// registers (GCC did not inline the transpose by itself, which sent every tile through memory).
#define SKUCAST_NETWORK_FN SKUCAST_AVX512_FN __attribute__((always_inline))

constexpr int kLanes = 16;        // rows per call at most (float rows; double rows: 8)
constexpr int kMaxWires = 1024;   // values per row

struct Pair {
  int lo, hi;  // the smaller value goes to lo
};

// Batcher's odd-even merge sort of 16 wires (63 comparators), in Knuth's iterative form.
constexpr int kSort16Size = 63;
constexpr std::array<Pair, kSort16Size> make_sort16() {
  std::array<Pair, kSort16Size> net{};
  int c = 0;
  for (int p = 1; p < 16; p *= 2)
    for (int k = p; k >= 1; k /= 2)
      for (int j = k % p; j + k < 16; j += 2 * k)
        for (int i = 0; i < k && i + j + k < 16; ++i)
          if ((i + j) / (2 * p) == (i + j + k) / (2 * p)) net[c++] = Pair{i + j, i + j + k};
  return net;
}
inline constexpr std::array<Pair, kSort16Size> kSort16 = make_sort16();

constexpr int count_sort16() {
  int c = 0;
  for (int p = 1; p < 16; p *= 2)
    for (int k = p; k >= 1; k /= 2)
      for (int j = k % p; j + k < 16; j += 2 * k)
        for (int i = 0; i < k && i + j + k < 16; ++i) c += (i + j) / (2 * p) == (i + j + k) / (2 * p);
  return c;
}
static_assert(count_sort16() == kSort16Size, "odd-even merge sort of 16 has 63 comparators");

// The half-cleaners of a bitonic merge on 16 wires (distances 8, 4, 2, 1), ascending: inside one
// 16-wire block, and, for rows past 256 values, on 16 blocks of one residue (block distances 8 .. 1).
constexpr std::array<Pair, 32> make_half_cleaners16() {
  std::array<Pair, 32> net{};
  int c = 0;
  for (int d = 8; d >= 1; d /= 2)
    for (int i = 0; i < 16; ++i)
      if ((i & d) == 0) net[c++] = Pair{i, i + d};
  return net;
}
inline constexpr auto kNear16 = make_half_cleaners16();

// The merges are bitonic merges in their "flip" form: every comparator puts the smaller value on
// the lower wire, so padding (+inf, or the largest key) placed after a row's n values never
// moves, and a comparator whose upper wire is padding does nothing. Such comparators are left
// out: for rows of 200 values (256 wires) about a fifth of the merges' work. The first level of
// the merge into runs of R blocks compares block s + j with block s + R - 1 - j of each run and
// value h of one with value 15 - h of the other; storing the upper half of every run reversed
// within its blocks makes that the same residue h of both blocks, as every later level is.
//
// The far levels (block distances) of the merge into runs of R blocks over `blocks` blocks, the
// first `live` of them real: flip, then half-cleaners at distances R / 4 .. down_to. (Compiled
// for AVX-512: the wide merges' visitor, which compare-exchanges wires, is inlined into it.)
template <class Visit>
SKUCAST_AVX512_TARGET constexpr void far_pairs(int blocks, int R, int live, Visit&& visit, int down_to = 1) {
  for (int s = 0; s < blocks; s += R)
    for (int j = 0; j < R / 2; ++j)
      if (s + R - 1 - j < live) visit(s + j, s + R - 1 - j);
  for (int d = R / 4; d >= down_to; d /= 2)
    for (int m = 0; m + d < live; ++m)
      if ((m & d) == 0) visit(m, m + d);
}
// Blocks some far comparator of the merge can change (both its blocks real); the others are
// still sorted and skip the near levels.
constexpr uint64_t changed_blocks(int blocks, int R, int live) {
  uint64_t changed = 0;
  far_pairs(blocks, R, live, [&](int lo, int hi) { changed |= (uint64_t{1} << lo) | (uint64_t{1} << hi); });
  return changed;
}
template <int blocks, int R, int live>
constexpr int far_size() {
  int c = 0;
  far_pairs(blocks, R, live, [&](int, int) { ++c; });
  return c;
}
template <int blocks, int R, int live>
constexpr std::array<Pair, far_size<blocks, R, live>()> make_far() {
  std::array<Pair, far_size<blocks, R, live>()> net{};
  int c = 0;
  far_pairs(blocks, R, live, [&](int lo, int hi) { net[c++] = Pair{lo, hi}; });
  return net;
}
template <int blocks, int R, int live>
inline constexpr auto kFar = make_far<blocks, R, live>();

// int64 order keys of double rows (a type of their own for the overloads below).
struct Key64 {
  __m512i v;
};

// float bits <-> int64 order key, lane-wise (the map is its own inverse), as order_keys for floats.
SKUCAST_NETWORK_FN __m512i order_keys64(__m512i bits) {
  return _mm512_xor_si512(bits, _mm512_and_si512(_mm512_srai_epi64(bits, 63), _mm512_set1_epi64(INT64_MAX)));
}

// The orders the network sorts in: floats and doubles (no NaN, no -0.0), int32 and int64 keys.
SKUCAST_NETWORK_FN __m512 lower(__m512 a, __m512 b) { return _mm512_min_ps(a, b); }
SKUCAST_NETWORK_FN __m512 upper(__m512 a, __m512 b) { return _mm512_max_ps(a, b); }
SKUCAST_NETWORK_FN __m512d lower(__m512d a, __m512d b) { return _mm512_min_pd(a, b); }
SKUCAST_NETWORK_FN __m512d upper(__m512d a, __m512d b) { return _mm512_max_pd(a, b); }
SKUCAST_NETWORK_FN __m512i lower(__m512i a, __m512i b) { return _mm512_min_epi32(a, b); }
SKUCAST_NETWORK_FN __m512i upper(__m512i a, __m512i b) { return _mm512_max_epi32(a, b); }
SKUCAST_NETWORK_FN Key64 lower(Key64 a, Key64 b) { return {_mm512_min_epi64(a.v, b.v)}; }
SKUCAST_NETWORK_FN Key64 upper(Key64 a, Key64 b) { return {_mm512_max_epi64(a.v, b.v)}; }
SKUCAST_NETWORK_FN __m512 as(__m512, __m512i bits) { return _mm512_castsi512_ps(bits); }
SKUCAST_NETWORK_FN __m512d as(__m512d, __m512i bits) { return _mm512_castsi512_pd(bits); }
SKUCAST_NETWORK_FN __m512i as(__m512i, __m512i bits) { return bits; }
SKUCAST_NETWORK_FN Key64 as(Key64, __m512i bits) { return {bits}; }
SKUCAST_NETWORK_FN __m512i bits_of(__m512 v) { return _mm512_castps_si512(v); }
SKUCAST_NETWORK_FN __m512i bits_of(__m512d v) { return _mm512_castpd_si512(v); }
SKUCAST_NETWORK_FN __m512i bits_of(__m512i v) { return v; }
SKUCAST_NETWORK_FN __m512i bits_of(Key64 v) { return v.v; }
// A wire's float bits: as they are, or from an order key.
SKUCAST_NETWORK_FN __m512i float_bits(__m512, __m512i wire) { return wire; }
SKUCAST_NETWORK_FN __m512i float_bits(__m512d, __m512i wire) { return wire; }
SKUCAST_NETWORK_FN __m512i float_bits(__m512i, __m512i wire) { return bucket512::order_keys(wire); }
SKUCAST_NETWORK_FN __m512i float_bits(Key64, __m512i wire) { return order_keys64(wire); }
template <class V>
SKUCAST_NETWORK_FN V load(const __m512i* at) { return as(V{}, _mm512_load_si512(at)); }
template <class V>
SKUCAST_NETWORK_FN void store(__m512i* at, V v) { _mm512_store_si512(at, bits_of(v)); }

template <class V>
SKUCAST_NETWORK_FN void exchange(V& a, V& b) {
  const V lo = lower(a, b), hi = upper(a, b);
  a = lo;
  b = hi;
}

// Every comparator of net on v, unrolled so that v stays in registers.
template <const auto& net, class V, std::size_t... I>
SKUCAST_NETWORK_FN void apply(V* v, std::index_sequence<I...>) {
  (exchange(v[net[I].lo], v[net[I].hi]), ...);
}
template <const auto& net, class V>
SKUCAST_NETWORK_FN void apply(V* v) {
  apply<net>(v, std::make_index_sequence<net.size()>{});
}

// A 16 x 16 transpose of 32-bit lanes (64 shuffles).
SKUCAST_NETWORK_FN void transpose16(__m512i* r) {
  __m512i t[16];
#pragma GCC unroll 16
  for (int i = 0; i < 8; ++i) {
    t[2 * i] = _mm512_unpacklo_epi32(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm512_unpackhi_epi32(r[2 * i], r[2 * i + 1]);
  }
#pragma GCC unroll 16
  for (int i = 0; i < 4; ++i) {
    r[4 * i] = _mm512_unpacklo_epi64(t[4 * i], t[4 * i + 2]);
    r[4 * i + 1] = _mm512_unpackhi_epi64(t[4 * i], t[4 * i + 2]);
    r[4 * i + 2] = _mm512_unpacklo_epi64(t[4 * i + 1], t[4 * i + 3]);
    r[4 * i + 3] = _mm512_unpackhi_epi64(t[4 * i + 1], t[4 * i + 3]);
  }
  // r[4i + e], 128-bit lane k: rows 4i..4i+3 at column 4k + e
#pragma GCC unroll 16
  for (int e = 0; e < 4; ++e) {
    const __m512i u0 = _mm512_shuffle_i32x4(r[e], r[4 + e], 0x44), u1 = _mm512_shuffle_i32x4(r[e], r[4 + e], 0xee);
    const __m512i w0 = _mm512_shuffle_i32x4(r[8 + e], r[12 + e], 0x44),
                  w1 = _mm512_shuffle_i32x4(r[8 + e], r[12 + e], 0xee);
    t[e] = _mm512_shuffle_i32x4(u0, w0, 0x88);
    t[4 + e] = _mm512_shuffle_i32x4(u0, w0, 0xdd);
    t[8 + e] = _mm512_shuffle_i32x4(u1, w1, 0x88);
    t[12 + e] = _mm512_shuffle_i32x4(u1, w1, 0xdd);
  }
#pragma GCC unroll 16
  for (int i = 0; i < 16; ++i) r[i] = t[i];
}

// vfpclass categories: quiet NaN, -0.0, signalling NaN.
constexpr int kNanOrNegativeZero = 0x01 | 0x04 | 0x80;

// What differs between float and double rows: rows per group (lanes), vector and key types,
// the transposes between rows and wires, and the lane masks.
template <class E>
struct Elem;

template <>
struct Elem<float> {
  using V = __m512;
  using Key = __m512i;
  static constexpr int kRows = 16;
  // Column tile `tile` (values 16 tile .. 16 tile + 15) of the rows as raw bits, one register
  // per column (lanes: rows); columns past n are 0.
  static SKUCAST_NETWORK_FN void load_tile(const float* const* rows, int64_t n, int tile, __m512i* v) {
    const int64_t j = 16 * static_cast<int64_t>(tile);
    const __mmask16 live = bucket512::first_lanes(n - j);
#pragma GCC unroll 16
    for (int l = 0; l < kRows; ++l) v[l] = _mm512_maskz_loadu_epi32(live, rows[l] + j);
    transpose16(v);
  }
  static SKUCAST_NETWORK_FN uint32_t nan_rows(__m512i bits) {
    const __m512 v = _mm512_castsi512_ps(bits);
    return _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
  }
  static SKUCAST_NETWORK_FN uint32_t negative_zero_rows(__m512i bits) {
    return _mm512_cmpeq_epi32_mask(bits, _mm512_set1_epi32(INT32_MIN));
  }
  // NaN or -0.0 (one vfpclassps for both; the rare rows it flags are told apart afterwards)
  static SKUCAST_NETWORK_FN uint32_t special_rows(__m512i bits) {
    return _mm512_fpclass_ps_mask(_mm512_castsi512_ps(bits), kNanOrNegativeZero);
  }
  static SKUCAST_NETWORK_FN V pad() { return _mm512_set1_ps(INFINITY); }
  static SKUCAST_NETWORK_FN Key key_pad() { return _mm512_set1_epi32(INT32_MAX); }
  static SKUCAST_NETWORK_FN Key key(__m512i bits) { return bucket512::order_keys(bits); }
  static SKUCAST_NETWORK_FN V or_pad(V v, bool padding) {
    return _mm512_mask_mov_ps(v, static_cast<__mmask16>(padding ? 0xffff : 0), pad());
  }
  static SKUCAST_NETWORK_FN Key or_pad(Key v, bool padding) {
    return _mm512_mask_mov_epi32(v, static_cast<__mmask16>(padding ? 0xffff : 0), key_pad());
  }
  // kRows registers of one value per rank (ranks k0.., count of them) to rows' values.
  static SKUCAST_NETWORK_FN void store_ranks(__m512i* out, int64_t count, float* const* values, int64_t k0) {
    transpose16(out);
    const __mmask16 live = bucket512::first_lanes(count);
#pragma GCC unroll 16
    for (int l = 0; l < kRows; ++l) _mm512_mask_storeu_epi32(values[l] + k0, live, out[l]);
  }
};

template <>
struct Elem<double> {
  using V = __m512d;
  using Key = Key64;
  static constexpr int kRows = 8;
  // Columns 16 tile .. 16 tile + 15 of the 8 rows, as two 8 x 8 transposes.
  static SKUCAST_NETWORK_FN void load_tile(const double* const* rows, int64_t n, int tile, __m512i* v) {
#pragma GCC unroll 2
    for (int half = 0; half < 2; ++half) {
      const int64_t j = 16 * static_cast<int64_t>(tile) + 8 * half;
      const __mmask8 live = static_cast<__mmask8>(bucket512::first_lanes(n - j));
      __m512d z[8];
#pragma GCC unroll 8
      for (int l = 0; l < kRows; ++l) z[l] = _mm512_maskz_loadu_pd(live, rows[l] + j);
      transpose8x8_pd(z);
#pragma GCC unroll 8
      for (int t = 0; t < 8; ++t) v[8 * half + t] = _mm512_castpd_si512(z[t]);
    }
  }
  static SKUCAST_NETWORK_FN uint32_t nan_rows(__m512i bits) {
    const __m512d v = _mm512_castsi512_pd(bits);
    return _mm512_cmp_pd_mask(v, v, _CMP_UNORD_Q);
  }
  static SKUCAST_NETWORK_FN uint32_t negative_zero_rows(__m512i bits) {
    return _mm512_cmpeq_epi64_mask(bits, _mm512_set1_epi64(INT64_MIN));
  }
  static SKUCAST_NETWORK_FN uint32_t special_rows(__m512i bits) {
    return _mm512_fpclass_pd_mask(_mm512_castsi512_pd(bits), kNanOrNegativeZero);
  }
  static SKUCAST_NETWORK_FN V pad() { return _mm512_set1_pd(INFINITY); }
  static SKUCAST_NETWORK_FN Key key_pad() { return {_mm512_set1_epi64(INT64_MAX)}; }
  static SKUCAST_NETWORK_FN Key key(__m512i bits) { return {order_keys64(bits)}; }
  static SKUCAST_NETWORK_FN V or_pad(V v, bool padding) {
    return _mm512_mask_mov_pd(v, static_cast<__mmask8>(padding ? 0xff : 0), pad());
  }
  static SKUCAST_NETWORK_FN Key or_pad(Key v, bool padding) {
    return {_mm512_mask_mov_epi64(v.v, static_cast<__mmask8>(padding ? 0xff : 0), key_pad().v)};
  }
  static SKUCAST_NETWORK_FN void store_ranks(__m512i* out, int64_t count, double* const* values, int64_t k0) {
    __m512d z[8];
#pragma GCC unroll 8
    for (int k = 0; k < 8; ++k) z[k] = _mm512_castsi512_pd(out[k]);
    transpose8x8_pd(z);
    const __mmask8 live = static_cast<__mmask8>(bucket512::first_lanes(count));
#pragma GCC unroll 8
    for (int l = 0; l < kRows; ++l) _mm512_mask_storeu_pd(values[l] + k0, live, z[l]);
  }
};

// Where a group's rows come from. Rows: one pointer per row, each row contiguous (a tile is
// transposed into wires). Columns: rows that are consecutive positions of a sample axis that is
// not last (a forecast's (series, samples, days) read over samples): value j of the group's rows
// is one contiguous vector, already a wire, so nothing is transposed. `lanes`: the group's rows
// (the other lanes read nothing and their results are dropped).
template <class Value>
struct Rows {
  using E = Value;
  const E* const* rows;
  SKUCAST_NETWORK_FN void load_tile(int64_t n, int tile, __m512i* v) const { Elem<E>::load_tile(rows, n, tile, v); }
  SKUCAST_NETWORK_FN uint32_t inexact_rows() const { return 0; }
};

template <class Value>
struct Columns {
  static_assert(std::is_same_v<Value, float> || std::is_same_v<Value, double>, "float or double columns");
  using E = Value;
  using Mask = std::conditional_t<sizeof(Value) == 4, __mmask16, __mmask8>;
  const Value* base;
  int64_t stride;
  Mask lanes;
  SKUCAST_NETWORK_FN void load_tile(int64_t n, int tile, __m512i* v) const {
    const int64_t j = 16 * static_cast<int64_t>(tile);
#pragma GCC unroll 16
    for (int c = 0; c < 16; ++c) {
      const Mask m = j + c < n ? lanes : Mask(0);
      // the next group's part of this column (the next line when the stride is long: the
      // hardware prefetcher does not follow a stride of kilobytes)
      __builtin_prefetch(base + Elem<Value>::kRows + (j + c) * stride);
      if constexpr (sizeof(Value) == 4)
        v[c] = _mm512_maskz_loadu_epi32(m, base + (j + c) * stride);
      else
        v[c] = _mm512_castpd_si512(_mm512_maskz_loadu_pd(m, base + (j + c) * stride));
    }
  }
  SKUCAST_NETWORK_FN uint32_t inexact_rows() const { return 0; }
};

// Integer columns (sample paths of counts) sorted as floats, exact for |value| <= 2^24; rows
// holding a value past that are flagged (inexact_rows) and left to the caller.
template <class Int>
struct IntColumns {
  static_assert(std::is_same_v<Int, int32_t> || std::is_same_v<Int, int64_t>, "int32 or int64 columns");
  using E = float;
  const Int* base;
  int64_t stride;
  __mmask16 lanes;
  mutable __mmask16 inexact = 0;
  SKUCAST_NETWORK_FN void load_tile(int64_t n, int tile, __m512i* v) const {
    const int64_t j = 16 * static_cast<int64_t>(tile);
#pragma GCC unroll 16
    for (int c = 0; c < 16; ++c) {
      const __mmask16 m = j + c < n ? lanes : __mmask16(0);
      const Int* at = base + (j + c) * stride;
      __builtin_prefetch(at + 16);  // the next group's part of this column, as Columns
      if constexpr (sizeof(Int) == 8) __builtin_prefetch(at + 24);
      if constexpr (sizeof(Int) == 4) {
        const __m512i x = _mm512_maskz_loadu_epi32(m, at);
        inexact |= _mm512_cmpgt_epu32_mask(_mm512_abs_epi32(x), _mm512_set1_epi32(1 << 24));
        v[c] = _mm512_castps_si512(_mm512_cvtepi32_ps(x));
      } else {
        const __m512i lo = _mm512_maskz_loadu_epi64(static_cast<__mmask8>(m), at);
        const __m512i hi = _mm512_maskz_loadu_epi64(static_cast<__mmask8>(m >> 8), at + 8);
        const __m512i limit = _mm512_set1_epi64(int64_t{1} << 24);
        inexact |= static_cast<__mmask16>(_mm512_cmpgt_epu64_mask(_mm512_abs_epi64(lo), limit) |
                                          (_mm512_cmpgt_epu64_mask(_mm512_abs_epi64(hi), limit) << 8));
        v[c] = _mm512_castps_si512(
            _mm512_insertf32x8(_mm512_castps256_ps512(_mm512_cvtepi64_ps(lo)), _mm512_cvtepi64_ps(hi), 1));
      }
    }
  }
  SKUCAST_NETWORK_FN uint32_t inexact_rows() const { return inexact; }
};

// Prefetches the next rows a few lines at a time, spread over the network's steps (a burst
// of prefetches stalls on the line fill buffers).
struct Ahead {
  const char* next;
  int64_t bytes, per_step, done = 0;
  SKUCAST_AVX512_FN void step() {
    for (const int64_t end = done + per_step < bytes ? done + per_step : bytes; done < end; done += 64)
      __builtin_prefetch(next + done);
  }
};

// 16 wires sorted ascending in v, stored ascending or reversed: one network for both
// directions halves the unrolled code the front end has to decode.
template <class V>
SKUCAST_NETWORK_FN void store_block(__m512i* at, const V* v, bool reversed) {
  if (reversed) {
#pragma GCC unroll 16
    for (int i = 0; i < 16; ++i) store(at + 15 - i, v[i]);
  } else {
#pragma GCC unroll 16
    for (int i = 0; i < 16; ++i) store(at + i, v[i]);
  }
}
template <class V>
SKUCAST_NETWORK_FN void load_block(const __m512i* at, V* v, bool reversed) {
  if (reversed) {
#pragma GCC unroll 16
    for (int i = 0; i < 16; ++i) v[i] = load<V>(at + 15 - i);
  } else {
#pragma GCC unroll 16
    for (int i = 0; i < 16; ++i) v[i] = load<V>(at + i);
  }
}

// Compare-exchanges wire g of two blocks in memory (far_pairs' visitor for rows past 256 values).
template <class V>
struct ExchangeResidue {
  __m512i* w;
  int g;
  SKUCAST_NETWORK_FN void operator()(int lo, int hi) const {
    V a = load<V>(w + 16 * lo + g), b = load<V>(w + 16 * hi + g);
    exchange(a, b);
    store(w + 16 * lo + g, a);
    store(w + 16 * hi + g, b);
  }
};

// The far levels of a merge into runs of R blocks over more than 16 blocks: block distances of 16
// and more a pair of wires at a time, one pass each, leaving out pairs with a padding block;
// then the levels below 16 within aligned chunks of 16 blocks of a residue, in registers (a chunk
// of padding only is left out; a partly real one runs whole, its padding comparators doing nothing).
template <int N, int R, class V>
SKUCAST_NETWORK_FN void far_stages_wide(__m512i* w, Ahead& ahead, int live) {
  constexpr int blocks = N / 16;
  if constexpr (R >= 32)  // the flip and the distances of 16 blocks and more
    for (int g = 0; g < 16; ++g) {
      ahead.step();
      far_pairs(blocks, R, live, ExchangeResidue<V>{w, g}, 16);
    }
  for (int g = 0; g < 16; ++g) {
    ahead.step();
    for (int chunk = 0; 16 * chunk < live; ++chunk) {
      __m512i* at = w + 256 * chunk + g;
      V v[16];
#pragma GCC unroll 16
      for (int i = 0; i < 16; ++i) v[i] = load<V>(at + 16 * i);
      if constexpr (R <= 16)
        apply<kFar<16, R, 16>>(v);  // the whole merge within the chunk
      else
        apply<kNear16>(v);  // distances 8 .. 1
#pragma GCC unroll 16
      for (int i = 0; i < 16; ++i) store(at + 16 * i, v[i]);
    }
  }
}

// The merge into runs of `run` wires (R = run / 16 blocks; before it, the upper half of every
// run is stored reversed) of the first `live` blocks (LIVE: the same, known at compile time,
// for rows of up to 256 values; 0 past that). Then, but for the last merge, the near levels
// of the changed blocks, stored as the next merge wants them.
template <int N, int run, int LIVE, class V>
SKUCAST_NETWORK_FN void merge_level(__m512i* w, Ahead& ahead, int live) {
  constexpr int blocks = N / 16, R = run / 16;
  if constexpr (blocks > 16) {
    far_stages_wide<N, R, V>(w, ahead, live);
  } else {
    constexpr uint64_t changed = changed_blocks(blocks, R, LIVE);
    for (int g = 0; g < 16; ++g) {
      ahead.step();
      V v[blocks];
#pragma GCC unroll 16
      for (int m = 0; m < LIVE; ++m) v[m] = load<V>(w + 16 * m + g);
      apply<kFar<blocks, R, LIVE>>(v);
#pragma GCC unroll 16
      for (int m = 0; m < LIVE; ++m)
        if ((changed >> m) & 1) store(w + 16 * m + g, v[m]);
    }
  }
  if constexpr (run == N) return;  // the caller finishes the wanted blocks
  const uint64_t changed = changed_blocks(blocks, R, live);
  for (int block = 0; block < live; ++block) {
    ahead.step();
    const bool reversed = (block & (R / 2)) != 0, reversed_next = (block & R) != 0;
    if (!((changed >> block) & 1) && reversed == reversed_next) continue;  // sorted, in place
    V v[16];
    load_block(w + 16 * block, v, reversed);
    apply<kNear16>(v);  // a no-op on an unchanged block (sorted), which only needs turning
    store_block(w + 16 * block, v, reversed_next);
  }
}

// Sorts tile `tile` (its columns in v, as V) into its 16 wires of w, reversed for odd tiles (the
// upper halves of the first merge's runs).
template <class V>
SKUCAST_NETWORK_FN void sort_tile(V* v, int tile, __m512i* w) {
  apply<kSort16>(v);
  store_block(w + 16 * tile, v, (tile & 1) != 0);
}

// The merges after the tiles are sorted, then the ranks' wires transposed back to rows (as
// float bits), kRows ranks at a time: the wanted blocks' near levels first (their wires are
// then in place).
template <int N, int LIVE, class E, class V>
SKUCAST_AVX512_FN void merge_and_pick(__m512i* w, Ahead& prefetch, int live, const int64_t* ranks,
                                      int64_t num_ranks, E* const* values) {
  if constexpr (N >= 32) merge_level<N, 32, LIVE, V>(w, prefetch, live);
  if constexpr (N >= 64) merge_level<N, 64, LIVE, V>(w, prefetch, live);
  if constexpr (N >= 128) merge_level<N, 128, LIVE, V>(w, prefetch, live);
  if constexpr (N >= 256) merge_level<N, 256, LIVE, V>(w, prefetch, live);
  if constexpr (N >= 512) merge_level<N, 512, LIVE, V>(w, prefetch, live);
  if constexpr (N >= 1024) merge_level<N, 1024, LIVE, V>(w, prefetch, live);
  constexpr int chunk = Elem<E>::kRows;
  V v[16];
  int finished = -1;
  __m512i out[16];
  for (int64_t k0 = 0; k0 < num_ranks; k0 += chunk) {
    const int64_t count = num_ranks - k0 < chunk ? num_ranks - k0 : chunk;
    for (int64_t k = 0; k < chunk; ++k) {
      if (k >= count) {
        out[k] = _mm512_setzero_si512();
        continue;
      }
      const int64_t r = ranks[k0 + k];
      const int block = static_cast<int>(r / 16);
      if (N > 16 && block != finished) {
        load_block(w + 16 * block, v, (block & (N / 32)) != 0);
        apply<kNear16>(v);
        store_block(w + 16 * block, v, false);
        finished = block;
      }
      out[k] = float_bits(V{}, _mm512_load_si512(w + r));
    }
    Elem<E>::store_ranks(out, count, values, k0);
  }
}

// merge_and_pick with the live blocks as a template argument for rows of up to 256 values (the
// merges' networks unrolled without the padding's comparators): LIVE from N / 16 down to the
// fewest a row of more than N / 2 values has.
template <int N, class E, class V, int LIVE = N / 16>
SKUCAST_AVX512_FN void merge_and_pick_live(__m512i* w, Ahead& prefetch, int live, const int64_t* ranks,
                                           int64_t num_ranks, E* const* values) {
  if constexpr (N > 256) {
    merge_and_pick<N, 0, E, V>(w, prefetch, live, ranks, num_ranks, values);
  } else {
    if constexpr (LIVE > N / 32 + 1)
      if (live < LIVE) return merge_and_pick_live<N, E, V, LIVE - 1>(w, prefetch, live, ranks, num_ranks, values);
    merge_and_pick<N, LIVE, E, V>(w, prefetch, live, ranks, num_ranks, values);
  }
}

// The rows' tiles as sorted 16-wire blocks of w, on the values (floats; the rows holding a NaN
// or a -0.0 are added to special_rows) or on their order keys. Tiles past the rows are pure
// padding (+inf, or the largest key), stored where a merge reads them (past 256 values, where a
// chunk of 16 blocks runs whole).
// W: Elem<E>'s V, or its Key with on_keys.
template <int N, class W, bool on_keys, class Source>
SKUCAST_NETWORK_FN void sort_tiles(const Source& rows, int64_t n, __m512i* w, Ahead& prefetch,
                                   uint32_t& special_rows) {
  using T = Elem<typename Source::E>;
  const int tiles = static_cast<int>((n + 15) / 16);
  for (int tile = 0; tile < (N > 256 ? N / 16 : tiles); ++tile) {
    prefetch.step();
    if (tile < tiles) {
      __m512i bits[16];
      rows.load_tile(n, tile, bits);
      const int64_t live = n - 16 * static_cast<int64_t>(tile);
      W v[16];
#pragma GCC unroll 16
      for (int i = 0; i < 16; ++i) {
        if constexpr (on_keys)
          v[i] = T::key(bits[i]);
        else {
          special_rows |= T::special_rows(bits[i]);
          v[i] = as(W{}, bits[i]);
        }
      }
      if (live < 16) {  // only the last tile holds padding
#pragma GCC unroll 16
        for (int i = 0; i < 16; ++i) v[i] = T::or_pad(v[i], i >= live);  // no index known only at run time: v stays in registers
      }
      sort_tile(v, tile, w);
    } else {
#pragma GCC unroll 16
      for (int i = 0; i < 16; ++i) {
        if constexpr (on_keys)
          store(w + 16 * tile + i, T::key_pad());
        else
          store(w + 16 * tile + i, T::pad());
      }
    }
  }
}

// Of the rows special_rows flagged, those holding a NaN (returned) and those holding a -0.0.
template <class Source>
SKUCAST_NETWORK_FN uint32_t tell_special_rows(const Source& rows, int64_t n, uint32_t& negative_zero_rows) {
  using T = Elem<typename Source::E>;
  uint32_t nan_rows = 0;
  for (int tile = 0; tile < static_cast<int>((n + 15) / 16); ++tile) {
    __m512i bits[16];
    rows.load_tile(n, tile, bits);
#pragma GCC unroll 16
    for (int i = 0; i < 16; ++i) {
      nan_rows |= T::nan_rows(bits[i]);
      negative_zero_rows |= T::negative_zero_rows(bits[i]);
    }
  }
  return nan_rows;
}

// values[l][k] = the ranks[k]-th smallest value of row l of `rows` (a Rows or Columns source),
// for Elem<E>::kRows rows of n values (N / 2 < n <= N, N a power of two from 16 to 1024; ranks
// ascending, < n). w: N registers of scratch, 64-byte aligned. The ahead_bytes from ahead (the
// next rows) are prefetched along the way. Returns the rows (lane bits) holding a NaN, or a
// value the source cannot give exactly; nothing is written then.
template <int N, class Source, class E = typename Source::E>
SKUCAST_AVX512_FN uint32_t network_select(const Source& rows, int64_t n, const int64_t* ranks, int64_t num_ranks,
                                          E* const* values, __m512i* w, const char* ahead, int64_t ahead_bytes) {
  static_assert(N >= 16 && N <= kMaxWires && (N & (N - 1)) == 0, "N: a power of two, 16 to 1024");
  using T = Elem<E>;
  using V = typename T::V;
  using Key = typename T::Key;
  const int tiles = static_cast<int>((n + 15) / 16);
  // Prefetch steps: the tiles, the residue groups of each merge and the blocks of all but the last.
  constexpr int merges = (N >= 32) + (N >= 64) + (N >= 128) + (N >= 256) + (N >= 512) + (N >= 1024);
  constexpr int steps = N / 16 + 16 * merges + (N / 16) * (merges > 0 ? merges - 1 : 0);  // (rows past
  // 256 values take a few more steps in their wide far stages: the prefetch ends early there)
  Ahead prefetch{ahead, ahead_bytes, (ahead_bytes / steps + 63) / 64 * 64};
  uint32_t special_rows = 0, negative_zero_rows = 0;
  sort_tiles<N, V, false>(rows, n, w, prefetch, special_rows);
  uint32_t bad_rows = rows.inexact_rows();
  if (special_rows) bad_rows |= tell_special_rows(rows, n, negative_zero_rows);
  if (bad_rows) return bad_rows;
  if (negative_zero_rows == 0) {
    merge_and_pick_live<N, E, V>(w, prefetch, tiles, ranks, num_ranks, values);
    return 0;
  }
  // -0.0 somewhere: again on the order keys (padding: the largest key, after every value's).
  sort_tiles<N, Key, true>(rows, n, w, prefetch, special_rows);
  merge_and_pick_live<N, E, Key>(w, prefetch, tiles, ranks, num_ranks, values);
  return 0;
}

// Whether the first (up to) 16 float values (8 double values) of a row are whole numbers (NaN: no).
SKUCAST_AVX512_FN bool whole_prefix(const float* row, int64_t n) {
  const __mmask16 live = bucket512::first_lanes(n);
  const __m512 v = _mm512_maskz_loadu_ps(live, row);
  return _mm512_mask_cmp_ps_mask(live, v, _mm512_roundscale_ps(v, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC),
                                 _CMP_NEQ_UQ) == 0;
}
SKUCAST_AVX512_FN bool whole_prefix(const double* row, int64_t n) {
  const __mmask8 live = static_cast<__mmask8>(bucket512::first_lanes(n));
  const __m512d v = _mm512_maskz_loadu_pd(live, row);
  return _mm512_mask_cmp_pd_mask(live, v, _mm512_roundscale_pd(v, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC),
                                 _CMP_NEQ_UQ) == 0;
}

// The power of two the rows' length takes (16 for the shortest rows).
inline int network_wires(int64_t n) {
  int wires = 16;
  while (wires < n) wires *= 2;
  return wires;
}

// network_select for any n in 1..1024, Elem<E>::kRows rows; scratch: 64-byte aligned, room for
// kMaxWires x 16 int32.
template <class Source, class E = typename Source::E>
SKUCAST_AVX512_FN uint32_t select_rows(const Source& rows, int64_t n, const int64_t* ranks, int64_t num_ranks,
                                       E* const* values, int32_t* scratch, const char* ahead, int64_t ahead_bytes) {
  __m512i* w = reinterpret_cast<__m512i*>(scratch);
  switch (network_wires(n)) {
    case 16: return network_select<16>(rows, n, ranks, num_ranks, values, w, ahead, ahead_bytes);
    case 32: return network_select<32>(rows, n, ranks, num_ranks, values, w, ahead, ahead_bytes);
    case 64: return network_select<64>(rows, n, ranks, num_ranks, values, w, ahead, ahead_bytes);
    case 128: return network_select<128>(rows, n, ranks, num_ranks, values, w, ahead, ahead_bytes);
    case 256: return network_select<256>(rows, n, ranks, num_ranks, values, w, ahead, ahead_bytes);
    case 512: return network_select<512>(rows, n, ranks, num_ranks, values, w, ahead, ahead_bytes);
    default: return network_select<1024>(rows, n, ranks, num_ranks, values, w, ahead, ahead_bytes);
  }
}

#undef SKUCAST_NETWORK_FN
}  // namespace network512
}  // namespace cpu
}  // namespace skucast
#endif
SKUCAST_AVX512_WARNINGS_ON
