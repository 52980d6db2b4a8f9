// `attncert model`: paper A's experiments (A.gpt2) on every attention head of a pretrained model
// reading a long text (reports/model_study.hpp): one CSV per experiment in --out, the comparison
// with the paper's GPT-2 findings and per-head medians on stdout.
#pragma once

#include <CLI/CLI.hpp>

namespace attncert::cli {

void add_model_command(CLI::App& app, int& exit_code);

}  // namespace attncert::cli
