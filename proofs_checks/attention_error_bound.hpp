// A-priori forward error bounds of algorithm classes of softmax attention (check-attention,
// attention_check.hpp): what any correct implementation of the class may err by, per output
// element and lse value, from the inputs of one query row. One analysis, evaluated two ways
// (error_budget.hpp): a guaranteed bound and a Higham–Mary probabilistic one. Derivation term by
// term in docs/attention_error_bounds.md.
#pragma once

#include <cmath>
#include <optional>
#include <vector>

#include "gpu/dtype.hpp"
#include "numerics/key_visibility.hpp"
#include "numerics/tensor_view.hpp"
#include "proofs_checks/error_budget.hpp"

namespace attncert {

/// Parameters of a class of algorithms (flash: online softmax over key tiles; three-pass).
struct AttentionClass {
  gpu::DType input = gpu::DType::f32;    ///< dtype of Q, K, V as read
  gpu::DType output = gpu::DType::f32;   ///< dtype O is stored in
  bool online_softmax = true;            ///< flash: rescales per key tile; false: three-pass
  int block_k = 16;                      ///< keys per tile at least (online_softmax only)
  bool scores_rounded_to_input = false;  ///< three-pass: S (and the scaled q, k) in the input dtype
  bool probabilities_rounded_to_input = true;  ///< P rounded to the input dtype before P·V
  /// Accumulation unit: fp32 with faithful (not only round-to-nearest) operations, so
  /// accumulation by binary operations that truncate is covered by the guaranteed bound: 2⁻²³.
  /// (Tensor-core MMA blocks, which align and truncate k addends at once — k + 1 errors per
  /// block of up to an ulp of the block's largest term — are not modelled.)
  double accumulation_unit = 0x1p-23;
  /// Relative error of each exponential (exp2 approximations on GPUs, vectorised exps on CPUs).
  double exp_relative_error = 0x1p-20;
  /// Relative error of an exp ARGUMENT against its exact value t_j − m (the fp32 scale, or
  /// scale·log₂e, its product with the score difference, the subtraction).
  double exp_argument_relative_error = 0x1p-21;
  /// Absolute error of an exp argument per unit of the row's largest |logit| (flash: the
  /// rounding of the scaled score or of the scaled running maximum, FA's fma(s, c, −fl(m·c))).
  double exp_argument_absolute_unit = 0x1p-22;
  /// Relative error of tanh in the softcap (PTX tanh.approx.f32: 2⁻¹⁰·⁹⁸⁷).
  double tanh_relative_error = 0x1p-10;
  /// Relative error of the log in lse = m + log l, and its absolute floor.
  double log_relative_error = 0x1p-21;
};

/// One query row of a head: Q row `row` against the keys `keys` of K, V (all of the head's).
struct AttentionRowInputs {
  const ConstMatrixView<double>* q = nullptr;  ///< (Lq, d)
  const ConstMatrixView<double>* k = nullptr;  ///< (Lk, d)
  const ConstMatrixView<double>* v = nullptr;  ///< (Lk, dv)
  std::ptrdiff_t row = 0;
  KeyRange keys;                  ///< the visible keys (non-empty)
  double scale = 1.0;             ///< the exact scale
  std::optional<double> softcap;  ///< C > 0
};

/// The error budgets of one row: per output column and of the lse value. A budget whose
/// guaranteed bound is infinite means the class's model does not cover the row (S or O
/// overflowing in its dtype, weights perturbed by a factor ≥ 2).
struct AttentionRowBudgets {
  std::vector<ErrorBudget> output;  ///< per column c of O
  ErrorBudget log_sum_exp;
  std::vector<double> v_max_abs;  ///< max_j |v_jc| over the visible keys (vacuity threshold)
};

/// The budgets of one row. Cost O(n·(d + dv)) for n visible keys. Throws std::invalid_argument
/// (one line) for an accumulation length beyond the derivation (n·u ≥ 1) or bad parameters.
AttentionRowBudgets attention_row_budgets(const AttentionClass& cls, const AttentionRowInputs& row);

/// Throws std::invalid_argument unless every accumulation of a row with `keys` visible keys and
/// head dim `head_dim` has (terms)·u < 1 under `cls` (the derivation's γ_n needs it).
void require_accumulation_covered(const AttentionClass& cls, std::ptrdiff_t keys,
                                  std::ptrdiff_t head_dim);

/// A bound says nothing when infinite or no smaller than 2·max|v_jc| (the most two convex
/// combinations of the column's values can differ by).
inline bool bound_is_vacuous(double bound, double v_max_abs) {
  return !std::isfinite(bound) || (v_max_abs > 0 && !(bound < 2 * v_max_abs));
}

}  // namespace attncert
