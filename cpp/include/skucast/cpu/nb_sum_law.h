// The law of a sum of independent NB(mu_t, alpha_t) days (a protection interval whose daily
// laws differ) by Panjer's recursion instead of convolving the daily pmfs. Each NB day is a
// compound Poisson law with logarithmic severities, so the sum is one too, and its pmf obeys
//   P(0) = prod_t P_t(0),   P(k) = (1/k) sum_{j=1..k} h(j) P(k - j),
//   h(j) = sum_t g_t r_t^(j-1),  g_t = mu_t / (1 + alpha_t mu_t),  r_t = alpha_t mu_t / (1 + alpha_t mu_t)
// (alpha_t = 0 leaves h(1) = sum mu_t and h(j > 1) = 0: Poisson). Swapping the sums,
//   P(k) = (1/k) sum_t g_t A_t(k),   A_t(k) = sum_{j=1..k} r_t^(j-1) P(k - j) = P(k - 1) + r_t A_t(k - 1),
// so each step costs O(T) for T days instead of O(k). Every term is positive, so the recursion is
// stable, and it runs only as far as the answer: O(k T) for a level k, against O(T k W) for
// convolving days of W entries out to 1e-17 tails.
#pragma once
#include <cmath>
#include <cstdint>
#include <vector>

#include "skucast/dist/negbin.h"

namespace skucast {
namespace cpu {

class NbSumLaw {
 public:
  // How far a scan goes (its O(k T) work: ~10 ns a step over 28 days) before it leaves the level
  // to the caller: kExactReach where a fast fallback exists (the variance-matched NB of "exact"),
  // kMaxReach where the only other way is pmf arrays, which cost far more and stop at 2^26 entries.
  static constexpr int64_t kExactReach = int64_t{1} << 20;
  static constexpr int64_t kMaxReach = int64_t{1} << 26;

  void reset() {
    g_.clear();
    r_.clear();
    log_p0_days_.clear();
    log_p0_ = 0.0;
  }
  void add_day(double mu, double alpha) {  // mu > 0, alpha >= 0, both finite
    const double u = 1.0 + alpha * mu;
    add_terms(mu / u, alpha * mu / u, nb::logpmf_zero(mu, alpha));
  }
  // This law becomes the sum of `from`'s first `days` days (the days added to it).
  void assign_prefix(const NbSumLaw& from, size_t days) {
    reset();
    for (size_t t = 0; t < days; ++t) add_terms(from.g_[t], from.r_[t], from.log_p0_days_[t]);
  }
  size_t days() const { return g_.size(); }
  // Starts the pmf at P(0); false where P(0) is below e^-4e7 (a mean past kMaxReach anyway). A
  // P(0) below the double range is carried scaled by 2^-exp_ (the recursion is linear in P), and
  // the pmf reads 0 until the scaled values come back into range.
  bool start() {
    if (!(log_p0_ > -4e7)) return false;
    exp_ = 0;
    double stored = 0.0;
    if (log_p0_ >= -700.0) {
      stored = std::exp(log_p0_);
    } else {
      // log_p0 = r + e ln 2 with r in [0, ln 2), reduced in three parts (Cody-Waite): ln 2 =
      // k1 + k2 + k3 with k1, k2 of 24 bits, so e k1 and e k2 are exact for |e| < 2^29
      constexpr double kLn2_1 = 0.693147182464599609375;  // float(ln 2)
      constexpr double kLn2_2 = -1.9046542121259336e-09;   // float(ln 2 - k1)
      constexpr double kLn2_3 = -8.783183432405266e-17;    // ln 2 - k1 - k2 (mpmath)
      const double e = std::floor(log_p0_ / 0.69314718055994530942);
      exp_ = static_cast<int>(e);
      stored = std::exp(((log_p0_ - e * kLn2_1) - e * kLn2_2) - e * kLn2_3);
    }
    factor_ = std::ldexp(1.0, exp_);
    p0_ = stored * factor_;
    big_g_ = big_gr_ = 0.0;
    const size_t days = g_.size(), blocks = (days + 3) / 4;
    r4_.assign(blocks, V4{0.0, 0.0, 0.0, 0.0});
    grr4_.assign(blocks, V4{0.0, 0.0, 0.0, 0.0});
    acc4_.assign(blocks, V4{0.0, 0.0, 0.0, 0.0});  // A_t(-1) = 0
    for (size_t t = 0; t < days; ++t) {            // padding days: g = r = 0, no part in the sums
      r4_[t / 4][t % 4] = r_[t];
      grr4_[t / 4][t % 4] = g_[t] * r_[t] * r_[t];
      big_g_ += g_[t];
      big_gr_ += g_[t] * r_[t];
    }
    at_ = Step{stored, 0.0, 0.0, 0};  // P(0), P(-1) = 0, C(1) = 0
    return true;
  }
  // P(k) for the next k (k = 1, 2, ... after start()).
  double next() {
    Step s = at_;
    const double p = step(s);
    at_ = s;
    return p * factor_;
  }
  double p0() const { return p0_; }

  // Smallest k with cdf(k) >= q, or -1 where the recursion does not apply: P(0) below e^-4e7, or
  // no k up to reach.
  int64_t quantile(double q, int64_t reach) {
    if (!start()) return -1;
    if (1.0 - q < kTailLevels) return quantile_by_tail(q, reach);
    double cum = p0_;
    if (cum >= q) return 0;
    Step s = at_;  // a local: the stores to the days' sums cannot alias it
    for (int64_t k = 1; k <= reach; ++k) {
      cum += step(s) * factor_;
      if (cum >= q) return k;
    }
    return -1;
  }

 private:
  typedef double V4 __attribute__((vector_size(32)));

  // Service levels this close to 1 are decided by the upper tail itself. The pmf values carry a
  // relative rounding of ~1e-14 after ~1e3 steps, which the running cdf turns into an absolute
  // error of the size of the tail there (one unit low at q = 1 - 1e-12 in a window of mean 300,
  // three at 1 - 1e-13); the tail summed backward keeps that relative error.
  static constexpr double kTailLevels = 1e-7;

  // quantile() for q > 1 - kTailLevels: walk to the first k whose running cdf passes q - 1e-11
  // (the answer is no lower: the cdf's rounding is ~1e-14), keep P(k), P(k+1), ... until what
  // lies beyond is negligible against 1 - q, and take the smallest S >= k whose tail
  // sum_{j > S} P(j), summed from the far end, is <= 1 - q (exact: q >= 1/2).
  int64_t quantile_by_tail(double q, int64_t reach) {
    const double budget = 1.0 - q;
    double r_max = 0.0;
    for (double r : r_) r_max = r > r_max ? r : r_max;
    Step s = at_;
    double cum = p0_, p = p0_;
    int64_t k = 0;
    while (cum < q - 1e-11) {
      if (++k > reach) return -1;
      p = step(s) * factor_;
      cum += p;
    }
    tail_.assign(1, p);
    for (int64_t j = k + 1;; ++j) {
      if (j > 2 * reach) return -1;
      const double next = step(s) * factor_, prev = tail_.back();
      tail_.push_back(next);
      // past the mode, what follows is below next rho / (1 - rho), rho the larger of this ratio
      // and the days' largest r (the ratio's limit; NB shapes below 1 approach it from below)
      if (next < prev && next < 1e-20 * budget) {
        const double ratio = next / prev, rho = ratio > r_max ? ratio : r_max;
        if (next * rho < 1e-18 * budget * (1.0 - rho)) break;
      }
    }
    double above = 0.0;  // sum_{j > S} P(j) for the S at index i
    int64_t S = k + static_cast<int64_t>(tail_.size()) - 1;
    for (size_t i = tail_.size(); i-- > 0;) {
      if (above > budget) break;
      S = k + static_cast<int64_t>(i);
      above += tail_[i];
    }
    return S <= reach ? S : -1;
  }

  void add_terms(double g, double r, double log_p0) {
    g_.push_back(g);
    r_.push_back(r);
    log_p0_days_.push_back(log_p0);
    log_p0_ += log_p0;
  }
  // The state between steps: P(k-1), P(k-2), C(k) = sum_t g_t r_t^2 A_t(k-2), and k - 1.
  struct Step {
    double p1, p2, c;
    int64_t k;
  };
  // P(k) = (1/k) sum_t g_t A_t(k), A_t(k) = P(k-1) + r_t A_t(k-1), unrolled twice:
  //   P(k) = (G P(k-1) + GR P(k-2) + C(k)) / k,  G = sum_t g_t,  GR = sum_t g_t r_t.
  // C(k) needs only P(k-3) and older, so the days' work (A_t(k-1) and C(k+1), four days to a
  // vector) runs beside the step's own chain, two multiply-adds and a multiply.
  __attribute__((always_inline)) double step(Step& s) {
    ++s.k;
    const double p = (big_g_ * s.p1 + (big_gr_ * s.p2 + s.c)) * (1.0 / static_cast<double>(s.k));
    const V4 pv = {s.p2, s.p2, s.p2, s.p2};  // A_t(k-2) -> A_t(k-1) = P(k-2) + r_t A_t(k-2)
    const size_t blocks = acc4_.size();
    V4* acc = acc4_.data();
    const V4* r = r4_.data();
    const V4* grr = grr4_.data();
    V4 c0 = {0.0, 0.0, 0.0, 0.0}, c1 = c0;
    size_t j = 0;
    for (; j + 2 <= blocks; j += 2) {
      const V4 a0 = pv + r[j] * acc[j], a1 = pv + r[j + 1] * acc[j + 1];
      acc[j] = a0, acc[j + 1] = a1;
      c0 += grr[j] * a0, c1 += grr[j + 1] * a1;
    }
    if (j < blocks) {
      const V4 a0 = pv + r[j] * acc[j];
      acc[j] = a0;
      c0 += grr[j] * a0;
    }
    const V4 c = c0 + c1;
    s.c = (c[0] + c[1]) + (c[2] + c[3]);
    s.p2 = s.p1;
    s.p1 = p;
    if (p > 0x1p600) rescale(s);  // only while P(0) was scaled up: true values are <= 1
    return s.p1;
  }
  // Scaled values past 2^600: every one times 2^-600 (exact), the scale moved by as much.
  void rescale(Step& s) {
    constexpr double kDown = 0x1p-600;
    s.p1 *= kDown;
    s.p2 *= kDown;
    s.c *= kDown;
    for (V4& a : acc4_) a *= kDown;
    exp_ += 600;
    factor_ = std::ldexp(1.0, exp_);
  }

  std::vector<double> g_, r_, log_p0_days_;
  std::vector<double> tail_;  // quantile_by_tail's P(k), P(k+1), ...
  std::vector<V4> r4_, grr4_, acc4_;  // the days four to a vector; acc4_: A_t(k-2) before step k
  double log_p0_ = 0.0, p0_ = 0.0, big_g_ = 0.0, big_gr_ = 0.0;
  double factor_ = 1.0;  // 2^exp_: a stored value times it is P(k)
  int exp_ = 0;
  Step at_{};
};

// A sum that keeps its rounding error (Neumaier).
struct CompensatedSum {
  double hi = 0.0, lo = 0.0;
  void add(double x) {
    const double t = hi + x;
    lo += std::fabs(hi) >= std::fabs(x) ? (hi - t) + x : (x - t) + hi;
    hi = t;
  }
  double value() const { return hi + lo; }
};

// cdf(k) and P(D > k) of one law from its pmf, term by term. The tail is (1 - cdf_hi) - cdf_lo,
// exact where cdf_hi >= 1/2: accurate far into the tail, where 1 - cdf would cancel.
struct CdfSteps {
  CompensatedSum cdf;
  void add(double p) { cdf.add(p); }
  double tail() const { return (1.0 - cdf.hi) - cdf.lo; }
};

// The laws of D_{L+R} and D_L for a lead time L ~ w (w[l], l = 0..lmax; a fixed one is a pmf
// with one point): mixtures over l of the sums of the first l (+ R) days, each sum's law by its
// own recursion.
class WindowMixture {
 public:
  // all: the law of every day up to lmax + R (days of zero mean left out); positive[j]: how many
  // of the first j days it holds. False where a member's P(0) is below e^-4e7.
  bool start(const NbSumLaw& all, const int64_t* positive, const double* w, int64_t lmax, int64_t R) {
    used_ = 0;
    for (int64_t j = 0; j <= lmax + R; ++j) {
      const double w_l = j <= lmax ? w[j] : 0.0;
      const double w_lr = j - R >= 0 && j - R <= lmax ? w[j - R] : 0.0;
      if (!(w_l > 0.0 || w_lr > 0.0)) continue;
      if (used_ == members_.size()) members_.emplace_back();
      Member& m = members_[used_++];
      m.law.assign_prefix(all, static_cast<size_t>(positive[j]));
      m.cdf = CdfSteps{};
      m.w_l = w_l;
      m.w_lr = w_lr;
      if (!m.law.start()) return false;
    }
    return true;
  }
  void advance(int64_t k) {  // to cdf(k)
    double cdf_lr = 0.0, cdf_l = 0.0, tail_lr = 0.0, tail_l = 0.0;
    for (size_t u = 0; u < used_; ++u) {
      Member& m = members_[u];
      m.cdf.add(k == 0 ? m.law.p0() : m.law.next());
      const double c = m.cdf.cdf.value(), t = m.cdf.tail();
      cdf_lr += m.w_lr * c, tail_lr += m.w_lr * t;
      cdf_l += m.w_l * c, tail_l += m.w_l * t;
    }
    cdf_lr_ = cdf_lr, cdf_l_ = cdf_l, tail_lr_ = tail_lr, tail_l_ = tail_l;
  }
  double cdf_lr() const { return cdf_lr_; }
  double cdf_l() const { return cdf_l_; }
  double tail_lr() const { return tail_lr_; }
  double tail_l() const { return tail_l_; }

 private:
  struct Member {
    NbSumLaw law;
    CdfSteps cdf;
    double w_l = 0.0, w_lr = 0.0;
  };
  std::vector<Member> members_;  // kept between rows: their vectors keep their capacity
  size_t used_ = 0;
  double cdf_lr_ = 0.0, cdf_l_ = 0.0, tail_lr_ = 0.0, tail_l_ = 0.0;
};

// Fill-rate levels from started window laws (means mean_lr, mean_l),
// the rules of inventory/policy.h on pmf arrays: S is the smallest S with the cycle's shortage
// E[(D_{L+R} - S)^+] - E[(D_L - S)^+] (periodic; else E[(D_{L+R} - S)^+]) <= budget, and s the
// smallest s with E[(D_L - s)^+] <= budget, kept at most S. A shortage is mean - sum_{j<S} P(D > j),
// a difference of near-equal numbers once S is past the mean: the tails are accurate (CdfSteps)
// and their sums compensated, so only the recursion's own rounding remains, growing with the scan
// (~1e-11 of the mean after a million steps). Both shortages fall as S grows, so one forward scan
// finds both. False past reach: the caller's fallback decides.
inline bool fill_scan(WindowMixture& laws, double mean_lr, double mean_l, bool periodic, double budget, int64_t reach,
                      int64_t& S, int64_t& s) {
  CompensatedSum sum_lr, sum_l;
  int64_t s_found = -1;
  for (int64_t k = 0; k <= reach; ++k) {
    // here the sums hold P(D > j) for j < k
    const double short_lr = mean_lr - sum_lr.value();
    const double short_l = periodic ? mean_l - sum_l.value() : short_lr;
    if (s_found < 0 && short_l <= budget) s_found = k;
    if ((periodic ? short_lr - short_l : short_lr) <= budget) {
      S = k;
      s = s_found >= 0 ? s_found : k;
      return true;
    }
    laws.advance(k);
    sum_lr.add(laws.tail_lr());
    if (periodic) sum_l.add(laws.tail_l());
  }
  return false;
}

// csl levels from a started WindowMixture: the smallest S with cdf_{L+R}(S) >= q and the smallest
// s with cdf_L(s) >= q. False past reach: the caller's fallback decides.
inline bool csl_scan(WindowMixture& laws, double q, int64_t reach, int64_t& S, int64_t& s) {
  int64_t S_found = -1, s_found = -1;
  for (int64_t k = 0; k <= reach; ++k) {
    laws.advance(k);
    if (s_found < 0 && laws.cdf_l() >= q) s_found = k;
    if (S_found < 0 && laws.cdf_lr() >= q) S_found = k;
    if (S_found >= 0 && s_found >= 0) {
      S = S_found;
      s = s_found;
      return true;
    }
  }
  return false;
}

}  // namespace cpu
}  // namespace skucast
