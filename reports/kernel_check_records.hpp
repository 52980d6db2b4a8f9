// Kernel validation rows as CSV (RFC 4180) and as a fixed-width table for the terminal.
#pragma once

#include <string>
#include <vector>

#include "proofs_checks/kernel_check.hpp"

namespace attncert {

std::string kernel_check_csv(const std::vector<KernelCheckRow>& rows);

/// Columns: kernel, shape, dtype, variant, error, guaranteed bound, its ratio, the probabilistic
/// ratio, the input quantization effect (upper end), FA rule, det., pass (guaranteed), p-pass.
std::string kernel_check_table(const std::vector<KernelCheckRow>& rows);

}  // namespace attncert
