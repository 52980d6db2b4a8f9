// Flash-style softmax attention forward: O = softmax(Q Kᵀ·scale [+ causal mask]) V and the row
// log-sum-exp, tiled over keys with online-softmax rescaling and fp32 accumulation. Host API
// (no CUDA headers): argument check, CPU twin, device run on host buffers, device-pointer
// launch and timing. Tiling and per-tile math: gpu/flash_attention_tile.cuh.
//
// Layout: Q [batch_heads, seqlen_q, head_dim], K and V [batch_heads, seqlen_k, head_dim],
// contiguous row-major. Inputs fp32 (float) or fp16/bf16 (uint16_t bit patterns); each of
// q, k, v declares its dtype and all three must agree. Outputs are fp32:
// out [batch_heads, seqlen_q, head_dim] and log_sum_exp [batch_heads, seqlen_q] (natural log
// of Σ_j exp(logit_ij) over the visible keys). Causal masking is bottom-right aligned
// (query i sees key j iff j ≤ i + seqlen_k − seqlen_q); a row with no visible key gives
// output 0 and log_sum_exp −inf.
#pragma once

#include "gpu/dtype.hpp"
#include "gpu/kernel_status.hpp"

namespace attncert::gpu {

struct FlashAttentionArgs {
  const void* q = nullptr;
  const void* k = nullptr;
  const void* v = nullptr;
  DType q_dtype = DType::f32;
  DType k_dtype = DType::f32;
  DType v_dtype = DType::f32;
  float* out = nullptr;          // fp32 [batch_heads, seqlen_q, head_dim]
  float* log_sum_exp = nullptr;  // fp32 [batch_heads, seqlen_q]
  int batch_heads = 1;
  int seqlen_q = 0;
  int seqlen_k = 0;
  int head_dim = 0;
  float scale = 0.0f;  // multiplies Q Kᵀ; finite and > 0 (see default_attention_scale)
  bool causal = false;
};

inline constexpr int kFlashAttentionMinHeadDim = 32;
inline constexpr int kFlashAttentionMaxHeadDim = 128;
inline constexpr int kFlashAttentionMaxBatchHeads = 65535;  // grid.y limit

/// The kernel's tiling. gpu/flash_attention_tile.cuh builds the kernel and its twin from
/// kFlashAttentionTiling, and the a-priori error bound (proofs_checks/flash_attention_check.cpp)
/// is a function of it, so retiling the kernel retiles its proof.
struct FlashAttentionTiling {
  int block_q;  // query rows per thread block
  int block_k;  // keys per tile iteration
  int warps;    // per block; a warp owns block_q / warps query rows
  int lanes;    // per warp (a power of two); lane x handles keys x, x + lanes, …

  constexpr int keys_per_lane() const { return block_k / lanes; }
  /// Levels of the xor-shuffle butterfly over the lanes (offsets lanes/2, …, 1).
  constexpr int butterfly_stages() const {
    int stages = 0;
    for (int offset = lanes / 2; offset > 0; offset /= 2) ++stages;
    return stages;
  }
  /// Additions a key's probability passes before the running row sum: the lane's own keys,
  /// then the butterfly.
  constexpr int row_sum_tree_depth() const { return keys_per_lane() - 1 + butterfly_stages(); }
  /// Key tiles a row of seqlen_k keys spans: each rescales the earlier keys' weights once.
  constexpr long long key_tiles(long long seqlen_k) const {
    return (seqlen_k + block_k - 1) / block_k;
  }
};
inline constexpr FlashAttentionTiling kFlashAttentionTiling{64, 64, 4, 32};

/// 1/√head_dim rounded to float (the usual softmax scale).
float default_attention_scale(int head_dim);

/// Checks everything that can be checked before a launch: head_dim in
/// [kFlashAttentionMinHeadDim, kFlashAttentionMaxHeadDim], lengths and batch_heads ≥ 1 (and
/// within the grid limits), non-null pointers aligned to their element size, q/k/v dtypes
/// equal, scale finite and > 0. The message names the problem.
KernelStatus can_run(const FlashAttentionArgs& args);

/// The CPU twin: the kernel's tiles in the kernel's order on host buffers.
KernelStatus flash_attention_twin(const FlashAttentionArgs& args);

/// Copies the HOST buffers in args to the device, launches, copies the outputs back.
/// no_device when CUDA is not compiled in or no device is usable.
KernelStatus run_flash_attention_on_device(const FlashAttentionArgs& host_args);

/// Launch on DEVICE pointers (stream: a cudaStream_t, or nullptr for the default stream).
KernelStatus launch_flash_attention(const FlashAttentionArgs& device_args, void* stream = nullptr);

/// Copies the HOST inputs once, runs `repeats` launches (after one warm-up) between CUDA
/// events and stores the mean milliseconds per launch.
KernelStatus time_flash_attention_on_device(const FlashAttentionArgs& host_args, int repeats,
                                            double& milliseconds_per_launch);

/// Keys query `row` sees: j < visible_keys(…) (bottom-right causal alignment; 0 = fully masked).
int flash_attention_visible_keys(int row, int seqlen_q, int seqlen_k, bool causal);

/// Floating-point operations of one forward pass (2 GEMMs over the visible logits; the
/// causal count is exact for bottom-right alignment) and bytes of the compulsory traffic.
double flash_attention_flops(const FlashAttentionArgs& args);
double flash_attention_bytes(const FlashAttentionArgs& args);

}  // namespace attncert::gpu
