#include "cli/exit_codes.hpp"

#include <CLI/CLI.hpp>

#include <new>
#include <stdexcept>

#include "proofs_checks/certificate.hpp"
#include "proofs_checks/claim_verification.hpp"
#include "proofs_checks/verifier.hpp"

namespace attncert::cli {

ExitCode exit_code_for_verdicts(const std::vector<ClaimResult>& results) {
  bool refuted = false, inconclusive = false;
  for (const ClaimResult& r : results) {
    refuted = refuted || r.verdict == DomainVerdict::Refuted;
    inconclusive = inconclusive || r.verdict == DomainVerdict::Inconclusive;
  }
  return refuted ? kRefuted : inconclusive ? kInconclusive : kAllHold;
}

ExitCode exit_code_for_instance(InstanceStatus status) {
  switch (status) {
    case InstanceStatus::Refuted: return kRefuted;
    case InstanceStatus::Proved: return kAllHold;
    default: return kInconclusive;
  }
}

namespace {

// The code for `error` alone (its message is decided by the caller).
ExitCode code_for(const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const ClaimVerificationError& e) {
    return e.cause() ? code_for(e.cause()) : kInternalError;
  } catch (const NoDeviceError&) {  // before runtime_error, which it is
    return kNoDevice;
  } catch (const CLI::ParseError&) {  // includes ValidationError thrown by callbacks
    return kUsageError;
  } catch (const std::invalid_argument&) {
    return kInputError;
  } catch (const std::domain_error&) {
    return kInputError;
  } catch (const std::runtime_error&) {
    return kInputError;
  } catch (const std::bad_alloc&) {
    return kInputError;
  } catch (...) {
    return kInternalError;
  }
}

}  // namespace

Failure failure_for(const std::exception_ptr& error) {
  const ExitCode code = code_for(error);
  std::string what = "unknown exception";
  bool out_of_memory = false;
  try {
    std::rethrow_exception(error);
  } catch (const ClaimVerificationError& e) {
    what = e.what();
    try {
      if (e.cause()) std::rethrow_exception(e.cause());
    } catch (const std::bad_alloc&) {
      out_of_memory = true;
    } catch (...) {
    }
  } catch (const std::bad_alloc&) {
    out_of_memory = true;
  } catch (const std::exception& e) {
    what = e.what();
  } catch (...) {
  }
  if (out_of_memory) {
    return {code, what == "unknown exception"
                      ? "out of memory (input too large for this machine)"
                      : what + " (out of memory: input too large for this machine)"};
  }
  return {code, code == kInternalError ? "internal error: " + what : what};
}

}  // namespace attncert::cli
