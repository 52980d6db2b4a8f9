// Feature maps of linear attention: φ such that φ_q(q)ᵀφ_k(k) is the (unnormalised) attention
// weight. Query and key maps may differ (Taylor-2 and cosFormer use that); every map here is
// evaluated row by row (one token per row) in float, double, Mp and Ball.
//
// The maps, for a token x ∈ ℝ^d at position p (0-based):
//  - Identity      φ(x) = x                                       (m = d; weights may be < 0)
//  - Relu          φ(x) = max(x, 0)                               (m = d)
//  - EluPlusOne    φ(x) = elu(x) + 1 = x + 1 (x > 0), e^x (x ≤ 0)  (m = d; Katharopoulos 2020)
//  - Taylor2       Based's 2nd-order Taylor map (Arora et al. 2024, "Simple linear attention
//                  language models balance the recall-throughput tradeoff"), written with an
//                  asymmetric split so that every feature is exact in Ball arithmetic:
//                    φ_q(q) = (1, q, (q_a²/2)_a, (q_a q_b)_{a<b}),
//                    φ_k(k) = (1, k, (k_a²)_a,   (k_a k_b)_{a<b}),   m = 1 + d + d(d+1)/2,
//                  so φ_q(q)ᵀφ_k(k) = 1 + s + s²/2 exactly, s = qᵀk. (Based itself projects to a
//                  small d first and uses 1/√2 on both sides; the inner product is the same.)
//  - Performer     positive random features (Choromanski et al. 2021, FAVOR+):
//                    φ⁺(x) = m^{−1/2} e^{−‖x‖²/2} (e^{ω_iᵀx})_{i≤m},  ω_i ~ N(0, I_d),
//                  E[φ⁺(x)ᵀφ⁺(y)] = e^{xᵀy}. ω is drawn once, in double, from Rng(seed); with
//                  `orthogonal`, ω comes in blocks of d rows: Gram–Schmidt of a Gaussian d×d
//                  block, each row rescaled by the norm of an independent N(0, I_d) vector
//                  (chi_d-distributed), so each row is still marginally N(0, I_d). The ω
//                  doubles are exact inputs to every tier: a Ball result encloses the map for
//                  exactly these ω.
//  - CosFormer     Qin et al. 2022, "cosFormer: Rethinking Softmax in Attention" (ICLR 2022,
//                  arXiv 2202.08791), eq. for s(q_i, k_j) = ReLU(q_i)ᵀReLU(k_j)·cos(π/2·(i−j)/M),
//                  decomposed by cos(a−b) = cos a cos b + sin a sin b:
//                    φ(x, p) = (ReLU(x)·cos(π p/(2M)), ReLU(x)·sin(π p/(2M))),   m = 2d,
//                  with horizon M ≥ every position + 1 so that |i − j|/M < 1 and the
//                  re-weighting is positive. Positions are 0-based absolute token indices.
//
// Scaling convention (used by linear_attention.hpp and attention_error.hpp): the attention
// scale multiplies the *query* before the feature map, q' = scale·q, so Taylor2 gives
// 1 + s + s²/2 and Performer estimates e^{s} with s = scale·qᵀk — the kernel of softmax
// attention exp(scale·qᵀk). For Identity/Relu/CosFormer the scale cancels in the normalised
// output (positively homogeneous maps); for EluPlusOne it does not.
//
// Precision: Mp maps compute at the largest precision of their input (inside an MpPrecision
// scope); Ball maps at the input's working precision (Identity, Relu and Taylor2 stay exact on
// exact balls; EluPlusOne, Performer and CosFormer need a working precision and throw
// std::domain_error on exact balls without one).
// Bad input throws: std::invalid_argument (wrong dimension, m < 1, horizon too small),
// std::domain_error (NaN / ±inf entry, naming row and column).
// Instantiated for float, double, Mp and Ball in feature_maps.cpp.
#pragma once

#include <Eigen/Core>

#include <cstdint>
#include <string>

#include "numerics/tensor_view.hpp"

namespace attncert {

/// A read-only row-major matrix argument that binds RowMatrix, MatrixView and
/// ConstMatrixView (a Tensor4View head) without copying.
template <class T>
using ConstMatrixRef = Eigen::Ref<const RowMatrix<T>, 0, ViewStride>;

enum class FeatureMapKind { Identity, Relu, EluPlusOne, Taylor2, Performer, CosFormer };

std::string to_string(FeatureMapKind kind);

class FeatureMap {
 public:
  using Index = Eigen::Index;

  static FeatureMap identity();
  static FeatureMap relu();
  static FeatureMap elu_plus_one();
  static FeatureMap taylor2();
  /// m = num_features random features for inputs of dimension input_dim, ω from Rng(seed).
  /// Throws std::invalid_argument for num_features < 1 or input_dim < 1.
  static FeatureMap performer(Index input_dim, Index num_features, std::uint64_t seed,
                              bool orthogonal = false);
  /// horizon M = 0 means "the total length of the call" (offset + length), resolved by the
  /// attention functions; a resumed causal call (offset > 0) needs an explicit horizon.
  static FeatureMap cosformer(Index horizon = 0);

  FeatureMapKind kind() const noexcept { return kind_; }
  /// e.g. "elu+1", "performer(m=64, seed=7, orthogonal)".
  std::string name() const;
  /// Feature dimension m for inputs of dimension d (Performer: its number of features).
  Index feature_dim(Index input_dim) const;
  /// Performer only: the fixed input dimension and the m×d directions ω (empty otherwise).
  Index input_dim() const noexcept { return input_dim_; }
  const RowMatrix<double>& performer_directions() const noexcept { return omega_; }
  std::uint64_t seed() const noexcept { return seed_; }
  bool orthogonal() const noexcept { return orthogonal_; }
  Index horizon() const noexcept { return horizon_; }
  bool position_dependent() const noexcept { return kind_ == FeatureMapKind::CosFormer; }
  /// A copy whose cosFormer horizon is set to total_length if it was 0 (no-op otherwise).
  FeatureMap with_default_horizon(Index total_length) const;

  /// Row i of the result is φ_q(x_i) at position first_position + i (an L×m matrix).
  template <class T>
  RowMatrix<T> query_features(const ConstMatrixRef<T>& x, Index first_position = 0) const;
  /// Row j of the result is φ_k(x_j) at position first_position + j.
  template <class T>
  RowMatrix<T> key_features(const ConstMatrixRef<T>& x, Index first_position = 0) const;

 private:
  explicit FeatureMap(FeatureMapKind kind) : kind_(kind) {}
  template <class T>
  RowMatrix<T> features(const ConstMatrixRef<T>& x, Index first_position, bool is_query) const;

  FeatureMapKind kind_;
  Index input_dim_ = 0;
  RowMatrix<double> omega_;
  std::uint64_t seed_ = 0;
  bool orthogonal_ = false;
  Index horizon_ = 0;
};

/// Draws the m×d Performer directions exactly as FeatureMap::performer does (exposed for tests
/// and for reproducing a run from its seed).
RowMatrix<double> performer_directions(Eigen::Index input_dim, Eigen::Index num_features,
                                       std::uint64_t seed, bool orthogonal);

}  // namespace attncert
