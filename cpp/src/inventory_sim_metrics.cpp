// simulate()'s per-row metrics from the kernel's totals, on the CPU: the same IEEE operations in
// the same order as the numpy formulas they replace (skucast/inventory/_simulate.py::_result, still
// used for GPU totals), in one threaded pass instead of ~20 serial full-array numpy passes.
#include <cmath>

#include "skucast/core/threads.h"
#include "skucast/cpu/inventory_sim_kernels.h"

namespace skucast {
namespace cpu {

void sim_metrics(const SimMetricsArgs& a) {
  const double nan = std::nan("");
  parallel_for(a.n, 4096, [&](int64_t begin, int64_t end) {
    auto cost = [&](int c, int64_t i) { return a.cost[c][i * a.cost_stride[c]]; };
    for (int64_t i = begin; i < end; ++i) {
      const int64_t dem = a.ints[kSimDemand][i], sold = a.ints[kSimSold][i], lost = a.ints[kSimLost][i];
      const int64_t orders = a.ints[kSimOrders][i], cycles = a.ints[kSimCycles][i];
      const int64_t cycles_ok = a.ints[kSimCyclesOk][i], periods = a.ints[kSimPeriods][i];
      const double on_hand_sum = a.floats[0][i];
      const double avg_oh = a.T > 0 ? on_hand_sum / static_cast<double>(a.T) : on_hand_sum * 0.0;
      const double ovar = periods >= 2 ? a.floats[1][i] : nan, dvar = periods >= 2 ? a.floats[2][i] : nan;
      const double price = a.cost[kCostPrice] ? cost(kCostPrice, i) : 0.0;
      const double value = a.cost[kCostPrice] ? price : cost(kCostUnit, i);
      double holding = on_hand_sum * cost(kCostUnit, i);
      holding *= cost(kCostRate, i);
      holding /= 365.0;
      const double ordering = static_cast<double>(orders) * cost(kCostOrder, i);
      const double stockout = static_cast<double>(lost) * cost(kCostStockout, i);
      a.out[kMetFill][i] = dem > 0 ? static_cast<double>(sold) / static_cast<double>(dem) : nan;
      a.out[kMetCsl][i] = cycles > 0 ? static_cast<double>(cycles_ok) / static_cast<double>(cycles) : nan;
      a.out[kMetAvgOnHand][i] = avg_oh;
      a.out[kMetOrdersVar][i] = ovar;
      a.out[kMetDemandVar][i] = dvar;
      a.out[kMetBullwhip][i] = dvar > 0 ? ovar / dvar : nan;
      a.out[kMetInventoryValue][i] = avg_oh * value;
      a.out[kMetHolding][i] = holding;
      a.out[kMetOrdering][i] = ordering;
      a.out[kMetStockout][i] = stockout;
      a.out[kMetTotal][i] = (holding + ordering) + stockout;
      a.out[kMetLostRevenue][i] = static_cast<double>(lost) * price;
    }
  });
}

}  // namespace cpu
}  // namespace skucast
