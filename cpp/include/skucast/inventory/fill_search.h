// Fill-rate levels of NB laws in closed form without pmf arrays: a guess from the normal loss
// function (policy.h), then a walk of the law's shortage by +-1. It finds the smallest S with
// shortage(S) <= budget, as a bisection over pmf arrays does for a non-increasing shortage, from
// one tail fraction per law instead of arrays ~17 sd wide.
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
  double m = 0.0, a = 0.0, loss = 0.0, sf = 0.0, pmf = 1.0;
  int64_t S = 0;

  SKUCAST_HD void start(double mean, double alpha, int64_t at) {
    m = mean;
    a = alpha;
    S = at;
    if (!(m > 0.0)) {  // no demand: nothing is ever short
      loss = sf = 0.0;
      pmf = at == 0 ? 1.0 : 0.0;
      return;
    }
    const double y = static_cast<double>(at);
    double log_pmf = nb::kNoLogPmf;
    if (at == 0) {
      log_pmf = nb::logpmf_zero(m, a);
      sf = -expm1(log_pmf);
    } else {
      bool is_cdf;
      const double lt = nb::log_tail(y, m, a, &is_cdf, &log_pmf);
      sf = is_cdf ? -expm1(lt) : exp(lt);
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
  }
  SKUCAST_HD void down() {
    --S;
    if (!(m > 0.0)) return;
    sf += pmf;
    pmf /= nb::pmf_ratio_up(static_cast<double>(S), m, a);
    loss += sf;
  }
};

// The smallest S >= 0 with f() <= budget for a non-increasing f read at the laws' current S:
// start(S) places the laws at S (one tail fraction each), step(+1 / -1) moves them by one (a pmf
// ratio). From the guess it walks up to kFillWalk steps; a guess farther off (a heavy tail, which
// the normal guess misjudges) is bracketed by doubling jumps and bisected with fresh starts down
// to a short walk. False where the answer lies past 2^62 (the caller solves the row another way).
constexpr int64_t kFillWalk = 32;
template <class Start, class F, class Step>
SKUCAST_HD bool smallest_ok_walk(int64_t guess, double budget, const Start& start, const F& f, const Step& step,
                                 int64_t& out) {
  constexpr int64_t kTop = INT64_C(1) << 62;
  int64_t S = guess, lo, ok;  // f(lo) > budget >= f(ok)
  start(S);
  if (f() <= budget) {
    for (int64_t n = 0; n < kFillWalk; ++n) {
      if (S == 0) {
        out = 0;
        return true;
      }
      step(-1);
      --S;
      if (f() > budget) {
        out = S + 1;
        return true;
      }
    }
    ok = S;
    for (int64_t jump = 2 * kFillWalk;; jump *= 2) {
      if (ok == 0) {
        out = 0;
        return true;
      }
      const int64_t at = ok > jump ? ok - jump : 0;
      start(at);
      if (f() > budget) {
        lo = at;
        break;
      }
      ok = at;
    }
  } else {
    for (int64_t n = 0; n < kFillWalk; ++n) {
      step(+1);
      ++S;
      if (f() <= budget) {
        out = S;
        return true;
      }
    }
    lo = S;
    for (int64_t jump = 2 * kFillWalk;; jump *= 2) {
      if (lo > kTop - jump) return false;
      const int64_t at = lo + jump;
      start(at);
      if (f() <= budget) {
        ok = at;
        break;
      }
      lo = at;
    }
  }
  while (ok - lo > kFillWalk) {
    const int64_t mid = lo + (ok - lo) / 2;
    start(mid);
    if (f() <= budget) ok = mid; else lo = mid;
  }
  start(lo);
  for (S = lo + 1; S < ok; ++S) {
    step(+1);
    if (f() <= budget) break;
  }
  out = S;
  return true;
}

// Fill-rate levels of NB window laws D_{L+R} ~ NB(m_lr, a_lr), D_L ~ NB(m_l, a_l) (inventory/
// policy.h's rules on pmf arrays): S the smallest S with the cycle's shortage
// E[(D_{L+R} - S)^+] - E[(D_L - S)^+] (periodic; else E[(D_{L+R} - S)^+]) <= budget, s the smallest
// s with E[(D_L - s)^+] <= budget (the caller caps it at S). Guesses from the normal loss
// function, then walks (smallest_ok_walk). budget > 0 (it carries the callers' tolerance). False
// where a level lies past 2^62.
SKUCAST_HD bool nb_fill_levels(double m_lr, double a_lr, double m_l, double a_l, bool periodic, double budget,
                               int64_t& S, int64_t& s) {
  auto guess = [&](double m, double a) -> int64_t {
    const double var = m + a * m * m;
    if (!(m > 0.0 && var < INFINITY)) return 0;
    const double x = normal_loss_inverse(m, sqrt(var), budget);
    return x > 0.0 ? (x < 4e18 ? static_cast<int64_t>(x + 0.5) : INT64_C(4000000000000000000)) : 0;
  };
  NbShortage lr, l;
  auto start_both = [&](int64_t at) {
    lr.start(m_lr, a_lr, at);
    if (periodic) l.start(m_l, a_l, at);
  };
  auto cycle = [&] { return periodic ? lr.loss - l.loss : lr.loss; };
  auto step_both = [&](int dir) {
    if (dir > 0) {
      lr.up();
      if (periodic) l.up();
    } else {
      lr.down();
      if (periodic) l.down();
    }
  };
  if (!smallest_ok_walk(guess(m_lr, a_lr), budget, start_both, cycle, step_both, S)) return false;
  if (!periodic) {
    s = S;
    return true;
  }
  return smallest_ok_walk(
      guess(m_l, a_l), budget, [&](int64_t at) { l.start(m_l, a_l, at); }, [&] { return l.loss; },
      [&](int dir) { dir > 0 ? l.up() : l.down(); }, s);
}

}  // namespace inv
}  // namespace skucast
