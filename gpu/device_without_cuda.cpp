// Build without nvcc: there is never a device, and the report says why.
#include "gpu/device.hpp"

namespace attncert::gpu {

DeviceReport query_devices() {
  DeviceReport r;
  r.message = "CUDA support not compiled in (no nvcc at configure time); CPU twins only";
  return r;
}

KernelStatus check_device_memory(const std::string& kernel, const std::string&, std::size_t) {
  return KernelStatus::failure(KernelStatusCode::no_device, kernel + ": " + query_devices().message);
}

}  // namespace attncert::gpu
