// The verdict table of `attncert verify` (the report typesets the same columns in LaTeX):
// claim, provenance, kind, verdict, certified, tightness, vacuity, bits, note. Derived claims
// (ClaimKind::Derived) follow in a block of their own: they cannot fail for a correct
// implementation, so they are not findings about the paper.
#pragma once

#include <string>
#include <vector>

#include "proofs_checks/verifier.hpp"

namespace attncert {

/// The cells both tables share: a number with 6 decimals (tightness) or 3 (vacuity, a
/// fraction), `missing` when NaN.
std::string tightness_text(double tightness, const std::string& missing);
std::string vacuity_text(double vacuity, const std::string& missing);

/// The table as text, then a legend of its columns and labels. results[i] belongs to claims[i].
std::string verdict_table_text(const std::vector<const Claim*>& claims,
                               const std::vector<ClaimResult>& results);

}  // namespace attncert
