// order_up_to / replenish / plan_orders on the GPU: one thread per row over the same row steps
// as the CPU loop (skucast/inventory/policy_rows.h). Levels that need pmf arrays (NB fill rate,
// convolved windows) are not computed here: the row reports gpu::kArgNeedsPmf.
#include "common.cuh"
#include "inventory_common.cuh"
#include "skucast/dist/special.h"
#include "skucast/gpu/inventory_kernels.h"
#include "skucast/inventory/policy_rows.h"

namespace skucast {
namespace gpu {
namespace {

using namespace detail;

// Levels of row i (S, s, mean stay 0 on a bad row); -1 or the bad argument. kNormal: for
// method="normal" alone, without the NB solver, whose registers and stack (192 registers, 680
// bytes) would otherwise limit every thread of the kernel.
template <bool kNormal>
__device__ __forceinline__ int solve_levels(const cpu::DemandArgs& d, double z, int64_t i, int64_t& S, int64_t& s,
                                            double& mean) {
  int64_t st = 0, L = 0, R = 0;
  if (inv::check_window(d, i, st, L, R) >= 0) return 2;
  inv::WindowMoments mL, mLR;
  const int arg = inv::window_moments(d, i, st, L, R, mL, mLR);
  if (arg >= 0) return arg;
  const double fr_target = inv::fill_rate_budget(d.service, mL, mLR, L, R);
  int64_t S_v = 0, s_v = 0;
  if constexpr (kNormal) {
    inv::normal_levels(d, z, mL, mLR, R, fr_target, S_v, s_v);
  } else {
    bool conv = false;
    if (!inv::direct_levels(d, z, mL, mLR, R, fr_target, S_v, s_v, conv)) return kArgNeedsPmf;
  }
  S = S_v;
  s = s_v;
  mean = mLR.mean;
  return -1;
}

// Not inlined: the NB ppf behind it is the heavy part, compiled once for both kernels that call it.
__device__ __noinline__ int solve_row(const cpu::DemandArgs& d, double z, int64_t i, int64_t& S, int64_t& s,
                                      double& mean) {
  return solve_levels<false>(d, z, i, S, s, mean);
}

template <bool kNormal>
__device__ __forceinline__ int solve(const cpu::DemandArgs& d, double z, int64_t i, int64_t& S, int64_t& s,
                                     double& mean) {
  if constexpr (kNormal)
    return solve_levels<true>(d, z, i, S, s, mean);
  else
    return solve_row(d, z, i, S, s, mean);
}

template <bool kNormal>
__global__ void order_up_to_kernel(cpu::DemandArgs d, double z, int64_t* S, int64_t* s, double* mean, double* safety,
                                   unsigned long long* bad) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < d.n; i += int64_t(gridDim.x) * blockDim.x) {
    int64_t S_v = 0, s_v = 0;
    double m = 0.0;
    const int arg = solve<kNormal>(d, z, i, S_v, s_v, m);
    if (arg >= 0) {
      report_row(bad, i, arg);
      S_v = s_v = 0;
      m = 0.0;
    }
    S[i] = S_v;
    if (s) s[i] = s_v;
    if (mean) mean[i] = m;
    if (safety) safety[i] = static_cast<double>(S_v) - m;
  }
}

__global__ void replenish_kernel(cpu::ReplenishArgs r, int64_t* order, int8_t* reason, unsigned long long* bad) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < r.n; i += int64_t(gridDim.x) * blockDim.x) {
    int64_t ip = 0;
    int arg = inv::check_replenish(r, i, ip);
    int64_t S = 0, s = 0;
    const int level_arg = inv::given_levels(r, i, S, s);
    if (arg < 0) arg = level_arg;
    if (arg >= 0) {
      report_row(bad, i, arg);
      order[i] = 0;
      reason[i] = -1;
      continue;
    }
    const inv::OrderResult o = inv::order_of_row(r, i, ip, S, s);
    order[i] = o.order;
    reason[i] = o.reason;
  }
}

// The fused pass of cpu::plan_orders (its general loop; the CPU's fast path for normal csl
// levels computes the same values).
template <bool kNormal>
__global__ void plan_orders_kernel(cpu::DemandArgs d, cpu::ReplenishArgs r, double z, int64_t* order, int8_t* reason,
                                   int64_t* S_out, int64_t* s_out, unsigned long long* bad) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < r.n; i += int64_t(gridDim.x) * blockDim.x) {
    int64_t ip = 0;
    int arg = inv::check_replenish(r, i, ip);
    int64_t S = 0, s = 0;
    double m = 0.0;
    if (arg < 0) {
      const int darg = solve<kNormal>(d, z, i, S, s, m);
      if (darg >= 0) arg = 100 + darg;
    }
    if (arg >= 0) {
      report_row(bad, i, arg);
      order[i] = 0;
      reason[i] = -1;
      if (S_out) S_out[i] = 0;
      if (s_out) s_out[i] = 0;
      continue;
    }
    if (S_out) S_out[i] = S;
    if (s_out) s_out[i] = s;
    const inv::OrderResult o = inv::order_of_row(r, i, ip, S, s);
    order[i] = o.order;
    reason[i] = o.reason;
  }
}

void require_deterministic_lead(const cpu::DemandArgs& d) {
  if (d.lt_pmf) throw std::invalid_argument("lead_time_pmf: not supported by the GPU kernels");
}

}  // namespace

BadValue order_up_to_nb(const cpu::DemandArgs& d, int64_t* S, int64_t* s, double* mean, double* safety,
                        uintptr_t stream) {
  require_deterministic_lead(d);
  if (d.n == 0) return BadValue{};
  DeviceGuard guard(S);
  const cudaStream_t st = as_stream(stream);
  RowBad bad(st);
  const double z = skucast::normal_ppf(d.service);  // host: the same z as the CPU loop
  if (d.method == cpu::kNormal)
    order_up_to_kernel<true><<<grid_for(d.n), kThreads, 0, st>>>(d, z, S, s, mean, safety, bad.get());
  else
    order_up_to_kernel<false><<<grid_for(d.n), kThreads, 0, st>>>(d, z, S, s, mean, safety, bad.get());
  check_launch();
  return bad.read(st);
}

BadValue replenish(const cpu::ReplenishArgs& r, int64_t* order, int8_t* reason, uintptr_t stream) {
  if (r.n == 0) return BadValue{};
  DeviceGuard guard(order);
  const cudaStream_t st = as_stream(stream);
  RowBad bad(st);
  replenish_kernel<<<grid_for(r.n), kThreads, 0, st>>>(r, order, reason, bad.get());
  check_launch();
  return bad.read(st);
}

BadValue plan_orders(const cpu::DemandArgs& d_in, const cpu::ReplenishArgs& r, int64_t* order, int8_t* reason,
                     int64_t* S_out, int64_t* s_out, uintptr_t stream) {
  require_deterministic_lead(d_in);
  if (r.n == 0) return BadValue{};
  cpu::DemandArgs d = d_in;
  d.need_s = s_out != nullptr || r.policy == inv::kSS || r.policy == inv::kSQ;
  DeviceGuard guard(order);
  const cudaStream_t st = as_stream(stream);
  RowBad bad(st);
  const double z = skucast::normal_ppf(d.service);
  if (d.method == cpu::kNormal)
    plan_orders_kernel<true><<<grid_for(r.n), kThreads, 0, st>>>(d, r, z, order, reason, S_out, s_out, bad.get());
  else
    plan_orders_kernel<false><<<grid_for(r.n), kThreads, 0, st>>>(d, r, z, order, reason, S_out, s_out, bad.get());
  check_launch();
  return bad.read(st);
}

}  // namespace gpu
}  // namespace skucast
