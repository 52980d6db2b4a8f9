// The registry of kernel validations: one entry per kernel, used by `attncert check-kernel` and
// by the report's kernel table.
#pragma once

#include <cstddef>
#include <functional>
#include <string_view>
#include <vector>

#include "proofs_checks/kernel_check.hpp"

namespace attncert {

using KernelCheckProgress = std::function<void(std::size_t done, std::size_t total)>;

struct KernelCheckEntry {
  std::string_view name;  // CLI name, e.g. "flash-attention"
  std::string_view what;  // one line
  std::vector<KernelCheckRow> (*check)(const KernelCheckRequest&, const KernelCheckProgress&);
  // Which request filters the kernel's matrix has (dtype always): a filter it lacks is an error.
  bool uses_seqlen_q = false, uses_seqlen_k = false, uses_head_dim = false, uses_causal = false;
};

/// Every kernel, in report order.
const std::vector<KernelCheckEntry>& kernel_checks();

/// The rows of n independent cases, case(i) for i in [0, n), concatenated in order of i and
/// computed by distributed_map (MPI ranks, request.jobs workers each; the rows depend on
/// neither), after request.before_running. Each case counts `units_per_case` progress units (e.g. the dtypes it
/// covers).
std::vector<KernelCheckRow> run_cases_in_parallel(
    std::size_t n, const KernelCheckRequest& request,
    const std::function<std::vector<KernelCheckRow>(std::size_t)>& rows,
    const KernelCheckProgress& progress, std::size_t units_per_case = 1);

/// All kernels' rows for `request`, one after another (progress per kernel: name, done, total).
std::vector<KernelCheckRow> check_all_kernels(
    const KernelCheckRequest& request,
    const std::function<void(std::string_view kernel, std::size_t done, std::size_t total)>&
        progress = {});

}  // namespace attncert
