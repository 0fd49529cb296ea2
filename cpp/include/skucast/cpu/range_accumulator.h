// Min, max, NaN and non-whole flags over blocks of values: value_range's accumulator, also run
// by window_sum over each series' block while it is in cache (the samples' range check of
// order_up_to(samples=...) then costs no pass of its own).
#pragma once
#include <cmath>
#include <cstdint>
#include <type_traits>

#include "skucast/cpu/kernels.h"

namespace skucast {
namespace cpu {

template <class T>
struct RangeAccumulator {
  T lo{}, hi{};
  bool nan = false, fractional = false;  // floats: x != x, and x != floor(x) (NaN included)
  bool any = false;

  // Adds x[0, n), with kLanes independent accumulators (the compiler keeps them in vector registers).
  void add(const T* x, int64_t n) {
    if (n <= 0) return;
    constexpr int kLanes = 8;
    T lo_l[kLanes], hi_l[kLanes];
    bool nan_l[kLanes] = {}, odd_l[kLanes] = {};
    for (int j = 0; j < kLanes; ++j) lo_l[j] = hi_l[j] = x[0];
    auto take = [&](int j, T v) {
      lo_l[j] = v < lo_l[j] ? v : lo_l[j];
      hi_l[j] = v > hi_l[j] ? v : hi_l[j];
      if constexpr (std::is_floating_point_v<T>) {
        nan_l[j] |= v != v;
        odd_l[j] |= v != std::floor(v);
      }
    };
    int64_t i = 0;
    for (; i + kLanes <= n; i += kLanes)
      for (int j = 0; j < kLanes; ++j) take(j, x[i + j]);
    for (; i < n; ++i) take(0, x[i]);
    RangeAccumulator block;
    block.lo = lo_l[0], block.hi = hi_l[0], block.any = true;
    for (int j = 0; j < kLanes; ++j) {
      block.lo = lo_l[j] < block.lo ? lo_l[j] : block.lo;
      block.hi = hi_l[j] > block.hi ? hi_l[j] : block.hi;
      block.nan |= nan_l[j];
      block.fractional |= odd_l[j];
    }
    merge(block);
  }

  void merge(const RangeAccumulator& o) {
    if (!o.any) return;
    lo = !any || o.lo < lo ? o.lo : lo;
    hi = !any || o.hi > hi ? o.hi : hi;
    nan |= o.nan;
    fractional |= o.fractional;
    any = true;
  }

  ValueRange result() const {
    ValueRange r;
    if constexpr (std::is_floating_point_v<T>) {
      r.min = lo, r.max = hi;
    } else {
      r.int_min = lo, r.int_max = hi;
    }
    r.nan = nan, r.fractional = fractional;
    return r;
  }
};

}  // namespace cpu
}  // namespace skucast
