// The attncert process exit codes (documented in --help and README).
#pragma once

namespace attncert::cli {

enum ExitCode : int {
  kAllHold = 0,        // every verdict proved / survived; eval and info succeeded
  kRefuted = 1,        // at least one certified counterexample
  kInconclusive = 2,   // nothing refuted, but some verdict is inconclusive
  kUsageError = 3,     // bad command line
  kInputError = 4,     // bad input data: unreadable or malformed file, NaN/Inf, shapes
  kInternalError = 5,  // a bug: please report
};

}  // namespace attncert::cli
