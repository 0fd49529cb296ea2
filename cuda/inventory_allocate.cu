// allocate() on the GPU: one thread per SKU running the CPU loop's threshold search
// (cpp/src/inventory_allocate.cpp) over the header functions of skucast/inventory/allocate.h,
// with the same tie rule, so the integer results are the CPU's. The CPU keeps a per-location
// cdf table of the small-mean walk; here the walk is re-run from 0 (the same values) and only
// the table's length is kept, since that length decides which path the CPU takes.
#include <cub/device/device_segmented_sort.cuh>

#include <cmath>

#include "common.cuh"
#include "skucast/gpu/inventory_kernels.h"
#include "skucast/inventory/allocate.h"

namespace skucast {
namespace gpu {
namespace {

using namespace detail;

constexpr int64_t kMaxCandidates = 1 << 16;  // as the CPU loop

// Per-cell scratch of the NB search, (n, m) each.
struct NbWork {
  int64_t *base, *c_lo, *c_hi, *c_mid;
  int32_t* tab;   // length of the CPU's cdf table (0: the walk is not used)
  int8_t* fast;   // the CPU's LocCdf::fast
  double* head;   // cdf of the next candidate unit
};

// LocCdf::units_above of the CPU loop.
__device__ __noinline__ int64_t units_above(double q, double mu, double alpha, int64_t base, int64_t from,
                                            int8_t& fast, int32_t& tab) {
  if (mu <= 0.0 || q <= 0.0) return 0;
  if (fast) {
    int64_t y = base + from;
    if (y < kReciprocalTableSize) {
      inv::NbCdfWalk w;
      w.start(mu, alpha);
      for (int64_t k = 0; k < y; ++k) w.next();
      for (;;) {
        if (tab < y + 1) tab = static_cast<int32_t>(y + 1);
        if (w.sum >= q) return y - base;
        if (!w.next()) break;
        ++y;
      }
    }
    fast = 0;  // beyond the table: the general path from now on, as on the CPU
  }
  return inv::nb_units_above(q, mu, alpha, base);
}

// LocCdf::cdf_at of the CPU loop.
__device__ __noinline__ double cdf_at(int64_t y, double mu, double alpha, int8_t fast, int32_t tab) {
  if (fast && y < tab) {
    inv::NbCdfWalk w;
    w.start(mu, alpha);
    for (int64_t k = 0; k < y; ++k) w.next();
    return w.sum;
  }
  return nb::cdf(static_cast<double>(y), mu, alpha);
}

__device__ void allocate_nb_sku(int64_t m, int64_t supply, const double* mu, const double* alpha,
                                const int64_t* on_hand, const int64_t* min_display, int64_t* out, NbWork w,
                                double u_max) {
  const int64_t R = inv::min_display_pass(supply, on_hand, min_display, m, out);
  if (R <= 0) return;
  for (int64_t l = 0; l < m; ++l) {
    w.base[l] = on_hand[l] + out[l];
    inv::NbCdfWalk walk;
    w.fast[l] = walk.start(mu[l], alpha[l]) ? 1 : 0;
    w.tab[l] = w.fast[l] ? 1 : 0;
    w.c_lo[l] = 0;
  }
  auto units = [&](int64_t l, double q, int64_t from) {
    return units_above(q, mu[l], alpha[l], w.base[l], from, w.fast[l], w.tab[l]);
  };
  int64_t *c_lo = w.c_lo, *c_hi = w.c_hi, *c_mid = w.c_mid;
  double u_lo = 0.0, u_hi = 0.0;
  int64_t C_lo = 0, C_hi = 0;
  for (double u = 0.6931471805599453;; u = 2.0 * u < u_max ? 2.0 * u : u_max) {
    const double q = -expm1(-u);
    int64_t C = 0;
    for (int64_t l = 0; l < m; ++l) {
      c_mid[l] = units(l, q, c_lo[l]);
      C = inv::add_units(C, c_mid[l]);
    }
    if (C > R) {
      u_hi = u;
      C_hi = C;
      int64_t* t = c_hi; c_hi = c_mid; c_mid = t;
      break;
    }
    u_lo = u;
    C_lo = C;
    int64_t* t = c_lo; c_lo = c_mid; c_mid = t;
    if (u >= u_max) {
      for (int64_t l = 0; l < m; ++l) out[l] += c_lo[l];
      return;
    }
  }
  const int64_t target_width = 8;
  for (int iter = 0; iter < 200 && C_lo < R && C_hi - C_lo > target_width; ++iter) {
    const double width = u_hi - u_lo;
    double u;
    if (iter % 2 == 0) {
      const double frac = (static_cast<double>(R - C_lo) + 0.5) / static_cast<double>(C_hi - C_lo);
      const double f = frac > 0.05 ? frac : 0.05;  // std::min(0.95, std::max(0.05, frac))
      u = u_lo + width * (0.95 < f ? 0.95 : f);
    } else {
      u = u_lo + 0.5 * width;
    }
    if (!(u > u_lo && u < u_hi)) break;
    const double q = -expm1(-u);
    int64_t C = 0;
    for (int64_t l = 0; l < m; ++l) {
      c_mid[l] = c_lo[l] == c_hi[l] ? c_lo[l] : units(l, q, c_lo[l]);
      C = inv::add_units(C, c_mid[l]);
    }
    if (C <= R) {
      u_lo = u;
      C_lo = C;
      int64_t* t = c_lo; c_lo = c_mid; c_mid = t;
    } else {
      u_hi = u;
      C_hi = C;
      int64_t* t = c_hi; c_hi = c_mid; c_mid = t;
    }
  }
  for (int64_t l = 0; l < m; ++l) out[l] += c_lo[l];
  int64_t need = R - C_lo;
  if (need <= 0) return;
  if (C_hi - C_lo > kMaxCandidates) {
    for (int64_t l = 0; l < m && need > 0; ++l) {
      int64_t take = c_hi[l] - c_lo[l];
      if (take > need) take = need;
      out[l] += take;
      need -= take;
    }
    return;
  }
  // The `need` smallest (cdf, location) pairs of the bracket, as the CPU's nth_element: each
  // location's candidates are already in cdf order, so a merge of the m lists picks them.
  int64_t* next = c_mid;
  for (int64_t l = 0; l < m; ++l) {
    next[l] = c_lo[l];
    w.head[l] = next[l] < c_hi[l] ? cdf_at(w.base[l] + next[l], mu[l], alpha[l], w.fast[l], w.tab[l]) : INFINITY;
  }
  for (; need > 0; --need) {
    int64_t best = -1;
    for (int64_t l = 0; l < m; ++l)
      if (next[l] < c_hi[l] && (best < 0 || w.head[l] < w.head[best])) best = l;
    if (best < 0) break;
    out[best] += 1;
    next[best] += 1;
    w.head[best] = next[best] < c_hi[best]
                       ? cdf_at(w.base[best] + next[best], mu[best], alpha[best], w.fast[best], w.tab[best])
                       : INFINITY;
  }
}

__global__ void allocate_nb_kernel(int64_t n, int64_t m, const int64_t* supply, const double* mu, const double* alpha,
                                   const int64_t* on_hand, const int64_t* min_display, int64_t* out, NbWork w,
                                   double u_max) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t o = i * m;
    NbWork wi{w.base + o, w.c_lo + o, w.c_hi + o, w.c_mid + o, w.tab + o, w.fast + o, w.head + o};
    allocate_nb_sku(m, supply[i], mu + o, alpha + o, on_hand + o, min_display ? min_display + o : nullptr, out + o, wi,
                    u_max);
  }
}

__global__ void offsets_kernel(int64_t* offsets, int64_t segments, int64_t len) {
  for (int64_t r = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; r <= segments; r += int64_t(gridDim.x) * blockDim.x)
    offsets[r] = r * len;
}

// allocate_samples_sku of the CPU loop over samples already sorted in descending order.
__global__ void allocate_samples_kernel(int64_t n, int64_t m, int64_t num, const int64_t* supply, const int64_t* desc_all,
                                        const int64_t* on_hand, const int64_t* min_display, int64_t* out_all,
                                        int64_t* base_all) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    int64_t* out = out_all + i * m;
    int64_t* base = base_all + i * m;
    const int64_t* desc = desc_all + i * m * num;
    const int64_t R = inv::min_display_pass(supply[i], on_hand + i * m, min_display ? min_display + i * m : nullptr,
                                            m, out);
    if (R <= 0) continue;
    for (int64_t l = 0; l < m; ++l) base[l] = on_hand[i * m + l] + out[l];
    auto count = [&](int64_t j) {
      int64_t C = 0;
      for (int64_t l = 0; l < m; ++l) C = inv::add_units(C, inv::sample_units_above(desc + l * num, num, j, base[l]));
      return C;
    };
    if (count(0) <= R) {
      for (int64_t l = 0; l < m; ++l) out[l] += inv::sample_units_above(desc + l * num, num, 0, base[l]);
      continue;
    }
    int64_t lo = 0, hi = num;
    while (hi - lo > 1) {
      const int64_t mid = lo + (hi - lo) / 2;
      if (count(mid) <= R) hi = mid; else lo = mid;
    }
    int64_t need = R;
    for (int64_t l = 0; l < m; ++l) {
      const int64_t c = inv::sample_units_above(desc + l * num, num, hi, base[l]);
      out[l] += c;
      need -= c;
    }
    for (int64_t l = 0; l < m && need > 0; ++l) {
      const int64_t* d = desc + l * num;
      const int64_t tied = inv::sample_units_above(d, num, lo, base[l]) - inv::sample_units_above(d, num, hi, base[l]);
      const int64_t take = need < tied ? need : tied;
      out[l] += take;
      need -= take;
    }
  }
}

}  // namespace

void allocate_nb(int64_t n, int64_t m, const int64_t* supply, const double* mu, const double* alpha,
                 const int64_t* on_hand, const int64_t* min_display, int64_t* out, uintptr_t stream) {
  if (n == 0 || m == 0) return;
  DeviceGuard guard(out);
  const cudaStream_t s = as_stream(stream);
  const size_t cells = static_cast<size_t>(n * m);
  Scratch<int64_t> ints(4 * cells, s);
  Scratch<int32_t> tab(cells, s);
  Scratch<int8_t> fast(cells, s);
  Scratch<double> head(cells, s);
  const NbWork w{ints.get(), ints.get() + cells, ints.get() + 2 * cells, ints.get() + 3 * cells, tab.get(), fast.get(),
                 head.get()};
  const double u_max = -std::log(inv::kMinGain);  // host libm: the CPU loop's value
  // Small blocks: one SKU per thread with long, divergent searches.
  constexpr int kAllocThreads = 64;
  allocate_nb_kernel<<<grid_for(n, kAllocThreads), kAllocThreads, 0, s>>>(n, m, supply, mu, alpha, on_hand,
                                                                            min_display, out, w, u_max);
  check_launch();
}

void allocate_samples(int64_t n, int64_t m, int64_t num, const int64_t* supply, const int64_t* samples,
                      const int64_t* on_hand, const int64_t* min_display, int64_t* out, uintptr_t stream) {
  if (n == 0 || m == 0) return;
  DeviceGuard guard(out);
  const cudaStream_t s = as_stream(stream);
  const int64_t segments = n * m, total = segments * num;
  Scratch<int64_t> desc(static_cast<size_t>(total), s), offsets(static_cast<size_t>(segments + 1), s),
      base(static_cast<size_t>(segments), s);
  offsets_kernel<<<grid_for(segments + 1), kThreads, 0, s>>>(offsets.get(), segments, num);
  check_launch();
  size_t temp_bytes = 0;
  CUDA_CHECK(cub::DeviceSegmentedSort::SortKeysDescending(nullptr, temp_bytes, samples, desc.get(), total, segments,
                                                          offsets.get(), offsets.get() + 1, s));
  Scratch<unsigned char> temp(temp_bytes, s);
  CUDA_CHECK(cub::DeviceSegmentedSort::SortKeysDescending(temp.get(), temp_bytes, samples, desc.get(), total, segments,
                                                          offsets.get(), offsets.get() + 1, s));
  constexpr int kAllocThreads = 64;
  allocate_samples_kernel<<<grid_for(n, kAllocThreads), kAllocThreads, 0, s>>>(n, m, num, supply, desc.get(), on_hand,
                                                                                min_display, out, base.get());
  check_launch();
}

}  // namespace gpu
}  // namespace skucast
