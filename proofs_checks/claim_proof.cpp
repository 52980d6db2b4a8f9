#include "proofs_checks/claim_proof.hpp"

#include <fmt/format.h>

#include <chrono>
#include <cstdlib>

#include "proofs_checks/proof_checker.hpp"
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

namespace {

std::string joined(const std::string& a, const std::string& prefix, const std::string& b) {
  return a + (a.empty() ? "" : "; ") + prefix + b;
}

}  // namespace

ProofStatement proof_statement(const Claim& claim) {
  ProofStatement s;
  const ExpressionSource* source = expression_source(claim);
  s.statement = source ? source->inequality : claim.info().statement_text;
  const std::vector<ProofPlan> plans = proof_plans_of(claim);
  for (const ProofPlan& plan : plans) {
    PlannedGoals planned = goals_for_plan(plan);
    const std::string prefix = plan.side.empty() || plans.size() == 1 ? "" : plan.side + ": ";
    s.domain = joined(s.domain, prefix, plan.domain);
    s.scope = joined(s.scope, prefix, planned.scope);
    s.reduction = joined(s.reduction, prefix, plan.reduction);
    s.goals.insert(s.goals.end(), planned.goals.begin(), planned.goals.end());
    s.plans.push_back(std::move(planned));
  }
  return s;
}

std::vector<ProofGoal> expected_goals(const Claim& claim) { return proof_statement(claim).goals; }

bool slack_is_positive(const std::string& slack) {
  // Decided on the decimal's digits (a double would read 1e-400 as 0): any nonzero digit of
  // the mantissa.
  const std::size_t e = slack.find_first_of("eE");
  return slack.substr(0, e).find_first_of("123456789") != std::string::npos;
}

std::string certificate_mismatch(const ProofCertificate& certificate, const Claim& claim) {
  if (certificate.claim_id != claim.info().id) {
    return fmt::format("the certificate is for '{}', not '{}'", certificate.claim_id, claim.info().id);
  }
  const ProofStatement statement = proof_statement(claim);
  for (const auto& [field, given, wanted] :
       {std::tuple{"statement", &certificate.statement, &statement.statement},
        std::tuple{"domain", &certificate.domain, &statement.domain},
        std::tuple{"scope", &certificate.scope, &statement.scope}}) {
    if (*given != *wanted) {
      return fmt::format("its {} '{}' is not the claim's '{}'", field, *given, *wanted);
    }
  }
  const std::vector<ProofGoal>& expected = statement.goals;
  if (expected.empty()) return fmt::format("claim '{}' has no proof plan: no certificate proves it", claim.info().id);
  if (certificate.goals.size() != expected.size()) {
    return fmt::format("the certificate has {} goals, the claim's proof plans give {}",
                       certificate.goals.size(), expected.size());
  }
  for (std::size_t i = 0; i < expected.size(); ++i) {
    ProofGoal given = certificate.goals[i].goal;
    if (given.slack.empty() || given.slack[0] == '-') {
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
  const ProofStatement statement = proof_statement(claim);
  const bool conjecture = expression_source(claim) != nullptr;
  ProofCertificate certificate{claim.info().id, statement.statement, statement.domain, statement.scope, {}};
  proof.scope = statement.scope;
  proof.reduction = statement.reduction;
  bool all_proved = true;
  bool any_slack = false;
  double largest_slack = 0;  // for choosing which slack to name; positivity is decided on digits
  for (const PlannedGoals& planned : statement.plans) {
    for (std::size_t g = 0; g < planned.goals.size(); ++g) {
      const ProofGoal& goal = planned.goals[g];
      ProofAttempt attempt = prove_goal(goal, options, progress);
      GoalReport report{goal.name,  attempt.outcome,           attempt.slack, attempt.boxes,
                        attempt.leaves, attempt.max_precision_used, attempt.seconds, attempt.reason};
      proof.boxes += attempt.boxes;
      if (attempt.outcome == ProofOutcome::Candidate) {
        report.reason = "a point where the statement fails (certified by the prover's Ball evaluation)";
        if (conjecture && !proof.candidate) proof.candidate = instance_at(planned, g, attempt.candidate);
      }
      const bool proved = attempt.outcome == ProofOutcome::Proved ||
                          attempt.outcome == ProofOutcome::ProvedWithSlack;
      if (proved) {
        if (slack_is_positive(attempt.slack)) {
          const double value = std::strtod(attempt.slack.c_str(), nullptr);
          if (!any_slack || value > largest_slack) proof.slack = attempt.slack;
          any_slack = true;
          largest_slack = std::max(largest_slack, value);
        }
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
  // Nothing is reported proved that the independent checker (MPFI, no Arb) does not accept.
  const ProofCheckReport check = all_proved ? check_proof_certificate(certificate, options.jobs) : ProofCheckReport{};
  if (all_proved && !check.valid) {
    proof.status = ProofStatus::NotProved;
    proof.reason = "the independent MPFI checker rejected the prover's certificate: " + check.failure;
  } else if (all_proved) {
    proof.status = any_slack ? ProofStatus::ProvedWithSlack : ProofStatus::Proved;
    proof.certificate_json = certificate_json_text(certificate, options.jobs);
    proof.certificate = std::move(certificate);
  } else {
    proof.status = ProofStatus::NotProved;
  }
  proof.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return proof;
}

}  // namespace attncert
