// ProofPlan: how a catalog claim is proved on a bounded part of its domain — a statement in the
// expression language over a bounded domain with fixed-size array boxes, which the prover turns
// into goals (proofs_checks/proof_goals.hpp), and the one-line argument why proving it proves
// (that part of) the claim. A claim with no plan is "survived only" under --prove.
#pragma once

#include <string>

namespace attncert {

struct ProofPlan {
  std::string side;        // which side of the claim it proves ("upper", "lower", "all")
  std::string inequality;  // e.g. "jacobian_norm <= 0.5/T"
  std::string domain;      // e.g. "L in [2, 3], T in [0.05, 5], logits in [-20, 20]^L"
  /// Why proving `inequality` over `domain` proves the claim's side there, e.g. "the claim's
  /// statement itself" or "|l_j| <= Delta and the bound increases with Delta". Shown in the
  /// result and the certificate.
  std::string reduction;
};

}  // namespace attncert
