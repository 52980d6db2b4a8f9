// How many claims were refuted, by what their refutation means: a refuted printed claim is a
// finding about the paper (printed*: as we adapted it), a refuted reconstruction one about our
// reading of it, a refuted classical statement one about our code or the textbook, a rejected alternative reading (Provenance::Reading) rules that reading out, a refuted
// conjecture answers the user's question. One wording for `verify`'s summary and the report.
#pragma once

#include <string>
#include <vector>

#include "proofs_checks/verifier.hpp"

namespace attncert {

struct VerdictCounts {
  long survived = 0, refuted = 0, inconclusive = 0, proved = 0;
  // Ids of the refuted claims (verdict Refuted), by provenance.
  // printed: verbatim; printed_adapted: Provenance::Printed with ClaimInfo::adapted set.
  std::vector<std::string> printed, printed_adapted, reconstructed, classical, readings, conjectures,
      experiments;
};

/// results[i] belongs to claims[i].
VerdictCounts count_verdicts(const std::vector<const Claim*>& claims,
                             const std::vector<ClaimResult>& results);

/// "refuted: 1 printed (A.cor3), 0 reconstructed, 0 classical; rejected readings: 2 (A.x, A.y)",
/// with adapted printed claims ("printed* (adapted)"), experiments and conjectures added when
/// there are any.
std::string refutation_breakdown(const VerdictCounts& counts);

}  // namespace attncert
