// RationalMatrix: exact conversion of doubles and exact balls, exact products, row
// normalisation and rank — against matrices of known rank, including ones a floating SVD cannot
// tell apart from rank-deficient ones.
#include "numerics/rational_matrix.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include "numerics/rng.hpp"
#include "numerics/spectral.hpp"

namespace attncert {
namespace {

constexpr std::uint64_t kSeed = 20261203;

// The LAPACK numerical rank of a double matrix: σ_k > max(rows, cols)·ε·σ₁.
long numerical_rank(const RowMatrix<double>& a) {
  const std::vector<double> sigma = singular_values(a);
  const double tol = static_cast<double>(std::max(a.rows(), a.cols())) *
                     std::numeric_limits<double>::epsilon() * sigma.front();
  long k = 0;
  while (k < static_cast<long>(sigma.size()) && sigma[static_cast<std::size_t>(k)] > tol) ++k;
  return k;
}

TEST(RationalMatrix, EntriesOneUlpApartKeepFullRankWhereTheSvdSeesRankOne) {
  const double tiny = std::ldexp(1.0, -50);
  RowMatrix<double> a(2, 2);
  a << 1, 1, 1, 1 + tiny;  // det = 2^-50 exactly
  EXPECT_EQ(RationalMatrix::from_doubles(a).rank(), 2);
  // The double SVD cannot separate σ₂ ≈ 2^-51 from rounding noise: it calls this rank 1.
  EXPECT_EQ(numerical_rank(a), 1);
  a(1, 1) = 1;
  EXPECT_EQ(RationalMatrix::from_doubles(a).rank(), 1);
}

TEST(RationalMatrix, SubnormalsAndZeroConvertExactly) {
  RowMatrix<double> a(1, 2);
  a << std::numeric_limits<double>::denorm_min(), 0;
  const RationalMatrix r = RationalMatrix::from_doubles(a);
  EXPECT_EQ(r.rank(), 1);
  EXPECT_EQ(r.entry(0, 0, 64).mid(), std::numeric_limits<double>::denorm_min());
  EXPECT_TRUE(r.entry(0, 0, 64).is_exact());
  EXPECT_TRUE(r.entry(0, 1, 64).is_zero());
  EXPECT_EQ(RationalMatrix::from_doubles(RowMatrix<double>::Zero(3, 3)).rank(), 0);
  EXPECT_EQ(RationalMatrix(0, 4).rank(), 0);
}

// B = [I_r; G] (n×r) and C = [I_r; H] (n×r) with Gaussian G, H: B·Cᵀ has I_r as its leading
// block (rank ≥ r) and factors through ℝ^r (rank ≤ r), so its rank is exactly r. Gaussian
// doubles carry 53-bit mantissas, so the exact product has large denominators.
TEST(RationalMatrix, ProductThroughRankRHasExactlyRankR) {
  RecordProperty("seed", std::to_string(kSeed));
  SCOPED_TRACE(::testing::Message() << "seed " << kSeed);
  Rng rng(kSeed);
  for (int trial = 0; trial < 20; ++trial) {
    const Eigen::Index n = 2 + static_cast<Eigen::Index>(rng.below(23));
    const Eigen::Index r = 1 + static_cast<Eigen::Index>(rng.below(static_cast<std::uint64_t>(n)));
    RowMatrix<double> B = RowMatrix<double>::Zero(n, r), C = RowMatrix<double>::Zero(n, r);
    for (Eigen::Index i = 0; i < n; ++i) {
      for (Eigen::Index k = 0; k < r; ++k) {
        B(i, k) = i < r ? double(i == k) : rng.normal();
        C(i, k) = i < r ? double(i == k) : rng.normal();
      }
    }
    SCOPED_TRACE(::testing::Message() << "n " << n << ", r " << r);
    const RationalMatrix A = RationalMatrix::from_doubles(B).times_transpose(RationalMatrix::from_doubles(C));
    ASSERT_EQ(A.rows(), n);
    ASSERT_EQ(A.cols(), n);
    EXPECT_EQ(A.rank(), r);
  }
}

TEST(RationalMatrix, DuplicateRowsLowerTheRankByOne) {
  RecordProperty("seed", std::to_string(kSeed));
  Rng rng(kSeed + 1);
  RowMatrix<double> a(5, 5);
  for (Eigen::Index i = 0; i < a.size(); ++i) a.data()[i] = rng.normal();
  // Make rows 0..3 the identity's so that the rank of the rest is known exactly.
  a.topRows(4).setZero();
  for (Eigen::Index i = 0; i < 4; ++i) a(i, i) = 1;
  a(4, 4) = 0.5;  // rows: e0..e3 and a vector with a nonzero last entry: rank 5
  EXPECT_EQ(RationalMatrix::from_doubles(a).rank(), 5);
  a.row(4) = a.row(2);
  EXPECT_EQ(RationalMatrix::from_doubles(a).rank(), 4);
}

TEST(RationalMatrix, RowNormalisationIsExactAndKeepsTheRank) {
  RowMatrix<double> a(3, 3);
  a << 1, 2, 3,  //
      0.1, 0.2, 0.3,  // a multiple of row 0 in the reals, not in doubles
      -1, 0.5, 7;
  const RationalMatrix r = RationalMatrix::from_doubles(a);
  EXPECT_EQ(r.rank(), 3);         // the double 0.3 is not 3 × the double 0.1
  EXPECT_EQ(numerical_rank(a), 2);  // σ₃ ~ 1e-17 is below the SVD's noise level
  const RationalMatrix n = r.row_normalised();
  EXPECT_EQ(n.rank(), r.rank());
  for (Eigen::Index i = 0; i < 3; ++i) {
    Ball s(0);
    for (Eigen::Index j = 0; j < 3; ++j) s += n.entry(i, j, 256);
    EXPECT_TRUE(s.contains(1.0)) << s;
    EXPECT_LT(s.radius(), 1e-70);  // three entries rounded at 256 bits
  }
  // 1/3 is not dyadic: its ball at 64 bits is an enclosure, not a point.
  EXPECT_FALSE(RationalMatrix::from_doubles(RowMatrix<double>::Ones(1, 3)).row_normalised().entry(0, 0, 64).is_exact());
}

TEST(RationalMatrix, ZeroRowSumIsDecidedExactlyAndRefusedByNormalisation) {
  const double tiny = std::ldexp(1.0, -60);
  RowMatrix<double> a(2, 3);
  a << 1, -1, 0,  // sums to exactly 0
      1, -1, tiny;  // sums to 2^-60, not 0
  const RationalMatrix r = RationalMatrix::from_doubles(a);
  EXPECT_TRUE(r.row_sum_is_zero(0));
  EXPECT_FALSE(r.row_sum_is_zero(1));
  EXPECT_THROW((void)r.row_normalised(), std::domain_error);
}

TEST(RationalMatrix, RefusesValuesThatAreNotOneRational) {
  RowMatrix<double> nan(1, 1);
  nan << std::numeric_limits<double>::quiet_NaN();
  EXPECT_THROW((void)RationalMatrix::from_doubles(nan), std::domain_error);
  RowMatrix<double> inf(1, 1);
  inf << std::numeric_limits<double>::infinity();
  EXPECT_THROW((void)RationalMatrix::from_doubles(inf), std::domain_error);
  RowMatrix<Ball> wide(1, 1);
  wide(0, 0) = Ball::interval(1, 2, 64);
  EXPECT_THROW((void)RationalMatrix::from_exact_balls(wide), std::domain_error);
  RowMatrix<Ball> third(1, 1);
  third(0, 0) = Ball(1, 64) / Ball(3, 64);  // rounded: radius > 0
  EXPECT_THROW((void)RationalMatrix::from_exact_balls(third), std::domain_error);
  EXPECT_THROW((void)RationalMatrix(2, 3).times_transpose(RationalMatrix(2, 2)), std::invalid_argument);
}

}  // namespace
}  // namespace attncert
