// MiniLM's forward pass (models/forward_pass.hpp) on 512 tokens, the issue-13 figure: its time
// against the reference, transformers on torch CPU with the same number of threads (one: the
// forward pass calls BLAS on one thread), goal ≤ 2×.
// A plain executable: median of the repeats, wall and process CPU time. The reference is timed
// by tests/models/fixtures/make_model_fixtures.py --time --threads 1 on the same 512 token ids
// (timing_token_ids there and below); pass its float64 median as --torch-ms to print the ratio.
//
// Two runs: recording no head (the cost of the pass itself) and every head's Q/K/V, logits and
// attention (72 heads × 2 × 2 MiB: copying what the engine will read).
//
// Measured (Dec 2026, the 2-core development machine when quiet, BLIS skx kernel, medians of 5,
// two alternating rounds): no head recorded 437–460 ms, every head 660–689 ms; torch 1.13
// (Debian) float64 1077–1153 ms, float32 320–509 ms — ratios 0.41 and 0.62 to torch float64.
//
// Usage: model_forward_bench [--model DIR] [--repeats N] [--torch-ms MS]
//        DIR defaults to scripts/get-model's all-MiniLM-L6-v2.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <string>
#include <vector>

#include "models/forward_pass.hpp"
#include "models/model_cache.hpp"
#include "numerics/blas.hpp"

namespace attncert::models {
namespace {

using Clock = std::chrono::steady_clock;

double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         1e-6 * static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

// The ids make_model_fixtures.py times too: [CLS], a fixed walk over the vocabulary, [SEP].
std::vector<std::int64_t> timing_token_ids(std::size_t n) {
  std::vector<std::int64_t> ids = {101};
  for (std::size_t i = 1; i + 1 < n; ++i)
    ids.push_back(1000 + static_cast<std::int64_t>((i * 7919) % 28000));
  ids.push_back(102);
  return ids;
}

struct Timing {
  double wall_ms, cpu_ms;
};

Timing time_forward(const TransformerModel& model, const std::vector<std::int64_t>& ids,
                    const TraceSelection& selection, int repeats) {
  run_forward(model, ids, selection);  // warm-up: page in the weights, initialise BLAS
  std::vector<double> wall, cpu;
  for (int r = 0; r < repeats; ++r) {
    const double c0 = cpu_seconds();
    const auto t0 = Clock::now();
    const ModelTrace trace = run_forward(model, ids, selection);
    wall.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    cpu.push_back(1e3 * (cpu_seconds() - c0));
    if (trace.final_hidden.size() == 0) std::abort();  // keep the pass from being elided
  }
  const auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  return {median(wall), median(cpu)};
}

int run(int argc, char** argv) {
  std::filesystem::path dir = attncert::models::cached_model_directory("all-minilm-l6-v2");
  int repeats = 5;
  double torch_ms = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--model" && i + 1 < argc) {
      dir = argv[++i];
    } else if (a == "--repeats" && i + 1 < argc) {
      repeats = std::atoi(argv[++i]);
    } else if (a == "--torch-ms" && i + 1 < argc) {
      torch_ms = std::atof(argv[++i]);
    } else {
      std::fprintf(stderr,
                   "model_forward_bench: unknown argument '%s' (usage: [--model DIR] "
                   "[--repeats N] [--torch-ms MS])\n",
                   a.c_str());
      return 2;
    }
  }
  if (repeats < 1) {
    std::fprintf(stderr, "model_forward_bench: --repeats must be at least 1\n");
    return 2;
  }
  const TransformerModel model = load_model(dir);
  const std::vector<std::int64_t> ids = timing_token_ids(model.config.max_positions);
  std::printf("products: %s\n", blas::configuration().c_str());
  std::printf("%s: %zu layers x %zu heads, %zu tokens, median of %d\n", dir.string().c_str(),
              model.config.layers, model.config.heads, ids.size(), repeats);
  const Timing bare = time_forward(model, ids, TraceSelection::no_heads(), repeats);
  const Timing traced = time_forward(model, ids, TraceSelection::all_heads(), repeats);
  std::printf("forward, no head recorded:   %8.1f ms wall, %8.1f ms CPU\n", bare.wall_ms,
              bare.cpu_ms);
  std::printf("forward, every head recorded: %7.1f ms wall, %8.1f ms CPU\n", traced.wall_ms,
              traced.cpu_ms);
  if (torch_ms > 0) {
    std::printf(
        "ratio to torch float64 (%.1f ms): %.2f (no head recorded), %.2f (every head); goal <= 2\n",
        torch_ms, bare.wall_ms / torch_ms, traced.wall_ms / torch_ms);
  }
  return 0;
}

}  // namespace
}  // namespace attncert::models

int main(int argc, char** argv) {
  try {
    return attncert::models::run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "model_forward_bench: %s\n", e.what());
    return 1;
  }
}
