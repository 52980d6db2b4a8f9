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

KernelStatus time_linear_attention_on_device(const LinearAttentionArgs& args, int, double*) {
  KernelStatus status = can_run(args);
  return status.ok() ? no_device() : status;
}

}  // namespace attncert::gpu
