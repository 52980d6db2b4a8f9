// The MPFI checker on hand-built certificates of known truth: true goals with a correct tree
// check valid; every tampering (a moved split point, a removed leaf, a lowered bound, a widened
// box, a flipped monotone direction, a wrong method) is found, at the right place.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <random>
#include <string>
#include <utility>

#include "proofs_checks/proof_checker.hpp"

namespace attncert {
namespace {

ProofNode naive(long precision = 53) {
  ProofNode n;
  n.method = LeafMethod::Naive;
  n.precision = precision;
  return n;
}

ProofNode mean_value(std::vector<double> center) {
  ProofNode n;
  n.method = LeafMethod::MeanValue;
  n.center = std::move(center);
  return n;
}

ProofNode second_order(std::vector<double> center) {
  ProofNode n;
  n.method = LeafMethod::SecondOrder;
  n.center = std::move(center);
  return n;
}

ProofNode monotone(std::uint32_t variable, bool increasing, ProofNode face) {
  ProofNode n;
  n.method = LeafMethod::Monotone;
  n.variable = variable;
  n.increasing = increasing;
  n.face = std::make_unique<ProofNode>(std::move(face));
  return n;
}

ProofNode split(std::uint32_t variable, double at, ProofNode below, ProofNode above) {
  ProofNode n;
  n.is_split = true;
  n.variable = variable;
  n.at = at;
  n.below = std::make_unique<ProofNode>(std::move(below));
  n.above = std::make_unique<ProofNode>(std::move(above));
  return n;
}

// One goal "lhs REL rhs" with the program built by `build` (which returns {lhs, rhs}).
template <class Build>
ProofCertificate certificate(std::vector<std::string> variables, Build build, Relation rel, ProofBox box,
                             ProofNode tree) {
  ProvedGoal g;
  g.goal.name = "test goal";
  g.goal.program = ElementaryProgram(std::move(variables));
  std::tie(g.goal.lhs, g.goal.rhs) = build(g.goal.program);
  g.goal.relation = rel;
  g.goal.box = std::move(box);
  g.tree = std::move(tree);
  ProofCertificate c;
  c.claim_id = "test";
  c.goals.push_back(std::move(g));
  return c;
}

// x^2 <= 1 on [-1, 1]: attained at both ends, so only exact endpoint powers show it.
ProofCertificate square_below_one(ProofNode tree, ProofBox box = {{-1}, {1}}, std::string bound = "1",
                                  Relation rel = Relation::LessEqual) {
  return certificate(
      {"x"},
      [&](ElementaryProgram& p) {
        const auto x = p.variable(0u);
        return std::pair{p.power(x, 2), p.constant(bound)};
      },
      rel, std::move(box), std::move(tree));
}

// min(x, 1 - x) <= 1/2 on [0, 1]: the naive enclosure shows it on [0, s] and [s, 1] only for
// s = 1/2 exactly, so a moved split point must fail.
ProofCertificate tent(ProofNode tree, std::string bound = "0.5") {
  return certificate(
      {"x"},
      [&](ElementaryProgram& p) {
        const auto x = p.variable(0u);
        const auto one_minus_x = p.binary(ElementaryOp::Subtract, p.constant("1"), x);
        return std::pair{p.binary(ElementaryOp::Min, x, one_minus_x), p.constant(bound)};
      },
      Relation::LessEqual, {{0}, {1}}, std::move(tree));
}

// x (1 - x) <= bound on [0, 1] (the maximum is 1/4, at x = 1/2).
ProofCertificate parabola(ProofNode tree, std::string bound, Relation rel = Relation::LessEqual) {
  return certificate(
      {"x"},
      [&](ElementaryProgram& p) {
        const auto x = p.variable(0u);
        const auto one_minus_x = p.binary(ElementaryOp::Subtract, p.constant("1"), x);
        return std::pair{p.binary(ElementaryOp::Multiply, x, one_minus_x), p.constant(bound)};
      },
      rel, {{0}, {1}}, std::move(tree));
}

void expect_valid(const ProofCertificate& c, long leaves) {
  const ProofCheckReport r = check_proof_certificate(c);
  EXPECT_TRUE(r.valid) << r.failure;
  EXPECT_EQ(r.failure, "");
  EXPECT_EQ(r.leaves_checked, leaves);
  EXPECT_EQ(r.goals, static_cast<long>(c.goals.size()));
}

void expect_invalid(const ProofCertificate& c, const std::string& part) {
  const ProofCheckReport r = check_proof_certificate(c);
  EXPECT_FALSE(r.valid);
  EXPECT_NE(r.failure.find(part), std::string::npos) << "failure: " << r.failure << "\nexpected to contain: " << part;
  EXPECT_EQ(r.failure.find('\n'), std::string::npos) << "one line";
}

TEST(ProofChecker, SquareBelowOneWithASplitAtZero) {
  expect_valid(square_below_one(split(0, 0, naive(), naive())), 2);
}

TEST(ProofChecker, ALoweredBoundFails) {
  expect_invalid(square_below_one(split(0, 0, naive(), naive()), {{-1}, {1}}, "0.99"),
                 "leaf at tree.split.below (naive, 53 bits) on box x in [-1, 0]: f <= 0 not shown");
}

TEST(ProofChecker, AWidenedBoxFails) {
  expect_invalid(square_below_one(split(0, 0, naive(), naive()), {{-1}, {1.5}}),
                 "leaf at tree.split.above (naive, 53 bits) on box x in [0, 1.5]");
}

TEST(ProofChecker, StrictRelationAtAnAttainedBoundFails) {
  // x^2 < 1 is false at x = ±1.
  expect_invalid(square_below_one(split(0, 0, naive(), naive()), {{-1}, {1}}, "1", Relation::Less), "f < 0 not shown");
}

TEST(ProofChecker, TentNeedsItsSplitExactlyAtOneHalf) {
  expect_valid(tent(split(0, 0.5, naive(), naive())), 2);
  expect_invalid(tent(naive()), "leaf at tree (naive");
  expect_invalid(tent(split(0, 0.625, naive(), naive())), "leaf at tree.split.below (naive, 53 bits) on box x in [0, 0.625]");
  expect_invalid(tent(split(0, 0.375, naive(), naive())), "leaf at tree.split.above");
  expect_invalid(tent(split(0, 0.5, naive(), naive()), "0.4999"), "tree.split.below");
}

TEST(ProofChecker, SplitPointsMustLieStrictlyInsideTheirRange) {
  expect_invalid(tent(split(0, 1, naive(), naive())), "split point x = 1 is not strictly inside [0, 1]");
  expect_invalid(tent(split(0, 0.5, split(0, 0.75, naive(), naive()), naive())),
                 "node at tree.split.below: split point x = 0.75 is not strictly inside [0, 0.5]");
  expect_invalid(tent(split(3, 0.5, naive(), naive())), "split variable 3 out of range");
}

TEST(ProofChecker, ARemovedLeafLeavesNoCover) {
  ProofNode t = split(0, 0.5, naive(), naive());
  t.above.reset();
  expect_invalid(tent(std::move(t)), "node at tree: a split without both children: the tree is not a cover");
}

TEST(ProofChecker, MeanValueLeafWhereNaiveEvaluationFails) {
  // On [1/4, 3/4] naive gives x(1-x) in [1/16, 9/16], above 3/8; the mean-value form around 1/2
  // gives f <= (1/4 - 3/8) + [-1/2, 1/2]·[-1/4, 1/4] = 0, exactly (all values dyadic).
  const auto tree = [](ProofNode middle) {
    return split(0, 0.25, naive(), split(0, 0.75, std::move(middle), naive()));
  };
  expect_valid(parabola(tree(mean_value({0.5})), "0.375"), 3);
  expect_invalid(parabola(tree(naive()), "0.375"), "leaf at tree.split.above.split.below (naive");
  expect_invalid(parabola(tree(mean_value({0.5})), "0.37"), "by the mean-value form");
  expect_invalid(parabola(tree(mean_value({0.8})), "0.375"), "center x = 0.8 is outside [0.25, 0.75]");
  expect_invalid(parabola(tree(mean_value({})), "0.375"), "center has 0 coordinates for 1 variables");
}

TEST(ProofChecker, MonotoneLeavesCollapseToTheirFace) {
  // x^2 decreases on [-1, 0] and increases on [0, 1]: the faces x = -1 and x = 1 give f = 0.
  expect_valid(square_below_one(split(0, 0, monotone(0, false, naive()), monotone(0, true, naive()))), 2);
  expect_invalid(square_below_one(split(0, 0, monotone(0, true, naive()), monotone(0, true, naive()))),
                 "leaf at tree.split.below (monotone, 53 bits) on box x in [-1, 0]: df/dx >= 0 not shown");
  // A moved split puts both signs of the derivative in one box.
  expect_invalid(square_below_one(split(0, 0.5, monotone(0, false, naive()), monotone(0, true, naive()))),
                 "df/dx <= 0 not shown (df/dx in [-2, 1])");
}

TEST(ProofChecker, MonotoneFaceSubtreeSplitsAnotherVariable) {
  // x + min(y, 1 - y) <= 3/2 on [0, 1]^2: increasing in x; on the face x = 1, the tent in y.
  const auto cert = [](ProofNode tree) {
    return certificate(
        {"x", "y"},
        [](ElementaryProgram& p) {
          const auto x = p.variable(0u);
          const auto y = p.variable(1u);
          const auto tent_y = p.binary(ElementaryOp::Min, y, p.binary(ElementaryOp::Subtract, p.constant("1"), y));
          return std::pair{p.binary(ElementaryOp::Add, x, tent_y), p.constant("1.5")};
        },
        Relation::LessEqual, {{0, 0}, {1, 1}}, std::move(tree));
  };
  expect_valid(cert(monotone(0, true, split(1, 0.5, naive(), naive()))), 2);
  expect_invalid(cert(monotone(0, false, split(1, 0.5, naive(), naive()))), "df/dx <= 0 not shown");
  expect_invalid(cert(monotone(0, true, split(1, 0.625, naive(), naive()))),
                 "leaf at tree.monotone.face.split.below (naive, 53 bits) on box x = 1, y in [0, 0.625]");
  // The face fixes x: splitting it there is no cover.
  expect_invalid(cert(monotone(0, true, split(0, 0.5, naive(), naive()))), "not strictly inside [1, 1]");
}

TEST(ProofChecker, SecondOrderLeafAtAnAttainedMaximum) {
  // x(1 - x) <= 1/4 is attained at x = 1/2: f(1/2) = 0 and f'(1/2) = 0 exactly, f'' = -2.
  expect_valid(parabola(second_order({0.5}), "0.25"), 1);
  expect_invalid(parabola(second_order({0.5}), "0.2499"), "not shown by the second-order form");
  expect_invalid(parabola(second_order({0.5}), "0.25", Relation::Less), "f < 0 not shown");
  expect_invalid(parabola(second_order({0.25}), "0.25"), "not shown by the second-order form");  // f'(c) != 0
  // No branch-and-bound leaf can show an attained bound: naive and mean-value fail on any box
  // around the maximum.
  expect_invalid(parabola(mean_value({0.5}), "0.25"), "mean-value");
}

TEST(ProofChecker, SecondOrderInTwoVariablesNeedsANegativeSemidefiniteHessian) {
  // -x^2 - y^2 + c·xy <= 0 on [-1, 1]^2: H = [[-2, c], [c, -2]] is NSD iff |c| <= 2.
  const auto cert = [](const char* c) {
    return certificate(
        {"x", "y"},
        [&](ElementaryProgram& p) {
          const auto x = p.variable(0u);
          const auto y = p.variable(1u);
          const auto squares = p.binary(ElementaryOp::Add, p.power(x, 2), p.power(y, 2));
          const auto cross = p.binary(ElementaryOp::Multiply, p.constant(c), p.binary(ElementaryOp::Multiply, x, y));
          return std::pair{p.binary(ElementaryOp::Subtract, cross, squares), p.constant("0")};
        },
        Relation::LessEqual, {{-1, -1}, {1, 1}}, second_order({0, 0}));
  };
  expect_valid(cert("1"), 1);
  expect_valid(cert("2"), 1);  // det = 0: semidefinite, the bound still holds
  expect_invalid(cert("2.01"), "not shown negative semidefinite");
}

TEST(ProofChecker, ConstantsAreTheirDecimalsNotTheNearestDouble) {
  // The double 0.1 is 0.1000000000000000055…, above the decimal 0.1: x <= 0.1 is false there.
  const auto cert = [](double upper) {
    return certificate(
        {"x"}, [](ElementaryProgram& p) { return std::pair{p.variable(0u), p.constant("0.1")}; },
        Relation::LessEqual, {{0}, {upper}}, naive());
  };
  expect_invalid(cert(0.1), "f <= 0 not shown");
  expect_valid(cert(std::nextafter(0.1, 0.0)), 1);
}

TEST(ProofChecker, GreaterRelationsFlipTheSides) {
  // exp(x) >= 1 + x on [-1, 1] (tangent at 0): mean-value around 0 fails, the convexity does
  // not enter a first-order form, but a split at 0 with monotone leaves works:
  // f = 1 + x - exp(x) increases on [-1, 0] and decreases on [0, 1]; both faces are x = 0.
  const auto cert = [](ProofNode tree, Relation rel) {
    return certificate(
        {"x"},
        [](ElementaryProgram& p) {
          const auto x = p.variable(0u);
          return std::pair{p.unary(ElementaryOp::Exp, x), p.binary(ElementaryOp::Add, p.constant("1"), x)};
        },
        rel, {{-1}, {1}}, std::move(tree));
  };
  const auto tree = [] { return split(0, 0, monotone(0, true, naive()), monotone(0, false, naive())); };
  expect_valid(cert(tree(), Relation::GreaterEqual), 2);
  expect_invalid(cert(tree(), Relation::Greater), "f < 0 not shown");  // equality at x = 0
  expect_invalid(cert(tree(), Relation::LessEqual), "not shown");
}

TEST(ProofChecker, UndefinedOperationsFailTheLeafWithTheirReason) {
  const auto cert = [](ElementaryOp op, double lower) {
    return certificate(
        {"x"},
        [&](ElementaryProgram& p) {
          const auto x = p.variable(0u);
          const auto lhs = op == ElementaryOp::Divide ? p.binary(op, p.constant("1"), x) : p.unary(op, x);
          return std::pair{lhs, p.constant("100")};
        },
        Relation::LessEqual, {{lower}, {1}}, naive());
  };
  expect_invalid(cert(ElementaryOp::Log, 0), "which is not > 0");
  expect_invalid(cert(ElementaryOp::Sqrt, -0.5), "which has a negative part");
  expect_invalid(cert(ElementaryOp::Divide, -1), "which contains 0");
  expect_valid(cert(ElementaryOp::Log, 0.5), 1);
  expect_valid(cert(ElementaryOp::Sqrt, 0), 1);  // sqrt(0) is defined; only its derivative is not
}

TEST(ProofChecker, ClarkeGradientOfAbsAcrossZero) {
  // |x| - x/2 <= 3/2 on [-1, 1]: the mean-value form with ∂|x| in [-1, 1] gives
  // f(0) + [-3/2, 3/2]·[-1, 1] = -3/2 + 3/2 = 0.
  const auto cert = [](const char* bound) {
    return certificate(
        {"x"},
        [&](ElementaryProgram& p) {
          const auto x = p.variable(0u);
          const auto half_x = p.binary(ElementaryOp::Multiply, p.constant("0.5"), x);
          return std::pair{p.binary(ElementaryOp::Subtract, p.unary(ElementaryOp::Abs, x), half_x), p.constant(bound)};
        },
        Relation::LessEqual, {{-1}, {1}}, mean_value({0}));
  };
  expect_valid(cert("1.5"), 1);
  expect_invalid(cert("1.49"), "by the mean-value form");
}

TEST(ProofChecker, ReportsTheFirstFailingGoal) {
  ProofCertificate c = square_below_one(split(0, 0, naive(), naive()));
  ProofCertificate bad = tent(split(0, 0.625, naive(), naive()));
  bad.goals[0].goal.name = "second";
  c.goals.push_back(std::move(bad.goals[0]));
  const ProofCheckReport r = check_proof_certificate(c);
  EXPECT_FALSE(r.valid);
  EXPECT_EQ(r.goals, 2);
  EXPECT_EQ(r.failure.rfind("goal 'second': leaf at tree.split.below", 0), 0u) << r.failure;
}

TEST(ProofChecker, MalformedInMemoryCertificatesAreInvalidNotCrashes) {
  ProofCertificate c = square_below_one(naive());
  c.goals[0].goal.box = {{-1, 0}, {1, 0}};
  expect_invalid(c, "box has 2 ranges for 1 variables");
  expect_invalid(square_below_one(naive(), {{1}, {-1}}), "not a finite, non-empty interval");
  expect_invalid(square_below_one(naive(), {{-1}, {NAN}}), "not a finite, non-empty interval");
  expect_invalid(ProofCertificate{}, "no goals");
  ProofCertificate eq = square_below_one(naive());
  eq.goals[0].goal.relation = Relation::Equal;
  expect_invalid(eq, "relation ==");
}


// ---- randomised: a false statement never checks ----------------------------------------

// A random program in x, y of depth <= 5, defined and smooth enough everywhere on [-2, 2]^2
// (divisions by 1 + z^2 and logs of 1 + z^2 only), so every method can be tried on it.
std::uint32_t random_term(ElementaryProgram& p, std::mt19937_64& rng, int depth) {
  std::uniform_int_distribution<int> pick(0, depth <= 0 ? 2 : 12);
  const auto sub = [&] { return random_term(p, rng, depth - 1); };
  const auto one_plus_square = [&](std::uint32_t z) {
    return p.binary(ElementaryOp::Add, p.constant("1"), p.power(z, 2));
  };
  switch (pick(rng)) {
    case 0: return p.variable(0u);
    case 1: return p.variable(1u);
    case 2: return p.constant(std::uniform_int_distribution<int>(0, 1)(rng) ? "0.3" : "-1.25");
    case 3: return p.binary(ElementaryOp::Add, sub(), sub());
    case 4: return p.binary(ElementaryOp::Subtract, sub(), sub());
    case 5: return p.binary(ElementaryOp::Multiply, sub(), sub());
    case 6: return p.binary(ElementaryOp::Divide, sub(), one_plus_square(sub()));
    case 7: return p.unary(ElementaryOp::Exp, p.binary(ElementaryOp::Divide, sub(), one_plus_square(sub())));
    case 8: return p.unary(ElementaryOp::Log, one_plus_square(sub()));
    case 9: return p.unary(ElementaryOp::Abs, sub());
    case 10: return p.binary(ElementaryOp::Max, sub(), sub());
    case 11: return p.binary(ElementaryOp::Min, sub(), sub());
    default: return p.power(sub(), 3);
  }
}

// For random programs f and random boxes, the largest value M of f found at sampled points of the
// box makes "f <= M - margin" false there; no tree over the box may check valid for it, whatever
// its methods. margin = 1e-6·(1 + |M|) dominates the double evaluation's error (depth <= 5,
// |f| <= ~1e4 on these boxes: relative errors ~1e-13).
TEST(ProofChecker, RandomFalseStatementsNeverCheck) {
  const std::uint64_t seed = 20261203;
  std::printf("RandomFalseStatementsNeverCheck: seed %llu\n", static_cast<unsigned long long>(seed));
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> unit(0, 1);
  int checked = 0;
  for (int trial = 0; trial < 300; ++trial) {
    ElementaryProgram p({"x", "y"});
    const std::uint32_t f = random_term(p, rng, 5);
    const double x0 = -2 + 3 * unit(rng), y0 = -2 + 3 * unit(rng);
    const ProofBox box{{x0, y0}, {x0 + unit(rng), y0 + unit(rng)}};
    double best = -INFINITY;
    std::vector<double> argmax;
    for (int s = 0; s < 64; ++s) {
      const double px = box.lower[0] + (box.upper[0] - box.lower[0]) * unit(rng);
      const double py = box.lower[1] + (box.upper[1] - box.lower[1]) * unit(rng);
      const double v = evaluate_in_double(p, std::vector<double>{px, py})[f];
      if (v > best) best = v, argmax = {px, py};
    }
    ASSERT_TRUE(std::isfinite(best)) << "trial " << trial << ": " << p.render(f);
    const double bound = best - 1e-6 * (1 + std::abs(best));
    ProofGoal goal;
    goal.name = "trial " + std::to_string(trial);
    goal.program = p;
    goal.lhs = f;
    goal.rhs = goal.program.constant(exact_decimal(bound));
    goal.box = box;
    const double mid_x = 0.5 * (box.lower[0] + box.upper[0]);
    ProofNode trees[] = {naive(), mean_value({mid_x, box.lower[1]}), mean_value(argmax),
                         monotone(0, true, naive()), monotone(1, false, mean_value({box.lower[0], box.lower[1]})),
                         second_order(argmax), split(0, mid_x, mean_value({mid_x, box.upper[1]}), naive())};
    for (ProofNode& tree : trees) {
      ProofCertificate c;
      c.goals.push_back({goal, tree.clone()});
      const ProofCheckReport r = check_proof_certificate(c);
      EXPECT_FALSE(r.valid) << "trial " << trial << ": " << p.render(f) << " <= " << bound << " checked valid";
      ++checked;
    }
  }
  EXPECT_EQ(checked, 300 * 7);
}

}  // namespace
}  // namespace attncert
