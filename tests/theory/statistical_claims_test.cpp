// The statistical claims' verdict semantics: a-priori bounds that mark vacuous instances
// (B.separation, B.selfattn), how each claim's confidence intervals are labelled, and the
// Performer intervals checked as two inequality sides (not an identity) whose tightness is
// |value − mean|/half-width.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "proofs_checks/certificate.hpp"
#include "theory/catalog.hpp"

namespace attncert {
namespace {

const SideEnclosure& side(const InstanceCertificate& cert, const std::string& name) {
  for (const SideEnclosure& s : cert.sides) {
    if (s.name == name) return s;
  }
  throw std::runtime_error("no side " + name);
}

Instance separation_instance(double n, double tau) {
  Instance x;
  x.scalars = {{"n", n}, {"tau", tau}, {"mc_seed", 7}};
  RowMatrix<double> s(1, static_cast<Eigen::Index>(n));
  for (Eigen::Index j = 0; j < s.size(); ++j) s(0, j) = 0.1 * static_cast<double>(j % 5) - 0.2;
  x.arrays["s"] = s;
  return x;
}

TEST(StatisticalClaims, SeparationIsVacuousExactlyWhereHoeffdingsBoundReachesOne) {
  // 2e^{−τ²/2} ≥ 1 ⇔ τ ≤ √(2 ln 2) = 1.1774: τ = 1.17 is vacuous, τ = 1.18 is not — for the
  // exact enumeration (n = 6) and for Monte Carlo (n = 20).
  for (const double n : {6.0, 20.0}) {
    SCOPED_TRACE(separation_instance(n, 1.17).describe());  // n and the Monte Carlo seed mc_seed
    const InstanceCertificate low =
        certify_instance(catalog_claim("B.separation"), separation_instance(n, 1.17));
    const InstanceCertificate high =
        certify_instance(catalog_claim("B.separation"), separation_instance(n, 1.18));
    ASSERT_EQ(low.status, InstanceStatus::Proved);
    ASSERT_EQ(high.status, InstanceStatus::Proved);
    EXPECT_TRUE(low.vacuous());
    EXPECT_FALSE(high.vacuous());
    EXPECT_EQ(low.sides[0].family, "hoeffding");  // one family for enumeration and Monte Carlo
  }
}

Instance selfattn_instance(double d, double n, double t, double delta) {
  Instance x;
  x.scalars = {{"d", d}, {"n", n}, {"t", t}, {"delta", delta}, {"mc_seed", 3}};
  return x;
}

TEST(StatisticalClaims, SelfAttnAllPairsSideIsVacuousWhenTheThresholdExceedsOne) {
  const Claim& sa = catalog_claim("B.selfattn");
  // d = 4, n = 16, δ = 0.01: t* = √(2 ln(24000)/4) ≈ 2.25 > 1 ≥ every |⟨a_i, a_j⟩|.
  const InstanceCertificate small_d = certify_instance(sa, selfattn_instance(4, 16, 0.9, 0.01));
  ASSERT_EQ(small_d.status, InstanceStatus::Proved);
  EXPECT_TRUE(side(small_d, "all pairs (Monte Carlo)").vacuous());
  // d·t² = 3.24 > 2 ln 2: the one-pair bound 2e^{−1.62} ≈ 0.40 is informative.
  EXPECT_FALSE(side(small_d, "one pair (exact)").vacuous());
  EXPECT_FALSE(small_d.vacuous());
  // d = 40, n = 2, δ = 0.3: t* = √(2 ln(6.67)/40) ≈ 0.31 < 1, the event is possible.
  const InstanceCertificate large_d = certify_instance(sa, selfattn_instance(40, 2, 0.5, 0.3));
  ASSERT_EQ(large_d.status, InstanceStatus::Proved);
  EXPECT_FALSE(side(large_d, "all pairs (Monte Carlo)").vacuous());
}

TEST(StatisticalClaims, SelfAttnOnePairSideIsVacuousWhenItsBoundReachesOne) {
  // d·t² ≤ 2 ln 2 = 1.386 ⇔ 2e^{−dt²/2} ≥ 1. d = 1 is vacuous for every t ≤ 1; so is the whole
  // instance there, since t* = √(2 ln(n(n−1)/δ)) > 1 too.
  const InstanceCertificate d1 =
      certify_instance(catalog_claim("B.selfattn"), selfattn_instance(1, 4, 1.0, 0.1));
  ASSERT_EQ(d1.status, InstanceStatus::Proved);
  EXPECT_TRUE(side(d1, "one pair (exact)").vacuous());
  EXPECT_TRUE(d1.vacuous());
  const InstanceCertificate d5 =
      certify_instance(catalog_claim("B.selfattn"), selfattn_instance(5, 4, 0.5, 0.1));
  EXPECT_TRUE(side(d5, "one pair (exact)").vacuous());  // 5·0.25 = 1.25 ≤ 1.386
  const InstanceCertificate d6 =
      certify_instance(catalog_claim("B.selfattn"), selfattn_instance(6, 4, 0.5, 0.1));
  EXPECT_FALSE(side(d6, "one pair (exact)").vacuous());  // 1.5 > 1.386
}

TEST(StatisticalClaims, IntervalMethodsSayWhetherCoverageIsExactOrAsymptotic) {
  for (const char* id : {"B.separation", "B.selfattn"}) {
    const std::string method = catalog_claim(id).info().interval_method;
    EXPECT_NE(method.find("Clopper–Pearson"), std::string::npos) << id << ": " << method;
    EXPECT_NE(method.find("exact"), std::string::npos) << id << ": " << method;
  }
  for (const char* id : {"C.performer-unbiased", "C.performer-mse"}) {
    const std::string method = catalog_claim(id).info().interval_method;
    EXPECT_NE(method.find("Student t"), std::string::npos) << id << ": " << method;
    EXPECT_NE(method.find("asymptotic"), std::string::npos) << id << ": " << method;
  }
}

Instance performer_instance(std::initializer_list<double> x, std::initializer_list<double> y) {
  Instance inst;
  inst.scalars = {
      {"d", static_cast<double>(x.size())}, {"m", 4}, {"mc_seed", 11}, {"orthogonal", 0}};
  RowMatrix<double> a(1, static_cast<Eigen::Index>(x.size())),
      b(1, static_cast<Eigen::Index>(y.size()));
  Eigen::Index i = 0;
  for (double v : x) a(0, i++) = v;
  i = 0;
  for (double v : y) b(0, i++) = v;
  inst.arrays["x"] = a;
  inst.arrays["y"] = b;
  return inst;
}

TEST(StatisticalClaims, PerformerIntervalsAreInequalitiesNotIdentities) {
  const Instance inst = performer_instance({0.1, -0.2}, {0.15, 0.05});
  for (const char* id : {"C.performer-unbiased", "C.performer-mse"}) {
    SCOPED_TRACE(id);
    const Claim& c = catalog_claim(id);
    Instance x = inst;
    if (std::string(id) == "C.performer-mse") x.scalars.erase("orthogonal");
    SCOPED_TRACE(x.describe());  // the Monte Carlo seed mc_seed is part of the instance
    const InstanceCertificate cert = certify_instance(c, x);
    // A certified interval containing the value is "not rejected", i.e. both sides proved —
    // never "consistent", the status of identities.
    ASSERT_EQ(cert.status, InstanceStatus::Proved) << cert.detail;
    ASSERT_EQ(cert.sides.size(), 2u);
    for (const SideEnclosure& s : cert.sides) {
      EXPECT_NE(s.rel, Relation::Equal) << s.name;
      EXPECT_EQ(s.family, "confidence interval");
    }
    // Tightness |value − mean|/half-width, from the double evaluation: the rhs are mean ∓ half.
    const auto d = c.evaluate_double(x);
    const double mean = (d[0].rhs + d[1].rhs) / 2, half = (d[1].rhs - d[0].rhs) / 2;
    const double expected = std::abs(d[0].lhs - mean) / half;
    // Ball midpoints and double differ by rounding of 2000-term sums (relative ~1e-13); the
    // ratio's numerator is a difference of nearby numbers, so allow 1e-6 relative.
    EXPECT_NEAR(cert.tightness(), expected, 1e-6 * expected + 1e-12);
    EXPECT_LT(cert.tightness(), 1.0);  // proved: the value lies strictly inside the interval
  }
}

TEST(StatisticalClaims, PerformerNeedsAVaryingEstimator) {
  // x + y = 0: every replicate equals e^{xᵀy}, the sample variance is 0 and the t statistic is
  // undefined — outside the test's hypotheses, not a "consistent" instance.
  for (const char* id : {"C.performer-unbiased", "C.performer-mse"}) {
    EXPECT_EQ(catalog_claim(id).admissible(performer_instance({0.1, -0.2}, {-0.1, 0.2}), 64), Tri::False)
        << id;
    EXPECT_EQ(catalog_claim(id).admissible(performer_instance({0.0}, {0.0}), 64), Tri::False) << id;
    EXPECT_EQ(catalog_claim(id).admissible(performer_instance({0.1, -0.2}, {-0.1, 0.1}), 64), Tri::True)
        << id;
  }
}

}  // namespace
}  // namespace attncert
