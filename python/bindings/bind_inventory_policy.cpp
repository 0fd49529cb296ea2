// skucast.inventory order_up_to / replenish / plan_orders kernels (CPU).
#include "array_args.h"
#include "skucast/cpu/inventory_kernels.h"

namespace py = pybind11;
using namespace skucast;
using namespace skucast::bindings;

namespace {

// float64 (n, horizon) with any element strides (broadcast views allowed).
cpu::Daily daily(const py::array& a, int64_t n, const char* name) {
  if (dtype_of(a, name) != DType::f64) throw py::type_error(std::string(name) + ": must be float64");
  if (a.ndim() != 2 || a.shape(0) != n) throw py::value_error(std::string(name) + ": internal shape mismatch");
  require_aligned(a, name);
  cpu::Daily d;
  d.p = static_cast<const double*>(a.data());
  d.row_stride = a.strides(0) / 8;
  d.day_stride = a.strides(1) / 8;
  return d;
}

cpu::DemandArgs demand_args(const py::array& mu, const py::array& alpha, int64_t horizon, const py::array& start, const py::array& lead,
                            const py::array& review, const py::object& lt_pmf, double service, int target, int method,
                            double conv_mean_max) {
  cpu::DemandArgs d;
  d.n = mu.ndim() >= 1 ? mu.shape(0) : 0;
  d.horizon = horizon;
  d.mu = daily(mu, d.n, "mu");
  d.alpha = daily(alpha, d.n, "alpha");
  d.start = per_row<int64_t>(start, d.n, "start");
  d.review = per_row<int64_t>(review, d.n, "review_period");
  if (lt_pmf.is_none()) {
    d.lead = per_row<int64_t>(lead, d.n, "lead_time");
  } else {
    const py::array p = lt_pmf.cast<py::array>();
    if (dtype_of(p, "lead_time_pmf") != DType::f64 || p.ndim() != 2 || p.shape(0) != d.n)
      throw py::value_error("lead_time_pmf: internal shape/dtype mismatch");
    require_contiguous(p, "lead_time_pmf");
    d.lt_pmf = static_cast<const double*>(p.data());
    d.lt_cols = p.shape(1);
    d.lead = per_row<int64_t>(lead, d.n, "lead_time");
  }
  d.service = service;
  d.target = target;
  d.method = method;
  d.conv_mean_max = conv_mean_max;
  return d;
}

cpu::ReplenishArgs replenish_args(int64_t n, int policy, const py::array& on_hand, const py::array& on_order,
                                  const py::array& backorders, const py::array& S, const py::array& s,
                                  const py::array& Q, const py::array& moq, const py::array& case_pack,
                                  const py::object& max_order, const py::object& shelf) {
  cpu::ReplenishArgs r;
  r.n = n;
  r.policy = policy;
  r.on_hand = per_row<int64_t>(on_hand, n, "on_hand");
  r.on_order = per_row<int64_t>(on_order, n, "on_order");
  r.backorders = per_row<int64_t>(backorders, n, "backorders");
  r.S = per_row<int64_t>(S, n, "S");
  r.s = per_row<int64_t>(s, n, "s");
  r.Q = per_row<int64_t>(Q, n, "Q");
  r.moq = per_row<int64_t>(moq, n, "moq");
  r.case_pack = per_row<int64_t>(case_pack, n, "case_pack");
  r.has_max_order = !max_order.is_none();
  if (r.has_max_order) r.max_order = per_row<int64_t>(max_order.cast<py::array>(), n, "max_order");
  r.has_shelf = !shelf.is_none();
  if (r.has_shelf) r.shelf = per_row<int64_t>(shelf.cast<py::array>(), n, "shelf_capacity");
  return r;
}

py::tuple order_up_to_nb(const py::array& mu, const py::array& alpha, int64_t horizon, const py::array& start, const py::array& lead,
                         const py::array& review, const py::object& lt_pmf, double service, int target, int method,
                         double conv_mean_max) {
  const cpu::DemandArgs d =
      demand_args(mu, alpha, horizon, start, lead, review, lt_pmf, service, target, method, conv_mean_max);
  py::array_t<int64_t> S(d.n), s(d.n);
  py::array_t<double> mean(d.n), safety(d.n);
  int64_t *Sp = S.mutable_data(), *sp = s.mutable_data();
  double *mp = mean.mutable_data(), *ssp = safety.mutable_data();
  BadValue bad;
  {
    py::gil_scoped_release release;
    bad = cpu::order_up_to_nb(d, Sp, sp, mp, ssp);
  }
  return py::make_tuple(S, s, mean, safety, bad_tuple(bad));
}

py::tuple replenish(int64_t n, int policy, const py::array& on_hand, const py::array& on_order,
                    const py::array& backorders, const py::array& S, const py::array& s, const py::array& Q,
                    const py::array& moq, const py::array& case_pack, const py::object& max_order,
                    const py::object& shelf) {
  const cpu::ReplenishArgs r =
      replenish_args(n, policy, on_hand, on_order, backorders, S, s, Q, moq, case_pack, max_order, shelf);
  py::array_t<int64_t> order(n);
  py::array_t<int8_t> reason(n);
  int64_t* op = order.mutable_data();
  int8_t* rp = reason.mutable_data();
  BadValue bad;
  {
    py::gil_scoped_release release;
    bad = cpu::replenish(r, op, rp);
  }
  return py::make_tuple(order, reason, bad_tuple(bad));
}

py::tuple plan_orders(const py::array& mu, const py::array& alpha, int64_t horizon, const py::array& start, const py::array& lead,
                      const py::array& review, const py::object& lt_pmf, double service, int target, int method,
                      double conv_mean_max, int policy, const py::array& on_hand, const py::array& on_order,
                      const py::array& backorders, const py::array& Q, const py::array& moq,
                      const py::array& case_pack, const py::object& max_order, const py::object& shelf,
                      bool return_levels) {
  const cpu::DemandArgs d =
      demand_args(mu, alpha, horizon, start, lead, review, lt_pmf, service, target, method, conv_mean_max);
  const py::array_t<int64_t> zero(std::vector<py::ssize_t>{});
  const cpu::ReplenishArgs r =
      replenish_args(d.n, policy, on_hand, on_order, backorders, zero, zero, Q, moq, case_pack, max_order, shelf);
  py::array_t<int64_t> order(d.n);
  py::array_t<int8_t> reason(d.n);
  py::array_t<int64_t> S(return_levels ? d.n : 0), s(return_levels ? d.n : 0);
  int64_t* op = order.mutable_data();
  int8_t* rp = reason.mutable_data();
  int64_t* Sp = return_levels ? S.mutable_data() : nullptr;
  int64_t* sp = return_levels ? s.mutable_data() : nullptr;
  BadValue bad;
  {
    py::gil_scoped_release release;
    bad = cpu::plan_orders(d, r, op, rp, Sp, sp);
  }
  return py::make_tuple(order, reason, S, s, bad_tuple(bad));
}

// _SortedRows.loss on host arrays: sorted (n, k) and prefix (n, k + 1) float64, S (n,) int64.
py::array_t<double> sorted_rows_loss(const py::array_t<double, py::array::c_style>& sorted,
                                     const py::array_t<double, py::array::c_style>& prefix,
                                     const py::array_t<int64_t, py::array::c_style>& S) {
  if (sorted.ndim() != 2 || prefix.ndim() != 2 || S.ndim() != 1) throw py::value_error("sorted_rows_loss: shapes");
  const int64_t n = sorted.shape(0), k = sorted.shape(1);
  if (prefix.shape(0) != n || prefix.shape(1) != k + 1 || S.shape(0) != n || k < 1)
    throw py::value_error("sorted_rows_loss: shapes");
  py::array_t<double> out(n);
  double* op = out.mutable_data();
  {
    py::gil_scoped_release release;
    cpu::sorted_rows_loss(sorted.data(), prefix.data(), S.data(), n, k, op);
  }
  return out;
}

}  // namespace

void init_inventory_policy(py::module_& m) {
  m.def("inv_order_up_to_nb", &order_up_to_nb);
  m.def("inv_sorted_rows_loss", &sorted_rows_loss);
  m.def("inv_replenish", &replenish);
  m.def("inv_plan_orders", &plan_orders);
}
