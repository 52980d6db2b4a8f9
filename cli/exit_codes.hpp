// The attncert process exit codes (documented in --help and README) and the one policy that
// maps outcomes to them: verdicts for `verify`, exceptions for every command.
#pragma once

#include <exception>
#include <stdexcept>
#include <string>
#include <vector>

namespace attncert {
struct ClaimResult;          // proofs_checks/verifier.hpp
enum class InstanceStatus;   // proofs_checks/certificate.hpp
}  // namespace attncert

namespace attncert::cli {

enum ExitCode : int {
  kAllHold = 0,        // every verdict proved / survived; eval and info succeeded
  kRefuted = 1,        // at least one certified counterexample
  kInconclusive = 2,   // nothing refuted, but some verdict is inconclusive
  kUsageError = 3,     // bad command line
  kInputError = 4,     // bad input data: unreadable or malformed file, NaN/Inf, shapes
  kInternalError = 5,  // a bug: please report
  kNoDevice = 6,       // a CUDA device was required (--device, ATTNCERT_REQUIRE_DEVICE=1) and none
                       // runs kernels here; scripts/gpu-check exits with it too
};

/// Thrown when a CUDA device was required and none runs kernels: exits kNoDevice, not 3 or 4,
/// so a script can tell "this machine has no usable GPU" from a mistake in the command.
struct NoDeviceError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// The help footer that states the codes above.
inline constexpr const char* kExitCodeHelp =
    "Exit codes: 0 all verdicts proved/survived (or the command succeeded), 1 some claim "
    "refuted (check-kernel, check-attention: some case or head fails), 2 inconclusive only, 3 "
    "usage error (bad command line, including size options out "
    "of range), 4 input error (unreadable or malformed file or expression, NaN/Inf, shapes of "
    "input data, an instance outside its domain, absurd precision or budget, an output target "
    "that is not a regular file), 5 internal error, 6 a CUDA device was required (--device, "
    "ATTNCERT_REQUIRE_DEVICE=1) and none runs kernels here.";

/// 1 if some result is refuted, else 2 if some is inconclusive, else 0.
ExitCode exit_code_for_verdicts(const std::vector<ClaimResult>& results);

/// `replay`'s code for one re-certified instance: 1 refuted, 0 proved, 2 anything else (an
/// identity's enclosures that merely overlap are not a proof).
ExitCode exit_code_for_instance(InstanceStatus status);

struct Failure {
  ExitCode code;
  std::string message;  // one line, without the "attncert: " prefix
};

/// What a command that threw `error` exits with and prints: NoDeviceError 6; command-line errors 3; bad input
/// (std::invalid_argument, std::domain_error, other std::runtime_error, out of memory) 4; any
/// other exception (std::logic_error: a bug) 5. A claim's verification error is classified by
/// what the claim threw, so a failing claim exits alike from `verify` and `report`.
Failure failure_for(const std::exception_ptr& error);

}  // namespace attncert::cli
