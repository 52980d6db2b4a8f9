// Built when nvcc is absent: the device entry points check their arguments, then answer
// no_device (bad arguments are still named first, as with CUDA).
#include "gpu/linear_attention.hpp"

namespace attncert::gpu {
namespace {
KernelStatus no_device() {
  return KernelStatus::failure(KernelStatusCode::no_device,
                               "linear_attention: this build has no CUDA support (nvcc not found)");
}
}  // namespace

KernelStatus launch_linear_attention(const LinearAttentionArgs& args, void*) {
  KernelStatus status = can_run(args);
  return status.ok() ? no_device() : status;
}

KernelStatus run_linear_attention_on_device(const LinearAttentionArgs& args) {
  KernelStatus status = can_run(args);
  return status.ok() ? no_device() : status;
}

KernelStatus time_linear_attention_on_device(const LinearAttentionArgs& args, int repeats,
                                             double* milliseconds) {
  KernelStatus status = can_run(args);
  if (!status.ok()) return status;
  if (repeats < 1 || milliseconds == nullptr)  // as the CUDA build, in the same order
    return KernelStatus::failure(KernelStatusCode::invalid_argument,
                                 "linear_attention timing: repeats must be >= 1 and milliseconds non-null");
  return no_device();
}

}  // namespace attncert::gpu
