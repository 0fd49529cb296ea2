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
  int64_t periods = 0;
  double order_mean = 0.0, order_m2 = 0.0, dem_mean = 0.0, dem_m2 = 0.0;  // Welford
};

// Optional per-day traces (nullptr: not recorded), each of length T.
struct SimTrace {
  int64_t* on_hand = nullptr;   // end of day (>= 0)
  int64_t* backlog = nullptr;   // end of day backorders
  int64_t* sold = nullptr;
  int64_t* unmet = nullptr;
  int64_t* order = nullptr;     // quantity ordered that day
  int64_t* arrival = nullptr;   // quantity received at the start of that day
  int64_t* position = nullptr;  // inventory position at the review (before the order); 0 otherwise
};

SKUCAST_HD void welford(double x, int64_t n, double& mean, double& m2) {
  const double d = x - mean;
  mean += d / static_cast<double>(n);
  m2 += d * (x - mean);
}

// One row. Day t: (1) the order placed on day t - L arrives; (2) on a review day the
// inventory position IP = on_hand + on_order - backorders is compared with S (and s) and an
// order is placed (with L = 0 it is on the shelf at once); (3) demand is served from stock,
// the rest is lost or backordered; (4) end-of-day stock is counted.
// S, s: one per review at stride target_stride (0: one value for all reviews; s may be nullptr
// for RS). ring: scratch of max(L, 1) int64 holding the
// pipeline by arrival day, pre-filled with the initial in-transit units (ring[k % L] arrives on
// day k, k < L). Returns the first bad day (negative demand) or -1.
template <class D>
SKUCAST_HD int64_t simulate_row(const D* demand, int64_t T, const int64_t* S, const int64_t* s, int64_t target_stride, int64_t n_reviews,
                                int64_t review_period, int64_t first_review, int policy, bool lost_sales,
                                int64_t L, int64_t on_hand0, int64_t* ring, int64_t on_order0,
                                const OrderRules& rules, SimTotals& out, const SimTrace& tr) {
  int64_t on_hand = on_hand0, backlog = 0, on_order = on_order0;
  const int64_t ring_n = L > 0 ? L : 1;
  int64_t r = 0;                       // next review index
  int64_t next_review = first_review;  // day of review r
  // Cycle bookkeeping: cycle k = days [t_k + L, t_{k+1} + L) for reviews k, clipped to T.
  bool cycle_open = false, cycle_bad = false;
  int64_t next_cycle_start = first_review + L;
  int64_t period_demand = 0;
  bool period_open = false;
  for (int64_t t = 0; t < T; ++t) {
    int64_t arrived = 0;
    if (L > 0) {
      int64_t& slot = ring[t % ring_n];
      arrived = slot;
      slot = 0;
      on_order -= arrived;
      on_hand += arrived;
    }
    if (tr.arrival) tr.arrival[t] = arrived;
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
      if (tr.position) tr.position[t] = ip;
      const bool trigger = policy == kPolicyRS || ip <= s[r * target_stride];
      if (trigger) order = apply_order_rules(S[r * target_stride] - ip, rules);
      // Bullwhip pairs: this order against the demand of the period it replenishes,
      // [t_{r-1}, t_r); the first review's order only reflects the starting stock.
      if (period_open) {
        out.periods += 1;
        welford(static_cast<double>(order), out.periods, out.order_mean, out.order_m2);
        welford(static_cast<double>(period_demand), out.periods, out.dem_mean, out.dem_m2);
      }
      period_open = true;
      period_demand = 0;
      if (order > 0) {
        out.num_orders += 1;
        out.ordered_units += order;
        if (L == 0) {
          on_hand += order;
        } else {
          ring[(t + L) % ring_n] += order;
          on_order += order;
        }
      }
      ++r;
      next_review += review_period;
    } else if (tr.position) {
      tr.position[t] = 0;
    }
    if (tr.order) tr.order[t] = order;
    // With L = 0 today's order may clear backorders before today's demand.
    if (L == 0 && backlog > 0 && on_hand > 0) {
      const int64_t fill = backlog < on_hand ? backlog : on_hand;
      backlog -= fill;
      on_hand -= fill;
    }
    const int64_t d = static_cast<int64_t>(demand[t]);
    if (d < 0) return t;
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
    if (tr.on_hand) tr.on_hand[t] = on_hand;
    if (tr.backlog) tr.backlog[t] = backlog;
    if (tr.sold) tr.sold[t] = sold;
    if (tr.unmet) tr.unmet[t] = unmet;
  }
  // A cycle still open at the horizon counts if it started inside it.
  if (cycle_open) {
    out.cycles += 1;
    out.cycles_ok += cycle_bad ? 0 : 1;
  }
  return -1;
}

}  // namespace inv
}  // namespace skucast
