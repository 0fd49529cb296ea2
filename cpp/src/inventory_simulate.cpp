// CPU loop of the policy simulator: rows in parallel, the day loop of each row inside.
#include <algorithm>
#include <atomic>
#include <vector>

#include "skucast/core/threads.h"
#include "skucast/cpu/inventory_sim_kernels.h"
#include "skucast/inventory/simulate.h"

namespace skucast {
namespace cpu {
namespace {

constexpr int64_t kGrain = 256;

template <class D>
int64_t simulate_typed(const SimArgs& a) {
  const D* demand = static_cast<const D*>(a.demand);
  int64_t max_l = 1;
  for (int64_t i = 0; i < a.n; ++i) max_l = std::max(max_l, a.lead_time[i]);
  std::atomic<int64_t> first_bad{-1};
  const int64_t T = a.T;
  const int64_t stride = a.target_cols > 1 ? 1 : 0;
  parallel_for(a.n, kGrain, [&](int64_t begin, int64_t end) {
    std::vector<int64_t> ring(static_cast<size_t>(max_l));
    for (int64_t i = begin; i < end; ++i) {
      const int64_t L = a.lead_time[i];
      const int64_t ring_n = L > 0 ? L : 1;
      std::fill(ring.begin(), ring.begin() + ring_n, 0);
      int64_t on_order0 = 0;
      int64_t on_hand0 = a.on_hand0[i];
      if (a.on_order) {
        // Units arriving on day k < L wait in the ring; with L = 0 they are on hand at once.
        for (int64_t k = 0; k < a.on_order_cols; ++k) {
          const int64_t v = a.on_order[i * a.on_order_cols + k];
          if (v == 0) continue;
          if (L == 0) {
            on_hand0 += v;
          } else {
            ring[k % ring_n] += v;
            on_order0 += v;
          }
        }
      }
      inv::OrderRules rules;
      rules.moq = a.moq[i];
      rules.case_pack = a.case_pack[i];
      rules.max_order = a.max_order[i];
      rules.smoothing = a.smoothing[i];
      inv::SimTrace tr;
      if (a.trace) {
        int64_t* base = a.trace + i * kSimTraceCols * T;
        tr.on_hand = base;
        tr.backlog = base + T;
        tr.sold = base + 2 * T;
        tr.unmet = base + 3 * T;
        tr.order = base + 4 * T;
        tr.arrival = base + 5 * T;
        tr.position = base + 6 * T;
      }
      inv::SimTotals tot;
      const int64_t* S = a.S + i * a.target_cols;
      const int64_t* s = a.s ? a.s + i * a.target_cols : nullptr;
      const int64_t bad = inv::simulate_row(demand + i * T, T, S, s, stride, a.n_reviews, a.review_period,
                                            a.first_review, a.policy, a.lost_sales, L, on_hand0, ring.data(),
                                            on_order0, rules, tot, tr);
      if (bad >= 0) {
        const int64_t flat = i * T + bad;
        int64_t cur = first_bad.load();
        while ((cur < 0 || flat < cur) && !first_bad.compare_exchange_weak(cur, flat)) {
        }
      }
      int64_t* oi = a.out_i + i * kSimIntCols;
      oi[0] = tot.demand;
      oi[1] = tot.sold;
      oi[2] = tot.unmet;
      oi[3] = tot.stockout_days;
      oi[4] = tot.num_orders;
      oi[5] = tot.ordered_units;
      oi[6] = tot.cycles;
      oi[7] = tot.cycles_ok;
      oi[8] = tot.periods;
      double* of = a.out_f + i * kSimFloatCols;
      of[0] = tot.on_hand_sum;
      of[1] = tot.periods > 0 ? tot.order_m2 / static_cast<double>(tot.periods) : 0.0;
      of[2] = tot.periods > 0 ? tot.dem_m2 / static_cast<double>(tot.periods) : 0.0;
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
