// The run-time choice of the AVX-512 loops (see skucast/cpu/avx512.h).
#include "skucast/cpu/avx512.h"

#include <cstdlib>

namespace skucast {
namespace cpu {

bool use_avx512() {
#if defined(__x86_64__) && defined(__GNUC__)
  static const bool yes = [] {
    const char* off = std::getenv("SKUCAST_NO_AVX512");
    if (off && off[0] && off[0] != '0') return false;
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
           __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512bw");
  }();
  return yes;
#else
  return false;
#endif
}

}  // namespace cpu
}  // namespace skucast
