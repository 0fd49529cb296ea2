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
    bool nan[kLanes] = {}, odd[kLanes] = {};  // floats: x != x, and x != floor(x) (NaN included)
    for (int j = 0; j < kLanes; ++j) lo[j] = hi[j] = x[begin];
    auto take = [&](int j, T v) {
      lo[j] = v < lo[j] ? v : lo[j];
      hi[j] = v > hi[j] ? v : hi[j];
      if constexpr (std::is_floating_point_v<T>) {
        nan[j] |= v != v;
        odd[j] |= v != std::floor(v);
      }
    };
    int64_t i = begin;
    for (; i + kLanes <= end; i += kLanes)
      for (int j = 0; j < kLanes; ++j) take(j, x[i + j]);
    for (; i < end; ++i) take(0, x[i]);
    T mn = lo[0], mx = hi[0];
    bool any_nan = false, any_odd = false;
    for (int j = 0; j < kLanes; ++j) {
      mn = lo[j] < mn ? lo[j] : mn;
      mx = hi[j] > mx ? hi[j] : mx;
      any_nan |= nan[j];
      any_odd |= odd[j];
    }
    std::lock_guard<std::mutex> lock(merge);
    if constexpr (std::is_floating_point_v<T>) {
      total.min = !any || mn < total.min ? mn : total.min;
      total.max = !any || mx > total.max ? mx : total.max;
    } else {
      total.int_min = !any || mn < total.int_min ? mn : total.int_min;
      total.int_max = !any || mx > total.int_max ? mx : total.int_max;
    }
    total.nan |= any_nan;
    total.fractional |= any_odd;
    any = true;
  });
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
