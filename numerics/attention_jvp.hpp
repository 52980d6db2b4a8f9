// Jacobian-vector products (forward mode, exact formulas) of single-head attention outputs with
// respect to Q, K and V, for softmax attention (softmax_attention.hpp conventions: scale, T,
// causal, mask) and linear attention with a feature map (linear_attention.hpp conventions:
// q' = scale·q before φ, causal prefix sums), in double and Mp; and local Lipschitz constants.
//
// Softmax:  S = (scale/T)·QKᵀ + mask, P = softmax_rows(S), O = PV.
//     dS = (scale/T)(dQ Kᵀ + Q dKᵀ),  dP_ij = P_ij (dS_ij − Σ_k P_ik dS_ik),  dO = dP V + P dV.
// Linear:   A = φ_q(scale·Q), B = φ_k(K), W = A Bᵀ (causal: W_ij = 0 for j > i),
//           O_i = (W V)_i / (W 1)_i.
//     dA = Dφ_q(scale·Q)[scale·dQ], dB = Dφ_k(K)[dK], dW = dA Bᵀ + A dBᵀ (same mask),
//     dO_i = ((dW V + W dV)_i − O_i (dW 1)_i) / (W 1)_i.
//   Dφ per map: identity dx; relu 1[x>0]·dx (0 at the kink x = 0); elu+1 dx (x>0), e^x dx
//   (x<=0); Taylor-2 (0, dx, x_a dx_a (query) or 2 x_a dx_a (key), dx_a x_b + x_a dx_b);
//   Performer dφ_r = φ_r (ω_rᵀdx − xᵀdx); cosFormer 1[x>0]·dx·(cos, sin) of the position angle.
//   (O(Lq·Lk) work: a reference derivative, not a fast path.)
//
// Local Lipschitz constant of X ↦ O at a point (X one of Q, K, V): ‖∂vec(O)/∂vec(X)‖₂, with the
// Jacobian formed column by column from n = rows·cols JVPs and its largest singular value taken
// by JacobiSVD (jacobian_spectral_norm). Chosen over power iteration on JᵀJ because it reuses
// the JVP (no separate VJP to validate), gives the exact norm rather than a lower estimate, and
// costs n JVPs + O(n³) — fine for the small instances a check uses (n up to a few hundred).
// vec is row-major: column k of the Jacobian is the tangent for X(k / cols, k % cols) = 1.
//
// Mp runs at options.precision_bits (softmax; 0 = the largest precision among the inputs) or at
// the largest precision of the inputs (linear), inside its own MpPrecision scope.
// Bad input throws std::invalid_argument (shapes: a direction must be empty (= 0) or the shape
// of its input; the attention functions' own checks) or std::domain_error (non-finite entries,
// a row whose linear-attention normaliser is not > 0).
// Instantiated for double and Mp in attention_jvp.cpp.
#pragma once

#include <string>

#include "numerics/feature_maps.hpp"
#include "numerics/softmax_attention.hpp"

namespace attncert {

enum class AttentionInput { Q, K, V };
std::string to_string(AttentionInput input);

template <class T>
struct AttentionJvp {
  RowMatrix<T> output;   ///< O (Lq×dv)
  RowMatrix<T> tangent;  ///< dO = ∂O[dQ, dK, dV] (Lq×dv)
};

/// Softmax attention and its directional derivative. Empty (0×0) directions mean zero.
template <class T>
AttentionJvp<T> softmax_attention_jvp(const RowMatrix<T>& Q, const RowMatrix<T>& K,
                                      const RowMatrix<T>& V, const RowMatrix<T>& dQ,
                                      const RowMatrix<T>& dK, const RowMatrix<T>& dV,
                                      const SoftmaxAttentionOptions<T>& options = {});

/// Linear attention (feature map φ, q' = scale·q) and its directional derivative. A cosFormer
/// map with horizon 0 gets the call's length. causal needs Lq = Lk.
template <class T>
AttentionJvp<T> linear_attention_jvp(const RowMatrix<T>& Q, const RowMatrix<T>& K,
                                     const RowMatrix<T>& V, const RowMatrix<T>& dQ,
                                     const RowMatrix<T>& dK, const RowMatrix<T>& dV,
                                     const FeatureMap& phi, const T& scale, bool causal);

/// ∂vec(O)/∂vec(X), (Lq·dv) × (rows(X)·cols(X)), row-major vec, one JVP per column.
template <class T>
RowMatrix<T> softmax_attention_jacobian(const RowMatrix<T>& Q, const RowMatrix<T>& K,
                                        const RowMatrix<T>& V, AttentionInput wrt,
                                        const SoftmaxAttentionOptions<T>& options = {});
template <class T>
RowMatrix<T> linear_attention_jacobian(const RowMatrix<T>& Q, const RowMatrix<T>& K,
                                       const RowMatrix<T>& V, AttentionInput wrt,
                                       const FeatureMap& phi, const T& scale, bool causal);

/// Local Lipschitz constant ‖∂vec(O)/∂vec(X)‖₂ at (Q, K, V).
template <class T>
T softmax_attention_local_lipschitz(const RowMatrix<T>& Q, const RowMatrix<T>& K,
                                    const RowMatrix<T>& V, AttentionInput wrt,
                                    const SoftmaxAttentionOptions<T>& options = {});
template <class T>
T linear_attention_local_lipschitz(const RowMatrix<T>& Q, const RowMatrix<T>& K,
                                   const RowMatrix<T>& V, AttentionInput wrt,
                                   const FeatureMap& phi, const T& scale, bool causal);

}  // namespace attncert
