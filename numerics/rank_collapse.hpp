// Rank collapse of pure attention (THEORY.md C.rank-collapse; Dong, Cordonnier & Loukas,
// "Attention is not all you need: pure attention loses rank doubly exponentially with depth",
// ICML 2021).
//
// Stacked single-head softmax attention layers without skip connections or MLPs,
//     X_{l+1} = softmax(X_l W_Q W_Kᵀ X_lᵀ / √d_qk) · X_l W_V,
// and the residual res(X) = X − 1xᵀ, x chosen to minimise ‖X − 1xᵀ‖.
//
// Norm (our choice, stated): Frobenius. Its minimiser is exactly the column mean
// x = Xᵀ1 / n (least squares, column by column), so res(X) = X − 1·mean(X) and ‖res(X)‖_F is
// the distance from X to the rank-1 "all tokens equal" set. The paper uses the composite
// ‖R‖_{1,∞} = √(‖R‖₁‖R‖∞) (max column sum × max row sum) minimised over x; we also report it
// evaluated at the column mean, which is an upper bound on the paper's minimised quantity
// (the mean need not minimise the composite norm).
//
// Working tier (double): a trend measurement, not a certificate. Layers run through
// softmax_attention<double> (softmax_attention.hpp, default scale 1/√d_qk).
// Bad input throws std::invalid_argument (empty X, wrong weight shapes, layers < 0,
// head_dim < 0, weight_scale <= 0) or std::domain_error (non-finite entries; an overflowing
// logit in a layer, from softmax_attention).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "numerics/tensor_view.hpp"

namespace attncert {

/// One pure attention layer: W_Q, W_K are d×d_qk, W_V is d×d (d = the token dimension).
struct AttentionLayerWeights {
  RowMatrix<double> query;
  RowMatrix<double> key;
  RowMatrix<double> value;
};

struct RankCollapseOptions {
  Eigen::Index layers = 6;
  /// d_qk; 0 means d (the token dimension of X).
  Eigen::Index head_dim = 0;
  /// Weight entries are N(0, weight_scale² / d) (variance-preserving at weight_scale = 1).
  double weight_scale = 1.0;
  std::uint64_t seed = 0;
};

/// `layers` independent layers with N(0, weight_scale²/model_dim) entries from Rng(seed),
/// drawn in the order W_Q, W_K, W_V per layer, row-major. Reproducible from the seed.
std::vector<AttentionLayerWeights> random_attention_layers(Eigen::Index layers,
                                                          Eigen::Index model_dim,
                                                          Eigen::Index head_dim,
                                                          double weight_scale,
                                                          std::uint64_t seed);

/// X − 1·mean(X)ᵀ (the Frobenius-optimal residual).
RowMatrix<double> rank_collapse_residual_matrix(const RowMatrix<double>& X);
/// ‖X − 1·mean(X)ᵀ‖_F.
double rank_collapse_residual(const RowMatrix<double>& X);
/// √(‖R‖₁‖R‖∞): max column abs sum times max row abs sum, square-rooted.
double composite_l1_inf_norm(const RowMatrix<double>& R);

/// softmax(X W_Q W_Kᵀ Xᵀ/√d_qk) X W_V.
RowMatrix<double> pure_attention_layer(const RowMatrix<double>& X,
                                       const AttentionLayerWeights& weights);

struct RankCollapseTrace {
  /// Index l = 0 … L: the input X_0, then the output of each layer.
  std::vector<double> residual;           ///< ‖res(X_l)‖_F
  std::vector<double> relative_residual;  ///< ‖res(X_l)‖_F / ‖X_l‖_F (0 when X_l = 0)
  std::vector<double> residual_l1_inf;    ///< √(‖R‖₁‖R‖∞) of the same R = res(X_l)
};

RankCollapseTrace rank_collapse(const RowMatrix<double>& X0,
                                std::span<const AttentionLayerWeights> layers);
/// With random_attention_layers(options.layers, d, head_dim or d, weight_scale, seed).
RankCollapseTrace rank_collapse(const RowMatrix<double>& X0, const RankCollapseOptions& options);

}  // namespace attncert
