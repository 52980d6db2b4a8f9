// The shrinker on counterexamples whose smallest form is known: it must reach the lower end of
// every integer dimension where the violation allows it, and its result must re-certify.
#include "proofs_checks/counterexample_shrinker.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "proofs_checks/verifier.hpp"
#include "theory/expression_claim.hpp"

namespace attncert {
namespace {

// max_i v_i <= 5 over v ~ normal(0, 1), 1×L with L in [2, 1024]: refuted by one entry above 5,
// so exactly that index matters and the smallest counterexample has L = 2.
class MaxEntryBound : public InequalityClaim<MaxEntryBound> {
 public:
  using InequalityClaim::InequalityClaim;
  template <class T>
  std::vector<Inequality<T>> sides(const Instance& x, const TierContext<T>& ctx) const {
    // The largest double entry, converted exactly.
    return {{"max", ctx.from(x.array("v").maxCoeff()), Relation::LessEqual, ctx.from(5.0)}};
  }
};

std::unique_ptr<Claim> max_entry_bound() {
  ClaimInfo info;
  info.id = "test.max-entry";
  return std::make_unique<MaxEntryBound>(
      info, SearchSpace{{{"L", 2, 1024, true, false, ""}}, {{"v", "1", "L", Law::Normal, 0, 1, false, ""}}});
}

TEST(CounterexampleShrinker, FindsTheOneIndexThatMattersAmongAThousand) {
  const auto claim = max_entry_bound();
  Instance x;
  x.scalars = {{"L", 1000}};
  RowMatrix<double> v(1, 1000);
  for (Eigen::Index i = 0; i < v.cols(); ++i) v(0, i) = 0.001 * static_cast<double>(i % 7);
  v(0, 617) = 10.123456789;
  x.arrays["v"] = v;
  ASSERT_EQ(certify_instance(*claim, x).status, InstanceStatus::Refuted);
  // Dropping single indices from the end needs ~380 certifications to pass index 617; 200 is
  // the engine's default budget.
  const Instance small = shrink_counterexample(*claim, x, {}, 200);
  EXPECT_EQ(small.scalar("L"), 2);
  ASSERT_EQ(small.array("v").cols(), 2);
  EXPECT_GT(std::max(small.array("v")(0, 0), small.array("v")(0, 1)), 5);
  EXPECT_EQ(certify_instance(*claim, small).status, InstanceStatus::Refuted);
}

// The example: L = 98 was reported where L = 3, the lower end of the range, suffices.
TEST(CounterexampleShrinker, ConjectureShrinksToTheLowerEndOfItsRange) {
  const std::uint64_t seed = 1;
  SCOPED_TRACE("seed " + std::to_string(seed));
  const auto claim = make_expression_claim("alpha_max <= exp(Delta/T)/L",
                                           "L in [3,256], d in [1,8], T in [0.1,10], q ~ normal(0,1), K ~ normal(0,1)");
  VerifyOptions o;
  o.seed = seed;
  const ClaimResult r = verify_claim(*claim, o);
  ASSERT_EQ(r.verdict, DomainVerdict::Refuted);
  ASSERT_TRUE(r.counterexample && r.counterexample_certificate);
  EXPECT_EQ(r.counterexample->scalar("L"), 3) << r.counterexample->describe();
  EXPECT_EQ(r.counterexample->array("K").rows(), 3);
  // verify_claim re-certified the shrunk instance; so does a fresh certification.
  EXPECT_EQ(r.counterexample_certificate->status, InstanceStatus::Refuted);
  EXPECT_EQ(certify_instance(*claim, *r.counterexample).status, InstanceStatus::Refuted);
}

// An integer that sizes no array is lowered too, within the domain: N <= L is checked by the
// claim's hypotheses, so L cannot go below N until N has gone down.
class CountBound : public InequalityClaim<CountBound> {
 public:
  using InequalityClaim::InequalityClaim;
  Tri admissible(const Instance& x, long) const override {
    return x.scalar("N") <= x.scalar("L") ? Tri::True : Tri::False;
  }
  template <class T>
  std::vector<Inequality<T>> sides(const Instance& x, const TierContext<T>& ctx) const {
    // Violated when w_0 > 1, whatever N and L.
    return {{"w0", ctx.from(x.array("w")(0, 0)), Relation::LessEqual, ctx.from(1.0)}};
  }
};

TEST(CounterexampleShrinker, LowersIntegersThatSizeNoArrayWithinTheDomain) {
  ClaimInfo info;
  info.id = "test.count";
  CountBound claim(info, SearchSpace{{{"L", 1, 64, true, false, ""}, {"N", 1, 64, true, false, ""}},
                                     {{"w", "1", "L", Law::Normal, 0, 1, false, ""}}});
  Instance x;
  x.scalars = {{"N", 40}, {"L", 50}};
  x.arrays["w"] = RowMatrix<double>::Constant(1, 50, 0.5);
  x.arrays["w"](0, 0) = 3;
  ASSERT_EQ(certify_instance(claim, x).status, InstanceStatus::Refuted);
  const Instance small = shrink_counterexample(claim, x, {}, 200);
  EXPECT_EQ(small.scalar("N"), 1);
  EXPECT_EQ(small.scalar("L"), 1);
  EXPECT_GT(small.array("w")(0, 0), 1);
  EXPECT_EQ(certify_instance(claim, small).status, InstanceStatus::Refuted);
}

}  // namespace
}  // namespace attncert
