// Causal linear attention (elu+1 features, d = dv = 64, double) — ratios measured in one run,
// printed after the Google Benchmark table:
//
//  (1) linear scaling: time(n = 65536) / time(n = 8192). The running-state recurrence does
//      O(n·m·dv) work, so the ideal ratio is 8. Target: ≤ 10.
//  (2) against double softmax attention (softmax_attention<double>, causal, same Q, K, V,
//      scale 1/√d) at n = 65536: time(softmax) / time(linear). Target: ≥ 20.
// Both include everything a caller pays for (feature maps, validation, output allocation).
// Single-threaded; CPU time is used for the ratios (robust against other processes), wall time
// is in the table. The softmax run at n = 65536 is O(n²d) and takes a while: one iteration.
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "numerics/linear_attention.hpp"
#include "numerics/rng.hpp"
#include "numerics/softmax_attention.hpp"

namespace attncert {
namespace {

using Index = Eigen::Index;

constexpr Index kD = 64;
constexpr Index kSmallN = 8192, kLargeN = 65536;

RowMatrix<double> random_matrix(std::uint64_t seed, Index rows, Index cols) {
  Rng rng(seed);
  RowMatrix<double> m(rows, cols);
  for (Index i = 0; i < rows; ++i)
    for (Index j = 0; j < cols; ++j) m(i, j) = rng.normal();
  return m;
}

struct Inputs {
  RowMatrix<double> Q, K, V;
};
const Inputs& inputs(Index n) {
  static std::map<Index, Inputs> cache;
  auto it = cache.find(n);
  if (it == cache.end()) {
    it = cache.emplace(n, Inputs{random_matrix(1, n, kD), random_matrix(2, n, kD),
                                 random_matrix(3, n, kD)})
             .first;
  }
  return it->second;
}

const double kScale = 1.0 / std::sqrt(static_cast<double>(kD));

void BM_CausalLinearAttentionEluPlusOne(benchmark::State& state) {
  const Index n = state.range(0);
  const Inputs& in = inputs(n);
  const FeatureMap phi = FeatureMap::elu_plus_one();
  for (auto _ : state) {
    auto r = linear_attention<double>(in.Q, in.K, in.V, phi, kScale, true);
    benchmark::DoNotOptimize(r.output.data());
    if (!r.all_ok()) state.SkipWithError("a normaliser was not positive");
  }
}

void BM_CausalSoftmaxAttention(benchmark::State& state) {
  const Index n = state.range(0);
  const Inputs& in = inputs(n);
  SoftmaxAttentionOptions<double> options;
  options.scale = kScale;
  options.keys = KeyVisibility::causal_mask();
  for (auto _ : state) {
    auto r = softmax_attention<double>(in.Q, in.K, in.V, options);
    benchmark::DoNotOptimize(r.output.data());
  }
}

BENCHMARK(BM_CausalLinearAttentionEluPlusOne)
    ->Arg(kSmallN)
    ->Arg(kLargeN)
    ->Unit(benchmark::kMillisecond)
    ->MinTime(2.0);
BENCHMARK(BM_CausalSoftmaxAttention)->Arg(kLargeN)->Unit(benchmark::kMillisecond)->Iterations(1);

/// Console output plus the per-iteration CPU time of every benchmark instance, for the ratios.
class RatioReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& run : runs) {
      if (run.run_type == Run::RT_Iteration && run.iterations > 0 && !run.error_occurred) {
        // Keyed "family/arg": the full name also carries min_time / iterations suffixes.
        seconds[run.run_name.function_name + "/" + run.run_name.args] =
            run.GetAdjustedCPUTime() / benchmark::GetTimeUnitMultiplier(run.time_unit);
      }
    }
    ConsoleReporter::ReportRuns(runs);
  }
  std::map<std::string, double> seconds;
};

std::string instance(const char* family, Index n) {
  return std::string(family) + "/" + std::to_string(n);
}

}  // namespace
}  // namespace attncert

int main(int argc, char** argv) {
  using namespace attncert;
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  auto& t = reporter.seconds;
  const std::string small = instance("BM_CausalLinearAttentionEluPlusOne", kSmallN);
  const std::string large = instance("BM_CausalLinearAttentionEluPlusOne", kLargeN);
  const std::string soft = instance("BM_CausalSoftmaxAttention", kLargeN);
  std::printf("\n== ratios (same run, CPU time) ==\n");
  if (t.count(small) && t.count(large)) {
    const double ratio = t[large] / t[small];
    std::printf("(1) causal linear attention (elu+1, d=%ld, double): time(n=%ld) / time(n=%ld) = "
                "%.3f (ideal 8, target <= 10) %s\n",
                static_cast<long>(kD), static_cast<long>(kLargeN), static_cast<long>(kSmallN),
                ratio, ratio <= 10.0 ? "PASS" : "FAIL");
  }
  if (t.count(large) && t.count(soft)) {
    const double ratio = t[soft] / t[large];
    std::printf("(2) causal softmax / linear attention time at n=%ld, d=%ld: %.1f "
                "(target >= 20) %s\n",
                static_cast<long>(kLargeN), static_cast<long>(kD), ratio,
                ratio >= 20.0 ? "PASS" : "FAIL");
  }
  benchmark::Shutdown();
  return 0;
}
