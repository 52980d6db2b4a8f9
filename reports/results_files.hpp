// The files a verification run leaves in its output directory, written by `attncert verify`
// and `attncert report` alike:
//   results.jsonl                 one JSON object per claim (result_records.hpp)
//   results.csv                   the same, one CSV row per claim
//   counterexamples/<claim>.json  one replayable file per refuted claim
//   tightest/<claim>.json         one replayable file per claim with a tightest instance
// The directory describes exactly one run: results.jsonl and results.csv are rewritten whole,
// and a counterexamples/ID.json or tightest/ID.json this run did not write (ID a catalog claim
// or the conjecture; a claim that now survived or has no tightest instance, or was not in this
// run) is removed, so no such file stays beside results that contradict it. Other files (and
// links) are the user's and are left alone; counterexamples/ and tightest/ must be real
// directories.
#pragma once

#include <filesystem>
#include <vector>

#include "proofs_checks/verifier.hpp"

namespace attncert {

/// Refuses (std::invalid_argument naming the path) what write_results_files could not write
/// safely: results.jsonl, results.csv, counterexamples/ID.json or tightest/ID.json that are
/// not regular files or absent, a counterexamples/ or tightest/ that is not a real directory. Commands call it before their work.
void check_results_files_targets(const std::filesystem::path& dir,
                                 const std::vector<const Claim*>& claims);

/// Writes the results of `claims` (results[i] belongs to claims[i]) into `dir`, each file
/// atomically: the counterexamples and tightest instances first, then results.jsonl and
/// results.csv, then the stale files of both directories are removed (a run killed midway leaves at worst a stale file, never a
/// missing one). Throws std::runtime_error naming the file that cannot be written.
void write_results_files(const std::filesystem::path& dir, const std::vector<const Claim*>& claims,
                         const std::vector<ClaimResult>& results);

}  // namespace attncert
