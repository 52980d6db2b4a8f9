// Proving a claim: its proof plans (a catalog claim's Claim::proof_plans(); a user conjecture's
// own statement and bounded domain) expanded into goals (proof_goals.hpp), each handed to the
// prover (box_prover.hpp); the proved goals become one certificate.
//
// The status says what was proved, never more:
//   Proved           every goal of every plan, as stated (slack 0);
//   ProvedWithSlack  every goal, some only with a slack ε > 0: the bound + ε is proved;
//   NotProved        a goal was left undecided (budget, precision) or the pre-screen found a
//                    point violating a plan's statement;
//   NoPlan           the claim has no bounded part the prover can state (any-L statements,
//                    statistical claims, spectral quantities without elementary form).
// A certificate is kept only after the independent MPFI checker (proof_checker.hpp) accepts it;
// a rejection leaves the claim NotProved with the checker's reason (a prover bug, reported).
// covers_domain: the plans' domains are the claim's whole stated domain (a conjecture over a
// bounded domain). Only then is a Proved claim's verdict PROVED; otherwise the claim stays
// "survived" with the proved part (scope) reported beside it.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "proofs_checks/box_prover.hpp"
#include "proofs_checks/proof_certificate.hpp"
#include "proofs_checks/proof_goals.hpp"
#include "theory/claim.hpp"

namespace attncert {

enum class ProofStatus { Proved, ProvedWithSlack, NotProved, NoPlan };
std::string_view to_string(ProofStatus s) noexcept;

struct GoalReport {
  std::string name;
  ProofOutcome outcome = ProofOutcome::Undecided;
  std::string slack = "0";
  long boxes = 0;
  long leaves = 0;
  long max_precision = 0;
  double seconds = 0;
  std::string reason;
};

struct ClaimProof {
  ProofStatus status = ProofStatus::NoPlan;
  std::string scope;      // what the plans cover ("L in {2, 3}, T in [0.05, 5], logits in [-20, 20]^L")
  std::string reduction;  // why proving the plans proves that part of the claim
  std::string slack = "0";  // the largest slack any goal needed (ProvedWithSlack)
  bool covers_domain = false;
  std::vector<GoalReport> goals;
  std::optional<ProofCertificate> certificate;  // Proved or ProvedWithSlack
  std::string certificate_json;  // certificate_json_text(*certificate): the file's bytes, rendered once
  /// A point of a user conjecture's domain where the double pre-screen says the statement
  /// fails: the caller certifies it (it is not a counterexample until then).
  std::optional<Instance> candidate;
  std::string reason;  // NotProved / NoPlan: why, one line
  long boxes = 0;
  double seconds = 0;
};

/// The plans proving `claim`: Claim::proof_plans(), or for a user conjecture its own statement
/// over its domain (covers_domain). Empty for a claim with none.
std::vector<ProofPlan> proof_plans_of(const Claim& claim, bool* covers_domain = nullptr);

/// What a proof of `claim` states: the texts a certificate carries and the goals of all plans,
/// in order. Throws like goals_for_plan.
struct ProofStatement {
  std::string statement;  // a conjecture's --expr, a catalog claim's statement_text
  std::string domain;     // the plans' domains ("side: domain; …" when several)
  std::string scope;      // the same with integer ranges enumerated
  std::string reduction;  // why the plans prove (that part of) the claim
  std::vector<PlannedGoals> plans;  // per plan: its goals and their fixed shapes
  std::vector<ProofGoal> goals;     // all plans' goals, in order
};
ProofStatement proof_statement(const Claim& claim);

/// proof_statement(claim).goals.
std::vector<ProofGoal> expected_goals(const Claim& claim);

/// Why `certificate` is not a certificate for `claim`: another claim id, a statement, domain or
/// scope text other than proof_statement(claim)'s (check-proof prints them), goals (name,
/// program, sides, relation, box, in order) other than its goals, or a slack that is not a
/// non-negative decimal. "" when they match. A valid check of a mismatching certificate proves
/// something else.
std::string certificate_mismatch(const ProofCertificate& certificate, const Claim& claim);

/// Whether a slack decimal is > 0, decided on its digits (a double reads 1e-400 as 0).
bool slack_is_positive(const std::string& slack);

/// Throws std::invalid_argument for a user conjecture whose domain cannot be proved over
/// (unbounded, too many variables, no elementary form): the user asked for it.
ClaimProof prove_claim(const Claim& claim, const ProverOptions& options,
                       const ProverProgress& progress = {});

}  // namespace attncert
