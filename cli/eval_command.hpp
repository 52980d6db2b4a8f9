// `attncert eval QUANTITY`: certified values of a quantity on user data (logits given inline or
// as a .npy file, e.g. exported from PyTorch).
#pragma once

#include <CLI/CLI.hpp>

namespace attncert::cli {

void add_eval_command(CLI::App& app, int& exit_code);

}  // namespace attncert::cli
