#include "proofs_checks/claim_proof.hpp"

#include <fmt/format.h>

#include <chrono>
#include <cstdlib>

#include "theory/expression_claim.hpp"

namespace attncert {

std::string_view to_string(ProofStatus s) noexcept {
  switch (s) {
    case ProofStatus::Proved: return "PROVED";
    case ProofStatus::ProvedWithSlack: return "PROVED with slack";
    case ProofStatus::NotProved: return "not proved";
    case ProofStatus::NoPlan: return "no proof plan";
  }
  return "?";
}

std::vector<ProofPlan> proof_plans_of(const Claim& claim, bool* covers_domain) {
  if (const ExpressionSource* source = expression_source(claim)) {
    if (covers_domain) *covers_domain = true;
    return {{"", source->inequality, source->domain, "the statement itself"}};
  }
  if (covers_domain) *covers_domain = false;
  return claim.proof_plans();
}

std::vector<ProofGoal> expected_goals(const Claim& claim) {
  std::vector<ProofGoal> goals;
  for (const ProofPlan& plan : proof_plans_of(claim)) {
    for (ProofGoal& g : goals_for_plan(plan).goals) goals.push_back(std::move(g));
  }
  return goals;
}

std::string certificate_mismatch(const ProofCertificate& certificate, const Claim& claim) {
  if (certificate.claim_id != claim.info().id) {
    return fmt::format("the certificate is for '{}', not '{}'", certificate.claim_id, claim.info().id);
  }
  const std::vector<ProofGoal> expected = expected_goals(claim);
  if (certificate.goals.size() != expected.size()) {
    return fmt::format("the certificate has {} goals, the claim's proof plans give {}",
                       certificate.goals.size(), expected.size());
  }
  for (std::size_t i = 0; i < expected.size(); ++i) {
    ProofGoal given = certificate.goals[i].goal;
    if (given.slack.empty() || given.slack[0] == '-' || std::strtod(given.slack.c_str(), nullptr) < 0) {
      return fmt::format("goal {} ('{}'): slack '{}' is not a non-negative decimal", i + 1, given.name, given.slack);
    }
    given.slack = expected[i].slack;  // the slack is the proof's, not the statement's
    if (!(given == expected[i])) {
      const char* what = given.name != expected[i].name               ? "name"
                         : !(given.program == expected[i].program)    ? "program"
                         : given.lhs != expected[i].lhs || given.rhs != expected[i].rhs ? "sides"
                         : given.relation != expected[i].relation     ? "relation"
                                                                      : "box";
      return fmt::format("goal {} ('{}'): its {} differs from the claim's goal '{}'", i + 1,
                         certificate.goals[i].goal.name, what, expected[i].name);
    }
  }
  return {};
}

ClaimProof prove_claim(const Claim& claim, const ProverOptions& options, const ProverProgress& progress) {
  const auto start = std::chrono::steady_clock::now();
  ClaimProof proof;
  const std::vector<ProofPlan> plans = proof_plans_of(claim, &proof.covers_domain);
  if (plans.empty()) {
    proof.reason = "no bounded part of its domain is stated for the prover";
    return proof;
  }
  ProofCertificate certificate;
  certificate.claim_id = claim.info().id;
  const ExpressionSource* source = expression_source(claim);
  certificate.statement = source ? source->inequality : claim.info().statement_text;
  bool all_proved = true;
  double largest_slack = 0;
  for (const ProofPlan& plan : plans) {
    const PlannedGoals planned = goals_for_plan(plan);
    const std::string prefix = plan.side.empty() || plans.size() == 1 ? "" : plan.side + ": ";
    proof.scope += (proof.scope.empty() ? "" : "; ") + prefix + planned.scope;
    proof.reduction += (proof.reduction.empty() ? "" : "; ") + prefix + plan.reduction;
    certificate.domain += (certificate.domain.empty() ? "" : "; ") + prefix + plan.domain;
    for (std::size_t g = 0; g < planned.goals.size(); ++g) {
      const ProofGoal& goal = planned.goals[g];
      ProofAttempt attempt = prove_goal(goal, options, progress);
      GoalReport report{goal.name,  attempt.outcome,           attempt.slack, attempt.boxes,
                        attempt.leaves, attempt.max_precision_used, attempt.seconds, attempt.reason};
      proof.boxes += attempt.boxes;
      if (attempt.outcome == ProofOutcome::Candidate) {
        report.reason = "the double pre-screen found a point where the statement fails";
        if (source && !proof.candidate) proof.candidate = instance_at(planned, g, attempt.candidate);
      }
      const bool proved = attempt.outcome == ProofOutcome::Proved ||
                          attempt.outcome == ProofOutcome::ProvedWithSlack;
      if (proved) {
        largest_slack = std::max(largest_slack, std::strtod(attempt.slack.c_str(), nullptr));
        if (std::strtod(attempt.slack.c_str(), nullptr) >= largest_slack) proof.slack = attempt.slack;
        ProofGoal proved_goal = goal;
        proved_goal.slack = attempt.slack;
        certificate.goals.push_back({std::move(proved_goal), std::move(*attempt.tree)});
      } else if (all_proved) {
        all_proved = false;
        proof.reason = fmt::format("goal '{}': {}", goal.name,
                                   report.reason.empty() ? std::string(to_string(attempt.outcome))
                                                         : report.reason);
      }
      proof.goals.push_back(std::move(report));
    }
  }
  certificate.scope = proof.scope;
  if (all_proved) {
    proof.status = largest_slack > 0 ? ProofStatus::ProvedWithSlack : ProofStatus::Proved;
    proof.certificate = std::move(certificate);
  } else {
    proof.status = ProofStatus::NotProved;
  }
  proof.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return proof;
}

}  // namespace attncert
