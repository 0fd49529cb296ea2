// The one extension module: each area registers its functions from its own file.
#include <pybind11/pybind11.h>

namespace py = pybind11;

void init_runtime(py::module_& m);
void init_nbinom(py::module_& m);
void init_quantile(py::module_& m);
void init_aggregate(py::module_& m);
void init_inventory_policy(py::module_& m);
void init_inventory_sim(py::module_& m);
void init_inventory_targets(py::module_& m);

PYBIND11_MODULE(_core, m) {
  m.doc() = "skucast CPU kernels (internal: use the skucast package API)";
  init_runtime(m);
  init_nbinom(m);
  init_quantile(m);
  init_aggregate(m);
  init_inventory_policy(m);
  init_inventory_sim(m);
  init_inventory_targets(m);
}
