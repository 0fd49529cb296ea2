// skucast.quantiles: batched order statistics along one axis.
#include "array_args.h"

namespace py = pybind11;
using namespace skucast;
using namespace skucast::bindings;

namespace {

py::tuple quantiles(const py::array& data, int64_t outer, int64_t n, int64_t inner,
                    const py::array_t<double, py::array::c_style>& levels, bool linear) {
  require_contiguous(data, "samples");
  const DType dt = dtype_of(data, "samples");
  if (outer * n * inner != data.size()) throw py::value_error("samples: layout does not match its size");
  const int64_t num_levels = levels.size();
  py::array out(linear ? py::dtype::of<double>() : numpy_dtype(dt), std::vector<py::ssize_t>{outer, inner, num_levels});
  void* op = out.mutable_data();
  const double* lp = levels.data();
  BadValue bad;
  {
    py::gil_scoped_release release;
    bad = cpu::quantiles(data.data(), dt, outer, n, inner, lp, num_levels, linear, op);
  }
  return py::make_tuple(out, bad_tuple(bad));
}

}  // namespace

void init_quantile(py::module_& m) { m.def("quantiles", &quantiles); }
