// A kernel-check case's rows as bytes, for the units that cross processes (MPI ranks,
// checkpoints): every field exactly (doubles by bit pattern), so rank 0 writes the same CSV
// and report whoever ran the case.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "proofs_checks/kernel_check.hpp"

namespace attncert {

std::string encode_kernel_rows(const std::vector<KernelCheckRow>& rows);
/// Throws std::invalid_argument naming the field for truncated or malformed bytes.
std::vector<KernelCheckRow> decode_kernel_rows(std::string_view bytes);

}  // namespace attncert
