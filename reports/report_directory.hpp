// The output directory of `attncert report`: checked, locked, built beside itself and swapped
// into place in one step at the end, so a failed, interrupted or concurrent run never leaves
// a half-written report, no report at all, or deleted user files.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "reports/output_file.hpp"
#include "reports/temporary_path.hpp"

namespace attncert {

/// The file that marks a directory as written by `attncert report`, and its one line.
inline constexpr const char* kReportMarkerFile = ".attncert-report";
inline constexpr const char* kReportMarkerLine = "attncert report directory, format 1\n";

/// Why `dir` may not be replaced by a new report, or empty when it may: it is empty, or it is a
/// report — the marker file with its line, a run.json from `attncert report` (generator,
/// version, seed, mode), a report.tex, and, throughout its tree, nothing but regular files with
/// the names a report writes (data/ and figures/ named after the experiments and figures its
/// run.json and report.tex list, counterexamples/ after the claims in its results.jsonl). The
/// first foreign path, when there is one, is the reason given.
std::string why_not_replaceable(const std::filesystem::path& dir);

/// Puts `staging` at `out`. With renameat2 (`exchange`, when the filesystem has its flags) an
/// existing `out` is swapped with it in one step (RENAME_EXCHANGE) and the old report, now at
/// the staging path, removed; an absent `out` is created by RENAME_NOREPLACE, and one that
/// appeared meanwhile is an error (the staging directory is kept). Otherwise `out` is first
/// renamed aside to OUT.old-<pid>-<hex>, both renames done with the interrupt cleanup held off;
/// after a crash between them recover_interrupted_replacement() puts the old report back.
void replace_directory(TemporaryDirectory& staging, const std::filesystem::path& out,
                       bool exchange = true);

/// Finishes a replacement a dead run left half done: with `out` missing, its OUT.old-<pid>-*
/// (the previous report) is renamed back; with `out` present, such leftovers are removed.
void recover_interrupted_replacement(const std::filesystem::path& out);

/// The report's directory for one run. The constructor (before any work) resolves and checks
/// `--out`, recovers a replacement a dead run left half done, locks an existing directory and
/// refuses it unless replaceable, removes stale DIR.tmp-<pid>-* of dead runs and creates the
/// staging directory (removed again by the destructor unless committed or kept). Throws
/// std::invalid_argument for a bad name, std::runtime_error otherwise.
class ReportDirectory {
 public:
  explicit ReportDirectory(const std::string& out_option);
  ReportDirectory(const ReportDirectory&) = delete;
  ReportDirectory& operator=(const ReportDirectory&) = delete;

  const std::filesystem::path& out() const { return out_; }
  /// Where the files are written until commit().
  const std::filesystem::path& staging() const { return staging_->path(); }
  /// After a failure: leave the staging directory for inspection (the next run removes it).
  void keep_staging() { staging_->keep(); }
  /// Marks the staging directory as a report and swaps it into place. When `out` meanwhile
  /// became something other than a report (created by the user, or a file added to the old
  /// report), throws std::runtime_error and keeps the staging directory, named in the message.
  void commit();

 private:
  std::filesystem::path out_;
  std::optional<OutputDirectoryLock> lock_;  // held until the end when replacing a report
  std::optional<TemporaryDirectory> staging_;
};

}  // namespace attncert
