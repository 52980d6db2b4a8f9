// `attncert check-proof FILE [--claim ID]`: re-checks a proof certificate (verify --prove's
// OUT/proofs/ID.json) without searching, with the independent MPFI checker, and compares its
// goals with the goals the claim itself expands to — a valid tree for the wrong statement proves
// nothing about the claim.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <string>
#include <vector>

#include "proofs_checks/proof_certificate.hpp"

namespace attncert::cli {

/// The goals a certificate must prove for the claim it names, in order. Throws
/// std::invalid_argument (one line) for an unknown claim or one without a proof plan.
using ExpectedGoals = std::function<std::vector<ProofGoal>(const ProofCertificate&)>;

/// The default: a catalog claim's goals from its proof plans; a conjecture's ("claim":
/// "conjecture") from the certificate's own "statement" and "domain" texts, which are the
/// --expr and --over it was proved for.
std::vector<ProofGoal> claim_goals(const ProofCertificate& certificate);

/// "" when the certificate proves exactly `expected` (same names, programs, sides, relations
/// and boxes, in order; a slack > 0 is allowed and reported, it weakens the bound only by
/// itself); else the first difference, one line.
std::string goal_mismatch(const ProofCertificate& certificate, const std::vector<ProofGoal>& expected);

/// Reads and checks FILE; returns the one-line summary of a valid certificate ("valid: claim
/// A.lemma1, 3 goals, 412 leaves re-checked with MPFI; scope …"). Throws std::invalid_argument
/// (exit code 4) for an unreadable or malformed file, a certificate for another claim than
/// `claim_id` (when not empty), goals that are not the claim's, and a proof that does not
/// check ("FILE: INVALID: goal 'L = 2': leaf at tree.split.below …").
std::string check_proof_file(const std::string& path, const std::string& claim_id,
                             const ExpectedGoals& expected = claim_goals);

void add_check_proof_command(CLI::App& app, int& exit_code);

}  // namespace attncert::cli
