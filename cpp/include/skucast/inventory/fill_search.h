// Levels of NB laws in closed form without pmf arrays: fill rates, and a stochastic lead time's
// mixtures of such laws (csl too). A guess from the normal law, then policy.h's smallest_ok_walk
// over the laws' shortages and cdfs, moved by +-1: the smallest S with shortage(S) <= budget
// (cdf(S) >= q), as a search over pmf arrays finds it, from one tail fraction per law instead of
// arrays ~17 sd wide.
#pragma once
#include <math.h>
#include <stdint.h>

#include "skucast/core/hostdevice.h"
#include "skucast/dist/negbin.h"
#include "skucast/inventory/policy.h"

namespace skucast {
namespace inv {

// The shortage E[(D - S)^+], P(D > S) and P(D = S) of D ~ NB(m, a) at one S, moved by +-1. At the
// start they come from one tail fraction: with k pmf(k; m, a) = m pmf(k - 1; m (1 + a), a / (1 + a))
// and the incomplete beta's recurrences, E[(D - S)^+] = (m - S) sf(S) + m (1 + a S) pmf(S).
struct NbShortage {
  double m = 0.0, a = 0.0, loss = 0.0, sf = 0.0, pmf = 1.0, cdf = 1.0;  // cdf: P(D <= S), kept for csl
  int64_t S = 0;

  SKUCAST_HD void start(double mean, double alpha, int64_t at) {
    m = mean;
    a = alpha;
    S = at;
    if (!(m > 0.0)) {  // no demand: nothing is ever short
      loss = sf = 0.0;
      pmf = at == 0 ? 1.0 : 0.0;
      cdf = 1.0;
      return;
    }
    const double y = static_cast<double>(at);
    double log_pmf = nb::kNoLogPmf;
    if (at == 0) {
      log_pmf = nb::logpmf_zero(m, a);
      sf = -expm1(log_pmf);
      cdf = exp(log_pmf);
    } else {
      bool is_cdf;
      const double lt = nb::log_tail(y, m, a, &is_cdf, &log_pmf);
      sf = is_cdf ? -expm1(lt) : exp(lt);
      cdf = is_cdf ? exp(lt) : -expm1(lt);  // each tail as exactly as the fraction gives it
      if (log_pmf == nb::kNoLogPmf) log_pmf = nb::logpmf(y, m, a);
    }
    pmf = exp(log_pmf);
    loss = (m - y) * sf + m * (1.0 + a * y) * pmf;
  }
  SKUCAST_HD void up() {
    ++S;
    if (!(m > 0.0)) return;
    loss -= sf;
    pmf *= nb::pmf_ratio_up(static_cast<double>(S - 1), m, a);
    sf -= pmf;
    cdf += pmf;
  }
  SKUCAST_HD void down() {
    --S;
    if (!(m > 0.0)) return;
    sf += pmf;
    cdf -= pmf;
    pmf /= nb::pmf_ratio_up(static_cast<double>(S), m, a);
    loss += sf;
  }
};

// A stochastic lead time's window laws in closed form: D_L and D_{L+R} are mixtures over the
// window lengths j of NB(m_j, a_j), with weight w_l[j] in D_L's mixture and w_lr[j] in D_{L+R}'s.
// The members are walked together (one NbShortage each, at a common S) from a normal guess off
// the mixtures' moments: csl levels from the mixtures' cdfs (S: smallest with cdf_{L+R} >= q),
// fill-rate levels from their shortages (the rules of inventory/policy.h on pmf arrays: S the
// smallest S with the cycle's shortage E[(D_{L+R} - S)^+] - E[(D_L - S)^+] (periodic; else
// E[(D_{L+R} - S)^+]) <= budget, s the smallest s with E[(D_L - s)^+] <= budget, kept at most S).
// budget > 0 carries the callers' tolerance (budget_with_tolerance). laws: scratch, one per member. False
// where a level lies past 2^62.
struct NbMixture {
  const double *m, *a, *w_l, *w_lr;
  NbShortage* laws;
  int count;
  double mean_l, var_l, mean_lr, var_lr;
};
SKUCAST_HD bool nb_mixture_levels(const NbMixture& x, bool csl, double q, double z, bool periodic, double budget,
                                  int64_t& S, int64_t& s) {
  // the members a walk moves: those of D_{L+R}'s mixture, of D_L's, or both
  bool move_lr = true, move_l = false;
  auto moves = [&](int k) { return (move_lr && x.w_lr[k] > 0.0) || (move_l && x.w_l[k] > 0.0); };
  auto start = [&](int64_t at) {
    for (int k = 0; k < x.count; ++k)
      if (moves(k)) x.laws[k].start(x.m[k], x.a[k], at);
  };
  auto step = [&](int dir) {
    for (int k = 0; k < x.count; ++k)
      if (moves(k)) dir > 0 ? x.laws[k].up() : x.laws[k].down();
  };
  auto sum = [&](const double* w, bool of_cdf) {
    double acc = 0.0;
    for (int k = 0; k < x.count; ++k)
      if (w[k] > 0.0) acc += w[k] * (of_cdf ? x.laws[k].cdf : x.laws[k].loss);
    return acc;
  };
  auto guess = [&](double mean, double var) -> int64_t {
    const double sd = sqrt(var > 0.0 ? var : 0.0);
    if (!(mean > 0.0 && sd > 0.0 && sd < INFINITY)) return 0;
    const double g = csl ? mean + z * sd : normal_loss_inverse(mean, sd, budget);
    return g > 0.0 ? (g < 4e18 ? static_cast<int64_t>(g + 0.5) : INT64_C(4000000000000000000)) : 0;
  };
  if (csl) {
    // cdf >= q as the non-increasing q - cdf <= 0
    if (!smallest_ok_walk(guess(x.mean_lr, x.var_lr), 0.0, start, [&] { return q - sum(x.w_lr, true); }, step, S))
      return false;
    if (!periodic) {  // no review period: D_L is D_{L+R}
      s = S;
      return true;
    }
    move_lr = false, move_l = true;
    return smallest_ok_walk(guess(x.mean_l, x.var_l), 0.0, start, [&] { return q - sum(x.w_l, true); }, step, s);
  }
  move_l = periodic;
  auto cycle = [&] { return periodic ? sum(x.w_lr, false) - sum(x.w_l, false) : sum(x.w_lr, false); };
  if (!smallest_ok_walk(guess(x.mean_lr, x.var_lr), budget, start, cycle, step, S)) return false;
  if (!periodic) {
    s = S;
    return true;
  }
  move_lr = false;
  if (!smallest_ok_walk(guess(x.mean_l, x.var_l), budget, start, [&] { return sum(x.w_l, false); }, step, s))
    return false;
  s = s < S ? s : S;  // kept at most S, as policy_rows.h's capped_reorder_point
  return true;
}

// Fill-rate levels of one lead time's windows D_{L+R} ~ NB(m_lr, a_lr) and D_L ~ NB(m_l, a_l): the
// mixture of nb_mixture_levels with one member each.
SKUCAST_HD bool nb_fill_levels(double m_lr, double a_lr, double m_l, double a_l, bool periodic, double budget,
                               int64_t& S, int64_t& s) {
  const double m[2] = {m_lr, m_l}, a[2] = {a_lr, a_l}, w_l[2] = {0.0, 1.0}, w_lr[2] = {1.0, 0.0};
  NbShortage laws[2];
  const NbMixture x{m, a, w_l, w_lr, laws, 2, m_l, m_l + a_l * m_l * m_l, m_lr, m_lr + a_lr * m_lr * m_lr};
  return nb_mixture_levels(x, false, 0.0, 0.0, periodic, budget, S, s);
}

}  // namespace inv
}  // namespace skucast
