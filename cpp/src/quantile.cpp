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
#include "skucast/cpu/network_select_avx512.h"
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
  if constexpr (std::is_same_v<T, float> || std::is_integral_v<T>) {
    if (stride == 1 && use_avx512()) return scan_row_avx512(src, n);
  }
#endif
  return quantile::scan_row(src, n, stride);
}

// Integer rows counted by the float kernels: a float copy of the row and the float values.
struct FloatCopy {
  std::vector<float> row, values;
  BucketScratch<float> scratch;
};

// Whole-number rows: the AVX-512 variants for contiguous float rows spanning <= 256 integers
// (byte compares up to kTinyCountWidth, a histogram past it). int32 / int64 rows (sample paths
// from nbinom.sample) and double rows go through them on a float copy, exact below 2^24.
template <class T>
bool count_by_buckets(const T* row, int64_t n, int64_t stride, T lo, double range, const int64_t* ranks,
                      int64_t num_ranks, T* values, BucketScratch<T>& scratch, FloatCopy& copy) {
#if defined(SKUCAST_HAVE_BUCKET_AVX512)
  if constexpr (std::is_same_v<T, float>) {
    (void)copy;
    if (stride == 1 && range < 256 && std::fabs(lo) < 16777216.0f && use_avx512()) {  // 2^24: x - lo exact
      const int32_t width = static_cast<int32_t>(range) + 1;
      if (width <= kTinyCountWidth)
        count_tiny_rows(row, n, lo, width, ranks, num_ranks, values, scratch);
      else
        count_small_rows(row, n, lo, width, ranks, num_ranks, values, scratch);
      return true;
    }
  }
  if constexpr (!std::is_same_v<T, float>) {  // double rows too (whole numbers here)
    (void)scratch;
    if (stride == 1 && range < 256 && lo > -16777216 && lo < 16777216 - 256 && use_avx512()) {
      copy.row.resize(static_cast<size_t>(n));
      copy.values.resize(static_cast<size_t>(num_ranks));
      to_float_row(row, n, copy.row.data());
      if (count_by_buckets(copy.row.data(), n, 1, static_cast<float>(lo), range, ranks, num_ranks,
                           copy.values.data(), copy.scratch, copy)) {
        for (int64_t k = 0; k < num_ranks; ++k) values[k] = static_cast<T>(copy.values[k]);
        return true;
      }
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

// Contiguous float / double rows of up to 1024 values, 16 / 8 at a time through the sorting
// network. Up to kNetworkAllRows values every row goes there, as contiguous groups; longer rows
// that look like counts are scanned first (one_row(r, true)), and whole-number rows of a narrow
// range are counted instead, faster there than the network. Groups of fewer than a quarter of
// the lanes take the row-by-row path. A group with a NaN goes row by row, which reports it.
// direct: the output, when the values at the ranks are the output rows. Returns the first row
// not done.
constexpr int64_t kNetworkAllRows = 128;
constexpr double kNetworkCountRange = 256;  // count_by_buckets' AVX-512 range

template <class T, class OneRow, class Finish>
int64_t network_rows(const T* data, int64_t n, int64_t r0, int64_t r1, const int64_t* ranks, int64_t num_ranks,
                     void* direct, int64_t num_levels, OneRow& one_row, Finish& finish) {
#if defined(SKUCAST_HAVE_BUCKET_AVX512)
  if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double>) {
    constexpr int lanes = network512::Elem<T>::kRows;  // rows per group: 16 float, 8 double
    constexpr int64_t min_group = lanes / 4;            // fewer go row by row
    alignas(64) int32_t scratch[network512::kMaxWires * network512::kLanes];
    std::vector<T> group(static_cast<size_t>(lanes * num_ranks));
    // The `live` rows idx[0, live) through the network (the last one repeated in the other
    // lanes); ahead: the next rows' bytes, prefetched along the way.
    auto run = [&](const int64_t* idx, int64_t live, const char* ahead, int64_t ahead_bytes) {
      const T* rows[lanes];
      T* found[lanes];
      for (int l = 0; l < lanes; ++l) {
        const int64_t r = idx[std::min<int64_t>(l, live - 1)];
        rows[l] = data + r * n;
        found[l] = direct != nullptr && l < live ? static_cast<T*>(direct) + r * num_levels
                                                 : group.data() + l * num_ranks;
      }
      if (network512::select_rows(network512::Rows<T>{rows}, n, ranks, num_ranks, found, scratch, ahead,
                                  ahead_bytes)) {
        for (int64_t l = 0; l < live; ++l) one_row(idx[l], false);
      } else if (direct == nullptr) {
        for (int64_t l = 0; l < live; ++l) finish(idx[l], found[l]);
      }
    };
    // Rows [r, r + live) as they lie. The network reads its rows a tile at a time, a pattern
    // the hardware prefetcher does not follow: the next group is fetched in order meanwhile.
    auto run_contiguous = [&](int64_t r, int64_t live) {
      int64_t idx[lanes];
      for (int64_t l = 0; l < live; ++l) idx[l] = r + l;
      const int64_t ahead_rows = std::max<int64_t>(0, std::min<int64_t>(lanes, r1 - r - lanes));
      run(idx, live, reinterpret_cast<const char*>(data + (r + lanes) * n), ahead_rows * n * int64_t{sizeof(T)});
    };
    if (n <= kNetworkAllRows) {
      int64_t r = r0;
      for (; r1 - r >= min_group; r += lanes) run_contiguous(r, std::min<int64_t>(lanes, r1 - r));
      return std::min(r, r1);
    }
    int64_t pending[lanes];
    int64_t live = 0;
    for (int64_t r = r0; r < r1;) {
      // Rows whose first values are whole numbers are scanned (and counted if they are whole
      // and narrow); the scan is not spent on the others, continuous rows in practice. A group
      // of such rows in a row goes through the network as it lies, with the next prefetched.
      bool any_whole = r1 - r < lanes;
      for (int64_t l = 0; l < lanes && !any_whole; ++l) any_whole = network512::whole_prefix(data + (r + l) * n, n);
      if (!any_whole) {
        run_contiguous(r, lanes);
        r += lanes;
        continue;
      }
      for (const int64_t end = std::min<int64_t>(r + lanes, r1); r < end; ++r) {
        if (network512::whole_prefix(data + r * n, n) && one_row(r, true)) continue;
        pending[live++] = r;
        if (live == lanes) {
          run(pending, live, nullptr, 0);
          live = 0;
        }
      }
    }
    if (live >= min_group) {
      run(pending, live, nullptr, 0);
    } else {
      for (int64_t l = 0; l < live; ++l) one_row(pending[l], false);
    }
    return r1;
  }
#endif
  (void)data, (void)n, (void)ranks, (void)num_ranks, (void)direct, (void)num_levels, (void)one_row, (void)finish;
  return r0;
}

// Rows along a sample axis that is not last (inner > 1; a forecast's (series, samples, days)
// read over samples): 16 (float; int32 and int64 as floats) or 8 (double) consecutive positions
// of one outer index go through the sorting network as columns, where value j of the group is
// one contiguous vector: no transpose, and no strided scan of each row. Groups of fewer than a
// quarter of the lanes, and groups with a NaN or an integer past 2^24, go row by row. Returns
// the first row not done.
template <class T, class OneRow, class Finish>
int64_t column_network_rows(const T* data, int64_t n, int64_t inner, int64_t r0, int64_t r1, const int64_t* ranks,
                            int64_t num_ranks, void* direct, int64_t num_levels, OneRow& one_row, Finish& finish) {
#if defined(SKUCAST_HAVE_BUCKET_AVX512)
  using E = std::conditional_t<std::is_integral_v<T>, float, T>;  // what the network sorts
  constexpr int64_t lanes = network512::Elem<E>::kRows;
  constexpr int64_t min_group = lanes / 4;
  alignas(64) int32_t scratch[network512::kMaxWires * network512::kLanes];
  std::vector<E> group(static_cast<size_t>(lanes * num_ranks));
  std::vector<T> ints(static_cast<size_t>(num_ranks));  // an integer row's values, back from floats
  for (int64_t r = r0; r < r1;) {
    const int64_t o = r / inner, i = r - o * inner;
    const int64_t live = std::min(std::min(lanes, r1 - r), inner - i);
    if (live < min_group) {
      for (int64_t l = 0; l < live; ++l) one_row(r + l, false);
      r += live;
      continue;
    }
    E* found[lanes];
    for (int64_t l = 0; l < lanes; ++l) {
      found[l] = group.data() + l * num_ranks;
      if constexpr (std::is_same_v<E, T>) {  // float rows: the values straight into the output rows
        if (direct != nullptr && l < live) found[l] = static_cast<T*>(direct) + (r + l) * num_levels;
      }
    }
    const T* base = data + o * n * inner + i;
    const auto mask = bucket512::first_lanes(live);
    uint32_t redo;
    if constexpr (std::is_integral_v<T>)
      redo = network512::select_rows(network512::IntColumns<T>{base, inner, mask}, n, ranks, num_ranks, found, scratch,
                                     nullptr, 0);
    else
      redo = network512::select_rows(
          network512::Columns<T>{base, inner, static_cast<typename network512::Columns<T>::Mask>(mask)}, n, ranks,
          num_ranks, found, scratch, nullptr, 0);
    for (int64_t l = 0; l < live; ++l) {
      if (redo) {
        one_row(r + l, false);
      } else if constexpr (std::is_integral_v<T>) {
        T* dst = direct != nullptr ? static_cast<T*>(direct) + (r + l) * num_levels : ints.data();
        for (int64_t k = 0; k < num_ranks; ++k) dst[k] = static_cast<T>(found[l][k]);  // whole, |x| <= 2^24: exact
        if (direct == nullptr) finish(r + l, dst);
      } else if (direct == nullptr) {
        finish(r + l, found[l]);
      }
    }
    r += live;
  }
  return r1;
#else
  (void)data, (void)n, (void)inner, (void)ranks, (void)num_ranks, (void)direct, (void)num_levels, (void)one_row,
      (void)finish;
  return r0;
#endif
}

template <class T>
bool use_column_network(int64_t n, int64_t inner) {
#if defined(SKUCAST_HAVE_BUCKET_AVX512)
  return inner > 1 && n >= 1 && n <= network512::kMaxWires && use_avx512();
#endif
  (void)n, (void)inner;
  return false;
}

template <class T>
bool use_network(int64_t n, int64_t inner) {
#if defined(SKUCAST_HAVE_BUCKET_AVX512)
  if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double>)
    return inner == 1 && n >= 1 && n <= network512::kMaxWires && use_avx512();
#endif
  (void)n, (void)inner;
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
  const bool by_network = use_network<T>(n, inner);
  const bool by_columns = !by_network && use_column_network<T>(n, inner);
  int64_t grain = std::max<int64_t>(1, 8192 / std::max<int64_t>(n, 1));
  if (by_network || by_columns) grain = (grain + network512::kLanes - 1) / network512::kLanes * network512::kLanes;
  // Column groups lie within one outer index: chunks of whole outer indices keep them full.
  if (by_columns && inner <= 4096) grain = (grain + inner - 1) / inner * inner;
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
    FloatCopy float_copy;  // integer rows counted as floats
    BadValue first;
    // The output row from the values at the plan's ranks.
    auto finish = [&](int64_t r, const T* found) {
      if (linear) {
        double* dst = static_cast<double*>(out) + r * num_levels;
        if (!lerp_levels(found, plan, num_levels, dst))
          for (int64_t l = 0; l < num_levels; ++l)
            dst[l] = quantile::lerp_like_numpy(found[plan.lo_pos[l]], found[plan.hi_pos[l]], plan.gamma[l]);
      } else if (!direct_out) {
        T* dst = static_cast<T*>(out) + r * num_levels;
        for (int64_t l = 0; l < num_levels; ++l) dst[l] = found[plan.lo_pos[l]];
      }
    };
    // One row by itself; with defer_selection, only a row that is counted (or has a NaN) is done
    // and true returned. Returns whether the row is done.
    auto one_row = [&](int64_t r, bool defer_selection) {
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
        return true;
      }
      // inverted_cdf with one rank per level (the usual case): the values are the output row.
      T* found = direct_out ? static_cast<T*>(out) + r * num_levels : values.data();
      const double range = static_cast<double>(hi) - static_cast<double>(lo);
      // Buckets are indexed through doubles: only for values they hold exactly.
      const bool exact = std::fabs(static_cast<double>(lo)) < 4.5e15 && std::fabs(static_cast<double>(hi)) < 4.5e15;
      if (whole && exact && range < (defer_selection ? kNetworkCountRange : max_count_range)) {
        if (!count_by_buckets(src, n, inner, lo, range, plan.ranks.data(), num_ranks, found, buckets, float_copy)) {
          hist.resize(4 * (static_cast<size_t>(range) + 1));
          quantile::count_ranks(src, n, inner, static_cast<double>(lo), hist, plan.ranks.data(), num_ranks,
                                found);
        }
      } else {
        if (defer_selection) return false;
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
      // Zeros as a sort orders them (-0.0 first): counting loses the sign, and a selection picks
      // either zero of a row holding both; the network sorts them so. Whatever path a row takes
      // (which can depend on how the rows are grouped, so on the thread count), the same bits.
      if constexpr (!std::is_integral_v<T>) {
        if (scan.negative_zero) quantile::sign_zeros(src, n, inner, plan.ranks.data(), num_ranks, found);
      }
      finish(r, found);
      return true;
    };
    int64_t r = r0;
    if (by_network) r = network_rows(data, n, r0, r1, plan.ranks.data(), num_ranks, direct_out ? out : nullptr,
                                     num_levels, one_row, finish);
    if (by_columns) r = column_network_rows(data, n, inner, r0, r1, plan.ranks.data(), num_ranks,
                                            direct_out ? out : nullptr, num_levels, one_row, finish);
    for (; r < r1; ++r) one_row(r, false);
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
