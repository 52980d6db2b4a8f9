// The catalog's proof plans (Claim::proof_plans, theory/proof_plan.hpp) state what their claims
// state: at sampled points of a plan's domain, the plan's two sides are the claim's own side
// evaluated on a corresponding claim instance (same left side, a right side at least as
// strong), in certified Ball arithmetic. And every plan becomes prover goals with few variables.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <iostream>
#include <map>
#include <string>
#include <variant>

#include "numerics/ball.hpp"
#include "numerics/rng.hpp"
#include "proofs_checks/proof_goals.hpp"
#include "theory/catalog.hpp"
#include "theory/domain.hpp"
#include "theory/expression.hpp"
#include "theory/quantities.hpp"

namespace attncert {
namespace {

constexpr std::uint64_t kSeed = 1203;
constexpr long kPrecision = 128;
constexpr int kSamplesPerPlan = 60;
// The issue's budget for a plan: a prover's cost grows exponentially with the variable count.
constexpr std::size_t kMaxPlanVariables = 5;

// A sampled point of a plan's domain: the logits, T and L (the only inputs the plans use).
struct PlanPoint {
  std::vector<double> logits;
  double T = 1;
};

Instance plan_instance(const PlanPoint& p) {
  Instance x;
  x.scalars["T"] = p.T;
  x.scalars["L"] = static_cast<double>(p.logits.size());
  x.arrays["logits"] = RowMatrix<double>(1, static_cast<Eigen::Index>(p.logits.size()));
  for (std::size_t j = 0; j < p.logits.size(); ++j) x.arrays["logits"](0, static_cast<Eigen::Index>(j)) = p.logits[j];
  return x;
}

double max_abs(const std::vector<double>& v) {
  double m = 0;
  for (const double e : v) m = std::max(m, std::abs(e));
  return m;
}

// The smallest power of two >= m (1 for m = 0): dividing a double by it is exact, so a claim
// that writes l = a·u gets back exactly the plan's logits.
double power_of_two_above(double m) { return m == 0 ? 1.0 : std::exp2(std::ceil(std::log2(m))); }

RowMatrix<double> row(const std::vector<double>& v) {
  RowMatrix<double> r(1, static_cast<Eigen::Index>(v.size()));
  for (std::size_t j = 0; j < v.size(); ++j) r(0, static_cast<Eigen::Index>(j)) = v[j];
  return r;
}

// For each claim with plans: a claim instance the plan's point stands for, and the factor
// (side_scale) by which the plan's sides must be multiplied to give the claim's. The parameter
// the reduction replaces (Δ, a, R) is set to max_j |l_j| or a little above it, the case the
// reduction's monotonicity argument reduces every other case to. Where a plan fixes T = 1 and
// its reduction says that covers every T (both sides depend on l/T only), the claim instance
// has a random temperature T = 2^k and logits T·l (exact in double, so the check is exact).
struct ClaimPoint {
  Instance instance;
  double side_scale = 1;
};
using ClaimInstance = std::function<ClaimPoint(const PlanPoint&, Rng&)>;

double random_power_of_two(Rng& rng) { return std::ldexp(1.0, static_cast<int>(rng.uniform_int(-3, 3))); }

std::vector<double> scaled(const std::vector<double>& v, double factor) {
  std::vector<double> r;
  for (const double e : v) r.push_back(e * factor);
  return r;
}

Instance cor1_instance(const std::vector<double>& logits, double T) {
  // d = 1, q = (1), k_j = (l_j): logits qᵀk_j = l_j and Δ = max_j |l_j| exactly.
  Instance x;
  x.scalars = {{"L", static_cast<double>(logits.size())}, {"d", 1.0}, {"T", T}};
  x.arrays["q"] = RowMatrix<double>::Ones(1, 1);
  x.arrays["K"] = row(logits).transpose();
  return x;
}

ClaimPoint cor1_point(const PlanPoint& p, Rng& rng) {
  const double T = p.T * random_power_of_two(rng);
  return {cor1_instance(scaled(p.logits, T / p.T), T)};
}

const std::map<std::string, ClaimInstance>& claim_instances() {
  static const std::map<std::string, ClaimInstance> m = {
      {"A.cor1", cor1_point},
      {"A.cor1-tight", cor1_point},
      {"A.lemma1-exp",
       [](const PlanPoint& p, Rng& rng) {
         const double T = p.T * random_power_of_two(rng);
         const std::vector<double> l = scaled(p.logits, T / p.T);
         const double a = power_of_two_above(max_abs(l));
         std::vector<double> u;
         for (const double e : l) u.push_back(e / a);
         Instance x;
         x.scalars = {{"L", static_cast<double>(u.size())}, {"a", a}, {"T", T}};
         x.arrays["u"] = row(u);
         return ClaimPoint{x};
       }},
      {"C.jacobian-softmax",
       [](const PlanPoint& p, Rng& rng) {
         // T·‖J(l, T)‖ = ‖J(l/T, 1)‖: the claim's sides are the plan's divided by T/p.T.
         const double T = p.T * random_power_of_two(rng);
         return ClaimPoint{plan_instance({scaled(p.logits, T / p.T), T}), p.T / T};
       }},
      {"C.taylor2",
       [](const PlanPoint& p, Rng&) {
         // L = 1, d = 1: s = q·k = l.
         Instance x;
         x.scalars = {{"L", 1.0}, {"d", 1.0}};
         x.arrays["q"] = RowMatrix<double>::Ones(1, 1);
         x.arrays["K"] = row(p.logits);
         return ClaimPoint{x};
       }},
      {"B.spike-softmax",
       [](const PlanPoint& p, Rng&) {
         // D₀ with s0 = the logits and R = max_j |l_j|; the D₁ inputs are any valid ones.
         const std::size_t n = p.logits.size();
         Instance x;
         x.scalars = {{"n", static_cast<double>(n)}, {"R", max_abs(p.logits)}, {"B", 1.0}, {"eps", 0.1}};
         std::vector<double> s(n, 0.0);
         s[0] = 1.0;
         x.arrays["s"] = row(s);
         x.arrays["s0"] = row(p.logits);
         return ClaimPoint{x};
       }},
  };
  return m;
}

// A point of the plan's domain, drawn uniformly per item (integer ranges uniformly too).
PlanPoint sample(const Domain& domain, Rng& rng) {
  PlanPoint p;
  long L = 1;
  double lo = 0, hi = 0;
  bool have_logits = false;
  for (const DomainItem& item : domain.items) {
    if (const auto* r = std::get_if<DomainRange>(&item.spec)) {
      const double v = r->integer ? static_cast<double>(rng.uniform_int(static_cast<long>(r->lower),
                                                                         static_cast<long>(r->upper)))
                                  : rng.uniform(r->lower, r->upper);
      if (item.name == "L") L = static_cast<long>(v);
      else if (item.name == "T") p.T = v;
      else ADD_FAILURE() << "plan domain item the test does not sample: " << item.name;
    } else if (const auto* f = std::get_if<DomainFixed>(&item.spec)) {
      if (item.name == "L") L = static_cast<long>(f->value);
      else if (item.name == "T") p.T = f->value;
      else ADD_FAILURE() << "plan domain item the test does not sample: " << item.name;
    } else if (const auto* b = std::get_if<ArrayBox>(&item.spec)) {
      EXPECT_EQ(item.name, "logits");
      lo = b->lower;
      hi = b->upper;
      have_logits = true;
    } else {
      ADD_FAILURE() << "plan domain item is not bounded: " << item.name;
    }
  }
  EXPECT_TRUE(have_logits);
  // A few exact ties: where several of the bounds are attained.
  if (rng.below(5) == 0) {
    p.logits.assign(static_cast<std::size_t>(L), rng.uniform(lo, hi));
  } else {
    p.logits = rng.uniform_vector(static_cast<std::size_t>(L), lo, hi);
  }
  return p;
}

std::vector<const Claim*> claims_with_plans() {
  std::vector<const Claim*> r;
  for (const auto& c : catalog()) {
    if (!c->proof_plans().empty()) r.push_back(c.get());
  }
  return r;
}

TEST(ProofPlans, TheCatalogHasThePlansTheIssueAsksFor) {
  std::vector<std::string> ids;
  for (const Claim* c : claims_with_plans()) ids.push_back(c->info().id);
  for (const std::string& id : {"A.cor1", "A.cor1-tight", "A.lemma1-exp", "C.jacobian-softmax", "C.taylor2"}) {
    EXPECT_NE(std::find(ids.begin(), ids.end(), id), ids.end()) << id << " has no plan";
  }
  // The refuted Jacobian bound and the identities have none: a plan must be provable.
  for (const std::string& id : {"A.cor3", "A.lemma2-exp", "C.topk"}) {
    EXPECT_TRUE(catalog_claim(id).proof_plans().empty()) << id;
  }
}

TEST(ProofPlans, EveryPlanParsesAndBecomesFewVariableGoals) {
  for (const Claim* c : claims_with_plans()) {
    for (const ProofPlan& plan : c->proof_plans()) {
      SCOPED_TRACE(c->info().id + ": " + plan.inequality + " over " + plan.domain);
      EXPECT_FALSE(plan.side.empty());
      EXPECT_FALSE(plan.reduction.empty());
      EXPECT_EQ(plan.reduction.find('\n'), std::string::npos);
      EXPECT_NO_THROW(parse_inequality(plan.inequality));
      EXPECT_NO_THROW(parse_domain(plan.domain));
      const PlannedGoals planned = goals_for_plan(plan);
      ASSERT_FALSE(planned.goals.empty());
      for (const ProofGoal& goal : planned.goals) {
        EXPECT_LE(goal.program.variables().size(), kMaxPlanVariables) << goal.name;
        EXPECT_EQ(goal.box.dimension(), goal.program.variables().size()) << goal.name;
        for (std::size_t i = 0; i < goal.box.dimension(); ++i) {
          EXPECT_TRUE(std::isfinite(goal.box.lower[i]) && std::isfinite(goal.box.upper[i]));
          EXPECT_LE(goal.box.lower[i], goal.box.upper[i]);
        }
      }
    }
  }
}

// The plan's sides at a point, certified.
struct PlanSides {
  Ball lhs, rhs;
  Relation relation;
};

PlanSides evaluate_plan(const InequalityExpression& ineq, const Instance& x) {
  const Lookup<Ball> env = [&](std::string_view name) {
    return quantity<Ball>(name, x, TierContext<Ball>{kPrecision});
  };
  return {ineq.lhs.evaluate(env, kPrecision), ineq.rhs.evaluate(env, kPrecision), ineq.relation};
}

// True when the two balls enclose what may be one number, and each is narrow enough that this
// says something (relative radius <= 2^-60 at 128 bits, far below any difference between two
// different quantities at a random point).
::testing::AssertionResult same_number(const Ball& a, const Ball& b) {
  const double scale = std::max({1.0, std::abs(a.mid()), std::abs(b.mid())});
  if (!(a.radius() <= 0x1p-60 * scale && b.radius() <= 0x1p-60 * scale)) {
    return ::testing::AssertionFailure() << "too wide: " << a.str() << " vs " << b.str();
  }
  if (!a.overlaps(b)) return ::testing::AssertionFailure() << a.str() << " != " << b.str();
  return ::testing::AssertionSuccess();
}

TEST(ProofPlans, PlanSidesAreTheClaimSidesAtSampledPoints) {
  std::cout << "seed " << kSeed << "\n";
  for (const Claim* c : claims_with_plans()) {
    const std::string& id = c->info().id;
    const auto mapping = claim_instances().find(id);
    ASSERT_NE(mapping, claim_instances().end()) << id << " has plans but no claim-instance mapping in this test";
    const std::vector<ProofPlan> plans = c->proof_plans();  // returned by value
    for (std::size_t k = 0; k < plans.size(); ++k) {
      const ProofPlan& plan = plans[k];
      SCOPED_TRACE(id + " [" + plan.side + "]: " + plan.inequality);
      const InequalityExpression ineq = parse_inequality(plan.inequality);
      const Domain domain = parse_domain(plan.domain);
      Rng rng = Rng(kSeed).substream(std::hash<std::string>{}(id) ^ k);
      int matched = 0;
      for (int s = 0; s < kSamplesPerPlan; ++s) {
        const PlanPoint p = sample(domain, rng);
        const ClaimPoint claim_point = mapping->second(p, rng);
        const Instance& claim_x = claim_point.instance;
        SCOPED_TRACE(claim_x.describe());
        PlanSides mine = evaluate_plan(ineq, plan_instance(p));
        mine.lhs *= claim_point.side_scale;  // a power of two: exact
        mine.rhs *= claim_point.side_scale;
        for (const Inequality<Ball>& side : c->evaluate_ball(claim_x, kPrecision)) {
          if (side.name != plan.side && side.family != plan.side) continue;
          ++matched;
          ASSERT_EQ(mine.relation, side.rel);
          EXPECT_TRUE(same_number(mine.lhs, side.lhs)) << "left sides differ";
          // At least as strong: a smaller upper bound, a larger lower bound (or the same).
          if (side.rel == Relation::LessEqual || side.rel == Relation::Less) {
            EXPECT_FALSE(certainly(mine.rhs > side.rhs)) << mine.rhs.str() << " > " << side.rhs.str();
          } else {
            EXPECT_FALSE(certainly(mine.rhs < side.rhs)) << mine.rhs.str() << " < " << side.rhs.str();
          }
        }
      }
      EXPECT_GE(matched, kSamplesPerPlan) << "no claim side named '" << plan.side << "'";
    }
  }
}

// The goals compute what the plan states: at random points of each goal's box, the lowered
// program's two sides (double) agree with the plan's expression over the registry's own
// quantities (double). Tolerance: both are double computations of the same numbers by different
// formulas, the exponents |l_j − l_i|/T reach 800 on these boxes, so each carries a relative
// error up to ~800·u ≈ 2e-13 (plus the ≈ 4.7e-8 of the L = 3 Jacobian form, see
// elementary_forms_test.cpp); 1e-7 relative, with an absolute floor of 1e-300 for values that
// underflow to 0 in one formula and not the other.
TEST(ProofPlans, GoalProgramsComputeThePlanStatement) {
  std::cout << "seed " << kSeed + 1 << "\n";
  Rng rng(kSeed + 1);
  int compared = 0;
  for (const Claim* c : claims_with_plans()) {
    for (const ProofPlan& plan : c->proof_plans()) {
      SCOPED_TRACE(c->info().id + ": " + plan.inequality);
      const InequalityExpression ineq = parse_inequality(plan.inequality);
      const PlannedGoals planned = goals_for_plan(plan);
      for (const ProofGoal& goal : planned.goals) {
        for (int s = 0; s < 40; ++s) {
          std::vector<double> point;
          PlanPoint p;
          for (std::size_t i = 0; i < goal.box.dimension(); ++i) {
            const double lo = goal.box.lower[i], hi = goal.box.upper[i];
            point.push_back(lo == hi ? lo : rng.uniform(lo, hi));
            const std::string& name = goal.program.variables()[i];
            if (name == "T") p.T = point.back();
            else if (name.rfind("logits_", 0) == 0) p.logits.push_back(point.back());
            else ADD_FAILURE() << "unexpected proof variable " << name;
          }
          const std::vector<double> v = evaluate_in_double(goal.program, point);
          const Instance x = plan_instance(p);
          const Lookup<double> env = [&](std::string_view n) {
            return quantity<double>(n, x, TierContext<double>{53});
          };
          const double lhs = ineq.lhs.evaluate(env), rhs = ineq.rhs.evaluate(env);
          ++compared;
          for (const auto& [mine, theirs] : {std::pair{v.at(goal.lhs), lhs}, std::pair{v.at(goal.rhs), rhs}}) {
            if (std::isinf(theirs) && mine == theirs) continue;  // e^{800}: both overflow
            EXPECT_NEAR(mine, theirs, std::max(1e-300, 1e-7 * std::abs(theirs))) << goal.name << " at " << x.describe();
          }
        }
      }
    }
  }
  EXPECT_GE(compared, 40 * 10);  // every plan's every goal was visited
}

// The check above is not vacuous: a plan with the other weight, or a weaker bound, fails it.
TEST(ProofPlans, TheComparisonCatchesAWrongQuantityOrAWeakerBound) {
  const Claim& cor1 = catalog_claim("A.cor1");
  const PlanPoint p{{3.0, -1.5, 0.25}, 0.8};
  const Inequality<Ball> upper = cor1.evaluate_ball(cor1_instance(p.logits, p.T), kPrecision).at(0);
  ASSERT_EQ(upper.name, "upper");
  const PlanSides wrong_lhs = evaluate_plan(
      parse_inequality("alpha_min <= exp(2*max(abs(logit_max), abs(logit_min))/T)/L"), plan_instance(p));
  EXPECT_FALSE(same_number(wrong_lhs.lhs, upper.lhs));
  const PlanSides weaker = evaluate_plan(
      parse_inequality("alpha_max <= exp(2*logit_range/T)/L"), plan_instance(p));
  EXPECT_TRUE(certainly(weaker.rhs > upper.rhs));
}

}  // namespace
}  // namespace attncert
