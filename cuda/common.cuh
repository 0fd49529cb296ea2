// Shared by the .cu files: error checks, launch sizes, the device-side first-bad-index slot,
// strided offsets of a broadcast shape, and stream-ordered scratch memory.
#pragma once
#include <cuda_runtime.h>

#include <cstdint>
#include <stdexcept>
#include <string>

#include "skucast/core/strided.h"
#include "skucast/gpu/kernels.h"

// CUDA errors become std::runtime_error (RuntimeError in Python) carrying CUDA's message.
#define CUDA_CHECK(expr)                                                                                   \
  do {                                                                                                     \
    const cudaError_t skucast_err_ = (expr);                                                               \
    if (skucast_err_ != cudaSuccess)                                                                       \
      throw std::runtime_error(std::string("CUDA error in ") + #expr + " (" + __FILE__ + ":" +             \
                               std::to_string(__LINE__) + "): " + cudaGetErrorName(skucast_err_) + ": " + \
                               cudaGetErrorString(skucast_err_));                                          \
  } while (0)

namespace skucast {
namespace gpu {
namespace detail {

constexpr int kThreads = 256;

inline cudaStream_t as_stream(uintptr_t s) { return reinterpret_cast<cudaStream_t>(s); }

// Grid for a grid-stride loop over n items (capped: the loops stride over the rest).
inline unsigned grid_for(int64_t n, int threads = kThreads) {
  const int64_t blocks = (n + threads - 1) / threads;
  return static_cast<unsigned>(blocks < 65535 * 8 ? (blocks > 0 ? blocks : 1) : 65535 * 8);
}

inline void check_launch() { CUDA_CHECK(cudaGetLastError()); }

// Makes the device owning `ptr` current for the call and restores the previous one after.
class DeviceGuard {
 public:
  explicit DeviceGuard(const void* ptr) {
    CUDA_CHECK(cudaGetDevice(&previous_));
    int device = previous_;
    if (ptr) {
      cudaPointerAttributes attr{};
      if (cudaPointerGetAttributes(&attr, ptr) == cudaSuccess && attr.type != cudaMemoryTypeUnregistered &&
          attr.device >= 0)
        device = attr.device;
      else
        cudaGetLastError();  // clear: host pointers are reported, not fatal
    }
    if (device != previous_) CUDA_CHECK(cudaSetDevice(device));
  }
  ~DeviceGuard() { cudaSetDevice(previous_); }
  DeviceGuard(const DeviceGuard&) = delete;
  DeviceGuard& operator=(const DeviceGuard&) = delete;

 private:
  int previous_ = 0;
};

// Stream-ordered scratch memory, freed on the same stream when the owner goes out of scope.
template <class T>
class Scratch {
 public:
  Scratch(size_t count, cudaStream_t stream) : stream_(stream) {
    if (count) CUDA_CHECK(cudaMallocAsync(reinterpret_cast<void**>(&ptr_), count * sizeof(T), stream));
  }
  ~Scratch() {
    if (ptr_) cudaFreeAsync(ptr_, stream_);
  }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  T* get() const { return ptr_; }

 private:
  T* ptr_ = nullptr;
  cudaStream_t stream_;
};

// The first bad value: one 64-bit word holding flat * 4 + arg, lowered with atomicMin, so the
// smallest flat index wins whatever the launch order (as BadValue::keep_first on the CPU).
// Unsigned so that "none" is all ones and the slot is set with a plain memset.
constexpr unsigned long long kNoBad = ~0ull;

__device__ __forceinline__ void report_bad(unsigned long long* slot, int64_t flat, int arg) {
  atomicMin(slot, static_cast<unsigned long long>(flat) * 4ull + static_cast<unsigned long long>(arg));
}

class BadSlots {
 public:
  BadSlots(cudaStream_t stream, int count = 1) : mem_(static_cast<size_t>(count), stream), count_(count) {
    CUDA_CHECK(cudaMemsetAsync(mem_.get(), 0xFF, sizeof(unsigned long long) * count, stream));
  }
  unsigned long long* get() const { return mem_.get(); }
  // Waits for the stream, then reads every slot back.
  void read(cudaStream_t stream, BadValue* out) const {
    unsigned long long host[4] = {kNoBad, kNoBad, kNoBad, kNoBad};
    CUDA_CHECK(cudaMemcpyAsync(host, mem_.get(), sizeof(unsigned long long) * count_, cudaMemcpyDeviceToHost, stream));
    CUDA_CHECK(cudaStreamSynchronize(stream));
    for (int i = 0; i < count_; ++i) {
      out[i] = BadValue{};
      if (host[i] != kNoBad) out[i] = BadValue{static_cast<int64_t>(host[i] / 4), static_cast<int>(host[i] % 4)};
    }
  }
  BadValue read(cudaStream_t stream) const {
    BadValue b;
    read(stream, &b);
    return b;
  }

 private:
  Scratch<unsigned long long> mem_;
  int count_;  // at most 4
};

// Element offsets of flat index `flat` in each of N operands of a broadcast shape.
template <int N>
__device__ __forceinline__ void offsets_of(const BroadcastShape& shape, const Strided* ops, int64_t flat,
                                           int64_t (&off)[N]) {
  for (int k = 0; k < N; ++k) off[k] = 0;
  for (int d = shape.ndim - 1; d >= 0; --d) {
    const int64_t extent = shape.shape[d];
    const int64_t i = flat % extent;
    flat /= extent;
    for (int k = 0; k < N; ++k) off[k] += i * ops[k].strides[d];
  }
}

// Kernel arguments: the shape and up to four operands' strides, passed by value (~1.3 KB).
template <int N>
struct Operands {
  BroadcastShape shape;
  Strided ops[N];
};

}  // namespace detail
}  // namespace gpu
}  // namespace skucast
