// Paper A's derived steps and readings (issue 14): which claims are derived steps and which are
// alternative readings, the degenerate predicates, side families, and each new reading's
// evaluator on a hand-computed instance — including instances where A.thm2-full and
// A.cor2-i-iff fail, so the verdict the engine must reach by search is known to exist.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "numerics/ball.hpp"
#include "numerics/scalar_traits.hpp"
#include "theory/catalog.hpp"

namespace attncert {
namespace {

RowMatrix<double> row(std::initializer_list<double> v) {
  RowMatrix<double> m(1, static_cast<Eigen::Index>(v.size()));
  Eigen::Index i = 0;
  for (double e : v) m(0, i++) = e;
  return m;
}

RowMatrix<double> column(std::initializer_list<double> v) {
  RowMatrix<double> m(static_cast<Eigen::Index>(v.size()), 1);
  Eigen::Index i = 0;
  for (double e : v) m(i++, 0) = e;
  return m;
}

// A few dozen flops on O(1) values, each with relative error <= u: 1e-13 absolute is ample and
// still far below any difference these tests look for.
constexpr double kTol = 1e-13;

TEST(PaperADerived, ElementaryStepsAreDerivedAndNameTheirInequality) {
  for (const char* id : {"A.cor2-i", "A.cor2-ii", "A.thm1-random", "A.thm2"}) {
    SCOPED_TRACE(id);
    const ClaimInfo& info = catalog_claim(id).info();
    EXPECT_EQ(info.kind, ClaimKind::Derived);
    EXPECT_FALSE(info.derivation.empty());
  }
  EXPECT_NE(catalog_claim("A.cor2-i").info().derivation.find("triangle"), std::string::npos);
  EXPECT_NE(catalog_claim("A.cor2-ii").info().derivation.find("triangle"), std::string::npos);
  EXPECT_NE(catalog_claim("A.thm1-random").info().derivation.find("Jensen"), std::string::npos);
  EXPECT_NE(catalog_claim("A.thm2").info().derivation.find("Markov"), std::string::npos);
}

TEST(PaperAReadings, AlternativeReadingsAreTaggedReading) {
  for (const char* id : {"A.thm1-fixed-A", "A.cor2-ii-monotone", "A.thm2-full", "A.cor2-i-iff",
                         "A.thm1-sqrt-A", "A.thm1-sqrt-B", "A.thm1-sqrt-C"}) {
    SCOPED_TRACE(id);
    const ClaimInfo& info = catalog_claim(id).info();
    EXPECT_EQ(info.provenance, Provenance::Reading);
    EXPECT_NE(info.kind, ClaimKind::Derived);  // a reading can fail
    EXPECT_FALSE(info.note.empty());
  }
  EXPECT_NE(catalog_claim("A.thm1-sqrt-B").info().source.find("secondary summary, not the paper's text"),
            std::string::npos);
}

// --- degenerate predicates ------------------------------------------------------------------

Instance top_n_instance(long L, long N) {
  Instance x;
  x.scalars = {{"L", double(L)}, {"N", double(N)}, {"d", 1.0}, {"T", 1.0}};
  RowMatrix<double> l(1, L), X(L, 1);
  for (long i = 0; i < L; ++i) {
    l(0, i) = 0.3 * double(i);
    X(i, 0) = 1.0 + double(i * i);
  }
  x.arrays = {{"logits", l}, {"X", X}};
  return x;
}

// One-hot attention: top logit 40 above the rest at T = 1 leaves weight ~4·e^-40 ≈ 2e-17 outside.
Instance one_hot(Instance x) {
  x.arrays["logits"](0, 0) = 40.0;
  return x;
}

TEST(PaperADerived, Thm1FixedIsDegenerateAtOneHotAttentionAndIdenticalTokensUnderReadingsBAndC) {
  const Claim& fixed = catalog_claim("A.thm1-fixed");
  EXPECT_TRUE(fixed.degenerate_reason(top_n_instance(5, 1)).empty());
  EXPECT_NE(fixed.degenerate_reason(one_hot(top_n_instance(5, 1))).find("one-hot"), std::string::npos);
  Instance identical = top_n_instance(5, 2);
  identical.arrays["X"].setConstant(0.7);
  EXPECT_FALSE(fixed.degenerate_reason(identical).empty());
  // There d̃_B equals the bound: the enclosures overlap at any precision.
  const auto sides = fixed.evaluate_ball(identical, 256);
  EXPECT_TRUE(sides[0].lhs.overlaps(sides[0].rhs)) << sides[0].lhs.str() << " vs " << sides[0].rhs.str();
  // Reading A and the square-root form fail exactly there: never degenerate.
  for (const char* id : {"A.thm1-fixed-A", "A.thm1-sqrt-B"}) {
    EXPECT_TRUE(catalog_claim(id).degenerate_reason(identical).empty()) << id;
    EXPECT_TRUE(catalog_claim(id).degenerate_reason(one_hot(top_n_instance(5, 1))).empty()) << id;
  }
  // The random-subset steps are degenerate at one-hot attention on a single token.
  EXPECT_FALSE(catalog_claim("A.thm1-random").degenerate_reason(one_hot(top_n_instance(5, 2))).empty());
  EXPECT_FALSE(catalog_claim("A.cor2-i").degenerate_reason(one_hot(top_n_instance(5, 2))).empty());
  EXPECT_TRUE(catalog_claim("A.cor2-i").degenerate_reason(top_n_instance(5, 2)).empty());
}

TEST(PaperADerived, Thm1RandomIsAnIdentityWhereJensensGapVanishes) {
  const Claim& c = catalog_claim("A.thm1-random");
  EXPECT_FALSE(c.degenerate_reason(top_n_instance(5, 4)).empty());
  EXPECT_TRUE(c.degenerate_reason(top_n_instance(5, 3)).empty());
  EXPECT_TRUE(c.degenerate_reason(top_n_instance(5, 1)).empty());
  Instance identical = top_n_instance(5, 2);
  identical.arrays["logits"].setZero();
  identical.arrays["X"].setConstant(0.7);
  EXPECT_FALSE(c.degenerate_reason(identical).empty());
  const auto same = c.evaluate_ball(identical, 128);
  EXPECT_EQ(same[0].rel, Relation::Equal);
  EXPECT_TRUE(same[0].lhs.overlaps(same[0].rhs)) << same[0].lhs.str() << " vs " << same[0].rhs.str();
  // At N = L − 1 the side is the identity ε = 0, and the enclosures of both sides agree.
  const auto eq = c.evaluate_ball(top_n_instance(5, 4), 128);
  ASSERT_EQ(eq.size(), 1u);
  EXPECT_EQ(eq[0].rel, Relation::Equal);
  EXPECT_TRUE(eq[0].lhs.overlaps(eq[0].rhs)) << eq[0].lhs.str() << " vs " << eq[0].rhs.str();
  // Below it Jensen's gap is positive for these tokens: lhs certainly above rhs.
  const auto gap = c.evaluate_ball(top_n_instance(5, 2), 128);
  ASSERT_EQ(gap.size(), 1u);
  EXPECT_EQ(gap[0].rel, Relation::GreaterEqual);
  EXPECT_TRUE(certainly(gap[0].lhs > gap[0].rhs));
}

Instance separability_instance(RowMatrix<double> logits, RowMatrix<double> W, long N, double rho) {
  Instance x;
  x.scalars = {{"L", double(logits.size())}, {"N", double(N)}, {"d", double(W.cols())},
               {"M", 1.0}, {"rho", rho}};
  x.arrays = {{"logits", std::move(logits)}, {"W", std::move(W)}};
  return x;
}

TEST(PaperADerived, SeparabilityDegenerateInstances) {
  const Claim& markov = catalog_claim("A.thm2");
  const Claim& full = catalog_claim("A.thm2-full");
  const auto x = [](long L, long N) {
    RowMatrix<double> l(1, L), W(L, 1);
    l.setZero();
    W.setOnes();
    return separability_instance(l, W, N, 0.5);
  };
  EXPECT_FALSE(markov.degenerate_reason(x(1, 1)).empty());  // L = N = 1
  EXPECT_FALSE(markov.degenerate_reason(x(4, 1)).empty());  // N = 1: R_i = 0
  EXPECT_FALSE(markov.degenerate_reason(x(1, 5)).empty());  // N clamped to L = 1
  EXPECT_TRUE(markov.degenerate_reason(x(4, 2)).empty());
  EXPECT_FALSE(full.degenerate_reason(x(3, 3)).empty());    // no non-selected token
  EXPECT_TRUE(full.degenerate_reason(x(4, 1)).empty());     // N = 1 can fail in the full reading
}

// --- A.thm2-full -----------------------------------------------------------------------------

// L = 2, N = 1, d = 1, w = (1, 1), logits (1, 0), r = 0.7: α₀ = e/(1+e) ≈ 0.731, α₁ ≈ 0.269,
// I = {0}. R₀ = 0, so token 0 is always inside; with σ₀ = +1 the non-selected token is at
// |σ₁α₁ − α₀| = α₀ − α₁ ≈ 0.462 <= r (σ₁ = +1, inside the ball) or α₀ + α₁ = 1 > r (outside).
// Full N_s: E[N_s]/N = 1/2; Markov's N_s: 1. ξ₀ = 0, so the bound is 1: the full reading fails.
TEST(PaperAThm2Full, NonSelectedConditionBreaksTheBoundOnHandInstance) {
  const Instance x = separability_instance(row({1, 0}), column({1, 1}), 1, 0.7);
  const auto full = catalog_claim("A.thm2-full").evaluate_ball(x, 128);
  ASSERT_EQ(full.size(), 1u);
  EXPECT_TRUE(full[0].lhs.contains(0.5)) << full[0].lhs.str();
  EXPECT_TRUE(full[0].rhs.contains(1.0)) << full[0].rhs.str();
  EXPECT_TRUE(certainly(full[0].lhs < full[0].rhs));  // refuted on this instance
  const auto markov = catalog_claim("A.thm2").evaluate_ball(x, 128);
  EXPECT_TRUE(markov[0].lhs.contains(1.0)) << markov[0].lhs.str();
  EXPECT_FALSE(certainly(markov[0].lhs < markov[0].rhs));
}

// L = 3, N = 2, d = 1, w = (1, 1, 1), logits (2, 1, 0), r = 0.5: α ≈ (0.6652, 0.2447, 0.0900),
// I = {0, 1}, σ₀ = +1. ‖R₀‖ = α₁ <= r always, ‖R₁‖ = α₀ > r always: one selected token inside
// per pattern. Non-selected token 2 at |σ₂α₂ − s|: σ₁ = +1, s = α₀ + α₁ ≈ 0.9099: 0.8199 and
// 0.9999, both outside (2 of 2 signs); σ₁ = −1, s = α₀ − α₁ ≈ 0.4205: 0.3305 (inside) and
// 0.5105 (outside): 1 of 2. Full: (1·2 + 1·1)/(N·2^{L−1}) = 3/8; Markov: 2/(N·2^{N−1}) = 1/2.
// Bound: ξ₀ = α₁, ξ₁ = α₀, 1 − (α₀ + α₁)/(N·r) = 1 − (α₀ + α₁) ≈ 0.0901.
TEST(PaperAThm2Full, ExactExpectationOnHandInstance) {
  const Instance x = separability_instance(row({2, 1, 0}), column({1, 1, 1}), 2, 0.5);
  const double z = std::exp(2.0) + std::exp(1.0) + 1.0;
  const double bound = 1 - (std::exp(2.0) + std::exp(1.0)) / z;
  const auto full = catalog_claim("A.thm2-full").evaluate_ball(x, 128);
  ASSERT_EQ(full.size(), 1u);
  EXPECT_TRUE(full[0].lhs.contains(0.375)) << full[0].lhs.str();
  EXPECT_NEAR(full[0].rhs.mid(), bound, kTol);
  const auto markov = catalog_claim("A.thm2").evaluate_ball(x, 128);
  EXPECT_TRUE(markov[0].lhs.contains(0.5)) << markov[0].lhs.str();
  EXPECT_NEAR(markov[0].rhs.mid(), bound, kTol);
  // Both: slack measured from 1, and a bound <= 0 is vacuous (E[N_s]/N >= 0 anyway).
  for (const auto& s : {full[0], markov[0]}) {
    ASSERT_TRUE(s.gap_origin && s.a_priori);
    EXPECT_TRUE(s.gap_origin->contains(1.0));
    EXPECT_TRUE(s.a_priori->contains(0.0));
  }
}

// --- A.cor2-i-iff ----------------------------------------------------------------------------

// Identical tokens x_i = 1 (d = 1), uniform α (logits 0), L = 4: y_i = 1/4, S = 1, s_I = N/4.
// N = 2: d̃_B = (L − N)·|1/4 − 1/2| = 1/2 = m = ((L−N)/L)·S, so D = 0 (dominated exactly) while
// C = L·E‖s_I‖/S = 4·(1/2) = 2: the condition fails — necessity is refuted at any ε < 2.
// N = 1: d̃_B = 0, D = 1: not dominated, the necessary side is vacuous at ε = 1/8.
Instance identical_tokens(long N, double eps) {
  Instance x = top_n_instance(4, N);
  x.arrays["logits"] = row({0, 0, 0, 0});
  x.arrays["X"] = column({1, 1, 1, 1});
  x.scalars["eps"] = eps;
  return x;
}

TEST(PaperACor2Iff, DominatedWithoutTheConditionRefutesNecessity) {
  const Claim& c = catalog_claim("A.cor2-i-iff");
  const auto s = c.evaluate_ball(identical_tokens(2, 0.125), 128);
  ASSERT_EQ(s.size(), 2u);
  // necessary: min(C, 2ε − D) = min(2, 0.25) = 0.25 > ε = 0.125 (ε exact in binary).
  EXPECT_TRUE(s[0].lhs.contains(0.25)) << s[0].lhs.str();
  EXPECT_TRUE(certainly(s[0].lhs > s[0].rhs));
  ASSERT_TRUE(s[0].a_priori);
  EXPECT_FALSE(certainly(s[0].rhs >= *s[0].a_priori));  // premise D <= ε holds: not vacuous
  // sufficient: min(D, 2ε − C) = min(0, −1.75) = −1.75 <= ε, and vacuous (C > ε).
  EXPECT_TRUE(s[1].lhs.contains(-1.75)) << s[1].lhs.str();
  EXPECT_TRUE(certainly(s[1].lhs <= s[1].rhs));
  ASSERT_TRUE(s[1].a_priori);
  EXPECT_TRUE(certainly(s[1].rhs >= *s[1].a_priori));
}

TEST(PaperACor2Iff, NotDominatedLeavesNecessityVacuous) {
  const auto s = catalog_claim("A.cor2-i-iff").evaluate_ball(identical_tokens(1, 0.125), 128);
  ASSERT_EQ(s.size(), 2u);
  EXPECT_TRUE(certainly(s[0].lhs <= s[0].rhs));
  ASSERT_TRUE(s[0].a_priori);
  EXPECT_TRUE(certainly(s[0].rhs >= *s[0].a_priori));  // 2ε − D = −0.75 <= ε
}

// --- A.thm1-sqrt -----------------------------------------------------------------------------

// L = 3, N = 1, d = 1, logits (1, 0, 0), T = 1, x = (1, 2, −1): α₀ = e/(e+2), α₁ = α₂ = 1/(e+2),
// I = {0}, s = α₀. ᾱ = α₀, d₁ = max(|2 − 1|, |−1 − 1|) = 2, M_N = 1,
// bound = (1 − ᾱ)·2 + √(2ᾱ − (1 − ᾱ)); d̃_B = |α₁·2 − α₀| + |−α₁ − α₀|.
TEST(PaperAThm1Sqrt, SquareRootBoundMatchesHandComputation) {
  Instance x = top_n_instance(3, 1);
  x.arrays["logits"] = row({1, 0, 0});
  x.arrays["X"] = column({1, 2, -1});
  const double e = std::exp(1.0), a0 = e / (e + 2), a1 = 1 / (e + 2);
  const double bound = (1 - a0) * 2 + std::sqrt(2 * a0 - (1 - a0));
  const double dB = std::abs(2 * a1 - a0) + std::abs(-a1 - a0);
  const auto s = catalog_claim("A.thm1-sqrt-B").evaluate_ball(x, 128);
  ASSERT_EQ(s.size(), 1u);
  EXPECT_NEAR(s[0].rhs.mid(), bound, kTol);
  EXPECT_NEAR(s[0].lhs.mid(), dB, kTol);
  EXPECT_EQ(s[0].rel, Relation::LessEqual);
  // The catalog's linear form differs exactly by the root: (L − N)ᾱ − (1 − ᾱ) in place of its root.
  const auto lin = catalog_claim("A.thm1-fixed").evaluate_double(x);
  EXPECT_NEAR(lin[0].rhs, (1 - a0) * 2 + (2 * a0 - (1 - a0)), kTol);
}

// Uniform logits, N = 1: ᾱ = 1/L and the root's argument (L − 1)/L − (1 − 1/L) is exactly 0 —
// its enclosure straddles 0 and must still give a finite bound (1 − 1/L)·d₁.
TEST(PaperAThm1Sqrt, RootArgumentAtZeroGivesFiniteEnclosure) {
  Instance x = top_n_instance(4, 1);
  x.arrays["logits"] = row({0, 0, 0, 0});
  x.arrays["X"] = column({0, 1, 3, -2});
  for (const char* id : {"A.thm1-sqrt-A", "A.thm1-sqrt-B", "A.thm1-sqrt-C"}) {
    SCOPED_TRACE(id);
    const auto s = catalog_claim(id).evaluate_ball(x, 128);
    ASSERT_EQ(s.size(), 1u);
    EXPECT_TRUE(s[0].rhs.is_finite()) << s[0].rhs.str();
    EXPECT_TRUE(s[0].rhs.contains(0.75 * 3)) << s[0].rhs.str();  // d₁ = max |x_i − 0| = 3
    EXPECT_LT(s[0].rhs.radius(), 1e-6);  // the root of a ~1e-38-wide ball around 0 is ~1e-19
  }
}

// --- side families ---------------------------------------------------------------------------

TEST(PaperAFamilies, IndexedSidesShareOneFamily) {
  Instance x = top_n_instance(4, 1);
  x.scalars.erase("N");
  for (const auto& [id, family] : {std::pair{"A.cor2-ii", "rate bound"}, std::pair{"A.cor2-ii-monotone", "monotone"}}) {
    SCOPED_TRACE(id);
    const auto sides = catalog_claim(id).evaluate_double(x);
    ASSERT_GE(sides.size(), 3u);
    for (const auto& s : sides) EXPECT_EQ(s.family, family) << s.name;
  }
}

}  // namespace
}  // namespace attncert
