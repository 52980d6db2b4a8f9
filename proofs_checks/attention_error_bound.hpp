// A-priori forward error bounds of algorithm classes of softmax attention (check-attention,
// attention_check.hpp): what any correct implementation of the class may err by, per output
// element, from the inputs alone. Derivation term by term in docs/attention_error_bounds.md.
#pragma once

#include "gpu/dtype.hpp"

namespace attncert {

/// Parameters of a class of algorithms (flash: online softmax over key tiles; three-pass).
struct AttentionClass {
  gpu::DType input = gpu::DType::f32;    ///< dtype of Q, K, V as read
  gpu::DType output = gpu::DType::f32;   ///< dtype O is stored in
  bool online_softmax = true;            ///< flash: rescales per key tile; false: three-pass
  int block_k = 16;                      ///< keys per tile (online_softmax only)
  bool scores_rounded_to_input = false;  ///< three-pass: S (and the scaled q, k) in the input dtype
  bool probabilities_rounded_to_input = true;  ///< P rounded to the input dtype before P·V
  /// Accumulation unit: fp32 with faithful (not only round-to-nearest) operations, so tensor-
  /// core accumulation that truncates is covered: 2⁻²³.
  double accumulation_unit = 0x1p-23;
  /// Relative error of each exponential (exp2 approximations on GPUs, vectorised exps on CPUs).
  double exp_relative_error = 0x1p-20;
  /// Relative error of an exp ARGUMENT against its exact value t_j − m (the fp32 scale, or
  /// scale·log₂e, its product with the score difference, the subtraction).
  double exp_argument_relative_error = 0x1p-21;
  /// Absolute error of an exp argument per unit of the row's largest |logit| (the rounding of
  /// the scaled score or of the scaled running maximum, e.g. FA's fma(s, c, −fl(m·c))).
  double exp_argument_absolute_unit = 0x1p-22;
  /// Relative error of tanh in the softcap (PTX tanh.approx.f32: 2⁻¹⁰·⁹⁸⁷).
  double tanh_relative_error = 0x1p-10;
  /// Relative error of the log in lse = m + log l, and its absolute floor.
  double log_relative_error = 0x1p-21;
};

/// Data of one query row (and output column) the bound depends on, from the inputs only.
struct AttentionRowData {
  int visible_keys = 1;  ///< keys the row sees (≥ 1)
  int head_dim = 1;
  double scale = 1.0;        ///< the exact scale
  double abs_dot = 0;        ///< ≥ max_j Σ_c |q_c k_jc| over the visible keys
  double max_abs_logit = 0;  ///< ≥ max_j |scale·q·k_j| (after softcap when given)
  double v_max_abs = 0;      ///< max_j |v_jc| of the column over the visible keys
  double v_half_range = 0;   ///< (max_j v_jc − min_j v_jc)/2
  double q_abs_sum = 0;      ///< Σ_c |q_c| (three-pass: floors of the scaled q in the dtype)
  double k_abs_sum = 0;      ///< max_j Σ_c |k_jc| over the visible keys (likewise)
  bool softcap = false;      ///< a softcap is applied (1-Lipschitz; adds its tanh's error)
  double softcap_value = 0;  ///< C (when softcap)
};

struct AttentionElementBound {
  double output = 0;       ///< |O_ic − exact| ≤ output
  double log_sum_exp = 0;  ///< |lse_i − exact| ≤ log_sum_exp
  /// The output bound says nothing: ≥ 2·v_max_abs, the most two convex combinations of the
  /// column's values can differ by (or infinite).
  bool vacuous = false;
};

/// Infinite when the class's model does not cover the row (n·u ≥ 1, overflow in the dtype).
AttentionElementBound attention_class_bound(const AttentionClass& cls, const AttentionRowData& row);

}  // namespace attncert
