// bucket_select for contiguous float rows with AVX-512, chosen at run time (use_avx512(), off
// with SKUCAST_NO_AVX512=1): coarse buckets (~2-4 values each), a histogram, then the values of
// the wanted buckets are picked out 16 at a time by compress stores (no branch per value) and
// sorted by bitonic networks in registers on the float order keys. Same keys, same order as
// sort_small, so both paths give the same bits.
#pragma once
#include "skucast/cpu/avx512.h"
SKUCAST_AVX512_WARNINGS_OFF
#include <cstdint>

#include "skucast/cpu/bucket_select.h"
#include "skucast/cpu/register_sort_avx512.h"

#if defined(__AVX2__) && defined(__GNUC__)
#define SKUCAST_HAVE_BUCKET_AVX512 1
#include <immintrin.h>

namespace skucast {
namespace cpu {

namespace bucket512 {

// float bits <-> float_order_key, lane-wise (the map is its own inverse).
SKUCAST_AVX512_FN __m512i order_keys(__m512i bits) {
  return _mm512_xor_si512(bits, _mm512_and_si512(_mm512_maskz_srai_epi32(0xffff, bits, 31), _mm512_set1_epi32(0x7fffffff)));
}

SKUCAST_AVX512_FN void ids16(const float* row, int64_t n, float lo, float scale, int32_t last, int32_t* ids) {
  const __m512 vlo = _mm512_set1_ps(lo), vscale = _mm512_set1_ps(scale);
  const __m512i vlast = _mm512_set1_epi32(last);
  for (int64_t j = 0; j < n; j += 16) {
    const __mmask16 m = n - j >= 16 ? __mmask16(0xffff) : static_cast<__mmask16>((1u << (n - j)) - 1);
    const __m512 t = _mm512_mul_ps(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, row + j), vlo), vscale);
    _mm512_mask_storeu_epi32(ids + j, m, _mm512_min_epi32(_mm512_cvttps_epi32(t), vlast));
  }
}

// Counts of ids in [0, buckets), buckets <= 256, into out (64-byte aligned, room for buckets
// rounded up to 16; the lanes past buckets get 0): bucket_histogram's interleaved copies on the
// stack, zeroed and summed 16 lanes at a time (a heap vector's fill cost more than the counting
// for short rows).
template <int copies>
SKUCAST_AVX512_FN void histogram_small(const int32_t* ids, int64_t n, int32_t buckets, int32_t* out) {
  alignas(64) int32_t c[copies][256];
  const int32_t regs = (buckets + 15) / 16;
  for (int k = 0; k < copies; ++k)
    for (int32_t v = 0; v < regs; ++v) _mm512_store_si512(c[k] + 16 * v, _mm512_setzero_si512());
  add_interleaved<copies>(ids, n, c[0], 256);
  for (int32_t v = 0; v < regs; ++v) {
    __m512i sum = _mm512_load_si512(c[0] + 16 * v);
    for (int k = 1; k < copies; ++k) sum = _mm512_add_epi32(sum, _mm512_load_si512(c[k] + 16 * v));
    _mm512_store_si512(out + 16 * v, sum);
  }
}

// The first `count` lanes (all 16 past that).
SKUCAST_AVX512_FN __mmask16 first_lanes(int64_t count) {
  return count >= 16 ? __mmask16(0xffff) : count <= 0 ? __mmask16(0) : static_cast<__mmask16>((1u << count) - 1);
}

// Up to 16 ranks as int32 lanes (rows of n < 2^31).
SKUCAST_AVX512_FN __m512i load_ranks(const int64_t* ranks, __mmask16 live) {
  const __m256i low = _mm512_cvtepi64_epi32(_mm512_maskz_loadu_epi64(static_cast<__mmask8>(live), ranks));
  const __m256i high = _mm512_cvtepi64_epi32(_mm512_maskz_loadu_epi64(static_cast<__mmask8>(live >> 8), ranks + 8));
  return _mm512_inserti64x4(_mm512_castsi256_si512(low), high, 1);
}

// Entry i (0..63, lane-wise) of a 64-entry table held in four registers.
SKUCAST_AVX512_FN __m512i lookup64(const __m512i* table, __m512i i) {
  const __m512i low = _mm512_permutex2var_epi32(table[0], i, table[1]);  // index bits 0..4
  const __m512i high = _mm512_permutex2var_epi32(table[2], i, table[3]);
  return _mm512_mask_blend_epi32(_mm512_test_epi32_mask(i, _mm512_set1_epi32(32)), low, high);
}

// Lane-wise, how many of 64 ascending ends are at or below r, if fewer than 64: a branchless
// binary search of six table lookups, for 16 ranks at once instead of a scalar count per rank
// (linear has 18 ranks at M5's 9 levels, inverted_cdf 9).
SKUCAST_AVX512_FN __m512i count_at_or_below(const __m512i* ends, __m512i r) {
  __m512i b = _mm512_setzero_si512();
  for (int32_t step = 32; step > 0; step /= 2) {
    const __m512i probe = _mm512_add_epi32(b, _mm512_set1_epi32(step - 1));
    b = _mm512_mask_add_epi32(b, _mm512_cmple_epi32_mask(lookup64(ends, probe), r), b, _mm512_set1_epi32(step));
  }
  return b;
}

// Copies the `count` values with id b into out (room for count + 16) by compress stores.
SKUCAST_AVX512_FN void members16(const float* row, const int32_t* ids, int64_t n, int32_t b, int64_t count,
                                 float* out) {
  const __m512i vb = _mm512_set1_epi32(b);
  int64_t c = 0;
  for (int64_t j = 0; j < n && c < count; j += 16) {
    const __mmask16 live = n - j >= 16 ? __mmask16(0xffff) : static_cast<__mmask16>((1u << (n - j)) - 1);
    const __mmask16 m = _mm512_mask_cmpeq_epi32_mask(live, _mm512_maskz_loadu_epi32(live, ids + j), vb);
    _mm512_storeu_ps(out + c, _mm512_maskz_compress_ps(m, _mm512_maskz_loadu_ps(live, row + j)));
    c += _mm_popcnt_u32(static_cast<uint32_t>(m));  // 32-bit: a 16-bit popcnt would merge into the old register
  }
}

// Rows of up to 64 buckets: one pass copies the order keys (and ids) of every wanted bucket,
// found by a 64-entry table lookup in registers, so each wanted bucket is then picked out of a
// few candidates instead of the whole row. Returns the number of candidates.
template <bool with_ids>
SKUCAST_AVX512_FN int64_t wanted_candidates(const float* row, const int32_t* ids, int64_t n, const int32_t* wanted64,
                                            int32_t* cand_keys, int32_t* cand_ids) {
  const __m512i wanted[4] = {_mm512_load_si512(wanted64), _mm512_load_si512(wanted64 + 16),
                             _mm512_load_si512(wanted64 + 32), _mm512_load_si512(wanted64 + 48)};
  int64_t c = 0;
  for (int64_t j = 0; j < n; j += 16) {
    const __mmask16 live = n - j >= 16 ? __mmask16(0xffff) : static_cast<__mmask16>((1u << (n - j)) - 1);
    const __m512i id = _mm512_maskz_loadu_epi32(live, ids + j);
    const __m512i flag = lookup64(wanted, id);
    const __mmask16 m = _mm512_mask_test_epi32_mask(live, flag, flag);
    const __m512i keys = order_keys(_mm512_maskz_loadu_epi32(live, row + j));
    _mm512_storeu_si512(cand_keys + c, _mm512_maskz_compress_epi32(m, keys));
    if constexpr (with_ids) _mm512_storeu_si512(cand_ids + c, _mm512_maskz_compress_epi32(m, id));
    c += _mm_popcnt_u32(static_cast<uint32_t>(m));
  }
  return c;
}

// The keys of bucket b (at most 16 members) gathered from the candidates in a register, from
// lane `first` on: each vector's members are compressed, then expanded into the next free lanes
// (no store and reload, which would stall on store forwarding). Two buckets of <= 8 share one
// register (first = 0 and 8). Unused lanes keep INT32_MAX (sorts last).
SKUCAST_AVX512_FN __m512i gather_bucket(const int32_t* cand_keys, const int32_t* cand_ids, int64_t num, int32_t b,
                                        uint32_t first, __m512i acc) {
  const __m512i vb = _mm512_set1_epi32(b);
  uint32_t c = first;
  for (int64_t j = 0; j < num; j += 16) {
    const __mmask16 live = num - j >= 16 ? __mmask16(0xffff) : static_cast<__mmask16>((1u << (num - j)) - 1);
    const __mmask16 m = _mm512_mask_cmpeq_epi32_mask(live, _mm512_maskz_loadu_epi32(live, cand_ids + j), vb);
    const uint32_t pop = _mm_popcnt_u32(static_cast<uint32_t>(m));
    const __mmask16 lanes = static_cast<__mmask16>(((1u << pop) - 1) << c);
    acc = _mm512_mask_expand_epi32(acc, lanes, _mm512_maskz_compress_epi32(m, _mm512_loadu_si512(cand_keys + j)));
    c += pop;
  }
  return acc;
}

}  // namespace bucket512

// Rows of up to 64 buckets (n <= 256): bucket of each rank by a vector binary search of the
// running counts, 16 ranks at a time, one candidate pass, then all candidates sorted at once in registers (up to
// 64, the usual case) or else one register sort per wanted bucket of at most 16. No branch on
// the data inside a path. Returns false (nothing written) when neither fits.
SKUCAST_AVX512_FN bool select_small_rows(const float* row, const int32_t* ids, int64_t n, const int32_t* counts,
                                         int32_t buckets, const int64_t* ranks, int64_t num_ranks, float* values,
                                         BucketScratch<float>& s) {
  // e: the running counts (bucket ends), INT32_MAX past the last bucket; wanted64[b]: wanted or not
  alignas(64) int32_t wanted64[64] = {};
  __m512i e[4];
  __m512i carry = _mm512_setzero_si512();
  for (int v = 0; v < 4; ++v) {
    const int32_t left = buckets - 16 * v;
    const __mmask16 valid = left >= 16 ? __mmask16(0xffff) : left <= 0 ? __mmask16(0) : __mmask16((1u << left) - 1);
    const __m512i sums = _mm512_add_epi32(bucket512::prefix16(_mm512_maskz_loadu_epi32(valid, counts + 16 * v)), carry);
    carry = _mm512_permutexvar_epi32(_mm512_set1_epi32(15), sums);
    e[v] = _mm512_mask_mov_epi32(_mm512_set1_epi32(INT32_MAX), valid, sums);  // past the last bucket: never below
  }
  // Bucket of each rank, 16 ranks at a time; ranks index the sorted candidates (the wanted
  // buckets' values, in bucket order) at the values of the wanted buckets below plus the rank
  // within its bucket. rank_slot: per rank its bucket, then per rank its place in the bucket.
  s.rank_slot.resize(static_cast<size_t>(2 * num_ranks));
  int32_t* rank_bucket = s.rank_slot.data();
  int32_t* rank_within = rank_bucket + num_ranks;
  s.cand_pos.resize(static_cast<size_t>(num_ranks));
  int32_t* cand_pos = s.cand_pos.data();
  uint64_t wanted_bits = 0;
  for (int64_t k = 0; k < num_ranks; k += 16) {
    const __mmask16 live = bucket512::first_lanes(num_ranks - k);
    const __m512i r = bucket512::load_ranks(ranks + k, live);
    const __m512i b = bucket512::count_at_or_below(e, r);
    const __m512i before = _mm512_maskz_mov_epi32(_mm512_test_epi32_mask(b, b),
                                                  bucket512::lookup64(e, _mm512_sub_epi32(b, _mm512_set1_epi32(1))));
    _mm512_mask_storeu_epi32(rank_bucket + k, live, b);
    _mm512_mask_storeu_epi32(rank_within + k, live, _mm512_sub_epi32(r, before));
  }
  for (int64_t k = 0; k < num_ranks; ++k) {
    wanted64[rank_bucket[k]] = 1;
    wanted_bits |= uint64_t{1} << rank_bucket[k];
  }
  // Candidates below each bucket: running sums of the wanted buckets' counts.
  __m512i wanted_below[4];
  carry = _mm512_setzero_si512();
  for (int v = 0; v < 4; ++v) {
    const __m512i c = _mm512_maskz_loadu_epi32(static_cast<__mmask16>(wanted_bits >> (16 * v)), counts + 16 * v);
    const __m512i sums = _mm512_add_epi32(bucket512::prefix16(c), carry);
    carry = _mm512_permutexvar_epi32(_mm512_set1_epi32(15), sums);
    wanted_below[v] = _mm512_sub_epi32(sums, c);
  }
  const int32_t total = _mm_cvtsi128_si32(_mm512_castsi512_si128(carry));
  for (int64_t k = 0; k < num_ranks; k += 16) {
    const __mmask16 live = bucket512::first_lanes(num_ranks - k);
    const __m512i b = _mm512_maskz_loadu_epi32(live, rank_bucket + k);
    const __m512i within = _mm512_maskz_loadu_epi32(live, rank_within + k);
    _mm512_mask_storeu_epi32(cand_pos + k, live, _mm512_add_epi32(bucket512::lookup64(wanted_below, b), within));
  }
  // More than 64 candidates: one register sort per wanted bucket, if none holds more than 16.
  int64_t distinct = 0, largest = 0;
  if (total > 64) {
    s.wanted.resize(static_cast<size_t>(num_ranks));
    int32_t previous = -1;
    for (int64_t k = 0; k < num_ranks; ++k) {  // rank_bucket: to the index among the wanted ones
      const int32_t b = rank_bucket[k], before = static_cast<int32_t>(ranks[k]) - rank_within[k];
      s.wanted[distinct] = WantedBucket{b, before, counts[b]};
      distinct += b != previous;
      previous = b;
      largest = std::max<int64_t>(largest, counts[b]);
      rank_bucket[k] = static_cast<int32_t>(distinct - 1);
    }
    if (largest > 16) return false;
  }
  s.cand_ids.resize(static_cast<size_t>(n + 16));
  s.cand_keys.resize(static_cast<size_t>(n + 16));
  // Bucket ids of the candidates only for the per-bucket sorts (more than 64 candidates).
  const int64_t num = total <= 64 ? bucket512::wanted_candidates<false>(row, ids, n, wanted64, s.cand_keys.data(), nullptr)
                                  : bucket512::wanted_candidates<true>(row, ids, n, wanted64, s.cand_keys.data(),
                                                                       s.cand_ids.data());
  const int32_t* keys = s.cand_keys.data();
  const __m512i pad = _mm512_set1_epi32(INT32_MAX);
  if (num <= 64) {  // the usual case: sort every candidate at once, in registers
    const int regs = static_cast<int>((num + 15) / 16) + (num == 0);
    __m512i v[4] = {pad, pad, pad, pad};
    for (int i = 0; i < regs; ++i) v[i] = _mm512_mask_loadu_epi32(pad, bucket512::first_lanes(num - 16 * i), keys + 16 * i);
    bucket512::sort_registers(v, regs);
    // The values straight from the sorted registers, 16 ranks at a time (no store and reload).
    for (int64_t k = 0; k < num_ranks; k += 16) {
      const __mmask16 live = bucket512::first_lanes(num_ranks - k);
      const __m512i key = bucket512::lookup64(v, _mm512_maskz_loadu_epi32(live, cand_pos + k));
      _mm512_mask_storeu_epi32(values + k, live, bucket512::order_keys(key));
    }
    return true;
  }
  s.sorted_keys.resize(static_cast<size_t>(16 * distinct));
  const int32_t* cand = s.cand_ids.data();
  const __m512i upper_reversed = _mm512_set_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  for (int64_t d = 0; d < distinct;) {
    int32_t* out = s.sorted_keys.data() + 16 * d;
    if (d + 1 < distinct && s.wanted[d].count <= 8 && s.wanted[d + 1].count <= 8) {
      __m512i both = bucket512::gather_bucket(keys, cand, num, s.wanted[d].bucket, 0, pad);
      both = bucket512::gather_bucket(keys, cand, num, s.wanted[d + 1].bucket, 8, both);
      both = bucket512::bitonic_layers<6>(both);  // lanes 0-7 ascending, 8-15 descending
      _mm512_storeu_si512(out, both);
      _mm512_storeu_si512(out + 16, _mm512_permutexvar_epi32(upper_reversed, both));
      d += 2;
    } else {
      _mm512_storeu_si512(out, bucket512::sort16(bucket512::gather_bucket(keys, cand, num, s.wanted[d].bucket, 0, pad)));
      d += 1;
    }
  }
  for (int64_t k = 0; k < num_ranks; ++k) {
    const int32_t key = s.sorted_keys[16 * static_cast<size_t>(rank_bucket[k]) + rank_within[k]];
    const int32_t bits = key ^ ((key >> 31) & 0x7fffffff);
    std::memcpy(values + k, &bits, sizeof bits);
  }
  return true;
}

SKUCAST_AVX512_FN bool bucket_select_avx512(
    const float* row, int64_t n, float lo, float hi, const int64_t* ranks, int64_t num_ranks, float* values,
    BucketScratch<float>& s) {
  const int32_t buckets = bucket_count(n);
  const float spread = hi - lo;
  const float scale = static_cast<float>(buckets) / spread;
  if (!(spread > 0 && spread < INFINITY && scale < INFINITY)) return false;
  s.ids.resize(static_cast<size_t>(n));
  if (s.members.size() < static_cast<size_t>(n + 16)) s.members.resize(static_cast<size_t>(n + 16));
  bucket512::ids16(row, n, lo, scale, buckets - 1, s.ids.data());
  const int32_t* ids = s.ids.data();
  alignas(64) int32_t small_counts[64];
  // Continuous rows rarely put neighbours in one of 64 buckets: two copies break what runs there are.
  if (buckets <= 64) bucket512::histogram_small<2>(ids, n, buckets, small_counts);
  const int32_t* counts = buckets <= 64 ? small_counts : bucket_histogram(ids, n, buckets, s.counts);
  if (buckets <= 64 && select_small_rows(row, ids, n, counts, buckets, ranks, num_ranks, values, s)) return true;
  // The distinct buckets holding a wanted rank, with the values below each and its count.
  s.wanted.clear();
  {
    int64_t before = 0, count = counts[0];
    int32_t b = 0;
    for (int64_t k = 0; k < num_ranks; ++k) {
      while (before + count <= ranks[k]) {
        before += count;
        count = counts[++b];
      }
      if (s.wanted.empty() || s.wanted.back().bucket != b) s.wanted.push_back({b, before, count});
    }
  }
  float* members = s.members.data();
  alignas(64) float sorted16[16];
  const float* sorted = sorted16;
  size_t w = 0, loaded = SIZE_MAX;
  for (int64_t k = 0; k < num_ranks; ++k) {
    while (s.wanted[w].before + s.wanted[w].count <= ranks[k]) ++w;
    const WantedBucket& bucket = s.wanted[w];
    if (w != loaded) {
      bucket512::members16(row, ids, n, bucket.bucket, bucket.count, members);
      if (bucket.count <= 16) {
        const __mmask16 m = static_cast<__mmask16>((1u << bucket.count) - 1);
        __m512i keys = bucket512::order_keys(_mm512_castps_si512(_mm512_maskz_loadu_ps(m, members)));
        keys = _mm512_mask_mov_epi32(_mm512_set1_epi32(INT32_MAX), m, keys);  // padding sorts last
        _mm512_store_si512(sorted16, bucket512::order_keys(bucket512::sort16(keys)));
        sorted = sorted16;
      } else {
        sort_small(members, bucket.count);
        sorted = members;
      }
      loaded = w;
    }
    values[k] = sorted[ranks[k] - bucket.before];
  }
  return true;
}

}  // namespace cpu
}  // namespace skucast
#endif
SKUCAST_AVX512_WARNINGS_ON
