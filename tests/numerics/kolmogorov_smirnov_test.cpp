// two_sample_ks and kolmogorov_survival against known truth: statistics worked out by hand
// (ties within and across samples included), Q_KS against the classical critical values and
// against 30-digit mpmath sums of the series, p-values recomputed from the Stephens formula by
// hand, and seeded randomised checks of the test's size and power.
#include "numerics/kolmogorov_smirnov.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <iostream>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "numerics/rng.hpp"

namespace attncert {
namespace {

using Sample = std::vector<double>;

void announce_seed(std::uint64_t seed) {
  std::cout << "[ seed ] " << ::testing::UnitTest::GetInstance()->current_test_info()->name()
            << ": Rng seed " << seed << "\n";
  ::testing::Test::RecordProperty("seed", std::to_string(seed));
}

// D and p must not depend on which sample is called a.
KsResult ks_both_ways(const Sample& a, const Sample& b) {
  const KsResult ab = two_sample_ks(a, b), ba = two_sample_ks(b, a);
  EXPECT_EQ(ab.statistic, ba.statistic);
  EXPECT_EQ(ab.p_value, ba.p_value);
  EXPECT_EQ(ab.n_a, ba.n_b);
  EXPECT_EQ(ab.n_b, ba.n_a);
  return ab;
}

// ---- the statistic -------------------------------------------------------------------------

TEST(TwoSampleKs, DisjointSamplesGiveDOne) {
  const KsResult r = ks_both_ways({1, 2, 3}, {4, 5, 6, 7});
  EXPECT_EQ(r.statistic, 1.0);
  EXPECT_EQ(r.n_a, 3u);
  EXPECT_EQ(r.n_b, 4u);
  EXPECT_LT(r.p_value, 1.0);
}

TEST(TwoSampleKs, IdenticalSamplesGiveZeroAndPOne) {
  // Same multiset in a different order, with a tie inside each sample.
  const KsResult r = ks_both_ways({3, 1, 2, 2, 5}, {2, 5, 1, 3, 2});
  EXPECT_EQ(r.statistic, 0.0);
  EXPECT_EQ(r.p_value, 1.0);
}

TEST(TwoSampleKs, SameEmpiricalCdfWithDifferentSizesGivesZero) {
  // F_a = F_b = ½ on [1, 2) and 1 from 2 on. Stepping one draw at a time through the run of 1s
  // in a would show F_a = ¼ or ½ against F_b = 0 and report D ≥ ¼.
  const KsResult r = ks_both_ways({1, 1, 2, 2}, {1, 2});
  EXPECT_EQ(r.statistic, 0.0);
  EXPECT_EQ(r.p_value, 1.0);
}

TEST(TwoSampleKs, NegativeZeroTiesWithZero) {
  EXPECT_EQ(ks_both_ways({-0.0, 1}, {0.0, 1}).statistic, 0.0);
}

TEST(TwoSampleKs, TiesWithinAndAcrossSamples) {
  // a = {1, 2, 2, 2, 5} (n = 5), b = {2, 3, 5, 5} (n = 4), given unsorted:
  //   x = 1: F_a = 1/5, F_b = 0    → 0.20
  //   x = 2: F_a = 4/5, F_b = 1/4  → 0.55   (all three 2s of a and the 2 of b enter together)
  //   x = 3: F_a = 4/5, F_b = 2/4  → 0.30
  //   x = 5: F_a = 1,   F_b = 1    → 0
  // D = 0.55. A walk that let a's run of 2s in before b's 2 would report 4/5 − 0 = 0.8.
  const KsResult r = ks_both_ways({2, 1, 5, 2, 2}, {5, 3, 2, 5});
  EXPECT_DOUBLE_EQ(r.statistic, 0.55);

  // a = {1, 1, 1}, b = {1, 2, 3}: at x = 1, F_a = 1 and F_b = 1/3 → D = 2/3.
  EXPECT_DOUBLE_EQ(ks_both_ways({1, 1, 1}, {1, 2, 3}).statistic, 2.0 / 3.0);
}

// ---- Q_KS ----------------------------------------------------------------------------------

TEST(KolmogorovSurvival, ClassicalCriticalValues) {
  // The tabulated asymptotic critical values K_α with P(K > K_α) = α.
  EXPECT_NEAR(kolmogorov_survival(1.2238), 0.10, 1e-4);
  EXPECT_NEAR(kolmogorov_survival(1.3581), 0.05, 1e-4);
  EXPECT_NEAR(kolmogorov_survival(1.6276), 0.01, 1e-4);
}

TEST(KolmogorovSurvival, MatchesHighPrecisionSeries) {
  // 2 Σ (−1)^{k−1} e^{−2k²λ²} summed by mpmath (nsum, 30 digits); the theta form gives the
  // same digits. 2e-16 absolute ≈ one ulp of 1.
  struct Case {
    double lambda, q;
  };
  for (const Case c : {Case{0.2, 0.99999999999949495927}, Case{0.3, 0.99999069419866543337},
                       Case{0.5, 0.96394524366487509439}, Case{1.0, 0.26999967167735452120},
                       Case{1.18, 0.12345380942976567771}, Case{1.2238, 0.10002342783567781975},
                       Case{1.3581, 0.049999630431667435753}, Case{1.6276, 0.010001537333060768178},
                       Case{2.0, 0.00067092525577969534654}}) {
    EXPECT_NEAR(kolmogorov_survival(c.lambda), c.q, 2e-16) << "λ = " << c.lambda;
  }
  // Deep in the tail only the relative error means anything.
  EXPECT_NEAR(kolmogorov_survival(3.0) / 3.0459959489425256872e-8, 1.0, 1e-14);
}

TEST(KolmogorovSurvival, SeriesFormsAgreeAroundTheSwitch) {
  // Each form is exact mathematics; they can only differ by rounding (~1e-16) or by a bug.
  for (double lambda = 1.0; lambda <= 1.4; lambda += 0.005) {
    EXPECT_NEAR(kolmogorov_survival_theta(lambda), kolmogorov_survival_alternating(lambda), 1e-12)
        << "λ = " << lambda;
  }
  // No jump where kolmogorov_survival changes form (theta just below 1.18, alternating at it).
  EXPECT_NEAR(kolmogorov_survival(std::nextafter(1.18, 0.0)), kolmogorov_survival(1.18), 1e-12);
}

TEST(KolmogorovSurvival, MonotoneDecreasing) {
  double previous = kolmogorov_survival(0.0);
  for (int i = 1; i <= 4000; ++i) {
    const double lambda = i * 1e-3, q = kolmogorov_survival(lambda);
    EXPECT_LE(q, previous) << "λ = " << lambda;
    // Where Q is neither rounded to 1 nor tiny a step of 1e-3 moves it by far more than an ulp.
    if (lambda >= 0.3 && lambda <= 3.0) {
      EXPECT_LT(q, previous) << "λ = " << lambda;
    }
    previous = q;
  }
}

TEST(KolmogorovSurvival, LimitsAtZeroAndInfinity) {
  EXPECT_EQ(kolmogorov_survival(0.0), 1.0);
  EXPECT_EQ(kolmogorov_survival(-1.0), 1.0);
  EXPECT_EQ(kolmogorov_survival(std::numeric_limits<double>::denorm_min()), 1.0);
  EXPECT_EQ(kolmogorov_survival(1e-300), 1.0);
  // 1 − Q(0.17) ≈ 4.3e-18 < 2^-54, so Q rounds to exactly 1 already there.
  EXPECT_EQ(kolmogorov_survival(0.17), 1.0);
  EXPECT_LT(kolmogorov_survival(10.0), 1e-86);  // 2e^{−200} ≈ 2.8e-87
  EXPECT_GT(kolmogorov_survival(10.0), 0.0);
  EXPECT_EQ(kolmogorov_survival(30.0), 0.0);  // 2e^{−1800} underflows
  EXPECT_EQ(kolmogorov_survival(std::numeric_limits<double>::infinity()), 0.0);
}

TEST(KolmogorovSurvival, RejectsNanAndOutOfRangeForms) {
  EXPECT_THROW(kolmogorov_survival(std::numeric_limits<double>::quiet_NaN()), std::domain_error);
  EXPECT_THROW(kolmogorov_survival_alternating(0.4), std::domain_error);
  EXPECT_THROW(kolmogorov_survival_theta(0.0), std::domain_error);
  EXPECT_THROW(kolmogorov_survival_theta(2.5), std::domain_error);
}

// ---- p-values ------------------------------------------------------------------------------

TEST(TwoSampleKs, PValueFromStephensFormula) {
  // a = 1..10, b = 6..20: the gap is largest at x = 10, F_a = 1, F_b = 5/15, so D = 2/3.
  //   n_e = 10·15/25 = 6, √6 = 2.4494897427831781, 0.11/√6 = 0.0449073120177....
  //   λ = (2.4494897427831781 + 0.12 + 0.0449073120177)·(2/3) = 1.742931369822802
  //   p = Q(λ) = 0.0045964438460830183 (2 Σ (−1)^{k−1} e^{−2k²λ²}: 2e^{−6.0756} − 2e^{−24.30} + …)
  Sample a, b;
  for (int x = 1; x <= 10; ++x) a.push_back(x);
  for (int x = 6; x <= 20; ++x) b.push_back(x);
  const KsResult r = ks_both_ways(a, b);
  EXPECT_DOUBLE_EQ(r.statistic, 2.0 / 3.0);
  EXPECT_NEAR(r.p_value, 0.0045964438460830183, 1e-15);

  // The tie example above, D = 0.55, n_a = 5, n_b = 4 (the theta-form regime):
  //   n_e = 20/9, √n_e = 1.4907119849998598, λ = (1.49071198 + 0.12 + 0.07379024)·0.55
  //   = 0.92647622554154407, p = Q(λ) = 0.35722710988170201.
  EXPECT_NEAR(ks_both_ways({2, 1, 5, 2, 2}, {5, 3, 2, 5}).p_value, 0.35722710988170201, 1e-14);
}

// ---- randomised size and power -------------------------------------------------------------

TEST(TwoSampleKs, SizeUnderTheNullIsNearFivePercent) {
  // Both samples N(0, 1), n = 100 each. D is a multiple of 1/100 and p < 0.05 exactly when
  // D ≥ 0.19 (λ = 7.2067·D: Q(1.3693) = 0.0470, Q(1.2972) = 0.0691). The exact null probability
  // of D ≥ 19/100 for n = m = 100 (Gnedenko–Korolyuk:
  // P(D ≥ k/n) = 2 Σ_{j≥1} (−1)^{j−1} C(2n, n − jk)/C(2n, n)) is p0 = 0.053902 — the asymptotic
  // p-value is slightly anti-conservative on this lattice, so the check is centred on p0, not on
  // the nominal 0.05. Over R = 4000 repetitions the rejection count is Bin(R, p0):
  //   σ = √(p0(1 − p0)/R) = 0.003571, and 5σ = 0.01785
  // (a 5σ normal deviation has probability 5.7e-7). The window [0.0361, 0.0718] holds 0.05 but
  // excludes a test that never rejects or rejects at twice the rate.
  constexpr std::uint64_t seed = 20240611;
  announce_seed(seed);
  Rng rng(seed);
  constexpr int kRepetitions = 4000;
  constexpr std::size_t n = 100;
  constexpr double kExactSize = 0.053902078931;
  const double tolerance = 5 * std::sqrt(kExactSize * (1 - kExactSize) / kRepetitions);
  int rejections = 0;
  Sample a(n), b(n);
  for (int r = 0; r < kRepetitions; ++r) {
    for (double& x : a) x = rng.normal();
    for (double& x : b) x = rng.normal();
    if (two_sample_ks(a, b).p_value < 0.05) ++rejections;
  }
  const double fraction = static_cast<double>(rejections) / kRepetitions;
  std::cout << "[ size ] fraction of p < 0.05 under the null: " << fraction << " (" << rejections
            << "/" << kRepetitions << "), exact size " << kExactSize << " ± " << tolerance << "\n";
  EXPECT_NEAR(fraction, kExactSize, tolerance);
}

TEST(TwoSampleKs, DetectsAMeanShift) {
  // N(0, 1) against N(1, 1), n = 200 each: p < 1e-6 needs λ > 2.6934, i.e. D > 0.2659, while
  // already at x = ½ the CDF gap is Φ(½) − Φ(−½) = 0.383 with standard error
  // √(2·0.6915·0.3085/200) = 0.046 — a miss is a > 2.5σ event per pair (< 0.6%; a simulation
  // put it at 2e-4). Ten pairs from one seed.
  constexpr std::uint64_t seed = 77;
  announce_seed(seed);
  Rng rng(seed);
  constexpr std::size_t n = 200;
  Sample a(n), b(n);
  for (int r = 0; r < 10; ++r) {
    for (double& x : a) x = rng.normal();
    for (double& x : b) x = rng.normal() + 1;
    const KsResult result = two_sample_ks(a, b);
    EXPECT_LT(result.p_value, 1e-6) << "pair " << r << ", D = " << result.statistic;
  }
}

// ---- bad input -----------------------------------------------------------------------------

// The message is one line and names the offending sample or draw.
void expect_rejected(const Sample& a, const Sample& b, const std::string& names) {
  try {
    two_sample_ks(a, b);
    ADD_FAILURE() << "no exception for " << names;
  } catch (const std::invalid_argument& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find(names), std::string::npos) << what;
    EXPECT_EQ(what.find('\n'), std::string::npos) << what;
  }
}

TEST(TwoSampleKs, RejectsEmptyAndNonFiniteSamples) {
  constexpr double nan = std::numeric_limits<double>::quiet_NaN();
  constexpr double inf = std::numeric_limits<double>::infinity();
  expect_rejected({}, {1, 2}, "sample a is empty");
  expect_rejected({1, 2}, {}, "sample b is empty");
  expect_rejected({1, nan, 3}, {1, 2}, "a[1]");
  expect_rejected({1, 2}, {0, 1, inf}, "b[2]");
  expect_rejected({-inf}, {1}, "a[0]");
}

}  // namespace
}  // namespace attncert
