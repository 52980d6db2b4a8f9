// CUDA failures become a KernelStatus naming the statement, file and line; CudaEvent is an
// event destroyed on every path (ATTNCERT_CUDA_CHECK returns early); check_kernel_image refuses a
// device the binary carries no code for, before any allocation.
#pragma once

#include <cuda_runtime.h>

#include <string>

#include "gpu/kernel_status.hpp"

#define ATTNCERT_CUDA_CHECK(statement)                                                       \
  do {                                                                                       \
    const cudaError_t attncert_cuda_error_ = (statement);                                    \
    if (attncert_cuda_error_ != cudaSuccess) {                                               \
      return ::attncert::gpu::KernelStatus::failure(                                         \
          ::attncert::gpu::KernelStatusCode::cuda_error,                                     \
          std::string(#statement) + " failed at " + __FILE__ + ":" + std::to_string(__LINE__) + \
              ": " + cudaGetErrorString(attncert_cuda_error_));                              \
    }                                                                                        \
  } while (0)

namespace attncert::gpu {

/// ok when `device_function` (a __global__ function's address) has code for the current device;
/// else unsupported_architecture naming the device's compute capability and the binary's
/// architectures (gpu/device.hpp missing_kernel_image_message), or cuda_error. In device.cu.
KernelStatus check_kernel_image(const std::string& kernel, const void* device_function);

struct CudaEvent {
  cudaEvent_t e = nullptr;
  CudaEvent() = default;
  CudaEvent(const CudaEvent&) = delete;
  CudaEvent& operator=(const CudaEvent&) = delete;
  ~CudaEvent() {
    if (e != nullptr) cudaEventDestroy(e);
  }
};

}  // namespace attncert::gpu
