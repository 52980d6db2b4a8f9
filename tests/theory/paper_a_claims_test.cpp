// The evaluators of paper A's claims that compute something non-obvious: A.thm2's exact
// expectation (Gray-code enumeration) and A.lemma2's dual-number derivative, each against a
// direct computation written here.
#include <gtest/gtest.h>

#include <cmath>
#include <numeric>
#include <string>

#include "numerics/ball.hpp"
#include "numerics/rng.hpp"
#include "theory/catalog.hpp"

namespace attncert {
namespace {

constexpr std::uint64_t kSeed = 20250817;

RowMatrix<double> random_matrix(Rng& rng, Eigen::Index rows, Eigen::Index cols, double sd) {
  RowMatrix<double> m(rows, cols);
  for (Eigen::Index i = 0; i < m.size(); ++i) m.data()[i] = rng.normal(0, sd);
  return m;
}

// N·2^{N−1}·E[N_s]/N by brute force (an integer: the number of (i, pattern) pairs inside the
// ball): every one of the 2^{N−1} sign patterns of I_N∖{i}, ‖R_i‖ recomputed from scratch, no
// symmetry used.
std::uint64_t brute_force_count(const Instance& x) {
  const auto& l = x.array("logits");
  const auto& W = x.array("W");
  const auto n = static_cast<std::size_t>(x.scalar("N"));
  const double M = x.scalar("M"), r = x.scalar("rho") * M;
  std::vector<double> alpha(static_cast<std::size_t>(l.size()));
  const double lmax = l.maxCoeff();
  double s = 0;
  for (std::size_t i = 0; i < alpha.size(); ++i) s += alpha[i] = std::exp(l.data()[i] - lmax);
  for (double& a : alpha) a /= s;
  std::vector<std::size_t> idx(alpha.size());
  std::iota(idx.begin(), idx.end(), 0);
  std::stable_sort(idx.begin(), idx.end(), [&](auto a, auto b) { return l.data()[a] > l.data()[b]; });
  idx.resize(n);
  std::uint64_t inside = 0;
  for (std::size_t i : idx) {
    std::vector<std::size_t> rest;
    for (std::size_t j : idx) {
      if (j != i) rest.push_back(j);
    }
    const std::uint64_t patterns = std::uint64_t{1} << rest.size();
    for (std::uint64_t p = 0; p < patterns; ++p) {
      Eigen::RowVectorXd R = Eigen::RowVectorXd::Zero(W.cols());
      for (std::size_t t = 0; t < rest.size(); ++t) {
        const double sign = (p >> t) & 1 ? -1.0 : 1.0;
        R += sign * alpha[rest[t]] * M * W.row(static_cast<Eigen::Index>(rest[t]));
      }
      if (R.norm() <= r) ++inside;
    }
  }
  return inside;
}

TEST(PaperAThm2, ExactExpectationMatchesBruteForceEnumeration) {
  RecordProperty("seed", std::to_string(kSeed));
  SCOPED_TRACE(::testing::Message() << "seed " << kSeed);
  Rng rng(kSeed);
  const Claim& thm2 = catalog_claim("A.thm2");
  for (int trial = 0; trial < 20; ++trial) {
    Instance x;
    const long L = 1 + static_cast<long>(rng.below(10));
    const long N = 1 + static_cast<long>(rng.below(static_cast<std::uint64_t>(std::min(L, 8L))));
    const long d = 1 + static_cast<long>(rng.below(4));
    x.scalars = {{"L", double(L)}, {"N", double(N)}, {"d", double(d)}, {"M", 2.0},
                 {"rho", rng.uniform(0.02, 0.6)}};
    x.arrays["logits"] = random_matrix(rng, 1, L, 1.0);
    RowMatrix<double> W = random_matrix(rng, L, d, 1.0);
    for (Eigen::Index i = 0; i < W.rows(); ++i) W.row(i) /= W.row(i).norm();
    x.arrays["W"] = W;
    SCOPED_TRACE(x.describe());
    const std::uint64_t count = brute_force_count(x);
    const double denominator = static_cast<double>(N) * std::ldexp(1.0, static_cast<int>(N - 1));
    // Both are counts of decided events over N·2^{N−1} (the claim halves both by symmetry):
    // equal unless an event sits within rounding of the boundary, which these random draws do
    // not produce; the double quotient is correctly rounded on both sides, so it must agree to
    // the last bit.
    const auto sides = thm2.evaluate_double(x);
    ASSERT_EQ(sides.size(), 1u);
    EXPECT_EQ(sides[0].lhs, static_cast<double>(count) / denominator);
    // Ball: the enclosure times the (exact) denominator must contain the exact integer count.
    const auto balls = thm2.evaluate_ball(x, 128);
    const Ball scaled = balls[0].lhs * Ball(denominator);
    EXPECT_TRUE(scaled.contains(static_cast<double>(count))) << scaled.str() << " vs " << count;
    // The bound's ξ_i² = Σ_{j∈I_N∖{i}} α_j² M² ‖w_j‖² makes rhs <= 1, and the theorem holds.
    EXPECT_LE(sides[0].rhs, 1.0);
    EXPECT_GE(sides[0].lhs, sides[0].rhs);
  }
}

TEST(PaperALemma2, DualDerivativeAgreesWithCentralDifferenceAndFormula) {
  RecordProperty("seed", std::to_string(kSeed));
  SCOPED_TRACE(::testing::Message() << "seed " << kSeed);
  Rng rng(kSeed + 1);
  for (const char* id : {"A.lemma2-exp", "A.lemma2-softplus", "A.lemma2-sigmoid", "A.lemma2-power"}) {
    SCOPED_TRACE(id);
    const Claim& c = catalog_claim(id);
    const long L = 4;
    Instance x;
    x.scalars = {{"L", double(L)}, {"T", 0.7}, {"c", 0.3}, {"a", 2.0}, {"p", 1.5}};
    RowMatrix<double> u(1, L);
    for (Eigen::Index i = 0; i < L; ++i) u(0, i) = rng.uniform(-1, 1);
    x.arrays[std::string(id) == "A.lemma2-power" ? "u" : "logits"] = u;
    // Ball: the formula and the dual derivative enclose the same numbers.
    for (const auto& s : c.evaluate_ball(x, 128)) {
      EXPECT_TRUE(s.lhs.overlaps(s.rhs)) << s.name << ": " << s.lhs.str() << " vs " << s.rhs.str();
    }
    // Double: both sides' entry ∂α_i/∂l_k against a central difference of α computed here
    // directly from F.
    // Truncation h²·|α'''|/6 <= 1e-10·O(1) and rounding u/h ≈ 1e-11 for these O(1) logits with
    // h = 1e-5: 1e-7 absolute is a safe margin that still catches any wrong derivative.
    const double h = 1e-5;
    auto alpha = [&](std::vector<double> l) {
      auto F = [&](double v) {
        const std::string s = id;
        if (s == "A.lemma2-exp") return std::exp(v / 0.7);
        if (s == "A.lemma2-softplus") return std::log1p(std::exp(v)) + 0.3;
        if (s == "A.lemma2-sigmoid") return 1 / (1 + std::exp(-v));
        return std::pow(v + 3.0, 1.5);
      };
      double sum = 0;
      for (double& v : l) sum += v = F(v);
      for (double& v : l) v /= sum;
      return l;
    };
    std::vector<double> l(static_cast<std::size_t>(L));
    const double scale = std::string(id) == "A.lemma2-power" ? 2.0 : 1.0;  // l = a·u for power
    for (Eigen::Index i = 0; i < L; ++i) l[static_cast<std::size_t>(i)] = scale * u(0, i);
    const auto sides = c.evaluate_double(x);
    ASSERT_EQ(sides.size(), static_cast<std::size_t>(L * L));
    for (long k = 0; k < L; ++k) {
      auto lp = l, lm = l;
      lp[static_cast<std::size_t>(k)] += h;
      lm[static_cast<std::size_t>(k)] -= h;
      const auto ap = alpha(lp), am = alpha(lm);
      for (long i = 0; i < L; ++i) {
        const double fd = (ap[static_cast<std::size_t>(i)] - am[static_cast<std::size_t>(i)]) / (2 * h);
        const auto& s = sides[static_cast<std::size_t>(k * L + i)];  // column-major: k outer
        EXPECT_NEAR(s.rhs, fd, 1e-7) << s.name;
        EXPECT_NEAR(s.lhs, fd, 1e-7) << s.name;
      }
    }
  }
}

}  // namespace
}  // namespace attncert
