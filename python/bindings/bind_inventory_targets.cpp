// skucast.inventory.optimize_targets / efficient_frontier: the Python layer has checked the
// values, grouped the SKUs by category and made every array contiguous with the exact dtype.
#include "array_args.h"

#include <string>

#include "skucast/cpu/inventory_kernels.h"

namespace py = pybind11;
using namespace skucast;
using skucast::bindings::Arr;
using skucast::bindings::need_size;

namespace {


// Returns (levels (n_points, n) or None, stats (n_points, n_groups, 5)).
py::tuple optimize_targets(const py::object& mu_obj, const py::object& alpha_obj, const py::object& samples_obj,
                           const Arr<double>& cost, const Arr<int64_t>& floor, const Arr<int64_t>& cap,
                           const Arr<int64_t>& group_offsets, const Arr<double>& goals, int mode, bool want_levels) {
  cpu::TargetsArgs a;
  a.n = cost.size();
  a.mode = mode;
  Arr<double> mu, alpha;
  Arr<int64_t> samples;
  if (!samples_obj.is_none()) {
    samples = samples_obj.cast<Arr<int64_t>>();
    if (samples.ndim() != 2 || samples.shape(0) != a.n) throw py::value_error("samples: internal shape mismatch");
    a.samples = samples.data();
    a.num = samples.shape(1);
  } else {
    mu = mu_obj.cast<Arr<double>>();
    alpha = alpha_obj.cast<Arr<double>>();
    need_size(mu, a.n, "mu");
    need_size(alpha, a.n, "alpha");
    a.mu = mu.data();
    a.alpha = alpha.data();
  }
  need_size(floor, a.n, "floor");
  need_size(cap, a.n, "cap");
  a.cost = cost.data();
  a.floor = floor.data();
  a.cap = cap.data();
  a.n_groups = group_offsets.size() - 1;
  a.group_offsets = group_offsets.data();
  if (goals.ndim() != 2 || goals.shape(1) != a.n_groups) throw py::value_error("goals: internal shape mismatch");
  const int64_t n_points = goals.shape(0);
  Arr<double> stats({n_points, a.n_groups, static_cast<int64_t>(cpu::kTargetsStats)});
  py::object levels_obj = py::none();
  int64_t* lv = nullptr;
  if (want_levels) {
    Arr<int64_t> levels({n_points, a.n});
    lv = levels.mutable_data();
    levels_obj = levels;
  }
  double* sp = stats.mutable_data();
  {
    py::gil_scoped_release release;
    cpu::optimize_targets(a, n_points, goals.data(), lv, sp);
  }
  return py::make_tuple(levels_obj, stats);
}

}  // namespace

void init_inventory_targets(py::module_& m) { m.def("inv_optimize_targets", &optimize_targets); }
