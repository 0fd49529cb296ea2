// Inventory policy math shared by the CPU loops (cpp/src/inventory_policy.cpp) and device code:
// order-up-to levels from protection-interval demand, and the replenishment rules of one row.
//
// Protection-interval demand D = sum of independent daily NB(mu_t, alpha_t). When alpha_t mu_t is
// the same on every day (in particular per-row constant mu and alpha, or all alpha = 0), every day
// has the same NB success probability p = 1 / (1 + alpha_t mu_t), and a sum of NB(n_t, p) is
// NB(sum n_t, p): in the (mu, alpha) form D ~ NB(m, c / m) with m = sum mu_t and c = alpha_t mu_t.
// This is exact, not an approximation; it is also what variance matching gives in that case.
#pragma once
#include "skucast/core/hostdevice.h"
#include "skucast/dist/negbin.h"
#include "skucast/dist/negbin_ppf.h"

namespace skucast {
namespace inv {

// ---------------------------------------------------------------- demand summary of a window
struct WindowMoments {
  double mean = 0.0;      // sum mu_t
  double var = 0.0;       // sum mu_t + alpha_t mu_t^2
  double c_min = 0.0;     // min / max of alpha_t mu_t over the window
  double c_max = 0.0;
  SKUCAST_HD void add(double mu, double alpha) {
    const double c = alpha * mu;
    if (mean == 0.0 && var == 0.0) {
      c_min = c_max = c;
    } else {
      c_min = c < c_min ? c : c_min;
      c_max = c > c_max ? c : c_max;
    }
    mean += mu;
    var += mu + c * mu;
  }
  // The sum is exactly NB(mean, c / mean) (see the header comment).
  SKUCAST_HD bool closed_form() const { return c_max - c_min <= 1e-12 * c_max; }
  // Dispersion of the exact law when closed_form(), else of the variance-matched NB.
  SKUCAST_HD double alpha_eff() const {
    if (mean <= 0.0) return 0.0;
    if (closed_form()) return 0.5 * (c_min + c_max) / mean;
    const double a = (var - mean) / (mean * mean);
    return a > 0.0 ? a : 0.0;
  }
};

// A whole-number level held as a double, as an int64 in [0, nb::kPpfMax = 2^62], where the exact
// levels saturate too (past 2^63 the conversion itself would be undefined).
SKUCAST_HD int64_t level_of(double v) {
  return v > 0.0 ? (v < static_cast<double>(nb::kPpfMax) ? static_cast<int64_t>(v) : nb::kPpfMax) : 0;
}

// Retail baseline: ceil(mean + z sd), in [0, 2^62].
SKUCAST_HD int64_t normal_level(double mean, double var, double z) {
  return level_of(ceil(mean + z * sqrt(var > 0.0 ? var : 0.0)));
}

// Smallest S with P(D <= S) >= q for D ~ NB(mean, alpha); D = 0 when mean == 0.
SKUCAST_HD_NOINLINE int64_t nb_level(double mean, double alpha, double q) {
  if (mean <= 0.0) return 0;
  return nb::ppf(q, mean, alpha);
}

// ---------------------------------------------------------------- normal approximation, fill rate
// E[(Z - x)^+] for Z standard normal.
SKUCAST_HD double normal_loss(double x) {
  const double pdf = exp(-0.5 * x * x) * 0.39894228040143267794;
  const double sf = 0.5 * erfc(x * 0.70710678118654752440);
  return pdf - x * sf;
}

// (SKUCAST_HD_NOINLINE here and on nb_level: one device copy per kernel file instead of one per
// call site, which keeps nvcc time down; on the CPU it is plain inline as before.)
SKUCAST_HD_NOINLINE double normal_shortage(double S, double m, double v) {
  if (v <= 0.0) return S < m ? m - S : 0.0;
  const double sd = sqrt(v);
  return sd * normal_loss((S - m) / sd);
}

// Smallest S >= 0 with f(S) <= target for a non-increasing f; f(hi) <= target is given.
template <class F>
SKUCAST_HD int64_t smallest_ok(int64_t hi, double target, const F& f) {
  if (f(0) <= target) return 0;
  int64_t lo = 0;  // f(lo) > target
  while (hi - lo > 1) {
    const int64_t mid = lo + (hi - lo) / 2;
    if (f(mid) <= target) hi = mid; else lo = mid;
  }
  return hi;
}

// x with sd * normal_loss((x - m) / sd) = budget (budget > 0, sd > 0), to within ~0.25 / sd in z:
// Newton's method on log normal_loss, which is concave (the loss is log-concave), started right
// of the root where phi(z0) = budget / sd (normal_loss(z) < phi(z)): the steps then fall
// monotonically onto the root, and fast (log normal_loss is close to -z^2 / 2 out there).
SKUCAST_HD double normal_loss_inverse(double m, double sd, double budget) {
  const double x = budget / sd;
  const double t = -2.0 * log(x * 2.50662827463100050242);  // phi(z0) = x
  double z = t > 0.0 ? sqrt(t) : 0.0;
  for (int it = 0; it < 12; ++it) {
    const double sf = 0.5 * erfc(z * 0.70710678118654752440);
    const double g = normal_loss(z);
    if (!(g > 0.0 && sf > 0.0)) break;  // underflow far out: the integer search takes over
    const double step = (log(g) - log(x)) * g / sf;
    z += step;
    if (!(fabs(step) * sd > 0.25)) break;
  }
  return m + z * sd;
}

// The smallest S >= 0 with f() <= budget for a non-increasing f read at a current S: start(S)
// places it at S, step(+1 / -1) moves it by one (for NB laws, fill_search.h: one tail fraction
// against one pmf ratio; for the normal method both just set S). From the guess it walks up to
// kFillWalk steps; a guess farther off (a heavy tail, which a normal guess misjudges) is bracketed
// by doubling jumps and bisected with fresh starts down to a short walk. False where the answer
// lies past 2^62 (the caller solves the row another way).
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

// A fill-rate shortage budget with its tolerance, for every search of it (normal, walks, scans,
// pmf arrays): shortages are compared within 1e-12 (mean + 1) units, so that a zero budget (no
// expected demand in the cycle) does not chase a truncated tail.
SKUCAST_HD double budget_with_tolerance(double budget, double mean) { return budget + 1e-12 * (mean + 1.0); }

// Smallest S in [0, hi] with f(S) <= target (hi where f(hi) > target), walked from a guess.
template <class F>
SKUCAST_HD int64_t smallest_normal_fill(double guess, int64_t hi, double target, const F& f) {
  if (f(hi) > target) return hi;
  const int64_t g = guess > 0.0 ? (guess < static_cast<double>(hi) ? static_cast<int64_t>(guess) : hi) : 0;
  int64_t at = g, out = hi;
  smallest_ok_walk(g, target, [&](int64_t S) { at = S; }, [&] { return f(at); }, [&](int dir) { at += dir; }, out);
  return out < hi ? out : hi;
}

// Smallest integer S >= 0 with the normal-approximation shortage per cycle <= target
// (periodic: E[(D_LR - S)^+] - E[(D_L - S)^+]; else E[(D_LR - S)^+]).
SKUCAST_HD_NOINLINE int64_t normal_fill(double mL, double vL, double mLR, double vLR, bool periodic, double target) {
  // (callers pass the same budget for S and s; the tolerance uses this call's mean)
  target = budget_with_tolerance(target, mLR);
  const int64_t hi = level_of(ceil(mLR + 40.0 * sqrt(vLR) + 1.0));  // past 2^62: saturates there, as csl levels
  // where D_{L+R}'s shortage alone meets the target (the periodic one is a little lower)
  const double guess = vLR > 0.0 ? normal_loss_inverse(mLR, sqrt(vLR), target) : mLR - target;
  if (periodic) {
    const auto f = [=](int64_t S) {
      const double x = static_cast<double>(S);
      return normal_shortage(x, mLR, vLR) - normal_shortage(x, mL, vL);
    };
    return smallest_normal_fill(guess, hi, target, f);
  }
  const auto f = [=](int64_t S) { return normal_shortage(static_cast<double>(S), mLR, vLR); };
  return smallest_normal_fill(guess, hi, target, f);
}

// ---------------------------------------------------------------- pmf arrays
// A pmf stored as p[0..len) for the values off, off+1, ...; the mass outside is < ~1e-15.
// Smallest S with sum_{k <= S} p >= q.
SKUCAST_HD int64_t pmf_quantile(const double* p, int64_t len, int64_t off, double q) {
  double acc = 0.0;
  for (int64_t i = 0; i < len; ++i) {
    acc += p[i];
    if (acc >= q) return off + i;
  }
  return off + (len > 0 ? len - 1 : 0);
}

// Expected shortage E[(D - S)^+] for every S in [off, off + len): writes loss[i] for S = off + i.
// Backward sums: tail(k) = P(D > k) = sum_{j > k} p_j and loss(S) = sum_{k >= S} tail(k), both
// sums of positive terms (no cancellation, accurate far into the tail).
SKUCAST_HD void pmf_loss(const double* p, int64_t len, double* loss) {
  double tail = 0.0, acc = 0.0;
  for (int64_t i = len - 1; i >= 0; --i) {
    // here tail = P(D > off + i)
    acc += tail;
    loss[i] = acc;
    tail += p[i];
  }
}

// ---------------------------------------------------------------- replenishment of one row
enum Reason : int8_t {
  kOrdered = 0,              // ordered what the policy asked (rounded up to whole cases)
  kAtOrAboveTarget = 1,      // RS / base_stock: inventory position >= S
  kAboveReorderPoint = 2,    // sS / sQ: inventory position > s
  kRaisedToMoq = 3,          // the order was raised to the minimum order quantity
  kCappedByMaxOrder = 4,     // reduced (not to zero) by max_order
  kCappedByShelf = 5,        // reduced (not to zero) by shelf capacity
  kZeroByMaxOrder = 6,       // max_order (in whole cases, and >= moq) left no order
  kZeroByShelf = 7,          // no room on the shelf for a whole case (or for the moq)
};
constexpr int kNumReasons = 8;

enum Policy : int { kRS = 0, kBaseStock = 1, kSS = 2, kSQ = 3 };

struct OrderResult {
  int64_t order;
  int8_t reason;
};

// floor(a / b) for a >= 0, b >= 1 through a double division (a 64-bit integer division costs
// 40-90 cycles on most x86 cores, a double one ~4 in throughput) and an exact integer fix-up.
SKUCAST_HD int64_t div_floor(int64_t a, int64_t b) {
  int64_t q = static_cast<int64_t>(static_cast<double>(a) / static_cast<double>(b));
  int64_t r = a - q * b;
  while (r < 0) { --q; r += b; }
  while (r >= b) { ++q; r -= b; }
  return q;
}
SKUCAST_HD int64_t ceil_div(int64_t a, int64_t b) { return a <= 0 ? 0 : div_floor(a + b - 1, b); }
SKUCAST_HD int64_t floor_mult(int64_t a, int64_t b) { return a <= 0 ? 0 : div_floor(a, b) * b; }

// max_order < 0 or shelf < 0 mean "no limit". Inputs are validated by the caller.
// Rule order: policy quantity -> whole cases (up) -> moq (raised, in whole cases) -> max_order
// (down to whole cases) -> shelf room (down to whole cases); an order that ends below the moq
// is not placed (reason says which cap made it zero). The reason is the last rule that changed
// the quantity.
SKUCAST_HD OrderResult replenish_row(int policy, int64_t ip, int64_t S, int64_t s, int64_t Q, int64_t on_hand,
                                     int64_t on_order, int64_t moq, int64_t case_pack, int64_t max_order,
                                     int64_t shelf) {
  int64_t q = 0;
  if (policy == kRS || policy == kBaseStock) {
    if (ip >= S) return {0, kAtOrAboveTarget};
    q = S - ip;
  } else if (policy == kSS) {
    if (ip > s) return {0, kAboveReorderPoint};
    q = S - ip;
    if (q <= 0) return {0, kAtOrAboveTarget};  // only when s == S == ip
  } else {
    if (ip > s) return {0, kAboveReorderPoint};
    q = (div_floor(s - ip, Q) + 1) * Q;
  }
  int8_t reason = kOrdered;
  int64_t moq_cases = moq;
  if (case_pack != 1) {  // (64-bit divisions are the slowest step of this function)
    q = ceil_div(q, case_pack) * case_pack;
    if (moq > 0) moq_cases = ceil_div(moq, case_pack) * case_pack;
  }
  if (q < moq_cases) {
    q = moq_cases;
    reason = kRaisedToMoq;
  }
  if (max_order >= 0) {
    const int64_t cap = floor_mult(max_order, case_pack);
    if (q > cap) {
      q = cap;
      reason = kCappedByMaxOrder;
      if (q < moq || q == 0) return {0, kZeroByMaxOrder};
    }
  }
  if (shelf >= 0) {
    const int64_t room = floor_mult(shelf - on_hand - on_order, case_pack);
    if (q > room) {
      q = room;
      reason = kCappedByShelf;
      if (q < moq || q == 0) return {0, kZeroByShelf};
    }
  }
  return {q, reason};
}

}  // namespace inv
}  // namespace skucast
