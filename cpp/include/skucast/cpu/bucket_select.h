// Exact order statistics of one contiguous row by value buckets: a monotone bucket id per value
// (one multiply, eight values at a time for float rows), then only the buckets that hold a
// wanted rank are sorted. Any monotone bucketing gives the same values, so the ids need only be
// consistent within a row. Holds the portable selection and the pieces the AVX-512 one shares
// (bucket map, histogram, the float order of ties).
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <vector>

#if defined(__AVX2__)
#include <immintrin.h>
#endif

namespace skucast {
namespace cpu {

struct WantedBucket {
  int32_t bucket;
  int64_t before, count;  // values in lower buckets, values in this one
};

template <class T>
struct BucketScratch {
  std::vector<int32_t> ids, counts;
  std::vector<T> members;  // the wanted bucket's values (the AVX-512 path pads it by a vector)
  // AVX-512 path only: the wanted buckets, and the values (and ids) of all of them
  std::vector<WantedBucket> wanted;
  std::vector<int32_t> cand_ids, cand_keys, cand_pos, rank_slot, sorted_keys;
  std::vector<uint8_t> bytes;  // AVX-512 count path: values - lo as bytes
};

// The arithmetic type of the bucket map: float rows stay in float (the vector lanes use it too).
template <class T>
using BucketKey = std::conditional_t<std::is_same_v<T, float>, float, double>;

template <class T>
inline int32_t bucket_id(T x, BucketKey<T> lo, BucketKey<T> scale, int32_t last) {
  const int32_t b = static_cast<int32_t>((static_cast<BucketKey<T>>(x) - lo) * scale);
  return b < last ? b : last;
}

template <class T>
inline void bucket_ids(const T* row, int64_t n, BucketKey<T> lo, BucketKey<T> scale, int32_t last, int32_t* ids) {
  int64_t j = 0;
#if defined(__AVX2__)
  if constexpr (std::is_same_v<T, float>) {
    const __m256 vlo = _mm256_set1_ps(lo), vscale = _mm256_set1_ps(scale);
    const __m256i vlast = _mm256_set1_epi32(last);
    for (; j + 8 <= n; j += 8) {
      const __m256 t = _mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(row + j), vlo), vscale);
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(ids + j), _mm256_min_epi32(_mm256_cvttps_epi32(t), vlast));
    }
  }
#endif
  for (; j < n; ++j) ids[j] = bucket_id(row[j], lo, scale, last);
}

// Ties of -0.0 and 0.0 are ordered -0.0 first (a total order on float bits), so every float
// path, vector or scalar, returns the same zero; numpy's own order of such ties is unspecified.
inline int32_t float_order_key(float x) {
  int32_t bits;
  std::memcpy(&bits, &x, sizeof bits);
  return bits ^ ((bits >> 31) & 0x7fffffff);
}

template <class T>
inline bool order_less(T a, T b) {
  if constexpr (std::is_same_v<T, float>) return float_order_key(a) < float_order_key(b);
  return a < b;
}

template <class T>
inline void sort_small(T* v, int64_t n) {
  if (n > 24) {
    std::sort(v, v + n, order_less<T>);
    return;
  }
  for (int64_t i = 1; i < n; ++i) {
    const T x = v[i];
    int64_t j = i;
    for (; j > 0 && order_less(x, v[j - 1]); --j) v[j] = v[j - 1];
    v[j] = x;
  }
}

// ~2 values per bucket up to 64 buckets (the register path's table), ~4 past that: few enough
// to sort the wanted buckets in registers or by insertion.
inline int32_t bucket_count(int64_t n) {
  int32_t buckets = 16;
  while (static_cast<int64_t>(buckets) * 2 < n && buckets < 64) buckets *= 2;
  while (static_cast<int64_t>(buckets) * 4 < n && buckets < (1 << 20)) buckets *= 2;
  return buckets;
}

// Adds the ids' counts into `copies` interleaved histograms (copy k at hist + k * stride):
// runs of one id would otherwise chain every increment through one memory cell.
template <int copies>
inline void add_interleaved(const int32_t* ids, int64_t n, int32_t* hist, int64_t stride) {
  int64_t j = 0;
  for (; j + copies <= n; j += copies)
    for (int k = 0; k < copies; ++k) ++hist[k * stride + ids[j + k]];
  for (; j < n; ++j) ++hist[ids[j]];
}

// Returns the count of each bucket (in counts[0, buckets)).
inline const int32_t* bucket_histogram(const int32_t* ids, int64_t n, int32_t buckets, std::vector<int32_t>& counts) {
  counts.assign(4 * static_cast<size_t>(buckets), 0);
  int32_t* c = counts.data();
  add_interleaved<4>(ids, n, c, buckets);
  for (int32_t b = 0; b < buckets; ++b) c[b] += c[buckets + b] + c[2 * buckets + b] + c[3 * buckets + b];
  return c;
}

// Values of the sorted ranks (ascending, unique) of a contiguous row without NaN with minimum
// lo and maximum hi. Returns false when the spread is zero or not finite: the caller selects.
// The portable path: ~one value per bucket, a counting-sort scatter puts the row in bucket
// order (no branch per value), then only the buckets holding a wanted rank are sorted.
template <class T>
bool bucket_select(const T* row, int64_t n, T lo, T hi, const int64_t* ranks, int64_t num_ranks, T* values,
                   BucketScratch<T>& s) {
  using Key = BucketKey<T>;
  const int32_t buckets = static_cast<int32_t>(std::clamp<int64_t>(n, 16, int64_t{1} << 24));
  const Key spread = static_cast<Key>(hi) - static_cast<Key>(lo);
  const Key scale = static_cast<Key>(buckets) / spread;
  if (!(spread > 0 && spread < INFINITY && scale < INFINITY)) return false;
  s.ids.resize(static_cast<size_t>(n));
  bucket_ids(row, n, static_cast<Key>(lo), scale, buckets - 1, s.ids.data());
  const int32_t* ids = s.ids.data();
  s.counts.assign(static_cast<size_t>(buckets) + 1, 0);
  int32_t* end = s.counts.data() + 1;  // end[b]: first index past bucket b once scattered
  for (int64_t j = 0; j < n; ++j) ++end[ids[j]];
  int32_t* cursor = s.counts.data();  // cursor[b]: next free slot of bucket b (starts at end[b - 1])
  for (int32_t b = 0; b < buckets; ++b) end[b] += cursor[b];
  s.members.resize(static_cast<size_t>(n));
  T* sorted = s.members.data();
  for (int64_t j = 0; j < n; ++j) sorted[cursor[ids[j]]++] = row[j];  // cursor[b] ends at end[b]
  int32_t b = 0, sorted_upto = -1;  // buckets <= sorted_upto are sorted
  for (int64_t k = 0; k < num_ranks; ++k) {
    while (cursor[b] <= ranks[k]) ++b;
    if (b > sorted_upto) {
      const int32_t begin = b > 0 ? cursor[b - 1] : 0;
      sort_small(sorted + begin, cursor[b] - begin);
      sorted_upto = b;
    }
    values[k] = sorted[ranks[k]];
  }
  return true;
}

}  // namespace cpu
}  // namespace skucast
