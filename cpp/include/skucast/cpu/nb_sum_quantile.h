// Quantiles of a sum of independent NB(mu_t, alpha_t) days (a protection interval whose daily
// laws differ) by Panjer's recursion instead of convolving the daily pmfs. Each NB day is a
// compound Poisson law with logarithmic severities, so the sum is one too, and its pmf obeys
//   P(0) = prod_t P_t(0),   P(k) = (1/k) sum_{j=1..k} h(j) P(k - j),
//   h(j) = sum_t g_t r_t^(j-1),  g_t = mu_t / (1 + alpha_t mu_t),  r_t = alpha_t mu_t / (1 + alpha_t mu_t)
// (alpha_t = 0 leaves h(1) = sum mu_t and h(j > 1) = 0: Poisson). Every term is positive, so
// the recursion is stable, and it runs only up to the quantile: O(k^2 / 2 + k T) for a quantile
// k over T days, against O(T k W) for convolving days of W entries out to 1e-17 tails.
#pragma once
#include <cmath>
#include <cstdint>
#include <vector>

#include "skucast/dist/negbin.h"

namespace skucast {
namespace cpu {

class NbSumQuantile {
 public:
  // Quantiles past this are left to the convolution (the recursion's k^2 / 2 steps grow fast).
  static constexpr int64_t kMaxK = 8192;

  void reset() {
    g_.clear();
    r_.clear();
    log_p0_ = 0.0;
  }
  void add_day(double mu, double alpha) {  // mu > 0, alpha >= 0, both finite
    const double u = 1.0 + alpha * mu;
    g_.push_back(mu / u);
    r_.push_back(alpha * mu / u);
    log_p0_ += nb::logpmf_zero(mu, alpha);
  }
  // Smallest k with cdf(k) >= q, or -1 where the recursion does not apply: P(0) below the
  // double range, or no k up to kMaxK.
  int64_t quantile(double q) {
    if (log_p0_ < -700.0) return -1;
    p_.assign(1, std::exp(log_p0_));
    double cum = p_[0];
    if (cum >= q) return 0;
    h_.assign(1, 0.0);  // h_[j], j >= 1
    pow_.assign(r_.size(), 1.0);
    for (int64_t k = 1; k <= kMaxK; ++k) {
      double hk = 0.0;  // h(k) = sum_t g_t r_t^(k-1)
      for (size_t t = 0; t < g_.size(); ++t) {
        hk += g_[t] * pow_[t];
        pow_[t] *= r_[t];
      }
      h_.push_back(hk);
      // sum_{j=1..k} h(j) P(k - j) on four chains (the terms are positive: the order only moves
      // the last bits)
      const double* h = h_.data();
      const double* p = p_.data();
      double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
      int64_t j = 1;
      for (; j + 3 <= k; j += 4) {
        s0 += h[j] * p[k - j];
        s1 += h[j + 1] * p[k - j - 1];
        s2 += h[j + 2] * p[k - j - 2];
        s3 += h[j + 3] * p[k - j - 3];
      }
      for (; j <= k; ++j) s0 += h[j] * p[k - j];
      const double pk = ((s0 + s1) + (s2 + s3)) / static_cast<double>(k);
      p_.push_back(pk);
      cum += pk;
      if (cum >= q) return k;
    }
    return -1;
  }

 private:
  std::vector<double> g_, r_, pow_, h_, p_;
  double log_p0_ = 0.0;
};

}  // namespace cpu
}  // namespace skucast
