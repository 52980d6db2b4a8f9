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
/// when a claim has just finished), its phase and the phase's step/steps. Calls are serialised.
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
/// order. Throws ClaimVerificationError for the first claim that throws. Claims are the units of
/// distributed_map: under mpirun the ranks share them (a single claim runs on every rank, and
/// its proof's boxes are shared instead).
std::vector<ClaimResult> verify_claims(const std::vector<const Claim*>& claims,
                                       const VerifyOptions& options, int jobs,
                                       const ClaimsProgress& progress = {});

}  // namespace attncert
