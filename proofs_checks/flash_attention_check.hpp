// Validation of the flash-attention forward kernel (or its CPU twin) against a certified
// ground truth (the fast enclosure tier with undecided rows recomputed in Arb, or Arb balls
// throughout: KernelCheckRequest::truth), with the kernel's a-priori forward error bound
// (derivation at the top of flash_attention_check.cpp) and the flash-attention rule for
// comparison.
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

/// Problem data the bound depends on (all from the inputs, none from the output).
struct FlashAttentionBoundInputs {
  gpu::DType dtype = gpu::DType::f32;
  int seqlen_k = 1;
  int head_dim = 1;
  double scale = 1.0;               // the exact scale of the ground truth (1/√d)
  double scale_relative_error = 0;  // |float scale − scale| / scale
  // Bounds over the row's keys j, from the inputs (q, k) and the values the kernel reads
  // (q̂, k̂ = dtype rounding of q, k):
  double abs_dot = 0;          // A ≥ Σ_c |q_c k_jc|
  double abs_rounded_dot = 0;  // Â ≥ Σ_c |q̂_c k̂_jc|
  double rounding_dot = 0;     // P_in ≥ Σ_c |q̂_c − q_c||k̂_jc| + |q_c||k̂_jc − k_jc|
  double v_max_abs = 0;        // max_j |v_jc| of the output column
  double v_half_range = 0;     // (max_j v_jc − min_j v_jc) / 2
  double max_abs_input = 0;    // max |x| over the row's q, its keys and values (range check)
};

struct FlashAttentionBound {
  double output = 0;       // |O_ic − exact| ≤ output
  double log_sum_exp = 0;  // |lse_i − exact| ≤ log_sum_exp
  double logit_error = 0;  // Δ: |computed logit − exact logit| ≤ Δ for every key of the row
};

/// The a-priori bound for one output element (row i, column c) of a row with visible keys, for
/// the kernel built with `tiling` (the bound's key-tile count and row-sum tree depth come from
/// it; any other tiling only for tests that show the bound follows it).
FlashAttentionBound flash_attention_bound(
    const FlashAttentionBoundInputs& in,
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
/// comparison: an element or lse whose error |x − mid| ± rad lies on both sides of its bound;
/// when the ratio max (|x − mid| ± rad)/bound is uncertain by more than kRatioResolution of
/// itself, the rows that can hold that maximum; and, when the flash-attention rule max error ≤
/// 2·naive error + atol is undecided, the rows that can hold either maximum or whose midpoint
/// straddles a dtype rounding boundary of atol. Rows already in Arb are never named again.
/// Every comparison must have truth.shape's sizes.
std::vector<std::size_t> flash_attention_rows_to_refine(
    const AttentionEnclosure& truth, std::span<const FlashAttentionComparison> comparisons);

/// One row per (case, dtype) of the shape matrix selected by `request`.
std::vector<KernelCheckRow> check_flash_attention(
    const KernelCheckRequest& request,
    const std::function<void(std::size_t done, std::size_t total)>& progress = {});

}  // namespace attncert
