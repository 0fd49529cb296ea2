// One SKU of allocate() with NB demand on kLanes locations at a time, included by
// cpu/allocate_nb_simd.h once per width after cpu/nb_simd.h (same namespace and helpers; no
// include guard on purpose). Both widths run the same IEEE operations lane by lane, so they
// give the same bits.
//
// The general path (cpu/src/inventory_allocate.cpp) searches the threshold on the increment
// with several counting passes over every location. Here one pass does it for SKUs whose
// locations all have small means (mu <= 128, the bulk of retail rows):
//  1. a guess q0 of the threshold from a Cornish-Fisher count, a few vector passes:
//     sum over l of max(0, ceil(mu + z sd + (z^2 - 1) (1 + 2 alpha mu) / 6 - 0.6) - base) = R
//     solved for z, q0 = Phi(z);
//  2. every location walks its cdf (pmf ratio recurrence from P(0)) to the first y >= base with
//     cdf(y) >= q0, in lanes: the units below it are exactly those whose increment exceeds 1 - q0;
//  3. the guess is off by a few units: those missing are the smallest next cdf values, taken
//     one by one (a merge of the locations' rising cdf sequences; ties to the lowest location,
//     as the greedy takes them), those too many the largest taken ones, given back one by one.
// The cdf values are the walk's own, whatever q0 was, so the result does not depend on the
// guess. A SKU with a location outside the walk (mean above 128, on hand past the reciprocal
// table), or whose guess is off by more than NbWalkScratch::kMaxSteps units, goes to the general
// path.

#define SKUCAST_SIMD_FN SKUCAST_SIMD_TARGET inline __attribute__((always_inline))

namespace skucast {
namespace SKUCAST_SIMD_NS {

// fused_multiply_add on one value: rounded once where the lanes' is (FMA builds), twice where not.
SKUCAST_SIMD_FN double scalar_multiply_add(double a, double b, double c) {
#if defined(__FMA__) || SKUCAST_SIMD_LANES == 8
  return std::fma(a, b, c);
#else
  return a * b + c;
#endif
}

SKUCAST_SIMD_FN D round_up(D x) {
#if SKUCAST_SIMD_LANES == 8
  return (D)_mm512_roundscale_pd((__m512d)x, _MM_FROUND_TO_POS_INF | _MM_FROUND_NO_EXC);
#else
  return (D)_mm256_round_pd((__m256d)x, _MM_FROUND_TO_POS_INF | _MM_FROUND_NO_EXC);
#endif
}

SKUCAST_SIMD_FN D larger(D a, D b) {
#if SKUCAST_SIMD_LANES == 8
  return (D)_mm512_max_pd((__m512d)a, (__m512d)b);
#else
  return (D)_mm256_max_pd((__m256d)a, (__m256d)b);
#endif
}

SKUCAST_SIMD_FN double lane_sum(D v) {
  double lanes[kLanes];
  std::memcpy(lanes, &v, sizeof v);
  double s = 0.0;
  for (int j = 0; j < kLanes; ++j) s += lanes[j];
  return s;
}

// Index of the first smallest of v[0, padded) (no NaN; padded a whole number of lanes): the
// minimum by lanes, then the first lane equal to it.
SKUCAST_SIMD_FN int64_t first_smallest(const double* v, int64_t padded) {
  D low = load(v);
  for (int64_t at = kLanes; at < padded; at += kLanes) {
    const D x = load(v + at);
    low = select(x < low, x, low);
  }
  double lanes[kLanes];
  std::memcpy(lanes, &low, sizeof low);
  double smallest = lanes[0];
  for (int j = 1; j < kLanes; ++j) smallest = lanes[j] < smallest ? lanes[j] : smallest;
  const D target = splat(smallest);
  for (int64_t at = 0;; at += kLanes) {
    const unsigned hit = lane_bits(load(v + at) == target);
    if (hit) return at + __builtin_ctz(hit);
  }
}

// Index of the last largest of v[0, padded).
SKUCAST_SIMD_FN int64_t last_largest(const double* v, int64_t padded) {
  D high = load(v);
  for (int64_t at = kLanes; at < padded; at += kLanes) {
    const D x = load(v + at);
    high = select(x > high, x, high);
  }
  double lanes[kLanes];
  std::memcpy(lanes, &high, sizeof high);
  double largest = lanes[0];
  for (int j = 1; j < kLanes; ++j) largest = lanes[j] > largest ? lanes[j] : largest;
  const D target = splat(largest);
  for (int64_t at = padded - kLanes;; at -= kLanes) {
    const unsigned hit = lane_bits(load(v + at) == target);
    if (hit) return at + 31 - __builtin_clz(hit);
  }
}

// Lanes of locations [at, at + kLanes); past m: mu = 0 (no demand, never shipped to).
SKUCAST_SIMD_FN void load_locations(const double* mu, const double* alpha, const int64_t* base, int64_t at,
                                    int64_t m, D& mv, D& av, D& bv) {
  if (at + kLanes <= m) {
    mv = load(mu + at), av = load(alpha + at), bv = load(base + at);
    return;
  }
  double mp[kLanes] = {}, ap[kLanes] = {};
  int64_t bp[kLanes] = {};
  for (int64_t j = 0; at + j < m; ++j) mp[j] = mu[at + j], ap[j] = alpha[at + j], bp[j] = base[at + j];
  mv = load(mp), av = load(ap), bv = load(bp);
}

constexpr int kGuessPoints = 8;  // the same for both widths, so both choose the same guess
// The guess's continuity correction: 1/2, plus 0.1 that centres its error (in units) on the
// benchmark's NB rows, so fewer units are moved one by one after the walk.
constexpr double kContinuity = 0.6;

// Step 1's counts at the points zs[0, kGuessPoints), in one pass (the z^2 term only for z > 0,
// where the expansion rises with z).
SKUCAST_SIMD_FN void guessed_units(const cpu::NbWalkScratch& w, int64_t padded, const double* zs, double* counts) {
  D total[kGuessPoints] = {};
  for (int64_t at = 0; at < padded; at += kLanes) {
    const D a = load(w.cf_a.data() + at), b = load(w.cf_b.data() + at), h = load(w.cf_h.data() + at);
    for (int j = 0; j < kGuessPoints; ++j) {
      const double z = zs[j], z2 = z > 0.0 ? z * z : 0.0;
      total[j] += larger(round_up(fused_multiply_add(h, splat(z2), fused_multiply_add(b, splat(z), a))), D{});
    }
  }
  for (int j = 0; j < kGuessPoints; ++j) counts[j] = lane_sum(total[j]);
}

// A z whose count is <= r, close below the largest such (-4 when even that count is above r):
// two passes of counts at 8 points each, the first over [-4, 8] (crowded where retail
// thresholds fall), the second inside the bracket the first left; then a linear interpolation
// inside the final bracket. Few passes of many independent counts rather than a
// bisection's long chain of dependent ones.
SKUCAST_SIMD_FN double guess_z(const cpu::NbWalkScratch& w, int64_t padded, double r) {
  double zs[kGuessPoints] = {-2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0, 4.0}, counts[kGuessPoints];
  double z_lo = -4.0, z_hi = 8.0, c_lo = -1.0, c_hi = -1.0;
  for (int pass = 0; pass < 2; ++pass) {
    if (pass > 0) {
      for (int j = 0; j < kGuessPoints; ++j) zs[j] = z_lo + (z_hi - z_lo) * (j + 1) / (kGuessPoints + 1);
    }
    guessed_units(w, padded, zs, counts);
    int k = 0;  // counts rise with z: the points within r are a prefix
    while (k < kGuessPoints && counts[k] <= r) ++k;
    if (k > 0) z_lo = zs[k - 1], c_lo = counts[k - 1];
    if (k < kGuessPoints) z_hi = zs[k], c_hi = counts[k];
  }
  if (c_lo < 0.0 || c_hi < 0.0 || c_hi <= c_lo) return z_lo;
  return z_lo + (r - c_lo) / (c_hi - c_lo) * (z_hi - z_lo);
}

// Step 2 on one lane group: the walk to the first y >= base with cdf(y) >= q0. Every lane takes
// every step (a lane past its stop walks on harmlessly: pmf terms stay in [0, 1]), so the
// recurrence's chains are one multiply and one add per step; the stop's values are picked out
// by the walk condition, which is true up to the stop and false after it.
struct CdfWalk {
  D term{}, sum{}, base{}, shrink{}, growth{};  // the walk at y = k
  D y{}, y_term{}, y_sum{}, y_prev{};  // the stop so far: y, pmf(y), cdf(y), cdf(y - 1)
  Mask walking{};
  SKUCAST_SIMD_FN void begin(const cpu::NbWalkScratch& w, int64_t at, D q) {
    term = load(w.term.data() + at), sum = load(w.sum.data() + at), base = load(w.base.data() + at);
    shrink = load(w.shrink.data() + at), growth = load(w.growth.data() + at);
    y = D{}, y_term = term, y_sum = sum, y_prev = splat(-1.0);
    walking = (y < base) | (sum < q);  // lanes without demand hold cdf 1 and base 0: never
  }
  // A group past the last location: nothing to walk (its sum stays above every q).
  SKUCAST_SIMD_FN void idle() {
    *this = CdfWalk{};
    sum = splat(2.0);
  }
  // From y = k - 1 to y = k by the pmf ratio recurrence (as step 3's one-by-one moves do it).
  SKUCAST_SIMD_FN void step(int k, D q) {
    const D next_term = term * (fused_multiply_add(growth, splat(k - 1.0), shrink) * reciprocal(k));
    const D next_sum = sum + next_term;
    y = select(walking, splat(k), y);
    y_term = select(walking, next_term, y_term);
    y_prev = select(walking, sum, y_prev);
    y_sum = select(walking, next_sum, y_sum);
    term = next_term, sum = next_sum;
    walking = (splat(k) < base) | (sum < q);
  }
  // Stores the stop; returns its units.
  SKUCAST_SIMD_FN double end(cpu::NbWalkScratch& w, int64_t at) const {
    store(w.term.data() + at, y_term);
    store(w.sum.data() + at, y_sum);
    store(w.y.data() + at, y);
    store(w.prev.data() + at, select(y > base, y_prev, splat(-1.0)));  // -1: no unit to give back
    return lane_sum(y - base);
  }
};

// Adds to out[l] the units of location l; false (out untouched) when the SKU needs the
// general path. R > 0 units to place; base = on hand + display units.
SKUCAST_SIMD_TARGET inline bool allocate_nb_walk(int64_t m, int64_t R, const double* mu, const double* alpha,
                                                 const int64_t* base, int64_t* out, cpu::NbWalkScratch& w) {
  if (m == 0) return true;  // no location: nothing to place
  const int64_t padded = (m + kLanes - 1) / kLanes * kLanes;
  w.resize(padded);
  // Starts: P(0) and the pmf ratio's parts as in ppf_block; the guess's coefficients. Lanes
  // outside the walk (the SKU then leaves) start from mu = 0, so nothing overflows.
  for (int64_t at = 0; at < padded; at += kLanes) {
    D mv, av, bv;
    load_locations(mu, alpha, base, at, m, mv, av, bv);
    const Mask live = mv > 0.0;
    const D am = av * mv;
    // (mu <= 128 keeps log P(0) >= -128: no underflow to test for)
    const Mask walkable = (mv <= 128.0) & (am < 1e100) & (bv < kReciprocalTableSize - 2.0);
    if (lane_bits(live & ~walkable)) return false;
    const WalkStart st = walk_start(select(walkable, mv, D{}), select(walkable, av, D{}));
    const D log_p0 = st.log_p0, shrink = st.shrink;
    const D term = exp_nonpositive(select(live, log_p0, D{}));  // mu = 0: cdf 1 everywhere
    const D h = (1.0 + 2.0 * am) * (1.0 / 6.0);
    store(w.p0.data() + at, term);
    store(w.term.data() + at, term);
    store(w.sum.data() + at, term);
    store(w.shrink.data() + at, shrink);
    store(w.growth.data() + at, shrink * av);
    store(w.base.data() + at, select(live, bv, D{}));
    store(w.cf_a.data() + at, select(live, (mv - kContinuity - h) - bv, splat(-1.0)));  // the base folded in
    store(w.cf_b.data() + at, select(live, square_root(mv + am * mv), D{}));
    store(w.cf_h.data() + at, select(live, h, D{}));
  }
  // Step 1.
  const double z = guess_z(w, padded, static_cast<double>(R));
  double q0 = 0.5 * std::erfc(-z * 0.70710678118654752440);
  if (q0 > 1.0 - inv::kMinGain) q0 = 1.0 - inv::kMinGain;
  // Step 2, two lane groups at a time (two independent chains per step).
  const D q = splat(q0);
  double placed = 0.0;
  const cpu::FlushSubnormals flush;
  for (int64_t at = 0; at < padded; at += 2 * kLanes) {
    CdfWalk first, second;
    first.begin(w, at, q);
    if (at + kLanes < padded) second.begin(w, at + kLanes, q); else second.idle();
    for (int k = 1; lane_bits(first.walking | second.walking); k += 2) {
      if (k + 1 >= kReciprocalTableSize) return false;
      for (int s = 0; s < 2; ++s) {
        first.step(k + s, q);
        second.step(k + s, q);
      }
    }
    placed += first.end(w, at);
    if (at + kLanes < padded) placed += second.end(w, at + kLanes);
  }
  // Step 3: a guess too low leaves units missing: each goes to the location whose next unit
  // has the smallest cdf (the largest increment), lowest location first among equals. A guess
  // too high placed too many: each unit given back is the one with the largest cdf, highest
  // location first among equals (the greedy takes ties in location order).
  const int64_t excess = static_cast<int64_t>(placed) - R;
  if (excess > cpu::NbWalkScratch::kMaxSteps || -excess > cpu::NbWalkScratch::kMaxSteps) return false;
  for (int64_t i = 0; i < -excess; ++i) {
    const int64_t best = first_smallest(w.sum.data(), padded);
    if (!(1.0 - w.sum[best] >= inv::kMinGain)) break;  // every further unit is worthless
    const int k = static_cast<int>(w.y[best]) + 1;
    if (k >= kReciprocalTableSize) return false;
    w.term[best] *= scalar_multiply_add(w.growth[best], k - 1.0, w.shrink[best]) * reciprocal(k);
    w.prev[best] = w.sum[best];
    w.sum[best] += w.term[best];
    w.y[best] = k;
  }
  for (int64_t i = 0; i < excess; ++i) {
    const int64_t worst = last_largest(w.prev.data(), padded);
    const int k = static_cast<int>(w.y[worst]) - 1;
    // The next unit to give back there is the one at k - 1, if above the base: its cdf again from
    // P(0) by the walk's own steps (same bits). Nothing else of a location is read after this.
    double prev = -1.0;
    if (k > w.base[worst]) {
      double term = w.p0[worst];
      prev = term;
      for (int j = 1; j < k; ++j) {
        term *= scalar_multiply_add(w.growth[worst], j - 1.0, w.shrink[worst]) * reciprocal(j);
        prev += term;
      }
    }
    w.prev[worst] = prev;
    w.y[worst] = k;
  }
  for (int64_t l = 0; l < m; ++l) out[l] += static_cast<int64_t>(w.y[l] - w.base[l]);
  return true;
}

}  // namespace SKUCAST_SIMD_NS
}  // namespace skucast

#undef SKUCAST_SIMD_FN
