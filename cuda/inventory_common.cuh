// Shared by the inventory .cu files: the first bad row with an argument code up to 255
// (common.cuh's slot packs flat * 4 + arg; the policy kernels have codes up to 103).
#pragma once
#include "common.cuh"

namespace skucast {
namespace gpu {
namespace detail {

__device__ __forceinline__ void report_row(unsigned long long* slot, int64_t row, int arg) {
  atomicMin(slot, static_cast<unsigned long long>(row) * 256ull + static_cast<unsigned long long>(arg));
}

class RowBad {
 public:
  explicit RowBad(cudaStream_t stream) : mem_(1, stream) {
    CUDA_CHECK(cudaMemsetAsync(mem_.get(), 0xFF, sizeof(unsigned long long), stream));
  }
  unsigned long long* get() const { return mem_.get(); }
  // Waits for the stream.
  BadValue read(cudaStream_t stream) const {
    unsigned long long host = kNoBad;
    CUDA_CHECK(cudaMemcpyAsync(&host, mem_.get(), sizeof host, cudaMemcpyDeviceToHost, stream));
    CUDA_CHECK(cudaStreamSynchronize(stream));
    if (host == kNoBad) return BadValue{};
    return BadValue{static_cast<int64_t>(host / 256), static_cast<int>(host % 256)};
  }

 private:
  Scratch<unsigned long long> mem_;
};

}  // namespace detail
}  // namespace gpu
}  // namespace skucast
