// goals_for_plan: how a bounded statement becomes prover goals — checked against goals whose
// variables, boxes and values are known.
#include "proofs_checks/proof_goals.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "theory/expression_scanner.hpp"

namespace attncert {
namespace {

ProofPlan plan(std::string inequality, std::string domain) {
  return {"upper", std::move(inequality), std::move(domain), "the statement itself"};
}

TEST(ProofGoals, IntegerRangesEnumerateAndArrayBoxesBecomeVariables) {
  const PlannedGoals p = goals_for_plan(plan("lse <= logit_max + log(L)", "L in [2, 4], logits in [-20, 20]^L, T = 1"));
  ASSERT_EQ(p.goals.size(), 3U);
  EXPECT_EQ(p.scope, "L in {2, 3, 4}, logits in [-20, 20]^L, T = 1");
  const ProofGoal& g = p.goals[1];
  EXPECT_EQ(g.name, "upper, L = 3");
  EXPECT_EQ(g.program.variables(), (std::vector<std::string>{"logits_1", "logits_2", "logits_3", "T"}));
  EXPECT_EQ(g.box.lower, (std::vector<double>{-20, -20, -20, 1}));
  EXPECT_EQ(g.box.upper, (std::vector<double>{20, 20, 20, 1}));
  EXPECT_EQ(g.relation, Relation::LessEqual);
  // The program computes the statement: at l = (0, 0, 0), lse = log 3 = logit_max + log 3.
  const double zero[] = {0, 0, 0, 1};
  const auto v = evaluate_in_double(g.program, zero);
  EXPECT_NEAR(v[g.lhs], std::log(3.0), 1e-15);  // a few roundings of log and exp near 1
  EXPECT_NEAR(v[g.rhs], std::log(3.0), 1e-15);
  // And the instance at a point is the domain's instance.
  const double point[] = {1, 2, 3, 1};
  const Instance x = instance_at(p, 1, point);
  EXPECT_EQ(x.scalar("L"), 3);
  EXPECT_EQ(x.scalar("T"), 1);
  EXPECT_EQ(x.array("logits")(0, 2), 3);
}

TEST(ProofGoals, BoxesRoundOutwardSoTheWrittenDomainIsCovered) {
  const PlannedGoals p = goals_for_plan(plan("T <= 5", "T in [0.05, 0.1]"));
  ASSERT_EQ(p.goals.size(), 1U);
  const ProofBox& b = p.goals[0].box;
  EXPECT_LT(b.lower[0], 0.05);  // the double nearest 0.05 lies above it
  EXPECT_EQ(b.upper[0], 0.1);   // the double nearest 0.1 lies above it: already outward
  EXPECT_EQ(p.goals[0].name, "upper");
  // A fixed value means the decimal written: T = 0.1 gives the two doubles around one tenth.
  const PlannedGoals fixed = goals_for_plan(plan("T > 0.1", "T = 0.1"));
  EXPECT_EQ(fixed.goals[0].box.lower[0], std::nextafter(0.1, 0.0));
  EXPECT_EQ(fixed.goals[0].box.upper[0], 0.1);
}

TEST(ProofGoals, RefusesWhatCannotBeProved) {
  const auto refused = [](const char* ineq, const char* domain, const char* part) {
    try {
      goals_for_plan(plan(ineq, domain));
      ADD_FAILURE() << domain << ": accepted";
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
    }
  };
  refused("alpha_max <= 1", "L in [2, 3], logits ~ normal(0, 3)", "drawn from a law, not bounded");
  refused("alpha_max <= 1", "L in [2, 300], logits in [-1, 1]^L", "more than the 64 goals");
  refused("alpha_max <= 1", "L in [13, 13], logits in [-1, 1]^L", "more than the 12 a proof may have");
  refused("alpha_max <= 1", "logits in [-1, 1]^L", "needs a fixed size L");
  EXPECT_THROW(goals_for_plan(plan("T <= ", "T in [1, 2]")), ParseError);
}

}  // namespace
}  // namespace attncert
