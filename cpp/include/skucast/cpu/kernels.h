// The CPU kernels as the bindings see them: raw pointers, shapes and strides in, the first
// bad value out. Every function releases nothing and allocates nothing Python-visible.
#pragma once
#include <cstdint>

#include "skucast/core/dtype.h"
#include "skucast/core/strided.h"

namespace skucast {
namespace cpu {

// Argument positions used in BadValue::arg.
enum NbArg : int { kArgY = 0, kArgMu = 1, kArgAlpha = 2, kArgQ = 3, kArgAlphaMu = 4 };

enum class NbFunc : int { logpmf = 0, pmf = 1, cdf = 2, sf = 3 };

// out: contiguous, broadcast shape, dtype `param_dtype` (f32 or f64).
BadValue nb_elementwise(NbFunc func, const BroadcastShape& shape, const Strided& y, DType y_dtype,
                        const Strided& mu, const Strided& alpha, DType param_dtype, void* out);

// Lanes of the vector logpmf and ppf loops (contiguous inputs) on this CPU: 8 (AVX-512), 4 (AVX2)
// or 1.
int logpmf_lanes();

// out: contiguous int64, broadcast shape.
BadValue nb_ppf(const BroadcastShape& shape, const Strided& q, const Strided& mu, const Strided& alpha,
                DType param_dtype, int64_t* out);

// out[r] = -sum of logpmf over flat positions [r*row_len, min((r+1)*row_len, size)).
BadValue nb_nll_rows(const BroadcastShape& shape, const Strided& y, DType y_dtype, const Strided& mu,
                     const Strided& alpha, DType param_dtype, int64_t row_len, double* out);

// out: contiguous int64 of shape `shape` + (num_samples,). keys == nullptr: flat positions.
BadValue nb_sample(const BroadcastShape& shape, const Strided& mu, const Strided& alpha, DType param_dtype,
                   const Strided* keys, const Strided& step, int64_t num_samples, uint64_t seed, int64_t* out);

// data: contiguous (outer, n, inner); out: contiguous (outer, inner, num_levels), dtype = input
// dtype for inverted_cdf, f64 for linear. BadValue::flat is the flat index of a NaN in data.
BadValue quantiles(const void* data, DType dtype, int64_t outer, int64_t n, int64_t inner, const double* levels,
                   int64_t num_levels, bool linear, void* out);

// The extremes of n contiguous values in one pass on all threads, for the Python layer's checks
// of large arrays (sample paths, demand): integers exactly (int_min/int_max), floats as min/max
// with whether a NaN or a value that is not a whole number occurred (inf is whole; min/max show
// it; a NaN is not whole).
struct ValueRange {
  int64_t int_min = 0, int_max = 0;
  double min = 0.0, max = 0.0;
  bool nan = false, fractional = false;
};

// data: contiguous (series, m1, horizon, m2); out: (series, m1, m2), f32 for f32, f64 for f64,
// int64 for integers. Windows are validated by the caller. Returns whether every sum is finite
// (each thread checks the sums it wrote while they are in cache) and, for int64 input, whether
// no sum can have wrapped (false: values so large that one might; the caller checks exactly).
// length2 / out2 (optional): a second window per series from the same start, summed in the same
// pass (each series' rows are read from memory once). range (optional): value_range of all of
// data, taken series by series in the same pass.
bool window_sum(const void* data, DType dtype, int64_t series, int64_t m1, int64_t horizon, int64_t m2,
                const int64_t* start, const int64_t* length, void* out, const int64_t* length2 = nullptr,
                void* out2 = nullptr, ValueRange* range = nullptr);

// data: contiguous (n, cols); out: zeroed (num_groups, cols), same dtype rule as window_sum.
// Group ids are validated by the caller. Returns false when an int64 sum might have wrapped.
bool group_sum(const void* data, DType dtype, int64_t n, int64_t cols, const int64_t* group_ids,
               int64_t num_groups, void* out);

ValueRange value_range(const void* data, DType dtype, int64_t n);

}  // namespace cpu
}  // namespace skucast
