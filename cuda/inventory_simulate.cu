// simulate() on the GPU: one thread per row running inv::simulate_row (skucast/inventory/simulate.h),
// the day loop of the CPU's scalar path, with the pipeline ring in global scratch per thread.
#include "common.cuh"
#include "skucast/gpu/inventory_kernels.h"
#include "skucast/inventory/simulate.h"

namespace skucast {
namespace gpu {
namespace {

using namespace detail;
using cpu::kSimFloatCols;
using cpu::kSimIntCols;
using cpu::kSimTraceCols;


template <class D, bool kTrace>
__global__ void simulate_kernel(cpu::SimArgs a, int64_t ring_cap, int64_t* rings, unsigned long long* bad) {
  const int64_t tid = blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
  int64_t* ring = rings + tid * ring_cap;
  const D* demand = static_cast<const D*>(a.demand);
  const int64_t T = a.T;
  const int64_t stride = a.target_cols > 1 ? 1 : 0;
  for (int64_t i = tid; i < a.n; i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t L = a.lead_time.at(i);
    const int64_t ring_n = L > 0 ? L : 1;
    for (int64_t k = 0; k < ring_n; ++k) ring[k] = 0;
    // initial in-transit units (initial_pipeline of the CPU loop; with L = 0 all arrive on day 0,
    // the one slot)
    int64_t on_order0 = 0;
    if (a.on_order) {
      for (int64_t k = 0; k < a.on_order_cols; ++k) {
        const int64_t v = a.on_order[i * a.on_order_cols + k];
        ring[k % ring_n] += v;
        on_order0 += v;
      }
    }
    inv::OrderRules rules;
    rules.moq = a.moq.at(i);
    rules.case_pack = a.case_pack.at(i);
    rules.max_order = a.max_order.at(i);
    rules.smoothing = a.smoothing.at(i);
    inv::SimTrace tr;
    if (kTrace) tr = inv::trace_columns(a.trace + i * kSimTraceCols * T, T);
    inv::SimTotals tot;
    const int64_t* S = a.S + i * a.target_cols;
    const int64_t* s = a.s ? a.s + i * a.target_cols : nullptr;
    const int64_t day = inv::simulate_row<D, kTrace>(demand + i * T, T, S, s, stride, a.n_reviews, a.review_period,
                                                     a.first_review, a.policy, a.lost_sales, L,
                                                     a.on_hand0.at(i), ring, on_order0, rules, tot, tr);
    inv::write_totals(tot, a.out_i + i * kSimIntCols, a.out_f + i * kSimFloatCols, 1);
    if (day >= 0) atomicMin(bad, static_cast<unsigned long long>(i * T + day));
  }
}

}  // namespace

int64_t simulate(const cpu::SimArgs& a, int64_t max_lead, uintptr_t stream) {
  if (a.trace && a.demand_i32) throw std::invalid_argument("demand: traces need int64 demand (internal)");
  if (a.n == 0) return -1;
  DeviceGuard guard(a.out_i);
  const cudaStream_t s = as_stream(stream);
  const int64_t ring_cap = max_lead > 1 ? max_lead : 1;
  const unsigned blocks = grid_for(a.n);
  int64_t threads_total = static_cast<int64_t>(blocks) * kThreads;
  Scratch<int64_t> rings(static_cast<size_t>(threads_total * ring_cap), s);
  Scratch<unsigned long long> bad(1, s);
  CUDA_CHECK(cudaMemsetAsync(bad.get(), 0xFF, sizeof(unsigned long long), s));
  if (a.trace) {
    simulate_kernel<int64_t, true><<<blocks, kThreads, 0, s>>>(a, ring_cap, rings.get(), bad.get());
  } else if (a.demand_i32) {
    simulate_kernel<int32_t, false><<<blocks, kThreads, 0, s>>>(a, ring_cap, rings.get(), bad.get());
  } else {
    simulate_kernel<int64_t, false><<<blocks, kThreads, 0, s>>>(a, ring_cap, rings.get(), bad.get());
  }
  check_launch();
  unsigned long long host = kNoBad;
  CUDA_CHECK(cudaMemcpyAsync(&host, bad.get(), sizeof host, cudaMemcpyDeviceToHost, s));
  CUDA_CHECK(cudaStreamSynchronize(s));
  return host == kNoBad ? -1 : static_cast<int64_t>(host);
}

}  // namespace gpu
}  // namespace skucast
