// The inventory kernels of `_cuda`: device pointers as integers, per-row arrays as (pointer,
// element stride) pairs (stride 0 for a scalar), daily parameters as (pointer, row stride, day
// stride), null pointers as 0. Shapes and dtypes are prepared by python/skucast/_gpu.py.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstdint>
#include <tuple>

#include "skucast/gpu/inventory_kernels.h"

namespace py = pybind11;
using namespace skucast;

namespace {

using RowArg = std::tuple<uintptr_t, int64_t>;
using DailyArg = std::tuple<uintptr_t, int64_t, int64_t>;

cpu::RowI64 row(const RowArg& a) {
  cpu::RowI64 r;
  r.p = reinterpret_cast<const int64_t*>(std::get<0>(a));
  r.stride = std::get<1>(a);
  return r;
}

cpu::Daily daily(const DailyArg& a) {
  cpu::Daily d;
  d.p = reinterpret_cast<const double*>(std::get<0>(a));
  d.row_stride = std::get<1>(a);
  d.day_stride = std::get<2>(a);
  return d;
}

template <class T>
T* ptr(uintptr_t p) {
  return reinterpret_cast<T*>(p);
}

py::object bad_tuple(const BadValue& bad) {
  if (!bad.found()) return py::none();
  return py::make_tuple(bad.flat, bad.arg);
}

cpu::DemandArgs demand_args(int64_t n, int64_t horizon, const DailyArg& mu, const DailyArg& alpha, const RowArg& start,
                            const RowArg& lead, const RowArg& review, double service, int target, int method,
                            double conv_mean_max) {
  if (target < 0 || target > 1 || method < 0 || method > 3) throw py::value_error("target/method: internal error");
  cpu::DemandArgs d;
  d.n = n;
  d.horizon = horizon;
  d.mu = daily(mu);
  d.alpha = daily(alpha);
  d.start = row(start);
  d.lead = row(lead);
  d.review = row(review);
  d.service = service;
  d.target = target;
  d.method = method;
  d.conv_mean_max = conv_mean_max;
  return d;
}

cpu::ReplenishArgs replenish_args(int64_t n, int policy, const RowArg& on_hand, const RowArg& on_order,
                                  const RowArg& backorders, const RowArg& S, const RowArg& s, const RowArg& Q,
                                  const RowArg& moq, const RowArg& case_pack, const py::object& max_order,
                                  const py::object& shelf) {
  if (policy < 0 || policy > 3) throw py::value_error("policy: internal error");
  cpu::ReplenishArgs r;
  r.n = n;
  r.policy = policy;
  r.on_hand = row(on_hand);
  r.on_order = row(on_order);
  r.backorders = row(backorders);
  r.S = row(S);
  r.s = row(s);
  r.Q = row(Q);
  r.moq = row(moq);
  r.case_pack = row(case_pack);
  r.has_max_order = !max_order.is_none();
  if (r.has_max_order) r.max_order = row(max_order.cast<RowArg>());
  r.has_shelf = !shelf.is_none();
  if (r.has_shelf) r.shelf = row(shelf.cast<RowArg>());
  return r;
}

}  // namespace

void init_inventory(py::module_& m) {
  m.def(
      "inv_order_up_to",
      [](int64_t n, int64_t horizon, const DailyArg& mu, const DailyArg& alpha, const RowArg& start,
         const RowArg& lead, const RowArg& review, double service, int target, int method, double conv_mean_max,
         uintptr_t S, uintptr_t s, uintptr_t mean, uintptr_t safety, uintptr_t stream) {
        const cpu::DemandArgs d =
            demand_args(n, horizon, mu, alpha, start, lead, review, service, target, method, conv_mean_max);
        BadValue bad;
        {
          py::gil_scoped_release release;
          bad = gpu::order_up_to_nb(d, ptr<int64_t>(S), ptr<int64_t>(s), ptr<double>(mean), ptr<double>(safety),
                                    stream);
        }
        return bad_tuple(bad);
      },
      py::arg("n"), py::arg("horizon"), py::arg("mu"), py::arg("alpha"), py::arg("start"), py::arg("lead"),
      py::arg("review"), py::arg("service"), py::arg("target"), py::arg("method"), py::arg("conv_mean_max"),
      py::arg("S"), py::arg("s"), py::arg("mean"), py::arg("safety"), py::arg("stream"));

  m.def(
      "inv_replenish",
      [](int64_t n, int policy, const RowArg& on_hand, const RowArg& on_order, const RowArg& backorders,
         const RowArg& S, const RowArg& s, const RowArg& Q, const RowArg& moq, const RowArg& case_pack,
         const py::object& max_order, const py::object& shelf, uintptr_t order, uintptr_t reason, uintptr_t stream) {
        const cpu::ReplenishArgs r =
            replenish_args(n, policy, on_hand, on_order, backorders, S, s, Q, moq, case_pack, max_order, shelf);
        BadValue bad;
        {
          py::gil_scoped_release release;
          bad = gpu::replenish(r, ptr<int64_t>(order), ptr<int8_t>(reason), stream);
        }
        return bad_tuple(bad);
      },
      py::arg("n"), py::arg("policy"), py::arg("on_hand"), py::arg("on_order"), py::arg("backorders"), py::arg("S"),
      py::arg("s"), py::arg("Q"), py::arg("moq"), py::arg("case_pack"), py::arg("max_order"), py::arg("shelf"),
      py::arg("order"), py::arg("reason"), py::arg("stream"));

  m.def(
      "inv_plan_orders",
      [](int64_t horizon, const DailyArg& mu, const DailyArg& alpha, const RowArg& start, const RowArg& lead,
         const RowArg& review, double service, int target, int method, double conv_mean_max, int64_t n, int policy,
         const RowArg& on_hand, const RowArg& on_order, const RowArg& backorders, const RowArg& Q, const RowArg& moq,
         const RowArg& case_pack, const py::object& max_order, const py::object& shelf, uintptr_t order,
         uintptr_t reason, uintptr_t S_out, uintptr_t s_out, uintptr_t stream) {
        const cpu::DemandArgs d =
            demand_args(n, horizon, mu, alpha, start, lead, review, service, target, method, conv_mean_max);
        const RowArg zero = on_hand;  // S / s are not read by plan_orders
        const cpu::ReplenishArgs r =
            replenish_args(n, policy, on_hand, on_order, backorders, zero, zero, Q, moq, case_pack, max_order, shelf);
        BadValue bad;
        {
          py::gil_scoped_release release;
          bad = gpu::plan_orders(d, r, ptr<int64_t>(order), ptr<int8_t>(reason), ptr<int64_t>(S_out),
                                 ptr<int64_t>(s_out), stream);
        }
        return bad_tuple(bad);
      },
      py::arg("horizon"), py::arg("mu"), py::arg("alpha"), py::arg("start"), py::arg("lead"), py::arg("review"),
      py::arg("service"), py::arg("target"), py::arg("method"), py::arg("conv_mean_max"), py::arg("n"),
      py::arg("policy"), py::arg("on_hand"), py::arg("on_order"), py::arg("backorders"), py::arg("Q"), py::arg("moq"),
      py::arg("case_pack"), py::arg("max_order"), py::arg("shelf"), py::arg("order"), py::arg("reason"),
      py::arg("S_out"), py::arg("s_out"), py::arg("stream"));

  m.def(
      "inv_allocate_nb",
      [](int64_t n, int64_t m, uintptr_t supply, uintptr_t mu, uintptr_t alpha, uintptr_t on_hand,
         uintptr_t min_display, uintptr_t out, uintptr_t stream) {
        py::gil_scoped_release release;
        gpu::allocate_nb(n, m, ptr<const int64_t>(supply), ptr<const double>(mu), ptr<const double>(alpha),
                         ptr<const int64_t>(on_hand), ptr<const int64_t>(min_display), ptr<int64_t>(out), stream);
      },
      py::arg("n"), py::arg("m"), py::arg("supply"), py::arg("mu"), py::arg("alpha"), py::arg("on_hand"),
      py::arg("min_display"), py::arg("out"), py::arg("stream"));

  m.def(
      "inv_allocate_samples",
      [](int64_t n, int64_t m, int64_t num, uintptr_t supply, uintptr_t samples, uintptr_t on_hand,
         uintptr_t min_display, uintptr_t out, uintptr_t stream) {
        py::gil_scoped_release release;
        gpu::allocate_samples(n, m, num, ptr<const int64_t>(supply), ptr<const int64_t>(samples),
                              ptr<const int64_t>(on_hand), ptr<const int64_t>(min_display), ptr<int64_t>(out), stream);
      },
      py::arg("n"), py::arg("m"), py::arg("num"), py::arg("supply"), py::arg("samples"), py::arg("on_hand"),
      py::arg("min_display"), py::arg("out"), py::arg("stream"));

  m.def(
      "inv_simulate",
      [](int64_t n, int64_t T, uintptr_t demand, bool demand_i32, uintptr_t S, uintptr_t s, int64_t target_cols,
         int64_t n_reviews, int64_t review_period, int64_t first_review, int policy, bool lost_sales,
         uintptr_t lead_time, uintptr_t on_hand0, uintptr_t on_order, int64_t on_order_cols, uintptr_t moq,
         uintptr_t case_pack, uintptr_t max_order, uintptr_t smoothing, uintptr_t out_i, uintptr_t out_f,
         uintptr_t trace, int64_t max_lead, uintptr_t stream) {
        if (review_period < 1) throw py::value_error("review_period: must be >= 1");
        cpu::SimArgs a;
        a.n = n;
        a.T = T;
        a.demand = ptr<const void>(demand);
        a.demand_i32 = demand_i32;
        a.S = ptr<const int64_t>(S);
        a.s = ptr<const int64_t>(s);
        a.target_cols = target_cols;
        a.n_reviews = n_reviews;
        a.review_period = review_period;
        a.first_review = first_review;
        a.policy = policy;
        a.lost_sales = lost_sales;
        a.lead_time = {ptr<const int64_t>(lead_time), 1};
        a.on_hand0 = {ptr<const int64_t>(on_hand0), 1};
        a.on_order = ptr<const int64_t>(on_order);
        a.on_order_cols = on_order_cols;
        a.moq = {ptr<const int64_t>(moq), 1};
        a.case_pack = {ptr<const int64_t>(case_pack), 1};
        a.max_order = {ptr<const int64_t>(max_order), 1};
        a.smoothing = {ptr<const double>(smoothing), 1};
        a.out_i = ptr<int64_t>(out_i);
        a.out_f = ptr<double>(out_f);
        a.trace = ptr<int64_t>(trace);
        py::gil_scoped_release release;
        return gpu::simulate(a, max_lead, stream);
      },
      py::arg("n"), py::arg("T"), py::arg("demand"), py::arg("demand_i32"), py::arg("S"), py::arg("s"),
      py::arg("target_cols"), py::arg("n_reviews"), py::arg("review_period"), py::arg("first_review"),
      py::arg("policy"), py::arg("lost_sales"), py::arg("lead_time"), py::arg("on_hand0"), py::arg("on_order"),
      py::arg("on_order_cols"), py::arg("moq"), py::arg("case_pack"), py::arg("max_order"), py::arg("smoothing"),
      py::arg("out_i"), py::arg("out_f"), py::arg("trace"), py::arg("max_lead"), py::arg("stream"));
}
