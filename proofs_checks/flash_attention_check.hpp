// Validation of the flash-attention forward kernel (or its CPU twin) against a certified
// ground truth of the inputs as the kernel read them (the fast enclosure tier with undecided
// rows recomputed in Arb, or Arb balls throughout: KernelCheckRequest::truth), with the
// kernel's guaranteed and probabilistic forward error bounds (derivation at the top of
// flash_attention_check.cpp and in docs/flash_attention_kernel_bound.md), the effect of the
// input rounding reported apart, and the flash-attention rule for comparison.
#pragma once

#include <cstddef>
#include <functional>
#include <span>
#include <vector>

#include "gpu/dtype.hpp"
#include "gpu/flash_attention.hpp"
#include "numerics/midpoint_radius_attention.hpp"
#include "proofs_checks/kernel_check.hpp"

namespace attncert {

/// One query row as the kernel reads it: every number a value of `dtype` (as double), the
/// row's visible keys only (the kernel masks a prefix; masked keys and tiles are exact).
struct FlashAttentionRow {
  gpu::DType dtype = gpu::DType::f32;
  int head_dim = 1;
  float scale = 1.0f;                    // the scale the kernel multiplies by
  std::span<const double> query;         // head_dim values
  std::span<const double> keys, values;  // visible keys × head_dim, row-major
};

/// Bounds of |computed − exact| for the row's outputs (per column) and its lse, where "exact" is
/// attention of the row's values with the float scale: guaranteed (every rounding at its worst)
/// and probabilistic (error_budget.hpp, with the given λ).
struct FlashAttentionRowBound {
  std::vector<double> output, output_probabilistic;
  double lse = 0, lse_probabilistic = 0;
};

/// The bound of the kernel built with `tiling` (derivation at the top of
/// flash_attention_check.cpp and in docs/flash_attention_kernel_bound.md; any other tiling only
/// for tests that show the bound follows it). Infinite when the rounding model cannot hold
/// (non-finite inputs, a logit overflowing float, a key's accumulated rounding ≥ 1/2). Throws
/// std::invalid_argument (one line) for a number that is not a value of the dtype, λ ≤ 0, a
/// scale that is not finite and > 0, or inconsistent sizes.
FlashAttentionRowBound flash_attention_row_bound(
    const FlashAttentionRow& row, double lambda,
    const gpu::FlashAttentionTiling& tiling = gpu::kFlashAttentionTiling);

/// What the check compares with the truth for one dtype, flat in the truth's row order
/// (AttentionEnclosure::row_index; one batch, the problem's heads): the kernel's output and
/// log-sum-exp, the naive same-precision output, and the a-priori bounds (0 for masked rows).
struct FlashAttentionComparison {
  gpu::DType dtype = gpu::DType::f32;
  std::vector<float> out, lse, naive;
  std::vector<double> out_bound, lse_bound;
  /// The probabilistic bounds of the same elements (error_budget.hpp); empty when the caller
  /// judges by the guaranteed bound only. Their verdicts and ratios are refined like the
  /// guaranteed ones.
  std::vector<double> out_probabilistic_bound, lse_probabilistic_bound;
};

/// How precisely the truth must fix the printed error/bound ratios (output and lse, the
/// largest over the case): to this fraction of themselves, i.e. their 3 printed digits.
inline constexpr double kRatioResolution = 1e-3;

/// The visible rows (flat, ascending) whose verdicts or ratios `truth` cannot decide for some
/// comparison: an element or lse whose error |x − mid| ± rad lies on both sides of its bound
/// (the guaranteed one, and the probabilistic one when the comparison carries it);
/// when the ratio max (|x − mid| ± rad)/bound is uncertain by more than kRatioResolution of
/// itself, the rows that can hold that maximum; and, when the flash-attention rule max error ≤
/// 2·naive error + atol is undecided, the rows that can hold either maximum or whose midpoint
/// straddles a dtype rounding boundary of atol. Rows already in Arb are never named again.
/// Every comparison must have truth.shape's sizes (the probabilistic vectors: those sizes, or
/// both empty).
std::vector<std::size_t> flash_attention_rows_to_refine(
    const AttentionEnclosure& truth, std::span<const FlashAttentionComparison> comparisons);

/// One row per (case, dtype) of the shape matrix selected by `request`.
std::vector<KernelCheckRow> check_flash_attention(
    const KernelCheckRequest& request,
    const std::function<void(std::size_t done, std::size_t total)>& progress = {});

}  // namespace attncert
