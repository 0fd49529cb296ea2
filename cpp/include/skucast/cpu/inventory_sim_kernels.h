// CPU kernels for allocation and policy simulation, as the bindings see them (raw pointers,
// contiguous arrays of exact dtypes already validated by the Python layer).
#pragma once
#include <cstdint>

#include "skucast/cpu/inventory_kernels.h"

namespace skucast {
namespace cpu {

// An (n, m) argument of allocate with any strides, in elements: a scalar or a per-location row
// broadcast by numpy has stride 0 and is never copied out to (n, m).
template <class T>
struct Cells {
  const T* p = nullptr;
  int64_t row = 0, col = 0;
};

// NB demand per (sku, location): mu (n, m) contiguous; alpha, on_hand, min_display (p may be
// nullptr) as Cells; supply: (n,), already net of the reserve and >= 0. out: (n, m) allocation.
// The cells are checked here, in the same pass (mu and alpha finite and >= 0, on_hand and
// min_display >= 0): returns the first SKU with a bad cell (its row and the rest of its thread's
// chunk are not computed: the call fails), or -1.
int64_t allocate_nb(int64_t n, int64_t m, const int64_t* supply, const double* mu, Cells<double> alpha,
                    Cells<int64_t> on_hand, Cells<int64_t> min_display, int64_t* out);

// Sample paths of the period demand: samples (n, m, num) int64 >= 0 (not modified).
void allocate_samples(int64_t n, int64_t m, int64_t num, const int64_t* supply, const int64_t* samples,
                      const int64_t* on_hand, const int64_t* min_display, int64_t* out);

struct SimArgs {
  int64_t n = 0, T = 0;
  const void* demand = nullptr;  // (n, T), int32 or int64
  bool demand_i32 = false;
  const int64_t* S = nullptr;  // (n, target_cols)
  const int64_t* s = nullptr;  // (n, target_cols) or nullptr
  int64_t target_cols = 1;     // n_reviews, or 1 for one target per row
  int64_t n_reviews = 0;
  int64_t review_period = 7, first_review = 0;
  int policy = 0;
  bool lost_sales = true;
  PerRow<int64_t> lead_time;                 // (n,) or one for all
  PerRow<int64_t> on_hand0;                  // (n,) or one for all
  const int64_t* on_order = nullptr;         // (n, K): units arriving on day k, or nullptr
  int64_t on_order_cols = 0;
  PerRow<int64_t> moq;                       // (n,) or one for all
  PerRow<int64_t> case_pack;                 // (n,) or one for all
  PerRow<int64_t> max_order;                 // (n,) or one for all; <= 0: no cap
  PerRow<double> smoothing;                  // (n,) or one for all
  int64_t* out_i = nullptr;                  // CPU: (kSimIntCols, n), one array per column; CUDA: (n, kSimIntCols)
  double* out_f = nullptr;                   // CPU: (kSimFloatCols, n); CUDA: (n, kSimFloatCols)
  int64_t* trace = nullptr;                  // (n, kSimTraceCols, T) or nullptr
};

// out_i columns: demand, sold, unmet, stockout_days, num_orders, ordered_units, cycles,
// cycles_ok, periods. out_f columns: sum of end-of-day on-hand, var(orders per period),
// var(demand per period) (population variances over complete review periods).
constexpr int kSimIntCols = 9;
constexpr int kSimFloatCols = 3;
// trace series: on_hand, backlog, sold, unmet, order, arrival, position.
constexpr int kSimTraceCols = 7;

// Returns the flat index (row * T + day) of the first negative demand, or -1.
int64_t simulate(const SimArgs& a);

// simulate()'s metrics per row from its totals (the columns of out_i / out_f above, each n
// long). Costs: per-row arrays or one value (stride 0); price may be absent (nullptr).
// Outputs: n doubles each.
enum SimIntCol : int { kSimDemand = 0, kSimSold = 1, kSimLost = 2, kSimStockoutDays = 3, kSimOrders = 4,
                       kSimOrdered = 5, kSimCycles = 6, kSimCyclesOk = 7, kSimPeriods = 8 };
enum SimCost : int { kCostUnit = 0, kCostRate = 1, kCostOrder = 2, kCostStockout = 3, kCostPrice = 4, kSimCosts = 5 };
enum SimMetric : int { kMetFill = 0, kMetCsl = 1, kMetAvgOnHand = 2, kMetOrdersVar = 3, kMetDemandVar = 4,
                       kMetBullwhip = 5, kMetInventoryValue = 6, kMetHolding = 7, kMetOrdering = 8, kMetStockout = 9,
                       kMetTotal = 10, kMetLostRevenue = 11, kSimMetrics = 12 };
struct SimMetricsArgs {
  int64_t n = 0, T = 0;
  const int64_t* ints[kSimIntCols] = {};
  const double* floats[kSimFloatCols] = {};
  const double* cost[kSimCosts] = {};
  int64_t cost_stride[kSimCosts] = {};
  double* out[kSimMetrics] = {};  // out[kMetAvgOnHand / kMetOrdersVar / kMetDemandVar] may be floats[0 / 1 / 2]
};
// Each row's totals are read before its metrics are written, so those three may be computed in place.
void sim_metrics(const SimMetricsArgs& a);

}  // namespace cpu
}  // namespace skucast
