#include "proofs_checks/kernel_checks.hpp"

#include "proofs_checks/flash_attention_check.hpp"
#include "proofs_checks/jacobian_norm_check.hpp"
#include "proofs_checks/linear_attention_check.hpp"
#include "proofs_checks/distributed_map.hpp"
#include "proofs_checks/kernel_rows_codec.hpp"

namespace attncert {

const std::vector<KernelCheckEntry>& kernel_checks() {
  static const std::vector<KernelCheckEntry> all = {
      {"flash-attention", "tiled softmax attention forward, online rescaling, fp32 accumulation",
       &check_flash_attention, true, true, true, true},
      {"linear-attention",
       "linear attention forward: non-causal state, causal chunk-64 carry, split and resume",
       &check_linear_attention, true, false, true, true},
      {"jacobian-norm", "batched softmax-Jacobian spectral norm by the secular equation",
       &check_jacobian_norm, false, true, false, false},
  };
  return all;
}

std::vector<KernelCheckRow> run_cases_in_parallel(
    std::size_t n, const KernelCheckRequest& request,
    const std::function<std::vector<KernelCheckRow>(std::size_t)>& rows,
    const KernelCheckProgress& progress, std::size_t units_per_case) {
  if (n > 0 && request.before_running) request.before_running();
  const auto per_case = distributed_map<std::vector<KernelCheckRow>>(
      n, request.jobs, rows, encode_kernel_rows, decode_kernel_rows, [&](std::size_t done, std::size_t total) {
        if (progress) progress(done * units_per_case, total * units_per_case);
      });
  std::vector<KernelCheckRow> out;
  for (const auto& r : per_case) out.insert(out.end(), r.begin(), r.end());
  return out;
}

std::vector<KernelCheckRow> check_all_kernels(
    const KernelCheckRequest& request,
    const std::function<void(std::string_view, std::size_t, std::size_t)>& progress) {
  std::vector<KernelCheckRow> rows;
  for (const KernelCheckEntry& k : kernel_checks()) {
    auto part = k.check(request, [&](std::size_t done, std::size_t total) {
      if (progress) progress(k.name, done, total);
    });
    rows.insert(rows.end(), part.begin(), part.end());
  }
  return rows;
}

}  // namespace attncert
