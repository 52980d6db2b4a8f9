#include "proofs_checks/claim_verification.hpp"

#include <mutex>
#include <utility>

#include "proofs_checks/claim_result_codec.hpp"
#include "proofs_checks/distributed_map.hpp"

namespace attncert {
namespace {

std::string cause_text(const std::exception_ptr& cause) {
  try {
    if (cause) std::rethrow_exception(cause);
  } catch (const std::exception& e) {
    return e.what();
  } catch (...) {
  }
  return "unknown exception";
}

}  // namespace

ClaimVerificationError::ClaimVerificationError(std::string claim_id, std::exception_ptr cause)
    : claim_id_(std::move(claim_id)),
      cause_(std::move(cause)),
      message_("verifying " + claim_id_ + ": " + cause_text(cause_)) {}

std::vector<ClaimResult> verify_claims(const std::vector<const Claim*>& claims,
                                       const VerifyOptions& options, int jobs,
                                       const ClaimsProgress& progress) {
  std::mutex mutex;  // serialises progress calls from the phases of concurrent claims
  std::size_t done = 0;
  const std::size_t total = claims.size();
  return distributed_map<ClaimResult>(
      claims.size(), jobs,
      [&](std::size_t i) {
        const std::string& id = claims[i]->info().id;
        VerifyOptions o = options;
        o.seed = claim_seed(options.seed, id);
        ProgressFn phase_progress;
        if (progress) {
          phase_progress = [&](std::string_view phase, long step, long steps) {
            const std::lock_guard<std::mutex> lock(mutex);
            progress(done, total, id, phase, step, steps);
          };
        }
        try {
          return verify_claim(*claims[i], o, phase_progress);
        } catch (...) {
          throw ClaimVerificationError(id, std::current_exception());
        }
      },
      encode_claim_result, decode_claim_result,
      [&](std::size_t finished, std::size_t) {  // parallel_for calls this under its own lock
        const std::lock_guard<std::mutex> lock(mutex);
        done = finished;
        if (progress) progress(done, total, {}, {}, 0, 0);
      });
}

}  // namespace attncert
