// Sums over sample paths: lead-time windows per series (window_sum) and hierarchy groups
// (group_sum). Both read each input element at most once, in memory order.
#include <algorithm>
#include <vector>
#include <type_traits>

#include "skucast/core/threads.h"
#include "skucast/cpu/kernels.h"

namespace skucast {
namespace cpu {
namespace {

// Accumulate floats in double (then round once) and integers in int64.
template <class T>
using Acc = std::conditional_t<std::is_integral_v<T>, int64_t, double>;
template <class T>
using Out = std::conditional_t<std::is_integral_v<T>, int64_t, T>;

template <class F>
void dispatch(DType dtype, F&& f) {
  switch (dtype) {
    case DType::f32: f(float{}); break;
    case DType::f64: f(double{}); break;
    case DType::i32: f(int32_t{}); break;
    default: f(int64_t{}); break;
  }
}

template <class T>
void window_sum_typed(const T* data, int64_t series, int64_t m1, int64_t horizon, int64_t m2, const int64_t* start,
                      const int64_t* length, Out<T>* out) {
  const int64_t rows = series * m1;  // one (series, m1) row: horizon x m2 values
  const int64_t row_cost = std::max<int64_t>(1, horizon * m2);
  const int64_t grain = std::max<int64_t>(1, 32768 / row_cost);
  parallel_for(rows, grain, [&](int64_t r0, int64_t r1) {
    std::vector<Acc<T>> acc(static_cast<size_t>(m2));
    for (int64_t r = r0; r < r1; ++r) {
      const int64_t s = r / m1;
      const T* base = data + r * horizon * m2 + start[s] * m2;
      const int64_t len = length[s];
      Out<T>* dst = out + r * m2;
      if (m2 == 1) {
        // Four running sums: short windows are bound by add latency, not memory, otherwise.
        Acc<T> s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        int64_t t = 0;
        for (; t + 4 <= len; t += 4) {
          s0 += base[t];
          s1 += base[t + 1];
          s2 += base[t + 2];
          s3 += base[t + 3];
        }
        for (; t < len; ++t) s0 += base[t];
        dst[0] = static_cast<Out<T>>((s0 + s1) + (s2 + s3));
      } else {
        std::fill(acc.begin(), acc.end(), Acc<T>(0));
        for (int64_t t = 0; t < len; ++t) {
          const T* day = base + t * m2;
          for (int64_t j = 0; j < m2; ++j) acc[j] += day[j];
        }
        for (int64_t j = 0; j < m2; ++j) dst[j] = static_cast<Out<T>>(acc[j]);
      }
    }
  });
}

template <class T>
void group_sum_typed(const T* data, int64_t n, int64_t cols, const int64_t* group_ids, int64_t num_groups,
                     Out<T>* out) {
  // Threads own disjoint column blocks, so every output element is summed by one thread in
  // series order: the result is the same for any thread count.
  constexpr int64_t kBlock = 1024;
  const int64_t blocks = (cols + kBlock - 1) / kBlock;
  parallel_for(blocks, 1, [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      const int64_t c0 = b * kBlock, c1 = std::min(cols, c0 + kBlock);
      for (int64_t i = 0; i < n; ++i) {
        Out<T>* dst = out + group_ids[i] * cols;
        const T* src = data + i * cols;
        for (int64_t c = c0; c < c1; ++c) dst[c] += src[c];
      }
    }
  });
}

}  // namespace

void window_sum(const void* data, DType dtype, int64_t series, int64_t m1, int64_t horizon, int64_t m2,
                const int64_t* start, const int64_t* length, void* out) {
  dispatch(dtype, [&](auto tag) {
    using T = decltype(tag);
    window_sum_typed(static_cast<const T*>(data), series, m1, horizon, m2, start, length, static_cast<Out<T>*>(out));
  });
}

void group_sum(const void* data, DType dtype, int64_t n, int64_t cols, const int64_t* group_ids, int64_t num_groups,
               void* out) {
  dispatch(dtype, [&](auto tag) {
    using T = decltype(tag);
    group_sum_typed(static_cast<const T*>(data), n, cols, group_ids, num_groups, static_cast<Out<T>*>(out));
  });
}

}  // namespace cpu
}  // namespace skucast
