// Batched quantiles on the GPU. Rows of up to 1024 values: one warp per row loads it into
// registers (checking for NaN; through a shared-memory tile when the sample axis is not last),
// sorts it with CUB's warp merge sort and reads the wanted ranks, so each value is read once
// and only the quantiles are written. Longer rows are gathered into
// a contiguous scratch copy, sorted with CUB's segmented sort, and read at the same ranks
// (quantile/select.h).
#include <cub/device/device_segmented_sort.cuh>
#include <cub/warp/warp_merge_sort.cuh>

#include <algorithm>
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

// A warp's scratch: the sort's storage, then the sorted row.
template <class T, int ITEMS>
union WarpRowStorage {
  typename cub::WarpMergeSort<typename OrderKey<T>::Key, ITEMS, 32>::TempStorage sort;
  typename OrderKey<T>::Key row[32 * ITEMS];
};

// Sorts one row's keys (value j in lane j % 32, item j / 32; the slots past n hold the largest
// key) and writes the row's quantiles (row r of the output).
template <class T, int ITEMS>
__device__ void sort_and_pick(typename OrderKey<T>::Key (&keys)[ITEMS], WarpRowStorage<T, ITEMS>& mine, int64_t r,
                              int64_t n, const double* levels, int64_t num_levels, bool linear, void* out, int lane) {
  using WarpSort = cub::WarpMergeSort<typename OrderKey<T>::Key, ITEMS, 32>;
  WarpSort(mine.sort).Sort(keys, KeyLess());
  __syncwarp();  // every lane is done with the sort's storage before it holds the row
#pragma unroll
  for (int k = 0; k < ITEMS; ++k) mine.row[lane * ITEMS + k] = keys[k];
  __syncwarp();
  pick_levels<T>(mine.row, r, n, levels, num_levels, linear, out, lane);
  __syncwarp();  // the row is read before the next sort reuses the storage
}

// Rows of n <= 32 * ITEMS values, one warp each: value j of the row goes to lane j % 32, item
// j / 32 (consecutive lanes read consecutive values, contiguous when inner == 1).
template <class T, int ITEMS>
__global__ void __launch_bounds__(32 * kRowWarps)
    warp_quantiles_kernel(const T* data, int64_t rows, int64_t n, int64_t inner, const double* levels,
                          int64_t num_levels, bool linear, void* out, unsigned long long* bad) {
  using Key = typename OrderKey<T>::Key;
  __shared__ WarpRowStorage<T, ITEMS> shared[kRowWarps];
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
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
    sort_and_pick<T, ITEMS>(keys, shared[warp], r, n, levels, num_levels, linear, out, lane);
  }
}

// A sample axis that is not last (a forecast's (series, samples, days) read over samples): the
// rows of one outer index are consecutive positions of the inner axes, so a block reads a tile
// of kCols of them (128 bytes of each of the n sample positions: whole cache lines, where one
// warp per row would read one value per line) into shared memory, and its warps sort the tile's
// columns from there. The pitch kCols + 1 puts a column's values in different banks.
template <class T>
constexpr int tile_columns() {
  return 128 / static_cast<int>(sizeof(T));
}
template <class T>
constexpr int64_t tile_bytes(int64_t n) {
  return n * (tile_columns<T>() + 1) * static_cast<int64_t>(sizeof(typename OrderKey<T>::Key));
}

template <class T, int ITEMS>
__global__ void __launch_bounds__(32 * kRowWarps)
    tiled_quantiles_kernel(const T* data, int64_t outer, int64_t n, int64_t inner, const double* levels,
                           int64_t num_levels, bool linear, void* out, unsigned long long* bad) {
  using Key = typename OrderKey<T>::Key;
  constexpr int kCols = tile_columns<T>(), kPitch = kCols + 1, kRowsPerLoad = 32 / kCols;
  __shared__ WarpRowStorage<T, ITEMS> shared[kRowWarps];
  extern __shared__ __align__(16) unsigned char tile_memory[];
  Key* tile = reinterpret_cast<Key*>(tile_memory);
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32, c = lane % kCols;
  const int64_t per_outer = (inner + kCols - 1) / kCols;
  for (int64_t t = blockIdx.x; t < outer * per_outer; t += gridDim.x) {
    const int64_t o = t / per_outer, i0 = (t - o * per_outer) * kCols;
    const int width = static_cast<int>(inner - i0 < kCols ? inner - i0 : kCols);
    if (c < width)
      for (int64_t j = int64_t(warp) * kRowsPerLoad + lane / kCols; j < n; j += kRowWarps * kRowsPerLoad) {
        const int64_t at = (o * n + j) * inner + i0 + c;
        const T v = data[at];
        if constexpr (!std::is_integral_v<T>) {
          if (v != v) report_bad(bad, at, 0);
        }
        tile[j * kPitch + c] = OrderKey<T>::to(v);
      }
    __syncthreads();
    for (int col = warp; col < width; col += kRowWarps) {
      Key keys[ITEMS];
#pragma unroll
      for (int k = 0; k < ITEMS; ++k) {
        const int64_t j = int64_t(k) * 32 + lane;
        keys[k] = j < n ? tile[j * kPitch + col] : ~Key(0);
      }
      sort_and_pick<T, ITEMS>(keys, shared[warp], o * inner + i0 + col, n, levels, num_levels, linear, out, lane);
    }
    __syncthreads();  // the tile is read before the next one is loaded
  }
}

// The tiled kernel when the inner axes are long enough to fill tiles and its shared memory fits
// the device; false otherwise.
template <class T, int ITEMS>
bool launch_tiled_quantiles(const T* data, int64_t outer, int64_t n, int64_t inner, const double* levels,
                            int64_t num_levels, bool linear, void* out, unsigned long long* bad, cudaStream_t s) {
  if (inner < 8) return false;  // a stride this short reads nearly whole lines already
  const int64_t bytes = tile_bytes<T>(n);
  int device = 0, limit = 0;
  CUDA_CHECK(cudaGetDevice(&device));
  CUDA_CHECK(cudaDeviceGetAttribute(&limit, cudaDevAttrMaxSharedMemoryPerBlockOptin, device));
  const int64_t static_bytes = static_cast<int64_t>(sizeof(WarpRowStorage<T, ITEMS>)) * kRowWarps;
  if (bytes + static_bytes > limit) return false;
  const auto kernel = tiled_quantiles_kernel<T, ITEMS>;
  // Past 48 KB of shared memory in all (the static part included) a kernel has to opt in. The
  // opt-in is the kernel's, process-wide: set to what its longest rows need (capped by the
  // device), the same value on every call, so concurrent calls cannot lower it under another's
  // launch.
  const int64_t most = std::min<int64_t>(tile_bytes<T>(32 * ITEMS), limit - static_bytes);
  CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(most)));
  const int64_t tiles = outer * ((inner + tile_columns<T>() - 1) / tile_columns<T>());
  kernel<<<grid_for(tiles, 1), 32 * kRowWarps, static_cast<size_t>(bytes), s>>>(data, outer, n, inner, levels,
                                                                                 num_levels, linear, out, bad);
  check_launch();
  return true;
}

template <class T, int ITEMS>
void launch_warp_quantiles(const T* data, int64_t outer, int64_t n, int64_t inner, const double* levels,
                           int64_t num_levels, bool linear, void* out, unsigned long long* bad, cudaStream_t s) {
  if (launch_tiled_quantiles<T, ITEMS>(data, outer, n, inner, levels, num_levels, linear, out, bad, s)) return;
  const int64_t rows = outer * inner;
  warp_quantiles_kernel<T, ITEMS><<<grid_for(rows, kRowWarps), 32 * kRowWarps, 0, s>>>(
      data, rows, n, inner, levels, num_levels, linear, out, bad);
  check_launch();
}

// Rows of up to 1024 values through the warp sort; false for longer rows.
template <class T>
bool warp_quantiles(const T* data, int64_t outer, int64_t n, int64_t inner, const double* levels, int64_t num_levels,
                    bool linear, void* out, unsigned long long* bad, cudaStream_t s) {
  const auto run = [&](auto items) {
    launch_warp_quantiles<T, decltype(items)::value>(data, outer, n, inner, levels, num_levels, linear, out, bad, s);
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
  if (warp_quantiles(data, outer, n, inner, d_levels.get(), num_levels, linear, out, bad.get(), s)) return bad.read(s);
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
