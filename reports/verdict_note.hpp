// The words of a verdict, one wording for every output: the verdict label and provenance label
// of the `verify` table, the report's verdict table and results.jsonl, and the note that
// explains the verdict (the "note" column of `verify`, the line under each claim in the report).
#pragma once

#include <string>

#include "proofs_checks/verifier.hpp"

namespace attncert {

/// "refuted", "survived" or "inconclusive"; a statistical claim's are "rejected" and
/// "not rejected": surviving a test at confidence γ fails to reject, it does not prove.
std::string verdict_label(const Claim& claim, const ClaimResult& result);

/// The provenance, with "*" after "printed" when we adapted the printed statement
/// (ClaimInfo::adapted says what).
std::string provenance_label(const ClaimInfo& info);

/// The certified counterexample (with the side it violates), then what qualifies the verdict —
/// a statistical claim's confidence and interval method, a derived claim's inequality, the
/// tightness of each side family when there are several, the degenerate, vacuous, consistent,
/// undecided and unconfirmed instances — joined by "; ". Empty when there is nothing to add.
std::string verdict_note(const Claim& claim, const ClaimResult& result);

/// One clause on a claim's proof: "PROVED for L in {2, 3}, … (reduction; 412 boxes)", "PROVED
/// with slack 1e-6 (the bound + 1e-6) for …", "not proved for …: why", "survived only: why".
std::string proof_note(const ClaimProof& proof);

}  // namespace attncert
