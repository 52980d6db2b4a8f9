// `attncert sweep NAME`: one experiment of the report over a parameter grid, written as a tidy
// CSV (DIR/NAME.csv) with a one-paragraph summary on stdout; `attncert sweep --list` names the
// experiments. Grids: reports/sweep_grid.hpp.
#pragma once

#include <CLI/CLI.hpp>

namespace attncert::cli {

void add_sweep_command(CLI::App& app, int& exit_code);

}  // namespace attncert::cli
