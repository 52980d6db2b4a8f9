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

/// The goals of all plans of `claim`, in order (what a certificate for it must prove; used by
/// check-proof to compare). Throws like goals_for_plan.
std::vector<ProofGoal> expected_goals(const Claim& claim);

/// Why `certificate` is not a certificate for `claim`: its goals (program, sides, relation, box,
/// in order) differ from expected_goals(claim), or a goal's slack is not a non-negative decimal.
/// "" when they match. A valid check of a mismatching certificate proves something else.
std::string certificate_mismatch(const ProofCertificate& certificate, const Claim& claim);

/// Throws std::invalid_argument for a user conjecture whose domain cannot be proved over
/// (unbounded, too many variables, no elementary form): the user asked for it.
ClaimProof prove_claim(const Claim& claim, const ProverOptions& options,
                       const ProverProgress& progress = {});

}  // namespace attncert
