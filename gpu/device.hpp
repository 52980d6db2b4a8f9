// Host-side view of the CUDA devices. No CUDA headers: callers compile without nvcc.
#pragma once

#include <string>

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
DeviceReport query_devices();

}  // namespace attncert::gpu
