// Inventory kernels as the bindings see them: raw pointers and strides in, first bad row out.
// The argument structs are also the GPU kernels' arguments (device pointers), hence SKUCAST_HD.
#pragma once
#include <cstdint>

#include "skucast/core/hostdevice.h"
#include "skucast/core/strided.h"

namespace skucast {
namespace cpu {

// A per-row argument: value of row i is p[i * stride] (stride 1 for one value per row, 0 for one
// value for every row: a scalar argument is never broadcast to (n,) first).
template <class T>
struct PerRow {
  const T* p = nullptr;
  int64_t stride = 0;
  SKUCAST_HD T at(int64_t i) const { return p[i * stride]; }
};
using RowI64 = PerRow<int64_t>;

// Daily parameter x[i, t] = p[i * row_stride + t * day_stride] (day_stride 0: constant per row).
struct Daily {
  const double* p = nullptr;
  int64_t row_stride = 0;
  int64_t day_stride = 0;
  SKUCAST_HD double at(int64_t i, int64_t t) const { return p[i * row_stride + t * day_stride]; }
};

enum LevelMethod : int { kNormal = 0, kExact = 1, kConvolution = 2, kMoment = 3 };
enum LevelTarget : int { kCsl = 0, kFillRate = 1 };

struct DemandArgs {
  int64_t n = 0;
  int64_t horizon = -1;        // days in mu/alpha; -1: constant daily parameters (any window)
  bool need_s = true;          // compute the reorder point s too
  Daily mu, alpha;            // validated here: mu finite >= 0, alpha finite >= 0
  RowI64 start, lead, review;  // windows validated by the caller (inside the horizon)
  const double* lt_pmf = nullptr;  // (n, lt_cols) row-major P(L = l); nullptr: lead = deterministic
  int64_t lt_cols = 0;
  double service = 0.95;
  int target = kCsl;
  int method = kExact;
  // method kExact: protection-interval demand whose daily alpha*mu differ is convolved (Panjer's
  // recursion) when its mean is <= conv_mean_max (Python passes inf) and its level within 2^20
  // units, else variance-matched (see inventory_policy.cpp).
  double conv_mean_max = 0.0;
};

// BadValue: flat = row, arg 0 = mu, 1 = alpha, 2 = window (start / lead / review < 0 or past the
// horizon); the caller re-checks to name the argument and index.
// Outputs may be null except S.
BadValue order_up_to_nb(const DemandArgs& d, int64_t* S, int64_t* s, double* mean, double* safety);

enum ReplenishArg : int {
  kArgOnHand = 0, kArgOnOrder = 1, kArgBackorders = 2, kArgCasePack = 3, kArgMoq = 4, kArgMaxOrder = 5,
  kArgMoqAboveMax = 6, kArgShelf = 7, kArgOrderQ = 8, kArgSAboveS = 9,
  kArgOnHandLarge = 10, kArgOnOrderLarge = 11, kArgBackordersLarge = 12, kArgCasePackLarge = 13,
  kArgMoqLarge = 14, kArgMaxOrderLarge = 15, kArgShelfLarge = 16, kArgOrderQLarge = 17, kArgSLarge = 18,
  kArgSmallSLarge = 19
};

struct ReplenishArgs {
  int64_t n = 0;
  int policy = 0;
  RowI64 on_hand, on_order, backorders, S, s, Q, moq, case_pack, max_order, shelf;
  bool has_max_order = false, has_shelf = false;
};

// order/reason: (n,). BadValue: flat = row, arg = ReplenishArg.
BadValue replenish(const ReplenishArgs& r, int64_t* order, int8_t* reason);

// One pass: levels from NB parameters (d), then the rules (r.S / r.s ignored; computed: S from the
// protection interval, s from lead-time demand). S_out may be null. BadValue arg: ReplenishArg,
// or 100 + (0 mu, 1 alpha) for demand parameters.
BadValue plan_orders(const DemandArgs& d, const ReplenishArgs& r, int64_t* order, int8_t* reason, int64_t* S_out,
                     int64_t* s_out);

// ---------------------------------------------------------------- optimize_targets (issue 7)
// Per-SKU protection-interval demand: NB (mu, alpha) or samples (n, num) int64 >= 0 (not modified).
// SKUs are grouped contiguously: group g is [group_offsets[g], group_offsets[g + 1]); each group is
// an independent problem. mode 0: goal = budget (max expected units filled with sum c_i S_i <= goal);
// mode 1: goal = portfolio fill rate (least sum c_i S_i with sum E[min(D_i, S_i)] >= goal sum E[D_i]).
struct TargetsArgs {
  int64_t n = 0;
  const double* mu = nullptr;       // (n,) or nullptr with samples
  const double* alpha = nullptr;    // (n,)
  const int64_t* samples = nullptr; // (n, num)
  int64_t num = 0;
  const double* cost = nullptr;     // (n,) > 0
  const int64_t* floor = nullptr;   // (n,) >= 0
  const int64_t* cap = nullptr;     // (n,), < 0: none; else >= floor
  const int64_t* group_offsets = nullptr;  // (n_groups + 1,)
  int64_t n_groups = 1;
  int mode = 0;
};
// Per (point, group) statistics written to stats[(p * n_groups + g) * kTargetsStats + j].
enum TargetsStat : int { kStatSpent = 0, kStatFilled = 1, kStatDemand = 2, kStatLambda = 3, kStatStatus = 4 };
constexpr int kTargetsStats = 5;
// status: 0 solved (goal met), 1 infeasible (budget below the floors' cost / fill target above what
// the caps and worth-stocking units reach), 2 goal not binding (every unit worth stocking fits the budget,
// or the floors already reach the fill target).
// goals: (n_points, n_groups). levels: (n_points, n) or nullptr (statistics only).
void optimize_targets(const TargetsArgs& a, int64_t n_points, const double* goals, int64_t* levels, double* stats);

// E[(D - S_r)^+] per row r of n sorted rows of k window sums (sorted: (n, k); prefix: (n, k + 1)
// running sums from 0), exact for whole-number sums: the integer total over k, rounded once.
void sorted_rows_loss(const double* sorted, const double* prefix, const int64_t* S, int64_t n, int64_t k,
                      double* out);

}  // namespace cpu
}  // namespace skucast
