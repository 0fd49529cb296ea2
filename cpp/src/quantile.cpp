// Batched quantiles over one axis: each row is gathered once into a scratch buffer, then
// either counted (whole-number rows with a small range, the usual case for sample paths of
// counts) or partially ordered at just the ranks the levels need.
#include <algorithm>
#include <cmath>
#include <vector>

#include "skucast/core/threads.h"
#include "skucast/cpu/avx512.h"
#include "skucast/cpu/bucket_select.h"
#include "skucast/cpu/bucket_select_avx512.h"
#include "skucast/cpu/count_select_avx512.h"
#include "skucast/cpu/lerp_avx512.h"
#include "skucast/cpu/row_scan_avx512.h"
#include "skucast/cpu/kernels.h"
#include "skucast/quantile/row_scan.h"
#include "skucast/quantile/select.h"

namespace skucast {
namespace cpu {
namespace {

struct RankPlan {
  std::vector<int64_t> ranks;       // sorted unique ranks to find
  std::vector<int32_t> lo_pos, hi_pos;  // per level: index into ranks of prev/next (same for inverted)
  std::vector<double> gamma;        // per level, linear only
};

RankPlan plan_ranks(int64_t n, const double* levels, int64_t num_levels, bool linear) {
  RankPlan plan;
  std::vector<int64_t> lo(num_levels), hi(num_levels);
  plan.gamma.assign(num_levels, 0.0);
  for (int64_t l = 0; l < num_levels; ++l) {
    if (linear) {
      const quantile::LinearPoint p = quantile::linear_point(n, levels[l]);
      lo[l] = p.prev;
      hi[l] = p.next;
      plan.gamma[l] = p.gamma;
    } else {
      lo[l] = hi[l] = quantile::inverted_cdf_rank(n, levels[l]);
    }
  }
  plan.ranks = lo;
  plan.ranks.insert(plan.ranks.end(), hi.begin(), hi.end());
  std::sort(plan.ranks.begin(), plan.ranks.end());
  plan.ranks.erase(std::unique(plan.ranks.begin(), plan.ranks.end()), plan.ranks.end());
  auto pos = [&](int64_t r) {
    return static_cast<int32_t>(std::lower_bound(plan.ranks.begin(), plan.ranks.end(), r) - plan.ranks.begin());
  };
  for (int64_t l = 0; l < num_levels; ++l) {
    plan.lo_pos.push_back(pos(lo[l]));
    plan.hi_pos.push_back(pos(hi[l]));
  }
  return plan;
}

template <class T>
quantile::RowScan<T> scan_any_row(const T* src, int64_t n, int64_t stride) {
#if defined(SKUCAST_HAVE_BUCKET_AVX512)
  if constexpr (std::is_same_v<T, float>) {
    if (stride == 1 && use_avx512()) return scan_row_avx512(src, n);
  }
#endif
  return quantile::scan_row(src, n, stride);
}

// Whole-number rows: the AVX-512 variants for contiguous float rows spanning <= 256 integers
// (byte compares up to kTinyCountWidth, a histogram past it).
template <class T>
bool count_by_buckets(const T* row, int64_t n, int64_t stride, T lo, double range, const int64_t* ranks,
                      int64_t num_ranks, T* values, BucketScratch<T>& scratch) {
#if defined(SKUCAST_HAVE_BUCKET_AVX512)
  if constexpr (std::is_same_v<T, float>) {
    if (stride == 1 && range < 256 && std::fabs(lo) < 16777216.0f && use_avx512()) {  // 2^24: x - lo exact
      const int32_t width = static_cast<int32_t>(range) + 1;
      if (width <= kTinyCountWidth)
        count_tiny_rows(row, n, lo, width, ranks, num_ranks, values, scratch);
      else
        count_small_rows(row, n, lo, width, ranks, num_ranks, values, scratch);
      return true;
    }
  }
#endif
  return false;
}

template <class T>
bool select_by_buckets(const T* row, int64_t n, T lo, T hi, const int64_t* ranks, int64_t num_ranks, T* values,
                       BucketScratch<T>& scratch) {
#if defined(SKUCAST_HAVE_BUCKET_AVX512)
  if constexpr (std::is_same_v<T, float>) {
    if (use_avx512()) return bucket_select_avx512(row, n, lo, hi, ranks, num_ranks, values, scratch);
  }
#endif
  return bucket_select(row, n, lo, hi, ranks, num_ranks, values, scratch);
}

// Linear's interpolation for float rows with AVX-512; false: the caller interpolates.
template <class T>
bool lerp_levels(const T* values, const RankPlan& plan, int64_t num_levels, double* dst) {
#if defined(SKUCAST_HAVE_BUCKET_AVX512)
  if constexpr (std::is_same_v<T, float>) {
    if (use_avx512())
      return lerp_levels_avx512(values, static_cast<int64_t>(plan.ranks.size()), plan.lo_pos.data(),
                                plan.hi_pos.data(), plan.gamma.data(), num_levels, dst);
  }
#endif
  return false;
}

// How far ahead contiguous rows are prefetched: ~6 KB (8 rows of 200 floats) was fastest here.
constexpr int64_t kPrefetchBytes = 6400;

template <class T>
BadValue quantiles_typed(const T* data, int64_t outer, int64_t n, int64_t inner, const double* levels,
                         int64_t num_levels, bool linear, void* out) {
  const RankPlan plan = plan_ranks(n, levels, num_levels, linear);
  const int64_t num_ranks = static_cast<int64_t>(plan.ranks.size());
  const int64_t rows = outer * inner;
  bool direct_out = !linear && num_ranks == num_levels;
  for (int64_t l = 0; l < num_levels; ++l) direct_out = direct_out && plan.lo_pos[l] == l;
  const int64_t grain = std::max<int64_t>(1, 8192 / std::max<int64_t>(n, 1));
  // Rows over half the distance are streamed well enough by the hardware prefetcher alone.
  const int64_t row_bytes = n * static_cast<int64_t>(sizeof(T));
  const int64_t prefetch_rows = std::max<int64_t>(2, kPrefetchBytes / std::max<int64_t>(row_bytes, 1));
  const bool prefetch_rows_ahead = inner == 1 && row_bytes <= kPrefetchBytes / 2;
  // A counting pass costs n + range; choose it while the range is within a few times n.
  const double max_count_range = 4.0 * static_cast<double>(n) + 256.0;
  std::vector<BadValue> bad(static_cast<size_t>((rows + grain - 1) / grain + 1));
  parallel_for(rows, grain, [&](int64_t r0, int64_t r1) {
    std::vector<T> row(static_cast<size_t>(n));
    std::vector<T> values(static_cast<size_t>(num_ranks));
    std::vector<int32_t> hist;
    BucketScratch<T> buckets;
    BadValue first;
    for (int64_t r = r0; r < r1; ++r) {
      const int64_t o = inner == 1 ? r : r / inner, i = inner == 1 ? 0 : r % inner;  // no division per row
      const T* src = data + o * n * inner + i;
      if (prefetch_rows_ahead && r + prefetch_rows < rows) {  // contiguous rows: fetch a later row while this one is worked on
        const char* ahead = reinterpret_cast<const char*>(src + prefetch_rows * n);
        for (int64_t b = 0; b < row_bytes; b += 64) __builtin_prefetch(ahead + b);
      }
      // One pass for range, wholeness and NaN, straight from the source (strided when inner > 1).
      const quantile::RowScan<T> scan = scan_any_row(src, n, inner);
      const T lo = scan.lo, hi = scan.hi;
      const bool whole = scan.whole, has_nan = scan.has_nan;
      if (has_nan) {
        int64_t j = 0;
        while (src[j * inner] == src[j * inner]) ++j;  // the first NaN
        first.keep_first(BadValue{o * n * inner + j * inner + i, 0});  // rows are not in flat order when inner > 1
        continue;
      }
      // inverted_cdf with one rank per level (the usual case): the values are the output row.
      T* found = direct_out ? static_cast<T*>(out) + r * num_levels : values.data();
      const double range = static_cast<double>(hi) - static_cast<double>(lo);
      // Buckets are indexed through doubles: only for values they hold exactly.
      const bool exact = std::fabs(static_cast<double>(lo)) < 4.5e15 && std::fabs(static_cast<double>(hi)) < 4.5e15;
      if (whole && exact && range < max_count_range) {
        if (!count_by_buckets(src, n, inner, lo, range, plan.ranks.data(), num_ranks, found, buckets)) {
          hist.resize(4 * (static_cast<size_t>(range) + 1));
          quantile::count_ranks(src, n, inner, static_cast<double>(lo), hist, plan.ranks.data(), num_ranks,
                                found);
        }
      } else {
        const T* contiguous = src;
        if (inner != 1) {
          for (int64_t j = 0; j < n; ++j) row[j] = src[j * inner];
          contiguous = row.data();
        }
        if (!select_by_buckets(contiguous, n, lo, hi, plan.ranks.data(), num_ranks, found, buckets)) {
          if (contiguous == src) std::copy(src, src + n, row.data());
          quantile::select_ranks(row.data(), 0, n, plan.ranks.data(), num_ranks);
          for (int64_t k = 0; k < num_ranks; ++k) found[k] = row[plan.ranks[k]];
        }
      }
      if (linear) {
        double* dst = static_cast<double*>(out) + r * num_levels;
        if (!lerp_levels(values.data(), plan, num_levels, dst))
          for (int64_t l = 0; l < num_levels; ++l)
            dst[l] = quantile::lerp_like_numpy(values[plan.lo_pos[l]], values[plan.hi_pos[l]], plan.gamma[l]);
      } else if (!direct_out) {
        T* dst = static_cast<T*>(out) + r * num_levels;
        for (int64_t l = 0; l < num_levels; ++l) dst[l] = values[plan.lo_pos[l]];
      }
    }
    bad[static_cast<size_t>(r0 / grain)].keep_first(first);
  });
  BadValue result;
  for (const auto& b : bad) result.keep_first(b);
  return result;
}

}  // namespace

BadValue quantiles(const void* data, DType dtype, int64_t outer, int64_t n, int64_t inner, const double* levels,
                   int64_t num_levels, bool linear, void* out) {
  return visit_dtype(dtype, [&](auto tag) {
    using T = decltype(tag);
    return quantiles_typed(static_cast<const T*>(data), outer, n, inner, levels, num_levels, linear, out);
  });
}

}  // namespace cpu
}  // namespace skucast
