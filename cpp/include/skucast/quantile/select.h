// Order statistics of one row for batched quantiles: the numpy rank rules (so results equal
// numpy.quantile bitwise), a counting path for integer-valued rows with a small range (sample
// paths of counts), and a multi-rank selection for rows the bucket selection of
// cpu/bucket_select.h declines (infinite or zero spread).
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <type_traits>
#include <vector>

#if defined(__AVX2__)
#include <immintrin.h>
#endif

#include "skucast/core/hostdevice.h"

namespace skucast {
namespace quantile {

// The rank rules and the lerp are SKUCAST_HD: the CUDA quantile kernel uses them after its sort.

// numpy's inverted_cdf: index n q - 1, rounded up unless it is whole; clipped at 0.
SKUCAST_HD int64_t inverted_cdf_rank(int64_t n, double q) {
  const double index = static_cast<double>(n) * q - 1.0;
  const double prev = floor(index);
  int64_t rank = static_cast<int64_t>(index - prev == 0.0 ? prev : prev + 1.0);
  if (rank < 0) rank = 0;
  if (rank > n - 1) rank = n - 1;
  return rank;
}

// numpy's linear (Hyndman-Fan 7): virtual index, neighbours and weight, with numpy's exact
// float operations so the interpolated values match to the bit.
struct LinearPoint {
  int64_t prev, next;
  double gamma;
};
SKUCAST_HD LinearPoint linear_point(int64_t n, double q) {
  const double virt = static_cast<double>(n - 1) * q;
  double prev = floor(virt);
  if (virt >= static_cast<double>(n - 1)) {
    prev = -1.0;  // numpy marks both neighbours as the last element
    return LinearPoint{n - 1, n - 1, virt - prev};
  }
  if (virt < 0) return LinearPoint{0, 0, virt - 0.0};
  return LinearPoint{static_cast<int64_t>(prev), static_cast<int64_t>(prev) + 1, virt - prev};
}

// numpy's _lerp on float64 weights; diff is taken in the input type as numpy does.
template <class T>
SKUCAST_HD double lerp_like_numpy(T a, T b, double t) {
  using Diff = std::conditional_t<std::is_integral_v<T>, int64_t, T>;
  const Diff diff = static_cast<Diff>(static_cast<Diff>(b) - static_cast<Diff>(a));
  const double d = static_cast<double>(diff);
  if (t >= 0.5) return static_cast<double>(b) - d * (1.0 - t);
  return static_cast<double>(a) + d * t;
}

// Places the values of the sorted ranks (ascending, unique) into their positions of
// row[lo, hi) by recursive nth_element: ~n log2(#ranks) work instead of a full sort.
template <class T>
void select_ranks(T* row, int64_t lo, int64_t hi, const int64_t* ranks, int64_t num_ranks) {
  while (num_ranks > 0) {
    const int64_t mid = num_ranks / 2;
    const int64_t r = ranks[mid];
    std::nth_element(row + lo, row + r, row + hi);
    select_ranks(row, lo, r, ranks, mid);  // smaller ranks on the left
    ranks += mid + 1;
    num_ranks -= mid + 1;
    lo = r + 1;
  }
}

// Counting path: values known to be whole numbers in [lo, lo + hist.size() / 4).
// Writes the value of each sorted rank into `values`. `stride` steps through a strided row.
template <class T>
void count_ranks(const T* row, int64_t n, int64_t stride, double lo, std::vector<int32_t>& hist,
                 const int64_t* ranks, int64_t num_ranks, T* values) {
  // Four interleaved histograms: runs of equal values (zeros, mostly) would otherwise chain
  // every increment through one memory cell.
  const size_t width = hist.size() / 4;
  std::fill(hist.begin(), hist.end(), 0);
  int32_t* h0 = hist.data();
  int32_t* h1 = h0 + width;
  int32_t* h2 = h1 + width;
  int32_t* h3 = h2 + width;
  int64_t j = 0;
#if defined(__AVX2__)
  if constexpr (std::is_same_v<T, float>) {
    // Bucket indices eight at a time, then the counts. x - lo is a whole number below the width;
    // it is exact in float only below 2^24 (above, 16777219 rounds to 16777220: a slot past the end).
    if (stride == 1 && width <= (size_t{1} << 24)) {
      const __m256 base = _mm256_set1_ps(static_cast<float>(lo));
      alignas(32) int32_t idx[8];
      for (; j + 8 <= n; j += 8) {
        _mm256_store_si256(reinterpret_cast<__m256i*>(idx),
                           _mm256_cvttps_epi32(_mm256_sub_ps(_mm256_loadu_ps(row + j), base)));
        ++h0[idx[0]];
        ++h1[idx[1]];
        ++h2[idx[2]];
        ++h3[idx[3]];
        ++h0[idx[4]];
        ++h1[idx[5]];
        ++h2[idx[6]];
        ++h3[idx[7]];
      }
    }
  }
#endif
  for (; j + 4 <= n; j += 4) {
    ++h0[static_cast<size_t>(static_cast<double>(row[j * stride]) - lo)];
    ++h1[static_cast<size_t>(static_cast<double>(row[(j + 1) * stride]) - lo)];
    ++h2[static_cast<size_t>(static_cast<double>(row[(j + 2) * stride]) - lo)];
    ++h3[static_cast<size_t>(static_cast<double>(row[(j + 3) * stride]) - lo)];
  }
  for (; j < n; ++j) ++h0[static_cast<size_t>(static_cast<double>(row[j * stride]) - lo)];
  int64_t seen = 0;  // number of values in buckets before b
  size_t b = 0;
  int64_t count_b = h0[0] + h1[0] + h2[0] + h3[0];
  for (int64_t k = 0; k < num_ranks; ++k) {
    while (seen + count_b <= ranks[k]) {
      seen += count_b;
      ++b;
      count_b = h0[b] + h1[b] + h2[b] + h3[b];
    }
    values[k] = static_cast<T>(lo + static_cast<double>(b));
  }
}

}  // namespace quantile
}  // namespace skucast
