// Batched quantiles on the GPU. Rows of up to 1024 values: one warp per row loads it into
// registers (checking for NaN), sorts it with CUB's warp merge sort and reads the wanted ranks,
// so each value is read once and only the quantiles are written. Longer rows are gathered into
// a contiguous scratch copy, sorted with CUB's segmented sort, and read at the same ranks
// (quantile/select.h).
#include <cub/device/device_segmented_sort.cuh>
#include <cub/warp/warp_merge_sort.cuh>

#include <type_traits>
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

// Unsigned keys whose integer order is the values' order (NaN aside; -0.0 before +0.0, as the
// radix sort of the long-row path orders them).
template <class T>
struct OrderKey;
template <>
struct OrderKey<float> {
  using Key = uint32_t;
  __device__ static Key to(float v) {
    const uint32_t b = __float_as_uint(v);
    return (b & 0x80000000u) ? ~b : (b | 0x80000000u);
  }
  __device__ static float from(Key k) { return __uint_as_float((k & 0x80000000u) ? (k & 0x7fffffffu) : ~k); }
};
template <>
struct OrderKey<double> {
  using Key = uint64_t;
  static constexpr uint64_t kSign = 1ull << 63;
  __device__ static Key to(double v) {
    const uint64_t b = static_cast<uint64_t>(__double_as_longlong(v));
    return (b & kSign) ? ~b : (b | kSign);
  }
  __device__ static double from(Key k) {
    return __longlong_as_double(static_cast<long long>((k & kSign) ? (k & ~kSign) : ~k));
  }
};
template <>
struct OrderKey<int32_t> {
  using Key = uint32_t;
  __device__ static Key to(int32_t v) { return static_cast<uint32_t>(v) ^ 0x80000000u; }
  __device__ static int32_t from(Key k) { return static_cast<int32_t>(k ^ 0x80000000u); }
};
template <>
struct OrderKey<int64_t> {
  using Key = uint64_t;
  __device__ static Key to(int64_t v) { return static_cast<uint64_t>(v) ^ (1ull << 63); }
  __device__ static int64_t from(Key k) { return static_cast<int64_t>(k ^ (1ull << 63)); }
};

struct KeyLess {
  template <class K>
  __device__ bool operator()(K a, K b) const {
    return a < b;
  }
};

// Writes the quantiles of one sorted row (`row` holds its keys) for the levels lane, lane + 32, ...
template <class T, class Key>
__device__ void pick_levels(const Key* row, int64_t r, int64_t n, const double* levels, int64_t num_levels,
                            bool linear, void* out, int lane) {
  for (int64_t l = lane; l < num_levels; l += 32) {
    const int64_t t = r * num_levels + l;
    if (linear) {
      const quantile::LinearPoint p = quantile::linear_point(n, levels[l]);
      static_cast<double*>(out)[t] =
          quantile::lerp_like_numpy(OrderKey<T>::from(row[p.prev]), OrderKey<T>::from(row[p.next]), p.gamma);
    } else {
      static_cast<T*>(out)[t] = OrderKey<T>::from(row[quantile::inverted_cdf_rank(n, levels[l])]);
    }
  }
}

constexpr int kRowWarps = 4;  // warps (rows in flight) per block of the warp sort

// Rows of n <= 32 * ITEMS values, one warp each: value j of the row goes to lane j % 32, item
// j / 32 (consecutive lanes read consecutive values); the slots past n hold the largest key.
template <class T, int ITEMS>
__global__ void __launch_bounds__(32 * kRowWarps)
    warp_quantiles_kernel(const T* data, int64_t rows, int64_t n, int64_t inner, const double* levels,
                          int64_t num_levels, bool linear, void* out, unsigned long long* bad) {
  using Key = typename OrderKey<T>::Key;
  using WarpSort = cub::WarpMergeSort<Key, ITEMS, 32>;
  union Shared {
    typename WarpSort::TempStorage sort;
    Key row[32 * ITEMS];
  };
  __shared__ Shared shared[kRowWarps];
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  Shared& mine = shared[warp];
  for (int64_t r = blockIdx.x * int64_t(kRowWarps) + warp; r < rows; r += int64_t(gridDim.x) * kRowWarps) {
    const int64_t o = r / inner, i = r - o * inner;
    const int64_t first = o * n * inner + i;  // flat index of the row's value 0
    Key keys[ITEMS];
#pragma unroll
    for (int k = 0; k < ITEMS; ++k) {
      const int64_t j = int64_t(k) * 32 + lane;
      keys[k] = ~Key(0);
      if (j < n) {
        const T v = data[first + j * inner];
        if constexpr (!std::is_integral_v<T>) {
          if (v != v) report_bad(bad, first + j * inner, 0);
        }
        keys[k] = OrderKey<T>::to(v);
      }
    }
    WarpSort(mine.sort).Sort(keys, KeyLess());
    __syncwarp();  // every lane is done with the sort's storage before it holds the row
#pragma unroll
    for (int k = 0; k < ITEMS; ++k) mine.row[lane * ITEMS + k] = keys[k];
    __syncwarp();
    pick_levels<T>(mine.row, r, n, levels, num_levels, linear, out, lane);
    __syncwarp();  // the row is read before the next sort reuses the storage
  }
}

template <class T, int ITEMS>
void launch_warp_quantiles(const T* data, int64_t rows, int64_t n, int64_t inner, const double* levels,
                           int64_t num_levels, bool linear, void* out, unsigned long long* bad, cudaStream_t s) {
  warp_quantiles_kernel<T, ITEMS><<<grid_for(rows, kRowWarps), 32 * kRowWarps, 0, s>>>(
      data, rows, n, inner, levels, num_levels, linear, out, bad);
  check_launch();
}

// Rows of up to 1024 values through the warp sort; false for longer rows.
template <class T>
bool warp_quantiles(const T* data, int64_t rows, int64_t n, int64_t inner, const double* levels, int64_t num_levels,
                    bool linear, void* out, unsigned long long* bad, cudaStream_t s) {
  const auto run = [&](auto items) {
    launch_warp_quantiles<T, decltype(items)::value>(data, rows, n, inner, levels, num_levels, linear, out, bad, s);
    return true;
  };
  if (n <= 32) return run(std::integral_constant<int, 1>{});
  if (n <= 64) return run(std::integral_constant<int, 2>{});
  if (n <= 128) return run(std::integral_constant<int, 4>{});
  if (n <= 256) return run(std::integral_constant<int, 8>{});
  if (n <= 512) return run(std::integral_constant<int, 16>{});
  if (n <= 1024) return run(std::integral_constant<int, 32>{});
  return false;
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
  Scratch<double> d_levels(static_cast<size_t>(num_levels), s);
  CUDA_CHECK(cudaMemcpyAsync(d_levels.get(), levels, sizeof(double) * num_levels, cudaMemcpyHostToDevice, s));
  if (warp_quantiles(data, rows, n, inner, d_levels.get(), num_levels, linear, out, bad.get(), s)) return bad.read(s);
  Scratch<T> copy(static_cast<size_t>(total), s), sorted(static_cast<size_t>(total), s);
  Scratch<int64_t> offsets(static_cast<size_t>(rows + 1), s);
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
