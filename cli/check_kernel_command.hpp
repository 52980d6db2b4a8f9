// `attncert check-kernel NAME`: a kernel (on a CUDA device when one is present, else its CPU
// twin) against the certified ground truth and its a-priori error bound, over a shape matrix.
#pragma once

#include <CLI/CLI.hpp>

namespace attncert::cli {

void add_check_kernel_command(CLI::App& app, int& exit_code);

}  // namespace attncert::cli
