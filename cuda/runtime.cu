// Device facts and stream ordering for the Python layer.
#include "common.cuh"

namespace skucast {
namespace gpu {

int device_count() {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    cudaGetLastError();  // no driver or no device: report none
    return 0;
  }
  return n;
}

// __cuda_array_interface__ v3: work queued on `consumer` waits for what `producer` has queued.
void stream_wait(uintptr_t consumer, uintptr_t producer) {
  cudaEvent_t event;
  CUDA_CHECK(cudaEventCreateWithFlags(&event, cudaEventDisableTiming));
  const cudaError_t rec = cudaEventRecord(event, detail::as_stream(producer));
  const cudaError_t wait = rec == cudaSuccess ? cudaStreamWaitEvent(detail::as_stream(consumer), event, 0) : rec;
  cudaEventDestroy(event);
  CUDA_CHECK(wait);
}

}  // namespace gpu
}  // namespace skucast
