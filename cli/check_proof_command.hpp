// `attncert check-proof FILE [--claim ID]`: re-checks a proof certificate (verify --prove's
// OUT/proofs/ID.json) without searching, with the independent MPFI checker, and compares its
// goals with the goals the claim itself expands to — a valid tree for the wrong statement proves
// nothing about the claim.
#pragma once

#include <CLI/CLI.hpp>

#include <string>

#include "proofs_checks/proof_certificate.hpp"

namespace attncert::cli {

/// Reads and checks FILE; returns the one-line summary of a valid certificate ("valid: claim
/// A.lemma1, 3 goals, 412 leaves re-checked with MPFI; scope …; statement …"). The certificate
/// must be the claim's (certificate_mismatch: a catalog claim's plans, or a conjecture rebuilt
/// from the certificate's own "statement" and "domain", which are its --expr and --over).
/// Throws std::invalid_argument (exit code 4) for an unreadable or malformed file, a
/// certificate for another claim than `claim_id` (when not empty), one that is not the claim's,
/// and a proof that does not check ("FILE: INVALID: goal 'L = 2': leaf at tree.split.below …").
std::string check_proof_file(const std::string& path, const std::string& claim_id);

void add_check_proof_command(CLI::App& app, int& exit_code);

}  // namespace attncert::cli
