// Built when nvcc is absent: the device entry points check their arguments, then answer
// "no device" (the twin in jacobian_norm_twin.cpp is always available).
#include "gpu/jacobian_norm.hpp"

namespace attncert::gpu {
namespace {
KernelStatus no_cuda() {
  return KernelStatus::failure(KernelStatusCode::no_device,
                               "jacobian_norm: built without CUDA (no nvcc found); use the twin");
}
}  // namespace

KernelStatus launch_jacobian_norm(const JacobianNormArgs& args, void*) {
  if (KernelStatus s = can_run_jacobian_norm(args); !s.ok()) return s;
  return no_cuda();
}

KernelStatus run_jacobian_norm_on_device(const JacobianNormArgs& args) {
  if (KernelStatus s = can_run_jacobian_norm(args); !s.ok()) return s;
  return no_cuda();
}

KernelStatus time_jacobian_norm_on_device(const JacobianNormArgs& args, int, double*) {
  if (KernelStatus s = can_run_jacobian_norm(args); !s.ok()) return s;
  return no_cuda();
}

}  // namespace attncert::gpu
