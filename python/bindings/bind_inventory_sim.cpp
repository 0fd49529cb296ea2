// skucast.inventory.allocate and skucast.inventory.simulate: the Python layer has checked the
// values and made every array contiguous with the exact dtype.
#include "array_args.h"

#include <stdexcept>
#include <string>
#include <vector>

#include "skucast/cpu/inventory_sim_kernels.h"

namespace py = pybind11;
using namespace skucast;
using skucast::bindings::Arr;
using skucast::bindings::need_size;
using skucast::bindings::per_row;

namespace {

// An optional int64 argument: nullptr when None, else its data (kept alive by `holder`).
const int64_t* optional_rows(const py::object& value, int64_t size, const char* name, Arr<int64_t>& holder) {
  if (value.is_none()) return nullptr;
  holder = value.cast<Arr<int64_t>>();
  need_size(holder, size, name);
  return holder.data();
}


// An (n, m) argument of one dtype with any strides (numpy broadcast views pass as they are).
template <class T>
cpu::Cells<T> cells_of(const py::object& value, int64_t n, int64_t m, const char* name) {
  const py::array a = value.cast<py::array>();
  if (!a.dtype().is(py::dtype::of<T>())) throw py::type_error(std::string(name) + ": wrong dtype");
  if (a.ndim() != 2 || a.shape(0) != n || a.shape(1) != m) throw py::value_error(std::string(name) + ": expected (n, m)");
  skucast::bindings::require_aligned(a, name);
  const auto size = static_cast<py::ssize_t>(sizeof(T));
  return {static_cast<const T*>(a.data()), a.strides(0) / size, a.strides(1) / size};
}

// None when a cell is bad (the Python layer then names it).
py::object allocate_nb(const Arr<int64_t>& supply, const Arr<double>& mu, const py::object& alpha,
                       const py::object& on_hand, const py::object& min_display) {
  if (mu.ndim() != 2) throw py::value_error("mu: expected (n_skus, n_locations)");
  const int64_t n = mu.shape(0), m = mu.shape(1);
  need_size(supply, n, "supply");
  const cpu::Cells<double> al = cells_of<double>(alpha, n, m, "alpha");
  const cpu::Cells<int64_t> oh = cells_of<int64_t>(on_hand, n, m, "on_hand");
  const cpu::Cells<int64_t> md = min_display.is_none() ? cpu::Cells<int64_t>{} : cells_of<int64_t>(min_display, n, m, "min_display");
  Arr<int64_t> out({n, m});
  int64_t* op = out.mutable_data();
  int64_t bad;
  {
    py::gil_scoped_release release;
    bad = cpu::allocate_nb(n, m, supply.data(), mu.data(), al, oh, md, op);
  }
  if (bad >= 0) return py::none();
  return std::move(out);
}

Arr<int64_t> allocate_samples(const Arr<int64_t>& supply, const Arr<int64_t>& samples, const Arr<int64_t>& on_hand,
                              const py::object& min_display) {
  if (samples.ndim() != 3) throw py::value_error("samples: expected (n_skus, n_locations, num_samples)");
  const int64_t n = samples.shape(0), m = samples.shape(1), num = samples.shape(2);
  need_size(supply, n, "supply");
  need_size(on_hand, n * m, "on_hand");
  Arr<int64_t> md_arr;
  const int64_t* md = optional_rows(min_display, n * m, "min_display", md_arr);
  Arr<int64_t> out({n, m});
  int64_t* op = out.mutable_data();
  {
    py::gil_scoped_release release;
    cpu::allocate_samples(n, m, num, supply.data(), samples.data(), on_hand.data(), md, op);
  }
  return out;
}

// Returns (out_i (kSimIntCols, n), out_f (kSimFloatCols, n), trace or None, first bad flat
// demand index or -1).
py::tuple simulate(const py::array& demand, const Arr<int64_t>& S, const py::object& s_obj, int64_t n_reviews,
                   int64_t review_period, int64_t first_review, int policy, bool lost_sales,
                   const Arr<int64_t>& lead_time, const Arr<int64_t>& on_hand0, const py::object& on_order_obj,
                   const Arr<int64_t>& moq, const Arr<int64_t>& case_pack, const Arr<int64_t>& max_order,
                   const Arr<double>& smoothing, bool want_trace) {
  if (demand.ndim() != 2 || !(demand.flags() & py::array::c_style)) throw py::value_error("demand: expected C-contiguous (n, T)");
  skucast::bindings::require_aligned(demand, "demand");
  const int64_t n = demand.shape(0), T = demand.shape(1);
  cpu::SimArgs a;
  const py::dtype dt = demand.dtype();
  if (dt.kind() != 'i' || (dt.itemsize() != 4 && dt.itemsize() != 8)) throw py::type_error("demand: int32 or int64 expected");
  a.demand_i32 = dt.itemsize() == 4;
  a.n = n;
  a.T = T;
  a.demand = demand.data();
  if (S.ndim() != 2 || S.shape(0) != n) throw py::value_error("S: internal shape mismatch");
  a.target_cols = S.shape(1);
  a.S = S.data();
  Arr<int64_t> s_arr;
  if (!s_obj.is_none()) {
    s_arr = s_obj.cast<Arr<int64_t>>();
    need_size(s_arr, S.size(), "s");
    a.s = s_arr.data();
  }
  // (checked in Python too; the day loop's runs between reviews need both)
  if (review_period < 1) throw py::value_error("review_period: must be >= 1");
  if (first_review < 0) throw py::value_error("first_review: must be >= 0");
  a.n_reviews = n_reviews;
  a.review_period = review_period;
  a.first_review = first_review;
  a.policy = policy;
  a.lost_sales = lost_sales;
  a.lead_time = per_row<int64_t>(lead_time, n, "lead_time");
  a.on_hand0 = per_row<int64_t>(on_hand0, n, "on_hand0");
  Arr<int64_t> oo;
  if (!on_order_obj.is_none()) {
    oo = on_order_obj.cast<Arr<int64_t>>();
    if (oo.ndim() != 2 || oo.shape(0) != n) throw py::value_error("on_order: internal shape mismatch");
    a.on_order = oo.data();
    a.on_order_cols = oo.shape(1);
  }
  a.moq = per_row<int64_t>(moq, n, "moq");
  a.case_pack = per_row<int64_t>(case_pack, n, "case_pack");
  a.max_order = per_row<int64_t>(max_order, n, "max_order");
  a.smoothing = per_row<double>(smoothing, n, "smoothing");
  Arr<int64_t> out_i({int64_t{cpu::kSimIntCols}, n});
  Arr<double> out_f({int64_t{cpu::kSimFloatCols}, n});
  a.out_i = out_i.mutable_data();
  a.out_f = out_f.mutable_data();
  py::object trace = py::none();
  if (want_trace) {
    Arr<int64_t> tr({n, int64_t{cpu::kSimTraceCols}, T});
    a.trace = tr.mutable_data();
    trace = tr;
  }
  int64_t bad;
  {
    py::gil_scoped_release release;
    bad = cpu::simulate(a);
  }
  return py::make_tuple(out_i, out_f, trace, bad);
}

// simulate's metrics from the raw totals: out_i (9, n) int64, out_f (3, n) float64 (the
// kernel's column-major layout); costs float64 of shape () or (n,), price may be None. The three
// metrics that are out_f's columns rescaled (average on-hand, the two variances) overwrite them
// and are returned as views: 24 MB per 1e6 rows that are neither allocated nor page-zeroed.
py::list sim_metrics(const Arr<int64_t>& out_i, Arr<double> out_f, int64_t T, const py::list& costs) {
  if (out_i.ndim() != 2 || out_i.shape(0) != cpu::kSimIntCols) throw py::value_error("out_i: expected (9, n)");
  const int64_t n = out_i.shape(1);
  need_size(out_f, cpu::kSimFloatCols * n, "out_f");
  if (static_cast<int>(costs.size()) != cpu::kSimCosts) throw py::value_error("costs: expected 5 entries");
  cpu::SimMetricsArgs a;
  a.n = n;
  a.T = T;
  for (int c = 0; c < cpu::kSimIntCols; ++c) a.ints[c] = out_i.data() + c * n;
  for (int c = 0; c < cpu::kSimFloatCols; ++c) a.floats[c] = out_f.data() + c * n;
  std::vector<Arr<double>> held;
  for (int c = 0; c < cpu::kSimCosts; ++c) {
    if (costs[c].is_none()) continue;
    held.push_back(costs[c].cast<Arr<double>>());
    const Arr<double>& v = held.back();
    if (v.ndim() != 0 && !(v.ndim() == 1 && v.shape(0) == n)) throw py::value_error("costs: expected () or (n,)");
    a.cost[c] = v.data();
    a.cost_stride[c] = v.ndim() == 0 ? 0 : 1;
  }
  py::list out;
  std::vector<Arr<double>> arrays;
  constexpr int kInPlace[cpu::kSimFloatCols] = {cpu::kMetAvgOnHand, cpu::kMetOrdersVar, cpu::kMetDemandVar};
  for (int k = 0; k < cpu::kSimMetrics; ++k) {
    int col = -1;
    for (int c = 0; c < cpu::kSimFloatCols; ++c) col = kInPlace[c] == k ? c : col;
    if (col >= 0) {
      double* column = out_f.mutable_data() + col * n;
      arrays.emplace_back(std::vector<py::ssize_t>{n}, std::vector<py::ssize_t>{sizeof(double)}, column, out_f);
    } else {
      arrays.emplace_back(n);
    }
    a.out[k] = arrays.back().mutable_data();
  }
  {
    py::gil_scoped_release release;
    cpu::sim_metrics(a);
  }
  for (auto& v : arrays) out.append(v);
  return out;
}

}  // namespace

void init_inventory_sim(py::module_& m) {
  m.def("inv_allocate_nb", &allocate_nb);
  m.def("inv_allocate_samples", &allocate_samples);
  m.def("inv_simulate", &simulate);
  m.def("inv_sim_metrics", &sim_metrics);
}
