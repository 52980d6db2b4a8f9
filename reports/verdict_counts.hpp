// How many claims were refuted, by what their refutation means: a refuted printed claim is a
// finding about the paper, a refuted reconstruction or classical statement one about our reading
// of it, a rejected alternative reading (Provenance::Reading) rules that reading out, a refuted
// conjecture answers the user's question. One wording for `verify`'s summary and the report.
#pragma once

#include <string>
#include <vector>

#include "proofs_checks/verifier.hpp"

namespace attncert {

struct VerdictCounts {
  long survived = 0, refuted = 0, inconclusive = 0;
  // Ids of the refuted claims (verdict Refuted), by provenance.
  std::vector<std::string> printed, reconstructed, readings, conjectures, experiments;
};

/// results[i] belongs to claims[i].
VerdictCounts count_verdicts(const std::vector<const Claim*>& claims,
                             const std::vector<ClaimResult>& results);

/// "refuted: 1 printed (A.cor3), 0 reconstructed or classical; rejected readings: 2 (A.x, A.y)",
/// with "refuted experiments" and "refuted conjectures" added when there are any.
std::string refutation_breakdown(const VerdictCounts& counts);

}  // namespace attncert
