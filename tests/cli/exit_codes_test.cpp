// The one error → exit-code policy of every command (cli/exit_codes.hpp).
#include "cli/exit_codes.hpp"

#include <gtest/gtest.h>

#include <CLI/CLI.hpp>

#include <new>
#include <stdexcept>

#include "proofs_checks/certificate.hpp"
#include "proofs_checks/claim_verification.hpp"

namespace attncert::cli {
namespace {

template <class E>
std::exception_ptr as_ptr(const E& e) {
  return std::make_exception_ptr(e);
}

TEST(ExitCodes, VerdictsDecideTheCodeOfVerify) {
  ClaimResult survived, refuted, inconclusive;
  survived.verdict = DomainVerdict::Survived;
  refuted.verdict = DomainVerdict::Refuted;
  inconclusive.verdict = DomainVerdict::Inconclusive;
  EXPECT_EQ(exit_code_for_verdicts({}), kAllHold);
  EXPECT_EQ(exit_code_for_verdicts({survived, survived}), kAllHold);
  EXPECT_EQ(exit_code_for_verdicts({survived, inconclusive}), kInconclusive);
  EXPECT_EQ(exit_code_for_verdicts({inconclusive, refuted, survived}), kRefuted);
}

TEST(ExitCodes, AReplayedInstanceExitsByItsStatus) {
  EXPECT_EQ(exit_code_for_instance(InstanceStatus::Refuted), kRefuted);
  EXPECT_EQ(exit_code_for_instance(InstanceStatus::Proved), kAllHold);
  // Overlapping enclosures of an identity prove nothing; neither does an undecided instance.
  EXPECT_EQ(exit_code_for_instance(InstanceStatus::Consistent), kInconclusive);
  EXPECT_EQ(exit_code_for_instance(InstanceStatus::Inconclusive), kInconclusive);
  EXPECT_EQ(exit_code_for_instance(InstanceStatus::Inadmissible), kInconclusive);
}

TEST(ExitCodes, ExceptionKindsDecideTheCodeOfEveryCommand) {
  EXPECT_EQ(failure_for(as_ptr(CLI::ValidationError("verify", "bad"))).code, kUsageError);
  EXPECT_EQ(failure_for(as_ptr(std::invalid_argument("x"))).code, kInputError);
  EXPECT_EQ(failure_for(as_ptr(std::domain_error("x"))).code, kInputError);
  EXPECT_EQ(failure_for(as_ptr(std::runtime_error("x"))).code, kInputError);
  // A missing required device is its own code (a runtime_error, but not bad input).
  const Failure no_device = failure_for(as_ptr(NoDeviceError("--device: no CUDA device found")));
  EXPECT_EQ(no_device.code, kNoDevice);
  EXPECT_EQ(no_device.message, "--device: no CUDA device found");
  const Failure oom = failure_for(as_ptr(std::bad_alloc()));
  EXPECT_EQ(oom.code, kInputError);
  EXPECT_EQ(oom.message, "out of memory (input too large for this machine)");
  const Failure bug = failure_for(as_ptr(std::logic_error("broken invariant")));
  EXPECT_EQ(bug.code, kInternalError);
  EXPECT_EQ(bug.message, "internal error: broken invariant");
  EXPECT_EQ(failure_for(std::make_exception_ptr(42)).code, kInternalError);
}

// A failing claim exits by what it threw, the same from `verify` and `report` (both see the
// ClaimVerificationError of verify_claims): it used to be 5 from one and 4 from the other.
TEST(ExitCodes, AFailingClaimExitsByWhatItThrew) {
  const Failure input = failure_for(as_ptr(
      ClaimVerificationError("A.cor3", as_ptr(std::invalid_argument("log of a negative number")))));
  EXPECT_EQ(input.code, kInputError);
  EXPECT_EQ(input.message, "verifying A.cor3: log of a negative number");
  const Failure bug = failure_for(
      as_ptr(ClaimVerificationError("A.cor3", as_ptr(std::logic_error("broken invariant")))));
  EXPECT_EQ(bug.code, kInternalError);
  EXPECT_EQ(bug.message, "internal error: verifying A.cor3: broken invariant");
  const Failure oom =
      failure_for(as_ptr(ClaimVerificationError("A.cor3", as_ptr(std::bad_alloc()))));
  EXPECT_EQ(oom.code, kInputError);
  EXPECT_NE(oom.message.find("verifying A.cor3"), std::string::npos) << oom.message;
  EXPECT_NE(oom.message.find("out of memory"), std::string::npos) << oom.message;
}

}  // namespace
}  // namespace attncert::cli
