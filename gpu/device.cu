// Device discovery with a probe launch: a device counts only if a kernel runs on it.
#include <cuda_runtime.h>

#include <string>

#include "gpu/device.hpp"

namespace attncert::gpu {
namespace {

__global__ void probe_kernel(int* out) { *out = 42; }

std::string error_line(const char* what, cudaError_t e) {
  return std::string(what) + ": " + cudaGetErrorName(e) + " (" + cudaGetErrorString(e) + ")";
}

DeviceReport probe_devices() {
  DeviceReport r;
  r.cuda_compiled = true;
  int count = 0;
  const cudaError_t e = cudaGetDeviceCount(&count);
  if (e != cudaSuccess || count == 0) {
    r.message = e == cudaSuccess ? std::string("no CUDA device found")
                                 : "no CUDA device usable — " + error_line("cudaGetDeviceCount", e);
    cudaGetLastError();  // clear the sticky error so later calls start clean
    return r;
  }
  cudaDeviceProp prop{};
  if (cudaGetDeviceProperties(&prop, 0) == cudaSuccess) {
    r.name = prop.name;
    r.compute_capability = prop.major * 10 + prop.minor;
  }
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
    r.message = "CUDA device present but the probe kernel did not run — " +
                error_line("probe launch", le);
    return r;
  }
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

}  // namespace attncert::gpu
