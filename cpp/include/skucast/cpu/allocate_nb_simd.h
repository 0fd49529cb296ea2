// allocate()'s one-pass NB walk for SKUs whose locations all have small means, on 4 lanes
// (AVX2) and 8 lanes (AVX-512, used where the CPU has it); both widths give the same bits.
// The body is cpu/allocate_nb_simd_body.h; the general path stays in inventory_allocate.cpp.
#pragma once
#include <cmath>
#include <cstdint>
#include <vector>

#include "skucast/cpu/nb_simd.h"
#include "skucast/inventory/allocate.h"

namespace skucast {
namespace cpu {

// Per-thread scratch of the walk: one slot per location, padded to whole lane groups.
struct NbWalkScratch {
  // Above this many units added or given back one by one after the walk, the general path's
  // bisection is cheaper.
  static constexpr int64_t kMaxSteps = 64;
  std::vector<double> p0, term, sum, prev, shrink, growth, y, base, cf_a, cf_b, cf_h;
  void resize(int64_t padded) {
    const size_t n = static_cast<size_t>(padded);
    if (term.size() >= n) return;
    for (auto* v : {&p0, &term, &sum, &prev, &shrink, &growth, &y, &base, &cf_a, &cf_b, &cf_h}) v->resize(n);
  }
};

#if defined(SKUCAST_HAVE_SIMD)
// Flush-to-zero and denormals-are-zero while the walk's lanes run past their stop: their pmf
// terms fall to subnormals, and each subnormal operand costs a microcode assist (the walk ran
// 8x slower). No cdf value changes: every sum is at least P(0) >= e^-128 (mu <= 128), so adding a
// subnormal term leaves it as it is. The caller's MXCSR comes back on exit.
struct FlushSubnormals {
  unsigned saved = _mm_getcsr();
  FlushSubnormals() { _mm_setcsr(saved | 0x8040u); }  // FTZ (bit 15) | DAZ (bit 6)
  ~FlushSubnormals() { _mm_setcsr(saved); }
  FlushSubnormals(const FlushSubnormals&) = delete;
  FlushSubnormals& operator=(const FlushSubnormals&) = delete;
};
#endif

}  // namespace cpu
}  // namespace skucast

#define SKUCAST_SIMD_BODY "skucast/cpu/allocate_nb_simd_body.h"
#include "skucast/cpu/simd_widths.h"
#undef SKUCAST_SIMD_BODY

namespace skucast {
namespace cpu {

// The walk for one SKU where the build has it; false: use the general path.
inline bool allocate_nb_fast(int64_t m, int64_t R, const double* mu, const double* alpha, const int64_t* base,
                             int64_t* out, NbWalkScratch& w) {
#if defined(SKUCAST_HAVE_SIMD)
  if (use_avx512()) return simd8::allocate_nb_walk(m, R, mu, alpha, base, out, w);
  return simd4::allocate_nb_walk(m, R, mu, alpha, base, out, w);
#else
  (void)m, (void)R, (void)mu, (void)alpha, (void)base, (void)out, (void)w;
  return false;
#endif
}

}  // namespace cpu
}  // namespace skucast
