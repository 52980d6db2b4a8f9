// The Coq back end on statements whose truth is known by hand: coqc accepts the replayed proof
// of a true goal, rejects the same file with its bound lowered below the true maximum, and the
// certificates Coq cannot take get a one-line reason. The coqc runs skip (with the reason) where
// coqc or CoqInterval is missing; CI installs both (Debian coq, libcoq-interval), so there they run.
#include "proofs_checks/coq_proof.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <limits>
#include <cmath>
#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <string>

#include "proofs_checks/box_prover.hpp"

namespace attncert {
namespace {

namespace fs = std::filesystem;

ProofNode leaf(LeafMethod method, std::vector<double> center = {}) {
  ProofNode n;
  n.method = method;
  n.precision = 53;
  n.center = std::move(center);
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

// exp(x) − x <= bound over x ∈ [−1, 1]. The maximum is e − 1 = 1.71828… at x = 1 (f' = e^x − 1
// has one zero, a minimum at 0; f(−1) = 1.3679), so bound 1.72 is true and 1.7 false. The tree
// is a chain deeper than the Coq writer's chunk depth (18), so that both of its ways are used:
// split at 0 (below: [−1, 0], a mean-value leaf — naive gives e⁰ + 1 = 2), then at 1 − 2^−k for
// k = 1 … 20, each lower piece [1 − 2^−(k−1), 1 − 2^−k] a naive leaf for k = 1 (upper end 1.65)
// and mean-value beyond (naive: e − 0.5 > 1.72), the last piece [1 − 2^−20, 1] mean-value.
// The top splits are replayed as case analyses, the chain below depth 18 is one interval call.
ProofNode exp_minus_x_tree(int k = 1) {
  if (k > 20) return leaf(LeafMethod::MeanValue, {1});
  const double below_end = 1 - std::ldexp(1.0, -k);
  return split(0, below_end, leaf(k == 1 ? LeafMethod::Naive : LeafMethod::MeanValue, {below_end}),
               exp_minus_x_tree(k + 1));
}

ProvedGoal exp_minus_x_goal() {
  ElementaryProgram p({"x"});
  const auto x = p.variable(0U);
  const auto lhs = p.binary(ElementaryOp::Subtract, p.unary(ElementaryOp::Exp, x), x);
  const auto rhs = p.constant("1.72");
  ProvedGoal g{ProofGoal{"exp(x) - x, x in [-1, 1]", p, lhs, rhs, Relation::LessEqual, ProofBox{{-1}, {1}}, "0"},
               split(0, 0, leaf(LeafMethod::MeanValue, {-0.5}), exp_minus_x_tree())};
  return g;
}

// max(a, b) − a·b <= bound over [0, 1]²: the maximum is 1 (at (1, 0) and (0, 1); on a ≥ b,
// a − ab = a(1 − b) <= 1), so 1.3 is true and 0.9 false. With max(a, b) = (a+b+|a−b|)/2 naive
// interval evaluation gives 1.25 on [0, .5]×[0, 1], 1.25 on [.5, 1]×[0, .5] and 1.0 on
// [.5, 1]², but 1.5 on the whole box: the tree splits a at 0.5, then b at 0.5.
ProvedGoal max_minus_product_goal() {
  ElementaryProgram p({"logits_1", "logits_2"});
  const auto a = p.variable(0U);
  const auto b = p.variable(1U);
  const auto lhs = p.binary(ElementaryOp::Subtract, p.binary(ElementaryOp::Max, a, b),
                            p.binary(ElementaryOp::Multiply, a, b));
  const auto rhs = p.constant("1.3");
  return ProvedGoal{ProofGoal{"max - product", p, lhs, rhs, Relation::LessEqual, ProofBox{{0, 0}, {1, 1}}, "0"},
                    split(0, 0.5, leaf(LeafMethod::Naive),
                          split(1, 0.5, leaf(LeafMethod::Naive), leaf(LeafMethod::MeanValue, {0.75, 0.75})))};
}

// exp(x) >= x + 1 − 0.001 over [−1, 1] (exp(x) − x − 1 >= 0, zero at 0: true only thanks to
// the slack): a >= goal with a slack, proved by monotone leaves on either side of 0.
ProvedGoal exp_above_tangent_goal() {
  ElementaryProgram p({"x"});
  const auto x = p.variable(0U);
  const auto lhs = p.unary(ElementaryOp::Exp, x);
  const auto rhs = p.binary(ElementaryOp::Add, x, p.constant("1"));
  ProofNode down = leaf(LeafMethod::Monotone), up = leaf(LeafMethod::Monotone);
  down.increasing = false;  // f = rhs − lhs − slack = x + 1 − e^x − slack increases on [−1, 0]
  down.face = std::make_unique<ProofNode>(leaf(LeafMethod::Naive));
  up.face = std::make_unique<ProofNode>(leaf(LeafMethod::Naive));
  return ProvedGoal{ProofGoal{"tangent", p, lhs, rhs, Relation::GreaterEqual, ProofBox{{-1}, {1}}, "0.001"},
                    split(0, 0, std::move(down), std::move(up))};
}

// sqrt(x + 1)·|x|·π/4 + x² + (2 + x)^−2 < 3.2 over [−1, 1]: at most 2.23 (sqrt 2 · π/4 + 1 + 1/9
// at x = 1, 2 at x = −1), and naive interval evaluation gives 1.12 + 1 + 1 = 3.12 < 3.2: a
// strict goal over the remaining operations, one naive leaf.
ProvedGoal remaining_operations_goal() {
  ElementaryProgram p({"x"});
  const auto x = p.variable(0U);
  auto t = p.binary(ElementaryOp::Multiply, p.unary(ElementaryOp::Sqrt, p.binary(ElementaryOp::Add, x, p.constant("1"))),
                    p.unary(ElementaryOp::Abs, x));
  t = p.binary(ElementaryOp::Divide, p.binary(ElementaryOp::Multiply, t, p.pi()), p.constant("4"));
  t = p.binary(ElementaryOp::Add, t, p.power(x, 2));
  t = p.binary(ElementaryOp::Add, t, p.power(p.binary(ElementaryOp::Add, p.constant("2"), x), -2));
  const auto rhs = p.unary(ElementaryOp::Negate, p.constant("-3.2"));
  return ProvedGoal{ProofGoal{"operations", p, t, rhs, Relation::Less, ProofBox{{-1}, {1}}, "0"}, leaf(LeafMethod::Naive)};
}

ProofCertificate certificate_of(std::vector<ProvedGoal> goals) {
  ProofCertificate c;
  c.claim_id = "test.coq";
  c.statement = "hand-written goals (* with a comment opener *)";
  c.domain = "boxes";
  c.scope = "as stated";
  c.goals = std::move(goals);
  return c;
}

ProofCertificate hand_certificate() {
  std::vector<ProvedGoal> goals;
  goals.push_back(exp_minus_x_goal());
  goals.push_back(max_minus_product_goal());
  goals.push_back(exp_above_tangent_goal());
  goals.push_back(remaining_operations_goal());
  return certificate_of(std::move(goals));
}

std::string replace_all(std::string text, const std::string& from, const std::string& to) {
  std::size_t count = 0;
  for (std::size_t p = 0; (p = text.find(from, p)) != std::string::npos; p += to.size(), ++count) {
    text.replace(p, from.size(), to);
  }
  EXPECT_GT(count, 0U) << "'" << from << "' is not in the Coq text";
  return text;
}

// Why the coqc tests cannot run here, or "" when they can (coqc found and Interval loads).
std::string coq_unavailable_reason() {
  static const std::string reason = [] {
    if (find_coqc().empty()) return std::string("coqc not found (Debian coq)");
    const fs::path file = fs::temp_directory_path() / "attncert_coq_probe.v";
    std::ofstream(file) << "From Interval Require Import Tactic.\n";
    const CoqRun run = run_coqc(file.string(), 60);
    fs::remove(file);
    return run.accepted ? std::string() : "CoqInterval does not load (Debian libcoq-interval): " + run.output;
  }();
  return reason;
}

// coqc's error is interval's failure on a leaf (a lone `interval`, or every choice of a
// `first [...]`), not a syntax or typing error that would reject any file.
bool failed_in_a_leaf(const std::string& output) {
  return output.find("Numerical evaluation failed") != std::string::npos ||
         output.find("No applicable tactic") != std::string::npos;
}

CoqRun coqc_on(const std::string& text, const std::string& name) {
  const fs::path file = fs::temp_directory_path() / (name + ".v");
  std::ofstream(file) << text;
  CoqRun run = run_coqc(file.string(), 120);
  fs::remove(file);
  return run;
}

TEST(CoqProof, ScriptStatesEachGoalOverItsBoxAndReplaysTheTree) {
  const ProofCertificate c = hand_certificate();
  ASSERT_EQ(coq_unsupported_reason(c), std::nullopt);
  const std::string v = coq_proof_script(c);
  // The statements as theorems, in the reals, with exact decimal constants.
  EXPECT_NE(v.find("Theorem goal_1 : forall x1 : R, (- 1) <= x1 <= 1 -> ((exp x1) - x1) <= 1.72."), std::string::npos) << v;
  EXPECT_NE(v.find("Theorem goal_2 : forall x1 x2 : R, 0 <= x1 <= 1 -> 0 <= x2 <= 1 -> ((Rmax x1 x2) - (x1 * x2)) <= 1.3."),
            std::string::npos) << v;
  EXPECT_NE(v.find("(exp x1) >= (x1 + 1) - 0.001"), std::string::npos) << v;
  EXPECT_NE(v.find(" < (- (- 3.2))"), std::string::npos) << v;
  EXPECT_NE(v.find("(/ ((2 + x1) ^ 2))"), std::string::npos) << v;
  // The original names survive in a comment; the splits are case analyses at the split points.
  EXPECT_NE(v.find("x1 = logits_1, x2 = logits_2"), std::string::npos);
  EXPECT_NE(v.find("destruct (Rle_or_lt x1 0)"), std::string::npos) << v;
  EXPECT_NE(v.find("destruct (Rle_or_lt x1 0.5)"), std::string::npos) << v;
  EXPECT_NE(v.find("i_autodiff x1"), std::string::npos) << v;
  // Shallow subtrees go to interval's own bisection on the variables they split.
  EXPECT_NE(v.find("i_bisect x1, i_bisect x2"), std::string::npos) << v;
  // The statement's "(*" must not open a nested Coq comment.
  EXPECT_EQ(v.find("(* with"), std::string::npos);
}

TEST(CoqProof, CoqcAcceptsTheReplayedProofOfTrueGoals) {
  if (const std::string why = coq_unavailable_reason(); !why.empty()) GTEST_SKIP() << why;
  const CoqRun run = coqc_on(coq_proof_script(hand_certificate()), "attncert_true_goals");
  EXPECT_TRUE(run.accepted) << run.output;
  std::cout << "coqc accepted the 4-goal file in " << run.seconds << " s\n";
}

TEST(CoqProof, CoqcRejectsTheFileWithABoundLoweredBelowTheMaximum) {
  if (const std::string why = coq_unavailable_reason(); !why.empty()) GTEST_SKIP() << why;
  // Each goal alone, its constant edited in the .v text (statement and lemmas alike) to a value
  // below its true maximum (e − 1 = 1.718…, and 1): false statements that no proof may pass.
  const std::string one = coq_proof_script(certificate_of([] {
    std::vector<ProvedGoal> g;
    g.push_back(exp_minus_x_goal());
    return g;
  }()));
  const CoqRun run1 = coqc_on(replace_all(one, "1.72", "1.7"), "attncert_false_goal_1");
  EXPECT_FALSE(run1.accepted) << run1.output;
  EXPECT_TRUE(failed_in_a_leaf(run1.output)) << run1.output;
  EXPECT_NE(run1.output.find("Error"), std::string::npos) << run1.output;

  const std::string two = coq_proof_script(certificate_of([] {
    std::vector<ProvedGoal> g;
    g.push_back(max_minus_product_goal());
    return g;
  }()));
  const CoqRun run2 = coqc_on(replace_all(two, "1.3", "0.9"), "attncert_false_goal_2");
  EXPECT_FALSE(run2.accepted) << run2.output;
  EXPECT_TRUE(failed_in_a_leaf(run2.output)) << run2.output;

  // exp(x) >= x + 1 + 0.001 is false at x = 0 (the >= form, its slack's sign flipped).
  const std::string three = coq_proof_script(certificate_of([] {
    std::vector<ProvedGoal> g;
    g.push_back(exp_above_tangent_goal());
    return g;
  }()));
  const CoqRun run3 = coqc_on(replace_all(three, "- 0.001", "+ 0.001"), "attncert_false_goal_3");
  EXPECT_FALSE(run3.accepted) << run3.output;
  EXPECT_TRUE(failed_in_a_leaf(run3.output)) << run3.output;
}

// The log-sum-exp goal, log(e^x1 + e^x2) <= max(x1, x2) + log 2 + 0.01 over [−1, 1]²
// (true: lse <= max + log n, with 0.01 to spare), and a two-logit softmax bound,
// p1·p2 <= 0.3 over [−5, 5]² (p1·p2 = p1(1 − p1) <= 1/4, approached where l1 = l2): real prover
// certificates, not hand-built trees.
ProofGoal lse2_goal() {
  ElementaryProgram p({"logits_1", "logits_2"});
  const auto a = p.variable(0U), b = p.variable(1U);
  const auto lhs = p.unary(ElementaryOp::Log, p.binary(ElementaryOp::Add, p.unary(ElementaryOp::Exp, a),
                                                        p.unary(ElementaryOp::Exp, b)));
  const auto rhs = p.binary(ElementaryOp::Add,
                            p.binary(ElementaryOp::Add, p.binary(ElementaryOp::Max, a, b),
                                     p.unary(ElementaryOp::Log, p.constant("2"))),
                            p.constant("0.01"));
  return ProofGoal{"lse, L = 2", p, lhs, rhs, Relation::LessEqual, ProofBox{{-1, -1}, {1, 1}}, "0"};
}

ProofGoal softmax2_goal() {
  ElementaryProgram p({"logits_1", "logits_2"});
  const auto e1 = p.unary(ElementaryOp::Exp, p.variable(0U));
  const auto e2 = p.unary(ElementaryOp::Exp, p.variable(1U));
  const auto sum = p.binary(ElementaryOp::Add, e1, e2);
  const auto lhs = p.binary(ElementaryOp::Multiply, p.binary(ElementaryOp::Divide, e1, sum),
                            p.binary(ElementaryOp::Divide, e2, sum));
  const auto rhs = p.constant("0.3");  // built before p is copied into the goal
  return ProofGoal{"p1 p2, L = 2", p, lhs, rhs, Relation::LessEqual, ProofBox{{-5, -5}, {5, 5}}, "0"};
}

ProofCertificate prover_certificate(const ProofGoal& goal) {
  const ProofAttempt a = prove_goal(goal);
  EXPECT_EQ(a.outcome, ProofOutcome::Proved) << goal.name << ": " << a.reason;
  std::vector<ProvedGoal> goals;
  if (a.tree) goals.push_back(ProvedGoal{goal, a.tree->clone()});
  std::cout << goal.name << ": prover " << a.seconds << " s, " << a.leaves << " leaves\n";
  return certificate_of(std::move(goals));
}

TEST(CoqProof, CoqcAcceptsProverCertificatesOfLogSumExpAndTwoLogitSoftmax) {
  if (const std::string why = coq_unavailable_reason(); !why.empty()) GTEST_SKIP() << why;
  for (const ProofGoal& goal : {lse2_goal(), softmax2_goal()}) {
    const ProofCertificate c = prover_certificate(goal);
    ASSERT_EQ(c.goals.size(), 1U);
    const CoqRun run = coqc_on(coq_proof_script(c), "attncert_prover_goal");
    EXPECT_TRUE(run.accepted) << goal.name << "\n" << run.output;
    std::cout << goal.name << ": coqc " << run.seconds << " s\n";
  }
}

TEST(CoqProof, CoqcRejectsAProverCertificateWithItsMarginFlipped) {
  if (const std::string why = coq_unavailable_reason(); !why.empty()) GTEST_SKIP() << why;
  // lse <= max + log 2 − 0.01 is false on the whole diagonal x1 = x2 (lse − max = log 2 there).
  const std::string v = coq_proof_script(prover_certificate(lse2_goal()));
  const CoqRun run = coqc_on(replace_all(v, "+ 0.01)", "- 0.01)"), "attncert_false_lse");
  EXPECT_FALSE(run.accepted) << run.output;
  EXPECT_TRUE(failed_in_a_leaf(run.output)) << run.output;
}

TEST(CoqProof, RunCoqcNamesAFileThatCannotBeRead) {
  if (find_coqc().empty()) GTEST_SKIP() << "coqc not found (Debian coq)";
  EXPECT_THROW(run_coqc("/nonexistent/attncert.v"), std::invalid_argument);
}

TEST(CoqProof, UnsupportedCertificatesGetAOneLineReason) {
  const auto expect_reason = [](const ProofCertificate& c, const std::string& part) {
    const auto why = coq_unsupported_reason(c);
    ASSERT_TRUE(why.has_value());
    EXPECT_NE(why->find(part), std::string::npos) << *why;
    EXPECT_EQ(why->find('\n'), std::string::npos) << *why;
    EXPECT_THROW(coq_proof_script(c), std::invalid_argument);
  };
  // A bound attained with zero slack (second-order leaf): interval cannot close it.
  {
    ProvedGoal g = exp_minus_x_goal();
    g.tree = split(0, 0, leaf(LeafMethod::Naive), leaf(LeafMethod::SecondOrder, {0.5}));
    std::vector<ProvedGoal> goals;
    goals.push_back(std::move(g));
    expect_reason(certificate_of(std::move(goals)), "second_order");
  }
  // An identity.
  {
    ProvedGoal g = exp_minus_x_goal();
    g.goal.relation = Relation::Equal;
    std::vector<ProvedGoal> goals;
    goals.push_back(std::move(g));
    expect_reason(certificate_of(std::move(goals)), "equality");
  }
  // Too many lemmas for a Coq file: 2^13 = 8192 subtrees, each a chain deeper than the chunk
  // depth (so each is 3 lemmas, not one interval call), under a balanced tree.
  {
    ProvedGoal g = exp_minus_x_goal();
    std::function<ProofNode(int, double)> chain = [&](int depth, double at) {
      if (depth == 0) return leaf(LeafMethod::Naive);
      return split(0, at, leaf(LeafMethod::Naive), chain(depth - 1, at));
    };
    std::function<ProofNode(int, double, double)> grid = [&](int depth, double lo, double hi) {
      const double mid = (lo + hi) / 2;
      if (depth == 0) return chain(19, mid);
      return split(0, mid, grid(depth - 1, lo, mid), grid(depth - 1, mid, hi));
    };
    g.tree = grid(13, -1, 1);
    std::vector<ProvedGoal> goals;
    goals.push_back(std::move(g));
    expect_reason(certificate_of(std::move(goals)), "Coq lemmas, more than the 5000");
  }
  // An unbounded range.
  {
    ProvedGoal g = exp_minus_x_goal();
    g.goal.box.upper[0] = std::numeric_limits<double>::infinity();
    std::vector<ProvedGoal> goals;
    goals.push_back(std::move(g));
    expect_reason(certificate_of(std::move(goals)), "unbounded");
  }
  expect_reason(certificate_of({}), "no goals");
}

}  // namespace
}  // namespace attncert
