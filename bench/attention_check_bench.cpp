// check-attention's cost: check_attention on the output of a correct emulated flash kernel
// (tests/support/emulated_attention_kernels.hpp; computed once, outside the timed region), fp16
// inputs and output, non-causal, N(0,1) inputs. Prints seconds per head and the share of the
// fast enclosure tier, the Arb refinement of undecided rows, the naive reference and the bounds.
// A plain program (one run of seconds to minutes, not a microbenchmark):
//   attention_check_bench            quick: (1, 2, 512, 512, 64)
//   attention_check_bench --full     the size: (1, 8, 4096, 4096, 128)
//   attention_check_bench H L d [jobs [defect]]   defect: bf16-accumulation, dropped-tile,
//                                                 no-sum-rescale (head 0 only): is it caught?
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "proofs_checks/attention_check.hpp"
#include "tests/support/emulated_attention_kernels.hpp"

int main(int argc, char** argv) {
  using namespace attncert;
  long heads = 2, L = 512, d = 64;
  int jobs = 0;
  if (argc == 2 && std::string(argv[1]) == "--full") heads = 8, L = 4096, d = 128;
  if (argc >= 4) heads = std::atol(argv[1]), L = std::atol(argv[2]), d = std::atol(argv[3]);
  if (argc >= 5) jobs = std::atoi(argv[4]);
  const std::string defect = argc >= 6 ? argv[5] : "";
  if (heads < 1 || L < 1 || d < 1) {
    std::fprintf(stderr, "usage: attention_check_bench [--full | H L d [jobs]]\n");
    return 2;
  }
  test_support::EmulatedAttentionSpec s;
  s.dtype = s.output_dtype = gpu::DType::f16;
  s.heads = s.kv_heads = heads, s.seqlen_q = s.seqlen_k = L, s.head_dim = d;
  s.block_k = 128;
  if (!defect.empty()) {
    s.defects.head = 0;
    s.seqlen_q = s.seqlen_k = L;
    if (defect == "bf16-accumulation")
      s.defects.bf16_accumulation = true;
    else if (defect == "dropped-tile")
      s.defects.drop_last_partial_tile = true, s.seqlen_k = L - 5;
    else if (defect == "no-sum-rescale")
      s.defects.skip_sum_rescale = true;
    else {
      std::fprintf(stderr, "unknown defect %s\n", defect.c_str());
      return 2;
    }
    std::printf("defect in head 0: %s\n", defect.c_str());
  }
  Rng rng(20261203);
  const auto q = test_support::random_in_dtype(rng, heads * L * d, s.dtype);
  const auto k = test_support::random_in_dtype(rng, heads * s.seqlen_k * d, s.dtype);
  const auto v = test_support::random_in_dtype(rng, heads * s.seqlen_k * d, s.dtype);
  std::printf("(1, %ld, %ld, %ld, %ld) fp16, seed 20261203; emulating the kernel...\n", heads, L, L,
              d);
  std::fflush(stdout);
  const auto t0 = std::chrono::steady_clock::now();
  const auto out = test_support::emulated_attention(s, q, k, v);
  std::printf("kernel emulation: %.1f s (not timed below)\n",
              std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  const auto views = test_support::attention_views(s, q, k, v, out.o);
  AttentionCheckOptions opt;
  opt.dtype = gpu::DType::f16, opt.output_dtype = gpu::DType::f16;
  opt.jobs = jobs;
  opt.progress = [](std::size_t done, std::size_t total) {
    std::printf("  heads %zu/%zu\n", done, total);
    std::fflush(stdout);
  };
  const AttentionCheckResult r =
      check_attention(views.tensors(), views.o, out.lse.data(), s.problem, opt);
  double truth = 0, refine = 0, reference = 0, bounds = 0;
  std::size_t refined = 0;
  for (const auto& h : r.heads) {
    truth += h.seconds_truth, refine += h.seconds_refinement, reference += h.seconds_reference;
    bounds += h.seconds_bounds, refined += h.refined_rows;
  }
  const double busy = truth + refine + reference + bounds;
  std::printf(
      "check_attention: %.2f s wall for %ld heads, %.2f s per head (worker time; jobs %d)\n",
      r.seconds, heads, busy / heads, jobs);
  std::printf(
      "  fast tier %.0f%%, refinement %.0f%% (%zu rows), naive reference %.0f%%, bounds %.0f%%\n",
      100 * truth / busy, 100 * refine / busy, refined, 100 * reference / busy,
      100 * bounds / busy);
  for (const auto& h : r.heads)
    std::printf("  head %td: ratio %.3g (row %td, col %td), error %.3g, naive %.3g, FA rule %s%s\n",
                h.head, h.max_ratio, h.worst.row, h.worst.column, h.max_error, h.naive_error,
                h.fa_rule_pass ? "pass" : "FAIL", h.bound_pass ? "" : ", BOUND VIOLATED");
  std::printf("  verdict %s\n", r.pass ? "pass" : "FAIL");
  return r.pass == defect.empty() ? 0 : 1;
}
