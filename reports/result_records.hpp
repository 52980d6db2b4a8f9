// Verification results as records: JSON (one object per claim: JSON Lines), CSV rows (RFC 4180)
// and the files `attncert replay` re-certifies (counterexamples, tightest instances). Contains nothing that varies between runs with the same
// seed (no timestamps, durations or host names): run metadata goes to run.json separately.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "proofs_checks/verifier.hpp"

namespace attncert {

/// Decimal text of a ball: "[mid +/- rad]" with enough digits to be useful.
std::string ball_text(const Ball& b);

nlohmann::json certificate_json(const InstanceCertificate& cert);
nlohmann::json result_json(const Claim& claim, const ClaimResult& result);
/// A claim's proof summary (status, scope, reduction, slack, per-goal outcome and boxes; no
/// durations, like every results record).
nlohmann::json proof_json(const ClaimProof& proof);

/// The CSV header and one row per result (RFC 4180 quoting, \r\n line ends).
std::string results_csv_header();
std::string result_csv_row(const Claim& claim, const ClaimResult& result);
std::string csv_quote(const std::string& field);

/// results.jsonl and results.csv of a run: results[i] belongs to claims[i].
std::string results_jsonl(const std::vector<const Claim*>& claims, const std::vector<ClaimResult>& results);
std::string results_csv(const std::vector<const Claim*>& claims, const std::vector<ClaimResult>& results);

/// The "format" of the two replayable files.
inline constexpr const char* kCounterexampleFormat = "attncert-counterexample-1";
inline constexpr const char* kTightestFormat = "attncert-tightest-1";

/// A counterexample file `attncert replay` re-certifies: claim id (or expression + domain),
/// the instance, and the enclosures that refuted it.
nlohmann::json counterexample_json(const Claim& claim, const ClaimResult& result);

/// The claim's tightest instance as a file `attncert replay` re-certifies: claim id (or
/// expression + domain), the instance, the side family that attains the claim's tightness
/// (null when the engine recorded none) and that tightness.
nlohmann::json tightest_json(const Claim& claim, const ClaimResult& result);

}  // namespace attncert
