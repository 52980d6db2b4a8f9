// Approximation error between softmax attention and linear (or kernel) attention on the same
// inputs, in double, Mp and Ball.
//
// With s_ij = scale·q_iᵀk_j (softmax attention at temperature 1, softmax_attention.hpp) and
// the linear side built from the same scale (feature_maps.hpp: the scale multiplies q):
//  - kernel error        E_ij = |e^{s_ij} − φ_q(scale·q_i)ᵀφ_k(k_j)|   (all pairs)
//  - attention matrix    P = softmax weights, A = linear/kernel weights (causal: j <= i):
//                        max_ij |P_ij − A_ij|, ‖P − A‖_F, per-row ℓ1 Σ_j |P_ij − A_ij| and the
//                        largest total variation max_i ℓ1_i / 2 (rows of P and A sum to 1)
//  - output              max |O_P − O_A|, ‖O_P − O_A‖_F.
//
// Tiers: double gives the values (working precision); Ball gives enclosures of the exact
// errors, so x.upper() is a certified upper bound (and x.lower() a certified lower bound);
// Mp is a reference. A linear/kernel row whose normaliser is not (certainly) > 0 makes the
// comparison meaningless: it throws std::domain_error naming the row (as
// linear_attention_or_throw does). Other bad input throws as linear_attention does.
// Instantiated for double, Mp and Ball in attention_error.cpp.
#pragma once

#include <vector>

#include "numerics/feature_maps.hpp"
#include "numerics/linear_attention.hpp"
#include "numerics/tensor_view.hpp"

namespace attncert {

template <class T>
struct KernelApproximationError {
  RowMatrix<T> error;  ///< Lq×Lk: |e^{s_ij} − φ_q(scale·q_i)ᵀφ_k(k_j)|
  T max;               ///< max_ij error(i, j)
};

template <class T>
struct AttentionApproximationError {
  T weights_max;             ///< max_ij |P_ij − A_ij|
  T weights_frobenius;       ///< ‖P − A‖_F
  std::vector<T> row_l1;     ///< Σ_j |P_ij − A_ij| per query row
  T total_variation_max;     ///< max_i row_l1[i] / 2
  T output_max;              ///< max |O_P − O_A|
  T output_frobenius;        ///< ‖O_P − O_A‖_F
};

/// Entrywise |e^{scale·q_iᵀk_j} − φ_q(scale·q_i)ᵀφ_k(k_j)|.
template <class T>
KernelApproximationError<T> kernel_approximation_error(MatrixArg<T> Q, MatrixArg<T> K,
                                                       const FeatureMap& phi, const T& scale);

/// Softmax attention vs linear attention with feature map φ.
template <class T>
AttentionApproximationError<T> attention_approximation_error(MatrixArg<T> Q, MatrixArg<T> K,
                                                             MatrixArg<T> V,
                                                             const FeatureMap& phi,
                                                             const T& scale, bool causal);

/// Softmax attention vs kernel attention (power kernel, general normaliser F).
template <class T>
AttentionApproximationError<T> attention_approximation_error(MatrixArg<T> Q, MatrixArg<T> K,
                                                             MatrixArg<T> V,
                                                             const ScoreKernel<T>& kernel,
                                                             const T& scale, bool causal);

/// The error measures between two given weight matrices (same shape) and two outputs.
template <class T>
AttentionApproximationError<T> attention_difference(MatrixArg<T> P, MatrixArg<T> A,
                                                    MatrixArg<T> O_P, MatrixArg<T> O_A);

}  // namespace attncert
