// Order statistics of 16 contiguous float rows at once, one row per lane (AVX-512, chosen at run
// time like the bucket selection). The rows are transposed so that register j holds value j of
// every row, then go through a sorting network that does not look at the data: Batcher's
// odd-even merge sort of each 16 values in registers, then bitonic merges up to the row's power
// of two (padding sorts last). Each compare-exchange is one min and one max for 16 rows, with no
// branch, histogram or bookkeeping per row; the bucket selection spent most of its time on those
// for continuous rows. The last merge stops at the 16-wire blocks that hold a wanted rank.
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
#include <utility>

#include "skucast/cpu/bucket_select_avx512.h"

#if defined(SKUCAST_HAVE_BUCKET_AVX512)

namespace skucast {
namespace cpu {
namespace network512 {

// The network's pieces take their register arrays by pointer: inlined, the arrays stay in
// registers (GCC did not inline the transpose by itself, which sent every tile through memory).
#define SKUCAST_NETWORK_FN SKUCAST_AVX512_FN __attribute__((always_inline))

constexpr int kLanes = 16;        // rows per call
constexpr int kMaxWires = 256;    // values per row

struct Pair {
  int lo, hi;
  bool descending;  // the larger key goes to lo
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
          if ((i + j) / (2 * p) == (i + j + k) / (2 * p)) net[c++] = Pair{i + j, i + j + k, false};
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

// The half-cleaners of a bitonic merge inside one 16-wire block (distances 8, 4, 2, 1).
constexpr std::array<Pair, 32> make_near16() {
  std::array<Pair, 32> net{};
  int c = 0;
  for (int d = 8; d >= 1; d /= 2)
    for (int i = 0; i < 16; ++i)
      if ((i & d) == 0) net[c++] = Pair{i, i + d, false};
  return net;
}
inline constexpr std::array<Pair, 32> kNear16 = make_near16();

// The half-cleaners of the bitonic merge into runs of `run` wires whose distances are 16 or more,
// on the N/16 wires g, g + 16, g + 32, ... of one residue g (the same pairs for every g). A
// run's direction alternates with its index, except the last merge (run == N): ascending.
template <int N, int run>
constexpr int far_size() {
  int c = 0;
  for (int d = run / 32; d >= 1; d /= 2) c += N / 32;
  return c;
}
template <int N, int run>
constexpr std::array<Pair, far_size<N, run>()> make_far() {
  std::array<Pair, far_size<N, run>()> net{};
  int c = 0;
  for (int d = run / 32; d >= 1; d /= 2)
    for (int m = 0; m < N / 16; ++m)
      if ((m & d) == 0) net[c++] = Pair{m, m + d, (m & (run / 16)) != 0};
  return net;
}
template <int N, int run>
inline constexpr auto kFar = make_far<N, run>();

// The two orders the network sorts in: floats (no NaN, no -0.0) and int32 order keys.
SKUCAST_NETWORK_FN __m512 lower(__m512 a, __m512 b) { return _mm512_min_ps(a, b); }
SKUCAST_NETWORK_FN __m512 upper(__m512 a, __m512 b) { return _mm512_max_ps(a, b); }
SKUCAST_NETWORK_FN __m512i lower(__m512i a, __m512i b) { return _mm512_min_epi32(a, b); }
SKUCAST_NETWORK_FN __m512i upper(__m512i a, __m512i b) { return _mm512_max_epi32(a, b); }
SKUCAST_NETWORK_FN __m512 as(__m512, __m512i bits) { return _mm512_castsi512_ps(bits); }
SKUCAST_NETWORK_FN __m512i as(__m512i, __m512i bits) { return bits; }
SKUCAST_NETWORK_FN __m512i bits_of(__m512 v) { return _mm512_castps_si512(v); }
SKUCAST_NETWORK_FN __m512i bits_of(__m512i v) { return v; }
// A wire's float bits: as they are, or from an order key.
SKUCAST_NETWORK_FN __m512i float_bits(__m512, __m512i wire) { return wire; }
SKUCAST_NETWORK_FN __m512i float_bits(__m512i, __m512i wire) { return bucket512::order_keys(wire); }
template <class V>
SKUCAST_NETWORK_FN V load(const __m512i* at) { return as(V{}, _mm512_load_si512(at)); }
template <class V>
SKUCAST_NETWORK_FN void store(__m512i* at, V v) { _mm512_store_si512(at, bits_of(v)); }

template <bool descending, class V>
SKUCAST_NETWORK_FN void exchange(V& a, V& b) {
  const V lo = lower(a, b), hi = upper(a, b);
  a = descending ? hi : lo;
  b = descending ? lo : hi;
}

// Every comparator of net on v, unrolled so that v stays in registers.
template <const auto& net, class V, std::size_t... I>
SKUCAST_NETWORK_FN void apply(V* v, std::index_sequence<I...>) {
  ((net[I].descending ? exchange<true>(v[net[I].lo], v[net[I].hi]) : exchange<false>(v[net[I].lo], v[net[I].hi])),
   ...);
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

// Column tile `tile` (values 16 tile .. 16 tile + 15) of the 16 rows as raw bits, one register
// per column (lanes: rows); columns past n are 0.
SKUCAST_NETWORK_FN void load_tile(const float* const* rows, int64_t n, int tile, __m512i* v) {
  const int64_t j = 16 * static_cast<int64_t>(tile);
  const __mmask16 live = n - j >= 16 ? __mmask16(0xffff) : static_cast<__mmask16>((1u << (n - j)) - 1);
#pragma GCC unroll 16
  for (int l = 0; l < kLanes; ++l) v[l] = _mm512_maskz_loadu_epi32(live, rows[l] + j);
  transpose16(v);
}

// The far half-cleaners of the merge into runs of `run` (distances 16 .. run / 2), residue by
// residue, then the near ones block by block.
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
SKUCAST_NETWORK_FN void store_block(__m512i* at, const V* v, bool descending) {
  if (descending) {
#pragma GCC unroll 16
    for (int i = 0; i < 16; ++i) store(at + 15 - i, v[i]);
  } else {
#pragma GCC unroll 16
    for (int i = 0; i < 16; ++i) store(at + i, v[i]);
  }
}

template <int N, int run, class V>
SKUCAST_NETWORK_FN void merge_level(__m512i* w, Ahead& ahead, int tiles) {
  constexpr int groups = N / 16;
  for (int g = 0; g < 16; ++g) {
    ahead.step();
    V v[groups];
#pragma GCC unroll 16
    for (int m = 0; m < groups; ++m) v[m] = load<V>(w + 16 * m + g);
    apply<kFar<N, run>>(v);
#pragma GCC unroll 16
    for (int m = 0; m < groups; ++m) store(w + 16 * m + g, v[m]);
  }
  if constexpr (run == N) return;  // the caller finishes the wanted blocks
  // Runs made only of padding tiles hold only padding: their blocks are left as they are.
  const int live_blocks = (tiles + run / 16 - 1) / (run / 16) * (run / 16);
  for (int block = 0; block < live_blocks; ++block) {
    ahead.step();
    V v[16];
#pragma GCC unroll 16
    for (int i = 0; i < 16; ++i) v[i] = load<V>(w + 16 * block + i);
    apply<kNear16>(v);
    store_block(w + 16 * block, v, ((16 * block) & run) != 0);
  }
}

// Sorts tile `tile` (its columns in v, as V) into its 16 wires of w, ascending for even tiles
// and descending for odd ones, as the first bitonic merge wants them.
template <class V>
SKUCAST_NETWORK_FN void sort_tile(V* v, int tile, __m512i* w) {
  apply<kSort16>(v);
  store_block(w + 16 * tile, v, (tile & 1) != 0);
}

// The merges after the tiles are sorted, then the ranks' wires transposed back to rows (as
// float bits), 16 ranks at a time: the wanted blocks' near half-cleaners first (their wires
// are then in place).
template <int N, class V>
SKUCAST_AVX512_FN void merge_and_pick(__m512i* w, Ahead& prefetch, int tiles, const int64_t* ranks,
                                      int64_t num_ranks, float* const* values) {
  if constexpr (N >= 32) merge_level<N, 32, V>(w, prefetch, tiles);
  if constexpr (N >= 64) merge_level<N, 64, V>(w, prefetch, tiles);
  if constexpr (N >= 128) merge_level<N, 128, V>(w, prefetch, tiles);
  if constexpr (N >= 256) merge_level<N, 256, V>(w, prefetch, tiles);
  V v[16];
  int finished = -1;
  __m512i out[16];
  for (int64_t k0 = 0; k0 < num_ranks; k0 += 16) {
    const int64_t count = num_ranks - k0 < 16 ? num_ranks - k0 : 16;
    for (int64_t k = 0; k < 16; ++k) {
      if (k >= count) {
        out[k] = _mm512_setzero_si512();
        continue;
      }
      const int64_t r = ranks[k0 + k];
      const int block = static_cast<int>(r / 16);
      if (N > 16 && block != finished) {
#pragma GCC unroll 16
        for (int i = 0; i < 16; ++i) v[i] = load<V>(w + 16 * block + i);
        apply<kNear16>(v);
#pragma GCC unroll 16
        for (int i = 0; i < 16; ++i) store(w + 16 * block + i, v[i]);
        finished = block;
      }
      const __m512i wire = _mm512_load_si512(w + r);
      out[k] = float_bits(V{}, wire);
    }
    transpose16(out);
    const __mmask16 store_ranks = static_cast<__mmask16>((1u << count) - 1);
#pragma GCC unroll 16
    for (int l = 0; l < kLanes; ++l) _mm512_mask_storeu_epi32(values[l] + k0, store_ranks, out[l]);
  }
}

// values[l][k] = the ranks[k]-th smallest value of rows[l], for 16 rows of n values
// (N / 2 < n <= N, N a power of two from 16 to 256; ranks ascending, < n). w: N registers of
// scratch, 64-byte aligned. The ahead_bytes from ahead (the next rows) are prefetched along the
// way, a share per tile. Returns the rows (lanes) holding a NaN; nothing is written then.
template <int N>
SKUCAST_AVX512_FN __mmask16 network_select16(const float* const* rows, int64_t n, const int64_t* ranks,
                                             int64_t num_ranks, float* const* values, __m512i* w, const char* ahead,
                                             int64_t ahead_bytes) {
  static_assert(N >= 16 && N <= kMaxWires && (N & (N - 1)) == 0, "N: a power of two, 16 to 256");
  const int tiles = static_cast<int>((n + 15) / 16);
  // Prefetch steps: the tiles, the residue groups of each merge and the blocks of all but the last.
  constexpr int merges = (N >= 32) + (N >= 64) + (N >= 128) + (N >= 256);
  constexpr int steps = N / 16 + 16 * merges + (N / 16) * (merges > 0 ? merges - 1 : 0);
  Ahead prefetch{ahead, ahead_bytes, (ahead_bytes / steps + 63) / 64 * 64};
  const __m512i negative_zero = _mm512_set1_epi32(INT32_MIN);
  __mmask16 nan_rows = 0, negative_zero_rows = 0;
  for (int tile = 0; tile < N / 16; ++tile) {
    prefetch.step();
    __m512 v[16];
    if (tile < tiles) {
      __m512i bits[16];
      load_tile(rows, n, tile, bits);
#pragma GCC unroll 16
      for (int i = 0; i < 16; ++i) {
        v[i] = _mm512_castsi512_ps(bits[i]);
        nan_rows |= _mm512_cmp_ps_mask(v[i], v[i], _CMP_UNORD_Q);
        negative_zero_rows |= _mm512_cmpeq_epi32_mask(bits[i], negative_zero);
      }
      const int64_t live = n - 16 * static_cast<int64_t>(tile);
#pragma GCC unroll 16
      for (int i = 0; i < 16; ++i)  // padding; no index known only at run time (v stays in registers)
        v[i] = _mm512_mask_mov_ps(v[i], static_cast<__mmask16>(i < live ? 0 : 0xffff), _mm512_set1_ps(INFINITY));
      sort_tile(v, tile, w);
    } else {  // pure padding: sorted as it is
#pragma GCC unroll 16
      for (int i = 0; i < 16; ++i) store(w + 16 * tile + i, _mm512_set1_ps(INFINITY));
    }
  }
  if (nan_rows) return nan_rows;
  if (negative_zero_rows == 0) {
    merge_and_pick<N, __m512>(w, prefetch, tiles, ranks, num_ranks, values);
    return 0;
  }
  // -0.0 somewhere: again on the order keys (padding: INT32_MAX, after every key).
  for (int tile = 0; tile < N / 16; ++tile) {
    __m512i v[16];
    if (tile < tiles) {
      load_tile(rows, n, tile, v);
#pragma GCC unroll 16
      for (int i = 0; i < 16; ++i) v[i] = bucket512::order_keys(v[i]);
      const int64_t live = n - 16 * static_cast<int64_t>(tile);
#pragma GCC unroll 16
      for (int i = 0; i < 16; ++i)
        v[i] = _mm512_mask_mov_epi32(v[i], static_cast<__mmask16>(i < live ? 0 : 0xffff), _mm512_set1_epi32(INT32_MAX));
      sort_tile(v, tile, w);
    } else {
#pragma GCC unroll 16
      for (int i = 0; i < 16; ++i) store(w + 16 * tile + i, _mm512_set1_epi32(INT32_MAX));
    }
  }
  merge_and_pick<N, __m512i>(w, prefetch, tiles, ranks, num_ranks, values);
  return 0;
}

// Whether the first (up to) 16 values of a row are whole numbers (NaN: no).
SKUCAST_AVX512_FN bool whole_prefix(const float* row, int64_t n) {
  const __mmask16 live = n >= 16 ? __mmask16(0xffff) : static_cast<__mmask16>((1u << n) - 1);
  const __m512 v = _mm512_maskz_loadu_ps(live, row);
  return _mm512_mask_cmp_ps_mask(live, v, _mm512_roundscale_ps(v, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC),
                                 _CMP_NEQ_UQ) == 0;
}

// The power of two the rows' length takes (16 for the shortest rows).
inline int network_wires(int64_t n) {
  int wires = 16;
  while (wires < n) wires *= 2;
  return wires;
}

// network_select16 for any n in 1..256; scratch: 64-byte aligned, room for 256 x 16 int32.
SKUCAST_AVX512_FN __mmask16 select16(const float* const* rows, int64_t n, const int64_t* ranks, int64_t num_ranks,
                                     float* const* values, int32_t* scratch, const char* ahead, int64_t ahead_bytes) {
  __m512i* w = reinterpret_cast<__m512i*>(scratch);
  switch (network_wires(n)) {
    case 16: return network_select16<16>(rows, n, ranks, num_ranks, values, w, ahead, ahead_bytes);
    case 32: return network_select16<32>(rows, n, ranks, num_ranks, values, w, ahead, ahead_bytes);
    case 64: return network_select16<64>(rows, n, ranks, num_ranks, values, w, ahead, ahead_bytes);
    case 128: return network_select16<128>(rows, n, ranks, num_ranks, values, w, ahead, ahead_bytes);
    default: return network_select16<256>(rows, n, ranks, num_ranks, values, w, ahead, ahead_bytes);
  }
}

#undef SKUCAST_NETWORK_FN
}  // namespace network512
}  // namespace cpu
}  // namespace skucast
#endif
SKUCAST_AVX512_WARNINGS_ON
