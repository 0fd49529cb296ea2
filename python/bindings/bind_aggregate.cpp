// skucast.window_sum and skucast.group_sum: sums over sample paths; value_range for the range
// checks of large arrays.
#include "array_args.h"

namespace py = pybind11;
using namespace skucast;
using namespace skucast::bindings;

namespace {

DType out_dtype(DType d) { return (d == DType::i32 || d == DType::i64) ? DType::i64 : d; }

// (sums, whether every sum is finite and, for int64 input, cannot have wrapped)
py::tuple window_sum(const py::array& data, int64_t series, int64_t m1, int64_t horizon, int64_t m2,
                     const py::array_t<int64_t, py::array::c_style>& start,
                     const py::array_t<int64_t, py::array::c_style>& length) {
  require_contiguous(data, "samples");
  const DType dt = dtype_of(data, "samples");
  if (series * m1 * horizon * m2 != data.size()) throw py::value_error("samples: layout does not match its size");
  if (start.size() != series || length.size() != series) throw py::value_error("start/length: one per series");
  py::array out(numpy_dtype(out_dtype(dt)), std::vector<py::ssize_t>{series, m1, m2});
  void* op = out.mutable_data();
  const int64_t* sp = start.data();
  const int64_t* lp = length.data();
  bool finite = true;
  {
    py::gil_scoped_release release;
    finite = cpu::window_sum(data.data(), dt, series, m1, horizon, m2, sp, lp, op);
  }
  return py::make_tuple(out, finite);
}

// (min, max, any NaN, any value not whole): Python ints for integer arrays, floats otherwise;
// (None, None, False, False) for an empty array.
py::tuple range_tuple(const cpu::ValueRange& r, DType dt, int64_t n) {
  if (n == 0) return py::make_tuple(py::none(), py::none(), false, false);
  if (dt == DType::i32 || dt == DType::i64) return py::make_tuple(r.int_min, r.int_max, false, false);
  return py::make_tuple(r.min, r.max, r.nan, r.fractional);
}

py::tuple value_range(const py::array& data) {
  require_contiguous(data, "values");
  const DType dt = dtype_of(data, "values");
  const int64_t n = data.size();
  cpu::ValueRange r;
  if (n > 0) {
    py::gil_scoped_release release;
    r = cpu::value_range(data.data(), dt, n);
  }
  return range_tuple(r, dt, n);
}

// (sums over length, sums over length2, whether every sum is finite and none can have wrapped,
// value_range's tuple of all of data or None): two windows per series from one start, and
// with with_range the values' range, in one pass over the samples.
py::tuple window_sum_pair(const py::array& data, int64_t series, int64_t m1, int64_t horizon, int64_t m2,
                          const py::array_t<int64_t, py::array::c_style>& start,
                          const py::array_t<int64_t, py::array::c_style>& length,
                          const py::array_t<int64_t, py::array::c_style>& length2, bool with_range) {
  require_contiguous(data, "samples");
  const DType dt = dtype_of(data, "samples");
  if (series * m1 * horizon * m2 != data.size()) throw py::value_error("samples: layout does not match its size");
  if (start.size() != series || length.size() != series || length2.size() != series)
    throw py::value_error("start/length: one per series");
  const std::vector<py::ssize_t> shape{series, m1, m2};
  py::array out(numpy_dtype(out_dtype(dt)), shape), out2(numpy_dtype(out_dtype(dt)), shape);
  void* op = out.mutable_data();
  void* op2 = out2.mutable_data();
  const int64_t* sp = start.data();
  const int64_t* lp = length.data();
  const int64_t* lp2 = length2.data();
  bool finite = true;
  cpu::ValueRange r;
  {
    py::gil_scoped_release release;
    finite = cpu::window_sum(data.data(), dt, series, m1, horizon, m2, sp, lp, op, lp2, op2,
                             with_range ? &r : nullptr);
  }
  return py::make_tuple(out, out2, finite, with_range ? range_tuple(r, dt, data.size()) : py::object(py::none()));
}

// (sums, false when an int64 sum might have wrapped)
py::tuple group_sum(const py::array& data, int64_t n, int64_t cols,
                    const py::array_t<int64_t, py::array::c_style>& group_ids, int64_t num_groups) {
  require_contiguous(data, "samples");
  const DType dt = dtype_of(data, "samples");
  if (n * cols != data.size()) throw py::value_error("samples: layout does not match its size");
  if (group_ids.size() != n) throw py::value_error("group_ids: one per series");
  py::array out(numpy_dtype(out_dtype(dt)), std::vector<py::ssize_t>{num_groups, cols});
  std::memset(out.mutable_data(), 0, static_cast<size_t>(out.nbytes()));
  void* op = out.mutable_data();
  const int64_t* gp = group_ids.data();
  bool safe = true;
  {
    py::gil_scoped_release release;
    safe = cpu::group_sum(data.data(), dt, n, cols, gp, num_groups, op);
  }
  return py::make_tuple(out, safe);
}

}  // namespace

void init_aggregate(py::module_& m) {
  m.def("window_sum", &window_sum);
  m.def("window_sum_pair", &window_sum_pair);
  m.def("group_sum", &group_sum);
  m.def("value_range", &value_range);
}
