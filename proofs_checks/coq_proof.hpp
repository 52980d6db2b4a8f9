// The Coq back end: a ProofCertificate written as a Coq file whose theorems state each goal
// over its box in the reals (Coq's Reals; constants as exact decimals) and prove them with
// CoqInterval's `interval` tactic, replaying the certificate's search tree as nested case splits
// (a split on x at s: destruct (Rle_or_lt x s)); each leaf discharged by `interval` (with
// i_taylor / i_autodiff where the leaf used a mean-value or monotonicity argument, i_prec from the
// leaf's precision). For goals of <= 4 variables it may instead hand the whole goal to
// `interval with (i_bisect …)` when that is faster (documented per goal in the file).
// `coqc` must accept the file; a goal edited to a false bound must be rejected.
#pragma once

#include <optional>
#include <string>

#include "proofs_checks/proof_certificate.hpp"

namespace attncert {

/// Why a certificate cannot be written for Coq (an operation Coq's interval tactic does not
/// support), or nullopt when it can.
std::optional<std::string> coq_unsupported_reason(const ProofCertificate& certificate);

/// The .v text. Throws std::invalid_argument with coq_unsupported_reason's text when unsupported.
std::string coq_proof_script(const ProofCertificate& certificate);

/// The coqc found at configure time or on PATH, or "" when none.
std::string find_coqc();

struct CoqRun {
  bool accepted = false;
  double seconds = 0;
  std::string output;  // coqc's stdout + stderr
};
/// Runs coqc on a copy of FILE in a private temporary directory (coqc needs a base name that
/// is a Coq identifier and writes .vo/.glob files beside its input), removed afterwards. Throws std::runtime_error when coqc is missing
/// ("coqc not found: install the Debian packages coq and libcoq-interval").
CoqRun run_coqc(const std::string& file, double timeout_seconds = 0);

}  // namespace attncert
