// Includes the vector body named by SKUCAST_SIMD_BODY once per width: simd4 (four lanes, the
// x86-64-v3 build's AVX2) and simd8 (eight lanes, AVX-512, called only where the CPU has it).
// The body sees SKUCAST_SIMD_NS (its namespace), SKUCAST_SIMD_LANES and SKUCAST_SIMD_TARGET (the
// ISA attribute of each of its functions). No include guard on purpose: one inclusion per body.
#if defined(SKUCAST_HAVE_SIMD)
#define SKUCAST_SIMD_NS simd4
#define SKUCAST_SIMD_LANES 4
#define SKUCAST_SIMD_TARGET
#include SKUCAST_SIMD_BODY
#undef SKUCAST_SIMD_NS
#undef SKUCAST_SIMD_LANES
#undef SKUCAST_SIMD_TARGET

#define SKUCAST_SIMD_NS simd8
#define SKUCAST_SIMD_LANES 8
#define SKUCAST_SIMD_TARGET SKUCAST_AVX512_TARGET
SKUCAST_AVX512_WARNINGS_OFF
#include SKUCAST_SIMD_BODY
SKUCAST_AVX512_WARNINGS_ON
#undef SKUCAST_SIMD_NS
#undef SKUCAST_SIMD_LANES
#undef SKUCAST_SIMD_TARGET
#endif
