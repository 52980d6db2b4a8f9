// Rank collapse of pure attention (C.rank-collapse): the residual definition against
// closed-form values and its minimising property, the per-layer decrease for generic seeded
// instances, reproducibility from the seed, and bad input.
#include "numerics/rank_collapse.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <iostream>
#include <limits>
#include <stdexcept>
#include <string>

#include "numerics/rng.hpp"
#include "numerics/scalar_traits.hpp"

namespace attncert {
namespace {

using Index = Eigen::Index;
const double kUnit = ScalarTraits<double>::unit_roundoff();

RowMatrix<double> random_matrix(Rng& rng, Index rows, Index cols) {
  RowMatrix<double> m(rows, cols);
  for (Index i = 0; i < rows; ++i)
    for (Index j = 0; j < cols; ++j) m(i, j) = rng.normal();
  return m;
}

TEST(RankCollapseResidual, ClosedFormValues) {
  // Identical rows: X = 1xᵀ exactly, residual 0 (mean of equal numbers is exact).
  RowMatrix<double> same(4, 3);
  for (Index i = 0; i < 4; ++i) same.row(i) << 1.5, -2.0, 0.25;
  EXPECT_EQ(rank_collapse_residual(same), 0.0);
  // Rows (1, 0) and (−1, 2): mean (0, 1), residual rows (1, −1), (−1, 1): ‖R‖_F = 2,
  // ‖R‖₁ = max column sum = 2, ‖R‖∞ = max row sum = 2, composite √(2·2) = 2.
  RowMatrix<double> X(2, 2);
  X << 1, 0, -1, 2;
  EXPECT_EQ(rank_collapse_residual(X), 2.0);  // exact: small integers
  EXPECT_EQ(composite_l1_inf_norm(rank_collapse_residual_matrix(X)), 2.0);
  // A single token is trivially rank-collapsed.
  RowMatrix<double> one(1, 5);
  one << 1, 2, 3, 4, 5;
  EXPECT_EQ(rank_collapse_residual(one), 0.0);
}

TEST(RankCollapseResidual, ColumnMeanMinimisesTheFrobeniusResidual) {
  const std::uint64_t seed = 555;
  SCOPED_TRACE("seed=" + std::to_string(seed));
  Rng rng(seed);
  const RowMatrix<double> X = random_matrix(rng, 7, 3);
  const double best = rank_collapse_residual(X);
  const Eigen::RowVectorXd mean = X.colwise().mean();
  for (int trial = 0; trial < 20; ++trial) {
    Eigen::RowVectorXd shift(3);
    for (Index j = 0; j < 3; ++j) shift(j) = rng.normal(0.0, 0.1);
    const RowMatrix<double> R = X.rowwise() - (mean + shift);
    // ‖X − 1(x̄+δ)ᵀ‖_F² = ‖res‖_F² + n‖δ‖² exactly; rounding of the two norms is
    // <= γ_{2·21}·‖X‖_F, so demand the increase only beyond that.
    EXPECT_GT(R.norm(), best - higham_gamma(42, kUnit) * X.norm()) << trial;
    EXPECT_NEAR(R.squaredNorm(), best * best + 7 * shift.squaredNorm(),
                higham_gamma(42, kUnit) * X.squaredNorm() * 4);
  }
}

TEST(RankCollapse, ResidualDecreasesOverLayersForGenericInstances) {
  for (std::uint64_t seed : {1ULL, 2ULL, 3ULL}) {
    SCOPED_TRACE("seed=" + std::to_string(seed));
    Rng rng(seed);
    const Index n = 12, d = 8;
    const RowMatrix<double> X0 = random_matrix(rng, n, d);
    RankCollapseOptions opt;
    opt.layers = 8;
    opt.seed = seed;
    const RankCollapseTrace t = rank_collapse(X0, opt);
    ASSERT_EQ(t.residual.size(), 9u);
    ASSERT_EQ(t.relative_residual.size(), 9u);
    ASSERT_EQ(t.residual_l1_inf.size(), 9u);
    std::cout << "[ info ] seed " << seed << " relative residual per layer:";
    for (double r : t.relative_residual) std::cout << ' ' << r;
    std::cout << '\n';
    // Below ~n·d·u relative the residual is rounding noise of the mean subtraction and the
    // products (γ_{n·d} of ‖X‖), where "decreasing" has no meaning; above it, each layer
    // must shrink the relative residual.
    const double floor = higham_gamma(n * d, kUnit);
    for (std::size_t l = 0; l + 1 < t.relative_residual.size(); ++l) {
      if (t.relative_residual[l] <= floor) break;
      EXPECT_LT(t.relative_residual[l + 1], t.relative_residual[l]) << "layer " << l;
    }
    // Collapse, not mere decrease: after 8 layers the tokens agree to well below 1e-3 of ‖X‖
    // (the doubly exponential rate of Dong et al. reaches rounding level within ~5 layers).
    EXPECT_LT(t.relative_residual.back(), 1e-3 * t.relative_residual.front());
  }
}

TEST(RankCollapse, SameSeedGivesIdenticalTraceAndExplicitWeightsMatch) {
  const std::uint64_t seed = 77;
  SCOPED_TRACE("seed=" + std::to_string(seed));
  Rng rng(seed);
  const RowMatrix<double> X0 = random_matrix(rng, 6, 4);
  RankCollapseOptions opt;
  opt.layers = 3;
  opt.head_dim = 2;
  opt.seed = seed;
  const auto a = rank_collapse(X0, opt);
  const auto b = rank_collapse(X0, opt);
  EXPECT_EQ(a.residual, b.residual);
  const auto layers = random_attention_layers(3, 4, 2, 1.0, seed);
  const auto c = rank_collapse(X0, layers);
  EXPECT_EQ(a.residual, c.residual);
  // Layer by layer with pure_attention_layer gives the same numbers.
  RowMatrix<double> X = X0;
  for (std::size_t l = 0; l < layers.size(); ++l) {
    X = pure_attention_layer(X, layers[l]);
    EXPECT_EQ(rank_collapse_residual(X), a.residual[l + 1]) << l;
  }
  // Zero layers: only the input's residual.
  EXPECT_EQ(rank_collapse(X0, std::span<const AttentionLayerWeights>{}).residual.size(), 1u);
}

TEST(RankCollapse, BadInputIsRejected) {
  EXPECT_THROW(rank_collapse_residual(RowMatrix<double>(0, 3)), std::invalid_argument);
  RowMatrix<double> X = RowMatrix<double>::Ones(3, 2);
  X(1, 1) = std::numeric_limits<double>::quiet_NaN();
  EXPECT_THROW(rank_collapse_residual(X), std::domain_error);
  EXPECT_THROW(rank_collapse(X, RankCollapseOptions{}), std::domain_error);
  const RowMatrix<double> Y = RowMatrix<double>::Ones(3, 2);
  RankCollapseOptions bad;
  bad.weight_scale = 0.0;
  EXPECT_THROW(rank_collapse(Y, bad), std::invalid_argument);
  bad = {};
  bad.layers = -1;
  EXPECT_THROW(rank_collapse(Y, bad), std::invalid_argument);
  bad = {};
  bad.head_dim = -2;
  EXPECT_THROW(rank_collapse(Y, bad), std::invalid_argument);
  AttentionLayerWeights w = random_attention_layers(1, 3, 2, 1.0, 1).front();  // d = 3 ≠ 2
  EXPECT_THROW(pure_attention_layer(Y, w), std::invalid_argument);
  EXPECT_THROW(random_attention_layers(1, 0, 2, 1.0, 1), std::invalid_argument);
}

}  // namespace
}  // namespace attncert
