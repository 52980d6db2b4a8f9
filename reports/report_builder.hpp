// The report: every sweep experiment (tidy CSV, pgfplots figures, one-line finding), the
// catalog's verification verdicts and, when given, the kernel validation table, as LaTeX and
// (when pdflatex is installed) PDF.
//
// Layout of the output directory DIR:
//   report.tex, figures/<figure>.tex, figures/<figure>-<k>.dat   the document and its figures
//   data/<experiment>.csv                                         tidy sweep tables
//   data/model-<table>.csv, figures/model-*                       with a model study (per head)
//   results.jsonl, results.csv, counterexamples/<claim>.json      verification (as `verify`)
//   kernel_checks.csv                                             when kernel rows are given
//   run.json                                                      time, duration, host, versions
//   .attncert-report                                              marks DIR as a report
//   report.pdf                                                    when pdflatex was found
// Same seed, same options, same build → every file except run.json and report.pdf is
// byte-identical, report.tex included. The PDF has no dates and no trailer id, but it states the
// running time (passed to pdflatex as a definition, not written into report.tex) unless
// running_time_in_pdf is false; only then is it byte-identical too.
//
// Atomic: everything is built in a sibling DIR.tmp-<pid>-<hex> and swapped into place at the
// end (reports/report_directory.hpp). An existing DIR is replaced only after success and only
// if it is empty or a previous report (marker file, run.json and layout), so a mistyped --out
// never deletes unrelated files.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "proofs_checks/kernel_check.hpp"
#include "reports/model_study.hpp"
#include "reports/sweep.hpp"

namespace attncert {

/// Progress: a stage ("sweep <name>", "verification", "pdflatex"), done, total.
using ReportProgress = std::function<void(const std::string& stage, std::size_t done, std::size_t total)>;

struct ReportOptions {
  std::string out_dir = "report";
  bool quick = false;  // quick grids and a reduced verification budget
  std::uint64_t seed = 1;
  /// The experiments, in report order; unset: sweeps::experiments().
  std::optional<std::vector<sweeps::Experiment>> experiments;
  bool verify_catalog = true;
  /// Double evaluations per claim in the sampling phase; 0: 500 quick, 8000 full (the default
  /// of `attncert verify`). At 500, `verify --all -j2` takes ~8 s on the 2-core CI machine.
  long verify_instances = 0;
  long verify_max_precision = 4096;
  int jobs = 0;  // claims verified in parallel; 0: all cores
  /// Kernel validation rows (called once with quick and seed); empty: no kernel table.
  std::function<std::vector<KernelCheckRow>(bool quick, std::uint64_t seed)> kernel_checks;
  /// Paper A's experiments on every head of a pretrained model (reports/model_study.hpp): its
  /// per-head CSVs in data/, its section after the sweep sections, its facts in run.json.
  /// Unset: no model section, and the report is what it is without this field. The study runs
  /// with the report's `seed` (its own seed is ignored) and, when its `jobs` is 0, the report's
  /// `jobs`; its progress goes to `progress` as stage "model <stage>" (and to its own callback).
  /// It runs first, so a bad model or text fails before the sweeps.
  std::optional<ModelStudyOptions> model_study;
  bool pdf = true;                // compile report.pdf when pdflatex is found
  /// false on MPI ranks other than 0: they compute every part in step with rank 0 (the units
  /// are shared: proofs_checks/distributed_map.hpp) and write nothing lasting, no PDF either.
  bool writes_outputs = true;
  /// Print the running time in the PDF (passed to pdflatex, never written into report.tex, so
  /// the sources stay byte-identical; the PDF then differs between runs by that line).
  bool running_time_in_pdf = true;
  std::string pdflatex = "pdflatex";  // program name (searched on PATH) or path
  std::string tool_version = "unknown";  // printed in the document and run.json
  ReportProgress progress;
};

struct ReportResult {
  std::string out_dir;            // absolute
  std::string tex_path;
  std::optional<std::string> pdf_path;
  bool pdflatex_found = false;
  std::size_t experiments = 0, figures = 0;
  std::size_t claims = 0, refuted = 0, inconclusive = 0;
  std::size_t kernel_rows = 0, kernel_failures = 0, kernel_vacuous = 0;
  /// With a model study: model_study_summary (plain text for the terminal). Its heatmaps are
  /// counted in `figures`.
  std::optional<std::string> model_summary;
  double seconds = 0;
};

/// Builds the report. Throws std::runtime_error with one line naming the problem: an output
/// directory that cannot be written (before any work), an existing non-report directory, an
/// experiment that fails (named), or a pdflatex error (its first error line; the unfinished
/// build directory is then kept for inspection and named). On any failure an existing DIR is
/// left as it was.
ReportResult build_report(const ReportOptions& options);

}  // namespace attncert
