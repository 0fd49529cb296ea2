// Sums over sample paths on the GPU: one thread per output element, adding in the same order
// as the CPU loop (no atomics), so results are deterministic and equal the CPU's bit for bit.
#include <type_traits>

#include "common.cuh"
#include "skucast/core/sum_types.h"

namespace skucast {
namespace gpu {
namespace {

using namespace detail;

template <class T>
using Acc = SumAcc<T>;
template <class T>
using Out = SumOut<T>;

// Output (series, m1, m2): thread (r, j) sums data[r, start[s] + t, j] for t < length[s].
template <class T>
__global__ void window_sum_kernel(const T* data, int64_t m1, int64_t horizon, int64_t m2, const int64_t* start,
                                  const int64_t* length, Out<T>* out, int64_t total) {
  for (int64_t t = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; t < total; t += int64_t(gridDim.x) * blockDim.x) {
    const int64_t r = t / m2, j = t - r * m2, s = r / m1;
    const T* base = data + r * horizon * m2 + start[s] * m2 + j;
    const int64_t len = length[s];
    Acc<T> sum = 0;
    for (int64_t k = 0; k < len; ++k) sum += base[k * m2];
    out[t] = static_cast<Out<T>>(sum);
  }
}

// One thread per column, summing the series in order into every group's row of that column,
// in the accumulator type (double for float32: a scratch array, rounded into out after).
template <class T>
__global__ void group_sum_kernel(const T* data, int64_t n, int64_t cols, const int64_t* group_ids, int64_t num_groups,
                                 Acc<T>* acc) {
  for (int64_t c = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; c < cols; c += int64_t(gridDim.x) * blockDim.x) {
    for (int64_t g = 0; g < num_groups; ++g) acc[g * cols + c] = Acc<T>(0);
    for (int64_t i = 0; i < n; ++i) acc[group_ids[i] * cols + c] += data[i * cols + c];
  }
}

template <class T>
__global__ void round_sums_kernel(const Acc<T>* acc, int64_t total, Out<T>* out) {
  for (int64_t t = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; t < total; t += int64_t(gridDim.x) * blockDim.x)
    out[t] = static_cast<Out<T>>(acc[t]);
}

__global__ void check_windows_kernel(const int64_t* start, const int64_t* length, int64_t series, int64_t horizon,
                                     unsigned long long* bad) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < series; i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t s = start[i], l = length[i];
    if (s < 0) report_bad(bad + 0, i, 0);
    if (l < 0) report_bad(bad + 1, i, 0);
    if (s + l > horizon) report_bad(bad + 2, i, 0);
  }
}

__global__ void check_group_ids_kernel(const int64_t* ids, int64_t n, int64_t num_groups, unsigned long long* bad) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    if (ids[i] < 0 || ids[i] >= num_groups) report_bad(bad, i, 0);
}

}  // namespace

void check_windows(const int64_t* start, const int64_t* length, int64_t series, int64_t horizon, int64_t first_bad[3],
                   uintptr_t stream) {
  for (int k = 0; k < 3; ++k) first_bad[k] = -1;
  if (series == 0) return;
  DeviceGuard guard(start);
  const cudaStream_t s = as_stream(stream);
  BadSlots bad(s, 3);
  check_windows_kernel<<<grid_for(series), kThreads, 0, s>>>(start, length, series, horizon, bad.get());
  check_launch();
  BadValue found[3];
  bad.read(s, found);
  for (int k = 0; k < 3; ++k) first_bad[k] = found[k].found() ? found[k].flat : -1;
}

int64_t check_group_ids(const int64_t* group_ids, int64_t n, int64_t num_groups, uintptr_t stream) {
  if (n == 0) return -1;
  DeviceGuard guard(group_ids);
  const cudaStream_t s = as_stream(stream);
  BadSlots bad(s);
  check_group_ids_kernel<<<grid_for(n), kThreads, 0, s>>>(group_ids, n, num_groups, bad.get());
  check_launch();
  const BadValue b = bad.read(s);
  return b.found() ? b.flat : -1;
}

void window_sum(const void* data, DType dtype, int64_t series, int64_t m1, int64_t horizon, int64_t m2,
                const int64_t* start, const int64_t* length, void* out, uintptr_t stream) {
  const int64_t total = series * m1 * m2;
  if (total == 0) return;
  DeviceGuard guard(out);
  const cudaStream_t s = as_stream(stream);
  visit_dtype(dtype, [&](auto tag) {
    using T = decltype(tag);
    window_sum_kernel<T><<<grid_for(total), kThreads, 0, s>>>(static_cast<const T*>(data), m1, horizon, m2, start,
                                                              length, static_cast<Out<T>*>(out), total);
    check_launch();
  });
}

void group_sum(const void* data, DType dtype, int64_t n, int64_t cols, const int64_t* group_ids, int64_t num_groups,
               void* out, uintptr_t stream) {
  if (cols == 0 || num_groups == 0) return;
  DeviceGuard guard(out);
  const cudaStream_t s = as_stream(stream);
  visit_dtype(dtype, [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_same_v<Acc<T>, Out<T>>) {
      group_sum_kernel<T><<<grid_for(cols), kThreads, 0, s>>>(static_cast<const T*>(data), n, cols, group_ids,
                                                              num_groups, static_cast<Out<T>*>(out));
      check_launch();
    } else {
      const int64_t total = num_groups * cols;
      Scratch<Acc<T>> acc(static_cast<size_t>(total), s);
      group_sum_kernel<T><<<grid_for(cols), kThreads, 0, s>>>(static_cast<const T*>(data), n, cols, group_ids,
                                                              num_groups, acc.get());
      check_launch();
      round_sums_kernel<T><<<grid_for(total), kThreads, 0, s>>>(acc.get(), total, static_cast<Out<T>*>(out));
      check_launch();
    }
  });
}

}  // namespace gpu
}  // namespace skucast
