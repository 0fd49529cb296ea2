// CPU loop of the policy simulator: rows in parallel, the day loop of each row inside.
#include <algorithm>
#include <atomic>
#include <type_traits>
#include <vector>

#include "skucast/core/threads.h"
#include "skucast/cpu/inventory_sim_kernels.h"
#include "skucast/inventory/simulate.h"
#include "skucast/cpu/simulate_narrow.h"

#if defined(__AVX2__)
#include <immintrin.h>
#endif

namespace skucast {
namespace cpu {
namespace {

constexpr int kBlock = 16;


inv::OrderRules rules_of(const SimArgs& a, int64_t i) {
  inv::OrderRules rules;
  rules.moq = a.moq.at(i);
  rules.case_pack = a.case_pack.at(i);
  rules.max_order = a.max_order.at(i);
  rules.smoothing = a.smoothing.at(i);
  return rules;
}

// Initial in-transit units of row i: those with L = 0 are on hand at once; the others go to
// put(day, units). Returns the on-hand addition.
template <class Put>
int64_t initial_pipeline(const SimArgs& a, int64_t i, int64_t L, Put&& put) {
  int64_t extra = 0;
  if (!a.on_order) return 0;
  for (int64_t k = 0; k < a.on_order_cols; ++k) {
    const int64_t v = a.on_order[i * a.on_order_cols + k];
    if (v == 0) continue;
    if (L == 0) extra += v; else put(k, v);
  }
  return extra;
}

template <class D>
int64_t scalar_row(const SimArgs& a, int64_t i, std::vector<int64_t>& ring) {
  const D* demand = static_cast<const D*>(a.demand);
  const int64_t T = a.T;
  const int64_t stride = a.target_cols > 1 ? 1 : 0;
  const int64_t L = a.lead_time.at(i);
  const int64_t ring_n = L > 0 ? L : 1;
  std::fill(ring.begin(), ring.begin() + ring_n, 0);
  int64_t on_order0 = 0;
  auto put = [&](int64_t k, int64_t v) {
    ring[k % ring_n] += v;
    on_order0 += v;
  };
  put(0, initial_pipeline(a, i, L, put));  // with L = 0, the units in transit arrive on day 0
  const inv::OrderRules rules = rules_of(a, i);
  inv::SimTrace tr;
  if (a.trace) tr = inv::trace_columns(a.trace + i * kSimTraceCols * T, T);
  inv::SimTotals tot;
  const int64_t* S = a.S + i * a.target_cols;
  const int64_t* s = a.s ? a.s + i * a.target_cols : nullptr;
  const auto row = a.trace ? inv::simulate_row<D, true> : inv::simulate_row<D, false>;
  const int64_t bad = row(demand + i * T, T, S, s, stride, a.n_reviews, a.review_period, a.first_review, a.policy,
                          a.lost_sales, L, a.on_hand0.at(i), ring.data(), on_order0, rules, tot, tr);
  inv::write_totals(tot, a.out_i + i, a.out_f + i, a.n);
  return bad;
}

// The same days of the rows two blocks on (rows are contiguous): their tile is in L2 when it is
// loaded, instead of 16 streams the hardware prefetchers pick up late (simulate 1e6 x 365: -13% at
// 1 thread, -10% at 2). Addresses past the array are harmless: prefetches never fault.
template <int B>
void prefetch_tile_ahead(const int32_t* demand, int64_t T, int64_t t0, int64_t nt) {
  const uintptr_t base = reinterpret_cast<uintptr_t>(demand);
  for (int64_t b = 2 * B; b < 3 * B; ++b) {
    const uintptr_t from = (base + static_cast<uintptr_t>((b * T + t0) * 4)) & ~uintptr_t{63};
    const uintptr_t to = base + static_cast<uintptr_t>((b * T + t0 + nt) * 4);
    for (uintptr_t line = from; line < to; line += 64) __builtin_prefetch(reinterpret_cast<const void*>(line), 0, 2);
  }
}

// Days [t0, t0 + nt) of B int32 rows into tile[day][row], 8 rows x 8 days at a time through an
// AVX2 transpose (the short tail element by element). Returns the OR of all values copied:
// negative if any is, and < 2^k iff all are. (A 16 x 16 AVX-512 transpose, a third fewer
// shuffles, measured no faster end to end.)
template <int B>
int32_t load_tile_i32(const int32_t* demand, int64_t T, int64_t t0, int64_t nt, int32_t (*tile)[B]) {
  prefetch_tile_ahead<B>(demand, T, t0, nt);
  int64_t full = 0;
  int32_t acc = 0;
#if defined(__AVX2__)
  if constexpr (B % 8 == 0) {
    full = nt / 8 * 8;
    __m256i acc_v = _mm256_setzero_si256();
    for (int b0 = 0; b0 < B; b0 += 8) {
      for (int64_t j0 = 0; j0 < full; j0 += 8) {
        __m256i r[8];
        for (int k = 0; k < 8; ++k) {
          r[k] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(demand + (b0 + k) * T + t0 + j0));
          acc_v = _mm256_or_si256(acc_v, r[k]);
        }
        // 8x8 transpose of 32-bit lanes.
        const __m256i a0 = _mm256_unpacklo_epi32(r[0], r[1]), a1 = _mm256_unpackhi_epi32(r[0], r[1]);
        const __m256i a2 = _mm256_unpacklo_epi32(r[2], r[3]), a3 = _mm256_unpackhi_epi32(r[2], r[3]);
        const __m256i a4 = _mm256_unpacklo_epi32(r[4], r[5]), a5 = _mm256_unpackhi_epi32(r[4], r[5]);
        const __m256i a6 = _mm256_unpacklo_epi32(r[6], r[7]), a7 = _mm256_unpackhi_epi32(r[6], r[7]);
        const __m256i b0v = _mm256_unpacklo_epi64(a0, a2), b1 = _mm256_unpackhi_epi64(a0, a2);
        const __m256i b2 = _mm256_unpacklo_epi64(a1, a3), b3 = _mm256_unpackhi_epi64(a1, a3);
        const __m256i b4 = _mm256_unpacklo_epi64(a4, a6), b5 = _mm256_unpackhi_epi64(a4, a6);
        const __m256i b6 = _mm256_unpacklo_epi64(a5, a7), b7 = _mm256_unpackhi_epi64(a5, a7);
        const __m256i c[8] = {
            _mm256_permute2x128_si256(b0v, b4, 0x20), _mm256_permute2x128_si256(b1, b5, 0x20),
            _mm256_permute2x128_si256(b2, b6, 0x20), _mm256_permute2x128_si256(b3, b7, 0x20),
            _mm256_permute2x128_si256(b0v, b4, 0x31), _mm256_permute2x128_si256(b1, b5, 0x31),
            _mm256_permute2x128_si256(b2, b6, 0x31), _mm256_permute2x128_si256(b3, b7, 0x31)};
        for (int k = 0; k < 8; ++k) _mm256_storeu_si256(reinterpret_cast<__m256i*>(&tile[j0 + k][b0]), c[k]);
      }
    }
    const __m128i h = _mm_or_si128(_mm256_castsi256_si128(acc_v), _mm256_extracti128_si256(acc_v, 1));
    const __m128i h2 = _mm_or_si128(h, _mm_shuffle_epi32(h, 0x4E));
    acc = _mm_cvtsi128_si32(_mm_or_si128(h2, _mm_shuffle_epi32(h2, 0xB1)));
  }
#endif
  for (int b = 0; b < B; ++b) {
    const int32_t* row = demand + b * T + t0;
    for (int64_t j = full; j < nt; ++j) {
      tile[j][b] = row[j];
      acc |= row[j];
    }
  }
  return acc;
}

// Tile loader of simulate_block: true if any value is negative.
struct TileLoader {
  template <class D, int B>
  bool operator()(const D* demand, int64_t T, int64_t t0, int64_t nt, D (*tile)[B]) const {
    if constexpr (std::is_same_v<D, int32_t>) return load_tile_i32<B>(demand, T, t0, nt, tile) < 0;
    return inv::load_tile_generic<D, B>(demand, T, t0, nt, tile);
  }
};

// Tile loader of simulate_block_narrow: the OR of the values.
struct TileLoaderOr {
  template <int B>
  int32_t operator()(const int32_t* demand, int64_t T, int64_t t0, int64_t nt, int32_t (*tile)[B]) const {
    return load_tile_i32<B>(demand, T, t0, nt, tile);
  }
};

// Per-row inputs of the block starting at i0; the initial pipeline goes to put(b, day, units).
// Returns whether every row fits simulate_block_narrow's 32-bit lanes; oo0[b]: units in transit.
template <class Put>
bool block_params(const SimArgs& a, int64_t i0, inv::SimRowParams* rows, int64_t* oo0, Put&& put) {
  bool narrow = true;
  for (int b = 0; b < kBlock; ++b) {
    const int64_t i = i0 + b;
    const int64_t L = a.lead_time.at(i);
    rows[b].S = a.S + i * a.target_cols;
    rows[b].s = a.s ? a.s + i * a.target_cols : nullptr;
    rows[b].L = L;
    rows[b].rules = rules_of(a, i);
    oo0[b] = 0;
    rows[b].on_hand0 = a.on_hand0.at(i) + initial_pipeline(a, i, L, [&](int64_t k, int64_t v) {
      put(b, k, v);
      oo0[b] += v;
    });
    if (narrow) {
      int64_t S_max = 0;
      for (int64_t c = 0; c < a.target_cols; ++c) S_max = std::max(S_max, rows[b].S[c]);
      narrow = inv::narrow_row_ok(rows[b].on_hand0 + oo0[b], S_max, rows[b].rules);
    }
  }
  return narrow;
}

// Rows [i0, i0 + kBlock) through the lane-parallel day loop (32-bit lanes where the block's
// quantities allow, else 64-bit); false if it saw negative demand.
template <class D>
bool block_rows(const SimArgs& a, int64_t i0, std::vector<int64_t>& ring, std::vector<int32_t>& ring32) {
  const D* demand = static_cast<const D*>(a.demand);
  const int64_t stride = a.target_cols > 1 ? 1 : 0;
  int64_t P = 1;
  for (int b = 0; b < kBlock; ++b) P = std::max(P, a.lead_time.at(i0 + b) + 1);
  inv::SimRowParams rows[kBlock];
  inv::SimTotals tot[kBlock];
  int64_t oo0[kBlock];
  if constexpr (std::is_same_v<D, int32_t>) {
    ring32.assign(static_cast<size_t>(P * kBlock), 0);
    const bool narrow = block_params(a, i0, rows, oo0, [&](int b, int64_t k, int64_t v) {
      ring32[static_cast<size_t>((k % P) * kBlock + b)] += static_cast<int32_t>(v);
    });
    if (narrow) {
      const int res = inv::simulate_block_narrow<kBlock>(demand + i0 * a.T, a.T, rows, oo0, stride, a.n_reviews,
                                                         a.review_period, a.first_review, a.policy, a.lost_sales,
                                                         ring32.data(), P, tot, TileLoaderOr{});
      if (res == inv::kNarrowNegative) return false;
      if (res == inv::kNarrowDone) {
        for (int b = 0; b < kBlock; ++b) inv::write_totals(tot[b], a.out_i + i0 + b, a.out_f + i0 + b, a.n);
        return true;
      }
      for (auto& t : tot) t = inv::SimTotals{};  // too wide after all: start over with 64-bit lanes
    }
  }
  ring.assign(static_cast<size_t>(P * kBlock), 0);
  block_params(a, i0, rows, oo0, [&](int b, int64_t k, int64_t v) {
    ring[static_cast<size_t>((k % P) * kBlock + b)] += v;
  });
  if (!inv::simulate_block<D, kBlock>(demand + i0 * a.T, a.T, rows, stride, a.n_reviews, a.review_period,
                                      a.first_review, a.policy, a.lost_sales, ring.data(), P, tot, TileLoader{})) {
    return false;
  }
  for (int b = 0; b < kBlock; ++b) inv::write_totals(tot[b], a.out_i + i0 + b, a.out_f + i0 + b, a.n);
  return true;
}

template <class D>
int64_t simulate_typed(const SimArgs& a) {
  int64_t max_l = 1;
  for (int64_t i = 0; i < a.n; ++i) max_l = std::max(max_l, a.lead_time.at(i));
  std::atomic<int64_t> first_bad{-1};
  const int64_t n_blocks = (a.n + kBlock - 1) / kBlock;
  parallel_for(n_blocks, 16, [&](int64_t begin, int64_t end) {
    std::vector<int64_t> ring(static_cast<size_t>(max_l));
    std::vector<int64_t> block_ring;
    std::vector<int32_t> block_ring32;
    for (int64_t blk = begin; blk < end; ++blk) {
      const int64_t i0 = blk * kBlock;
      const int64_t i1 = std::min(a.n, i0 + kBlock);
      // Full blocks take the lane-parallel loop; traces, the tail and blocks with bad demand
      // go row by row (the scalar loop also finds the first bad day).
      if (!a.trace && i1 - i0 == kBlock && block_rows<D>(a, i0, block_ring, block_ring32)) continue;
      for (int64_t i = i0; i < i1; ++i) {
        const int64_t bad = scalar_row<D>(a, i, ring);
        if (bad >= 0) keep_first_index(first_bad, i * a.T + bad);
      }
    }
  });
  return first_bad.load();
}

}  // namespace

int64_t simulate(const SimArgs& a) {
  if (a.demand_i32) return simulate_typed<int32_t>(a);
  return simulate_typed<int64_t>(a);
}

}  // namespace cpu
}  // namespace skucast
