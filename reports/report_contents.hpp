// What a report run computed, before it is written out: the sweep experiments, the model study
// and the catalog's verification (the document and run.json present them).
#pragma once

#include <string>
#include <vector>

#include "proofs_checks/verifier.hpp"
#include "reports/model_study.hpp"
#include "reports/sweep.hpp"

namespace attncert {

/// One sweep experiment as run for the report.
struct ExperimentOutput {
  const sweeps::Experiment* experiment = nullptr;
  std::string grid_text;
  std::size_t rows = 0;
  std::vector<std::string> figure_ids;
  sweeps::SweepSummary summary;
  double seconds = 0;
};

/// The catalog's verification as run for the report: results[i] belongs to claims[i].
struct CatalogVerification {
  std::vector<const Claim*> claims;
  std::vector<ClaimResult> results;
  long instances = 0;  // sampled per claim
  double seconds = 0;
};

/// The real-model study as run for the report (ReportOptions::model_study set).
struct ModelStudyOutput {
  ModelStudy study;
  std::string section;                  // model_study_latex: the section's LaTeX
  std::vector<std::string> data_files;  // the CSVs written, by name in data/
};

}  // namespace attncert
