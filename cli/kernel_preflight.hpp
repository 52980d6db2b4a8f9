// What must hold before attncert validates kernels (check-kernel, report): the CPU twins pass
// their start-up self-test (they vouch for the device bit for bit; docs/bit_exactness.md), and a
// device is there when one is required (--device, or ATTNCERT_REQUIRE_DEVICE=1 without --twin).
#pragma once

#include <CLI/CLI.hpp>

#include <stdexcept>
#include <string>

#include "cli/exit_codes.hpp"
#include "gpu/device.hpp"
#include "gpu/twin_self_test.hpp"

namespace attncert::cli {

/// Throws std::logic_error (exit 5: a build defect) when the twins fail their self-test,
/// NoDeviceError (exit 6) naming the probe's reason when a required device is missing, and
/// CLI::ValidationError (3) for a malformed ATTNCERT_REQUIRE_DEVICE.
inline void kernel_preflight(bool device_flag, bool twin_flag) {
  if (const std::string failure = gpu::twin_self_test_failure(); !failure.empty())
    throw std::logic_error(failure);
  bool required = false;
  try {
    required = gpu::device_required();
  } catch (const std::invalid_argument& e) {
    throw CLI::ValidationError(e.what());
  }
  if (!device_flag && !(required && !twin_flag)) return;
  const gpu::DeviceReport device = gpu::query_devices();
  if (device.device_count > 0) return;
  throw NoDeviceError(std::string(device_flag ? "--device" : "ATTNCERT_REQUIRE_DEVICE=1 (implies --device)") +
                      ": no CUDA device runs kernels here: " + device.message);
}

}  // namespace attncert::cli
