// The engine on claims whose truth we can settle by hand — used only to test the engine; the
// engine itself never sees which answer is expected.
#include "proofs_checks/verifier.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "proofs_checks/claim_verification.hpp"
#include "proofs_checks/instance_sampler.hpp"
#include "theory/quantities.hpp"

namespace attncert {
namespace {

// alpha_max <= c · e^{2Δ/T} / L: true for c >= 1 (paper A, Cor. 1), false for c < 1 because
// Δ -> 0 makes α -> 1/L and the bound -> c/L.
class ScaledCor1 : public InequalityClaim<ScaledCor1> {
 public:
  ScaledCor1(double c, ClaimInfo info, SearchSpace space)
      : InequalityClaim(std::move(info), std::move(space)), c_(c) {}
  template <class T>
  std::vector<Inequality<T>> sides(const Instance& x, const TierContext<T>& ctx) const {
    using std::exp;
    const T L = ctx.from(static_cast<double>(instance_logits(x, TierContext<double>{}).size()));
    const T b = ctx.from(c_) * exp(ctx.from(2.0) * instance_delta(x, ctx) / instance_temperature(x, ctx)) / L;
    return {{"upper", quantity("alpha_max", x, ctx), Relation::LessEqual, T(b)}};
  }

 private:
  double c_;
};

// x·y <= bound over x, y in [0, 1]: false when bound < 1 (at x = y = 1), tight when bound = 1.
class ProductBound : public InequalityClaim<ProductBound> {
 public:
  ProductBound(double bound, ClaimInfo info, SearchSpace space)
      : InequalityClaim(std::move(info), std::move(space)), bound_(bound) {}
  template <class T>
  std::vector<Inequality<T>> sides(const Instance& x, const TierContext<T>& ctx) const {
    return {{"product", T(ctx.from(x.scalar("x")) * ctx.from(x.scalar("y"))), Relation::LessEqual,
             ctx.from(bound_)}};
  }

 private:
  double bound_;
};

// exp(log(x)) == x: an identity that interval arithmetic can never prove, only confirm.
class ExpLogIdentity : public InequalityClaim<ExpLogIdentity> {
 public:
  using InequalityClaim::InequalityClaim;
  template <class T>
  std::vector<Inequality<T>> sides(const Instance& x, const TierContext<T>& ctx) const {
    using std::exp;
    using std::log;
    const T v = ctx.from(x.scalar("x"));
    return {{"identity", T(exp(log(v))), Relation::Equal, v}};
  }
};

// exp(log(x)) <= x·(1 − δ): false for every x, by a margin too small for 64 bits when δ is tiny.
class ShiftedExpLog : public InequalityClaim<ShiftedExpLog> {
 public:
  ShiftedExpLog(double delta, ClaimInfo info, SearchSpace space)
      : InequalityClaim(std::move(info), std::move(space)), delta_(delta) {}
  template <class T>
  std::vector<Inequality<T>> sides(const Instance& x, const TierContext<T>& ctx) const {
    using std::exp;
    using std::log;
    const T v = ctx.from(x.scalar("x"));
    return {{"shifted", T(exp(log(v))), Relation::LessEqual, T(v * (ctx.from(1.0) - ctx.from(delta_)))}};
  }

 private:
  double delta_;
};

ClaimInfo test_info(const char* id) {
  ClaimInfo info;
  info.id = id;
  return info;
}

SearchSpace qk_space() {
  return {{{"L", 1, 32, true, false, ""}, {"d", 1, 8, true, false, ""}, {"T", 0.05, 5, false, true, ""}},
          {{"q", "1", "d", Law::Normal, 0, 1, false, ""}, {"K", "L", "d", Law::Normal, 0, 1, false, ""}}};
}

std::unique_ptr<Claim> scaled_cor1(double c) {
  return std::make_unique<ScaledCor1>(c, test_info("test.cor1-scaled"), qk_space());
}

std::unique_ptr<Claim> product_bound(double b, const char* id = "test.product") {
  return std::make_unique<ProductBound>(
      b, test_info(id),
      SearchSpace{{{"x", 0, 1, false, false, ""}, {"y", 0, 1, false, false, ""}}, {}});
}

VerifyOptions small_budget(std::uint64_t seed) {
  VerifyOptions o;
  o.seed = seed;
  o.instances = 600;
  o.local_steps = 200;
  o.certify = 30;
  return o;
}

TEST(Verifier, RefutesABoundWhoseConstantIsSlightlyTooSmall) {
  const std::uint64_t seed = 7;
  SCOPED_TRACE("seed " + std::to_string(seed));
  const auto claim = scaled_cor1(0.999);
  const ClaimResult r = verify_claim(*claim, small_budget(seed));
  ASSERT_EQ(r.verdict, DomainVerdict::Refuted);
  ASSERT_TRUE(r.counterexample && r.counterexample_certificate);
  EXPECT_EQ(r.counterexample_certificate->status, InstanceStatus::Refuted);
  // The shrunk instance re-certifies from scratch, and is small.
  EXPECT_EQ(certify_instance(*claim, *r.counterexample).status, InstanceStatus::Refuted);
  EXPECT_LE(r.counterexample->scalar("L"), 2) << r.counterexample->describe();
}

TEST(Verifier, KeepsABoundWhoseConstantIsSlightlyTooLarge) {
  const std::uint64_t seed = 7;
  SCOPED_TRACE("seed " + std::to_string(seed));
  const auto claim = scaled_cor1(1.001);
  const ClaimResult r = verify_claim(*claim, small_budget(seed));
  EXPECT_EQ(r.verdict, DomainVerdict::Survived);
  EXPECT_FALSE(r.counterexample);
  EXPECT_GT(r.certified, 0);
  // The search pushes the ratio towards 1/1.001 (Δ -> 0): the bound is nearly sharp.
  EXPECT_GT(r.tightness, 0.99);
  EXPECT_LE(r.tightness, 1 / 1.001 + 1e-12);
}

TEST(Verifier, FindsAnInteriorCornerByLocalSearch) {
  for (std::uint64_t seed : {1u, 2u, 3u}) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    const auto claim = product_bound(0.999);  // violated only near x = y = 1
    const ClaimResult r = verify_claim(*claim, small_budget(seed));
    ASSERT_EQ(r.verdict, DomainVerdict::Refuted);
    // Shrinking rounds to few significant digits while the violation persists.
    EXPECT_GE(r.counterexample->scalar("x") * r.counterexample->scalar("y"), 0.999);
  }
}

TEST(Verifier, TieAtTheBoundaryIsNotACounterexample) {
  const auto claim = product_bound(1.0);  // x·y <= 1 holds, with equality at (1, 1)
  const ClaimResult r = verify_claim(*claim, small_budget(11));
  EXPECT_EQ(r.verdict, DomainVerdict::Survived);
  EXPECT_DOUBLE_EQ(r.tightness, 1.0);  // the edge-biased sampler hits the corner exactly
}

TEST(Verifier, IdentitiesAreConsistentNotProved) {
  ExpLogIdentity claim(test_info("test.explog"),
                       SearchSpace{{{"x", 1e-3, 1e3, false, true, ""}}, {}});
  const ClaimResult r = verify_claim(claim, small_budget(3));
  EXPECT_EQ(r.verdict, DomainVerdict::Survived);
  EXPECT_EQ(r.certified, 0);
  EXPECT_GT(r.consistent, 0);
}

TEST(Verifier, SameSeedSameResult) {
  const auto claim = scaled_cor1(0.999);
  const ClaimResult a = verify_claim(*claim, small_budget(5));
  const ClaimResult b = verify_claim(*claim, small_budget(5));
  ASSERT_TRUE(a.counterexample && b.counterexample);
  EXPECT_EQ(to_json(*a.counterexample), to_json(*b.counterexample));
  EXPECT_EQ(a.evaluated, b.evaluated);
  EXPECT_EQ(a.best_score, b.best_score);
}

TEST(Certificate, EscalatesPrecisionUntilDecided) {
  // A 2^-80 relative gap is hidden by the ~2^-60 radius of exp(log x) at 64 bits and shows at
  // 128 bits.
  const SearchSpace one_x{{{"x", 1, 2, false, false, ""}}, {}};
  ShiftedExpLog claim(std::ldexp(1.0, -80), test_info("test.shifted"), one_x);
  Instance x;
  x.scalars = {{"x", 1.5}};
  const InstanceCertificate c = certify_instance(claim, x);
  EXPECT_EQ(c.status, InstanceStatus::Refuted);
  EXPECT_EQ(c.precision, 128);
  // With the cap at 64 bits the same instance stays undecided.
  EXPECT_EQ(certify_instance(claim, x, CertifyOptions{64, 64}).status, InstanceStatus::Inconclusive);
  // An identity is consistent once its enclosures overlap at the identity precision.
  ExpLogIdentity id(test_info("test.explog"), one_x);
  EXPECT_EQ(certify_instance(id, x).status, InstanceStatus::Consistent);
}

// max weight 1/L <= 1 over L in [1, 16]: met with equality at L = 1 for a trivial reason (one
// token), so L = 1 is the documented degenerate case; informative instances have tightness 1/L
// <= 1/2.
class OneOverL : public InequalityClaim<OneOverL> {
 public:
  using InequalityClaim::InequalityClaim;
  template <class T>
  std::vector<Inequality<T>> sides(const Instance& x, const TierContext<T>& ctx) const {
    return {{"weight", T(ctx.from(1.0) / ctx.from(x.scalar("L"))), Relation::LessEqual, ctx.from(1.0)}};
  }
  std::string degenerate_reason(const Instance& x) const override {
    return x.scalar("L") == 1 ? "L = 1" : "";
  }
};

// exp(log x) == x (identity) and x <= 2 (bound) over x in (0, 1]: only the bound has a
// tightness, x/2 <= 1/2.
class IdentityAndBound : public InequalityClaim<IdentityAndBound> {
 public:
  using InequalityClaim::InequalityClaim;
  template <class T>
  std::vector<Inequality<T>> sides(const Instance& x, const TierContext<T>& ctx) const {
    using std::exp;
    using std::log;
    const T v = ctx.from(x.scalar("x"));
    return {{"identity", T(exp(log(v))), Relation::Equal, v},
            {"bound", v, Relation::LessEqual, ctx.from(2.0)}};
  }
};

// p >= 1 − ε with p = 1 − u·ε, u in [0, 1/2], ε in [1e-12, 1e-2]: the ratio (1 − ε)/p is
// within 1e-2 of 1 everywhere, the slack measured from 1 is (1 − p)/ε = u <= 1/2. Two sides of
// one family ("upper k0", "upper k1": u and u/2) and a second family.
class SaturatedProbability : public InequalityClaim<SaturatedProbability> {
 public:
  using InequalityClaim::InequalityClaim;
  template <class T>
  std::vector<Inequality<T>> sides(const Instance& x, const TierContext<T>& ctx) const {
    const T one = ctx.from(1.0);
    const T eps = ctx.from(x.scalar("eps"));
    const T u = ctx.from(x.scalar("u"));
    std::vector<Inequality<T>> out;
    out.push_back({"upper k0", T(one - u * eps), Relation::GreaterEqual, T(one - eps), "upper", one});
    out.push_back({"upper k1", T(one - u * eps / ctx.from(2.0)), Relation::GreaterEqual, T(one - eps),
                   "upper", one});
    out.push_back({"plain", T(u / ctx.from(4.0)), Relation::LessEqual, one});
    return out;
  }
};

// A probability p = b/2 <= b, with a priori p <= 1, where b = 1 + (s₀ − t)/4 for a point s
// uniform on the unit circle (Law::Sphere: no edge-case transforms, so every draw follows the
// uniform law): b >= 1, i.e. the side is vacuous, exactly when s₀ >= t, an arc of probability
// acos(t)/π. Informative instances have tightness 1/2.
class VacuousArc : public InequalityClaim<VacuousArc> {
 public:
  VacuousArc(double t, ClaimInfo info, SearchSpace space)
      : InequalityClaim(std::move(info), std::move(space)), t_(t) {}
  template <class T>
  std::vector<Inequality<T>> sides(const Instance& x, const TierContext<T>& ctx) const {
    const T one = ctx.from(1.0);
    const T b = T(one + T(ctx.from(x.array("s")(0, 0)) - ctx.from(t_)) / ctx.from(4.0));
    Inequality<T> side{"probability", T(b / ctx.from(2.0)), Relation::LessEqual, b};
    side.a_priori = one;
    return {side};
  }

 private:
  double t_;
};

SearchSpace circle_space() { return {{}, {{"s", "1", "2", Law::Sphere, 1, 0, false, ""}}}; }

TEST(Tightness, DegenerateInstancesAreReportedApart) {
  const std::uint64_t seed = 4;
  SCOPED_TRACE("seed " + std::to_string(seed));
  OneOverL claim(test_info("test.one-over-L"), SearchSpace{{{"L", 1, 16, true, false, ""}}, {}});
  const ClaimResult r = verify_claim(claim, small_budget(seed));
  ASSERT_EQ(r.verdict, DomainVerdict::Survived);
  // The search favours L = 1 (its score is highest), so degenerate instances are certified …
  EXPECT_GT(r.degenerate, 0);
  EXPECT_EQ(r.degenerate_tightness, 1.0);
  // … but the tightness comes from L >= 2 only, and its instance replays it.
  ASSERT_TRUE(r.tightest);
  EXPECT_GE(r.tightest->scalar("L"), 2);
  EXPECT_EQ(r.tightness, 1 / r.tightest->scalar("L"));
  ASSERT_EQ(r.side_tightness.size(), 1u);
  EXPECT_EQ(r.side_tightness[0].family, "weight");
  EXPECT_EQ(r.side_tightness[0].informative + r.degenerate, r.certified);
}

TEST(Tightness, IdentitySidesHaveNone) {
  const std::uint64_t seed = 3;
  SCOPED_TRACE("seed " + std::to_string(seed));
  IdentityAndBound claim(test_info("test.identity-and-bound"),
                         SearchSpace{{{"x", 1e-3, 1, false, false, ""}}, {}});
  const ClaimResult r = verify_claim(claim, small_budget(seed));
  ASSERT_EQ(r.verdict, DomainVerdict::Survived);
  EXPECT_EQ(r.certified, 0);  // the identity makes every instance consistent, not proved
  EXPECT_GT(r.consistent, 0);
  // The bound side of consistent instances gives the tightness, x/2; the identity none.
  ASSERT_EQ(r.side_tightness.size(), 1u);
  EXPECT_EQ(r.side_tightness[0].family, "bound");
  EXPECT_EQ(r.side_tightness[0].informative, r.consistent);
  ASSERT_TRUE(r.tightest);
  EXPECT_LE(r.tightness, 0.5);
  EXPECT_EQ(r.tightness, r.tightest->scalar("x") / 2);
  // An identity alone has no tightness at all.
  ExpLogIdentity identity(test_info("test.explog"), SearchSpace{{{"x", 1e-3, 1e3, false, true, ""}}, {}});
  const ClaimResult only = verify_claim(identity, small_budget(seed));
  EXPECT_GT(only.consistent, 0);
  EXPECT_TRUE(std::isnan(only.tightness));
  EXPECT_FALSE(only.tightest);
  EXPECT_TRUE(only.side_tightness.empty());
}

TEST(Tightness, MeasuredFromTheGapOriginPerFamily) {
  const std::uint64_t seed = 5;
  SCOPED_TRACE("seed " + std::to_string(seed));
  SaturatedProbability claim(
      test_info("test.saturated"),
      SearchSpace{{{"eps", 1e-12, 1e-2, false, true, ""}, {"u", 0, 0.5, false, false, ""}}, {}});
  const ClaimResult r = verify_claim(claim, small_budget(seed));
  ASSERT_EQ(r.verdict, DomainVerdict::Survived);
  ASSERT_EQ(r.side_tightness.size(), 2u);
  const SideTightness& upper = r.side_tightness[0];
  const SideTightness& plain = r.side_tightness[1];
  EXPECT_EQ(upper.family, "upper");
  EXPECT_EQ(plain.family, "plain");
  ASSERT_TRUE(upper.tightest && plain.tightest);
  // (1 − p)/ε = u for the tighter side k0, from midpoints of enclosures of 1 − u·ε and 1 − ε
  // (relative error ~2^-60 each, amplified by 1/ε <= 1e12): within 1e-6 of u. Without the gap
  // origin it would be (1 − ε)/p > 0.99.
  EXPECT_NEAR(upper.tightness, upper.tightest->scalar("u"), 1e-6);
  EXPECT_LE(upper.tightness, 0.5 + 1e-6);
  EXPECT_GT(upper.tightness, 0.4);  // the edge-biased sampler reaches u = 1/2
  EXPECT_EQ(plain.tightness, plain.tightest->scalar("u") / 4);
  EXPECT_EQ(upper.informative, r.certified);
  EXPECT_EQ(r.tightness, std::max(upper.tightness, plain.tightness));
}

TEST(Vacuity, FractionOfFirstDrawsWhoseBoundIsTrivial) {
  const std::uint64_t seed = 9;
  SCOPED_TRACE("seed " + std::to_string(seed));
  const double t = 0.8090169943749475;  // cos(π/5): vacuous on an arc of probability c
  const double c = std::acos(t) / M_PI;  // 0.2 up to rounding
  VacuousArc claim(t, test_info("test.vacuous-arc"), circle_space());
  VerifyOptions o = small_budget(seed);
  o.instances = 2000;
  const ClaimResult r = verify_claim(claim, o);
  ASSERT_EQ(r.verdict, DomainVerdict::Survived);
  // 2000 independent draws, each vacuous with probability c: standard deviation
  // sqrt(c(1 − c)/2000) = 0.0089; 5 of them (0.045) fail a correct engine with probability 6e-7.
  const double sd = std::sqrt(c * (1 - c) / 2000);
  EXPECT_NEAR(r.vacuity, c, 5 * sd);
  // Steering: a vacuous draw is redrawn up to 4 times, so a certified instance is vacuous with
  // probability c^5 = 3.2e-4 (about 1% that one of ~30 is); none is at this seed.
  EXPECT_EQ(r.vacuous, 0);
  ASSERT_EQ(r.side_tightness.size(), 1u);
  EXPECT_EQ(r.side_tightness[0].informative, r.certified);
  EXPECT_EQ(r.side_tightness[0].vacuous, 0);
  EXPECT_EQ(r.tightness, 0.5);
  // A claim without a-priori bounds has no vacuity.
  EXPECT_TRUE(std::isnan(verify_claim(*product_bound(2.0), small_budget(seed)).vacuity));
}

TEST(Vacuity, AWhollyVacuousDomainIsSaidToBe) {
  const std::uint64_t seed = 9;
  SCOPED_TRACE("seed " + std::to_string(seed));
  VacuousArc claim(-1.0, test_info("test.vacuous-everywhere"), circle_space());  // b >= 1 always
  const ClaimResult r = verify_claim(claim, small_budget(seed));
  ASSERT_EQ(r.verdict, DomainVerdict::Survived);
  EXPECT_EQ(r.vacuity, 1.0);
  EXPECT_GT(r.certified, 0);
  EXPECT_EQ(r.vacuous, r.certified);
  ASSERT_EQ(r.side_tightness.size(), 1u);
  EXPECT_EQ(r.side_tightness[0].vacuous, r.certified);
  EXPECT_EQ(r.side_tightness[0].informative, 0);
  EXPECT_TRUE(std::isnan(r.tightness));
}

// x·(1 + 1e-12) == x, but with the left side's enclosure widened to radius 1e-10·x in Ball (a
// stand-in for an identity whose evaluation loses accuracy): the enclosures overlap at every
// precision without agreeing to more than 10 digits.
class WideIdentity : public InequalityClaim<WideIdentity> {
 public:
  using InequalityClaim::InequalityClaim;
  template <class T>
  std::vector<Inequality<T>> sides(const Instance& x, const TierContext<T>& ctx) const {
    const T v = ctx.from(x.scalar("x"));
    T lhs = v;
    if constexpr (std::is_same_v<T, Ball>) {
      const T spread = T(v * ctx.from(1e-10));
      lhs = hull(T(v - spread), T(v + spread));
    }
    return {{"identity", lhs, Relation::Equal, T(v * T(ctx.from(1.0) + ctx.from(1e-12)))}};
  }
};

TEST(Certificate, WideOverlappingIdentityIsNotConsistent) {
  const SearchSpace one_x{{{"x", 1, 2, false, false, ""}}, {}};
  WideIdentity claim(test_info("test.wide-identity"), one_x);
  Instance x;
  x.scalars = {{"x", 1.5}};
  const InstanceCertificate c = certify_instance(claim, x);
  EXPECT_EQ(c.status, InstanceStatus::Inconclusive);
  EXPECT_EQ(c.precision, 4096);  // escalated to the cap in case the enclosures narrow
  EXPECT_NE(c.detail.find("too wide"), std::string::npos) << c.detail;
  EXPECT_NE(c.detail.find("'identity'"), std::string::npos) << c.detail;
  const ClaimResult r = verify_claim(claim, small_budget(2));
  EXPECT_EQ(r.consistent, 0);
  EXPECT_EQ(r.verdict, DomainVerdict::Inconclusive);
  // A statistical claim's identity side is a confidence interval: wide by design, overlap is
  // its test.
  ClaimInfo info = test_info("test.wide-interval");
  info.kind = ClaimKind::Statistical;
  WideIdentity interval(info, one_x);
  EXPECT_EQ(certify_instance(interval, x).status, InstanceStatus::Consistent);
}

// x < x + 2^-100: undecided at 64 bits (the sum rounds), proved exactly at 128.
class NeedsTwoPrecisions : public InequalityClaim<NeedsTwoPrecisions> {
 public:
  using InequalityClaim::InequalityClaim;
  template <class T>
  std::vector<Inequality<T>> sides(const Instance& x, const TierContext<T>& ctx) const {
    const T v = ctx.from(x.scalar("x"));
    return {{"strict", v, Relation::Less, T(v + ctx.from(std::ldexp(1.0, -100)))}};
  }
};

TEST(Certificate, AProofAtAHigherPrecisionCarriesNoDetailFromTheUndecidedOne) {
  NeedsTwoPrecisions claim(test_info("test.two-precisions"), SearchSpace{{{"x", 1, 2, false, false, ""}}, {}});
  Instance x;
  x.scalars = {{"x", 1.5}};
  const InstanceCertificate c = certify_instance(claim, x);
  EXPECT_EQ(c.status, InstanceStatus::Proved);
  EXPECT_EQ(c.precision, 128);
  EXPECT_EQ(c.detail, "");  // was "enclosures overlap at this precision", left from 64 bits
}

// log(exp(x)) − x == 0: the left side encloses 0 with a radius of a few ulps at the working
// precision, and there is no scale to be relative to: the absolute rule applies.
class ZeroIdentity : public InequalityClaim<ZeroIdentity> {
 public:
  using InequalityClaim::InequalityClaim;
  template <class T>
  std::vector<Inequality<T>> sides(const Instance& x, const TierContext<T>& ctx) const {
    using std::exp;
    using std::log;
    const T v = ctx.from(x.scalar("x"));
    return {{"zero", T(log(exp(v)) - v), Relation::Equal, ctx.from(0.0)}};
  }
};

TEST(Certificate, IdentityWhoseValueIsZeroIsConsistentWhenNarrow) {
  ZeroIdentity claim(test_info("test.zero-identity"), SearchSpace{{{"x", 1, 2, false, false, ""}}, {}});
  Instance x;
  x.scalars = {{"x", 1.5}};
  const InstanceCertificate c = certify_instance(claim, x);
  EXPECT_EQ(c.status, InstanceStatus::Consistent) << c.detail;
  EXPECT_EQ(c.precision, 256);
}

// exp(log x)·e^−3000 == x·e^−3000: both sides ~1e-1303, below the doubles' range, and agree to
// ~70 digits at 256 bits; the width rule must not depend on double midpoints (that made
// A.lemma2's and C.topk's identities between tiny weights inconclusive).
class TinyIdentity : public InequalityClaim<TinyIdentity> {
 public:
  using InequalityClaim::InequalityClaim;
  template <class T>
  std::vector<Inequality<T>> sides(const Instance& x, const TierContext<T>& ctx) const {
    using std::exp;
    using std::log;
    const T v = ctx.from(x.scalar("x"));
    const T tiny = exp(ctx.from(-3000.0));
    return {{"tiny", T(exp(log(v)) * tiny), Relation::Equal, T(v * tiny)}};
  }
};

TEST(Certificate, IdentityBetweenTinyValuesIsConsistent) {
  TinyIdentity claim(test_info("test.tiny-identity"), SearchSpace{{{"x", 1, 2, false, false, ""}}, {}});
  Instance x;
  x.scalars = {{"x", 1.5}};
  const InstanceCertificate c = certify_instance(claim, x);
  EXPECT_EQ(c.status, InstanceStatus::Consistent) << c.detail;
  EXPECT_EQ(c.precision, 256);
}

TEST(InstanceSampler, SamplesRespectTheDomain) {
  const SearchSpace space{{{"L", 1, 9, true, false, ""}, {"T", 0.01, 10, false, true, ""}},
                          {{"u", "1", "L", Law::Uniform, -2, 3, false, ""},
                           {"s", "L", "3", Law::Sphere, 2.5, 0, false, ""}}};
  Rng base(99);
  for (std::uint64_t k = 0; k < 400; ++k) {
    Rng rng = base.substream(k);
    const Instance x = sample_instance(space, rng, k % 2 ? SampleMode::Edge : SampleMode::Plain);
    const double L = x.scalar("L");
    ASSERT_TRUE(L >= 1 && L <= 9 && L == std::floor(L));
    ASSERT_TRUE(x.scalar("T") >= 0.01 && x.scalar("T") <= 10);
    ASSERT_EQ(x.array("u").cols(), L);
    for (Eigen::Index i = 0; i < x.array("u").size(); ++i) {
      ASSERT_TRUE(x.array("u").data()[i] >= -2 && x.array("u").data()[i] <= 3);
    }
    ASSERT_EQ(x.array("s").rows(), L);
    for (Eigen::Index r = 0; r < x.array("s").rows(); ++r) {
      // Rows are scaled unit-sphere draws: norm 2.5 up to a few roundings of a length-3 sum.
      ASSERT_NEAR(x.array("s").row(r).norm(), 2.5, 2.5 * 8 * std::ldexp(1.0, -53));
    }
    Rng prng = base.substream(k + 1000);
    const Instance y = perturb_instance(space, x, prng, 0.3);
    ASSERT_EQ(y.scalar("L"), L);
    ASSERT_TRUE(y.scalar("T") >= 0.01 && y.scalar("T") <= 10);
  }
}

TEST(InstanceJson, RoundTripsExactly) {
  Instance x;
  x.scalars = {{"T", 0.1}, {"L", 3}};
  x.arrays["logits"] = RowMatrix<double>(1, 3);
  x.arrays["logits"] << 1e-300, -INFINITY, 0.30000000000000004;
  const Instance y = instance_from_json(to_json(x));
  EXPECT_EQ(y.scalars, x.scalars);
  EXPECT_EQ(y.array("logits"), x.array("logits"));
  EXPECT_THROW(instance_from_json(nlohmann::json::parse(R"({"arrays": {"a": [[1, 2], [3]]}})")),
               std::invalid_argument);
  EXPECT_THROW(instance_from_json(nlohmann::json::parse(R"({"scalars": {"T": "NaN"}})")),
               std::invalid_argument);
}

// A claim whose every instance throws `error` (as a claim with a bug, or one fed input it
// cannot take, would): verify_claim lets it out.
class ThrowingClaim : public Claim {
 public:
  ThrowingClaim(const char* id, std::function<void()> error)
      : info_(test_info(id)), space_{{{"x", 0, 1, false, false, ""}}, {}}, error_(std::move(error)) {}
  const ClaimInfo& info() const override { return info_; }
  const SearchSpace& space() const override { return space_; }
  void project(Instance&) const override { error_(); }
  std::vector<Inequality<double>> evaluate_double(const Instance&) const override { return {}; }
  std::vector<Inequality<Mp>> evaluate_mp(const Instance&, long) const override { return {}; }
  std::vector<Inequality<Ball>> evaluate_ball(const Instance&, long) const override { return {}; }

 private:
  ClaimInfo info_;
  SearchSpace space_;
  std::function<void()> error_;
};

TEST(VerifyClaims, EachClaimGetsItsOwnSeedWhateverTheListOrderAndJobs) {
  const std::uint64_t seed = 11;
  SCOPED_TRACE("seed " + std::to_string(seed));
  const auto a = product_bound(0.999, "test.a");  // refuted near x = y = 1
  const auto b = product_bound(2.0, "test.b");    // survives
  const auto c = scaled_cor1(1.001);              // survives, tight
  const std::vector<const Claim*> claims = {a.get(), b.get(), c.get()};
  const std::vector<ClaimResult> serial = verify_claims(claims, small_budget(seed), 1);
  ASSERT_EQ(serial.size(), 3u);
  EXPECT_EQ(serial[0].verdict, DomainVerdict::Refuted);
  EXPECT_EQ(serial[1].verdict, DomainVerdict::Survived);
  for (std::size_t i = 0; i < claims.size(); ++i) {
    SCOPED_TRACE(claims[i]->info().id);
    EXPECT_EQ(serial[i].claim_id, claims[i]->info().id);
    EXPECT_EQ(serial[i].seed, claim_seed(seed, claims[i]->info().id));
  }
  const auto same = [](const ClaimResult& x, const ClaimResult& y) {
    return x.claim_id == y.claim_id && x.verdict == y.verdict && x.seed == y.seed &&
           x.evaluated == y.evaluated && x.certified == y.certified &&
           (x.tightness == y.tightness || (std::isnan(x.tightness) && std::isnan(y.tightness))) &&
           (x.vacuity == y.vacuity || (std::isnan(x.vacuity) && std::isnan(y.vacuity))) &&
           x.side_tightness.size() == y.side_tightness.size() && x.degenerate == y.degenerate &&
           x.vacuous == y.vacuous && x.tightest.has_value() == y.tightest.has_value() &&
           (!x.tightest || to_json(*x.tightest) == to_json(*y.tightest)) &&
           x.counterexample.has_value() == y.counterexample.has_value() &&
           (!x.counterexample || to_json(*x.counterexample) == to_json(*y.counterexample));
  };
  for (int jobs : {2, 3, 0}) {
    SCOPED_TRACE("jobs " + std::to_string(jobs));
    const std::vector<ClaimResult> parallel = verify_claims(claims, small_budget(seed), jobs);
    for (std::size_t i = 0; i < claims.size(); ++i) EXPECT_TRUE(same(parallel[i], serial[i])) << i;
  }
  const std::vector<ClaimResult> reversed = verify_claims({c.get(), b.get(), a.get()}, small_budget(seed), 2);
  for (std::size_t i = 0; i < claims.size(); ++i) EXPECT_TRUE(same(reversed[2 - i], serial[i])) << i;
}

TEST(VerifyClaims, ReportsPhasesOverAllClaimsThenClaimsFinished) {
  const auto a = product_bound(2.0, "test.a");
  const auto b = product_bound(2.0, "test.b");
  std::vector<std::size_t> finished;
  std::vector<std::string> phases;  // phases over all claims, in the order first reported
  long claim_phase_calls = 0;
  verify_claims({a.get(), b.get()}, small_budget(3), 2,
                [&](std::size_t done, std::size_t total, std::string_view claim,
                    std::string_view phase, long step, long steps) {
                  EXPECT_EQ(total, 2u);
                  if (!claim.empty()) {  // a claim's own phase: while its verdict is concluded
                    ++claim_phase_calls;
                    EXPECT_TRUE(claim == "test.a" || claim == "test.b") << claim;
                    EXPECT_FALSE(phase.empty());
                  } else if (!phase.empty()) {
                    EXPECT_EQ(done, 0u);  // no claim is finished before the last phase
                    EXPECT_GE(step, 1);
                    EXPECT_LE(step, steps);
                    if (phases.empty() || phases.back() != phase) phases.emplace_back(phase);
                  } else {
                    finished.push_back(done);
                  }
                });
  EXPECT_EQ(finished, (std::vector<std::size_t>{1, 2}));
  EXPECT_EQ(phases, (std::vector<std::string>{"sampling", "local search", "certifying", "certifying the rest"}));
  EXPECT_GT(claim_phase_calls, 0);  // "certifying i/n" as each claim's verdict reads them
}

// The error of a failing claim keeps its kind (what decides the exit code) and names the claim,
// whichever command runs it: `verify` used to turn every claim error into std::logic_error
// (exit 5) and `report` into std::runtime_error (exit 4).
TEST(VerifyClaims, AFailingClaimIsNamedAndItsErrorKeepsItsKind) {
  const auto good = product_bound(2.0, "test.good");
  const ThrowingClaim bad_input("test.bad-input", [] { throw std::invalid_argument("no such input"); });
  const ThrowingClaim bug("test.bug", [] { throw std::logic_error("broken invariant"); });
  for (int jobs : {1, 2}) {
    SCOPED_TRACE("jobs " + std::to_string(jobs));
    try {
      verify_claims({good.get(), &bad_input}, small_budget(1), jobs);
      ADD_FAILURE() << "no exception";
    } catch (const ClaimVerificationError& e) {
      EXPECT_EQ(e.claim_id(), "test.bad-input");
      EXPECT_STREQ(e.what(), "verifying test.bad-input: no such input");
      EXPECT_THROW(std::rethrow_exception(e.cause()), std::invalid_argument);
    }
    try {
      verify_claims({&bug, good.get()}, small_budget(1), jobs);
      ADD_FAILURE() << "no exception";
    } catch (const ClaimVerificationError& e) {
      EXPECT_STREQ(e.what(), "verifying test.bug: broken invariant");
      try {
        std::rethrow_exception(e.cause());
      } catch (const std::invalid_argument&) {
        ADD_FAILURE() << "a logic error became an input error";
      } catch (const std::logic_error&) {
      }
    }
  }
}

}  // namespace
}  // namespace attncert
