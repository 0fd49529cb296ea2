// CPU loops for skucast.inventory order_up_to / safety_stock / replenish / plan_orders.
//
// Protection-interval demand per row:
//  * normal: mean and variance of the window sum -> ceil(mean + z sd) (csl) or the normal loss
//    function (fill rate);
//  * exact / moment: when alpha_t mu_t is constant over the window the sum is exactly
//    NB(m, c/m) (policy.h) and S = nb::ppf; otherwise "exact" convolves the daily pmfs when the
//    window mean is small (cheap, and where the variance-matched NB is least accurate) and uses
//    the variance-matched NB above; "moment" always uses the variance-matched NB;
//  * convolution: the true convolution of the daily pmfs (each truncated where its remaining tail
//    is < 1e-17, the running sum trimmed where its tails are < 1e-16).
// Stochastic lead times: the running convolution (or closed-form NB) is snapshotted at every
// window length l + R and mixed with weights P(L = l).
#include <algorithm>
#include <cmath>
#include <cstring>
#if defined(__AVX2__)
#include <immintrin.h>
#endif
#include <vector>

#include "skucast/core/threads.h"
#include "skucast/cpu/inventory_kernels.h"
#include "skucast/cpu/nb_dense.h"
#include "skucast/cpu/nb_sum_law.h"
#include "skucast/cpu/replenish_rs_avx2.h"
#include "skucast/inventory/fill_search.h"
#include "skucast/inventory/policy_rows.h"

namespace skucast {
namespace cpu {
namespace {

constexpr int64_t kGrain = 2048;
constexpr double kDayTail = 1e-17;
constexpr double kSumTail = 1e-16;

struct Pmf {
  int64_t off = 0;
  std::vector<double> p;
  int64_t end() const { return off + static_cast<int64_t>(p.size()); }
};

// Above this many entries a law is too wide for the pmf arrays (512 MB of doubles): the row is
// refused (kArgTooWide) instead of solved on a truncated law.
constexpr size_t kMaxPmfEntries = size_t{1} << 26;
constexpr int kArgTooWide = 3;  // RowSolver's bad_arg codes: 0 mu, 1 alpha, 2 window, 3 this

// pmf of NB(m, a) from near the mode outwards; stops where the geometric bound of the remaining
// tail falls below kDayTail. False when the law needs more than kMaxPmfEntries entries.
bool nb_pmf_array(double m, double a, Pmf& out) {
  out.p.clear();
  if (m <= 0.0) {
    out.off = 0;
    out.p.push_back(1.0);
    return true;
  }
  if (!(m < 0x1p62)) return false;  // (a mode past int64 could not even be indexed: too wide)
  const int64_t k0 = static_cast<int64_t>(std::floor(m));
  const double p0 = std::exp(nb::logpmf(static_cast<double>(k0), m, a));
  const double r_inf = a * m / (1.0 + a * m);
  // downwards: p_{k-1} = p_k / ratio_up(k-1); below the mode the ratio p_{k-1}/p_k = r < 1 shrinks
  std::vector<double> down;
  double pk = p0;
  int64_t k = k0;
  while (k > 0) {
    const double r = 1.0 / nb::pmf_ratio_up(static_cast<double>(k - 1), m, a);
    if (r < 1.0 && pk * r / (1.0 - r) < kDayTail) break;
    pk *= r;
    --k;
    down.push_back(pk);
    if (down.size() > kMaxPmfEntries) return false;
  }
  out.off = k;
  out.p.assign(down.rbegin(), down.rend());
  out.p.push_back(p0);
  pk = p0;
  k = k0;
  for (;;) {
    double r = nb::pmf_ratio_up(static_cast<double>(k), m, a);
    const double rb = r > r_inf ? r : r_inf;
    if (rb < 1.0 && pk * rb / (1.0 - rb) < kDayTail) break;
    pk *= r;
    ++k;
    out.p.push_back(pk);
    if (out.p.size() > kMaxPmfEntries) return false;
  }
  return true;
}

void trim(Pmf& x) {
  int64_t lo = 0, hi = static_cast<int64_t>(x.p.size());
  double acc = 0.0;
  while (lo < hi - 1 && acc + x.p[lo] < kSumTail) acc += x.p[lo++];
  acc = 0.0;
  while (hi - 1 > lo && acc + x.p[hi - 1] < kSumTail) acc += x.p[--hi];
  if (lo > 0 || hi < static_cast<int64_t>(x.p.size())) {
    x.p.erase(x.p.begin() + hi, x.p.end());
    x.p.erase(x.p.begin(), x.p.begin() + lo);
    x.off += lo;
  }
}

void convolve_into(const Pmf& a, const Pmf& b, Pmf& out) {
  out.off = a.off + b.off;
  out.p.assign(a.p.size() + b.p.size() - 1, 0.0);
  for (size_t i = 0; i < a.p.size(); ++i) {
    const double ai = a.p[i];
    double* o = out.p.data() + i;
    for (size_t j = 0; j < b.p.size(); ++j) o[j] += ai * b.p[j];
  }
}

void mix_into(Pmf& acc, const Pmf& x, double w) {
  if (acc.p.empty()) {
    acc.off = x.off;
    acc.p.assign(x.p.size(), 0.0);
  }
  const int64_t lo = std::min(acc.off, x.off), hi = std::max(acc.end(), x.end());
  if (lo < acc.off || hi > acc.end()) {
    std::vector<double> grown(static_cast<size_t>(hi - lo), 0.0);
    std::copy(acc.p.begin(), acc.p.end(), grown.begin() + (acc.off - lo));
    acc.p.swap(grown);
    acc.off = lo;
  }
  for (size_t i = 0; i < x.p.size(); ++i) acc.p[static_cast<size_t>(x.off - acc.off) + i] += w * x.p[i];
}

// E[(D - S)^+] for integer S from a pmf and its precomputed loss array.
struct LossFn {
  const Pmf* pmf;
  std::vector<double> loss;
  void init(const Pmf& x) {
    pmf = &x;
    loss.resize(x.p.size());
    inv::pmf_loss(x.p.data(), static_cast<int64_t>(x.p.size()), loss.data());
  }
  double at(int64_t S) const {
    if (S >= pmf->end()) return 0.0;
    if (S <= pmf->off) return loss[0] + static_cast<double>(pmf->off - S);
    return loss[static_cast<size_t>(S - pmf->off)];
  }
};

using inv::smallest_ok;

struct Levels {
  int64_t S = 0, s = 0;
  double mean = 0.0;
};

struct Scratch {
  Pmf run, day, tmp, mix_lr, mix_l, snap;
  NbSumLaw sum_lr, sum_l;
  WindowMixture mixture;
  std::vector<int64_t> positive;
  std::vector<double> one_lead;  // a fixed lead time's pmf
  // a stochastic lead time's window laws in closed form: NB(member_m, member_a), weights in D_L's
  // and D_{L+R}'s mixtures
  std::vector<double> member_m, member_a, member_wl, member_wlr;
  std::vector<inv::NbShortage> member_laws;
};

class RowSolver {
 public:
  RowSolver(const DemandArgs& d) : d_(d), z_(skucast::normal_ppf(d.service)) {}

  // Returns false on a bad parameter (arg set to 0 mu / 1 alpha).
  bool solve(int64_t i, Levels& out, int& bad_arg) {
    too_wide_ = false;
    int64_t st = 0, L = 0, R = 0;
    if (inv::check_window(d_, i, st, L, R) >= 0) {
      bad_arg = 2;
      return false;
    }
    if (d_.lt_pmf == nullptr) {
      inv::WindowMoments mL, mLR;
      const int arg = inv::window_moments(d_, i, st, L, R, mL, mLR);
      if (arg >= 0) {
        bad_arg = arg;
        return false;
      }
      out.mean = mLR.mean;
      const double fr_target = inv::fill_rate_budget(d_.service, mL, mLR, L, R);
      bool conv = false;
      if (inv::direct_levels(d_, z_, mL, mLR, R, fr_target, out.S, out.s, conv)) return true;
      // "exact" has a fast fallback past kExactReach; "convolution" only the far slower pmf arrays
      const int64_t reach = d_.method == kExact ? NbSumLaw::kExactReach : NbSumLaw::kMaxReach;
      if (conv && d_.target == kCsl && panjer_quantiles(i, st, L, R, mLR, reach, out)) return true;
      if (conv && d_.target != kCsl) {
        // one lead time: the mixture of one window length
        sc_.one_lead.assign(static_cast<size_t>(L + 1), 0.0);
        sc_.one_lead[static_cast<size_t>(L)] = 1.0;
        if (panjer_mixture_levels(i, st, sc_.one_lead.data(), L, R, mLR, mLR.mean, mL.mean, fr_target, reach, out))
          return true;
      }
      if (conv && d_.method == kExact && mLR.var < INFINITY) {
        // a level past Panjer's reach (2^20 units): "exact" takes the variance-matched NB there,
        // where pmf arrays would be millions of entries wide per day (a day whose alpha mu
        // overflows is left to the arrays, which refuse it)
        conv = false;
        if (d_.target == kCsl) {
          out.S = inv::nb_level(mLR.mean, mLR.alpha_eff(), d_.service);
          if (d_.need_s) out.s = inv::nb_level(mL.mean, mL.alpha_eff(), d_.service);
          return true;
        }
      }
      // NB laws in closed form (or variance matched): walked from a guess, no arrays
      if (!conv && d_.target != kCsl &&
          inv::nb_fill_levels(mLR.mean, mLR.alpha_eff(), mL.mean, mL.alpha_eff(), R > 0,
                              inv::budget_with_tolerance(fr_target, mLR.mean), out.S, out.s))
        return true;
      // pmf arrays of D_L and D_{L+R}
      Pmf& pl = sc_.mix_l;
      Pmf& plr = sc_.mix_lr;
      if (!conv) {
        too_wide_ = !nb_pmf_array(mL.mean, mL.alpha_eff(), pl) || !nb_pmf_array(mLR.mean, mLR.alpha_eff(), plr);
      } else {
        start_run();
        for (int64_t t = st; t < st + L + R; ++t) {
          if (t == st + L) pl = sc_.run;
          add_day(d_.mu.at(i, t), d_.alpha.at(i, t));
        }
        if (L + R == L) pl = sc_.run;
        plr = sc_.run;
      }
      if (too_wide_) {
        bad_arg = kArgTooWide;
        return false;
      }
      finish(pl, plr, R > 0, fr_target, out);
      return true;
    }
    // stochastic lead time: mixture over l of windows of length l (D_L) and l + R (D_{L+R})
    const double* w = d_.lt_pmf + i * d_.lt_cols;
    const int64_t lmax = d_.lt_cols - 1;
    inv::WindowMoments all;
    for (int64_t t = st; t < st + lmax + R; ++t) {
      const double mu = d_.mu.at(i, t), a = d_.alpha.at(i, t);
      if (!(mu >= 0.0 && mu < INFINITY)) { bad_arg = 0; return false; }
      if (!(a >= 0.0 && a < INFINITY)) { bad_arg = 1; return false; }
      if (mu > 0.0) all.add(mu, a);
    }
    const bool closed = all.closed_form() || d_.method == kMoment;
    const bool use_pmf = d_.method != kNormal;
    const bool conv = use_pmf && !closed;
    double mean_l = 0, sq_l = 0, mean_lr = 0, sq_lr = 0, EL = 0.0;
    // moments of every prefix, and with_pmf: the mixtures' pmf arrays
    auto prefixes = [&](bool with_pmf) {
      double m = 0.0, v = 0.0;
      mean_l = sq_l = mean_lr = sq_lr = EL = 0.0;
      sc_.mix_l.p.clear();
      sc_.mix_lr.p.clear();
      sc_.member_m.clear();
      sc_.member_a.clear();
      sc_.member_wl.clear();
      sc_.member_wlr.clear();
      if (with_pmf && conv) start_run();
      for (int64_t j = 0; j <= lmax + R; ++j) {  // after j days
        if (j > 0) {
          const double mu = d_.mu.at(i, st + j - 1), a = d_.alpha.at(i, st + j - 1);
          m += mu;
          v += mu + a * mu * mu;
          if (with_pmf && conv) add_day(mu, a);
        }
        const double wl = j <= lmax ? w[j] : 0.0;
        const double wlr = j - R >= 0 && j - R <= lmax ? w[j - R] : 0.0;
        if (wl > 0.0) {
          mean_l += wl * m;
          sq_l += wl * (v + m * m);
          EL += wl * j;
        }
        if (wlr > 0.0) {
          mean_lr += wlr * m;
          sq_lr += wlr * (v + m * m);
        }
        if (use_pmf && !conv && (wl > 0.0 || wlr > 0.0)) {
          // closed form NB(m, c/m) (or the variance-matched NB for "moment")
          double a_eff = 0.0;
          if (m > 0.0) a_eff = all.closed_form() ? 0.5 * (all.c_min + all.c_max) / m : std::max(0.0, (v - m) / (m * m));
          sc_.member_m.push_back(m);
          sc_.member_a.push_back(a_eff);
          sc_.member_wl.push_back(wl);
          sc_.member_wlr.push_back(wlr);
          if (with_pmf && !nb_pmf_array(m, a_eff, sc_.snap)) too_wide_ = true;
        }
        if (with_pmf && (wl > 0.0 || wlr > 0.0)) {
          const Pmf* cur = conv ? &sc_.run : &sc_.snap;
          if (wl > 0.0) mix_into(sc_.mix_l, *cur, wl);
          if (wlr > 0.0) mix_into(sc_.mix_lr, *cur, wlr);
        }
      }
    };
    auto fill_budget = [&] {
      const double mR = mean_lr - mean_l;
      return (1.0 - d_.service) * (R > 0 ? mR : (EL > 0 ? mean_l / EL : 0.0));
    };
    if (conv) {
      prefixes(false);
      if (panjer_mixture_levels(i, st, w, lmax, R, all, mean_lr, mean_l, fill_budget(), NbSumLaw::kMaxReach, out)) {
        out.mean = mean_lr;
        return true;
      }
    }
    if (use_pmf && !conv) {
      // NB laws in closed form: the mixtures walked from a guess, no arrays
      prefixes(false);
      const double fr = fill_budget();
      const size_t count = sc_.member_m.size();
      sc_.member_laws.resize(count);
      const inv::NbMixture x{sc_.member_m.data(), sc_.member_a.data(), sc_.member_wl.data(), sc_.member_wlr.data(),
                             sc_.member_laws.data(), static_cast<int>(count), mean_l, sq_l - mean_l * mean_l,
                             mean_lr, sq_lr - mean_lr * mean_lr};
      if (inv::nb_mixture_levels(x, d_.target == kCsl, d_.service, z_, R > 0, inv::budget_with_tolerance(fr, mean_lr),
                                 out.S, out.s)) {
        out.mean = mean_lr;
        return true;
      }
    }
    prefixes(use_pmf);
    out.mean = mean_lr;
    const double fr_target = fill_budget();
    if (!use_pmf) {
      const double var_l = std::max(0.0, sq_l - mean_l * mean_l), var_lr = std::max(0.0, sq_lr - mean_lr * mean_lr);
      if (d_.target == kCsl) {
        out.S = inv::normal_level(mean_lr, var_lr, z_);
        out.s = inv::normal_level(mean_l, var_l, z_);
      } else {
        out.S = inv::normal_fill(mean_l, var_l, mean_lr, var_lr, R > 0, fr_target);
        out.s = inv::capped_reorder_point(inv::normal_fill(0.0, 0.0, mean_l, var_l, false, fr_target), out.S);
      }
      return true;
    }
    if (too_wide_) {
      bad_arg = kArgTooWide;
      return false;
    }
    finish(sc_.mix_l, sc_.mix_lr, R > 0, fr_target, out);
    return true;
  }

 private:
  // csl levels of a convolved window by Panjer's recursion (cpu/nb_sum_law.h): S and s, the
  // quantiles of D_{L+R} and D_L, without pmf arrays. False where it does not apply (a quantile
  // past reach): the caller falls back ("exact": variance matched; else pmf arrays).
  bool panjer_quantiles(int64_t i, int64_t st, int64_t L, int64_t R, const inv::WindowMoments& mLR, int64_t reach,
                        Levels& out) {
    if (!(mLR.mean + 8.0 * std::sqrt(mLR.var) < static_cast<double>(reach))) return false;
    NbSumLaw& lr = sc_.sum_lr;
    NbSumLaw& l = sc_.sum_l;
    lr.reset();
    l.reset();
    for (int64_t t = st; t < st + L + R; ++t) {
      const double mu = d_.mu.at(i, t), a = d_.alpha.at(i, t);
      if (mu <= 0.0) continue;
      lr.add_day(mu, a);
      if (t < st + L) l.add_day(mu, a);
    }
    const int64_t S = lr.quantile(d_.service, reach);
    if (S < 0) return false;
    const int64_t s = l.quantile(d_.service, reach);
    if (s < 0) return false;
    out.S = S;
    out.s = s;
    return true;
  }

  // Levels of a stochastic lead time's mixtures of convolved windows by Panjer's recursion, one
  // recursion per window length in the mixtures (cpu/nb_sum_law.h); all: the moments of the
  // longest window. False where it does not apply (a level past reach): the caller falls back as
  // for panjer_quantiles.
  bool panjer_mixture_levels(int64_t i, int64_t st, const double* w, int64_t lmax, int64_t R,
                             const inv::WindowMoments& all, double mean_lr, double mean_l, double fr_target,
                             int64_t reach, Levels& out) {
    if (!(all.mean + 8.0 * std::sqrt(all.var) < static_cast<double>(reach))) return false;
    NbSumLaw& days = sc_.sum_lr;
    days.reset();
    sc_.positive.assign(1, 0);
    for (int64_t t = st; t < st + lmax + R; ++t) {
      const double mu = d_.mu.at(i, t), a = d_.alpha.at(i, t);
      if (mu > 0.0) days.add_day(mu, a);
      sc_.positive.push_back(static_cast<int64_t>(days.days()));
    }
    WindowMixture& laws = sc_.mixture;
    if (!laws.start(days, sc_.positive.data(), w, lmax, R)) return false;
    if (d_.target == kCsl) return csl_scan(laws, d_.service, reach, out.S, out.s);
    return fill_scan(laws, mean_lr, mean_l, R > 0, inv::budget_with_tolerance(fr_target, mean_lr), reach, out.S,
                     out.s);
  }

  void start_run() {
    sc_.run.off = 0;
    sc_.run.p.assign(1, 1.0);
  }
  void add_day(double mu, double a) {
    if (mu <= 0.0 || too_wide_) return;
    if (!nb_pmf_array(mu, a, sc_.day)) {
      too_wide_ = true;
      return;
    }
    convolve_into(sc_.run, sc_.day, sc_.tmp);
    trim(sc_.tmp);
    if (sc_.tmp.p.size() > kMaxPmfEntries) too_wide_ = true;
    std::swap(sc_.run, sc_.tmp);
  }

  // csl / fill-rate levels from pmf arrays of D_L (pl) and D_{L+R} (plr).
  void finish(const Pmf& pl, const Pmf& plr, bool periodic, double fr_target, Levels& out) {
    if (d_.target == kCsl) {
      out.S = inv::pmf_quantile(plr.p.data(), static_cast<int64_t>(plr.p.size()), plr.off, d_.service);
      out.s = inv::pmf_quantile(pl.p.data(), static_cast<int64_t>(pl.p.size()), pl.off, d_.service);
      return;
    }
    lf_l_.init(pl);
    lf_lr_.init(plr);
    fr_target = inv::budget_with_tolerance(fr_target, lf_lr_.at(0));
    if (periodic) {
      out.S = smallest_ok(plr.end(), fr_target, [&](int64_t S) { return lf_lr_.at(S) - lf_l_.at(S); });
    } else {
      out.S = smallest_ok(plr.end(), fr_target, [&](int64_t S) { return lf_lr_.at(S); });
    }
    out.s = inv::capped_reorder_point(smallest_ok(pl.end(), fr_target, [&](int64_t S) { return lf_l_.at(S); }),
                                      out.S);
  }

  const DemandArgs& d_;
  double z_;
  Scratch sc_;
  bool too_wide_ = false;  // a law of this row needed more than kMaxPmfEntries entries
  LossFn lf_l_, lf_lr_;
};

inline int check_replenish(const ReplenishArgs& r, int64_t i, int64_t& ip) { return inv::check_replenish(r, i, ip); }

inline void order_row(const ReplenishArgs& r, int64_t i, int64_t ip, int64_t S, int64_t s, int64_t* order,
                      int8_t* reason) {
  const inv::OrderResult o = inv::order_of_row(r, i, ip, S, s);
  order[i] = o.order;
  reason[i] = o.reason;
}

template <class Body>
BadValue rows_loop(int64_t n, Body body) {
  const int64_t chunks = (n + kGrain - 1) / kGrain;
  std::vector<BadValue> bad(static_cast<size_t>(chunks > 0 ? chunks : 1));
  parallel_for(n, kGrain, [&](int64_t begin, int64_t end) {
    BadValue first;
    body(begin, end, first);
    bad[static_cast<size_t>(begin / kGrain)].keep_first(first);
  });
  BadValue result;
  for (const auto& b : bad) result.keep_first(b);
  return result;
}

// The smallest order of whole cases that meets the moq (0 <= moq, 1 <= cp, both < 2^50).
int64_t moq_in_cases(int64_t moq, int64_t cp) {
  return moq <= cp ? (moq > 0 ? cp : 0) : inv::ceil_div(moq, cp) * cp;
}

// The moq in whole cases when replenish's rows can take rs_rows_avx2 ((R, S) or base stock, no cap
// or shelf, S / on hand / on order per row, the other rules one regular value for all rows), else -1.
int64_t simple_rs_moq_cases(const ReplenishArgs& r) {
  constexpr int64_t kBig = INT64_C(1) << 50;
  const bool ok = (r.policy == inv::kRS || r.policy == inv::kBaseStock) && !r.has_max_order && !r.has_shelf &&
                  r.S.stride == 1 && r.on_hand.stride == 1 && r.on_order.stride == 1 && r.case_pack.stride == 0 &&
                  r.moq.stride == 0 && r.backorders.stride == 0 && r.case_pack.at(0) > 0 &&
                  r.case_pack.at(0) < kBig && r.moq.at(0) >= 0 && r.moq.at(0) < kBig && r.backorders.at(0) >= 0 &&
                  r.backorders.at(0) < kBig;
  return ok ? moq_in_cases(r.moq.at(0), r.case_pack.at(0)) : -1;
}

// Normal csl levels of contiguous rows with constant daily parameters: lr[j] = ceil(m + z sqrt(v))
// over the window L + R, l[j] (when l is not null) over L, mean_lr[j] (when not null) = m over L + R,
// with inv::window_moments' closed form and inv::normal_level's operations (v below 0 read as 0).
// Valid for 0 <= L + R < 2^51 and mu, alpha finite >= 0; the callers check every row and refuse or
// re-solve the others, whatever this wrote for them. AVX2 has no int64 -> double conversion, so
// the window lengths go through the 2^52 magic number; GCC does not vectorize the loop by itself.
void normal_levels_block(const double* __restrict mu_p, const double* __restrict alpha_p,
                         const int64_t* __restrict lead_p, int64_t R, double z, int64_t n, double* __restrict lr,
                         double* __restrict l, double* __restrict mean_lr) {
  int64_t j = 0;
#if defined(__AVX2__)
  const __m256d magic = _mm256_set1_pd(4503599627370496.0), zv = _mm256_set1_pd(z), zero = _mm256_setzero_pd();
  const __m256i magic_bits = _mm256_set1_epi64x(INT64_C(0x4330000000000000)), rv = _mm256_set1_epi64x(R);
  auto level4 = [&](__m256d m, __m256d v) {
    const __m256d sd = _mm256_sqrt_pd(_mm256_blendv_pd(zero, v, _mm256_cmp_pd(v, zero, _CMP_GT_OQ)));
    return _mm256_round_pd(_mm256_add_pd(m, _mm256_mul_pd(zv, sd)), _MM_FROUND_TO_POS_INF | _MM_FROUND_NO_EXC);
  };
  for (; j + 4 <= n; j += 4) {
    const __m256i days = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(lead_p + j));
    const __m256d len_lr =
        _mm256_sub_pd(_mm256_castsi256_pd(_mm256_or_si256(_mm256_add_epi64(days, rv), magic_bits)), magic);
    const __m256d mu = _mm256_loadu_pd(mu_p + j), c = _mm256_mul_pd(_mm256_loadu_pd(alpha_p + j), mu);
    const __m256d var1 = _mm256_add_pd(mu, _mm256_mul_pd(c, mu));
    const __m256d m_lr = _mm256_mul_pd(mu, len_lr);
    _mm256_storeu_pd(lr + j, level4(m_lr, _mm256_mul_pd(var1, len_lr)));
    if (mean_lr) _mm256_storeu_pd(mean_lr + j, m_lr);
    if (l) {
      const __m256d len_l = _mm256_sub_pd(_mm256_castsi256_pd(_mm256_or_si256(days, magic_bits)), magic);
      _mm256_storeu_pd(l + j, level4(_mm256_mul_pd(mu, len_l), _mm256_mul_pd(var1, len_l)));
    }
  }
#endif
  auto as_double = [](int64_t days) {
    const uint64_t bits = static_cast<uint64_t>(days) | UINT64_C(0x4330000000000000);
    double len;
    std::memcpy(&len, &bits, sizeof len);
    return len - 4503599627370496.0;
  };
  auto level = [&](double m, double v) { return std::ceil(m + z * std::sqrt(v > 0.0 ? v : 0.0)); };
  for (; j < n; ++j) {
    const double len_lr = as_double(lead_p[j] + R), len_l = as_double(lead_p[j]);
    const double mu = mu_p[j], c = alpha_p[j] * mu;
    const double var1 = mu + c * mu;
    lr[j] = level(mu * len_lr, var1 * len_lr);
    if (mean_lr) mean_lr[j] = mu * len_lr;
    if (l) l[j] = level(mu * len_l, var1 * len_l);
  }
}

// Exact csl levels of rows [b0, b1) (at most kLevelBlock) with constant daily parameters, over
// the lead time (+ review period): the window's law is NB(m, c / m), m = mu (L [+ R]), c = alpha
// mu, as window_moments and nb_level form them, and a block's quantiles go through the vector
// ppf at once (the same exact quantile as nb::ppf, as RowSolver takes it). Rows with a bad mu or
// alpha get 0: the caller's row code reports them. out_d (optional): the levels as doubles, NaN
// where alpha mu overflows (RowSolver's moments are not in closed form there: the caller's row
// code asks it).
constexpr int64_t kLevelBlock = 256;
void exact_levels_block(const DemandArgs& d, int64_t b0, int64_t b1, bool with_review, int64_t* out,
                        double* out_d = nullptr) {
  double m_blk[kLevelBlock], a_blk[kLevelBlock];
  const int64_t count = b1 - b0;
  if (count <= 0) return;
  const Daily mu_v = d.mu, al_v = d.alpha;
  for (int64_t j = 0; j < count; ++j) {
    const int64_t i = b0 + j;
    const double mu = mu_v.p[i * mu_v.row_stride], a = al_v.p[i * al_v.row_stride];
    // L + R in double: the same value for every valid window (below 2^41), and no int64 overflow
    // for the invalid ones the caller reports
    const double m = mu * (static_cast<double>(d.lead.at(i)) + (with_review ? static_cast<double>(d.review.at(i)) : 0.0));
    const double c = a * mu;
    m_blk[j] = m;
    a_blk[j] = 0.5 * (c + c) / m;  // WindowMoments::alpha_eff's operations (c + c may overflow)
  }
  const double q = d.service;
  ppf_dense(&q, 0, m_blk, a_blk, out, 0, count);  // lanes it refuses are set below
  for (int64_t j = 0; j < count; ++j) {
    const int64_t i = b0 + j;
    const double mu = mu_v.p[i * mu_v.row_stride], a = al_v.p[i * al_v.row_stride];
    const double m = m_blk[j], am = a_blk[j];
    if (!(mu >= 0.0 && mu < INFINITY && a >= 0.0 && a < INFINITY) || !(m > 0.0)) {
      out[j] = 0;  // no demand (nb_level's mean <= 0), or a row the rules refuse
    } else if (!(rules::valid_mu(m) && rules::valid_alpha(am))) {
      out[j] = inv::nb_level(m, am, q);  // an overflowing window, as RowSolver takes it
    }
    if (out_d) out_d[j] = a * mu < INFINITY ? static_cast<double>(out[j]) : NAN;
  }
}

}  // namespace

BadValue order_up_to_nb(const DemandArgs& d, int64_t* S, int64_t* s, double* mean, double* safety) {
  // Normal csl levels from constant daily parameters in contiguous rows (the retail baseline): a
  // block's levels in one branch-free pass, 4 rows per AVX2 step, with RowSolver's operations in
  // its order (inv::window_moments' closed form, inv::normal_level), then each row written; a row
  // with anything unusual (a bad value, a window out of range, a level past 2^62) goes to
  // RowSolver, which also reports the first bad row.
  const bool fast = d.method == kNormal && d.target == kCsl && d.need_s && d.lt_pmf == nullptr &&
                    d.mu.day_stride == 0 && d.alpha.day_stride == 0 && d.mu.row_stride == 1 &&
                    d.alpha.row_stride == 1 && d.lead.stride == 1 && d.review.stride == 0;
  // Exact csl levels from constant daily parameters (NB(m, c / m) in closed form for every
  // NB method): a block's quantiles at once through the vector ppf, as plan_orders takes them.
  const bool exact_fast = d.method != kNormal && d.target == kCsl && d.lt_pmf == nullptr &&
                          d.mu.day_stride == 0 && d.alpha.day_stride == 0;
  return rows_loop(d.n, [&](int64_t begin, int64_t end, BadValue& first) {
    RowSolver solver(d);
    auto solve_row = [&](int64_t i) {
      Levels lv;
      int arg = -1;
      if (!solver.solve(i, lv, arg)) {
        if (!first.found()) first = BadValue{i, arg};
        lv = Levels{};
      }
      S[i] = lv.S;
      if (s) s[i] = lv.s;
      if (mean) mean[i] = lv.mean;
      if (safety) safety[i] = static_cast<double>(lv.S) - lv.mean;
    };
    if (exact_fast) {
      int64_t S_blk[kLevelBlock], s_blk[kLevelBlock];
      const bool with_s = s != nullptr && d.need_s;
      for (int64_t b0 = begin; b0 < end; b0 += kLevelBlock) {
        const int64_t b1 = b0 + kLevelBlock < end ? b0 + kLevelBlock : end;
        exact_levels_block(d, b0, b1, true, S_blk);
        if (with_s) exact_levels_block(d, b0, b1, false, s_blk);
        for (int64_t i = b0; i < b1; ++i) {
          const double mu = d.mu.at(i, 0), a = d.alpha.at(i, 0);
          int64_t st, L, R;
          // a bad row (reported there), or alpha mu past the double range (whose moments are not
          // in closed form for RowSolver): the row solver's answer
          if (inv::check_window(d, i, st, L, R) >= 0 || !(mu >= 0.0 && mu < INFINITY) || !(a >= 0.0 && a < INFINITY) ||
              !(a * mu < INFINITY)) {
            solve_row(i);
            continue;
          }
          const double m = mu * static_cast<double>(L + R);  // window_moments' mean of D_{L+R}
          const int64_t Sv = S_blk[i - b0];
          S[i] = Sv;
          if (s) s[i] = with_s ? s_blk[i - b0] : 0;
          if (mean) mean[i] = m;
          if (safety) safety[i] = static_cast<double>(Sv) - m;
        }
      }
      return;
    }
    if (!fast) {
      for (int64_t i = begin; i < end; ++i) solve_row(i);
      return;
    }
    const double z = skucast::normal_ppf(d.service);
    const int64_t R = d.review.p[0];
    constexpr int64_t kBlock = 256;
    double S_lr[kBlock], S_l[kBlock], m_lr[kBlock];
    for (int64_t b0 = begin; b0 < end; b0 += kBlock) {
      const int64_t nb = b0 + kBlock < end ? kBlock : end - b0;
      const double* mp = d.mu.p + b0;
      const double* ap = d.alpha.p + b0;
      normal_levels_block(mp, ap, d.lead.p + b0, R, z, nb, S_lr, S_l, m_lr);
      for (int64_t j = 0; j < nb; ++j) {
        const int64_t i = b0 + j;
        const double mu = mp[j], a = ap[j];
        int64_t st, L, Rw;
        if (inv::check_window(d, i, st, L, Rw) >= 0 || !(mu >= 0.0 && mu < INFINITY) ||
            !(a >= 0.0 && a < INFINITY) || !(S_lr[j] < static_cast<double>(nb::kPpfMax) &&
                                             S_l[j] < static_cast<double>(nb::kPpfMax))) {
          solve_row(i);
          continue;
        }
        const int64_t Sv = inv::level_of(S_lr[j]);
        S[i] = Sv;
        if (s) s[i] = inv::level_of(S_l[j]);
        if (mean) mean[i] = m_lr[j];
        if (safety) safety[i] = static_cast<double>(Sv) - m_lr[j];
      }
    }
  });
}

BadValue replenish(const ReplenishArgs& r, int64_t* order, int8_t* reason) {
  const int64_t moq_cases = r.n > 0 ? simple_rs_moq_cases(r) : -1;
  return rows_loop(r.n, [&](int64_t begin, int64_t end, BadValue& first) {
    auto one_row = [&](int64_t i) {
      int64_t ip = 0;
      int arg = check_replenish(r, i, ip);
      int64_t S = 0, s = 0;
      const int level_arg = inv::given_levels(r, i, S, s);
      if (arg < 0) arg = level_arg;
      if (arg >= 0) {
        if (!first.found()) first = BadValue{i, arg};
        order[i] = 0;
        reason[i] = -1;
        return;
      }
      order_row(r, i, ip, S, s, order, reason);
    };
#if defined(__AVX2__)
    // 4 rows per step; the groups it leaves (a bad value among them, or magnitudes past 2^50)
    // come back to one_row in order, so the first bad row is still the first
    if (moq_cases >= 0) {
      const RsBlockArgs va{nullptr, nullptr, nullptr, r.on_hand.p + begin, r.on_order.p + begin, nullptr,
                           r.S.p + begin, static_cast<double>(r.backorders.at(0)),
                           static_cast<double>(r.case_pack.at(0)), static_cast<double>(moq_cases)};
      rs_rows_avx2(va, end - begin, order + begin, reason + begin, [&](int64_t k) { one_row(begin + k); });
      return;
    }
#endif
    for (int64_t i = begin; i < end; ++i) one_row(i);
  });
}

BadValue plan_orders(const DemandArgs& d_in, const ReplenishArgs& r, int64_t* order, int8_t* reason, int64_t* S_out,
                     int64_t* s_out) {
  DemandArgs d = d_in;
  d.need_s = s_out != nullptr || r.policy == inv::kSS || r.policy == inv::kSQ;
  // Constant daily parameters per row, deterministic lead time, csl levels: one tight loop (no
  // solver object, each input read once). Normal levels are ceil(mean + z sd); every other method
  // has the exact law NB(m, alpha mu / m) there (policy.h), whose quantiles a block takes at once
  // through the vector ppf (the same exact quantile as nb::ppf, as RowSolver would take it).
  const bool fast = d.target == kCsl && d.lt_pmf == nullptr && d.mu.day_stride == 0 && d.alpha.day_stride == 0 &&
                    S_out == nullptr && s_out == nullptr;
  if (fast) {
    const bool exact_levels = d.method != kNormal;
    const double z = skucast::normal_ppf(d.service);
    const ReplenishArgs& r_in = r;
    const DemandArgs& d_fast = d;
    int64_t* const order_out = order;
    int8_t* const reason_out = reason;
    return rows_loop(r_in.n, [&](int64_t begin, int64_t end, BadValue& first) {
      // Two short loops per block: the levels (vectorized), then the rules. The arguments are
      // copied to locals: the int8 reason stores may alias anything reachable through a pointer,
      // which would force every stride and pointer to be reloaded after each row.
      const ReplenishArgs r = r_in;
      const DemandArgs d = d_fast;
      int64_t* const order = order_out;
      int8_t* const reason = reason_out;
      constexpr int64_t kBlock = kLevelBlock;
      double S_blk[kBlock], s_blk[kBlock];
      int64_t S_int[kBlock], s_int[kBlock];  // exact levels (S_blk then holds them as doubles)
      const Daily mu_v = d.mu, al_v = d.alpha;
      const RowI64 lead = d.lead, rev = d.review;
      const bool need_s = d.need_s;
      const bool simple_rs = (r.policy == inv::kRS || r.policy == inv::kBaseStock) && !r.has_max_order && !r.has_shelf;
      const bool cp_scalar = r.case_pack.stride == 0;
      const bool contiguous = mu_v.row_stride == 1 && al_v.row_stride == 1 && lead.stride == 1 && rev.stride == 0;
      const double inv_cp0 = 1.0 / static_cast<double>(r.case_pack.at(0) > 0 ? r.case_pack.at(0) : 1);
      // 4 rows per step when every per-row input is a contiguous array and the rest are valid
      // scalars (rs_rows_avx2 checks the per-row values; the scalar ones are checked here).
      const bool vec_rs = simple_rs && !need_s && contiguous && d.horizon < 0 && cp_scalar && r.moq.stride == 0 &&
                          r.backorders.stride == 0 && d.start.stride == 0 && r.on_hand.stride == 1 &&
                          r.on_order.stride == 1 && r.case_pack.at(0) > 0 && r.moq.at(0) >= 0 &&
                          r.backorders.at(0) >= 0 && r.backorders.at(0) < (INT64_C(1) << 50) && d.start.at(0) >= 0 &&
                          rev.p[0] >= 0 && rev.p[0] < (INT64_C(1) << 50) && r.case_pack.at(0) < (INT64_C(1) << 50) &&
                          r.moq.at(0) < (INT64_C(1) << 50);
      const int64_t moq_cases = vec_rs ? moq_in_cases(r.moq.at(0), r.case_pack.at(0)) : 0;
      RowSolver solver(d);  // rows whose alpha mu overflows
      for (int64_t b0 = begin; b0 < end; b0 += kBlock) {
        const int64_t b1 = b0 + kBlock < end ? b0 + kBlock : end;
        if (exact_levels) {
          exact_levels_block(d, b0, b1, true, S_int, S_blk);
          if (need_s) exact_levels_block(d, b0, b1, false, s_int);
        } else if (contiguous) {
          normal_levels_block(mu_v.p + b0, al_v.p + b0, lead.p + b0, rev.p[0], z, b1 - b0, S_blk,
                              need_s ? s_blk : nullptr, nullptr);
        } else {
          for (int64_t i = b0; i < b1; ++i) {
            const double mu = mu_v.p[i * mu_v.row_stride], a = al_v.p[i * al_v.row_stride];
            const double len = static_cast<double>(lead.p[i * lead.stride] + rev.p[i * rev.stride]);
            const double var1 = mu + a * mu * mu;
            S_blk[i - b0] = std::ceil(mu * len + z * std::sqrt(var1 * len));
          }
        }
        if (need_s && !exact_levels && !contiguous) {
          for (int64_t i = b0; i < b1; ++i) {
            const double mu = mu_v.p[i * mu_v.row_stride], a = al_v.p[i * al_v.row_stride];
            const double len = static_cast<double>(lead.p[i * lead.stride]);
            s_blk[i - b0] = std::ceil(mu * len + z * std::sqrt((mu + a * mu * mu) * len));
          }
        }
        auto one_row = [&](int64_t i) {
          int64_t ip = 0;
          int arg = check_replenish(r, i, ip);
          const int64_t st = d.start.at(i), L = lead.at(i), R = rev.at(i);
          const double mu = mu_v.p[i * mu_v.row_stride], a = al_v.p[i * al_v.row_stride];
          if (arg < 0 && inv::window_out_of_range(st, L, R, d.horizon)) arg = 102;
          if (arg < 0 && !(mu >= 0.0 && mu < INFINITY)) arg = 100;
          if (arg < 0 && !(a >= 0.0 && a < INFINITY)) arg = 101;
          if (arg >= 0) {
            if (!first.found()) first = BadValue{i, arg};
            order[i] = 0;
            reason[i] = -1;
            return;
          }
          // normal: the value of inv::normal_level (ceil(mean + z sd), at least 0); exact: nb_level
          const double Sv = S_blk[i - b0];
          int64_t S = exact_levels ? S_int[i - b0] : inv::level_of(Sv);
          int64_t s_solved = -1;
          if (exact_levels && !(a * mu < INFINITY)) {  // alpha mu past the double range: RowSolver's levels
            Levels lv;
            int darg = -1;
            if (!solver.solve(i, lv, darg)) {
              if (!first.found()) first = BadValue{i, 100 + darg};
              order[i] = 0;
              reason[i] = -1;
              return;
            }
            S = lv.S;
            s_solved = lv.s;
          }
          if (simple_rs) {
            // branch-free (R, S) rules (orders vs no orders is a coin flip for the branch
            // predictor): whole cases by a reciprocal multiply with an exact +-1 fix-up, then moq.
            const int64_t cp = r.case_pack.at(i);
            const double inv_cp = cp_scalar ? inv_cp0 : 1.0 / static_cast<double>(cp);
            const int64_t diff = S - ip;
            const int64_t q0 = diff & ~(diff >> 63);  // max(diff, 0) without a branch
            const int64_t num = q0 + cp - 1;
            int64_t c = static_cast<int64_t>(static_cast<double>(num) * inv_cp);
            int64_t rem = num - c * cp;
            c -= rem < 0;
            rem += rem < 0 ? cp : 0;
            c += rem >= cp;
            int64_t q = c * cp;
            const int64_t moq = r.moq.at(i);
            const int64_t moq_c = moq <= cp ? (moq > 0 ? cp : 0) : inv::ceil_div(moq, cp) * cp;
            const bool raised = q > 0 && q < moq_c;
            q = raised ? moq_c : q;
            order[i] = q;
            // kOrdered 0, kAtOrAboveTarget 1, kRaisedToMoq 3, without branches
            reason[i] = static_cast<int8_t>((q0 == 0) | (static_cast<int>(raised) * inv::kRaisedToMoq));
            return;
          }
          const double sv = need_s ? s_blk[i - b0] : 0.0;
          const int64_t s = exact_levels ? (need_s ? (s_solved >= 0 ? s_solved : s_int[i - b0]) : 0) : inv::level_of(sv);
          order_row(r, i, ip, S, s, order, reason);
        };
        int64_t i = b0;
#if defined(__AVX2__)
        if (vec_rs) {
          const RsBlockArgs va{mu_v.p + b0, al_v.p + b0, lead.p + b0, r.on_hand.p + b0, r.on_order.p + b0, S_blk,
                               nullptr, static_cast<double>(r.backorders.at(0)), static_cast<double>(r.case_pack.at(0)),
                               static_cast<double>(moq_cases)};
          rs_rows_avx2(va, b1 - b0, order + b0, reason + b0, [&](int64_t k) { one_row(b0 + k); });
          i = b1;
        }
#endif
        for (; i < b1; ++i) one_row(i);
      }
    });
  }
  return rows_loop(r.n, [&](int64_t begin, int64_t end, BadValue& first) {
    RowSolver solver(d);
    for (int64_t i = begin; i < end; ++i) {
      int64_t ip = 0;
      int arg = check_replenish(r, i, ip);
      Levels lv;
      int darg = -1;
      if (arg < 0 && !solver.solve(i, lv, darg)) arg = 100 + darg;
      if (arg >= 0) {
        if (!first.found()) first = BadValue{i, arg};
        order[i] = 0;
        reason[i] = -1;
        continue;
      }
      if (S_out) S_out[i] = lv.S;
      if (s_out) s_out[i] = lv.s;
      order_row(r, i, ip, lv.S, lv.s, order, reason);
    }
  });
}

}  // namespace cpu
}  // namespace skucast
