// `attncert eval attention`: the certified O and log-sum-exp of softmax attention on a user's
// Q, K, V (the fast enclosure tier; rows it cannot enclose recomputed in Arb balls), printed as
// a summary or JSON, saved as midpoint and radius arrays (.npy files or one .safetensors).
#pragma once

#include <CLI/CLI.hpp>

namespace attncert::cli {

/// Adds the `attention` subcommand to `eval`.
void add_eval_attention_command(CLI::App& eval, int& exit_code);

}  // namespace attncert::cli
