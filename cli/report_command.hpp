// `attncert report`: sweeps, catalog verification and (when plugged in) kernel checks, as a
// LaTeX report with figures, compiled to PDF when pdflatex is installed.
#pragma once

#include <CLI/CLI.hpp>

namespace attncert::cli {

void add_report_command(CLI::App& app, int& exit_code);

}  // namespace attncert::cli
