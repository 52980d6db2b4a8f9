// Host-side view of the CUDA devices. No CUDA headers: callers compile without nvcc.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "gpu/kernel_status.hpp"

namespace attncert::gpu {

struct DeviceReport {
  bool cuda_compiled = false;  // the build had nvcc and compiled gpu/*.cu
  int device_count = 0;        // usable devices found at run time (0 unless the probe ran)
  std::string name;            // first device's name, when there is one
  int compute_capability = 0;  // e.g. 80, 90
  std::string message;         // one line for the user: why there is no device, or what there is
  // What `attncert info` and scripts/gpu-check print. Versions are CUDA's encoding
  // (1000·major + 10·minor, see cuda_version_string); 0 when unknown.
  int driver_version = 0;               // the newest CUDA the installed driver supports
  int runtime_version = 0;              // the CUDA runtime linked into this binary
  std::vector<int> compiled_architectures;  // CMAKE_CUDA_ARCHITECTURES of the build, e.g. {80, 90}
  int sm_count = 0;                     // device 0's multiprocessors
  int clock_khz = 0;                    // device 0's peak SM clock (for gpu/device_peak.hpp)
  std::size_t total_memory_bytes = 0;   // device 0's global memory
  bool probe_launched = false;          // a probe kernel ran on device 0 and wrote its answer
};

/// "12.4" for CUDA's version encoding 12040; "unknown" for 0.
inline std::string cuda_version_string(int version) {
  if (version <= 0) return "unknown";
  return std::to_string(version / 1000) + "." + std::to_string(version % 1000 / 10);
}

/// The architectures of a CMake CUDA_ARCHITECTURES list ("80;90", "80-real;90-virtual", "90a";
/// ',' and '/' separate as well as ';'): the leading number of each entry; entries without one
/// ("native", "all") are left out.
inline std::vector<int> parse_cuda_architectures(std::string_view list) {
  std::vector<int> archs;
  std::size_t start = 0;
  while (start <= list.size()) {
    const std::size_t end = std::min(list.find_first_of(";,/", start), list.size());
    int value = 0;
    std::size_t i = start;
    for (; i < end && list[i] >= '0' && list[i] <= '9'; ++i) value = value * 10 + (list[i] - '0');
    if (i > start) archs.push_back(value);
    start = end + 1;
  }
  return archs;
}

/// "sm_80, sm_90", or "none" for an empty list.
inline std::string cuda_architecture_list(const std::vector<int>& archs) {
  std::string s;
  for (int a : archs) s += (s.empty() ? "sm_" : ", sm_") + std::to_string(a);
  return s.empty() ? "none" : s;
}

/// The one line for a device whose architecture the binary carries no code for (the runtime's
/// cudaErrorNoKernelImageForDevice / cudaErrorInvalidDeviceFunction).
inline std::string missing_kernel_image_message(const std::string& kernel, int compute_capability,
                                                const std::vector<int>& compiled) {
  return kernel + ": this binary carries no code for the device's architecture sm_" +
         std::to_string(compute_capability) + " (built for " + cuda_architecture_list(compiled) +
         "; rebuild with CMAKE_CUDA_ARCHITECTURES including " +
         std::to_string(compute_capability) + ")";
}

/// The one line for a shape whose device buffers (`buffer_bytes`; with the allocation and
/// runtime headroom `bytes_needed`, gpu/device_memory.hpp) do not fit in the free memory.
inline std::string insufficient_device_memory_message(const std::string& kernel,
                                                      const std::string& shape,
                                                      std::size_t buffer_bytes,
                                                      std::size_t bytes_needed,
                                                      std::size_t bytes_free) {
  return kernel + ": shape " + shape + " needs " + std::to_string(buffer_bytes) +
         " bytes of device buffers (" + std::to_string(bytes_needed) +
         " with allocation rounding and the runtime's reserve); " + std::to_string(bytes_free) +
         " bytes are free";
}

/// Before a kernel's first allocation on the device: ok when `buffer_bytes` plus the headroom
/// of device_bytes_with_headroom (gpu/device_memory.hpp) fit in the free device memory
/// (cudaMemGetInfo), else insufficient_device_memory with the shape and the byte counts.
/// Without CUDA compiled in, no_device.
KernelStatus check_device_memory(const std::string& kernel, const std::string& shape,
                                 std::size_t buffer_bytes);

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
