// The retail fast path of plan_orders and replenish, 4 rows per AVX2 step: (R, S) orders from
// the normal levels (or from S given per row), whole case packs, moq, and the reason codes, for
// rows whose inputs are all regular. Rows of a
// group with anything unusual (a bad value to report, or magnitudes past 2^50) are left to the
// caller's row-by-row code, which also names the first bad row. Same results as that code: all
// quantities are integers below 2^52, so the double arithmetic is exact (ceil of a correctly
// rounded q / cp is the exact ceiling for q < 2^52).
#pragma once
#include <cstdint>
#include <cstring>
#if defined(__AVX2__)
#include <immintrin.h>
#endif

namespace skucast {
namespace cpu {

// Inputs of one block: contiguous per-row arrays, the rest scalar and already checked
// (backorders >= 0, case_pack >= 1, moq >= 0, start >= 0, review >= 0, no horizon).
struct RsBlockArgs {
  const double* mu;     // nullptr: no NB parameters (replenish, S given)
  const double* alpha;
  const int64_t* lead;
  const int64_t* on_hand;
  const int64_t* on_order;
  const double* S;        // levels ceil(m + z sd) of these rows (plan_orders), or nullptr and
  const int64_t* S_rows;  // S given per row (replenish): 0 <= S < 2^50 in the vector path
  double backorders, case_pack, moq_cases;
};

#if defined(__AVX2__)
// Reason bytes of 4 rows from two 4-bit masks: at-or-above-target (1) | raised-to-moq (3).
inline uint32_t rs_reason_bytes(int at_target, int raised) {
  uint32_t out = 0;
  for (int j = 0; j < 4; ++j) out |= static_cast<uint32_t>(((at_target >> j) & 1) | (((raised >> j) & 1) * 3)) << (8 * j);
  return out;
}

// Rows [0, n) of the block, 4 at a time; calls row(k) for the rows of groups it leaves
// (and for the tail). order / reason: this block's outputs.
template <class Row>
void rs_rows_avx2(const RsBlockArgs& a, int64_t n, int64_t* order, int8_t* reason, Row&& row) {
  static const uint32_t* table = [] {
    static uint32_t t[256];
    for (int m = 0; m < 256; ++m) t[m] = rs_reason_bytes(m & 15, m >> 4);
    return t;
  }();
  const __m256d zero = _mm256_setzero_pd(), inf = _mm256_set1_pd(INFINITY);
  const __m256d limit = _mm256_set1_pd(1125899906842624.0);  // 2^50
  const __m256d magic = _mm256_set1_pd(4503599627370496.0);  // 2^52: exact double <-> int64 below 2^51
  const __m256i magic_bits = _mm256_set1_epi64x(INT64_C(0x4330000000000000));
  const __m256i big = _mm256_set1_epi64x(INT64_C(1) << 50), neg1 = _mm256_set1_epi64x(-1);
  const __m256i big_mask = _mm256_set1_epi64x((INT64_C(1) << 50) - 1);
  const __m256i max_days = _mm256_set1_epi64x(INT64_C(1) << 40);  // longer lead times: the row code refuses them
  const __m256d bo = _mm256_set1_pd(a.backorders), cp = _mm256_set1_pd(a.case_pack), moq_c = _mm256_set1_pd(a.moq_cases);
  auto to_double = [&](__m256i v) {  // 0 <= v < 2^51
    return _mm256_sub_pd(_mm256_castsi256_pd(_mm256_or_si256(v, magic_bits)), magic);
  };
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) {
    const __m256i oh = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a.on_hand + i));
    const __m256i oo = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a.on_order + i));
    // regular: 0 <= oh, oo < 2^50; with NB parameters 0 <= lead < 2^40, mu and alpha finite >= 0
    // and S < 2^50 (NaN fails every test); with S given 0 <= S < 2^50
    __m256i int_ok = _mm256_and_si256(_mm256_and_si256(_mm256_cmpgt_epi64(oh, neg1), _mm256_cmpgt_epi64(big, oh)),
                                      _mm256_and_si256(_mm256_cmpgt_epi64(oo, neg1), _mm256_cmpgt_epi64(big, oo)));
    __m256d S, fp_ok = _mm256_castsi256_pd(neg1);
    if (a.mu) {
      const __m256i lt = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a.lead + i));
      const __m256d mu = _mm256_loadu_pd(a.mu + i), al = _mm256_loadu_pd(a.alpha + i);
      S = _mm256_loadu_pd(a.S + i);
      int_ok = _mm256_and_si256(int_ok, _mm256_and_si256(_mm256_cmpgt_epi64(lt, neg1), _mm256_cmpgt_epi64(max_days, lt)));
      fp_ok = _mm256_and_pd(
          _mm256_and_pd(_mm256_and_pd(_mm256_cmp_pd(mu, zero, _CMP_GE_OQ), _mm256_cmp_pd(mu, inf, _CMP_LT_OQ)),
                        _mm256_and_pd(_mm256_cmp_pd(al, zero, _CMP_GE_OQ), _mm256_cmp_pd(al, inf, _CMP_LT_OQ))),
          _mm256_cmp_pd(S, limit, _CMP_LT_OQ));
    } else {
      const __m256i Si = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a.S_rows + i));
      int_ok = _mm256_and_si256(int_ok, _mm256_and_si256(_mm256_cmpgt_epi64(Si, neg1), _mm256_cmpgt_epi64(big, Si)));
      S = to_double(_mm256_and_si256(Si, big_mask));  // (lanes out of range fail int_ok)
    }
    if (_mm256_movemask_pd(_mm256_and_pd(fp_ok, _mm256_castsi256_pd(int_ok))) != 15) {
      for (int k = 0; k < 4; ++k) row(i + k);
      continue;
    }
    const __m256d ip = _mm256_sub_pd(_mm256_add_pd(to_double(oh), to_double(oo)), bo);
    const __m256d q0 = _mm256_max_pd(_mm256_sub_pd(_mm256_max_pd(S, zero), ip), zero);  // max(S - IP, 0)
    __m256d q = _mm256_mul_pd(_mm256_round_pd(_mm256_div_pd(q0, cp), _MM_FROUND_TO_POS_INF | _MM_FROUND_NO_EXC), cp);
    const __m256d raised = _mm256_and_pd(_mm256_cmp_pd(q, zero, _CMP_GT_OQ), _mm256_cmp_pd(q, moq_c, _CMP_LT_OQ));
    q = _mm256_blendv_pd(q, moq_c, raised);
    const __m256i qi = _mm256_sub_epi64(_mm256_castpd_si256(_mm256_add_pd(q, magic)), magic_bits);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(order + i), qi);
    const int m = _mm256_movemask_pd(_mm256_cmp_pd(q0, zero, _CMP_EQ_OQ)) | (_mm256_movemask_pd(raised) << 4);
    std::memcpy(reason + i, table + m, 4);
  }
  for (; i < n; ++i) row(i);
}
#endif

}  // namespace cpu
}  // namespace skucast
