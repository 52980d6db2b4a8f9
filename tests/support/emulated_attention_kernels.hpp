// Emulated third-party attention kernels for tests and benches of check-attention: a generic
// flash-style forward (online softmax over key tiles of block_k keys, P rounded to the input
// dtype before P·V, fp32 accumulation) and a plain three-pass one (S, P stored in the input
// dtype), in float (products and sums in fp32; a + b·c, contracted to an fma or not: both are
// members of the class), with switches for the defects real kernels have shipped with. The user's
// tensors go in and out in either layout, as exact doubles (values of the dtype).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "gpu/dtype.hpp"
#include "numerics/key_visibility.hpp"
#include "numerics/rng.hpp"
#include "proofs_checks/attention_check.hpp"

namespace attncert::test_support {

enum class EmulatedAlgorithm { flash, three_pass };

/// Injected defects (all off: a correct kernel).
struct AttentionDefects {
  bool flipped_alignment = false;       ///< the causal diagonal aligned the other way than asked
  int causal_offset = 0;                ///< keys seen past the diagonal (1: off by one)
  bool skip_sum_rescale = false;        ///< flash: l ← l + Σp instead of l·α + Σp
  bool skip_acc_rescale = false;        ///< flash: acc not multiplied by α
  bool bf16_accumulation = false;       ///< the P·V accumulator rounded to bf16 after every add
  bool drop_last_partial_tile = false;  ///< flash: a row's last key tile skipped when partial
  bool scale_twice = false;             ///< logits multiplied by the scale twice
  /// P rounded (to nearest, ties to even, no exponent limit) to this many stored mantissa bits
  /// after its rounding to the input dtype and before P·V — an fp8-style (E4M3: 3) P; 0: off
  int probability_mantissa_bits = 0;
  std::ptrdiff_t head = -1;             ///< only this query head is defective (−1: every head)
  bool any() const {
    return flipped_alignment || causal_offset != 0 || skip_sum_rescale || skip_acc_rescale ||
           bf16_accumulation || drop_last_partial_tile || scale_twice ||
           probability_mantissa_bits != 0;
  }
};

struct EmulatedAttentionSpec {
  EmulatedAlgorithm algorithm = EmulatedAlgorithm::flash;
  gpu::DType dtype = gpu::DType::f32;         ///< Q, K, V (and P) dtype
  gpu::DType output_dtype = gpu::DType::f32;  ///< O stored in
  AttentionLayout layout = AttentionLayout::bhsd;
  std::ptrdiff_t batch = 1, heads = 1, kv_heads = 1, seqlen_q = 1, seqlen_k = 1, head_dim = 1;
  std::ptrdiff_t value_dim = 0;  ///< 0: head_dim
  AttentionProblem problem;      ///< scale (kernel uses its fp32 rounding), keys, softcap
  int block_k = 64;
  AttentionDefects defects;
  std::ptrdiff_t dv() const { return value_dim > 0 ? value_dim : head_dim; }
};

struct EmulatedAttentionOutput {
  std::vector<double> o;    ///< in spec.layout, (B, H, Lq, dv) logically
  std::vector<double> lse;  ///< (B, H, Lq); −inf for rows without a key
};

/// q (B, H, Lq, d), k (B, Hkv, Lk, d), v (B, Hkv, Lk, dv), each in spec.layout.
EmulatedAttentionOutput emulated_attention(const EmulatedAttentionSpec& spec,
                                           const std::vector<double>& q,
                                           const std::vector<double>& k,
                                           const std::vector<double>& v);

/// n values N(0, sd²) rounded to `dtype` (exact doubles of the dtype).
std::vector<double> random_in_dtype(Rng& rng, std::size_t n, gpu::DType dtype, double sd = 1.0);

/// Views of a spec's tensors for check_attention.
struct AttentionViews {
  Tensor4View<const double> q, k, v, o;
  AttentionTensors tensors() const { return {&q, &k, &v}; }
};
AttentionViews attention_views(const EmulatedAttentionSpec& spec, const std::vector<double>& q,
                               const std::vector<double>& k, const std::vector<double>& v,
                               const std::vector<double>& o);

}  // namespace attncert::test_support
