// A parameterised model of a tensor-core dot product (fp16/bf16 inputs, fp32 accumulation) and
// its a-priori error bound — the arithmetic a tensor-core twin would emulate and the bound a
// tensor-core kernel would carry (docs/KERNELS.md §5). No tensor-core kernel exists in attncert;
// this is host code for the plan.
//
// Model after Fasi, Higham, Mikaitis, Pranesh (2021) and Blanchard, Higham, Lopez, Mary, Pranesh
// (2020), with the parameters the literature does not settle per architecture left free
// (docs/KERNELS.md §5.2 says what is known and what is not):
//   ŝ₀ = c; for each block i of k consecutive products (the last may be shorter):
//     the addends ŝ_{i−1}, a_j·b_j (products exact) are aligned to the largest one's exponent E,
//     each truncated toward zero to a multiple of 2^(E−23−t) (t extra bits below fp32's 24),
//     summed exactly, and the sum rounded to fp32 (truncation or round-to-nearest-even): ŝ_i.
// Bound (derived in docs/KERNELS.md §5.3): with ρ = 2u (truncation) or u (nearest), u = 2⁻²⁴,
//   δ = (1 + ρ)(1 + k·2^(1−t)·u) − 1,  B = ⌈n/k⌉ blocks,  S = |c| + Σ|a_j b_j|:
//   |ŝ − (c + Σ a_j b_j)| ≤ γ_B(δ)·(S + η/δ),  γ_B(δ) = Bδ/(1 − Bδ), η = 2⁻¹⁴⁹ (a subnormal
//   block result's absolute floor). Holds for any faithful rounding at both places, so it does
//   not depend on whether the hardware truncates (the sources disagree for Ampere). Assumes no
//   overflow (the bound is +inf when S reaches FLT_MAX).
#pragma once

#include <span>

#include "gpu/dtype.hpp"

namespace attncert {

struct TensorCoreModel {
  enum class Rounding { truncate, nearest_even };
  int block_size = 16;  // k: products aligned and normalised together
  int extra_bits = 0;   // t: alignment keeps 24 + t bits below the largest addend's leading bit
  Rounding block_rounding = Rounding::truncate;  // of each block's sum to fp32
  gpu::DType input_dtype = gpu::DType::bf16;     // of a and b: fp16 or bf16
};

inline constexpr int kTensorCoreMaxBlockSize = 64;  // keeps every aligned block sum exact in double
inline constexpr int kTensorCoreMaxExtraBits = 20;

/// Throws std::invalid_argument (one line naming the parameter) unless 1 ≤ k ≤ 64, 0 ≤ t ≤ 20
/// and the input dtype is fp16 or bf16.
void check_tensor_core_model(const TensorCoreModel& model);

/// δ of the bound: (1 + ρ)(1 + k·2^(1−t)·u) − 1, exact in double.
double tensor_core_block_delta(const TensorCoreModel& model);

/// The model's result for c + Σ a_j b_j. Throws std::invalid_argument for a bad model, a size
/// mismatch, a non-finite c, a or b, or an a_j, b_j not representable in the input dtype.
float tensor_core_dot(const TensorCoreModel& model, float c, std::span<const float> a,
                      std::span<const float> b);

/// The a-priori bound on |tensor_core_dot(…) − (c + Σ a_j b_j)| (header comment), evaluated in
/// double and rounded up. Same argument checks.
double tensor_core_dot_error_bound(const TensorCoreModel& model, float c,
                                   std::span<const float> a, std::span<const float> b);

}  // namespace attncert
