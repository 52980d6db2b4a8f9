// `attncert list`, `attncert verify`: the claims catalog and its verdicts.
#pragma once

#include <CLI/CLI.hpp>

namespace attncert::cli {

void add_list_command(CLI::App& app, int& exit_code);
void add_verify_command(CLI::App& app, int& exit_code);

}  // namespace attncert::cli
