// Host-side view of the CUDA devices. No CUDA headers: callers compile without nvcc.
#pragma once

#include <cstdlib>
#include <stdexcept>
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

/// Whether this run must execute on a CUDA device, so that a missing device is a failure rather
/// than a skip (a GPU machine must not pass its device tests by skipping them). The one place
/// that reads ATTNCERT_REQUIRE_DEVICE: "1" required; unset, empty or "0" not; anything else
/// throws std::invalid_argument with one line (a typo must not silently mean "not required").
inline bool device_required() {
  const char* value = std::getenv("ATTNCERT_REQUIRE_DEVICE");
  if (value == nullptr || std::string(value).empty() || std::string(value) == "0") return false;
  if (std::string(value) == "1") return true;
  throw std::invalid_argument("ATTNCERT_REQUIRE_DEVICE='" + std::string(value) +
                              "': expected 1 (a CUDA device is required) or 0 / unset");
}

/// Empty when a device runs kernels or none is required; otherwise the one line to fail with:
/// a device was required (ATTNCERT_REQUIRE_DEVICE=1) and the probe's reason there is none, or
/// what is wrong with the ATTNCERT_REQUIRE_DEVICE value.
inline std::string required_device_missing() {
  try {
    if (!device_required()) return {};
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  const DeviceReport report = query_devices();
  if (report.device_count > 0) return {};
  return "ATTNCERT_REQUIRE_DEVICE=1 but no CUDA device runs kernels here: " + report.message;
}

}  // namespace attncert::gpu
