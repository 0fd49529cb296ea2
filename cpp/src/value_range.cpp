// value_range: min, max, NaN and non-whole flags of a contiguous array in one memory pass.
#include <cmath>
#include <mutex>

#include "skucast/core/threads.h"
#include "skucast/cpu/kernels.h"

namespace skucast {
namespace cpu {
namespace {

constexpr int64_t kGrain = INT64_C(1) << 16;
constexpr int kLanes = 8;  // independent accumulators: the compiler keeps them in vector registers

template <class T>
ValueRange range_of(const T* x, int64_t n) {
  ValueRange total;
  bool any = false;
  std::mutex merge;
  parallel_for(n, kGrain, [&](int64_t begin, int64_t end) {
    T lo[kLanes], hi[kLanes];
    bool odd[kLanes] = {};  // NaN (x != x) or fractional (x != floor(x)); both only for floats
    bool nan[kLanes] = {};
    for (int j = 0; j < kLanes; ++j) lo[j] = hi[j] = x[begin];
    int64_t i = begin;
    for (; i + kLanes <= end; i += kLanes) {
      for (int j = 0; j < kLanes; ++j) {
        const T v = x[i + j];
        lo[j] = v < lo[j] ? v : lo[j];
        hi[j] = v > hi[j] ? v : hi[j];
        if constexpr (std::is_floating_point_v<T>) {
          nan[j] |= v != v;
          odd[j] |= v != std::floor(v);
        }
      }
    }
    for (; i < end; ++i) {
      const T v = x[i];
      lo[0] = v < lo[0] ? v : lo[0];
      hi[0] = v > hi[0] ? v : hi[0];
      if constexpr (std::is_floating_point_v<T>) {
        nan[0] |= v != v;
        odd[0] |= v != std::floor(v);
      }
    }
    ValueRange part;
    T mn = lo[0], mx = hi[0];
    for (int j = 1; j < kLanes; ++j) {
      mn = lo[j] < mn ? lo[j] : mn;
      mx = hi[j] > mx ? hi[j] : mx;
      part.nan |= nan[j];
      part.fractional |= odd[j];
    }
    part.nan |= nan[0];
    part.fractional |= odd[0];
    std::lock_guard<std::mutex> lock(merge);
    if constexpr (std::is_floating_point_v<T>) {
      total.min = !any || mn < total.min ? mn : total.min;
      total.max = !any || mx > total.max ? mx : total.max;
    } else {
      total.int_min = !any || mn < total.int_min ? mn : total.int_min;
      total.int_max = !any || mx > total.int_max ? mx : total.int_max;
    }
    total.nan |= part.nan;
    total.fractional |= part.fractional;
    any = true;
  });
  if constexpr (std::is_floating_point_v<T>) {
    total.int_min = 0;
    total.int_max = 0;
    // NaN compares false with everything, so min/max may have skipped it: the flag reports it
    total.fractional |= total.nan;
  } else {
    total.min = static_cast<double>(total.int_min);
    total.max = static_cast<double>(total.int_max);
  }
  return total;
}

}  // namespace

ValueRange value_range(const void* data, DType dtype, int64_t n) {
  if (n <= 0) return ValueRange{};
  switch (dtype) {
    case DType::f32: return range_of(static_cast<const float*>(data), n);
    case DType::f64: return range_of(static_cast<const double*>(data), n);
    case DType::i32: return range_of(static_cast<const int32_t*>(data), n);
    default: return range_of(static_cast<const int64_t*>(data), n);
  }
}

}  // namespace cpu
}  // namespace skucast
