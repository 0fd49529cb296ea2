// The GPU extension module `_cuda`: the skucast::gpu kernels with raw device pointers passed
// as integers (read from __cuda_array_interface__ by python/skucast/_gpu.py), shapes, element
// strides, dtype codes (cpu::DType) and the CUDA stream as an integer. Nothing is copied or
// allocated here except a few bytes of scratch; CUDA errors arrive as RuntimeError.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstdint>
#include <string>
#include <vector>

#include "skucast/gpu/kernels.h"

namespace py = pybind11;
using namespace skucast;
using gpu::DType;

#ifndef SKUCAST_CUDA_VERSION
#define SKUCAST_CUDA_VERSION "unknown"
#endif
#ifndef SKUCAST_CUDA_ARCHS
#define SKUCAST_CUDA_ARCHS "unknown"
#endif

void init_inventory(py::module_& m);  // bind_inventory.cpp

namespace {

using Dims = std::vector<int64_t>;

BroadcastShape shape_of(const Dims& dims) {
  if (dims.size() > static_cast<size_t>(kMaxDims)) throw py::value_error("arrays of more than 32 dimensions are not supported");
  BroadcastShape s;
  s.ndim = static_cast<int>(dims.size());
  for (int d = 0; d < s.ndim; ++d) {
    if (dims[d] < 0) throw py::value_error("negative extent in shape");
    s.shape[d] = dims[d];
  }
  return s;
}

// A device pointer with element strides for each dim of the broadcast shape (0 on broadcast dims).
Strided strided_of(uintptr_t ptr, const Dims& strides, const BroadcastShape& s, const char* name) {
  if (strides.size() != static_cast<size_t>(s.ndim))
    throw py::value_error(std::string(name) + ": internal error: strides do not match the shape");
  Strided out;
  out.data = reinterpret_cast<const void*>(ptr);
  for (int d = 0; d < s.ndim; ++d) out.strides[d] = strides[d];
  return out;
}

DType dtype_code(int code, const char* name) {
  if (code < 0 || code > 3) throw py::value_error(std::string(name) + ": internal error: bad dtype code");
  return static_cast<DType>(code);
}

py::object bad_tuple(const BadValue& bad) {
  if (!bad.found()) return py::none();
  return py::make_tuple(bad.flat, bad.arg);
}

template <class T>
T* ptr(uintptr_t p) {
  return reinterpret_cast<T*>(p);
}

}  // namespace

PYBIND11_MODULE(_cuda, m) {
  m.doc() = "skucast CUDA kernels (internal: use the skucast package API with GPU arrays)";

  m.def("device_count", &gpu::device_count);
  m.def(
      "stream_wait",
      [](uintptr_t consumer, uintptr_t producer) {
        py::gil_scoped_release release;
        gpu::stream_wait(consumer, producer);
      },
      py::arg("consumer"), py::arg("producer"));
  m.def("build_info", [] {
    py::dict info;
    info["cuda_version"] = SKUCAST_CUDA_VERSION;
    info["architectures"] = SKUCAST_CUDA_ARCHS;
    return info;
  });

  m.def(
      "nb_elementwise",
      [](int func, const Dims& shape, uintptr_t y, const Dims& y_strides, int y_dtype, uintptr_t mu,
         const Dims& mu_strides, uintptr_t alpha, const Dims& alpha_strides, int param_dtype, uintptr_t out,
         uintptr_t stream) {
        if (func < 0 || func > 3) throw py::value_error("func: internal error");
        const BroadcastShape s = shape_of(shape);
        const Strided ys = strided_of(y, y_strides, s, "y"), ms = strided_of(mu, mu_strides, s, "mu"),
                      as = strided_of(alpha, alpha_strides, s, "alpha");
        const DType ydt = dtype_code(y_dtype, "y"), pdt = dtype_code(param_dtype, "mu");
        BadValue bad;
        {
          py::gil_scoped_release release;
          bad = gpu::nb_elementwise(static_cast<gpu::NbFunc>(func), s, ys, ydt, ms, as, pdt, ptr<void>(out), stream);
        }
        return bad_tuple(bad);
      },
      py::arg("func"), py::arg("shape"), py::arg("y"), py::arg("y_strides"), py::arg("y_dtype"), py::arg("mu"),
      py::arg("mu_strides"), py::arg("alpha"), py::arg("alpha_strides"), py::arg("param_dtype"), py::arg("out"),
      py::arg("stream"));

  m.def(
      "nb_ppf",
      [](const Dims& shape, uintptr_t q, const Dims& q_strides, uintptr_t mu, const Dims& mu_strides, uintptr_t alpha,
         const Dims& alpha_strides, int param_dtype, uintptr_t out, uintptr_t stream) {
        const BroadcastShape s = shape_of(shape);
        const Strided qs = strided_of(q, q_strides, s, "q"), ms = strided_of(mu, mu_strides, s, "mu"),
                      as = strided_of(alpha, alpha_strides, s, "alpha");
        const DType pdt = dtype_code(param_dtype, "mu");
        BadValue bad;
        {
          py::gil_scoped_release release;
          bad = gpu::nb_ppf(s, qs, ms, as, pdt, ptr<int64_t>(out), stream);
        }
        return bad_tuple(bad);
      },
      py::arg("shape"), py::arg("q"), py::arg("q_strides"), py::arg("mu"), py::arg("mu_strides"), py::arg("alpha"),
      py::arg("alpha_strides"), py::arg("param_dtype"), py::arg("out"), py::arg("stream"));

  m.def(
      "nb_nll_rows",
      [](const Dims& shape, uintptr_t y, const Dims& y_strides, int y_dtype, uintptr_t mu, const Dims& mu_strides,
         uintptr_t alpha, const Dims& alpha_strides, int param_dtype, int64_t row_len, uintptr_t out,
         uintptr_t stream) {
        if (row_len < 1) throw py::value_error("row_len: must be >= 1");
        const BroadcastShape s = shape_of(shape);
        const Strided ys = strided_of(y, y_strides, s, "y"), ms = strided_of(mu, mu_strides, s, "mu"),
                      as = strided_of(alpha, alpha_strides, s, "alpha");
        const DType ydt = dtype_code(y_dtype, "y"), pdt = dtype_code(param_dtype, "mu");
        BadValue bad;
        {
          py::gil_scoped_release release;
          bad = gpu::nb_nll_rows(s, ys, ydt, ms, as, pdt, row_len, ptr<double>(out), stream);
        }
        return bad_tuple(bad);
      },
      py::arg("shape"), py::arg("y"), py::arg("y_strides"), py::arg("y_dtype"), py::arg("mu"), py::arg("mu_strides"),
      py::arg("alpha"), py::arg("alpha_strides"), py::arg("param_dtype"), py::arg("row_len"), py::arg("out"),
      py::arg("stream"));

  m.def(
      "nb_sample",
      [](const Dims& shape, uintptr_t mu, const Dims& mu_strides, uintptr_t alpha, const Dims& alpha_strides,
         int param_dtype, uintptr_t keys, const Dims& keys_strides, uintptr_t step, const Dims& step_strides,
         int64_t num_samples, uint64_t seed, uintptr_t out, uintptr_t stream) {
        if (num_samples < 1) throw py::value_error("num_samples: must be >= 1");
        const BroadcastShape s = shape_of(shape);
        const Strided ms = strided_of(mu, mu_strides, s, "mu"), as = strided_of(alpha, alpha_strides, s, "alpha"),
                      ss = strided_of(step, step_strides, s, "step");
        Strided ks;
        if (keys) ks = strided_of(keys, keys_strides, s, "keys");
        const DType pdt = dtype_code(param_dtype, "mu");
        BadValue bad;
        {
          py::gil_scoped_release release;
          bad = gpu::nb_sample(s, ms, as, pdt, keys ? &ks : nullptr, ss, num_samples, seed, ptr<int64_t>(out), stream);
        }
        return bad_tuple(bad);
      },
      py::arg("shape"), py::arg("mu"), py::arg("mu_strides"), py::arg("alpha"), py::arg("alpha_strides"),
      py::arg("param_dtype"), py::arg("keys"), py::arg("keys_strides"), py::arg("step"), py::arg("step_strides"),
      py::arg("num_samples"), py::arg("seed"), py::arg("out"), py::arg("stream"));

  m.def(
      "quantiles",
      [](uintptr_t data, int dtype, int64_t outer, int64_t n, int64_t inner,
         const py::array_t<double, py::array::c_style>& levels, bool linear, uintptr_t out, uintptr_t stream) {
        const DType dt = dtype_code(dtype, "samples");
        const int64_t num_levels = levels.size();
        const double* lp = levels.data();
        BadValue bad;
        {
          py::gil_scoped_release release;
          bad = gpu::quantiles(ptr<const void>(data), dt, outer, n, inner, lp, num_levels, linear, ptr<void>(out),
                               stream);
        }
        return bad_tuple(bad);
      },
      py::arg("data"), py::arg("dtype"), py::arg("outer"), py::arg("n"), py::arg("inner"), py::arg("levels"),
      py::arg("linear"), py::arg("out"), py::arg("stream"));

  m.def(
      "check_windows",
      [](uintptr_t start, uintptr_t length, int64_t series, int64_t horizon, uintptr_t stream) {
        int64_t first[3];
        {
          py::gil_scoped_release release;
          gpu::check_windows(ptr<const int64_t>(start), ptr<const int64_t>(length), series, horizon, first, stream);
        }
        return py::make_tuple(first[0], first[1], first[2]);
      },
      py::arg("start"), py::arg("length"), py::arg("series"), py::arg("horizon"), py::arg("stream"));

  m.def(
      "check_group_ids",
      [](uintptr_t ids, int64_t n, int64_t num_groups, uintptr_t stream) {
        py::gil_scoped_release release;
        return gpu::check_group_ids(ptr<const int64_t>(ids), n, num_groups, stream);
      },
      py::arg("group_ids"), py::arg("n"), py::arg("num_groups"), py::arg("stream"));

  m.def(
      "window_sum",
      [](uintptr_t data, int dtype, int64_t series, int64_t m1, int64_t horizon, int64_t m2, uintptr_t start,
         uintptr_t length, uintptr_t out, uintptr_t stream) {
        const DType dt = dtype_code(dtype, "samples");
        py::gil_scoped_release release;
        gpu::window_sum(ptr<const void>(data), dt, series, m1, horizon, m2, ptr<const int64_t>(start),
                        ptr<const int64_t>(length), ptr<void>(out), stream);
      },
      py::arg("data"), py::arg("dtype"), py::arg("series"), py::arg("m1"), py::arg("horizon"), py::arg("m2"),
      py::arg("start"), py::arg("length"), py::arg("out"), py::arg("stream"));

  m.def(
      "group_sum",
      [](uintptr_t data, int dtype, int64_t n, int64_t cols, uintptr_t ids, int64_t num_groups, uintptr_t out,
         uintptr_t stream) {
        const DType dt = dtype_code(dtype, "samples");
        py::gil_scoped_release release;
        gpu::group_sum(ptr<const void>(data), dt, n, cols, ptr<const int64_t>(ids), num_groups, ptr<void>(out), stream);
      },
      py::arg("data"), py::arg("dtype"), py::arg("n"), py::arg("cols"), py::arg("group_ids"), py::arg("num_groups"),
      py::arg("out"), py::arg("stream"));

  init_inventory(m);
}
