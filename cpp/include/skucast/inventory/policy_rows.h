// One row of order_up_to / replenish / plan_orders over the kernel argument structs: the steps
// shared by the CPU loop (cpp/src/inventory_policy.cpp) and the CUDA kernels (cuda/inventory_policy.cu).
#pragma once
#include "skucast/cpu/inventory_kernels.h"
#include "skucast/inventory/policy.h"

namespace skucast {
namespace inv {

// A protection window [st, st + L + R) that is negative, longer than 2^40 days (the Python
// layer's MAX_DAYS: the sum cannot overflow) or past the horizon (horizon < 0: none).
SKUCAST_HD bool window_out_of_range(int64_t st, int64_t L, int64_t R, int64_t horizon) {
  constexpr int64_t kMaxDays = INT64_C(1) << 40;
  if (st < 0 || R < 0 || L < 0 || st > kMaxDays || L > kMaxDays || R > kMaxDays) return true;
  return horizon >= 0 && st + L + R > horizon;
}

// Window check. L: the deterministic lead time, or lt_cols - 1 with a lead-time pmf.
// Returns -1, or 2 (start / lead / review out of range or past the horizon).
SKUCAST_HD int check_window(const cpu::DemandArgs& d, int64_t i, int64_t& st, int64_t& L, int64_t& R) {
  st = d.start.at(i);
  R = d.review.at(i);
  L = d.lt_pmf == nullptr ? d.lead.at(i) : d.lt_cols - 1;
  return window_out_of_range(st, L, R, d.horizon) ? 2 : -1;
}

// Moments of D_L and D_{L+R} for a deterministic lead time. Returns -1, or the bad argument
// (0 mu, 1 alpha: not finite or < 0).
SKUCAST_HD int window_moments(const cpu::DemandArgs& d, int64_t i, int64_t st, int64_t L, int64_t R,
                              WindowMoments& mL, WindowMoments& mLR) {
  if (d.mu.day_stride == 0 && d.alpha.day_stride == 0) {
    // constant daily parameters per row: moments in closed form, no day loop
    const double mu = d.mu.at(i, 0), a = d.alpha.at(i, 0);
    if (!(mu >= 0.0 && mu < INFINITY)) return 0;
    if (!(a >= 0.0 && a < INFINITY)) return 1;
    const double c = a * mu;
    mL.mean = mu * static_cast<double>(L);
    mL.var = (mu + c * mu) * static_cast<double>(L);
    mLR.mean = mu * static_cast<double>(L + R);
    mLR.var = (mu + c * mu) * static_cast<double>(L + R);
    mL.c_min = mL.c_max = mLR.c_min = mLR.c_max = c;
    return -1;
  }
  for (int64_t t = st; t < st + L + R; ++t) {
    const double mu = d.mu.at(i, t), a = d.alpha.at(i, t);
    if (!(mu >= 0.0 && mu < INFINITY)) return 0;
    if (!(a >= 0.0 && a < INFINITY)) return 1;
    if (mu > 0.0) {
      mLR.add(mu, a);
      if (t < st + L) mL.add(mu, a);
    }
  }
  return -1;
}

// Fill-rate shortage budget per cycle: (1 - beta) E[D_R], or with R = 0 the mean daily lead-time demand.
SKUCAST_HD double fill_rate_budget(double service, const WindowMoments& mL, const WindowMoments& mLR, int64_t L,
                                   int64_t R) {
  const double mR = mLR.mean - mL.mean;
  return (1.0 - service) * (R > 0 ? mR : (L > 0 ? mL.mean / L : 0.0));
}

// The fill-rate reorder point meets the cycle's shortage budget on lead-time demand alone, which
// can ask for more than S when the review period is short; a reorder point above S only ever
// orders up to S (the (s, S) row acts as (R, S)), so s is kept at most S.
SKUCAST_HD int64_t capped_reorder_point(int64_t s, int64_t S) { return s < S ? s : S; }

// Normal-method levels (csl, fill rate) from the window moments; z = normal_ppf(service).
SKUCAST_HD void normal_levels(const cpu::DemandArgs& d, double z, const WindowMoments& mL, const WindowMoments& mLR,
                              int64_t R, double fr_target, int64_t& S, int64_t& s) {
  if (d.target == cpu::kCsl) {
    S = normal_level(mLR.mean, mLR.var, z);
    if (d.need_s) s = normal_level(mL.mean, mL.var, z);
  } else {
    S = normal_fill(mL.mean, mL.var, mLR.mean, mLR.var, R > 0, fr_target);
    s = capped_reorder_point(normal_fill(0.0, 0.0, mL.mean, mL.var, false, fr_target), S);
  }
}

// Levels that need no pmf arrays: the normal method (csl, fill rate) and NB csl levels in
// closed form / variance matched. Returns false when the row needs pmf arrays (NB fill rate, or
// a window that is convolved); conv then says whether it is convolved. z = normal_ppf(service).
SKUCAST_HD bool direct_levels(const cpu::DemandArgs& d, double z, const WindowMoments& mL,
                              const WindowMoments& mLR, int64_t R, double fr_target, int64_t& S, int64_t& s,
                              bool& conv) {
  conv = false;
  if (d.method == cpu::kNormal) {
    normal_levels(d, z, mL, mLR, R, fr_target, S, s);
    return true;
  }
  const bool closed = mLR.closed_form() || d.method == cpu::kMoment;
  conv = !closed && (d.method == cpu::kConvolution || mLR.mean <= d.conv_mean_max);
  if (!conv && d.target == cpu::kCsl) {
    S = nb_level(mLR.mean, mLR.alpha_eff(), d.service);
    if (d.need_s) s = nb_level(mL.mean, mL.alpha_eff(), d.service);
    return true;
  }
  return false;
}

// Replenishment inputs of row i: -1 (and ip) or the bad cpu::ReplenishArg.
SKUCAST_HD int check_replenish(const cpu::ReplenishArgs& r, int64_t i, int64_t& ip) {
  const int64_t oh = r.on_hand.at(i), oo = r.on_order.at(i), bo = r.backorders.at(i);
  // Stock up to 2^60 units: the inventory position and S - IP then cannot overflow int64.
  constexpr int64_t kMaxUnits = INT64_C(1) << 60;
  if (oh < 0) return cpu::kArgOnHand;
  if (oo < 0) return cpu::kArgOnOrder;
  if (bo < 0) return cpu::kArgBackorders;
  if (oh > kMaxUnits) return cpu::kArgOnHandLarge;
  if (oo > kMaxUnits) return cpu::kArgOnOrderLarge;
  if (bo > kMaxUnits) return cpu::kArgBackordersLarge;
  // Rules up to 2^60 units too, levels (given or solved) within +-2^62: every step of
  // replenish_row (S - IP, whole cases, s - IP + Q) then stays below 2^63.
  const int64_t cp = r.case_pack.at(i), moq = r.moq.at(i);
  if (cp <= 0) return cpu::kArgCasePack;
  if (cp > kMaxUnits) return cpu::kArgCasePackLarge;
  if (moq < 0) return cpu::kArgMoq;
  if (moq > kMaxUnits) return cpu::kArgMoqLarge;
  if (r.has_max_order) {
    const int64_t mx = r.max_order.at(i);
    if (mx < 0) return cpu::kArgMaxOrder;
    if (mx > kMaxUnits) return cpu::kArgMaxOrderLarge;
    if (moq > mx) return cpu::kArgMoqAboveMax;
  }
  if (r.has_shelf && r.shelf.at(i) < 0) return cpu::kArgShelf;
  if (r.has_shelf && r.shelf.at(i) > kMaxUnits) return cpu::kArgShelfLarge;
  if (r.policy == kSQ && r.Q.at(i) <= 0) return cpu::kArgOrderQ;
  if (r.policy == kSQ && r.Q.at(i) > kMaxUnits) return cpu::kArgOrderQLarge;
  ip = oh + oo - bo;
  return -1;
}

// The levels replenish() is given for row i (S unused by (s, Q), s only by (s, S) and (s, Q)),
// and the code of the first bad one, or -1: within +-2^62 (solved levels are in [0, nb::kPpfMax =
// 2^62]), s <= S.
SKUCAST_HD int given_levels(const cpu::ReplenishArgs& r, int64_t i, int64_t& S, int64_t& s) {
  S = r.policy == kSQ ? 0 : r.S.at(i);
  s = (r.policy == kSS || r.policy == kSQ) ? r.s.at(i) : 0;
  if (S > nb::kPpfMax || S < -nb::kPpfMax) return cpu::kArgSLarge;
  if (s > nb::kPpfMax || s < -nb::kPpfMax) return cpu::kArgSmallSLarge;
  if (r.policy == kSS && s > S) return cpu::kArgSAboveS;
  return -1;
}

SKUCAST_HD OrderResult order_of_row(const cpu::ReplenishArgs& r, int64_t i, int64_t ip, int64_t S, int64_t s) {
  return replenish_row(r.policy, ip, S, s, r.policy == kSQ ? r.Q.at(i) : 1, r.on_hand.at(i), r.on_order.at(i),
                       r.moq.at(i), r.case_pack.at(i), r.has_max_order ? r.max_order.at(i) : -1,
                       r.has_shelf ? r.shelf.at(i) : -1);
}

}  // namespace inv
}  // namespace skucast
