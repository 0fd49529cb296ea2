// Sums over sample paths: lead-time windows per series (window_sum) and hierarchy groups
// (group_sum). Both read each input element at most once, in memory order.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <limits>
#include <mutex>
#include <vector>

#if defined(__AVX2__)
#include <immintrin.h>
#endif
#include <type_traits>

#include "skucast/core/sum_types.h"
#include "skucast/core/threads.h"
#include "skucast/cpu/avx512.h"
#include "skucast/cpu/kernels.h"
#include "skucast/cpu/range_accumulator.h"
#include "skucast/cpu/window_rows_avx2.h"
#include "skucast/cpu/window_rows_avx512.h"

namespace skucast {
namespace cpu {

namespace {

template <class T>
using Acc = SumAcc<T>;
template <class T>
using Out = SumOut<T>;

// int64 sums can wrap. Each loop ORs v ^ (v >> 63) (|v|, or |v| - 1 below 0) over the values it
// adds: a sum of `count` values whose OR stays below 2^(63 - bits(count)) cannot pass 2^63 in
// magnitude. Past that bound the kernel only reports "maybe" and the caller checks exactly.
inline uint64_t magnitude(int64_t v) { return static_cast<uint64_t>(v ^ (v >> 63)); }
// The OR of n values' magnitudes: a loop of its own (beside the sum's), which the compiler vectorizes.
inline uint64_t ored_magnitudes(const int64_t* v, int64_t n) {
  uint64_t m = 0;
  for (int64_t i = 0; i < n; ++i) m |= magnitude(v[i]);
  return m;
}
inline bool may_overflow(uint64_t ored, int64_t count) {
  const int bits = count > 0 ? 64 - __builtin_clzll(static_cast<uint64_t>(count)) : 0;
  return bits >= 63 || (ored >> (63 - bits)) != 0;
}

// Sum of row[a, b). Floats accumulate in double. With AVX2, float rows are read in 8-lane
// masked loads (lanes outside the window read as 0 and never fault), so a short window costs a
// few vector steps instead of a scalar loop with a mispredicted exit.
template <class T>
inline Acc<T> window_total(const T* row, int64_t a, int64_t b, uint64_t& ored) {
#if defined(__AVX2__)
  if constexpr (std::is_same_v<T, float>) {
    if (b - a <= 0) return 0.0;
    const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256i lo = _mm256_set1_epi32(static_cast<int32_t>(a - 1));
    const __m256i hi = _mm256_set1_epi32(static_cast<int32_t>(b));
    __m256d acc0 = _mm256_setzero_pd(), acc1 = _mm256_setzero_pd();
    for (int64_t c = a & ~int64_t{7}; c < b; c += 8) {
      const __m256i idx = _mm256_add_epi32(_mm256_set1_epi32(static_cast<int32_t>(c)), lanes);
      const __m256i in = _mm256_and_si256(_mm256_cmpgt_epi32(idx, lo), _mm256_cmpgt_epi32(hi, idx));
      const __m256 v = _mm256_maskload_ps(row + c, in);
      acc0 = _mm256_add_pd(acc0, _mm256_cvtps_pd(_mm256_castps256_ps128(v)));
      acc1 = _mm256_add_pd(acc1, _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)));
    }
    const __m256d acc = _mm256_add_pd(acc0, acc1);
    const __m128d pair = _mm_add_pd(_mm256_castpd256_pd128(acc), _mm256_extractf128_pd(acc, 1));
    return _mm_cvtsd_f64(_mm_add_sd(pair, _mm_unpackhi_pd(pair, pair)));
  }
#endif
  if constexpr (std::is_same_v<T, int64_t>) {  // a plain loop, which the compiler vectorizes
    int64_t sum = 0;
    for (int64_t i = a; i < b; ++i) sum += row[i];
    ored |= ored_magnitudes(row + a, b - a);
    return sum;
  }
  Acc<T> s0 = 0, s1 = 0, s2 = 0, s3 = 0;  // four chains: short windows are latency bound
  int64_t t = a;
  for (; t + 4 <= b; t += 4) {
    s0 += row[t];
    s1 += row[t + 1];
    s2 += row[t + 2];
    s3 += row[t + 3];
  }
  for (; t < b; ++t) s0 += row[t];
  return (s0 + s1) + (s2 + s3);
}

// Sums are checked for NaN/inf by the largest magnitude's bits (NaN and inf sort above every
// finite value): a max of integers, which the compiler vectorizes (a float compare loop it did
// not). Integer sums are always finite.
template <class T>
using MagnitudeBits = std::conditional_t<sizeof(T) == 4, uint32_t, uint64_t>;

template <class T>
MagnitudeBits<T> largest_magnitude_bits(const T* v, int64_t n) {
  using Bits = MagnitudeBits<T>;
  constexpr Bits kMagnitude = std::numeric_limits<Bits>::max() >> 1;
  Bits top = 0;
  for (int64_t i = 0; i < n; ++i) {
    Bits b;
    std::memcpy(&b, v + i, sizeof b);
    top = std::max<Bits>(top, b & kMagnitude);
  }
  return top;
}

template <class T>
bool finite_bits(MagnitudeBits<T> top) {
  const T largest = std::numeric_limits<T>::max();
  MagnitudeBits<T> limit;
  std::memcpy(&limit, &largest, sizeof largest);
  return top <= limit;
}

// Sums of each series' window [start, start + length), and with length2 of [start, start +
// length2) into out2 as well: the second window reads the series' rows again right after the
// first, from cache, so a pair of windows (lead time, lead time + review period) costs one pass
// over memory, with each sum's bits those of a call of its own.
template <class T>
bool window_sum_typed(const T* data, int64_t series, int64_t m1, int64_t horizon, int64_t m2, const int64_t* start,
                      const int64_t* length, Out<T>* out, const int64_t* length2, Out<T>* out2,
                      ValueRange* range) {
  // Work is split by series (each owns m1 rows of horizon x m2 values), so no row index needs
  // a division and every series' window is read once.
  const int64_t series_cost = std::max<int64_t>(1, m1 * horizon * m2);
  const int64_t grain = std::max<int64_t>(1, 65536 / series_cost);
  const bool avx512 = use_avx512();
  std::atomic<bool> finite{true};
  RangeAccumulator<T> all_values;
  std::mutex merge;
  parallel_for(series, grain, [&](int64_t s0, int64_t s1) {
    std::vector<Acc<T>> acc(static_cast<size_t>(m2));
    MagnitudeBits<Out<T>> top = 0;  // of the sums written, each series' checked while in cache
    RangeAccumulator<T> values;     // with range: this thread's series, each while in cache
    // Series s's window of `len` days into `dst_series` (m1 x m2 sums).
    auto window = [&](int64_t s, int64_t len, Out<T>* dst_series) {
      uint64_t ored = 0;  // int64 input: the magnitudes of this series' window values
      int64_t j = 0;
#if defined(__AVX2__)
      if constexpr (std::is_same_v<T, float>) {
        // Eight rows of one series share the window: summed together, day by day.
        if (m2 == 1) {
          if (avx512) {
            for (; j + 8 <= m1; j += 8) {
              const float* rows = data + (s * m1 + j) * horizon;
              prefetch_ahead(rows, 8 * horizon);
              window_rows8_avx512(rows, horizon, start[s], len, dst_series + j);
            }
          }
          for (; j + 8 <= m1; j += 8) {
            const float* rows = data + (s * m1 + j) * horizon;
            prefetch_ahead(rows, 8 * horizon);
            window_rows8_avx2(rows, horizon, start[s], len, dst_series + j);
          }
        }
      }
#endif
      for (; j < m1; ++j) {
        const int64_t r = s * m1 + j;
        const T* base = data + r * horizon * m2 + start[s] * m2;
        Out<T>* dst = dst_series + j * m2;
        if (m2 == 1) {
          dst[0] = static_cast<Out<T>>(window_total(data + r * horizon, start[s], start[s] + len, ored));
          continue;
        }
        std::fill(acc.begin(), acc.end(), Acc<T>(0));
        for (int64_t t = 0; t < len; ++t) {
          const T* day = base + t * m2;
          for (int64_t k = 0; k < m2; ++k) acc[k] += day[k];
          if constexpr (std::is_same_v<T, int64_t>) ored |= ored_magnitudes(day, m2);
        }
        for (int64_t k = 0; k < m2; ++k) dst[k] = static_cast<Out<T>>(acc[k]);
      }
      if constexpr (std::is_floating_point_v<T>)
        top = std::max(top, largest_magnitude_bits(dst_series, m1 * m2));
      if constexpr (std::is_same_v<T, int64_t>)
        if (may_overflow(ored, len)) finite.store(false, std::memory_order_relaxed);
    };
    for (int64_t s = s0; s < s1; ++s) {
      if (range) values.add(data + s * m1 * horizon * m2, m1 * horizon * m2);
      if constexpr (std::is_same_v<T, int64_t>) {
        // Integer sums are exact in any order: the longer window continues the shorter one's sum.
        if (m2 == 1 && length2 && length2[s] >= length[s]) {
          const int64_t a = start[s], b = a + length[s], b2 = a + length2[s];
          uint64_t ored = 0;
          for (int64_t j = 0; j < m1; ++j) {
            const T* row = data + (s * m1 + j) * horizon;
            const int64_t first = window_total(row, a, b, ored);
            out[s * m1 + j] = first;
            out2[s * m1 + j] = first + window_total(row, b, b2, ored);
          }
          if (may_overflow(ored, length2[s])) finite.store(false, std::memory_order_relaxed);
          continue;
        }
      }
      window(s, length[s], out + s * m1 * m2);
      if (length2) window(s, length2[s], out2 + s * m1 * m2);
    }
    if constexpr (std::is_floating_point_v<T>)
      if (!finite_bits<T>(top)) finite.store(false, std::memory_order_relaxed);
    if (range) {
      std::lock_guard<std::mutex> lock(merge);
      all_values.merge(values);
    }
  }, /*per_thread=*/1);  // memory-bound, and a series costs about the same whatever its window (the
                         // hardware prefetcher reads its whole block): one unbroken stream per thread
                         // (2 threads: 0.97x -> 1.00-1.03x the masked matmul, which splits so)
  if (range) *range = all_values.result();
  return finite.load();
}

// Double accumulators per thread for float32 group sums: up to this many, and at least 16
// columns' worth for every group.
constexpr int64_t kGroupScratchDoubles = int64_t{1} << 19;

template <class T>
bool group_sum_typed(const T* data, int64_t n, int64_t cols, const int64_t* group_ids, int64_t num_groups,
                     Out<T>* out) {
  // out: num_groups x cols, zeroed by the caller. Threads own disjoint column blocks, so every
  // output element is summed by one thread in series order: the result is the same for any
  // thread count.
  // Columns [c0, c0 + width) of every series added in order into its group's row of dst (rows
  // `stride` apart).
  std::atomic<bool> safe{true};  // int64 input: no sum can have wrapped (see may_overflow)
  auto add_columns = [&](auto* dst, int64_t stride, int64_t c0, int64_t width) {
    uint64_t ored = 0;
    for (int64_t i = 0; i < n; ++i) {
      auto* row = dst + group_ids[i] * stride;
      const T* src = data + i * cols + c0;
      for (int64_t c = 0; c < width; ++c) row[c] += src[c];
      if constexpr (std::is_same_v<T, int64_t>) ored |= ored_magnitudes(src, width);
    }
    if (std::is_same_v<T, int64_t> && may_overflow(ored, n)) safe.store(false, std::memory_order_relaxed);
  };
  if constexpr (std::is_same_v<Acc<T>, Out<T>>) {
    constexpr int64_t kBlock = 1024;
    const int64_t blocks = (cols + kBlock - 1) / kBlock;
    parallel_for(blocks, 1, [&](int64_t b0, int64_t b1) {
      for (int64_t b = b0; b < b1; ++b) {
        const int64_t c0 = b * kBlock;
        add_columns(out + c0, cols, c0, std::min(cols - c0, kBlock));
      }
    });
  } else {
    // float32: each block of columns is summed for every group in double, then rounded once
    // (as the GPU kernel and window_sum do).
    const int64_t groups = std::max<int64_t>(num_groups, 1);
    const int64_t block = std::clamp<int64_t>(kGroupScratchDoubles / groups / 16 * 16, 16, 1024);
    const int64_t blocks = (cols + block - 1) / block;
    parallel_for(blocks, 1, [&](int64_t b0, int64_t b1) {
      std::vector<Acc<T>> acc(static_cast<size_t>(groups * block));
      for (int64_t b = b0; b < b1; ++b) {
        const int64_t c0 = b * block, width = std::min(cols - c0, block);
        std::fill(acc.begin(), acc.begin() + groups * width, Acc<T>(0));
        add_columns(acc.data(), width, c0, width);
        for (int64_t g = 0; g < num_groups; ++g)
          for (int64_t c = 0; c < width; ++c) out[g * cols + c0 + c] = static_cast<Out<T>>(acc[g * width + c]);
      }
    });
  }
  return safe.load();
}

}  // namespace

bool window_sum(const void* data, DType dtype, int64_t series, int64_t m1, int64_t horizon, int64_t m2,
                const int64_t* start, const int64_t* length, void* out, const int64_t* length2, void* out2,
                ValueRange* range) {
  return visit_dtype(dtype, [&](auto tag) {
    using T = decltype(tag);
    return window_sum_typed(static_cast<const T*>(data), series, m1, horizon, m2, start, length,
                            static_cast<Out<T>*>(out), length2, static_cast<Out<T>*>(out2), range);
  });
}

bool group_sum(const void* data, DType dtype, int64_t n, int64_t cols, const int64_t* group_ids,
               int64_t num_groups /*ids are checked by the caller*/, void* out) {
  return visit_dtype(dtype, [&](auto tag) {
    using T = decltype(tag);
    return group_sum_typed(static_cast<const T*>(data), n, cols, group_ids, num_groups, static_cast<Out<T>*>(out));
  });
}

}  // namespace cpu
}  // namespace skucast
