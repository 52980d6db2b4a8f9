// Device discovery with a probe launch: a device counts only if a kernel runs on it.
#include <cuda_runtime.h>

#include <string>

#include "gpu/cuda_check.cuh"
#include "gpu/device.hpp"
#include "gpu/device_memory.hpp"

#ifndef ATTNCERT_CUDA_ARCHITECTURES
#error "gpu/CMakeLists.txt defines ATTNCERT_CUDA_ARCHITECTURES (CMAKE_CUDA_ARCHITECTURES) for device.cu"
#endif
// The '/' separated list (cmake/AttncertCuda.cmake) as a string.
#define ATTNCERT_STRINGIFY(...) #__VA_ARGS__
#define ATTNCERT_EXPAND_STRINGIFY(...) ATTNCERT_STRINGIFY(__VA_ARGS__)

namespace attncert::gpu {
namespace {

__global__ void probe_kernel(int* out) { *out = 42; }

std::string error_line(const char* what, cudaError_t e) {
  return std::string(what) + ": " + cudaGetErrorName(e) + " (" + cudaGetErrorString(e) + ")";
}

bool is_missing_image(cudaError_t e) {
  return e == cudaErrorNoKernelImageForDevice || e == cudaErrorInvalidDeviceFunction;
}

DeviceReport probe_devices() {
  DeviceReport r;
  r.cuda_compiled = true;
  r.compiled_architectures =
      parse_cuda_architectures(ATTNCERT_EXPAND_STRINGIFY(ATTNCERT_CUDA_ARCHITECTURES));
  cudaRuntimeGetVersion(&r.runtime_version);
  cudaDriverGetVersion(&r.driver_version);  // 0 when no driver is installed
  int count = 0;
  const cudaError_t e = cudaGetDeviceCount(&count);
  if (e != cudaSuccess || count == 0) {
    r.message = e == cudaSuccess ? std::string("no CUDA device found")
                                 : "no CUDA device usable — " + error_line("cudaGetDeviceCount", e);
    if (e == cudaErrorInsufficientDriver)
      r.message += r.driver_version == 0
                       ? std::string("; no NVIDIA driver found (libcuda.so.1 not loadable)")
                       : "; the driver supports CUDA " + cuda_version_string(r.driver_version) +
                             ", this binary needs " + cuda_version_string(r.runtime_version);
    cudaGetLastError();  // clear the sticky error so later calls start clean
    return r;
  }
  cudaDeviceProp prop{};
  if (cudaGetDeviceProperties(&prop, 0) == cudaSuccess) {
    r.name = prop.name;
    r.compute_capability = prop.major * 10 + prop.minor;
    r.sm_count = prop.multiProcessorCount;
    r.total_memory_bytes = prop.totalGlobalMem;
  }
  // cudaDeviceProp::clockRate is gone from CUDA 13; the attribute remains.
  cudaDeviceGetAttribute(&r.clock_khz, cudaDevAttrClockRate, 0);
  int* d_out = nullptr;
  int h_out = 0;
  cudaError_t le = cudaMalloc(&d_out, sizeof(int));
  if (le == cudaSuccess) {
    probe_kernel<<<1, 1>>>(d_out);
    le = cudaGetLastError();
    if (le == cudaSuccess) le = cudaMemcpy(&h_out, d_out, sizeof(int), cudaMemcpyDeviceToHost);
    cudaFree(d_out);
  }
  if (le != cudaSuccess || h_out != 42) {
    r.message = is_missing_image(le)
                    ? "CUDA device present but the probe kernel did not run — " +
                          missing_kernel_image_message("probe", r.compute_capability,
                                                       r.compiled_architectures)
                    : "CUDA device present but the probe kernel did not run — " +
                          error_line("probe launch", le);
    cudaGetLastError();
    return r;
  }
  r.probe_launched = true;
  r.device_count = count;
  r.message = std::to_string(count) + " CUDA device(s); device 0: " + r.name + " (sm_" +
              std::to_string(r.compute_capability) + ")";
  return r;
}

}  // namespace

DeviceReport query_devices() {
  // Devices do not come and go within a run; the probe launch is not repeated per kernel call.
  static const DeviceReport report = probe_devices();
  return report;
}

KernelStatus check_device_memory(const std::string& kernel, const std::string& shape,
                                 std::size_t buffer_bytes) {
  std::size_t free_bytes = 0, total_bytes = 0;
  ATTNCERT_CUDA_CHECK(cudaMemGetInfo(&free_bytes, &total_bytes));
  const std::size_t bytes_needed = device_bytes_with_headroom(buffer_bytes);
  if (bytes_needed <= free_bytes) return KernelStatus::success();
  return KernelStatus::failure(
      KernelStatusCode::insufficient_device_memory,
      insufficient_device_memory_message(kernel, shape, buffer_bytes, bytes_needed, free_bytes));
}

KernelStatus check_kernel_image(const std::string& kernel, const void* device_function) {
  cudaFuncAttributes attributes{};
  const cudaError_t e = cudaFuncGetAttributes(&attributes, device_function);
  if (e == cudaSuccess) return KernelStatus::success();
  cudaGetLastError();
  if (is_missing_image(e)) {
    const DeviceReport device = query_devices();
    return KernelStatus::failure(KernelStatusCode::unsupported_architecture,
                                 missing_kernel_image_message(kernel, device.compute_capability,
                                                              device.compiled_architectures));
  }
  return KernelStatus::failure(KernelStatusCode::cuda_error,
                               kernel + ": " + error_line("cudaFuncGetAttributes", e));
}

}  // namespace attncert::gpu
