// CUDA kernels over the NB header math (the same functions cpp/src/nbinom.cpp loops over):
// elementwise functions, quantile function, nll rows and Philox sampling.
#include "common.cuh"
#include "skucast/core/nb_rules.h"
#include "skucast/dist/negbin.h"
#include "skucast/dist/negbin_ppf.h"
#include "skucast/dist/sampling.h"

namespace skucast {
namespace gpu {
namespace {

using namespace detail;

// The heavy header math is compiled once per architecture and called from the dtype-templated
// kernels (noinline keeps build time and code size independent of the dtype combinations).
__device__ __noinline__ double nb_value_dev(int func, double y, double mu, double alpha) {
  return rules::nb_value(func, y, mu, alpha);
}
__device__ __noinline__ double logpmf_dev(double y, double mu, double alpha) { return nb::logpmf(y, mu, alpha); }
__device__ __noinline__ int64_t ppf_dev(double q, double mu, double alpha) { return nb::ppf(q, mu, alpha); }
__device__ __noinline__ int64_t negbin_dev(double mu, double alpha, uint64_t key, uint64_t series_key,
                                           uint32_t sample) {
  return sampling::negbin(mu, alpha, key, series_key, sample);
}

template <class Y, class P>
__global__ void nb_elementwise_kernel(int func, Operands<3> a, const Y* y, const P* mu, const P* alpha, P* out,
                                      int64_t n, unsigned long long* bad) {
  for (int64_t flat = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; flat < n;
       flat += int64_t(gridDim.x) * blockDim.x) {
    int64_t off[3];
    offsets_of<3>(a.shape, a.ops, flat, off);
    const Y yv = y[off[0]];
    const P mv = mu[off[1]], av = alpha[off[2]];
    const int arg = rules::check_triple(yv, mv, av);
    if (arg >= 0) {
      report_bad(bad, flat, arg);
      out[flat] = P(NAN);
      continue;
    }
    out[flat] = static_cast<P>(nb_value_dev(func, static_cast<double>(yv), mv, av));
  }
}

template <class P>
__global__ void nb_ppf_kernel(Operands<3> a, const P* q, const P* mu, const P* alpha, int64_t* out, int64_t n,
                              unsigned long long* bad) {
  for (int64_t flat = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; flat < n;
       flat += int64_t(gridDim.x) * blockDim.x) {
    int64_t off[3];
    offsets_of<3>(a.shape, a.ops, flat, off);
    const double qv = q[off[0]], mv = mu[off[1]], av = alpha[off[2]];
    int arg = -1;
    if (!rules::valid_q(qv)) arg = rules::kArgQ;
    else arg = rules::param_arg(mv, av);
    if (arg >= 0) {
      report_bad(bad, flat, arg);
      out[flat] = -1;
      continue;
    }
    out[flat] = ppf_dev(qv, mv, av);
  }
}

// One block per row: thread t sums elements t, t + blockDim, ... of the row (Neumaier), then
// thread 0 adds the per-thread sums in thread order. Deterministic for a given row length
// (the block size depends only on it); it is not the CPU's summation order, so the GPU result
// equals the CPU's to rounding, not bitwise.
template <class Y, class P>
__global__ void nb_nll_rows_kernel(Operands<3> a, const Y* y, const P* mu, const P* alpha, int64_t row_len, int64_t n,
                                   int64_t rows, double* out, unsigned long long* bad) {
  __shared__ double s_sum[kThreads], s_comp[kThreads];
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const int64_t begin = r * row_len, end = begin + row_len < n ? begin + row_len : n;
    double sum = 0.0, comp = 0.0;
    for (int64_t flat = begin + threadIdx.x; flat < end; flat += blockDim.x) {
      int64_t off[3];
      offsets_of<3>(a.shape, a.ops, flat, off);
      const Y yv = y[off[0]];
      const P mv = mu[off[1]], av = alpha[off[2]];
      const int arg = rules::check_triple(yv, mv, av);
      if (arg >= 0) {
        report_bad(bad, flat, arg);
        continue;
      }
      rules::neumaier_add(sum, comp, -logpmf_dev(static_cast<double>(yv), mv, av));
    }
    s_sum[threadIdx.x] = sum;
    s_comp[threadIdx.x] = comp;
    __syncthreads();
    if (threadIdx.x == 0) {
      double total = 0.0, total_comp = 0.0;
      for (unsigned t = 0; t < blockDim.x; ++t) {
        rules::neumaier_add(total, total_comp, s_sum[t]);
        rules::neumaier_add(total, total_comp, s_comp[t]);
      }
      out[r] = total + total_comp;
    }
    __syncthreads();
  }
}

// One thread per (element, sample j): every draw is a pure function of
// (stream_key(seed, step), series key, j), as on the CPU.
template <class P>
__global__ void nb_sample_kernel(Operands<4> a, const P* mu, const P* alpha, const int64_t* step, const int64_t* keys,
                                 int64_t num_samples, uint64_t seed, int64_t* out, int64_t total,
                                 unsigned long long* bad) {
  for (int64_t t = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; t < total; t += int64_t(gridDim.x) * blockDim.x) {
    const int64_t flat = t / num_samples, j = t - flat * num_samples;
    int64_t off[4];
    offsets_of<4>(a.shape, a.ops, flat, off);
    const double mv = mu[off[0]], av = alpha[off[1]];
    const int arg = rules::param_arg(mv, av);
    if (arg >= 0) {
      report_bad(bad, flat, arg);
      out[t] = -1;
      continue;
    }
    const uint64_t key = stream_key(seed, step[off[2]]);
    const uint64_t series_key = static_cast<uint64_t>(keys ? keys[off[3]] : flat);
    out[t] = negbin_dev(mv, av, key, series_key, static_cast<uint32_t>(j));
  }
}

template <int N>
Operands<N> operands(const BroadcastShape& shape, const Strided* const (&ops)[N]) {
  Operands<N> a;
  a.shape = shape;
  for (int k = 0; k < N; ++k) a.ops[k] = *ops[k];
  return a;
}

}  // namespace

BadValue nb_elementwise(NbFunc func, const BroadcastShape& shape, const Strided& y, DType y_dtype,
                        const Strided& mu, const Strided& alpha, DType param_dtype, void* out, uintptr_t stream) {
  const int64_t n = shape.size();
  if (n == 0) return BadValue{};
  DeviceGuard guard(out);
  const cudaStream_t s = as_stream(stream);
  BadSlots bad(s);
  const Strided* ops[3] = {&y, &mu, &alpha};
  const Operands<3> a = operands(shape, ops);
  visit_dtype(y_dtype, [&](auto y_tag) {
    visit_param_dtype(param_dtype, [&](auto p_tag) {
      using Y = decltype(y_tag);
      using P = decltype(p_tag);
      nb_elementwise_kernel<Y, P><<<grid_for(n), kThreads, 0, s>>>(
          static_cast<int>(func), a, static_cast<const Y*>(y.data), static_cast<const P*>(mu.data),
          static_cast<const P*>(alpha.data), static_cast<P*>(out), n, bad.get());
      check_launch();
    });
  });
  return bad.read(s);
}

BadValue nb_ppf(const BroadcastShape& shape, const Strided& q, const Strided& mu, const Strided& alpha,
                DType param_dtype, int64_t* out, uintptr_t stream) {
  const int64_t n = shape.size();
  if (n == 0) return BadValue{};
  DeviceGuard guard(out);
  const cudaStream_t s = as_stream(stream);
  BadSlots bad(s);
  const Strided* ops[3] = {&q, &mu, &alpha};
  const Operands<3> a = operands(shape, ops);
  visit_param_dtype(param_dtype, [&](auto p_tag) {
    using P = decltype(p_tag);
    nb_ppf_kernel<P><<<grid_for(n), kThreads, 0, s>>>(a, static_cast<const P*>(q.data), static_cast<const P*>(mu.data),
                                                     static_cast<const P*>(alpha.data), out, n, bad.get());
    check_launch();
  });
  return bad.read(s);
}

BadValue nb_nll_rows(const BroadcastShape& shape, const Strided& y, DType y_dtype, const Strided& mu,
                     const Strided& alpha, DType param_dtype, int64_t row_len, double* out, uintptr_t stream) {
  const int64_t n = shape.size();
  if (n == 0 || row_len < 1) return BadValue{};
  DeviceGuard guard(out);
  const cudaStream_t s = as_stream(stream);
  BadSlots bad(s);
  const int64_t rows = (n + row_len - 1) / row_len;
  const Strided* ops[3] = {&y, &mu, &alpha};
  const Operands<3> a = operands(shape, ops);
  // Short rows get narrow blocks (a warp at least); the width depends only on row_len.
  int threads = 32;
  while (threads < kThreads && threads < row_len) threads *= 2;
  const unsigned blocks = static_cast<unsigned>(rows < 65535 * 8 ? rows : 65535 * 8);
  visit_dtype(y_dtype, [&](auto y_tag) {
    visit_param_dtype(param_dtype, [&](auto p_tag) {
      using Y = decltype(y_tag);
      using P = decltype(p_tag);
      nb_nll_rows_kernel<Y, P><<<blocks, threads, 0, s>>>(a, static_cast<const Y*>(y.data),
                                                          static_cast<const P*>(mu.data),
                                                          static_cast<const P*>(alpha.data), row_len, n, rows, out,
                                                          bad.get());
      check_launch();
    });
  });
  return bad.read(s);
}

BadValue nb_sample(const BroadcastShape& shape, const Strided& mu, const Strided& alpha, DType param_dtype,
                   const Strided* keys, const Strided& step, int64_t num_samples, uint64_t seed, int64_t* out,
                   uintptr_t stream) {
  const int64_t n = shape.size();
  if (n == 0 || num_samples < 1) return BadValue{};
  DeviceGuard guard(out);
  const cudaStream_t s = as_stream(stream);
  BadSlots bad(s);
  const Strided* ops[4] = {&mu, &alpha, &step, keys ? keys : &step};
  const Operands<4> a = operands(shape, ops);
  const int64_t total = n * num_samples;
  visit_param_dtype(param_dtype, [&](auto p_tag) {
    using P = decltype(p_tag);
    nb_sample_kernel<P><<<grid_for(total), kThreads, 0, s>>>(
        a, static_cast<const P*>(mu.data), static_cast<const P*>(alpha.data), static_cast<const int64_t*>(step.data),
        keys ? static_cast<const int64_t*>(keys->data) : nullptr, num_samples, seed, out, total, bad.get());
    check_launch();
  });
  return bad.read(s);
}

}  // namespace gpu
}  // namespace skucast
