// Turning numpy arrays into the kernels' raw views. The Python layer has already chosen
// dtypes and broadcast shapes; these helpers only read them (no implicit conversion).
#pragma once
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "skucast/cpu/inventory_kernels.h"
#include "skucast/cpu/kernels.h"

namespace skucast {
namespace bindings {

namespace py = pybind11;
using cpu::DType;

inline DType dtype_of(const py::array& a, const char* name) {
  const py::dtype dt = a.dtype();
  const char kind = dt.kind();
  const auto size = dt.itemsize();
  if (kind == 'f' && size == 4) return DType::f32;
  if (kind == 'f' && size == 8) return DType::f64;
  if (kind == 'i' && size == 4) return DType::i32;
  if (kind == 'i' && size == 8) return DType::i64;
  throw py::type_error(std::string(name) + ": unsupported dtype " + py::str(dt).cast<std::string>());
}

inline py::dtype numpy_dtype(DType d) {
  switch (d) {
    case DType::f32: return py::dtype::of<float>();
    case DType::f64: return py::dtype::of<double>();
    case DType::i32: return py::dtype::of<int32_t>();
    default: return py::dtype::of<int64_t>();
  }
}

inline BroadcastShape shape_of(const py::array& a) {
  if (a.ndim() > kMaxDims) throw py::value_error("arrays of more than 32 dimensions are not supported");
  BroadcastShape s;
  s.ndim = static_cast<int>(a.ndim());
  for (int d = 0; d < s.ndim; ++d) s.shape[d] = a.shape(d);
  return s;
}

// The kernels read whole elements: the data and every stride must be multiples of the element
// size (the Python layer copies misaligned views, e.g. fields of packed structured arrays).
inline void require_aligned(const py::array& a, const char* name) {
  const auto item = a.itemsize();
  bool ok = reinterpret_cast<uintptr_t>(a.data()) % static_cast<uintptr_t>(item) == 0;
  for (py::ssize_t d = 0; d < a.ndim(); ++d) ok = ok && a.strides(d) % item == 0;
  if (!ok) throw py::value_error(std::string(name) + ": misaligned data or strides");
}

inline void require_contiguous(const py::array& a, const char* name) {
  if (!(a.flags() & py::array::c_style)) throw py::value_error(std::string(name) + ": must be C-contiguous");
  require_aligned(a, name);
}

// Element strides of `a`, which must have exactly the broadcast shape `s` (a broadcast view).
inline Strided strided_of(const py::array& a, const BroadcastShape& s, const char* name) {
  if (a.ndim() != s.ndim) throw py::value_error(std::string(name) + ": internal shape mismatch");
  require_aligned(a, name);
  Strided out;
  out.data = a.data();
  const auto item = a.itemsize();
  for (int d = 0; d < s.ndim; ++d) {
    if (a.shape(d) != s.shape[d]) throw py::value_error(std::string(name) + ": internal shape mismatch");
    out.strides[d] = a.strides(d) / item;
  }
  return out;
}

inline py::object bad_tuple(const BadValue& bad) {
  if (!bad.found()) return py::none();
  return py::make_tuple(bad.flat, bad.arg);
}

template <class T>
using Arr = py::array_t<T, py::array::c_style>;

// Sizes the Python layer already checked; a mismatch here is an internal error.
inline void need_size(const py::array& a, int64_t size, const char* name) {
  if (a.size() != size) throw py::value_error(std::string(name) + ": internal size mismatch");
}

// A per-row argument of element type T: 0-d (one value for every row, stride 0) or a
// C-contiguous (n,) array.
template <class T>
cpu::PerRow<T> per_row(const py::array& a, int64_t n, const char* name) {
  const py::dtype dt = a.dtype();
  const char kind = std::is_floating_point<T>::value ? 'f' : 'i';
  if (dt.kind() != kind || dt.itemsize() != static_cast<py::ssize_t>(sizeof(T)))
    throw py::type_error(std::string(name) + (kind == 'f' ? ": must be float64" : ": must be int64"));
  const T* p = static_cast<const T*>(a.data());
  if (a.ndim() == 0) {
    require_aligned(a, name);
    return {p, 0};
  }
  if (a.ndim() != 1) throw py::value_error(std::string(name) + ": internal shape mismatch");
  need_size(a, n, name);
  require_contiguous(a, name);  // (alignment included)
  return {p, 1};
}

}  // namespace bindings
}  // namespace skucast
