// What a kernel entry point answers before (can_run) or instead of a launch: a status naming
// the problem in one line. Bad arguments never reach a launch; "no device" is an answer.
#pragma once

#include <string>

namespace attncert::gpu {

enum class KernelStatusCode {
  ok,
  unsupported_shape,     // head dim, feature dim, chunk or length outside what the kernel handles
  empty_input,           // a sequence length or batch of 0
  null_pointer,
  misaligned_pointer,
  dtype_mismatch,        // inputs that must share a dtype do not
  invalid_argument,      // NaN/Inf scale, non-positive temperature, …
  no_device,             // CUDA not compiled in, or no usable device
  cuda_error,            // a CUDA runtime call failed (message names the call, file and line)
  insufficient_device_memory,  // the shape's buffers exceed the free device memory (refused first)
  unsupported_architecture,    // the binary carries no code for the device's compute capability
};

struct KernelStatus {
  KernelStatusCode code = KernelStatusCode::ok;
  std::string message;  // empty when ok

  bool ok() const noexcept { return code == KernelStatusCode::ok; }
  static KernelStatus success() { return {}; }
  static KernelStatus failure(KernelStatusCode c, std::string m) { return {c, std::move(m)}; }
};

}  // namespace attncert::gpu
