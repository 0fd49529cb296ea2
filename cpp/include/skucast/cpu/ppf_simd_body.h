// nb::ppf's small-mean walk on kLanes lanes, included by cpu/nb_simd.h after
// cpu/logpmf_simd_body.h (same namespace and macros; no include guard on purpose). Unlike
// logpmf it need not repeat the scalar bits: the walk's running sum stays within ~k ulps of
// cdf(), so away from a near-tie it decides the same k as the scalar walk, and near one the
// lane goes to the scalar nb::ppf, which settles it with cdf() itself. Both give the exact
// quantile (smallest k with cdf(k) >= q).

#define SKUCAST_SIMD_FN SKUCAST_SIMD_TARGET inline __attribute__((always_inline))

namespace skucast {
namespace SKUCAST_SIMD_NS {

// a * b + c rounded once. The walk's pmf ratio shrink (1 + alpha (k - 1)) / k becomes
// (shrink + growth (k - 1)) / k with growth = shrink alpha: one fused step, and fewer roundings,
// instead of a multiply, an add and a multiply (all parts are positive, so nothing cancels).
SKUCAST_SIMD_FN D fused_multiply_add(D a, D b, D c) {
#if SKUCAST_SIMD_LANES == 8
  return (D)_mm512_fmadd_pd((__m512d)a, (__m512d)b, (__m512d)c);
#elif defined(__FMA__)
  return (D)_mm256_fmadd_pd((__m256d)a, (__m256d)b, (__m256d)c);
#else
  return a * b + c;
#endif
}

// exp(x) for x in [-745, 0]: fdlibm's e_exp.c reduction by k ln2 in two parts, then exp(r) on
// |r| <= ln2/2 by its Taylor series to r^12 (the rest is < 2e-16 relative) in fused steps:
// < 2 ulps, well inside the walk's tie margin, and no division (slow on 8 lanes; the start
// has two more).
SKUCAST_SIMD_FN D exp_nonpositive(D x) {
  constexpr double kInvLn2 = 1.44269504088896338700e+00;
  constexpr double kLn2Hi = 6.93147180369123816490e-01, kLn2Lo = 1.90821492927058770002e-10;
  const D magic = splat(6755399441055744.0);  // 1.5 * 2^52: adding it rounds to an integer
  const D kd = (x * kInvLn2 + magic) - magic;
  const D hi = x - kd * kLn2Hi;  // exact: kLn2Hi has trailing zero bits
  const D r = hi - kd * kLn2Lo;
  D y = splat(1.0 / 479001600.0);  // 1/12!
  constexpr double kInvFactorial[12] = {1.0, 1.0, 1.0 / 2, 1.0 / 6, 1.0 / 24, 1.0 / 120, 1.0 / 720,
                                        1.0 / 5040, 1.0 / 40320, 1.0 / 362880, 1.0 / 3628800,
                                        1.0 / 39916800};
  for (int n = 11; n >= 0; --n) y = fused_multiply_add(y, r, splat(kInvFactorial[n]));
  // 2^k in two halves so that k down to -1074 stays representable.
  const U k_bits = (U)(kd + magic) - (U)magic;  // k as a two's-complement integer
  const U half = (U)((I64)k_bits >> 1);
  const D scale_a = (D)((half + 1023) << 52);
  const D scale_b = (D)((k_bits - half + 1023) << 52);
  return (y * scale_a) * scale_b;
}

// Lanes of nb::ppf's small-mean walk: add pmf terms from k = 0 until the running sum reaches
// q. The walk runs in passes over windows of k ([1, 17), [17, 33), [33, 65), ...): every lane of
// a pass is at the same k, so 1/k is one scalar, and lanes still below q at the end of a window
// are queued for the next pass, so a long walk does not hold up the lanes that stop early.
struct WalkQueue {
  static constexpr int kCapacity = 256;  // elements per block
  static constexpr int kSlots = kCapacity + 1;  // one spare: lanes are written before they count
  double term[kSlots], sum[kSlots], shrink[kSlots], growth[kSlots], q[kSlots], log_p0[kSlots];
  int64_t index[kSlots];
  int size = 0;
};

struct WalkLanes {
  D term, sum, shrink, growth, q, log_p0;  // growth = shrink alpha
  I64 index;
};

// Where lanes stand after walking k in [k_begin, k_end).
struct WalkResult {
  D k_at, at, below;  // crossing k, the sum there, the sum before it
  Mask crossed;
};

// Walks k in [k_begin, k_end) (k_begin odd, the width even), two terms per step like nb::ppf:
// the product and the sum then carry one multiply and one add per two terms. All terms are
// positive, so the sums rise: a lane's crossing k is k_begin plus the number of its sums below
// q, the sum before it is the last sum below q, and the sum there is the one after that. So
// each sum is compared with q once, and the comparison steers an integer count and two blends:
// no "still walking" mask and no chain longer than the sum's own add carried from step to step.
// Lanes that crossed walk on harmlessly until the pass ends. active: the lanes below q.
SKUCAST_SIMD_FN WalkResult walk(WalkLanes& w, Mask active, int k_begin, int k_end) {
  // Locals, not w's fields: w's address escapes, and its fields would round-trip memory per step.
  D term = w.term, sum = w.sum, below = select(active, sum, D{}), at = sum;
  const D shrink = w.shrink, growth = w.growth, q = w.q;
  I64 k_at = active ? I64{} + k_begin : I64{};  // lanes at or above q already: 0
  Mask low = active;  // the sum before this step is below q
  for (int k = k_begin; k + 1 < k_end; k += 2) {
    // Lanes left are tested every fourth step only: a few extra steps cost less than the
    // misprediction of a finer exit.
    if ((k - k_begin) % 8 == 0 && !lane_bits(low)) break;
    const double k_prev = k - 1;
    const D f1 = fused_multiply_add(growth, splat(k_prev), shrink) * reciprocal(k);
    const D f2 = fused_multiply_add(growth, splat(k_prev + 1.0), shrink) * reciprocal(k + 1);
    const D t1 = term * f1;
    const D t2 = term * (f1 * f2);
    const D sum1 = sum + t1;
    sum = sum + (t1 + t2);
    term = t2;
    const Mask low1 = sum1 < q;
    at = select(low, sum1, at);
    k_at = low1 ? k_at + 1 : k_at;
    below = select(low1, sum1, below);
    at = select(low1, sum, at);
    low = sum < q;
    k_at = low ? k_at + 1 : k_at;
    below = select(low, sum, below);
  }
  w.term = term;
  w.sum = sum;
  return {__builtin_convertvector(k_at, D), at, below, ~low};
}

// Every lane writes its crossing k to out (lanes still walking are overwritten when they cross,
// and lanes the scalar path takes are overwritten by it). Lanes near a tie are noted for the
// scalar path; the first `count` lanes that have not crossed are queued for the next window,
// or noted for the scalar path past the reciprocal table. No branch per lane: slots are
// written unconditionally and the counts advance by the lane's bit.
SKUCAST_SIMD_FN void settle_lanes(const WalkLanes& w, const WalkResult& r, int count, int k_end, int64_t* out,
                                  WalkQueue& next, int64_t* scalar, int& num_scalar) {
  // nb::ppf's tie test (the sums may differ from cdf() by ~k ulps), widened by |log P(0)| ulps:
  // cdf() starts from glibc's log1p, this log P(0) from plog's.
  const D tol = w.q * (2e-14 + (r.k_at - w.log_p0) * 1e-15);
  const Mask tie = (r.at - w.q <= tol) | (w.q - r.below <= tol);
  const unsigned lanes = (1u << count) - 1;
  const bool table_left = k_end + 1 < kReciprocalTableSize;
  const unsigned to_scalar = lanes & (lane_bits(r.crossed & tie) | (table_left ? 0u : ~lane_bits(r.crossed)));
  const unsigned to_queue = table_left ? lanes & ~lane_bits(r.crossed) : 0u;
#if SKUCAST_SIMD_LANES == 8
  // AVX-512: one scatter for out and one compress-store per queue field.
  const __m512i index = (__m512i)w.index;
  _mm512_i64scatter_epi64(out, index, (__m512i)__builtin_convertvector(r.k_at, I64), 8);
  _mm512_mask_compressstoreu_epi64(scalar + num_scalar, static_cast<__mmask8>(to_scalar), index);
  num_scalar += __builtin_popcount(to_scalar);
  const __mmask8 queue = static_cast<__mmask8>(to_queue);
  const int at = next.size;
  _mm512_mask_compressstoreu_pd(next.term + at, queue, (__m512d)w.term);
  _mm512_mask_compressstoreu_pd(next.sum + at, queue, (__m512d)w.sum);
  _mm512_mask_compressstoreu_pd(next.shrink + at, queue, (__m512d)w.shrink);
  _mm512_mask_compressstoreu_pd(next.growth + at, queue, (__m512d)w.growth);
  _mm512_mask_compressstoreu_pd(next.q + at, queue, (__m512d)w.q);
  _mm512_mask_compressstoreu_pd(next.log_p0 + at, queue, (__m512d)w.log_p0);
  _mm512_mask_compressstoreu_epi64(next.index + at, queue, index);
  next.size += __builtin_popcount(to_queue);
#else
  alignas(64) double k_at[kLanes], term[kLanes], sum[kLanes], shrink[kLanes], growth[kLanes], q[kLanes],
      log_p0[kLanes];
  alignas(64) int64_t index[kLanes];
  std::memcpy(k_at, &r.k_at, sizeof k_at);
  std::memcpy(index, &w.index, sizeof index);
  std::memcpy(term, &w.term, sizeof term);
  std::memcpy(sum, &w.sum, sizeof sum);
  std::memcpy(shrink, &w.shrink, sizeof shrink);
  std::memcpy(growth, &w.growth, sizeof growth);
  std::memcpy(q, &w.q, sizeof q);
  std::memcpy(log_p0, &w.log_p0, sizeof log_p0);
  for (int j = 0; j < kLanes; ++j) {
    out[index[j]] = static_cast<int64_t>(k_at[j]);
    scalar[num_scalar] = index[j];
    num_scalar += to_scalar >> j & 1;
    const int at = next.size;
    next.term[at] = term[j], next.sum[at] = sum[j], next.shrink[at] = shrink[j];
    next.growth[at] = growth[j], next.q[at] = q[j], next.log_p0[at] = log_p0[j];
    next.index[at] = index[j];
    next.size += to_queue >> j & 1;
  }
#endif
}

// Queue slots [at, size) and, in the lanes past size, slot `at` again: a duplicate that walks
// exactly like it (so its writes agree) and is neither queued nor counted.
SKUCAST_SIMD_FN WalkLanes padded_lanes(const WalkQueue& from, int at) {
  alignas(64) double term[kLanes], sum[kLanes], shrink[kLanes], growth[kLanes], q[kLanes], log_p0[kLanes];
  alignas(64) int64_t index[kLanes];
  for (int j = 0; j < kLanes; ++j) {
    const int src = at + j < from.size ? at + j : at;
    term[j] = from.term[src], sum[j] = from.sum[src], shrink[j] = from.shrink[src];
    growth[j] = from.growth[src], q[j] = from.q[src], log_p0[j] = from.log_p0[src];
    index[j] = from.index[src];
  }
  WalkLanes w = {load(term), load(sum), load(shrink), load(growth), load(q), load(log_p0), I64{}};
  std::memcpy(&w.index, index, sizeof index);
  return w;
}

// A walk's start on lanes: log P(0) and shrink = mu / (1 + alpha mu), as
// nb::logpmf_small_counts forms them (alpha mu < 1e100).
struct WalkStart {
  D log_p0, shrink;
};
SKUCAST_SIMD_FN WalkStart walk_start(D m, D a) {
  const D am = a * m;
  const D u = 1.0 + am;
  const Mask series = am < 1e-5;
  const D t = 1.0 / select(series, u, u * am);
  const D inv_u = select(series, t, am * t);
  const D log1p_am = log_normal(u) + (am - (u - 1.0)) * inv_u;
  return {-m * select(series, 1.0 - am * (0.5 - am * (1.0 / 3.0 - am * 0.25)), log1p_am * (u * t)), m * inv_u};
}

#include "skucast/cpu/ppf_large_simd_body.h"

// Elements [k, k + groups * kLanes) of a dense ppf (groups * kLanes <= WalkQueue::kCapacity);
// q_step is 1 for a dense q, 0 for one q for all.
template <class P>
SKUCAST_SIMD_FN void ppf_block(const P* q, int64_t q_step, const P* mu, const P* alpha, int64_t* out, int64_t k,
                               int groups, BadValue& first) {
  int64_t scalar[WalkQueue::kSlots];  // invalid, outside the walk, near-ties, past the table
  int num_scalar = 0;
  WalkQueue queues[2];
  constexpr int kFirstEnd = 17;
  // First every group's start (long dependency chains through log, exp and divisions, with no
  // branch between groups, so the CPU overlaps them), then every group's first window.
  constexpr int kMaxGroups = WalkQueue::kCapacity / kLanes;
  WalkLanes start[kMaxGroups];
  Mask walks[kMaxGroups], valid[kMaxGroups];
  for (int g = 0; g < groups; ++g) {
    const int64_t at = k + kLanes * g;
    const D qv = q_step ? load(q + at) : splat(q[0]), mv = load(mu + at), av = load(alpha + at);
    const Mask ok = (qv > 0.0) & (qv < 1.0) & (mv > 0.0) & (mv < INFINITY) & (av >= 0.0) & (av * mv < 1e100);
    WalkLanes& w = start[g];
    w.q = select(ok, qv, splat(0.5));
    const D m = select(ok, mv, splat(1.0)), a = select(ok, av, D{});
    const WalkStart st = walk_start(m, a);
    w.log_p0 = st.log_p0;
    w.shrink = st.shrink;
    w.growth = w.shrink * a;
    walks[g] = ok & (m <= 128.0) & (w.log_p0 >= -600.0);  // nb::ppf's small-mean path
    valid[g] = ok;
    w.term = exp_nonpositive(select(walks[g], w.log_p0, D{}));
    w.sum = w.term;
    I64 index;
    for (int j = 0; j < kLanes; ++j) index[j] = at + j;
    w.index = index;
  }
  // Valid lanes outside the walk take nb::ppf's large-mean path: queued for its vector start.
  LargeQueue large;
  double z_of_q = 0.0, z_q = -1.0;  // normal_ppf of the last q seen (usually one q for all)
  for (int g = 0; g < groups; ++g) {
    WalkLanes& w = start[g];
    WalkResult r = walk(w, walks[g] & (w.sum < w.q), 1, kFirstEnd);
    const Mask to_large = valid[g] & ~walks[g];
    unsigned large_bits = lane_bits(to_large);
    while (large_bits) {
      const int j = __builtin_ctz(large_bits);
      large_bits &= large_bits - 1;
      const int64_t at = k + kLanes * g + j;
      const double qv = q[at * q_step];
      if (qv != z_q) z_q = qv, z_of_q = normal_ppf(qv);
      large.push(qv, z_of_q, static_cast<double>(mu[at]), static_cast<double>(alpha[at]), at);
    }
    // Lanes outside the walk are done: invalid ones go to the scalar path (as near-ties), the
    // queued ones nowhere (not crossed-and-tied, not queued for the next window).
    r.crossed = r.crossed | ~walks[g];
    r.at = select(walks[g], r.at, select(to_large, splat(INFINITY), w.q));
    r.below = select(walks[g], r.below, splat(-INFINITY));
    settle_lanes(w, r, kLanes, kFirstEnd, out, queues[0], scalar, num_scalar);
  }
  // Later windows double: [17, 33), [33, 65), ... up to the reciprocal table.
  int cur = 0;
  for (int k_begin = kFirstEnd, width = 16; queues[cur].size > 0; k_begin += width, width *= 2, cur ^= 1) {
    const int k_end = k_begin + width < kReciprocalTableSize ? k_begin + width : kReciprocalTableSize - 1;
    WalkQueue& from = queues[cur];
    WalkQueue& to = queues[cur ^ 1];
    to.size = 0;
    for (int at = 0; at < from.size; at += kLanes) {
      WalkLanes w;
      if (at + kLanes <= from.size) {
        w = {load(from.term + at), load(from.sum + at), load(from.shrink + at), load(from.growth + at),
             load(from.q + at), load(from.log_p0 + at), I64{}};
        std::memcpy(&w.index, from.index + at, sizeof w.index);
      } else {
        w = padded_lanes(from, at);
      }
      const int count = from.size - at < kLanes ? from.size - at : kLanes;
      const WalkResult r = walk(w, w.sum < w.q, k_begin, k_end);
      settle_lanes(w, r, count, k_end, out, to, scalar, num_scalar);
    }
  }
  finish_large(large, out, scalar, num_scalar);
  // The scalar path, in index order, so that `first` is the first bad index.
  std::sort(scalar, scalar + num_scalar);
  for (int i = 0; i < num_scalar; ++i) cpu::ppf_one(q, q_step, mu, alpha, out, scalar[i], first);
}

// Whole lane groups from begin on; returns where the scalar tail starts.
template <class P>
SKUCAST_SIMD_TARGET int64_t ppf_lanes(const P* q, int64_t q_step, const P* mu, const P* alpha, int64_t* out,
                                      int64_t begin, int64_t end, BadValue& first) {
  constexpr int kMaxGroups = WalkQueue::kCapacity / kLanes;
  int64_t k = begin;
  while (end - k >= kLanes) {
    const int64_t left = (end - k) / kLanes;
    const int groups = static_cast<int>(left < kMaxGroups ? left : kMaxGroups);
    ppf_block(q, q_step, mu, alpha, out, k, groups, first);
    k += static_cast<int64_t>(kLanes) * groups;
  }
  return k;
}

}  // namespace SKUCAST_SIMD_NS
}  // namespace skucast

#undef SKUCAST_SIMD_FN
