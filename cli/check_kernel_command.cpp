#include "cli/check_kernel_command.hpp"

#include <fmt/format.h>

#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "cli/checkpoint_option.hpp"
#include "cli/exit_codes.hpp"
#include "cli/kernel_preflight.hpp"
#include "cli/mpi_world.hpp"
#include "cli/jobs_option.hpp"
#include "cli/progress_line.hpp"
#include "cli/seed_option.hpp"
#include "gpu/device.hpp"
#include "gpu/twin_self_test.hpp"
#include "proofs_checks/kernel_checks.hpp"
#include "reports/kernel_check_records.hpp"
#include "reports/output_file.hpp"
#include "reports/result_records.hpp"
#include "reports/temporary_path.hpp"

namespace attncert::cli {
namespace {

struct CheckKernelArgs {
  std::string name;
  std::string dtype;
  std::optional<int> seqlen_q, seqlen_k, head_dim;
  std::string causal;
  std::uint64_t seed = 20261123;
  bool quick = false;
  bool twin = false;
  bool device = false;
  int jobs = 0;
  std::string truth = "fast";
  std::string rule = "guaranteed";
  double false_alarm = kDefaultFalseAlarm;
  std::string out;
  std::string checkpoint;
};

std::string known_names() {
  std::string s;
  for (const KernelCheckEntry& k : kernel_checks())
    s += std::string(s.empty() ? "" : ", ") + std::string(k.name);
  return s + ", all";
}

KernelCheckRequest make_request(const CheckKernelArgs& a) {
  KernelCheckRequest r;
  if (!a.dtype.empty()) {
    r.dtype = gpu::parse_dtype(a.dtype);
    if (!r.dtype)
      throw CLI::ValidationError("--dtype", "'" + a.dtype + "' is not one of fp32, fp16, bf16");
  }
  const auto positive = [](const char* flag, const std::optional<int>& v) -> std::optional<int> {
    if (v && (*v < 1 || *v > 1 << 20))
      throw CLI::ValidationError(flag, fmt::format("{} is outside 1..1048576", *v));
    return v;
  };
  r.seqlen_q = positive("--seqlen-q", a.seqlen_q);
  r.seqlen_k = positive("--seqlen-k", a.seqlen_k);
  r.head_dim = positive("--head-dim", a.head_dim);
  if (a.causal == "on" || a.causal == "true" || a.causal == "1") r.causal = true;
  else if (a.causal == "off" || a.causal == "false" || a.causal == "0") r.causal = false;
  else if (!a.causal.empty())
    throw CLI::ValidationError("--causal", "'" + a.causal + "': expected on or off");
  r.seed = a.seed;
  r.quick = a.quick;
  r.prefer_device = !a.twin;
  r.jobs = a.jobs;
  if (a.truth == "fast") r.truth = KernelTruth::fast;
  else if (a.truth == "ball") r.truth = KernelTruth::ball;
  else throw CLI::ValidationError("--truth", "'" + a.truth + "': expected fast or ball");
  if (a.rule != "guaranteed" && a.rule != "probabilistic")
    throw CLI::ValidationError("--rule", "'" + a.rule + "': expected guaranteed or probabilistic");
  try {
    require_false_alarm(a.false_alarm);
  } catch (const std::invalid_argument& e) {
    throw CLI::ValidationError("--false-alarm", e.what());
  }
  r.false_alarm = a.false_alarm;
  return r;
}

void run_check_kernel(const CheckKernelArgs& a, int& exit_code) {
  // Refusals in exit-code order, all before any work: the command line (3), the output file
  // (4), a defective build (5), no device when one is required (6) — so a typo is reported as
  // a typo on a GPU-less machine too, not as "no device".
  std::vector<const KernelCheckEntry*> selected;
  for (const KernelCheckEntry& k : kernel_checks())
    if (a.name == "all" || a.name == k.name) selected.push_back(&k);
  if (selected.empty())
    throw CLI::ValidationError("NAME", "unknown kernel '" + a.name + "' (known: " +
                                           known_names() + ")");
  KernelCheckRequest request = make_request(a);
  // A filter the kernel's matrix does not have is an error for one kernel; with `all`, the
  // kernels lacking it are left out (and say so).
  const auto unused_filter = [&](const KernelCheckEntry& k) -> std::string {
    if (request.seqlen_q && !k.uses_seqlen_q) return "--seqlen-q";
    if (request.seqlen_k && !k.uses_seqlen_k) return "--seqlen-k";
    if (request.head_dim && !k.uses_head_dim) return "--head-dim";
    if (request.causal && !k.uses_causal) return "--causal";
    return {};
  };
  std::vector<const KernelCheckEntry*> runnable;
  std::vector<std::string> left_out;
  for (const KernelCheckEntry* k : selected) {
    const std::string flag = unused_filter(*k);
    if (flag.empty()) {
      runnable.push_back(k);
    } else if (a.name != "all") {
      throw CLI::ValidationError(flag, "does not apply to " + std::string(k->name) +
                                           " (its filters: --dtype" +
                                           (k->uses_seqlen_q ? ", --seqlen-q" : "") +
                                           (k->uses_seqlen_k ? ", --seqlen-k" : "") +
                                           (k->uses_head_dim ? ", --head-dim" : "") +
                                           (k->uses_causal ? ", --causal" : "") + ")");
    } else {
      left_out.push_back(fmt::format("skipped: {} ({} does not apply to it)\n", k->name, flag));
    }
  }
  const std::string out = a.out.empty() ? "check-kernel-" + a.name + ".csv" : a.out;
  install_interrupt_cleanup();
  check_output_file_writable(out, "--out");  // before the work, not after it
  // Once the kernels have checked the filters against their matrices (a head dim a kernel does
  // not support is a usage error, 3, also on a GPU-less machine), before the first case runs:
  // the twins vouch for the device bit for bit, so a twin built with value-changing float flags
  // must not (docs/bit_exactness.md; a build defect, the internal-error exit), then the device
  // when one is required (6).
  auto started = std::make_shared<bool>(false);
  request.before_running = [&a, started, &left_out] {
    if (*started) return;
    *started = true;
    kernel_preflight(a.device, a.twin);
    for (const std::string& line : left_out) fmt::print("{}", line);
  };
  const CheckpointHandle checkpoint = open_checkpoint(a.checkpoint);
  ProgressLine progress;
  std::vector<KernelCheckRow> rows;
  for (const KernelCheckEntry* k : runnable) {
    std::vector<KernelCheckRow> part;
    try {
      part = k->check(request, [&](std::size_t done, std::size_t total) {
        progress.update(fmt::format("{}: case {}/{}", k->name, done, total));
      });
    } catch (const std::invalid_argument& e) {  // a filter value outside the kernel's range
      progress.clear();
      throw CLI::ValidationError(e.what());
    }
    rows.insert(rows.end(), part.begin(), part.end());
  }
  progress.clear();
  if (!is_output_rank()) {  // under mpirun: the cases went to rank 0, which writes and judges
    exit_code = kAllHold;
    return;
  }
  if (rows.empty())
    throw std::invalid_argument(
        "no case matches the given filters (a shape outside the matrix needs both --seqlen-q and "
        "--seqlen-k; the jacobian-norm row length is --seqlen-k)");
  // Which side ran is per row (executed_on); say it once up front in words.
  const gpu::DeviceReport device = gpu::query_devices();
  const bool on_device = rows.front().executed_on.rfind("device", 0) == 0;
  fmt::print("ran: {}\n", on_device ? "CUDA kernel — " + device.message
                                    : a.twin ? std::string("CPU twin (--twin)")
                                             : "CPU twin — " + device.message);
  fmt::print("truth: {}\n",
             request.truth == KernelTruth::fast
                 ? "fast enclosure for flash-attention (rows whose verdict its radius leaves "
                   "open recomputed in Arb balls; counts in the CSV notes), Arb balls otherwise"
                 : "Arb balls");
  fmt::print("{}", kernel_check_table(rows));
  write_file_atomically(out, kernel_check_csv(rows));
  const bool probabilistic_rule = a.rule == "probabilistic";
  std::size_t failed = 0, vacuous = 0, probabilistic_failed = 0, not_run = 0;
  for (const KernelCheckRow& r : rows) {
    failed += r.pass || r.could_not_run ? 0 : 1;
    not_run += r.could_not_run ? 1 : 0;
    vacuous += r.pass && r.vacuous ? 1 : 0;
    probabilistic_failed += r.probabilistic_pass ? 0 : 1;
  }
  fmt::print("{} case(s): {} validated within the guaranteed bound, {} vacuous (the bound is "
             "infinite or trivial there, so accuracy is not validated), {} failed (error > "
             "guaranteed bound: certainly not a correct kernel; or non-deterministic, or NaN){}\n",
             rows.size(), rows.size() - failed - vacuous - not_run, vacuous, failed,
             not_run ? fmt::format(", {} could not run (the kernel did not execute: a refused launch or a CUDA "
                                   "error, named in the note; nothing learnt about its accuracy)", not_run)
                     : std::string());
  fmt::print("probabilistic bound: {} case(s) exceed it (a defect unless the rounding errors are "
             "correlated; a correct kernel exceeds it anywhere in a case with probability <= {:g} "
             "when its roundings are independent and mean-zero){}\n",
             probabilistic_failed - not_run, request.false_alarm,
             probabilistic_rule ? "; --rule probabilistic decides the exit code" : "");
  fmt::print("columns: max error and max bound over the outputs; g-ratio, p-ratio: the largest "
             "per-element error / guaranteed (probabilistic) bound over outputs and lse, so "
             "not max error / max bound; errors are against the certified truth of the inputs "
             "as the kernel read them; 'quantiz.': how far rounding the inputs to the dtype moved "
             "the exact answer (upper end; not the kernel's error)\n");
  // A dtype that moves the answer by more than the answer's own error budget deserves a line:
  // the kernel can be perfect and the result still far from what the original inputs give.
  const KernelCheckRow* largest = nullptr;
  for (const KernelCheckRow& r : rows)
    if (!largest || r.input_quantization_high > largest->input_quantization_high) largest = &r;
  if (largest && largest->input_quantization_high > largest->bound)
    fmt::print("largest input-quantization effect: {:.3g} ({} {} {} {}): rounding the inputs to "
               "{} moved the exact answer by more than the kernel's own error bound\n",
               largest->input_quantization_high, largest->kernel, largest->shape, largest->dtype,
               largest->variant, largest->dtype);
  fmt::print("CSV: {}\n", out);
  // A case that could not run is neither a failure nor a pass: exit 2 (inconclusive) when it is
  // the only trouble.
  const std::size_t judged_failed = probabilistic_rule ? probabilistic_failed - not_run : failed;
  exit_code = judged_failed > 0 ? kRefuted : not_run > 0 ? kInconclusive : kAllHold;
}

}  // namespace

void add_check_kernel_command(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<CheckKernelArgs>();
  CLI::App* cmd = app.add_subcommand(
      "check-kernel",
      "Validate a kernel (CUDA device if present, else its CPU twin; --device: the device or "
      "fail) against the certified "
      "ground truth and its a-priori error bounds (guaranteed and probabilistic). Exit 1 if "
      "any case fails under --rule.");
  cmd->add_option("NAME", args->name, "Kernel: " + known_names())->required();
  cmd->add_option("--dtype", args->dtype, "Only this input type: fp32, fp16, bf16");
  cmd->add_option("--seqlen-q", args->seqlen_q, "Only this query length (linear-attention: sequence length T)");
  cmd->add_option("--seqlen-k", args->seqlen_k, "Only this key length (jacobian-norm: row length L)");
  cmd->add_option("--head-dim", args->head_dim, "Only this head dimension");
  cmd->add_option("--causal", args->causal, "Only causal (on) or non-causal (off) cases");
  add_seed_option(cmd, args->seed, "Seed of the random inputs, 0 to 2^64-1");
  cmd->add_flag("--quick", args->quick, "A reduced shape matrix");
  CLI::Option* twin =
      cmd->add_flag("--twin", args->twin, "Run the CPU twin even when a CUDA device is present");
  cmd->add_flag("--device", args->device,
                "Run on a CUDA device or fail (exit 6, with the reason there is none) instead of "
                "falling back to the twin; ATTNCERT_REQUIRE_DEVICE=1 implies it unless --twin")
      ->excludes(twin);
  cmd->add_option("--truth", args->truth,
                  "Certified truth of flash-attention: fast (double enclosure, rows whose verdict "
                  "its radius leaves undecided recomputed in Arb balls) or ball (every row in Arb "
                  "balls; slower, same verdicts). linear-attention and jacobian-norm always use "
                  "Arb balls")
      ->capture_default_str();
  cmd->add_option("--rule", args->rule,
                  "What fails a case: guaranteed (error above the guaranteed bound: certainly not "
                  "a correct kernel) or probabilistic (error above the probabilistic bound: a "
                  "defect unless the rounding errors are correlated). Both are always reported")
      ->capture_default_str();
  cmd->add_option("--false-alarm", args->false_alarm,
                  "Probability, in (0, 1), that a correct kernel exceeds the probabilistic bound "
                  "somewhere in a case (independent mean-zero roundings)")
      ->capture_default_str();
  cmd->add_option("--out", args->out,
                  "CSV file (default check-kernel-NAME.csv); must be absent or a regular file");
  add_jobs_option(cmd, args->jobs, "Cases validated in parallel (the output does not depend on it)");
  add_checkpoint_option(cmd, args->checkpoint);
  cmd->callback([args, &exit_code] { run_check_kernel(*args, exit_code); });
}

}  // namespace attncert::cli
