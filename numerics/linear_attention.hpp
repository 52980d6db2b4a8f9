// Linear attention and kernel ("quadratic-form") attention in float, double, Mp and Ball.
//
// Linear attention with feature map φ (feature_maps.hpp), single head, q'_i = scale·q_i:
//
//     O_i = φ_q(q'_i)ᵀ S / φ_q(q'_i)ᵀ z,   S = Σ_j φ_k(k_j) v_jᵀ (m×dv),  z = Σ_j φ_k(k_j) (m),
//
// over all keys (non-causal) or keys j ≤ i (causal; running prefix state, O(L·m·dv) work, no
// L×L matrix). Shapes: Q Lq×d, K Lk×d, V Lk×dv; causal needs Lq = Lk. Token positions are
// absolute: a call that starts from a state covering t tokens puts query/key i at t + i (this
// matters for cosFormer only).
//
// Kernel attention (quadratic form, O(Lq·Lk·(d+dv))) for kernels with no finite feature map:
//
//     O_i = Σ_j κ(s_ij) v_j / Σ_j κ(s_ij),   s_ij = scale·q_iᵀk_j,
//
// with κ(s) = s^β (paper B's power kernel; s > 0 required, β > 0) or κ = F, a positive
// function (paper A's general normaliser; F = exp gives softmax attention).
//
// Normalisers are never divided through blindly: each query row gets a RowStatus. A row
// whose normaliser is not (for Ball: not certainly) > 0 and finite, or whose kernel value is
// out of its domain, is reported and its output row is NaN (Ball: an indeterminate ball
// [nan ± inf]); the other rows are computed as usual. *_or_throw wrappers turn the first
// failing row into std::domain_error naming the row and the offending value.
//
// Precision: Mp computes at the largest precision among Q, K, V and scale (inside its own
// MpPrecision scope); Ball at the largest working precision of its inputs (Ball(x, 128) …).
// Ball outputs enclose the exact values of the formulas above for the given inputs.
// Bad input throws: std::invalid_argument for empty/mismatched shapes (both named), causal
// with Lq ≠ Lk, a state of the wrong shape, scale not (certainly) > 0, β ≤ 0 or non-finite;
// std::domain_error for a NaN/±inf entry (matrix and index named) or a non-finite scale.
// Instantiated for float, double, Mp and Ball in linear_attention.cpp.
#pragma once

#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "numerics/feature_maps.hpp"
#include "numerics/softmax.hpp"  // PositiveFunction<T>
#include "numerics/tensor_view.hpp"

namespace attncert {

/// Outcome of one query row's normalisation.
enum class RowStatus : unsigned char {
  Ok,
  NormaliserNotPositive,       ///< normaliser <= 0 (Ball: certainly <= 0)
  NormaliserUndecided,         ///< Ball only: the enclosure of the normaliser contains 0
  NotFinite,                   ///< normaliser or output overflowed / is NaN (Ball: not finite)
  KernelArgumentNotPositive,   ///< power kernel: some s_ij not (certainly) > 0
  KernelValueNotPositive,      ///< general F: some F(s_ij) not (certainly) > 0 or not finite
};
std::string to_string(RowStatus status);

/// The running state of (causal) linear attention after `tokens` keys.
template <class T>
struct LinearAttentionState {
  RowMatrix<T> kv;     ///< m×dv: Σ_j φ_k(k_j) v_jᵀ
  ColVector<T> k_sum;  ///< m: Σ_j φ_k(k_j)
  Eigen::Index tokens = 0;
};

template <class T>
struct AttentionResult {
  RowMatrix<T> output;               ///< Lq×dv; failed rows NaN / indeterminate
  ColVector<T> normaliser;           ///< Lq: the denominator of each row
  std::vector<RowStatus> row_status; ///< Lq
  bool all_ok() const;
  /// Index of the first row whose status is not Ok.
  std::optional<Eigen::Index> first_failed_row() const;
};

template <class T>
struct LinearAttentionResult : AttentionResult<T> {
  /// State after the last key: pass it as `initial` to continue the sequence.
  LinearAttentionState<T> state;
};

/// Row-normalised attention weights (Lq×Lk; causal: zero above the diagonal).
template <class T>
struct AttentionMatrixResult {
  RowMatrix<T> weights;
  ColVector<T> normaliser;
  std::vector<RowStatus> row_status;
  bool all_ok() const;
  std::optional<Eigen::Index> first_failed_row() const;
};

/// Throws std::domain_error "<what>: row i: <status> (normaliser <value>)" for the first
/// failed row; does nothing when every row is Ok.
template <class T>
void require_rows_ok(const std::vector<RowStatus>& status, const ColVector<T>& normaliser,
                     const std::string& what);

template <class T>
using MatrixArg = std::type_identity_t<ConstMatrixRef<T>>;

/// Linear attention (see the header comment). `initial` continues from a returned state.
template <class T>
LinearAttentionResult<T> linear_attention(MatrixArg<T> Q, MatrixArg<T> K, MatrixArg<T> V,
                                          const FeatureMap& phi, const T& scale, bool causal,
                                          const LinearAttentionState<T>* initial = nullptr);

/// As linear_attention, but throws std::domain_error for the first failed row.
template <class T>
LinearAttentionResult<T> linear_attention_or_throw(MatrixArg<T> Q, MatrixArg<T> K,
                                                   MatrixArg<T> V, const FeatureMap& phi,
                                                   const T& scale, bool causal,
                                                   const LinearAttentionState<T>* initial = nullptr);

/// φ_q(scale·Q) φ_k(K)ᵀ, the unnormalised Lq×Lk kernel matrix (all pairs, no mask).
template <class T>
RowMatrix<T> linear_kernel_matrix(MatrixArg<T> Q, MatrixArg<T> K, const FeatureMap& phi,
                                  const T& scale);

/// The linear-attention matrix: row-normalised φ_q(scale·Q) φ_k(K)ᵀ (causal: j <= i).
/// Failed rows are NaN / indeterminate with their status set.
template <class T>
AttentionMatrixResult<T> linear_attention_matrix(MatrixArg<T> Q, MatrixArg<T> K,
                                                 const FeatureMap& phi, const T& scale,
                                                 bool causal);

/// κ(s) for kernel attention: s^β or a positive function F.
template <class T>
class ScoreKernel {
 public:
  /// κ(s) = s^β, defined for s > 0. Throws std::invalid_argument unless β is finite and > 0.
  static ScoreKernel power(double beta);
  /// κ(s) = F(s), F positive (paper A). Throws std::invalid_argument for an empty function.
  static ScoreKernel normaliser(PositiveFunction<T> F, std::string name = "F");

  bool is_power() const noexcept { return !F_; }
  double beta() const noexcept { return beta_; }
  const std::string& name() const noexcept { return name_; }
  /// κ(s), or nullopt with the status when s (power) or F(s) is outside the domain.
  std::optional<T> operator()(const T& s, RowStatus* failure) const;

 private:
  ScoreKernel() = default;
  double beta_ = 0.0;
  PositiveFunction<T> F_;
  std::string name_;
};

/// Kernel attention O_i = Σ_j κ(s_ij) v_j / Σ_j κ(s_ij) (causal: j <= i, Lq = Lk).
template <class T>
AttentionResult<T> kernel_attention(MatrixArg<T> Q, MatrixArg<T> K, MatrixArg<T> V,
                                    const ScoreKernel<T>& kernel, const T& scale, bool causal);

/// The kernel-attention matrix κ(s_ij) / Σ_j κ(s_ij).
template <class T>
AttentionMatrixResult<T> kernel_attention_matrix(MatrixArg<T> Q, MatrixArg<T> K,
                                                 const ScoreKernel<T>& kernel, const T& scale,
                                                 bool causal);

}  // namespace attncert
