// The note that explains a claim's verdict (the "counterexample / note" column of `verify`, the
// line under each claim in the report's verdict table): one wording for every output.
#pragma once

#include <string>

#include "proofs_checks/verifier.hpp"

namespace attncert {

/// The certified counterexample (with the side it violates), then the instance counts that
/// qualify the verdict (consistent, undecided, unconfirmed) and, for a statistical claim, its
/// confidence, joined by "; ". Empty when there is nothing to add to the verdict.
std::string verdict_note(const Claim& claim, const ClaimResult& result);

}  // namespace attncert
