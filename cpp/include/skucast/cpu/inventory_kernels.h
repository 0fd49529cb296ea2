// Inventory kernels as the bindings see them: raw pointers and strides in, first bad row out.
// The argument structs are also the GPU kernels' arguments (device pointers), hence SKUCAST_HD.
#pragma once
#include <cstdint>

#include "skucast/core/hostdevice.h"
#include "skucast/core/strided.h"

namespace skucast {
namespace cpu {

// A per-row int64 argument: value of row i is p[i * stride] (stride 0 for a scalar).
struct RowI64 {
  const int64_t* p = nullptr;
  int64_t stride = 0;
  SKUCAST_HD int64_t at(int64_t i) const { return p[i * stride]; }
};

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
  // method kExact: protection-interval demand whose daily alpha*mu differ is convolved when its
  // mean is <= conv_mean_max, else variance-matched (see inventory_policy.cpp).
  double conv_mean_max = 0.0;
};

// BadValue: flat = row, arg 0 = mu, 1 = alpha, 2 = window (start / lead / review < 0 or past the
// horizon); the caller re-checks to name the argument and index.
// Outputs may be null except S.
BadValue order_up_to_nb(const DemandArgs& d, int64_t* S, int64_t* s, double* mean, double* safety);

enum ReplenishArg : int {
  kArgOnHand = 0, kArgOnOrder = 1, kArgBackorders = 2, kArgCasePack = 3, kArgMoq = 4, kArgMaxOrder = 5,
  kArgMoqAboveMax = 6, kArgShelf = 7, kArgOrderQ = 8, kArgSAboveS = 9
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

}  // namespace cpu
}  // namespace skucast
