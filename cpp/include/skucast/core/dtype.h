// The element types the kernels take, and the one place that turns the run-time tag into the
// C++ type (host code of the CPU loops and of the CUDA launches alike).
#pragma once
#include <cstdint>

namespace skucast {

enum class DType : int { f32 = 0, f64 = 1, i32 = 2, i64 = 3 };

// f(T{}) with T the type of `dtype`: sample and count arrays (any of the four).
template <class F>
auto visit_dtype(DType dtype, F&& f) {
  switch (dtype) {
    case DType::f32: return f(float{});
    case DType::f64: return f(double{});
    case DType::i32: return f(int32_t{});
    default: return f(int64_t{});
  }
}

// f(T{}) for NB parameter arrays and their results, which are float32 or float64.
template <class F>
auto visit_param_dtype(DType dtype, F&& f) {
  if (dtype == DType::f32) return f(float{});
  return f(double{});
}

// The bindings and gpu/kernels.h name the type as cpu::DType.
namespace cpu {
using ::skucast::DType;
using ::skucast::visit_dtype;
using ::skucast::visit_param_dtype;
}  // namespace cpu

}  // namespace skucast
