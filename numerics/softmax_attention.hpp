// Softmax attention in every tier:  O = softmax(S) · V  with logits
//
//     S = Q Kᵀ · scale / T + mask      (Q: Lq×d, K: Lk×d, V: Lk×dv, softmax along each row).
//
// Conventions (shared by every function here):
//  - scale defaults to 1/√d (in the tier: exact for float/double rounding, an enclosure of
//    1/√d for Ball); pass it explicitly to use another value. It must be finite.
//  - T > 0 (temperature) divides the logits. The logits s_ij "already scaled" are
//    s_ij = (q_i·k_j)·scale/T + mask_ij (without softcap).
//  - keys: which keys each query sees (key_visibility.hpp: causal in either alignment, sliding
//    windows); always a contiguous range [begin, end) per row. Keys outside it have weight
//    exactly 0; a row whose range is empty is fully masked. Default: every key.
//  - softcap C (optional, finite, > 0): the scaled logit becomes C·tanh(s/C) before the
//    additive mask is added (FlashAttention's and Gemma 2's order):
//    s_ij = C·tanh((q_i·k_j)·scale/(T·C)) + mask_ij. Float/double use std::tanh, Mp MPFR's
//    tanh, Ball arb_tanh (an enclosure).
//  - mask: optional additive Lq×Lk matrix in the same tier; an entry −inf masks that pair
//    (weight exactly 0). NaN or +inf in the mask is an error. For Ball, a mask entry must be a
//    finite ball or exactly −inf.
//  - log_sum_exp(i) = log Σ_j exp(s_ij) over the visible keys (the lse flash-attention keeps).
//  - A fully masked row (no visible key) gives output row 0 and log_sum_exp −inf, never NaN.
//  - Probabilities P = softmax(S) (Lq×Lk) are returned only when asked for (memory Lq·Lk).
//
// Tiers:
//  - float, double: fast path, blocked over query rows (products by blas::gemm; double's exp
//    is bounded_exp, float's Eigen's vectorised exp); never forms the Lq×Lk matrix unless P
//    is requested. Logits that overflow the tier throw.
//  - Mp: round-to-nearest reference at `precision_bits` (0: the largest precision among the
//    inputs; MpPrecision may round it up by a few bits to whole decimal digits). Runs inside
//    its own MpPrecision scope. Not a certificate.
//  - Ball: a certified enclosure of the exact O, log_sum_exp (and P): Arb matrix products
//    (arb_mat_mul), exponentials shifted by the row maximum's midpoint, row sums with arb_dot.
//    Working precision `precision_bits` (0: the largest working precision among the inputs;
//    if every input is an exact ball, a precision must be given).
//
// Bad input throws: std::invalid_argument for empty or mismatched shapes (both shapes named),
// T not (certainly) > 0, a precision outside [2, 1e6] bits, a mask of the wrong shape, a negative
// window, a softcap that is not (certainly) finite and > 0;
// std::domain_error for a non-finite entry of Q, K or V (matrix and index named), NaN/+inf in
// the mask, a non-finite scale or T, and for float/double logits that overflow.
//
// Instantiated for float, double, Mp and Ball in softmax_attention.cpp.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <optional>
#include <vector>

#include "numerics/eigen_support.hpp"  // NumTraits<Ball>, NumTraits<Mp> must be seen by users
#include "numerics/key_visibility.hpp"
#include "numerics/tensor_view.hpp"

namespace attncert {

template <class T>
struct SoftmaxAttentionOptions {
  /// Multiplies Q Kᵀ; empty = 1/√d.
  std::optional<T> scale;
  /// Temperature, must be > 0.
  T temperature = T(1);
  /// Which keys each query row sees (causal in either alignment, windows); default all.
  KeyVisibility keys;
  /// Logit soft-capping C·tanh(s/C) before the mask; empty = none. Must be finite and > 0.
  std::optional<T> softcap;
  /// Optional additive Lq×Lk mask (−inf = masked). The viewed memory must outlive the call.
  std::optional<ConstMatrixView<T>> mask;
  /// Also return P = softmax(S) (single-head API only).
  bool return_probabilities = false;
  /// Mp/Ball working precision in bits; 0 = the largest precision among the inputs.
  /// Ignored by float/double.
  long precision_bits = 0;

  /// Sets the mask (std::optional's assignment would try to assign through the Map).
  SoftmaxAttentionOptions& set_mask(const ConstMatrixView<T>& m) {
    mask.emplace(m);
    return *this;
  }
  /// Views `m` (which must outlive the call) as the mask.
  SoftmaxAttentionOptions& set_mask(const RowMatrix<T>& m) {
    mask.emplace(m.data(), m.rows(), m.cols(), ViewStride(m.cols(), 1));
    return *this;
  }
};

template <class T>
struct SoftmaxAttentionResult {
  RowMatrix<T> output;       ///< Lq×dv
  ColVector<T> log_sum_exp;  ///< Lq; −inf for fully masked rows
  RowMatrix<T> probabilities;  ///< Lq×Lk when requested, else 0×0
};

/// Single head.
template <class T>
SoftmaxAttentionResult<T> softmax_attention(const ConstMatrixView<T>& Q,
                                            const ConstMatrixView<T>& K,
                                            const ConstMatrixView<T>& V,
                                            const SoftmaxAttentionOptions<T>& options = {});

/// A read-only view of a whole row-major matrix (for the single-head API).
template <class T>
ConstMatrixView<T> const_view(const RowMatrix<T>& m) {
  return ConstMatrixView<T>(m.data(), m.rows(), m.cols(), ViewStride(m.cols(), 1));
}

/// Single head on plain matrices (views them; no copy).
template <class T>
SoftmaxAttentionResult<T> softmax_attention(const RowMatrix<T>& Q, const RowMatrix<T>& K,
                                            const RowMatrix<T>& V,
                                            const SoftmaxAttentionOptions<T>& options = {}) {
  return softmax_attention<T>(const_view(Q), const_view(K), const_view(V), options);
}

/// Multi-head, written into caller memory. Shapes: Q (B, H, Lq, d), K (B, Hkv, Lk, d),
/// V (B, Hkv, Lk, dv), output (B, H, Lq, dv), log_sum_exp (B, H, Lq, 1) if given. Hkv must
/// divide H (MQA/GQA: query head h uses key/value head h / (H / Hkv)); Hkv = H is ordinary
/// multi-head attention. Any strides (e.g. a transposed (B, L, H, d) buffer). One mask, if
/// given, applies to every head. options.return_probabilities must be false.
template <class T>
void softmax_attention(const Tensor4View<const T>& Q, const Tensor4View<const T>& K,
                       const Tensor4View<const T>& V, const Tensor4View<T>& output,
                       const SoftmaxAttentionOptions<T>& options = {},
                       const std::optional<Tensor4View<T>>& log_sum_exp = std::nullopt);

/// Multi-head with returned contiguous buffers.
template <class T>
struct MultiHeadAttentionResult {
  std::array<std::ptrdiff_t, 4> shape{};  ///< (B, H, Lq, dv) of output
  std::vector<T> output;                  ///< contiguous row-major (B, H, Lq, dv)
  std::vector<T> log_sum_exp;             ///< contiguous (B, H, Lq)

  /// Views of the buffers (valid while this object lives and is not resized).
  Tensor4View<T> output_view() {
    return Tensor4View<T>(output.data(), shape[0], shape[1], shape[2], shape[3]);
  }
  Tensor4View<T> log_sum_exp_view() {
    return Tensor4View<T>(log_sum_exp.data(), shape[0], shape[1], shape[2], 1);
  }
};

template <class T>
MultiHeadAttentionResult<T> softmax_attention(const Tensor4View<const T>& Q,
                                              const Tensor4View<const T>& K,
                                              const Tensor4View<const T>& V,
                                              const SoftmaxAttentionOptions<T>& options = {});

}  // namespace attncert
