// The inventory CUDA kernels as the bindings see them: the cpu/inventory*_kernels.h argument
// structs holding device pointers, plus the caller's stream (an integer). Calls returning a
// BadValue or a flat index wait for the stream to read it back; the others return after launch.
#pragma once
#include <cstdint>

#include "skucast/core/strided.h"
#include "skucast/cpu/inventory_kernels.h"
#include "skucast/cpu/inventory_sim_kernels.h"

namespace skucast {
namespace gpu {

// BadValue arg of the policy kernels for a row whose levels need pmf arrays (NB fill rate, or
// method "exact"/"convolution" on a window that is convolved), which the GPU does not compute.
constexpr int kArgNeedsPmf = 3;

// As cpu::order_up_to_nb for a deterministic lead time (d.lt_pmf must be null); arg 0 mu,
// 1 alpha, 2 window, kArgNeedsPmf. z = normal_ppf(d.service), computed on the host.
BadValue order_up_to_nb(const cpu::DemandArgs& d, int64_t* S, int64_t* s, double* mean, double* safety,
                        uintptr_t stream);

// As cpu::replenish (arg: cpu::ReplenishArg).
BadValue replenish(const cpu::ReplenishArgs& r, int64_t* order, int8_t* reason, uintptr_t stream);

// As cpu::plan_orders (arg: ReplenishArg, or 100 + 0 mu / 1 alpha / 2 window / kArgNeedsPmf).
// S_out, s_out may be null.
BadValue plan_orders(const cpu::DemandArgs& d, const cpu::ReplenishArgs& r, int64_t* order, int8_t* reason,
                     int64_t* S_out, int64_t* s_out, uintptr_t stream);

// As cpu::allocate_nb / cpu::allocate_samples (inputs validated by the caller): one thread
// per SKU, the same threshold search and tie rule; global scratch of a few words per cell.
void allocate_nb(int64_t n, int64_t m, const int64_t* supply, const double* mu, const double* alpha,
                 const int64_t* on_hand, const int64_t* min_display, int64_t* out, uintptr_t stream);
void allocate_samples(int64_t n, int64_t m, int64_t num, const int64_t* supply, const int64_t* samples,
                      const int64_t* on_hand, const int64_t* min_display, int64_t* out, uintptr_t stream);

// As cpu::simulate: one thread per row. max_lead: max(lead_time) (>= 0), sizes the pipeline
// scratch. Traces need int64 demand. Returns the flat index of the first negative demand or -1.
int64_t simulate(const cpu::SimArgs& a, int64_t max_lead, uintptr_t stream);

}  // namespace gpu
}  // namespace skucast
