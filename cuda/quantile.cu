// Batched quantiles on the GPU: each row is gathered into a contiguous scratch copy (checking
// for NaN), sorted with CUB's segmented sort, and read at the ranks of quantile/select.h.
#include <cub/device/device_segmented_sort.cuh>

#include <vector>

#include "common.cuh"
#include "skucast/quantile/select.h"

namespace skucast {
namespace gpu {
namespace {

using namespace detail;

// copy[r * n + j] = data[o * n * inner + j * inner + i] for row r = o * inner + i.
template <class T>
__global__ void gather_rows_kernel(const T* data, int64_t n, int64_t inner, int64_t total, T* copy,
                                   unsigned long long* bad) {
  for (int64_t t = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; t < total; t += int64_t(gridDim.x) * blockDim.x) {
    const int64_t r = t / n, j = t - r * n;
    const int64_t o = r / inner, i = r - o * inner;
    const int64_t src = o * n * inner + j * inner + i;
    const T v = data[src];
    if constexpr (!std::is_integral_v<T>) {
      if (v != v) report_bad(bad, src, 0);
    }
    copy[t] = v;
  }
}

__global__ void segment_offsets_kernel(int64_t* offsets, int64_t rows, int64_t n) {
  for (int64_t r = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; r <= rows; r += int64_t(gridDim.x) * blockDim.x)
    offsets[r] = r * n;
}

// One thread per (row, level): numpy's rank rules on the sorted row.
template <class T>
__global__ void pick_kernel(const T* sorted, int64_t rows, int64_t n, const double* levels, int64_t num_levels,
                            bool linear, void* out) {
  const int64_t total = rows * num_levels;
  for (int64_t t = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; t < total; t += int64_t(gridDim.x) * blockDim.x) {
    const int64_t r = t / num_levels, l = t - r * num_levels;
    const T* row = sorted + r * n;
    if (linear) {
      const quantile::LinearPoint p = quantile::linear_point(n, levels[l]);
      static_cast<double*>(out)[t] = quantile::lerp_like_numpy(row[p.prev], row[p.next], p.gamma);
    } else {
      static_cast<T*>(out)[t] = row[quantile::inverted_cdf_rank(n, levels[l])];
    }
  }
}

template <class T>
BadValue quantiles_typed(const T* data, int64_t outer, int64_t n, int64_t inner, const double* levels,
                         int64_t num_levels, bool linear, void* out, cudaStream_t s) {
  const int64_t rows = outer * inner, total = rows * n;
  BadSlots bad(s);
  Scratch<T> copy(static_cast<size_t>(total), s), sorted(static_cast<size_t>(total), s);
  Scratch<int64_t> offsets(static_cast<size_t>(rows + 1), s);
  Scratch<double> d_levels(static_cast<size_t>(num_levels), s);
  CUDA_CHECK(cudaMemcpyAsync(d_levels.get(), levels, sizeof(double) * num_levels, cudaMemcpyHostToDevice, s));
  gather_rows_kernel<T><<<grid_for(total), kThreads, 0, s>>>(data, n, inner, total, copy.get(), bad.get());
  check_launch();
  segment_offsets_kernel<<<grid_for(rows + 1), kThreads, 0, s>>>(offsets.get(), rows, n);
  check_launch();
  size_t temp_bytes = 0;
  CUDA_CHECK(cub::DeviceSegmentedSort::SortKeys(nullptr, temp_bytes, copy.get(), sorted.get(), total, rows,
                                                offsets.get(), offsets.get() + 1, s));
  Scratch<unsigned char> temp(temp_bytes, s);
  CUDA_CHECK(cub::DeviceSegmentedSort::SortKeys(temp.get(), temp_bytes, copy.get(), sorted.get(), total, rows,
                                                offsets.get(), offsets.get() + 1, s));
  pick_kernel<T><<<grid_for(rows * num_levels), kThreads, 0, s>>>(sorted.get(), rows, n, d_levels.get(), num_levels,
                                                                  linear, out);
  check_launch();
  // The NaN check waits for the stream, which also keeps `levels` (host memory) alive long enough.
  return bad.read(s);
}

}  // namespace

BadValue quantiles(const void* data, DType dtype, int64_t outer, int64_t n, int64_t inner, const double* levels,
                   int64_t num_levels, bool linear, void* out, uintptr_t stream) {
  if (outer * n * inner == 0 || num_levels == 0) return BadValue{};
  DeviceGuard guard(data);
  const cudaStream_t s = as_stream(stream);
  return visit_dtype(dtype, [&](auto tag) {
    using T = decltype(tag);
    return quantiles_typed(static_cast<const T*>(data), outer, n, inner, levels, num_levels, linear, out, s);
  });
}

}  // namespace gpu
}  // namespace skucast
