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
#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <string>

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
// has one zero, a minimum at 0; f(−1) = 1.3679), so bound 1.72 is true and 1.7 false. Naive
// interval evaluation fails on [−1, 1] (upper end e + 1) and on [0.5, 1] (e − 0.5): that leaf is
// a mean-value leaf, the three others naive (upper ends 1.61, 1.5, 1.65 < 1.72).
ProvedGoal exp_minus_x_goal() {
  ElementaryProgram p({"x"});
  const auto x = p.variable(0U);
  const auto lhs = p.binary(ElementaryOp::Subtract, p.unary(ElementaryOp::Exp, x), x);
  const auto rhs = p.constant("1.72");
  ProvedGoal g{ProofGoal{"exp(x) - x, x in [-1, 1]", p, lhs, rhs, Relation::LessEqual, ProofBox{{-1}, {1}}, "0"},
               split(0, 0, split(0, -0.5, leaf(LeafMethod::Naive), leaf(LeafMethod::Naive)),
                     split(0, 0.5, leaf(LeafMethod::Naive), leaf(LeafMethod::MeanValue, {0.75})))};
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
  EXPECT_NE(v.find("Theorem goal_1 : forall x1 : R, (- 1) <= x1 <= 1 -> ((exp x1) - x1) <= 172e-2."), std::string::npos) << v;
  EXPECT_NE(v.find("Theorem goal_2 : forall x1 x2 : R, 0 <= x1 <= 1 -> 0 <= x2 <= 1 -> ((Rmax x1 x2) - (x1 * x2)) <= 13e-1."),
            std::string::npos) << v;
  // The original names survive in a comment; the splits are case analyses at the split points.
  EXPECT_NE(v.find("x1 = logits_1, x2 = logits_2"), std::string::npos);
  EXPECT_NE(v.find("destruct (Rle_or_lt x1 5e-1)"), std::string::npos);
  EXPECT_NE(v.find("destruct (Rle_or_lt x2 5e-1)"), std::string::npos);
  EXPECT_NE(v.find("i_autodiff x1"), std::string::npos);
  // The statement's "(*" must not open a nested Coq comment.
  EXPECT_EQ(v.find("(* with"), std::string::npos);
}

TEST(CoqProof, CoqcAcceptsTheReplayedProofOfTrueGoals) {
  if (const std::string why = coq_unavailable_reason(); !why.empty()) GTEST_SKIP() << why;
  const CoqRun run = coqc_on(coq_proof_script(hand_certificate()), "attncert_true_goals");
  EXPECT_TRUE(run.accepted) << run.output;
  std::cout << "coqc accepted the 2-goal file in " << run.seconds << " s\n";
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
  const CoqRun run1 = coqc_on(replace_all(one, "172e-2", "17e-1"), "attncert_false_goal_1");
  EXPECT_FALSE(run1.accepted) << run1.output;
  EXPECT_TRUE(failed_in_a_leaf(run1.output)) << run1.output;
  EXPECT_NE(run1.output.find("Error"), std::string::npos) << run1.output;

  const std::string two = coq_proof_script(certificate_of([] {
    std::vector<ProvedGoal> g;
    g.push_back(max_minus_product_goal());
    return g;
  }()));
  const CoqRun run2 = coqc_on(replace_all(two, "13e-1", "9e-1"), "attncert_false_goal_2");
  EXPECT_FALSE(run2.accepted) << run2.output;
  EXPECT_TRUE(failed_in_a_leaf(run2.output)) << run2.output;
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
  // Too many leaves for a Coq file (2^13 = 8192 > 5000).
  {
    ProvedGoal g = exp_minus_x_goal();
    std::function<ProofNode(int, double, double)> grid = [&](int depth, double lo, double hi) {
      if (depth == 0) return leaf(LeafMethod::Naive);
      const double mid = (lo + hi) / 2;
      return split(0, mid, grid(depth - 1, lo, mid), grid(depth - 1, mid, hi));
    };
    g.tree = grid(13, -1, 1);
    std::vector<ProvedGoal> goals;
    goals.push_back(std::move(g));
    expect_reason(certificate_of(std::move(goals)), "8192 leaves");
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
