// CPU loops of optimize_targets / efficient_frontier (issue 7): a threshold search on the gain
// per dollar lambda. For a lambda every SKU's level is a cdf inversion (no unit-by-unit loop);
// lambda is bracketed in log space until the units between the two ends of the bracket are few,
// and those are handed out in decreasing gain per dollar (ties: lowest SKU index first).
// Sums over SKUs go through fixed blocks, so results do not depend on the thread count.
#include <algorithm>
#include <cmath>
#include <limits>
#include <tuple>
#include <vector>

#include "skucast/core/threads.h"
#include "skucast/cpu/inventory_kernels.h"
#include "skucast/inventory/targets.h"

namespace skucast {
namespace cpu {
namespace {

constexpr int64_t kBlock = 4096;
// Stop narrowing the bracket when it holds at most this many units.
constexpr int64_t kMaxCandidates = 1 << 15;

struct NbModel {
  const double* mu;
  const double* alpha;
  int64_t units(int64_t i, double t) const { return inv::nb_units_gain_above(t, mu[i], alpha[i]); }
  double filled(int64_t i, int64_t S) const { return inv::nb_expected_filled(S, mu[i], alpha[i]); }
  double gain(int64_t i, int64_t k) const {
    return mu[i] > 0.0 ? nb::sf(static_cast<double>(k), mu[i], alpha[i]) : 0.0;
  }
  double mean(int64_t i) const { return mu[i]; }
};

struct SampleModel {
  const int64_t* asc;    // (n, num) sorted ascending
  const double* prefix;  // (n, num + 1)
  int64_t num;
  int64_t units(int64_t i, double t) const { return inv::sample_units_gain_above(t, asc + i * num, num); }
  double filled(int64_t i, int64_t S) const {
    return inv::sample_expected_filled(S, asc + i * num, prefix + i * (num + 1), num);
  }
  double gain(int64_t i, int64_t k) const { return inv::sample_gain(k, asc + i * num, num); }
  double mean(int64_t i) const { return prefix[i * (num + 1) + num] / static_cast<double>(num); }
};

struct PassSums {
  double metric = 0.0;
  double units = 0.0;  // (a count, summed in double: levels up to 2^62 over many SKUs pass int64)
};

template <class Model>
struct Solver {
  const Model& M;
  const TargetsArgs& a;
  int64_t b = 0, m = 0;  // group [b, b + m)
  std::vector<int64_t> s_lo, s_hi, s_mid;
  std::vector<double> f_lo, f_hi, f_mid;
  std::vector<double> part_metric;
  std::vector<double> part_units;
  // Ends of the bracket of the last group solved (the frontier reuses them across points).
  int64_t cached_begin = -1, cached_size = -1;
  std::vector<int64_t> c_s_lo, c_s_hi;
  std::vector<double> c_f_lo, c_f_hi;
  PassSums end_lo, end_hi;

  Solver(const Model& model, const TargetsArgs& args) : M(model), a(args) {}

  int64_t level(int64_t i, double lam) const {
    int64_t k = M.units(i, lam * a.cost[i]);
    if (a.cap[i] >= 0 && k > a.cap[i]) k = a.cap[i];
    if (k < a.floor[i]) k = a.floor[i];
    return k;
  }

  // Levels at lam into S (and expected filled into f in fill mode); with `skip`, SKUs whose levels
  // agree at both ends of the bracket keep them.
  PassSums pass(double lam, bool skip, std::vector<int64_t>& S, std::vector<double>& f) {
    const int64_t nblocks = (m + kBlock - 1) / kBlock;
    part_metric.assign(static_cast<size_t>(nblocks), 0.0);
    part_units.assign(static_cast<size_t>(nblocks), 0.0);
    const bool fill = a.mode == 1;
    parallel_for(nblocks, 1, [&](int64_t b0, int64_t b1) {
      for (int64_t blk = b0; blk < b1; ++blk) {
        double metric = 0.0, units = 0.0;
        const int64_t end = std::min(m, (blk + 1) * kBlock);
        for (int64_t j = blk * kBlock; j < end; ++j) {
          const int64_t i = b + j;
          int64_t k;
          if (skip && s_lo[j] == s_hi[j]) {
            k = s_lo[j];
            if (fill) f[j] = f_lo[j];
          } else {
            k = level(i, lam);
            if (fill) f[j] = M.filled(i, k);
          }
          S[j] = k;
          units += static_cast<double>(k);
          metric += fill ? f[j] : a.cost[i] * static_cast<double>(k);
        }
        part_metric[blk] = metric;
        part_units[blk] = units;
      }
    });
    PassSums out;
    for (int64_t blk = 0; blk < nblocks; ++blk) {
      out.metric += part_metric[blk];
      out.units += part_units[blk];
    }
    return out;
  }

  // Block sums of a per-SKU function of the final levels.
  template <class F>
  double block_sum(F fn) {
    const int64_t nblocks = (m + kBlock - 1) / kBlock;
    part_metric.assign(static_cast<size_t>(nblocks), 0.0);
    parallel_for(nblocks, 1, [&](int64_t b0, int64_t b1) {
      for (int64_t blk = b0; blk < b1; ++blk) {
        double acc = 0.0;
        const int64_t end = std::min(m, (blk + 1) * kBlock);
        for (int64_t j = blk * kBlock; j < end; ++j) acc += fn(j);
        part_metric[blk] = acc;
      }
    });
    double s = 0.0;
    for (double v : part_metric) s += v;
    return s;
  }

  // A bracket that could not be narrowed below kMaxCandidates units: its units share one gain per
  // dollar to the last bits of lambda (e.g. every unit below a SKU's smallest sample has gain 1),
  // so they go by SKU, then unit, as the candidates' sort orders ties, a SKU's range at a time
  // rather than one entry per unit (1e9 tied units took 24 GB). From s_hi (metric hi_metric)
  // towards s_lo; returns the gain per dollar of the last unit given (else `lam`).
  double hand_out_ties(bool fill, double target, double hi_metric, double lam) {
    double cur = hi_metric, room = target - hi_metric;
    for (int64_t j = 0; j < m; ++j) {
      const int64_t i = b + j, first = s_hi[j], last = s_lo[j];
      if (first >= last) continue;
      int64_t k = last;  // the new level
      if (fill) {
        if (cur >= target) break;
        if (cur + (f_lo[j] - f_hi[j]) >= target) {  // the smallest level in (first, last] reaching it
          int64_t lo_k = first, hi_k = last;
          while (hi_k - lo_k > 1) {
            const int64_t mid = lo_k + (hi_k - lo_k) / 2;
            if (cur + (M.filled(i, mid) - f_hi[j]) >= target) hi_k = mid; else lo_k = mid;
          }
          k = hi_k;
          cur += M.filled(i, k) - f_hi[j];
        } else {
          cur += f_lo[j] - f_hi[j];
        }
      } else {
        const double c = a.cost[i];
        double fit = std::floor(room / c);
        if (fit > static_cast<double>(last - first)) fit = static_cast<double>(last - first);
        if (!(fit >= 1.0)) continue;
        int64_t units = static_cast<int64_t>(fit);
        if (static_cast<double>(units) * c > room) --units;  // (room / c rounded up)
        if (units < 1) continue;
        k = first + units;
        room -= static_cast<double>(units) * c;
      }
      s_hi[j] = k;
      lam = M.gain(i, k - 1) / a.cost[i];
    }
    return lam;
  }

  // Solves group [begin, begin + size) for `goal`; writes levels to out[0..size) and the stats.
  void solve(int64_t begin, int64_t size, double goal, int64_t* out, double* st) {
    b = begin;
    m = size;
    for (auto* v : {&s_lo, &s_hi, &s_mid}) v->assign(static_cast<size_t>(m), 0);
    const bool fill = a.mode == 1;
    for (auto* v : {&f_lo, &f_hi, &f_mid}) v->assign(fill ? static_cast<size_t>(m) : 0, 0.0);
    const double demand = block_sum([&](int64_t j) { return M.mean(b + j); });
    double c_min = std::numeric_limits<double>::infinity(), c_max = 0.0;
    for (int64_t j = 0; j < m; ++j) {
      c_min = std::min(c_min, a.cost[b + j]);
      c_max = std::max(c_max, a.cost[b + j]);
    }
    double lam_out = 0.0;
    int status = 0;
    std::vector<int64_t>* final_S = &s_hi;
    if (m > 0) {
      // lo end: every unit worth stocking (gain > kTargetsMinGain); hi end: the floors.
      double u_lo = std::log(inv::kTargetsMinGain / c_max), u_hi = std::log(1.0 / c_min);
      // The two ends do not depend on the goal: computed once per group, reused by every point.
      if (cached_begin != b || cached_size != m) {
        c_s_lo.assign(static_cast<size_t>(m), 0);
        c_s_hi.assign(static_cast<size_t>(m), 0);
        c_f_lo.assign(fill ? static_cast<size_t>(m) : 0, 0.0);
        c_f_hi.assign(fill ? static_cast<size_t>(m) : 0, 0.0);
        end_lo = pass(std::exp(u_lo), false, c_s_lo, c_f_lo);
        end_hi = pass(std::exp(u_hi), false, c_s_hi, c_f_hi);
        cached_begin = b;
        cached_size = m;
      }
      PassSums lo = end_lo, hi = end_hi;
      s_lo = c_s_lo;
      s_hi = c_s_hi;
      if (fill) {
        f_lo = c_f_lo;
        f_hi = c_f_hi;
      }
      const double target = fill ? goal * demand : goal;
      // "lo-type": too many units for the budget / enough for the fill target.
      auto lo_type = [&](double metric) { return fill ? metric >= target : metric > target; };
      if (!fill && hi.metric > target) {
        status = 1;
        final_S = &s_hi;
        lam_out = std::exp(u_hi);
      } else if (!fill && !lo_type(lo.metric)) {
        status = 2;
        final_S = &s_lo;
        lam_out = std::exp(u_lo);
      } else if (fill && lo.metric < target) {
        status = 1;
        final_S = &s_lo;
        lam_out = std::exp(u_lo);
      } else if (fill && hi.metric >= target) {
        status = 2;
        final_S = &s_hi;
        lam_out = std::exp(u_hi);
      } else {
        for (int iter = 0; iter < 200 && lo.units - hi.units > kMaxCandidates; ++iter) {
          const double width = u_hi - u_lo;
          double u;
          if (iter % 2 == 0) {  // interpolate on the metric, kept away from the ends
            const double frac = (lo.metric - target) / (lo.metric - hi.metric);
            u = u_lo + width * std::min(0.9, std::max(0.1, frac));
          } else {
            u = u_lo + 0.5 * width;
          }
          if (!(u > u_lo && u < u_hi)) break;  // out of resolution: the rest are ties
          PassSums mid = pass(std::exp(u), true, s_mid, f_mid);
          if (lo_type(mid.metric)) {
            u_lo = u;
            lo = mid;
            std::swap(s_lo, s_mid);
            std::swap(f_lo, f_mid);
          } else {
            u_hi = u;
            hi = mid;
            std::swap(s_hi, s_mid);
            std::swap(f_hi, f_mid);
          }
        }
        if (lo.units - hi.units > kMaxCandidates) {
          lam_out = hand_out_ties(fill, target, hi.metric, std::exp(u_hi));
        } else {
          // Units of the bracket, by decreasing gain per dollar; ties by SKU then unit.
          std::vector<std::tuple<double, int64_t, int64_t>> cand;
          cand.reserve(static_cast<size_t>(lo.units - hi.units));
          for (int64_t j = 0; j < m; ++j) {
            const int64_t i = b + j;
            for (int64_t k = s_hi[j]; k < s_lo[j]; ++k) cand.emplace_back(-M.gain(i, k) / a.cost[i], j, k);
          }
          std::sort(cand.begin(), cand.end());
          lam_out = std::exp(u_hi);
          if (fill) {
            double cur = hi.metric;
            for (const auto& c : cand) {
              if (cur >= target) break;
              const int64_t j = std::get<1>(c);
              s_hi[j] += 1;
              cur += -std::get<0>(c) * a.cost[b + j];
              lam_out = -std::get<0>(c);
            }
          } else {
            double room = target - hi.metric;
            std::vector<unsigned char> blocked;
            for (const auto& c : cand) {
              const int64_t j = std::get<1>(c);
              const double cj = a.cost[b + j];
              if (!blocked.empty() && blocked[j]) continue;
              if (s_hi[j] != std::get<2>(c)) continue;  // an earlier unit of this SKU was blocked
              if (cj <= room) {
                s_hi[j] += 1;
                room -= cj;
                lam_out = -std::get<0>(c);
              } else {
                if (blocked.empty()) blocked.assign(static_cast<size_t>(m), 0);
                blocked[j] = 1;
              }
            }
          }
        }
        final_S = &s_hi;
      }
    }
    const std::vector<int64_t>& S = *final_S;
    if (out) std::copy(S.begin(), S.end(), out);
    st[kStatSpent] = block_sum([&](int64_t j) { return a.cost[b + j] * static_cast<double>(S[j]); });
    st[kStatFilled] = block_sum([&](int64_t j) { return M.filled(b + j, S[j]); });
    st[kStatDemand] = demand;
    st[kStatLambda] = lam_out;
    st[kStatStatus] = status;
  }
};

template <class Model>
void run_all(const Model& model, const TargetsArgs& a, int64_t n_points, const double* goals, int64_t* levels,
             double* stats) {
  Solver<Model> solver(model, a);
  std::vector<int64_t> scratch;
  for (int64_t p = 0; p < n_points; ++p) {
    for (int64_t g = 0; g < a.n_groups; ++g) {
      const int64_t begin = a.group_offsets[g], end = a.group_offsets[g + 1];
      int64_t* out = levels ? levels + p * a.n + begin : nullptr;
      solver.solve(begin, end - begin, goals[p * a.n_groups + g], out, stats + (p * a.n_groups + g) * kTargetsStats);
    }
  }
}

}  // namespace

void optimize_targets(const TargetsArgs& a, int64_t n_points, const double* goals, int64_t* levels, double* stats) {
  if (a.samples) {
    const int64_t n = a.n, num = a.num;
    std::vector<int64_t> asc(static_cast<size_t>(n * num));
    std::vector<double> prefix(static_cast<size_t>(n * (num + 1)));
    parallel_for(n, 256, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) {
        int64_t* d = asc.data() + i * num;
        std::copy(a.samples + i * num, a.samples + (i + 1) * num, d);
        std::sort(d, d + num);
        double* P = prefix.data() + i * (num + 1);
        P[0] = 0.0;
        for (int64_t j = 0; j < num; ++j) P[j + 1] = P[j] + static_cast<double>(d[j]);
      }
    });
    run_all(SampleModel{asc.data(), prefix.data(), num}, a, n_points, goals, levels, stats);
  } else {
    run_all(NbModel{a.mu, a.alpha}, a, n_points, goals, levels, stats);
  }
}

}  // namespace cpu
}  // namespace skucast
