// Build without nvcc: the device entry points check their arguments (so bad input is still
// named) and then answer "no device"; the CPU twin (flash_attention_twin.cpp) is always built.
#include <string>

#include "gpu/device.hpp"
#include "gpu/flash_attention.hpp"

namespace attncert::gpu {
namespace {

KernelStatus no_device() {
  return KernelStatus::failure(KernelStatusCode::no_device,
                               "flash_attention: " + query_devices().message);
}

}  // namespace

KernelStatus launch_flash_attention(const FlashAttentionArgs& device_args, void* /*stream*/) {
  if (KernelStatus s = can_run(device_args); !s.ok()) return s;
  return no_device();
}

KernelStatus run_flash_attention_on_device(const FlashAttentionArgs& host_args) {
  if (KernelStatus s = can_run(host_args); !s.ok()) return s;
  return no_device();
}

KernelStatus time_flash_attention_on_device(const FlashAttentionArgs& host_args, int repeats,
                                            double& milliseconds_per_launch) {
  milliseconds_per_launch = 0.0;
  if (KernelStatus s = can_run(host_args); !s.ok()) return s;
  if (repeats < 1) {
    return KernelStatus::failure(
        KernelStatusCode::invalid_argument,
        "flash_attention: repeats = " + std::to_string(repeats) + "; must be >= 1");
  }
  return no_device();
}

}  // namespace attncert::gpu
