// The -j/--jobs option of verify, report and check-kernel: worker threads, 0 = all cores. A
// negative or absurd count is a usage error (it used to be taken silently as "all cores").
#pragma once

#include <CLI/CLI.hpp>

#include <string>

namespace attncert::cli {

inline constexpr int kMaxJobs = 1024;

/// Adds -j/--jobs to `cmd`, storing into `jobs` (whose current value is the default).
inline CLI::Option* add_jobs_option(CLI::App* cmd, int& jobs, const std::string& help) {
  return cmd->add_option("-j,--jobs", jobs, help + " (0 to 1024; 0: all cores)")
      ->check(CLI::Range(0, kMaxJobs));
}

}  // namespace attncert::cli
