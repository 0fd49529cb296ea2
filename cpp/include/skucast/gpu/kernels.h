// The CUDA kernels as the bindings see them: the cpu/kernels.h signatures with device pointers
// and the caller's stream (a cudaStream_t passed as an integer, so this header needs no CUDA
// headers). Each call runs on the device that owns the first data pointer, launches on `stream`
// and returns after the launch, except those returning a BadValue: they wait for the stream to
// read the first bad index back. CUDA errors throw std::runtime_error with CUDA's message.
#pragma once
#include <cstdint>

#include "skucast/core/strided.h"
#include "skucast/cpu/kernels.h"

namespace skucast {
namespace gpu {

using cpu::DType;
using cpu::NbFunc;

int device_count();  // 0 when there is no driver or no device (never throws)

// Orders work on `consumer` after the work queued so far on `producer` (an event wait).
void stream_wait(uintptr_t consumer, uintptr_t producer);

BadValue nb_elementwise(NbFunc func, const BroadcastShape& shape, const Strided& y, DType y_dtype,
                        const Strided& mu, const Strided& alpha, DType param_dtype, void* out, uintptr_t stream);

BadValue nb_ppf(const BroadcastShape& shape, const Strided& q, const Strided& mu, const Strided& alpha,
                DType param_dtype, int64_t* out, uintptr_t stream);

BadValue nb_nll_rows(const BroadcastShape& shape, const Strided& y, DType y_dtype, const Strided& mu,
                     const Strided& alpha, DType param_dtype, int64_t row_len, double* out, uintptr_t stream);

BadValue nb_sample(const BroadcastShape& shape, const Strided& mu, const Strided& alpha, DType param_dtype,
                   const Strided* keys, const Strided& step, int64_t num_samples, uint64_t seed, int64_t* out,
                   uintptr_t stream);

// levels: host array (copied to the device); data/out as cpu::quantiles, on the device.
BadValue quantiles(const void* data, DType dtype, int64_t outer, int64_t n, int64_t inner, const double* levels,
                   int64_t num_levels, bool linear, void* out, uintptr_t stream);

// start/length: device int64 arrays of `series` values. Returns the first bad series for each
// rule: [start < 0, length < 0, start + length > horizon] (flat = -1 when none). Waits.
void check_windows(const int64_t* start, const int64_t* length, int64_t series, int64_t horizon, int64_t first_bad[3],
                   uintptr_t stream);
// First i with group_ids[i] outside [0, num_groups), or -1. Waits.
int64_t check_group_ids(const int64_t* group_ids, int64_t n, int64_t num_groups, uintptr_t stream);

void window_sum(const void* data, DType dtype, int64_t series, int64_t m1, int64_t horizon, int64_t m2,
                const int64_t* start, const int64_t* length, void* out, uintptr_t stream);

// out need not be zeroed: the kernel writes every element.
void group_sum(const void* data, DType dtype, int64_t n, int64_t cols, const int64_t* group_ids, int64_t num_groups,
               void* out, uintptr_t stream);

}  // namespace gpu
}  // namespace skucast
