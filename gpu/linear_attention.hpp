// Linear attention forward on the GPU (CUDA cores, fp32 state) and its bit-exact CPU twin.
// Host API only: no CUDA headers. The per-tile math is in gpu/linear_attention_tile.cuh.
//
// Per head (row-major, contiguous): Q, K T×d, V T×d (dv = d), stored as `dtype` (fp32 floats or
// fp16/bf16 bit patterns); output T×d in the same dtype. With q' = fl(scale·q) and the feature
// maps of numerics/feature_maps.hpp (identity, relu, elu+1, Taylor-2, same definitions):
//
//   state   S = Σ_j φ_k(k_j) v_jᵀ (m×d),  z = Σ_j φ_k(k_j) (m),  both fp32,
//   output  unnormalised  o_i = Sᵀφ_q(q'_i)                 (flash-linear-attention style)
//           normalised    o_i = Sᵀφ_q(q'_i) / zᵀφ_q(q'_i)   (Katharopoulos et al. 2020)
//
// over all keys (non-causal) or keys j ≤ i (causal: chunks of 64 tokens, quadratic inside a
// chunk, state carried between chunks). State layout per head: m rows × (d + 1) fp32 columns,
// column d holding z (the normaliser state is the numerator state of a value column of ones).
// An optional initial state continues a sequence; the final state is returned, so a sequence
// can be split and resumed (bit-identical to one call when the split is at a multiple of 64
// tokens, because the chunking is then the same; otherwise within the a-priori bound).
//
// Normalised rows whose normaliser is finite and ≤ 0 (identity and relu features can give such
// rows) are written as 0 — never a quotient by a non-positive number —, rows whose normaliser
// is NaN or ±inf as NaN (docs/nan_semantics.md); both are counted in *rows_not_normalised; the
// raw normaliser of each row can be returned in `normaliser`.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "gpu/dtype.hpp"
#include "gpu/kernel_status.hpp"

namespace attncert::gpu {

enum class LinearFeature : std::uint8_t { identity, relu, elu_plus_one, taylor2 };
enum class LinearReadout : std::uint8_t { unnormalised, normalised };

std::string_view linear_feature_name(LinearFeature f);  // "identity", "relu", "elu+1", "taylor2"

/// Tokens per chunk: the kernel and its twin chunk by it (gpu/linear_attention_tile.cuh), and
/// the a-priori error bound (proofs_checks/linear_attention_check.cpp) is a function of it.
inline constexpr int kLinearAttentionChunk = 64;
inline constexpr int kLinearAttentionMaxHeadDim = 256;
/// Taylor-2 has m = 1 + d + d(d+1)/2 features; d ≤ 64 keeps the state ≤ 2145×65 fp32 per head.
inline constexpr int kLinearAttentionMaxTaylor2HeadDim = 64;
inline constexpr long long kLinearAttentionMaxSeqlen = 1LL << 24;
inline constexpr int kLinearAttentionMaxBatchHeads = 65535;  // one grid.y block row per head

/// Feature dimension m for head dim d (same as numerics FeatureMap::feature_dim).
long long linear_feature_dim(LinearFeature f, int head_dim);
/// fp32 elements of one head's state: m × (d + 1).
long long linear_state_elements(LinearFeature f, int head_dim);

struct LinearAttentionArgs {
  int batch_heads = 1;  // independent heads, laid out one after another
  int seqlen = 0;
  int head_dim = 0;     // d = dv
  DType q_dtype = DType::f32, k_dtype = DType::f32, v_dtype = DType::f32;  // must agree
  LinearFeature feature = LinearFeature::elu_plus_one;
  LinearReadout readout = LinearReadout::normalised;
  bool causal = true;
  float scale = 1.0f;   // q' = scale·q before the feature map; finite and > 0

  const void* q = nullptr;
  const void* k = nullptr;
  const void* v = nullptr;
  void* out = nullptr;                   // batch_heads × seqlen × d, dtype q_dtype
  const float* initial_state = nullptr;  // optional: batch_heads × m × (d + 1)
  float* final_state = nullptr;          // optional: batch_heads × m × (d + 1)
  float* normaliser = nullptr;           // optional, normalised only: batch_heads × seqlen
  long long* rows_not_normalised = nullptr;  // optional: rows written as 0 or NaN (see above)
};

/// Checks every argument before any work: one status naming the first problem found.
KernelStatus can_run(const LinearAttentionArgs& args);

/// The CPU twin: the tile functions of linear_attention_tile.cuh in the kernel's order,
/// bit-identical to the kernel. Host pointers.
KernelStatus linear_attention_twin(const LinearAttentionArgs& args);

/// HOST pointers: allocates, copies, launches, copies back. no_device without a GPU.
KernelStatus run_linear_attention_on_device(const LinearAttentionArgs& args);

/// Scratch bytes launch_linear_attention needs for these arguments.
long long linear_attention_workspace_bytes(const LinearAttentionArgs& args);
/// DEVICE pointers (args and workspace); asynchronous on the default stream.
KernelStatus launch_linear_attention(const LinearAttentionArgs& args, void* workspace);

/// HOST pointers: copies once, launches `repeats` times, returns the mean milliseconds per
/// call in *milliseconds (events around the launches only). no_device without a GPU.
KernelStatus time_linear_attention_on_device(const LinearAttentionArgs& args, int repeats,
                                             double* milliseconds);

/// FLOPs of one call (fma = 2), counting the work this algorithm does: features, chunk
/// states, state scan, intra-chunk scores and the read-out; for benchmarks.
double linear_attention_flops(const LinearAttentionArgs& args);
/// Bytes the kernel must move at least: Q, K, V, output, states.
double linear_attention_min_bytes(const LinearAttentionArgs& args);

}  // namespace attncert::gpu
