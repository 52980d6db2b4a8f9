// The LaTeX source of the report (report.tex): how it was produced, the experiments at a
// glance, one section per sweep experiment, the real-model section (when a model was studied),
// the catalog's verdict table and the kernel validation table. A pure function of what the run computed, so the same seed gives the
// same bytes.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "proofs_checks/kernel_check.hpp"
#include "reports/report_builder.hpp"
#include "reports/report_contents.hpp"

namespace attncert {

std::string report_document(const ReportOptions& options,
                            const std::vector<ExperimentOutput>& experiments,
                            const std::optional<CatalogVerification>& verification,
                            const std::optional<std::vector<KernelCheckRow>>& kernels,
                            const std::optional<ModelStudyOutput>& model = std::nullopt);

}  // namespace attncert
