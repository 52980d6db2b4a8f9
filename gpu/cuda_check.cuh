// CUDA failures become a KernelStatus naming the statement, file and line.
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
