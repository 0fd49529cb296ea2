// The AVX-512 level of skucast's run-time dispatched CPU loops: one target attribute for the
// code compiled for it and one check that chooses it. The build itself stays x86-64-v3 (AVX2),
// so every AVX-512 path has an AVX2/scalar twin that gives the same bits.
#pragma once

#if defined(__GNUC__)
// The feature set use_avx512() checks for, in the same words.
#define SKUCAST_AVX512_TARGET __attribute__((target("avx512f,avx512dq,avx512vl,avx512bw")))
// GCC 12 warns that the _mm512_undefined_* placeholders inside its own intrinsics are
// uninitialized; the instructions overwrite them in full. Headers of AVX-512 code put their
// body between these two.
#define SKUCAST_AVX512_WARNINGS_OFF                                                                  \
  _Pragma("GCC diagnostic push") _Pragma("GCC diagnostic ignored \"-Wmaybe-uninitialized\"") \
      _Pragma("GCC diagnostic ignored \"-Wuninitialized\"")
#define SKUCAST_AVX512_WARNINGS_ON _Pragma("GCC diagnostic pop")
#else
#define SKUCAST_AVX512_TARGET
#define SKUCAST_AVX512_WARNINGS_OFF
#define SKUCAST_AVX512_WARNINGS_ON
#endif

namespace skucast {
namespace cpu {

// True when the CPU has AVX-512 F/DQ/VL/BW and SKUCAST_NO_AVX512 is unset or "0"; read once
// (cpp/src/avx512.cpp).
bool use_avx512();

}  // namespace cpu
}  // namespace skucast
