// Thread count and build facts.
#include <pybind11/pybind11.h>

#include "skucast/core/threads.h"
#include "skucast/cpu/kernels.h"

namespace py = pybind11;

#ifndef SKUCAST_VERSION
#define SKUCAST_VERSION "unknown"
#endif
#ifndef SKUCAST_SIMD
#define SKUCAST_SIMD "unknown"
#endif
#ifndef SKUCAST_BUILT_WITH_CUDA
#define SKUCAST_BUILT_WITH_CUDA 0
#endif

void init_runtime(py::module_& m) {
  m.def("set_num_threads", [](int n) {
    if (n < 1) throw py::value_error("n: must be >= 1, got " + std::to_string(n));
    skucast::set_num_threads(n);
  });
  m.def("get_num_threads", &skucast::get_num_threads);
  m.def("build_info", [] {
    py::dict info;
    info["version"] = SKUCAST_VERSION;
#if defined(__clang__)
    info["compiler"] = std::string("clang ") + __clang_version__;
#elif defined(__GNUC__)
    info["compiler"] = std::string("gcc ") + __VERSION__;
#else
    info["compiler"] = "unknown";
#endif
    info["cuda_compiled"] = static_cast<bool>(SKUCAST_BUILT_WITH_CUDA);
    info["simd"] = SKUCAST_SIMD;
    info["logpmf_lanes"] = skucast::cpu::logpmf_lanes();  // chosen at run time (AVX-512 or not)
    return info;
  });
}
