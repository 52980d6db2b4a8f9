// The device memory a host-pointer call (run_<op>_on_device, time_<op>_on_device) allocates,
// so that gpu/<op>.cu can refuse a shape that does not fit before allocating anything
// (check_device_memory in gpu/device.hpp). Host code only: unit-tested without a device.
#pragma once

#include <cstddef>

#include "gpu/dtype.hpp"
#include "gpu/flash_attention.hpp"
#include "gpu/jacobian_norm.hpp"
#include "gpu/linear_attention.hpp"

namespace attncert::gpu {

/// What a shape needs beyond its buffers' bytes before a launch can succeed: cudaMalloc may
/// round each allocation up to a 2 MiB page (at most 8 buffers per call here), and the runtime
/// takes memory of its own after cudaMemGetInfo has already counted the context (module load,
/// launch buffers). 16 MiB for the latter is a chosen margin, not a measurement: no test here
/// has a device, so the headroom is unverified until a GPU run (README, "Checking on a GPU
/// machine").
inline constexpr std::size_t kDeviceAllocationRounding = std::size_t{2} << 20;
inline constexpr std::size_t kDeviceBuffersPerCall = 8;
inline constexpr std::size_t kDeviceRuntimeReserve = std::size_t{16} << 20;
inline std::size_t device_bytes_with_headroom(std::size_t buffer_bytes) {
  return buffer_bytes + kDeviceBuffersPerCall * kDeviceAllocationRounding + kDeviceRuntimeReserve;
}

/// Q [bh, Lq, d] and K, V [bh, Lk, d] in the input dtype; O [bh, Lq, d] and LSE [bh, Lq] fp32.
inline std::size_t flash_attention_device_bytes(const FlashAttentionArgs& a) {
  const std::size_t es = static_cast<std::size_t>(dtype_size(a.q_dtype));
  const std::size_t bh = static_cast<std::size_t>(a.batch_heads);
  const std::size_t lq = static_cast<std::size_t>(a.seqlen_q), lk = static_cast<std::size_t>(a.seqlen_k);
  const std::size_t d = static_cast<std::size_t>(a.head_dim);
  return bh * lq * d * es + 2 * bh * lk * d * es + bh * lq * d * sizeof(float) +
         bh * lq * sizeof(float);
}

/// Q, K, V and O [bh, T, d] in the input dtype; the initial and final states and the
/// normaliser when asked for (fp32); the workspace (linear_attention_workspace_bytes).
inline std::size_t linear_attention_device_bytes(const LinearAttentionArgs& a) {
  const std::size_t bh = static_cast<std::size_t>(a.batch_heads);
  const std::size_t tokens = bh * static_cast<std::size_t>(a.seqlen) * static_cast<std::size_t>(a.head_dim);
  const std::size_t state = bh * static_cast<std::size_t>(linear_state_elements(a.feature, a.head_dim)) * 4;
  return 4 * tokens * static_cast<std::size_t>(dtype_size(a.q_dtype)) +
         (a.initial_state ? state : 0) + (a.final_state ? state : 0) +
         (a.normaliser ? bh * static_cast<std::size_t>(a.seqlen) * 4 : 0) +
         static_cast<std::size_t>(linear_attention_workspace_bytes(a));
}

/// Logits [rows, L] in the input dtype; norms [rows, temperatures] fp32.
inline std::size_t jacobian_norm_device_bytes(const JacobianNormArgs& a) {
  const std::size_t rows = static_cast<std::size_t>(a.rows);
  return rows * static_cast<std::size_t>(a.length) * static_cast<std::size_t>(dtype_size(a.dtype)) +
         rows * static_cast<std::size_t>(a.num_temperatures) * sizeof(float);
}

}  // namespace attncert::gpu
