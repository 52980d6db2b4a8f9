// Host-side view of the CUDA devices. No CUDA headers: callers compile without nvcc.
#pragma once

#include <string>

#include "gpu/kernel_status.hpp"

namespace attncert::gpu {

struct DeviceReport {
  bool cuda_compiled = false;  // the build had nvcc and compiled gpu/*.cu
  int device_count = 0;        // usable devices found at run time
  std::string name;            // first device's name, when there is one
  int compute_capability = 0;  // e.g. 80, 90
  std::string message;         // one line for the user: why there is no device, or what there is
};

/// Queries the CUDA runtime (when compiled in) and, if a device exists, launches a probe kernel
/// to check that kernels actually run. Never throws: "no device" is an answer, not an error.
/// The probe runs once per process; later calls return its report.
DeviceReport query_devices();

/// ok when query_devices() found a device that runs kernels; otherwise no_device, with the
/// reason prefixed by `kernel` (e.g. "flash_attention: no CUDA device found").
inline KernelStatus require_device(const std::string& kernel) {
  const DeviceReport report = query_devices();
  if (report.device_count > 0) return KernelStatus::success();
  return KernelStatus::failure(KernelStatusCode::no_device, kernel + ": " + report.message);
}

}  // namespace attncert::gpu
