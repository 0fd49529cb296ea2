// Day-by-day inventory policy simulation of one row (SKU x location) over real demand:
// periodic review (R,S) or (s,S), lead time L, lost sales or backorders, order rules and
// proportional order-up-to smoothing. Shared by the CPU loop and any device kernel.
#pragma once
#include "skucast/core/hostdevice.h"

namespace skucast {
namespace inv {

enum SimPolicy : int { kPolicyRS = 0, kPolicySS = 1 };

// Per-row rules. max_order <= 0 means no cap.
struct OrderRules {
  int64_t moq = 0;
  int64_t case_pack = 1;
  int64_t max_order = 0;
  double smoothing = 1.0;  // beta in (0, 1]: order = ceil(beta * (S - IP))
};

// Order quantity for a raw need (S - inventory position, + nothing else): smoothing, then
// MOQ, then whole case packs (rounded up), then the cap (rounded down to whole cases).
SKUCAST_HD int64_t apply_order_rules(int64_t need, const OrderRules& r) {
  if (need <= 0) return 0;
  int64_t q = need;
  if (r.smoothing < 1.0) {
    q = static_cast<int64_t>(ceil(r.smoothing * static_cast<double>(need)));
    if (q <= 0) return 0;
  }
  if (q < r.moq) q = r.moq;
  if (r.case_pack > 1) q = (q + r.case_pack - 1) / r.case_pack * r.case_pack;
  if (r.max_order > 0) {
    const int64_t cap = r.max_order / r.case_pack * r.case_pack;
    if (q > cap) q = cap;
  }
  return q;
}

// Per-row accumulators (all sums over the horizon).
struct SimTotals {
  int64_t demand = 0, sold = 0, unmet = 0, stockout_days = 0, num_orders = 0, ordered_units = 0;
  int64_t cycles = 0, cycles_ok = 0;
  double on_hand_sum = 0.0;  // end-of-day on-hand units summed over days
  // Per review r >= 1: the order placed and the demand over [t_{r-1}, t_r).
  // Exact integer sums (the variances come out of n S2 - S1^2 without cancellation).
  int64_t periods = 0, order_s1 = 0, dem_s1 = 0;
  __int128 order_s2 = 0, dem_s2 = 0;
  SKUCAST_HD void add_period(int64_t order, int64_t period_demand) {
    periods += 1;
    order_s1 += order;
    order_s2 += static_cast<__int128>(order) * order;
    dem_s1 += period_demand;
    dem_s2 += static_cast<__int128>(period_demand) * period_demand;
  }
};

// Population variance from exact sums: (n S2 - S1^2) / n^2.
SKUCAST_HD double exact_variance(int64_t n, int64_t s1, __int128 s2) {
  if (n <= 0) return 0.0;
  const __int128 num = static_cast<__int128>(n) * s2 - static_cast<__int128>(s1) * s1;
  return static_cast<double>(num) / (static_cast<double>(n) * static_cast<double>(n));
}

// One row's results in the output columns of cpu::SimArgs::out_i / out_f (CPU and GPU alike):
// value j of the row goes to oi[j * stride] (stride 1: row-major (n, cols); stride n: one
// contiguous array per column, which the Python metrics then read without striding).
SKUCAST_HD void write_totals(const SimTotals& tot, int64_t* oi, double* of, int64_t stride) {
  oi[0] = tot.demand;
  oi[1 * stride] = tot.sold;
  oi[2 * stride] = tot.unmet;
  oi[3 * stride] = tot.stockout_days;
  oi[4 * stride] = tot.num_orders;
  oi[5 * stride] = tot.ordered_units;
  oi[6 * stride] = tot.cycles;
  oi[7 * stride] = tot.cycles_ok;
  oi[8 * stride] = tot.periods;
  of[0] = tot.on_hand_sum;
  of[1 * stride] = exact_variance(tot.periods, tot.order_s1, tot.order_s2);
  of[2 * stride] = exact_variance(tot.periods, tot.dem_s1, tot.dem_s2);
}

// Per-day traces (filled only when simulate_row's kTrace is true), each of length T.
struct SimTrace {
  int64_t* on_hand = nullptr;   // end of day (>= 0)
  int64_t* backlog = nullptr;   // end of day backorders
  int64_t* sold = nullptr;
  int64_t* unmet = nullptr;
  int64_t* order = nullptr;     // quantity ordered that day
  int64_t* arrival = nullptr;   // quantity received at the start of that day
  int64_t* position = nullptr;  // inventory position at the review (before the order); 0 otherwise
};

// The seven day series of one row laid out one after another from `base` (T days each).
SKUCAST_HD SimTrace trace_columns(int64_t* base, int64_t T) {
  SimTrace tr;
  tr.on_hand = base;
  tr.backlog = base + T;
  tr.sold = base + 2 * T;
  tr.unmet = base + 3 * T;
  tr.order = base + 4 * T;
  tr.arrival = base + 5 * T;
  tr.position = base + 6 * T;
  return tr;
}

// Units of any one quantity (a day's demand, S, s, the initial stock, the units in transit, the
// order rules) up to 2^40, over at most 2^18 days (the Python layer checks the rest): every
// total (stock-days, demand, backlog, orders) then stays below 2^62.
constexpr int64_t kMaxSimUnits = INT64_C(1) << 40;

// A day's demand the simulation refuses: negative, or past kMaxSimUnits (one unsigned compare).
SKUCAST_HD bool bad_demand(int64_t d) { return static_cast<uint64_t>(d) > static_cast<uint64_t>(kMaxSimUnits); }

// One row. Day t: (1) the order placed on day t - L arrives; (2) on a review day the
// inventory position IP = on_hand + on_order - backorders is compared with S (and s) and an
// order is placed (with L = 0 it is on the shelf at once); (3) demand is served from stock,
// the rest is lost or backordered; (4) end-of-day stock is counted.
// S, s: one per review at stride target_stride (0: one value for all reviews; s may be nullptr
// for RS). ring: scratch of max(L, 1) int64 holding the
// pipeline by arrival day, pre-filled with the initial in-transit units (ring[k % L] arrives on
// day k, k < L; with L = 0, ring[0] arrives on day 0), which on_order0 counts. Returns the first
// bad day (see bad_demand) or -1.
template <class D, bool kTrace>
SKUCAST_HD int64_t simulate_row(const D* demand, int64_t T, const int64_t* S, const int64_t* s, int64_t target_stride, int64_t n_reviews,
                                int64_t review_period, int64_t first_review, int policy, bool lost_sales,
                                int64_t L, int64_t on_hand0, int64_t* ring, int64_t on_order0,
                                const OrderRules& rules, SimTotals& out, const SimTrace& tr) {
  int64_t on_hand = on_hand0, backlog = 0, on_order = on_order0;
  const int64_t ring_n = L > 0 ? L : 1;
  int64_t slot_idx = 0;  // t % ring_n, kept incrementally (no division per day)
  int64_t r = 0;                       // next review index
  int64_t next_review = first_review;  // day of review r
  // Cycle bookkeeping: cycle k = days [t_k + L, t_{k+1} + L) for reviews k, clipped to T.
  bool cycle_open = false, cycle_bad = false;
  int64_t next_cycle_start = first_review + L;
  int64_t period_demand = 0;
  bool period_open = false;
  for (int64_t t = 0; t < T; ++t) {
    // (with L = 0 the one slot holds only the initial units: orders go on the shelf at once)
    int64_t& slot = ring[slot_idx];
    const int64_t arrived = slot;
    slot = 0;
    on_order -= arrived;
    on_hand += arrived;
    if (kTrace) tr.arrival[t] = arrived;
    // Backorders waiting are served from the receipts before anything else.
    if (backlog > 0 && on_hand > 0) {
      const int64_t fill = backlog < on_hand ? backlog : on_hand;
      backlog -= fill;
      on_hand -= fill;
    }
    // Cycle boundaries (one per review, shifted by the lead time).
    if (t == next_cycle_start) {
      if (cycle_open) {
        out.cycles += 1;
        out.cycles_ok += cycle_bad ? 0 : 1;
      }
      cycle_open = true;
      cycle_bad = false;
      next_cycle_start += review_period;
    }
    int64_t order = 0;
    if (t == next_review && r < n_reviews) {
      const int64_t ip = on_hand + on_order - backlog;
      if (kTrace) tr.position[t] = ip;
      const bool trigger = policy == kPolicyRS || ip <= s[r * target_stride];
      if (trigger) order = apply_order_rules(S[r * target_stride] - ip, rules);
      // Bullwhip pairs: this order against the demand of the period it replenishes,
      // [t_{r-1}, t_r); the first review's order only reflects the starting stock.
      if (period_open) out.add_period(order, period_demand);
      period_open = true;
      period_demand = 0;
      if (order > 0) {
        out.num_orders += 1;
        out.ordered_units += order;
        if (L == 0) {
          on_hand += order;
          if (kTrace) tr.arrival[t] += order;  // received the day it is placed
        } else {
          ring[slot_idx] += order;  // arrives on day t + L, the slot just emptied
          on_order += order;
        }
      }
      ++r;
      next_review += review_period;
    } else if (kTrace) {
      tr.position[t] = 0;
    }
    if (kTrace) tr.order[t] = order;
    // With L = 0 today's order may clear backorders before today's demand.
    if (L == 0 && backlog > 0 && on_hand > 0) {
      const int64_t fill = backlog < on_hand ? backlog : on_hand;
      backlog -= fill;
      on_hand -= fill;
    }
    const int64_t d = static_cast<int64_t>(demand[t]);
    if (bad_demand(d)) return t;
    const int64_t sold = d < on_hand ? d : on_hand;
    const int64_t unmet = d - sold;
    on_hand -= sold;
    if (!lost_sales) backlog += unmet;
    out.demand += d;
    out.sold += sold;
    out.unmet += unmet;
    if (unmet > 0) {
      out.stockout_days += 1;
      cycle_bad = true;
    }
    if (period_open) period_demand += d;
    out.on_hand_sum += static_cast<double>(on_hand);
    if (kTrace) tr.on_hand[t] = on_hand;
    if (kTrace) tr.backlog[t] = backlog;
    if (kTrace) tr.sold[t] = sold;
    if (kTrace) tr.unmet[t] = unmet;
    if (++slot_idx == ring_n) slot_idx = 0;
  }
  // A cycle still open at the horizon counts if it started inside it.
  if (cycle_open) {
    out.cycles += 1;
    out.cycles_ok += cycle_bad ? 0 : 1;
  }
  return -1;
}

// Index of the lowest set bit (x != 0).
SKUCAST_HD int lowest_bit(uint64_t x) {
#if defined(__CUDA_ARCH__)
  return __ffsll(static_cast<long long>(x)) - 1;
#else
  return __builtin_ctzll(x);
#endif
}

// Per-row inputs of a block of rows.
struct SimRowParams {
  const int64_t* S;  // one per review at stride target_stride
  const int64_t* s;  // nullptr for RS
  int64_t L;
  int64_t on_hand0;
  OrderRules rules;
};

// The same day loop as simulate_row for B rows at once, laid out lane by lane so that the
// compiler vectorises the daily steps across rows; review days (1 in R) run row by row.
// Demand arrives in tiles of 64 days transposed to [day][row] (load_tile below); the pipeline is one ring of
// P > max L day slots shared by the block (slot t % P holds what arrives on day t). ring:
// P * B int64, zero except the initial in-transit units (ring[(k % P) * B + b] arrives on day
// k). Stockout days are kept as one bit per day in each tile and turned into stockout-day and
// cycle counts once per tile, off the daily path. Returns true if any demand value is bad
// (bad_demand; the caller reruns the rows with simulate_row to locate it).
template <class D, int B>
SKUCAST_HD bool load_tile_generic(const D* demand, int64_t T, int64_t t0, int64_t nt, D (*tile)[B]) {
  bool neg = false;
  for (int b = 0; b < B; ++b) {
    const D* row = demand + b * T + t0;
    for (int64_t j = 0; j < nt; ++j) {
      tile[j][b] = row[j];
      neg |= bad_demand(static_cast<int64_t>(row[j]));
    }
  }
  return neg;
}

// Number of set bits.
SKUCAST_HD int bit_count(uint64_t x) {
#if defined(__CUDA_ARCH__)
  return __popcll(static_cast<unsigned long long>(x));
#else
  return __builtin_popcountll(x);
#endif
}

// Stockout days of one tile of a block row (bit j: a stockout on day t0 + j): counted, and each
// review cycle [c0 + k R, c0 + (k + 1) R) that holds one marked bad once. One division per bad
// cycle, not per stockout day: the cycle's remaining bits are cleared at once.
SKUCAST_HD void count_stockout_days(uint64_t bits, int64_t t0, int64_t c0, int64_t review_period,
                                    int64_t& stockout_days, int64_t& last_bad, int64_t& bad_cycles) {
  stockout_days += bit_count(bits);
  const int64_t before = c0 - t0;  // days of the tile before the first cycle
  if (before >= 64) return;
  if (before > 0) bits &= ~uint64_t{0} << before;
  while (bits) {
    const int64_t k = (t0 + lowest_bit(bits) - c0) / review_period;
    if (k != last_bad) {
      last_bad = k;
      bad_cycles += 1;
    }
    const int64_t next = c0 + (k + 1) * review_period - t0;  // the next cycle's first bit
    bits = next >= 64 ? 0 : bits & (~uint64_t{0} << next);
  }
}

// A block row's totals at the end of the horizon (order counts and period sums are already in o).
SKUCAST_HD void finish_block_totals(SimTotals& o, int64_t demand, int64_t sold, int64_t stockout_days,
                                   int64_t on_hand_sum, int64_t c0, int64_t T, int64_t review_period,
                                   int64_t bad_cycles) {
  o.demand = demand;
  o.sold = sold;
  o.unmet = demand - sold;
  o.stockout_days = stockout_days;
  o.on_hand_sum = static_cast<double>(on_hand_sum);
  o.cycles = c0 < T ? (T - 1 - c0) / review_period + 1 : 0;
  o.cycles_ok = o.cycles - bad_cycles;
}

// load_tile(demand, T, t0, nt, tile) copies days [t0, t0 + nt) of the B rows into tile[day][row]
// and returns true if any value is negative (the CPU loop passes a SIMD transpose).
template <class D, int B, class LoadTile>
SKUCAST_HD bool simulate_block(const D* demand, int64_t T, const SimRowParams* rows, int64_t target_stride,
                               int64_t n_reviews, int64_t review_period, int64_t first_review, int policy,
                               bool lost_sales, int64_t* ring, int64_t P, SimTotals* out, LoadTile&& load_tile) {
  constexpr int64_t kTile = 64;
  D tile[kTile][B];
  int64_t oh[B], bl[B], dem[B], dem_last[B], sold_s[B], ohs[B];
  uint64_t so_bits[B];
  int64_t sod[B], bad_cycles[B], last_bad[B], c0[B];
  for (int b = 0; b < B; ++b) {
    oh[b] = rows[b].on_hand0;
    bl[b] = dem[b] = dem_last[b] = sold_s[b] = ohs[b] = sod[b] = bad_cycles[b] = 0;
    last_bad[b] = -1;
    so_bits[b] = 0;
    c0[b] = first_review + rows[b].L;  // cycle k = [c0 + k R, c0 + (k + 1) R)
  }
  int64_t r = 0, next_review = first_review, slot = 0;
  for (int64_t t0 = 0; t0 < T; t0 += kTile) {
    const int64_t nt = T - t0 < kTile ? T - t0 : kTile;
    if (load_tile(demand, T, t0, nt, tile)) return false;
    for (int64_t j = 0; j < nt; ++j) {
      const int64_t t = t0 + j;
      int64_t* rs = ring + slot * B;
      for (int b = 0; b < B; ++b) {
        oh[b] += rs[b];
        rs[b] = 0;
      }
      if (!lost_sales) {
        for (int b = 0; b < B; ++b) {
          const int64_t f = bl[b] < oh[b] ? bl[b] : oh[b];
          bl[b] -= f;
          oh[b] -= f;
        }
      }
      if (t == next_review && r < n_reviews) {
        for (int b = 0; b < B; ++b) {
          const SimRowParams& p = rows[b];
          int64_t oo = 0;  // in transit: every ring slot but today's (already received)
          for (int64_t k = 0; k < P; ++k) oo += ring[k * B + b];
          const int64_t ip = oh[b] + oo - bl[b];
          const bool trigger = policy == kPolicyRS || ip <= p.s[r * target_stride];
          const int64_t q = trigger ? apply_order_rules(p.S[r * target_stride] - ip, p.rules) : 0;
          SimTotals& o = out[b];
          if (r > 0) o.add_period(q, dem[b] - dem_last[b]);
          dem_last[b] = dem[b];
          if (q > 0) {
            o.num_orders += 1;
            o.ordered_units += q;
            if (p.L == 0) {
              oh[b] += q;
              if (!lost_sales) {
                const int64_t f = bl[b] < oh[b] ? bl[b] : oh[b];
                bl[b] -= f;
                oh[b] -= f;
              }
            } else {
              int64_t k = slot + p.L;
              if (k >= P) k -= P;
              ring[k * B + b] += q;
            }
          }
        }
        ++r;
        next_review += review_period;
      }
      const D* dt = tile[j];
      for (int b = 0; b < B; ++b) {
        const int64_t d = static_cast<int64_t>(dt[b]);
        const int64_t sold = d < oh[b] ? d : oh[b];
        oh[b] -= sold;
        if (!lost_sales) bl[b] += d - sold;
        dem[b] += d;
        sold_s[b] += sold;
        so_bits[b] |= static_cast<uint64_t>(d > sold) << j;
        ohs[b] += oh[b];
      }
      if (++slot == P) slot = 0;
    }
    for (int b = 0; b < B; ++b) {
      count_stockout_days(so_bits[b], t0, c0[b], review_period, sod[b], last_bad[b], bad_cycles[b]);
      so_bits[b] = 0;
    }
  }
  for (int b = 0; b < B; ++b) {
    finish_block_totals(out[b], dem[b], sold_s[b], sod[b], ohs[b], c0[b], T, review_period, bad_cycles[b]);
  }
  return true;
}

}  // namespace inv
}  // namespace skucast
