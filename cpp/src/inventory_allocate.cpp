// CPU loops of allocate(): SKUs in parallel; per SKU a threshold search over the marginal
// value of one more unit, then the units tied at the threshold in location order.
#include <algorithm>
#include <cfloat>
#include <cmath>
#include <functional>
#include <utility>
#include <vector>

#include "skucast/core/threads.h"
#include "skucast/cpu/allocate_nb_simd.h"
#include "skucast/cpu/inventory_sim_kernels.h"
#include "skucast/inventory/allocate.h"

namespace skucast {
namespace cpu {
namespace {

constexpr int64_t kGrain = 64;
// Above this many units in the final bracket, the bracket's increments agree to ~1e-15 and
// are treated as tied (location order) rather than sorted one by one.
constexpr int64_t kMaxCandidates = 1 << 16;

// Per location: the cdf table of the fast walk (small means) or nothing (large means: ppf and
// cdf straight from the NB header).
struct LocCdf {
  std::vector<double> cdf;  // cdf[0, len): cdf(0), cdf(1), ...; kept allocated from SKU to SKU
  int64_t len = 0;
  inv::NbCdfWalk walk;
  bool fast = false;
  void reset(double mu, double alpha) {
    len = 0;
    fast = walk.start(mu, alpha);
    if (fast) {
      if (cdf.size() < 16) cdf.resize(16);
      cdf[0] = walk.sum;
      len = 1;
    }
  }
  // Walks the table out to n entries (one tight loop); false if the walk ends first.
  bool extend(int64_t n) {
    // The walk ends at the reciprocal table: a longer table (a huge on-hand) is never filled.
    if (n > kReciprocalTableSize) {
      extend(kReciprocalTableSize);
      return false;
    }
    if (static_cast<int64_t>(cdf.size()) < n) cdf.resize(static_cast<size_t>(std::max(n, 2 * len)));
    double* t = cdf.data();
    while (len < n) {
      if (!walk.next()) return false;
      t[len++] = walk.sum;
    }
    return true;
  }
  // Units above `base` whose cdf is < q (0 < q < 1): ppf(q) - base, clipped at 0. `from`:
  // a count known to have cdf < q for all its units (a lower threshold's count), where the
  // scan starts: thresholds only move by a few units per step.
  int64_t units_above(double q, double mu, double alpha, int64_t base, int64_t from) {
    if (mu <= 0.0 || q <= 0.0) return 0;
    if (fast) {
      // Four table entries per step, counted without a branch (the table is sorted, so the
      // count below q is the position of the first entry >= q): one well-predicted exit test
      // per location instead of a mispredicted one at a data-dependent step.
      int64_t y = base + from;
      for (;;) {
        if (y + 4 <= len) {
          const double* t = cdf.data() + y;
          const int k = (t[0] < q) + (t[1] < q) + (t[2] < q) + (t[3] < q);
          if (k < 4) return y + k - base;
          y += 4;
          continue;
        }
        if (!extend(y + 4)) {  // the walk's table ends: the entries left one by one, then the general path
          for (; y < len; ++y) {
            if (cdf[static_cast<size_t>(y)] >= q) return y - base;
          }
          fast = false;
          return inv::nb_units_above(q, mu, alpha, base);
        }
      }
    }
    return inv::nb_units_above(q, mu, alpha, base);
  }
  double cdf_at(int64_t y, double mu, double alpha) const {
    if (fast && y < len) return cdf[static_cast<size_t>(y)];
    return nb::cdf(static_cast<double>(y), mu, alpha);
  }
};

struct NbScratch {
  std::vector<int64_t> base, c_lo, c_hi, c_mid;
  std::vector<LocCdf> loc;
  std::vector<std::pair<double, int64_t>> cand;
  NbWalkScratch walk;
  void resize(int64_t m) {
    base.resize(m);
    c_lo.resize(m);
    c_hi.resize(m);
    c_mid.resize(m);
    loc.resize(m);
  }
};

// True when every x is finite and >= 0 (one loop per array, so that it vectorizes).
bool finite_nonnegative(const double* x, int64_t m) {
  int64_t bad = 0;
  for (int64_t l = 0; l < m; ++l) bad |= !((x[l] >= 0.0) & (x[l] <= DBL_MAX));
  return !bad;
}

// True when every x is in [0, 2^61): no bit above bit 60 (the sign included) in their bitwise
// or. (Stock and display units below 2^61 keep on_hand + display below 2^62.)
bool within_units(const int64_t* x, int64_t m) {
  int64_t bits = 0;
  for (int64_t l = 0; l < m; ++l) bits |= x[l];
  return static_cast<uint64_t>(bits) < (UINT64_C(1) << 61);
}

// Row i of an (n, m) argument as m contiguous values: in place when its locations are adjacent
// (a broadcast per-location row included), else gathered into buf (a broadcast scalar: m copies).
template <class T>
const T* cell_row(const Cells<T>& c, int64_t i, int64_t m, std::vector<T>& buf) {
  if (c.col == 1) return c.p + i * c.row;
  buf.resize(static_cast<size_t>(m));
  for (int64_t l = 0; l < m; ++l) buf[static_cast<size_t>(l)] = c.p[i * c.row + l * c.col];
  return buf.data();
}

// One SKU's cells as the Python layer requires them, checked in the kernel's pass (a separate
// numpy pass over the (n, m) arrays cost a fifth of the call).
bool valid_cells(int64_t m, const double* mu, const double* alpha, const int64_t* on_hand, const int64_t* md) {
  return finite_nonnegative(mu, m) && finite_nonnegative(alpha, m) && within_units(on_hand, m) &&
         (!md || within_units(md, m));
}

void allocate_nb_sku(int64_t m, int64_t supply, const double* mu, const double* alpha, const int64_t* on_hand,
                     const int64_t* min_display, int64_t* out, NbScratch& w) {
  int64_t R = inv::min_display_pass(supply, on_hand, min_display, m, out);
  if (R <= 0) return;
  for (int64_t l = 0; l < m; ++l) w.base[l] = on_hand[l] + out[l];
  if (allocate_nb_fast(m, R, mu, alpha, w.base.data(), out, w.walk)) return;
  for (int64_t l = 0; l < m; ++l) w.loc[l].reset(mu[l], alpha[l]);
  auto units = [&](int64_t l, double q, int64_t from) {
    return w.loc[l].units_above(q, mu[l], alpha[l], w.base[l], from);
  };
  // Bracket the threshold from below: C(u) counts units whose increment 1 - cdf exceeds
  // exp(-u) (q = 1 - exp(-u)). Typical supplies put it near the median, so the ladder of u
  // starts there and only deep-tail thresholds pay for deep-tail walks.
  const double u_max = -std::log(inv::kMinGain);
  double u_lo = 0.0, u_hi = 0.0;  // invariant once set: C(u_lo) <= R < C(u_hi)
  int64_t C_lo = 0, C_hi = 0;
  std::fill(w.c_lo.begin(), w.c_lo.end(), 0);
  for (double u = 0.6931471805599453;; u = std::min(2.0 * u, u_max)) {
    const double q = -std::expm1(-u);
    int64_t C = 0;
    for (int64_t l = 0; l < m; ++l) {
      w.c_mid[l] = units(l, q, w.c_lo[l]);
      C = inv::add_units(C, w.c_mid[l]);
    }
    if (C > R) {
      u_hi = u;
      C_hi = C;
      std::swap(w.c_hi, w.c_mid);
      break;
    }
    u_lo = u;
    C_lo = C;
    std::swap(w.c_lo, w.c_mid);
    if (u >= u_max) {  // supply covers every unit worth shipping; the rest stays at the warehouse
      for (int64_t l = 0; l < m; ++l) out[l] += w.c_lo[l];
      return;
    }
  }
  const int64_t target_width = 8;
  for (int iter = 0; iter < 200 && C_lo < R && C_hi - C_lo > target_width; ++iter) {
    const double width = u_hi - u_lo;
    double u;
    if (iter % 2 == 0) {  // interpolate on the unit counts, kept away from the ends
      const double frac = (static_cast<double>(R - C_lo) + 0.5) / static_cast<double>(C_hi - C_lo);
      u = u_lo + width * std::min(0.95, std::max(0.05, frac));
    } else {
      u = u_lo + 0.5 * width;
    }
    if (!(u > u_lo && u < u_hi)) break;  // out of resolution
    const double q = -std::expm1(-u);
    int64_t C = 0;
    for (int64_t l = 0; l < m; ++l) {
      // Locations whose count is the same at both ends cannot change in between.
      w.c_mid[l] = w.c_lo[l] == w.c_hi[l] ? w.c_lo[l] : units(l, q, w.c_lo[l]);
      C = inv::add_units(C, w.c_mid[l]);
    }
    if (C <= R) {
      u_lo = u;
      C_lo = C;
      std::swap(w.c_lo, w.c_mid);
    } else {
      u_hi = u;
      C_hi = C;
      std::swap(w.c_hi, w.c_mid);
    }
  }
  for (int64_t l = 0; l < m; ++l) out[l] += w.c_lo[l];
  int64_t need = R - C_lo;
  if (need <= 0) return;
  if (C_hi - C_lo > kMaxCandidates) {
    for (int64_t l = 0; l < m && need > 0; ++l) {
      const int64_t take = std::min(need, w.c_hi[l] - w.c_lo[l]);
      out[l] += take;
      need -= take;
    }
    return;
  }
  // The bracket's units, ordered by increment (cdf ascending), ties by location.
  w.cand.clear();
  for (int64_t l = 0; l < m; ++l) {
    for (int64_t k = w.c_lo[l]; k < w.c_hi[l]; ++k) w.cand.emplace_back(w.loc[l].cdf_at(w.base[l] + k, mu[l], alpha[l]), l);
  }
  const auto nth = w.cand.begin() + need;
  std::nth_element(w.cand.begin(), nth - 1, w.cand.end());
  for (auto it = w.cand.begin(); it != nth; ++it) out[it->second] += 1;
}

void allocate_samples_sku(int64_t m, int64_t num, int64_t supply, const int64_t* samples, const int64_t* on_hand,
                          const int64_t* min_display, int64_t* out, std::vector<int64_t>& desc,
                          std::vector<int64_t>& base) {
  int64_t R = inv::min_display_pass(supply, on_hand, min_display, m, out);
  if (R <= 0) return;
  for (int64_t l = 0; l < m; ++l) {
    base[l] = on_hand[l] + out[l];
    int64_t* d = desc.data() + l * num;
    std::copy(samples + l * num, samples + (l + 1) * num, d);
    std::sort(d, d + num, std::greater<int64_t>());
  }
  auto count = [&](int64_t j) {
    int64_t C = 0;
    for (int64_t l = 0; l < m; ++l) C = inv::add_units(C, inv::sample_units_above(desc.data() + l * num, num, j, base[l]));
    return C;
  };
  if (count(0) <= R) {  // every unit with a positive increment fits; the rest stays
    for (int64_t l = 0; l < m; ++l) out[l] += inv::sample_units_above(desc.data() + l * num, num, 0, base[l]);
    return;
  }
  int64_t lo = 0, hi = num;  // C(lo) > R >= C(hi); C(num) = 0
  while (hi - lo > 1) {
    const int64_t mid = lo + (hi - lo) / 2;
    if (count(mid) <= R) hi = mid; else lo = mid;
  }
  int64_t need = R;
  for (int64_t l = 0; l < m; ++l) {
    const int64_t c = inv::sample_units_above(desc.data() + l * num, num, hi, base[l]);
    out[l] += c;
    need -= c;
  }
  // Units whose increment is exactly hi / N: lowest location first.
  for (int64_t l = 0; l < m && need > 0; ++l) {
    const int64_t* d = desc.data() + l * num;
    const int64_t tied = inv::sample_units_above(d, num, lo, base[l]) - inv::sample_units_above(d, num, hi, base[l]);
    const int64_t take = std::min(need, tied);
    out[l] += take;
    need -= take;
  }
}

}  // namespace

int64_t allocate_nb(int64_t n, int64_t m, const int64_t* supply, const double* mu, Cells<double> alpha,
                    Cells<int64_t> on_hand, Cells<int64_t> min_display, int64_t* out) {
  std::atomic<int64_t> first_bad{-1};
  parallel_for(n, kGrain, [&](int64_t begin, int64_t end) {
    NbScratch w;
    w.resize(m);
    std::vector<double> alpha_row;
    std::vector<int64_t> on_hand_row, display_row;
    for (int64_t i = begin; i < end; ++i) {
      const double* al = cell_row(alpha, i, m, alpha_row);
      const int64_t* oh = cell_row(on_hand, i, m, on_hand_row);
      const int64_t* md = min_display.p ? cell_row(min_display, i, m, display_row) : nullptr;
      if (!valid_cells(m, mu + i * m, al, oh, md)) {
        keep_first_index(first_bad, i);
        return;  // the call fails: the rest of this chunk is not needed
      }
      allocate_nb_sku(m, supply[i], mu + i * m, al, oh, md, out + i * m, w);
    }
  });
  return first_bad.load();
}

void allocate_samples(int64_t n, int64_t m, int64_t num, const int64_t* supply, const int64_t* samples,
                      const int64_t* on_hand, const int64_t* min_display, int64_t* out) {
  parallel_for(n, kGrain, [&](int64_t begin, int64_t end) {
    std::vector<int64_t> desc(static_cast<size_t>(m * num)), base(static_cast<size_t>(m));
    for (int64_t i = begin; i < end; ++i) {
      allocate_samples_sku(m, num, supply[i], samples + i * m * num, on_hand + i * m,
                           min_display ? min_display + i * m : nullptr, out + i * m, desc, base);
    }
  });
}

}  // namespace cpu
}  // namespace skucast
