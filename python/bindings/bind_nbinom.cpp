// skucast.nbinom: elementwise NB functions, quantile function, nll and sampling.
#include "array_args.h"

namespace py = pybind11;
using namespace skucast;
using namespace skucast::bindings;

namespace {

py::tuple nb_elementwise(int func, const py::array& y, const py::array& mu, const py::array& alpha) {
  const BroadcastShape s = shape_of(mu);
  const Strided ys = strided_of(y, s, "y"), ms = strided_of(mu, s, "mu"), as = strided_of(alpha, s, "alpha");
  const DType ydt = dtype_of(y, "y"), pdt = dtype_of(mu, "mu");
  py::array out(numpy_dtype(pdt), std::vector<py::ssize_t>(mu.shape(), mu.shape() + mu.ndim()));
  void* op = out.mutable_data();
  BadValue bad;
  {
    py::gil_scoped_release release;
    bad = cpu::nb_elementwise(static_cast<cpu::NbFunc>(func), s, ys, ydt, ms, as, pdt, op);
  }
  return py::make_tuple(out, bad_tuple(bad));
}

py::tuple nb_ppf(const py::array& q, const py::array& mu, const py::array& alpha) {
  const BroadcastShape s = shape_of(mu);
  const Strided qs = strided_of(q, s, "q"), ms = strided_of(mu, s, "mu"), as = strided_of(alpha, s, "alpha");
  const DType pdt = dtype_of(mu, "mu");
  py::array_t<int64_t> out(std::vector<py::ssize_t>(mu.shape(), mu.shape() + mu.ndim()));
  int64_t* op = out.mutable_data();
  BadValue bad;
  {
    py::gil_scoped_release release;
    bad = cpu::nb_ppf(s, qs, ms, as, pdt, op);
  }
  return py::make_tuple(out, bad_tuple(bad));
}

py::tuple nb_nll_rows(const py::array& y, const py::array& mu, const py::array& alpha, int64_t row_len) {
  const BroadcastShape s = shape_of(mu);
  const Strided ys = strided_of(y, s, "y"), ms = strided_of(mu, s, "mu"), as = strided_of(alpha, s, "alpha");
  const DType ydt = dtype_of(y, "y"), pdt = dtype_of(mu, "mu");
  if (row_len < 1) throw py::value_error("row_len: must be >= 1");
  const int64_t n = s.size();
  py::array_t<double> out((n + row_len - 1) / row_len);
  double* op = out.mutable_data();
  BadValue bad;
  {
    py::gil_scoped_release release;
    bad = cpu::nb_nll_rows(s, ys, ydt, ms, as, pdt, row_len, op);
  }
  return py::make_tuple(out, bad_tuple(bad));
}

py::tuple nb_sample(const py::array& mu, const py::array& alpha, const py::object& keys, const py::array& step,
                    int64_t num_samples, uint64_t seed) {
  const BroadcastShape s = shape_of(mu);
  const Strided ms = strided_of(mu, s, "mu"), as = strided_of(alpha, s, "alpha"), ss = strided_of(step, s, "step");
  if (dtype_of(step, "step") != DType::i64) throw py::type_error("step: must be int64");
  Strided ks;
  const bool have_keys = !keys.is_none();
  if (have_keys) {
    const py::array k = keys.cast<py::array>();
    if (dtype_of(k, "keys") != DType::i64) throw py::type_error("keys: must be int64");
    ks = strided_of(k, s, "keys");
  }
  const DType pdt = dtype_of(mu, "mu");
  std::vector<py::ssize_t> shape(mu.shape(), mu.shape() + mu.ndim());
  shape.push_back(num_samples);
  py::array_t<int64_t> out(shape);
  int64_t* op = out.mutable_data();
  BadValue bad;
  {
    py::gil_scoped_release release;
    bad = cpu::nb_sample(s, ms, as, pdt, have_keys ? &ks : nullptr, ss, num_samples, seed, op);
  }
  return py::make_tuple(out, bad_tuple(bad));
}

}  // namespace

void init_nbinom(py::module_& m) {
  m.def("nb_elementwise", &nb_elementwise);
  m.def("nb_ppf", &nb_ppf);
  m.def("nb_nll_rows", &nb_nll_rows);
  m.def("nb_sample", &nb_sample);
}
