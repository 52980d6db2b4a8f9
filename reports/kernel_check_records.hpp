// Kernel validation rows as CSV (RFC 4180) and as a fixed-width table for the terminal.
#pragma once

#include <string>
#include <vector>

#include "proofs_checks/kernel_check.hpp"

namespace attncert {

std::string kernel_check_csv(const std::vector<KernelCheckRow>& rows);

/// Columns: kernel, shape, dtype, variant, max error, max guaranteed bound (each over the
/// outputs), the largest per-element ratio to the guaranteed bound (g-ratio) and to the
/// probabilistic bound (p-ratio), over outputs and lse — not max error / max bound — the input
/// quantization effect (upper end), FA rule, det., g-pass, p-pass.
std::string kernel_check_table(const std::vector<KernelCheckRow>& rows);

}  // namespace attncert
