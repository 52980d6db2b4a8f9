// run.json: what differs between two runs of the same report (date, duration, host, library
// versions) and how the run was asked for (seed, mode), kept out of every other file so that
// those stay byte-identical.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "reports/report_builder.hpp"
#include "reports/report_contents.hpp"

namespace attncert {

/// The current time as ISO 8601 UTC, e.g. "2026-12-03T05:19:41Z".
std::string utc_now();

struct RunRecord {
  std::string_view generator;           // identifies the files as a report by this builder
  std::string started_utc;
  double seconds = 0;
  std::optional<std::string> pdflatex;  // the program run, if any
};

nlohmann::json run_metadata(const ReportOptions& options, const RunRecord& run,
                            const std::vector<ExperimentOutput>& experiments,
                            const std::optional<CatalogVerification>& verification);

}  // namespace attncert
