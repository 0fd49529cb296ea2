// nb::logpmf_small_counts on kLanes lanes at once with GCC vector extensions, included by
// cpu/nb_simd.h once per width (no include guard on purpose): SKUCAST_SIMD_NS names the
// namespace, SKUCAST_SIMD_LANES the width, SKUCAST_SIMD_TARGET the ISA attribute of every
// function (vector code is lowered per function, before inlining, so each needs it). Every lane
// runs the scalar header's IEEE operations in the same order (the build has -ffp-contract=off),
// so its bits equal the scalar path's; tests/test_logpmf_simd.py pins this for both widths.

#define SKUCAST_SIMD_FN SKUCAST_SIMD_TARGET inline __attribute__((always_inline))

namespace skucast {
namespace SKUCAST_SIMD_NS {

constexpr int kLanes = SKUCAST_SIMD_LANES;
typedef double D __attribute__((vector_size(8 * kLanes)));
typedef int64_t Mask __attribute__((vector_size(8 * kLanes)));  // comparisons: -1 / 0 per lane
typedef uint64_t U __attribute__((vector_size(8 * kLanes)));
typedef int32_t I32 __attribute__((vector_size(4 * kLanes)));
typedef float F32 __attribute__((vector_size(4 * kLanes)));
typedef int64_t I64 __attribute__((vector_size(8 * kLanes)));

SKUCAST_SIMD_FN D splat(double v) {
  return D{} + v;
}

// plog::log_normal(x, 0) on positive normal finite lanes.
SKUCAST_SIMD_FN D log_normal(D x) {
  using namespace plog;
  const U bits = (U)x;
  const U hx_full = bits >> 32;
  const U hx = hx_full & 0x000fffff;
  const U i = (hx + 0x95f64) & 0x100000;
  const U k_biased = (hx_full >> 20) + (i >> 20);  // k + 1023, in [0, 2048]
  const D m = (D)(((hx | (i ^ 0x3ff00000)) << 32) | (bits & 0xffffffffu));
  // k as a double, exactly: k + 1023 in the mantissa of 2^52, minus 2^52 + 1023.
  const D dk = (D)(k_biased | 0x4330000000000000u) - (4503599627370496.0 + 1023.0);
  const D f = m - 1.0;
  const D s = f / (2.0 + f);
  const D z = s * s;
  const D w = z * z;
  const D t1 = w * (kLg2 + w * (kLg4 + w * kLg6));
  const D t2 = z * (kLg1 + w * (kLg3 + w * (kLg5 + w * kLg7)));
  const D R = t2 + t1;
  const D hfsq = 0.5 * f * f;
  return dk * kLn2Hi - ((hfsq - (s * (hfsq + R) + dk * kLn2Lo)) - f);
}

// sqrt lane by lane (correctly rounded, as the scalar call).
SKUCAST_SIMD_FN D square_root(D x) {
#if SKUCAST_SIMD_LANES == 8
  return (D)_mm512_sqrt_pd((__m512d)x);
#else
  return (D)_mm256_sqrt_pd((__m256d)x);
#endif
}

// mask ? a : b, lane by lane.
SKUCAST_SIMD_FN D select(Mask mask, D a, D b) { return mask ? a : b; }

// Lane-wise reductions and lookups go through memory: cheaper than extracting lanes one by one.
SKUCAST_SIMD_FN double lane_max(D v) {
  double lanes[kLanes];
  std::memcpy(lanes, &v, sizeof v);
  double m = lanes[0];
  for (int j = 1; j < kLanes; ++j) m = lanes[j] > m ? lanes[j] : m;
  return m;
}

// Bit j set when lane j of the mask is set.
SKUCAST_SIMD_FN unsigned lane_bits(Mask m) {
#if SKUCAST_SIMD_LANES == 8
  return _mm512_movepi64_mask((__m512i)m);
#else
  return static_cast<unsigned>(_mm256_movemask_pd((__m256d)m));
#endif
}

// table[int(y)] per lane, y whole in [0, 128).
SKUCAST_SIMD_FN D gather(const double* table, D y) {
  const I32 index = __builtin_convertvector(y, I32);
#if SKUCAST_SIMD_LANES == 8
  return (D)_mm512_mask_i32gather_pd(_mm512_setzero_pd(), 0xff, (__m256i)index, table, 8);
#else
  const __m256d all = _mm256_castsi256_pd(_mm256_set1_epi64x(-1));
  return (D)_mm256_mask_i32gather_pd(_mm256_setzero_pd(), table, (__m128i)index, all, 8);
#endif
}

// Lanes that pass rules::check_triple and nb::small_counts (alpha <= DBL_MAX follows from
// alpha mu < 1e100 with mu > 1e-4; NaNs fail every comparison).
SKUCAST_SIMD_FN Mask valid_small_counts(D y, D mu, D alpha) {
  const D whole = __builtin_convertvector(__builtin_convertvector(y, I32), D);  // y < 2^31 here
  const D mu_min = select(y < 64.0, splat(1e-4), splat(1e-2));
  return (y == whole) & (y >= 0.0) & (y < 128.0) & (mu > mu_min) & (mu < 256.0) & (alpha >= 0.0) &
         (alpha * mu < 1e100) & (alpha * y < 1e3);
}

// nb::logpmf_small_counts in three stages, so that a caller can run each over a block of groups
// before the next: the setup (two divisions and a log) is a long dependency chain with no
// branch, so the CPU overlaps many groups' setups; the product loop's exit is the one
// misprediction per group, and the final log is a chain again.
struct SmallCountSetup {
  D r, ra, A, B, pairs;  // factor i = r + ra i; pair i = A + B i (y-1-i); whole pairs
  D log_p0;              // log P(0)
};

SKUCAST_SIMD_FN SmallCountSetup small_count_setup(D y, D mu, D alpha) {
  const D am = alpha * mu;
  const D u = 1.0 + am;
  const Mask series = am < 1e-5;
  const D t = 1.0 / select(series, u, u * am);
  const D inv_u = select(series, t, am * t);
  const D r = mu * inv_u;
  const D ra = r * alpha;
  const D A = r * (r + ra * (y - 1.0));
  const D B = ra * ra;
  const D pairs = __builtin_convertvector(__builtin_convertvector(y * 0.5, I32), D);  // floor, y >= 0
  const D log1p_am = log_normal(u) + (am - (u - 1.0)) * inv_u;
  const D log1p_over_am = select(series, 1.0 - am * (0.5 - am * (1.0 / 3.0 - am * 0.25)), log1p_am * (u * t));
  return {r, ra, A, B, pairs, -mu * log1p_over_am};
}

// prod_{i<y} r (1 + alpha i): pair i goes to chain i % 2; lanes past their pairs multiply by
// 1.0 (exact).
SKUCAST_SIMD_FN D small_count_product(const SmallCountSetup& s, D y) {
  const D one = splat(1.0);
  const D y_m1 = y - 1.0;
  D c0 = one, c1 = one;
  D i = D{};
  const double pairs_max = lane_max(s.pairs);
  for (double i_scalar = 0.0; i_scalar < pairs_max; i_scalar += 2.0) {
    const D i1 = i + 1.0;
    const D pair0 = s.A + s.B * (i * (y_m1 - i));
    const D pair1 = s.A + s.B * (i1 * (y_m1 - i1));
    c0 = c0 * select(i < s.pairs, pair0, one);
    c1 = c1 * select(i1 < s.pairs, pair1, one);
    i = i + 2.0;
  }
  c0 = c0 * select(s.pairs + s.pairs != y, s.r + s.ra * s.pairs, one);  // odd y: the middle factor
  return c0 * c1;
}

// The second half, for lanes whose prod is normal and positive.
SKUCAST_SIMD_FN D small_count_finish(D y, D prod, D log_p0) {
  return (log_normal(prod) - gather(tables::kLogFactorialHost, y)) + log_p0;
}

SKUCAST_SIMD_FN Mask normal_positive(D x) {
  return (x >= DBL_MIN) & (x <= DBL_MAX);
}

// Loads and stores in the element types the bindings pass (same roundings as static_cast).
SKUCAST_SIMD_FN D load(const double* p) {
  D v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
SKUCAST_SIMD_FN D load(const float* p) {
  F32 v;
  std::memcpy(&v, p, sizeof v);
  return __builtin_convertvector(v, D);
}
SKUCAST_SIMD_FN D load(const int32_t* p) {
  I32 v;
  std::memcpy(&v, p, sizeof v);
  return __builtin_convertvector(v, D);
}
SKUCAST_SIMD_FN D load(const int64_t* p) {
  I64 v;
  std::memcpy(&v, p, sizeof v);
  return __builtin_convertvector(v, D);
}
SKUCAST_SIMD_FN void store(double* p, D v) {
  std::memcpy(p, &v, sizeof v);
}
SKUCAST_SIMD_FN void store(float* p, D v) {
  const F32 f = __builtin_convertvector(v, F32);
  std::memcpy(p, &f, sizeof f);
}

// Elements [k, k + groups * kLanes): every group's setup, then every product, then every log
// (see SmallCountSetup). Lanes outside
// the small-count formula (invalid or large values, or a product out of the normal range) run
// it on a harmless stand-in (y = 0, mu = 1, alpha = 0) and are then redone by the scalar path,
// in index order, so `first` is the first bad index.
template <class Y, class P>
SKUCAST_SIMD_FN void logpmf_block(const Y* y, const P* mu, const P* alpha, P* out, int64_t k, int groups,
                                  BadValue& first) {
  constexpr int kMaxGroups = 64 / kLanes;
  SmallCountSetup setup[kMaxGroups];
  D ys[kMaxGroups], prod[kMaxGroups];
  unsigned fast[kMaxGroups];  // lane bits
  for (int g = 0; g < groups; ++g) {
    const int64_t at = k + kLanes * g;
    const D yv = load(y + at), mv = load(mu + at), av = load(alpha + at);
    const Mask ok = valid_small_counts(yv, mv, av);
    ys[g] = select(ok, yv, D{});
    setup[g] = small_count_setup(ys[g], select(ok, mv, splat(1.0)), select(ok, av, D{}));
    fast[g] = lane_bits(ok);
  }
  for (int g = 0; g < groups; ++g) {
    prod[g] = small_count_product(setup[g], ys[g]);
    fast[g] &= lane_bits(normal_positive(prod[g]));
  }
  for (int g = 0; g < groups; ++g) store(out + k + kLanes * g, small_count_finish(ys[g], prod[g], setup[g].log_p0));
  constexpr unsigned kAll = (1u << kLanes) - 1;
  for (int g = 0; g < groups; ++g) {
    if (fast[g] == kAll) continue;
    for (int j = 0; j < kLanes; ++j)
      if (!(fast[g] >> j & 1)) cpu::logpmf_one(y, mu, alpha, out, k + kLanes * g + j, first);
  }
}

// Runs whole lane groups from begin on; returns where the scalar tail starts.
template <class Y, class P>
SKUCAST_SIMD_TARGET int64_t logpmf_lanes(const Y* y, const P* mu, const P* alpha, P* out, int64_t begin,
                                         int64_t end, BadValue& first) {
  constexpr int kMaxGroups = 64 / kLanes;
  int64_t k = begin;
  while (end - k >= kLanes) {
    const int64_t left = (end - k) / kLanes;
    const int groups = static_cast<int>(left < kMaxGroups ? left : kMaxGroups);
    logpmf_block(y, mu, alpha, out, k, groups, first);
    k += static_cast<int64_t>(kLanes) * groups;
  }
  return k;
}

}  // namespace SKUCAST_SIMD_NS
}  // namespace skucast

#undef SKUCAST_SIMD_FN
