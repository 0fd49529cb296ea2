// simulate_block with 32-bit lanes: the same day loop as simulate_block (simulate.h) when every
// quantity of the block provably fits 32 bits, so that one AVX2 register holds 8 rows instead of
// 4 and min() is one instruction (there is no 64-bit integer min before AVX-512).
//
// Why the state fits: with inventory position IP0 at the start and every order raising IP to at
// most S + moq + 2 case packs (smoothing only lowers it), IP stays below kNarrowLimit when those
// do (narrow_row_ok). End-of-day on-hand <= IP (with backorders, stock left over means the
// backlog was cleared first). Daily demand is checked per tile (< kNarrowLimit), so sums over a
// 64-day tile stay below 2^30 and are added to 64-bit totals once per tile. Backlog (backorders
// only) is unbounded: the block gives up (kNarrowTooWide) once it passes 2^29 at a tile end, and
// the caller reruns it with 64-bit lanes. Results are identical to simulate_block's.
// CPU only: written with GCC/Clang vector types (8 x int32), which the auto-vectorizer did not
// manage on its own for this loop nest.
#pragma once
#include "skucast/inventory/simulate.h"
#if defined(__AVX2__)
#include <immintrin.h>
#endif

namespace skucast {
namespace inv {

typedef int32_t NarrowVec __attribute__((vector_size(32)));
typedef int32_t NarrowVecU __attribute__((vector_size(32), aligned(4)));  // unaligned loads / stores
typedef int64_t NarrowVec64 __attribute__((vector_size(32)));

// 0 <= v < 2^31 per lane: the two halves widened to 64 bits, and their squares.
inline void widen(NarrowVec v, NarrowVec64& lo, NarrowVec64& hi) {
  lo = __builtin_convertvector(__builtin_shufflevector(v, v, 0, 1, 2, 3), NarrowVec64);
  hi = __builtin_convertvector(__builtin_shufflevector(v, v, 4, 5, 6, 7), NarrowVec64);
}
inline NarrowVec64 square(NarrowVec64 x) {
#if defined(__AVX2__)
  return (NarrowVec64)_mm256_mul_epu32((__m256i)x, (__m256i)x);  // 32 x 32 -> 64 bits suffices
#else
  return x * x;
#endif
}

constexpr int64_t kNarrowLimit = int64_t{1} << 24;
constexpr int32_t kNarrowBacklogLimit = int32_t{1} << 29;

enum NarrowResult : int { kNarrowDone = 0, kNarrowNegative = 1, kNarrowTooWide = 2 };

// Whether a row's state fits the narrow lanes: ip0 = starting inventory position (on hand plus
// everything in transit), S_max = the largest order-up-to level of its reviews.
inline bool narrow_row_ok(int64_t ip0, int64_t S_max, const OrderRules& r) {
  return ip0 >= 0 && ip0 < kNarrowLimit && S_max < kNarrowLimit && r.moq < kNarrowLimit &&
         r.case_pack < kNarrowLimit && S_max + r.moq + 2 * r.case_pack < kNarrowLimit;
}

// ring: P * B int32, as in simulate_block (slot t % P holds what arrives on day t), with the
// initial in-transit units; oo0[b]: their sum per row. load_tile(demand, T, t0, nt, tile) fills
// tile[day][row] and returns the bitwise OR of the values it copied (negative: some value < 0).
template <int B, class LoadTile>
int simulate_block_narrow(const int32_t* demand, int64_t T, const SimRowParams* rows, const int64_t* oo0,
                                     int64_t target_stride, int64_t n_reviews, int64_t review_period,
                                     int64_t first_review, int policy, bool lost_sales, int32_t* ring, int64_t P,
                                     SimTotals* out, LoadTile&& load_tile) {
  static_assert(B % 8 == 0, "whole vectors of 8 rows");
  constexpr int V = B / 8;
  constexpr int64_t kTile = 64;
  alignas(32) int32_t tile[kTile][B];
  // per-lane state (32-bit) and per-tile sums, 8 rows per vector
  // The day loop's state (the rest of the per-lane state, oo, changes only on arrivals), copied
  // whole to a local for each run of days so that it lives in registers there.
  struct DayState {
    NarrowVec oh[V], bl[V], dem[V], sold[V], ohs[V];  // on hand, backlog; the tile's demand, sales, on-hand sum
  } st;
  NarrowVec oo[V];
  NarrowVec so_lo[V], so_hi[V];  // stockout bits of days 0..31 and 32..63 of the tile
  int64_t dem[B], sold_s[B], ohs[B], dem_last[B], sod[B], bad_cycles[B], last_bad[B], c0[B];
  const NarrowVec zero = {};
  for (int k = 0; k < V; ++k) st.oh[k] = oo[k] = st.bl[k] = st.dem[k] = st.sold[k] = st.ohs[k] = so_lo[k] = so_hi[k] = zero;
  for (int b = 0; b < B; ++b) {
    st.oh[b / 8][b % 8] = static_cast<int32_t>(rows[b].on_hand0);
    oo[b / 8][b % 8] = static_cast<int32_t>(oo0[b]);
    dem[b] = sold_s[b] = ohs[b] = dem_last[b] = sod[b] = bad_cycles[b] = 0;
    last_bad[b] = -1;
    c0[b] = first_review + rows[b].L;
  }
  int64_t r = 0, next_review = first_review, slot = 0;
  // Ring slots that may hold an arrival (bit k: slot k): days without one skip the ring (with
  // weekly reviews, 6 days in 7). P > 64 reads the ring every day.
  const bool track_due = P <= 64;
  uint64_t due = 0;
  for (int64_t k = 0; k < P && track_due; ++k) {
    for (int b = 0; b < B; ++b) due |= static_cast<uint64_t>(ring[k * B + b] != 0) << k;
  }
  auto mark_due = [&](int64_t k) {
    if (track_due) due |= uint64_t{1} << k;
  };
  // One row's review (any rules), on the lane's elements.
  auto review_row = [&](int b, int64_t rv) {
    const SimRowParams& p = rows[b];
    int32_t& ohb = st.oh[b / 8][b % 8];  // (element references into the vectors)
    const int32_t oob = oo[b / 8][b % 8], blb = st.bl[b / 8][b % 8];
    const int64_t ip = static_cast<int64_t>(ohb) + oob - blb;
    const bool trigger = policy == kPolicyRS || ip <= p.s[rv * target_stride];
    const int64_t q = trigger ? apply_order_rules(p.S[rv * target_stride] - ip, p.rules) : 0;
    SimTotals& o = out[b];
    const int64_t dem_now = dem[b] + st.dem[b / 8][b % 8];
    if (rv > 0) o.add_period(q, dem_now - dem_last[b]);
    dem_last[b] = dem_now;
    if (q > 0) {
      o.num_orders += 1;
      o.ordered_units += q;
      if (p.L == 0) {
        ohb += static_cast<int32_t>(q);
        if (!lost_sales) {
          const int32_t f = blb < ohb ? blb : ohb;
          st.bl[b / 8][b % 8] = blb - f;
          ohb -= f;
        }
      } else {
        int64_t k = slot + p.L;
        if (k >= P) k -= P;
        ring[k * B + b] += static_cast<int32_t>(q);
        mark_due(k);
        oo[b / 8][b % 8] = oob + static_cast<int32_t>(q);
      }
    }
  };
  // Plain rules in every row (no smoothing, case pack 1, no cap; any moq): the order is
  // max(S - IP, moq) when S > IP (and, for sS, IP <= s), else 0, computed 8 rows at a time.
  bool plain = true, same_L = true;
  alignas(32) int32_t moq_l[B], l0_l[B];
  for (int b = 0; b < B; ++b) {
    const OrderRules& ru = rows[b].rules;
    plain = plain && ru.smoothing == 1.0 && ru.case_pack == 1 && ru.max_order <= 0;
    same_L = same_L && rows[b].L == rows[0].L;
    moq_l[b] = static_cast<int32_t>(ru.moq);
    l0_l[b] = rows[b].L == 0 ? -1 : 0;
  }
  // With lost sales and R <= 64 the per-review sums are vectors too: orders < 2^24 and period
  // demands < 2^30, so a tile's sums of their squares stay below 2^61 in 64-bit lanes, added
  // to the rows' exact 128-bit totals once per tile.
  const bool vec_sums = plain && lost_sales && review_period <= 64;
  NarrowVec pd0[V], n_ord[V];  // st.dem at the last review (this tile's origin); orders placed
  NarrowVec64 q1[2 * V], q2[2 * V], d1[2 * V], d2[2 * V], units[2 * V];
  const NarrowVec64 zero64 = {};
  for (int k = 0; k < V; ++k) pd0[k] = n_ord[k] = zero;
  for (int k = 0; k < 2 * V; ++k) q1[k] = q2[k] = d1[k] = d2[k] = units[k] = zero64;
  auto review_plain = [&](int64_t rv) {
    alignas(32) int32_t S_l[B], s_l[B], q_l[B];
    for (int b = 0; b < B; ++b) {
      S_l[b] = static_cast<int32_t>(rows[b].S[rv * target_stride]);
      s_l[b] = policy == kPolicyRS ? 0 : static_cast<int32_t>(rows[b].s[rv * target_stride]);
    }
    const int64_t slot_to = (slot + rows[0].L) % P;  // (same_L: every row's arrival slot)
    int32_t* ring_to = ring + slot_to * B;
    for (int k = 0; k < V; ++k) {
      const NarrowVec S_v = *reinterpret_cast<const NarrowVec*>(S_l + 8 * k);
      const NarrowVec moq_v = *reinterpret_cast<const NarrowVec*>(moq_l + 8 * k);
      const NarrowVec l0 = *reinterpret_cast<const NarrowVec*>(l0_l + 8 * k);
      const NarrowVec ip = st.oh[k] + oo[k] - st.bl[k];
      const NarrowVec need = S_v - ip;
      NarrowVec go = need > 0;
      if (policy != kPolicyRS) go &= ip <= *reinterpret_cast<const NarrowVec*>(s_l + 8 * k);
      const NarrowVec q = (need < moq_v ? moq_v : need) & go;
      st.oh[k] += q & l0;   // L = 0: on the shelf at once
      oo[k] += q & ~l0;  // else in transit
      if (!lost_sales) {
        const NarrowVec f = st.bl[k] < st.oh[k] ? st.bl[k] : st.oh[k];
        st.bl[k] -= f;
        st.oh[k] -= f;
      }
      *reinterpret_cast<NarrowVec*>(q_l + 8 * k) = q;
      if (vec_sums) {
        const NarrowVec pd = st.dem[k] - pd0[k];
        pd0[k] = st.dem[k];
        n_ord[k] -= q > 0;
        NarrowVec64 q_lo, q_hi, p_lo, p_hi;
        widen(q, q_lo, q_hi);
        units[2 * k] += q_lo;
        units[2 * k + 1] += q_hi;
        if (rv > 0) {
          widen(pd, p_lo, p_hi);
          q1[2 * k] += q_lo;
          q1[2 * k + 1] += q_hi;
          q2[2 * k] += square(q_lo);
          q2[2 * k + 1] += square(q_hi);
          d1[2 * k] += p_lo;
          d1[2 * k + 1] += p_hi;
          d2[2 * k] += square(p_lo);
          d2[2 * k + 1] += square(p_hi);
        }
        if (same_L && rows[0].L > 0) {
          NarrowVecU* to = reinterpret_cast<NarrowVecU*>(ring_to + 8 * k);
          *to += q;
          mark_due(slot_to);
        }
      }
    }
    if (vec_sums) {
      if (!(same_L && rows[0].L > 0)) {
        for (int b = 0; b < B; ++b) {
          if (l0_l[b]) continue;
          const int64_t k = (slot + rows[b].L) % P;
          ring[k * B + b] += q_l[b];
          mark_due(k);
        }
      }
      return;
    }
    for (int b = 0; b < B; ++b) {
      const int64_t q = q_l[b];
      SimTotals& o = out[b];
      const int64_t dem_now = dem[b] + st.dem[b / 8][b % 8];
      if (rv > 0) o.add_period(q, dem_now - dem_last[b]);
      dem_last[b] = dem_now;
      o.num_orders += q > 0;
      o.ordered_units += q;
      if (!l0_l[b]) {
        int64_t k = slot + rows[b].L;
        if (k >= P) k -= P;
        ring[k * B + b] += static_cast<int32_t>(q);
        mark_due(k);
      }
    }
  };
  // Tile end (vec_sums): the review sums into the rows' totals.
  auto flush_sums = [&]() {
    for (int b = 0; b < B; ++b) {
      const int k = b / 8, l = b % 8, h = b / 4, m = b % 4;
      SimTotals& o = out[b];
      o.num_orders += n_ord[k][l];
      o.ordered_units += units[h][m];
      o.order_s1 += q1[h][m];
      o.order_s2 += static_cast<__int128>(q2[h][m]);
      o.dem_s1 += d1[h][m];
      o.dem_s2 += static_cast<__int128>(d2[h][m]);
    }
    for (int k = 0; k < V; ++k) {
      pd0[k] -= st.dem[k];  // st.dem restarts at 0 for the next tile
      n_ord[k] = zero;
    }
    for (int k = 0; k < 2 * V; ++k) q1[k] = q2[k] = d1[k] = d2[k] = units[k] = zero64;
  };
  // The day's arrivals (ring slot `slot`) into on-hand, then the backlog cleared from them.
  // Without one the day starts as the last ended: a backlog then means an empty shelf.
  auto arrive = [&](NarrowVec* on_hand, NarrowVec* backlog) __attribute__((always_inline)) {
    if (track_due && !(due >> slot & 1)) return;
    if (track_due) due &= ~(uint64_t{1} << slot);
    NarrowVecU* rs = reinterpret_cast<NarrowVecU*>(ring + slot * B);
#pragma GCC unroll 4
    for (int k = 0; k < V; ++k) {
      const NarrowVec v = rs[k];
      on_hand[k] += v;
      oo[k] -= v;
      rs[k] = zero;
      if (!lost_sales) {
        const NarrowVec f = backlog[k] < on_hand[k] ? backlog[k] : on_hand[k];
        backlog[k] -= f;
        on_hand[k] -= f;
      }
    }
  };
  for (int64_t t0 = 0; t0 < T; t0 += kTile) {
    const int64_t nt = T - t0 < kTile ? T - t0 : kTile;
    const int32_t bits_or = load_tile(demand, T, t0, nt, tile);
    if (bits_or < 0) return kNarrowNegative;
    if (bits_or >= kNarrowLimit) return kNarrowTooWide;
    // Day j: arrivals (which first clear the backlog), the review if it is one, then demand.
    // The days up to the next review (or the 32-day half of the stockout bits) run on local
    // copies of the day loop's state, which GCC keeps in registers: the arrays themselves are
    // indexed by row in the reviews and at the tile end, which keeps them in memory.
    for (int64_t j = 0; j < nt;) {
      int64_t j_end = j < 32 && nt > 32 ? 32 : nt;
      arrive(st.oh, st.bl);
      if (t0 + j == next_review && r < n_reviews) {
        if (plain) {
          review_plain(r);
        } else {
          for (int b = 0; b < B; ++b) review_row(b, r);
        }
        ++r;
        next_review += review_period;
      }
      if (r < n_reviews && next_review - t0 < j_end) j_end = next_review - t0;
      NarrowVec* so_half = j < 32 ? so_lo : so_hi;
      DayState l = st;
      NarrowVec l_so[V];
#pragma GCC unroll 4
      for (int k = 0; k < V; ++k) l_so[k] = so_half[k];
      for (;;) {
        const NarrowVecU* dt = reinterpret_cast<const NarrowVecU*>(tile[j]);
        const int32_t bit = static_cast<int32_t>(uint32_t{1} << (j & 31));
#pragma GCC unroll 4
        for (int k = 0; k < V; ++k) {
          const NarrowVec d = dt[k];
          const NarrowVec sold = d < l.oh[k] ? d : l.oh[k];
          l.oh[k] -= sold;
          if (!lost_sales) l.bl[k] += d - sold;
          l.dem[k] += d;
          l.sold[k] += sold;
          l_so[k] |= (d > sold) & bit;  // comparisons give -1 / 0 per lane
          l.ohs[k] += l.oh[k];
        }
        if (++slot == P) slot = 0;
        if (++j == j_end) break;
        arrive(l.oh, l.bl);
      }
      st = l;
#pragma GCC unroll 4
      for (int k = 0; k < V; ++k) so_half[k] = l_so[k];
    }
    // Tile end: sums into 64-bit totals; stockout days as in simulate_block.
    for (int b = 0; b < B; ++b) {
      const int k = b / 8, l = b % 8;
      dem[b] += st.dem[k][l];
      sold_s[b] += st.sold[k][l];
      ohs[b] += st.ohs[k][l];
      const uint64_t bits =
          static_cast<uint32_t>(so_lo[k][l]) | (static_cast<uint64_t>(static_cast<uint32_t>(so_hi[k][l])) << 32);
      count_stockout_days(bits, t0, c0[b], review_period, sod[b], last_bad[b], bad_cycles[b]);
      if (st.bl[k][l] >= kNarrowBacklogLimit) return kNarrowTooWide;
    }
    if (vec_sums) flush_sums();
    for (int k = 0; k < V; ++k) st.dem[k] = st.sold[k] = st.ohs[k] = so_lo[k] = so_hi[k] = zero;
  }
  for (int b = 0; b < B; ++b) {
    finish_block_totals(out[b], dem[b], sold_s[b], sod[b], ohs[b], c0[b], T, review_period, bad_cycles[b]);
    if (vec_sums) out[b].periods = r > 1 ? r - 1 : 0;  // (add_period's count: reviews after the first)
  }
  return kNarrowDone;
}

}  // namespace inv
}  // namespace skucast
