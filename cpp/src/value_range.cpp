// value_range: min, max, NaN and non-whole flags of a contiguous array in one memory pass.
#include <mutex>

#include "skucast/core/threads.h"
#include "skucast/cpu/kernels.h"
#include "skucast/cpu/range_accumulator.h"

namespace skucast {
namespace cpu {
namespace {

constexpr int64_t kGrain = INT64_C(1) << 16;

template <class T>
ValueRange range_of(const T* x, int64_t n) {
  RangeAccumulator<T> total;
  std::mutex merge;
  parallel_for(n, kGrain, [&](int64_t begin, int64_t end) {
    RangeAccumulator<T> part;
    part.add(x + begin, end - begin);
    std::lock_guard<std::mutex> lock(merge);
    total.merge(part);
  });
  return total.result();
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
