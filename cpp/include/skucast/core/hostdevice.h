// Marks functions that compile for both the CPU loops (cpp/src) and the CUDA kernels (cuda/).
#pragma once

#if defined(__CUDACC__)
#define SKUCAST_HD __host__ __device__ __forceinline__
// inline keeps one definition per program when several .cu files include the header;
// __noinline__ keeps heavy helpers as one device function per file instead of one per call.
#define SKUCAST_HD_NOINLINE __host__ __device__ __noinline__ inline
#else
#define SKUCAST_HD inline
#define SKUCAST_HD_NOINLINE inline
#endif

#include <cmath>
#include <cstdint>

namespace skucast {

constexpr double kLnSqrt2Pi = 0.918938533204672741780329736406;  // log(sqrt(2*pi))
constexpr double kLn2Pi = 1.837877066409345483560659472811;      // log(2*pi)
constexpr double kPi = 3.141592653589793238462643383280;
constexpr double kSqrtPi = 1.772453850905516027298167483341;     // sqrt(pi)
constexpr double kDoubleEps = 2.220446049250313e-16;

}  // namespace skucast
