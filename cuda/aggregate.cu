// Sums over sample paths on the GPU: one thread per output element, adding in the same order
// as the CPU loop (no atomics), so results are deterministic and equal the CPU's bit for bit.
#include <cub/device/device_radix_sort.cuh>

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

// Group sums: the series are listed group by group (a stable sort of the ids, so each group's
// series stay in ascending order), then one thread per (group, column) adds its group's series
// in that order in the accumulator type: the CPU's order, so the sums are equal bit for bit,
// with no atomics and no scratch rows. A warp covers consecutive columns of one series at a
// time, so its loads are coalesced.
__global__ void iota_kernel(int64_t* x, int64_t n) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    x[i] = i;
}

// offsets[g] = the first position of group g in the sorted ids (g = 0..num_groups).
__global__ void group_offsets_kernel(const int64_t* sorted_ids, int64_t n, int64_t num_groups, int64_t* offsets) {
  for (int64_t g = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; g <= num_groups;
       g += int64_t(gridDim.x) * blockDim.x) {
    int64_t lo = 0, hi = n;
    while (lo < hi) {
      const int64_t mid = lo + (hi - lo) / 2;
      if (sorted_ids[mid] < g)
        lo = mid + 1;
      else
        hi = mid;
    }
    offsets[g] = lo;
  }
}

template <class T>
__global__ void group_sum_kernel(const T* data, int64_t cols, const int64_t* members, const int64_t* offsets,
                                 int64_t num_groups, Out<T>* out) {
  constexpr int kAhead = 4;  // loads in flight per thread; the adds stay in order
  const int64_t total = num_groups * cols;
  for (int64_t t = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; t < total; t += int64_t(gridDim.x) * blockDim.x) {
    const int64_t g = t / cols, c = t - g * cols;
    const int64_t end = offsets[g + 1];
    int64_t k = offsets[g];
    Acc<T> sum = 0;
    for (; k + kAhead <= end; k += kAhead) {
      T v[kAhead];
#pragma unroll
      for (int a = 0; a < kAhead; ++a) v[a] = data[members[k + a] * cols + c];
#pragma unroll
      for (int a = 0; a < kAhead; ++a) sum += v[a];
    }
    for (; k < end; ++k) sum += data[members[k] * cols + c];
    out[t] = static_cast<Out<T>>(sum);
  }
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
  // The ids were checked to lie in [0, num_groups): the sort needs only their low bits.
  int end_bit = 1;
  while (end_bit < 63 && (int64_t(1) << end_bit) < num_groups) ++end_bit;
  Scratch<int64_t> sorted_ids(static_cast<size_t>(n), s), order(static_cast<size_t>(n), s),
      members(static_cast<size_t>(n), s), offsets(static_cast<size_t>(num_groups + 1), s);
  if (n > 0) {
    iota_kernel<<<grid_for(n), kThreads, 0, s>>>(order.get(), n);
    check_launch();
    size_t temp_bytes = 0;
    CUDA_CHECK(cub::DeviceRadixSort::SortPairs(nullptr, temp_bytes, group_ids, sorted_ids.get(), order.get(),
                                               members.get(), n, 0, end_bit, s));
    Scratch<unsigned char> temp(temp_bytes, s);
    CUDA_CHECK(cub::DeviceRadixSort::SortPairs(temp.get(), temp_bytes, group_ids, sorted_ids.get(), order.get(),
                                               members.get(), n, 0, end_bit, s));
  }
  group_offsets_kernel<<<grid_for(num_groups + 1), kThreads, 0, s>>>(sorted_ids.get(), n, num_groups, offsets.get());
  check_launch();
  visit_dtype(dtype, [&](auto tag) {
    using T = decltype(tag);
    group_sum_kernel<T><<<grid_for(num_groups * cols), kThreads, 0, s>>>(
        static_cast<const T*>(data), cols, members.get(), offsets.get(), num_groups, static_cast<Out<T>*>(out));
    check_launch();
  });
}

}  // namespace gpu
}  // namespace skucast
