// C.rank-linear, C.rank-softmax, C.rank-collapse: exact ranks of instances built to have a known
// rank, vacuity where the shape alone bounds the rank, degenerate instances, side families and
// the a-priori bound behind the quadratic side's vacuity.
#include <gtest/gtest.h>

#include <cmath>
#include <stdexcept>
#include <string>

#include "numerics/ball.hpp"
#include "numerics/rng.hpp"
#include "proofs_checks/certificate.hpp"
#include "theory/catalog.hpp"

namespace attncert {
namespace {

constexpr std::uint64_t kSeed = 20261203;

Instance linear_instance(long map, const RowMatrix<double>& Q, const RowMatrix<double>& K) {
  Instance x;
  x.scalars = {{"n", double(Q.rows())}, {"d", double(Q.cols())}, {"map", double(map)}};
  x.arrays = {{"Q", Q}, {"K", K}};
  return x;
}

// n×3 rows: the given leading rows, then rows of Uniform[0.5, 2) entries; `tie` sets column 2
// equal to column 0 in the random rows (a rank-2 span with the leading rows below).
RowMatrix<double> rows_after(Rng& rng, Eigen::Index n, const RowMatrix<double>& leading, bool tie,
                             double third_sign = 1) {
  RowMatrix<double> m(n, 3);
  m.topRows(leading.rows()) = leading;
  for (Eigen::Index i = leading.rows(); i < n; ++i) {
    for (Eigen::Index c = 0; c < 3; ++c) m(i, c) = rng.uniform(0.5, 2);
    if (tie) m(i, 2) = m(i, 0);
    m(i, 2) *= third_sign;
  }
  return m;
}

RowMatrix<double> identity_rows() {
  RowMatrix<double> e = RowMatrix<double>::Identity(3, 3);
  return e;
}

// Both sides of C.rank-linear as exact balls; the certificate must decide the instance.
void expect_exact_ranks(const Instance& x, double rank, double m) {
  SCOPED_TRACE(x.describe());
  const Claim& c = catalog_claim("C.rank-linear");
  for (const auto& side : c.evaluate_ball(x, 64)) {
    SCOPED_TRACE(side.name);
    EXPECT_TRUE(side.lhs.is_exact()) << side.lhs;
    EXPECT_EQ(side.lhs.mid(), rank);
    EXPECT_EQ(side.rhs.mid(), m);
  }
  for (const auto& side : c.evaluate_double(x)) EXPECT_EQ(side.lhs, rank) << side.name;
  const InstanceCertificate cert = certify_instance(c, x);
  EXPECT_EQ(cert.status, InstanceStatus::Proved) << cert.detail;
  EXPECT_EQ(cert.precision, 64);  // exact: decided at the first precision
}

// Identity map, d = 3 = m, n = 8: Q spans exactly 2 dimensions ((1, 0, 1), (0, 1, 0) and rows
// with column 2 = column 0), K contains e1, e2, e3, so rank QKᵀ = rank Q = 2. All entries ≥ 0
// with a positive one per row: every row sum of QKᵀ is > 0.
TEST(RankLinear, IdentityMapRankIsTheConstructedRankOfQ) {
  RecordProperty("seed", std::to_string(kSeed));
  SCOPED_TRACE(::testing::Message() << "seed " << kSeed);
  Rng rng(kSeed);
  RowMatrix<double> q_lead(2, 3);
  q_lead << 1, 0, 1, 0, 1, 0;
  const RowMatrix<double> Q = rows_after(rng, 8, q_lead, true);
  const RowMatrix<double> K = rows_after(rng, 8, identity_rows(), false);
  expect_exact_ranks(linear_instance(0, Q, K), 2, 3);
}

// Rows 1 and 1 + 2^-50 apart: Q has rank exactly 2 (one row (1, 1, 1), one (1, 1 + 2^-50, 1),
// the rest copies of the first), which a double SVD cannot tell from rank 1.
TEST(RankLinear, RowsOneUlpApartCountAsIndependent) {
  RecordProperty("seed", std::to_string(kSeed));
  Rng rng(kSeed + 1);
  RowMatrix<double> Q = RowMatrix<double>::Ones(6, 3);
  Q(1, 1) = 1 + std::ldexp(1.0, -50);
  const RowMatrix<double> K = rows_after(rng, 6, identity_rows(), false);
  expect_exact_ranks(linear_instance(0, Q, K), 2, 3);
}

// ReLU zeroes Q's third column (all < 0), leaving φ(Q) of rank 2 ((1, 0), (0, 1) lead); K > 0
// is its own feature matrix and contains e1, e2, e3: rank = 2.
TEST(RankLinear, ReluZeroColumnLowersTheRank) {
  RecordProperty("seed", std::to_string(kSeed));
  Rng rng(kSeed + 2);
  RowMatrix<double> q_lead(2, 3);
  q_lead << 1, 0, -1, 0, 1, -1;
  const RowMatrix<double> Q = rows_after(rng, 7, q_lead, false, -1);
  const RowMatrix<double> K = rows_after(rng, 7, identity_rows(), false);
  expect_exact_ranks(linear_instance(1, Q, K), 2, 3);
}

// Taylor-2 (map 2) at d = 1: A_ij = 1 + s + s²/2, s = q_i k_j, i.e. V_q diag(1, 1, ½) V_kᵀ with
// Vandermonde V = [1, x, x²]: rank = min(3, distinct q's, distinct k's), m = 1 + 1 + 1 = 3.
TEST(RankLinear, Taylor2RankIsTheNumberOfDistinctTokensUpToThree) {
  RowMatrix<double> K(6, 1);
  K << -1.5, -0.25, 0.125, 0.5, 1, 3;
  RowMatrix<double> Q(6, 1);
  Q << 0.75, -2, 0.75, 0.75, -2, 0.75;  // two distinct values
  expect_exact_ranks(linear_instance(2, Q, K), 2, 3);
  Q(2, 0) = 0.75 + std::ldexp(1.0, -52);  // three
  expect_exact_ranks(linear_instance(2, Q, K), 3, 3);
}

// rank ≤ n for an n×n matrix whatever φ is: with m ≥ n the bound says nothing (vacuous), n = m
// = 1 included; with n > m it does.
TEST(RankLinear, VacuousExactlyWhenTheFeatureDimensionReachesN) {
  RecordProperty("seed", std::to_string(kSeed));
  Rng rng(kSeed + 3);
  const Claim& c = catalog_claim("C.rank-linear");
  const RowMatrix<double> K8 = rows_after(rng, 8, identity_rows(), false);
  const RowMatrix<double> Q8 = rows_after(rng, 8, RowMatrix<double>(0, 3), false);
  const InstanceCertificate informative = certify_instance(c, linear_instance(0, Q8, K8));
  ASSERT_EQ(informative.status, InstanceStatus::Proved) << informative.detail;
  EXPECT_FALSE(informative.vacuous());
  const InstanceCertificate square = certify_instance(c, linear_instance(0, Q8.topRows(3), K8.topRows(3)));
  ASSERT_EQ(square.status, InstanceStatus::Proved) << square.detail;
  EXPECT_TRUE(square.vacuous());
  RowMatrix<double> one(1, 1);
  one << 0.5;
  const InstanceCertificate single = certify_instance(c, linear_instance(0, one, one));
  ASSERT_EQ(single.status, InstanceStatus::Proved) << single.detail;
  EXPECT_TRUE(single.vacuous());
}

TEST(RankLinear, ZeroRowSumIsInadmissible) {
  RowMatrix<double> Q(2, 1), K(2, 1);
  Q << 1, 2;
  K << 1, -1;  // every row of QKᵀ sums to q_i·0
  const InstanceCertificate cert = certify_instance(catalog_claim("C.rank-linear"), linear_instance(0, Q, K));
  EXPECT_EQ(cert.status, InstanceStatus::Inadmissible);
}

TEST(RankSoftmax, OneTokenIsDegenerate) {
  const Claim& c = catalog_claim("C.rank-softmax");
  Instance x;
  x.scalars = {{"n", 1}, {"d", 2}};
  x.arrays = {{"Q", RowMatrix<double>::Ones(1, 2)}, {"K", RowMatrix<double>::Ones(1, 2)}};
  EXPECT_NE(c.degenerate_reason(x), "");
  RowMatrix<double> Q(2, 2);
  Q << 1, 0, 0, 1;
  x.scalars["n"] = 2;
  x.arrays = {{"Q", Q}, {"K", Q}};
  EXPECT_EQ(c.degenerate_reason(x), "");
}

Instance collapse_instance(Rng& rng, Eigen::Index n, Eigen::Index d, long layers, double scale,
                           double x_scale) {
  Instance x;
  x.scalars = {{"n", double(n)}, {"d", double(d)}, {"layers", double(layers)}, {"weight_scale", scale},
               {"seed", double(rng.below(1000000))}};
  RowMatrix<double> X(n, d);
  for (Eigen::Index i = 0; i < X.size(); ++i) X.data()[i] = x_scale * rng.normal();
  x.arrays = {{"X", X}};
  return x;
}

TEST(RankCollapse, LayerSidesShareOneFamilyPerInequality) {
  RecordProperty("seed", std::to_string(kSeed));
  Rng rng(kSeed + 4);
  const auto sides = catalog_claim("C.rank-collapse").evaluate_ball(collapse_instance(rng, 4, 3, 3, 1, 1), 64);
  ASSERT_EQ(sides.size(), 9u);
  const char* families[] = {"contraction", "dobrushin", "quadratic"};
  for (std::size_t k = 0; k < sides.size(); ++k) {
    EXPECT_EQ(sides[k].family, families[k % 3]) << sides[k].name;
    EXPECT_NE(sides[k].name.find(families[k % 3]), std::string::npos) << sides[k].name;
  }
}

TEST(RankCollapse, EqualTokensAreDegenerate) {
  RecordProperty("seed", std::to_string(kSeed));
  Rng rng(kSeed + 5);
  const Claim& c = catalog_claim("C.rank-collapse");
  Instance x = collapse_instance(rng, 5, 2, 2, 1, 1);
  EXPECT_EQ(c.degenerate_reason(x), "");
  RowMatrix<double>& X = x.arrays.at("X");
  for (Eigen::Index i = 1; i < X.rows(); ++i) X.row(i) = X.row(0);
  EXPECT_NE(c.degenerate_reason(x), "");
  EXPECT_NE(c.degenerate_reason(collapse_instance(rng, 1, 3, 2, 1, 1)), "");
}

// The quadratic side's a-priori bound ‖W_V‖_F·osc(X_l) must hold on every instance (else calling
// a side vacuous would hide a failure); it makes the side vacuous for large tokens and weights
// (spread·osc ≥ 1) and not for small ones.
TEST(RankCollapse, QuadraticSideIsVacuousOnlyWhereTheContractionBoundIsSmaller) {
  RecordProperty("seed", std::to_string(kSeed));
  SCOPED_TRACE(::testing::Message() << "seed " << kSeed);
  Rng rng(kSeed + 6);
  const Claim& c = catalog_claim("C.rank-collapse");
  int checked = 0;
  for (int trial = 0; trial < 20; ++trial) {
    const Instance x = collapse_instance(rng, 2 + static_cast<Eigen::Index>(rng.below(6)),
                                         1 + static_cast<Eigen::Index>(rng.below(4)),
                                         1 + static_cast<long>(rng.below(3)), rng.uniform(0.1, 3),
                                         rng.uniform(0.1, 3));
    SCOPED_TRACE(x.describe());
    // Certified, so every enclosure is finite (a collapsed osc is √ of a ball around 0, NaN at
    // a low precision).
    const InstanceCertificate cert = certify_instance(c, x);
    if (cert.status != InstanceStatus::Proved) continue;
    ++checked;
    for (const auto& side : cert.sides) {
      if (side.family != "quadratic") continue;
      ASSERT_TRUE(side.a_priori.has_value()) << side.name;
      EXPECT_TRUE(certainly(side.lhs <= *side.a_priori)) << side.name << ": " << side.lhs << " vs "
                                                         << *side.a_priori;
    }
  }
  EXPECT_GE(checked, 15);
  auto first_quadratic = [&](const Instance& x) {
    const InstanceCertificate cert = certify_instance(c, x);
    EXPECT_EQ(cert.status, InstanceStatus::Proved) << cert.detail;
    for (const auto& s : cert.sides) {
      if (s.family == "quadratic") return s;
    }
    throw std::runtime_error("no quadratic side");
  };
  EXPECT_TRUE(first_quadratic(collapse_instance(rng, 4, 3, 1, 3, 10)).vacuous());
  EXPECT_FALSE(first_quadratic(collapse_instance(rng, 4, 3, 1, 0.1, 1e-3)).vacuous());
}

}  // namespace
}  // namespace attncert
