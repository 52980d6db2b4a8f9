// `attncert info`: versions of the arithmetic libraries, the scalar tiers, CUDA status.
#pragma once

#include <CLI/CLI.hpp>

namespace attncert::cli {

/// Registers the subcommand; the callback sets `exit_code`.
void add_info_command(CLI::App& app, int& exit_code);

}  // namespace attncert::cli
