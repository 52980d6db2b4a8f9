// The independent proof checker: re-checks a ProofCertificate without searching, with interval
// arithmetic from MPFI (libmpfi) — it shares no interval code with the prover (Arb).
//
// For each goal: the tree's root box is the goal's box; every split point lies strictly inside
// its variable's range (so the children cover the parent); every leaf's method is re-done in
// MPFI at the leaf's precision (or more): naive evaluation, the mean-value form with MPFI
// forward-mode derivatives, the certain sign of a partial derivative followed by the face's
// subtree, the second-order test; and the leaf's f = lhs − rhs ∓ slack must be <= 0 (< 0 for
// strict relations). Constants and bounds are read from their exact decimals.
// It does not decide whether the goals are the right ones for the claim: the caller compares
// them with the goals it builds from the claim (proof_goals.hpp).
#pragma once

#include <string>

#include "proofs_checks/proof_certificate.hpp"

namespace attncert {

struct ProofCheckReport {
  bool valid = false;
  long goals = 0;
  long leaves_checked = 0;
  /// When not valid: the first failing place, one line, e.g.
  /// "goal 'upper, L = 2': leaf at tree.split.below.split.above (naive, 53 bits) on box
  ///  x1 in [0, 0.5], x2 in [...]: f <= 0 not shown (f in [-0.01, 0.02])".
  std::string failure;
};

/// `jobs`: threads for the subtrees below depth 10 of each tree (0: all hardware threads); they
/// are units of distributed_map, so MPI ranks share them too.
ProofCheckReport check_proof_certificate(const ProofCertificate& certificate, int jobs = 1);

}  // namespace attncert
