// `attncert replay FILE`: re-certify a saved counterexample from scratch.
#pragma once

#include <CLI/CLI.hpp>

namespace attncert::cli {

void add_replay_command(CLI::App& app, int& exit_code);

}  // namespace attncert::cli
