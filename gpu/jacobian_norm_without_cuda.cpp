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

KernelStatus time_jacobian_norm_on_device(const JacobianNormArgs& args, int repeats,
                                          double* milliseconds) {
  if (KernelStatus s = can_run_jacobian_norm(args); !s.ok()) return s;
  if (repeats < 1 || milliseconds == nullptr) {  // as the CUDA build, in the same order
    return KernelStatus::failure(KernelStatusCode::invalid_argument,
                                 "jacobian_norm: timing needs repeats >= 1 and a result pointer");
  }
  return no_cuda();
}

}  // namespace attncert::gpu
