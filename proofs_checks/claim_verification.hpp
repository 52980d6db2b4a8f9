// Verifying a list of claims: the one driver behind `attncert verify`, `attncert report` (and,
// later, MPI ranks). Free of CLI types: it takes options and a job count and returns results.
#pragma once

#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "proofs_checks/verifier.hpp"

namespace attncert {

/// Progress of a claim list: claims finished so far and the total, the claim reporting (empty
/// when a claim has just finished, or for a phase that runs over all claims at once), its phase
/// and the phase's step/steps (for a phase over all claims: its units done and in all). Calls
/// are serialised.
using ClaimsProgress = std::function<void(std::size_t done, std::size_t total, std::string_view claim,
                                          std::string_view phase, long step, long steps)>;

/// A claim's verification threw. Names the claim; cause() is what was thrown, unchanged, so
/// the caller classifies it (input error or bug) the same way whichever command ran the claim.
class ClaimVerificationError : public std::exception {
 public:
  ClaimVerificationError(std::string claim_id, std::exception_ptr cause);
  const char* what() const noexcept override { return message_.c_str(); }
  const std::string& claim_id() const noexcept { return claim_id_; }
  const std::exception_ptr& cause() const noexcept { return cause_; }

 private:
  std::string claim_id_;
  std::exception_ptr cause_;
  std::string message_;  // "verifying ID: <what the cause says>"
};

/// verify_claim on each claim with `options`, except that claim i gets the seed
/// claim_seed(options.seed, its id), so a claim's instances do not depend on the other claims
/// in the list, their order or `jobs` (workers; 0: all hardware threads). Results in claim
/// order, equal to verify_claim's. Throws ClaimVerificationError for a claim that throws.
/// The search runs phase by phase over all claims, each phase cut into units of distributed_map
/// (claim_search.hpp): chunks of at least 1000 sampled instances (at most 256 per claim),
/// local-search starts, batches of 4 certifications, then each claim's verdict — so under
/// mpirun the ranks share one long claim too, and a single claim's proof is shared box by box.
/// Under a time budget
/// (options.seconds > 0) a claim's phases share its clock, so whole claims are the units.
std::vector<ClaimResult> verify_claims(const std::vector<const Claim*>& claims,
                                       const VerifyOptions& options, int jobs,
                                       const ClaimsProgress& progress = {});

}  // namespace attncert
