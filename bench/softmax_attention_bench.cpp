// Softmax attention benchmarks. Each figure is a ratio against a reference measured in the
// same run, printed after the Google Benchmark table:
//
//  (1) certified: softmax_attention<Ball> at n = 256, d = dv = 64, 256 bits, against a plain
//      Arb implementation written here (arb_mat_mul for Q Kᵀ, an arb_exp loop, row sums,
//      arb_mat_mul for E V, one division per output). Target: time ratio ≤ 1.5. Also reports
//      the largest relative radius of the output enclosure.
//  (2) double: softmax_attention<double> at n = 4096, d = dv ∈ {64, 128}; effective rate
//      4n²d / time against BLIS dgemm (blas::gemm) measured in the same process:
//        (a) the two products a naive implementation performs, n×d · d×n and n×n · n×d
//            (same 4n²d flops, n×n intermediate) — the directly comparable product work;
//        (b) a square 2048³ product — the machine's best-case dgemm rate.
//      Target: ≥ 0.5 of (b).
//  (3) exp throughput on 2¹⁶ doubles in [−30, 0]: bounded_exp against Eigen's vectorised exp
//      (SSE2: the default build has no -march) and std::exp, in ns per element.
// All single-threaded (serial BLIS, FLINT's default of one thread). The project builds without
// -march=native; blas::gemm and bounded_exp pick AVX-512/AVX2 code at run time.
//
// The comparison against numpy (target: double attention ≥ 1.5× faster than numpy + OpenBLAS)
// is one command that runs this binary and numpy interleaved and prints the ratios:
//     python3 bench/attention_vs_numpy.py build/bench/softmax_attention_bench
#include <arb_mat.h>
#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "numerics/blas.hpp"
#include "numerics/bounded_exp.hpp"
#include "numerics/rng.hpp"
#include "numerics/softmax_attention.hpp"

namespace attncert {
namespace {

using Index = Eigen::Index;

RowMatrix<double> random_matrix(std::uint64_t seed, Index rows, Index cols) {
  Rng rng(seed);
  RowMatrix<double> m(rows, cols);
  for (Index i = 0; i < rows; ++i)
    for (Index j = 0; j < cols; ++j) m(i, j) = rng.normal();
  return m;
}

constexpr Index kBallN = 256, kBallD = 64;
constexpr long kBallBits = 256;
constexpr Index kDoubleN = 4096;

// ---- (1) certified vs plain Arb ------------------------------------------------------------

RowMatrix<Ball> to_ball(const RowMatrix<double>& m) {
  RowMatrix<Ball> r(m.rows(), m.cols());
  for (Index i = 0; i < m.rows(); ++i)
    for (Index j = 0; j < m.cols(); ++j) r(i, j) = Ball(m(i, j), kBallBits);
  return r;
}

double largest_relative_radius = 0.0;
double largest_radius_over_max_abs = 0.0;

void BM_CertifiedSoftmaxAttention(benchmark::State& state) {
  const RowMatrix<Ball> Q = to_ball(random_matrix(1, kBallN, kBallD));
  const RowMatrix<Ball> K = to_ball(random_matrix(2, kBallN, kBallD));
  const RowMatrix<Ball> V = to_ball(random_matrix(3, kBallN, kBallD));
  SoftmaxAttentionResult<Ball> r;
  for (auto _ : state) {
    r = softmax_attention<Ball>(Q, K, V);
    benchmark::DoNotOptimize(r.output.data());
  }
  double rel = 0.0, rad = 0.0, big = 0.0;
  for (Index i = 0; i < r.output.rows(); ++i)
    for (Index j = 0; j < r.output.cols(); ++j) {
      rel = std::max(rel, r.output(i, j).relative_radius());
      rad = std::max(rad, r.output(i, j).radius());
      big = std::max(big, std::abs(r.output(i, j).mid()));
    }
  largest_relative_radius = rel;
  largest_radius_over_max_abs = rad / big;
  state.counters["max_rel_radius"] = rel;
  state.counters["max_radius/max|O|"] = rad / big;
}

// The straightforward Arb program: S = (Q Kᵀ)/√d, E = exp(S), O = (E V) / rowsum(E).
void BM_PlainArbSoftmaxAttention(benchmark::State& state) {
  const RowMatrix<double> Qd = random_matrix(1, kBallN, kBallD);
  const RowMatrix<double> Kd = random_matrix(2, kBallN, kBallD);
  const RowMatrix<double> Vd = random_matrix(3, kBallN, kBallD);
  const slong n = kBallN, d = kBallD, prec = kBallBits;
  arb_mat_t Q, K, V, Kt, S, O;
  arb_mat_init(Q, n, d);
  arb_mat_init(K, n, d);
  arb_mat_init(V, n, d);
  arb_mat_init(Kt, d, n);
  arb_mat_init(S, n, n);
  arb_mat_init(O, n, d);
  for (slong i = 0; i < n; ++i)
    for (slong j = 0; j < d; ++j) {
      arb_set_d(arb_mat_entry(Q, i, j), Qd(i, j));
      arb_set_d(arb_mat_entry(K, i, j), Kd(i, j));
      arb_set_d(arb_mat_entry(V, i, j), Vd(i, j));
    }
  arb_t scale, sum;
  arb_init(scale);
  arb_init(sum);
  for (auto _ : state) {
    arb_rsqrt_ui(scale, static_cast<ulong>(d), prec);
    arb_mat_transpose(Kt, K);
    arb_mat_mul(S, Q, Kt, prec);
    for (slong i = 0; i < n; ++i)
      for (slong j = 0; j < n; ++j) {
        arb_mul(arb_mat_entry(S, i, j), arb_mat_entry(S, i, j), scale, prec);
        arb_exp(arb_mat_entry(S, i, j), arb_mat_entry(S, i, j), prec);
      }
    arb_mat_mul(O, S, V, prec);
    for (slong i = 0; i < n; ++i) {
      arb_zero(sum);
      for (slong j = 0; j < n; ++j) arb_add(sum, sum, arb_mat_entry(S, i, j), prec);
      for (slong j = 0; j < d; ++j) arb_div(arb_mat_entry(O, i, j), arb_mat_entry(O, i, j), sum, prec);
    }
    benchmark::DoNotOptimize(O->entries);
  }
  arb_clear(scale);
  arb_clear(sum);
  arb_mat_clear(Q);
  arb_mat_clear(K);
  arb_mat_clear(V);
  arb_mat_clear(Kt);
  arb_mat_clear(S);
  arb_mat_clear(O);
}

// ---- (2) double vs BLIS dgemm ---------------------------------------------------------------

double attention_flops(Index d) { return 4.0 * kDoubleN * kDoubleN * static_cast<double>(d); }

void BM_DoubleSoftmaxAttention(benchmark::State& state) {
  const Index d = state.range(0);
  const RowMatrix<double> Q = random_matrix(4, kDoubleN, d);
  const RowMatrix<double> K = random_matrix(5, kDoubleN, d);
  const RowMatrix<double> V = random_matrix(6, kDoubleN, d);
  for (auto _ : state) {
    auto r = softmax_attention<double>(Q, K, V);
    benchmark::DoNotOptimize(r.output.data());
  }
  state.counters["GFLOP/s(4n^2d)"] = benchmark::Counter(
      attention_flops(d) * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

void BM_BlasTwoGemms(benchmark::State& state) {
  const Index d = state.range(0);
  const RowMatrix<double> Q = random_matrix(4, kDoubleN, d);
  const RowMatrix<double> K = random_matrix(5, kDoubleN, d);
  const RowMatrix<double> V = random_matrix(6, kDoubleN, d);
  RowMatrix<double> S(kDoubleN, kDoubleN), O(kDoubleN, d);
  for (auto _ : state) {
    blas::gemm(1.0, Q, K.transpose(), 0.0, S);
    blas::gemm(1.0, S, V, 0.0, O);
    benchmark::DoNotOptimize(O.data());
  }
  state.counters["GFLOP/s"] = benchmark::Counter(attention_flops(d) * 1e-9,
                                                 benchmark::Counter::kIsIterationInvariantRate);
}

constexpr Index kSquare = 2048;
const double kSquareFlops = 2.0 * kSquare * kSquare * kSquare;
void BM_BlasSquareGemm(benchmark::State& state) {
  const RowMatrix<double> A = random_matrix(7, kSquare, kSquare);
  const RowMatrix<double> B = random_matrix(8, kSquare, kSquare);
  RowMatrix<double> C(kSquare, kSquare);
  for (auto _ : state) {
    blas::gemm(1.0, A, B, 0.0, C);
    benchmark::DoNotOptimize(C.data());
  }
  state.counters["GFLOP/s"] =
      benchmark::Counter(kSquareFlops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

// ---- (3) exp throughput --------------------------------------------------------------------

constexpr Index kExpCount = 1 << 16;
Eigen::ArrayXd exp_arguments() {
  Rng rng(9);
  Eigen::ArrayXd x(kExpCount);
  for (Index i = 0; i < kExpCount; ++i) x(i) = rng.uniform(-30.0, 0.0);
  return x;
}

void BM_BoundedExp(benchmark::State& state) {
  const Eigen::ArrayXd x = exp_arguments();
  Eigen::ArrayXd y(kExpCount);
  for (auto _ : state) {
    bounded_exp(x.data(), 0.0, y.data(), kExpCount);
    benchmark::DoNotOptimize(y.data());
  }
}

void BM_EigenExp(benchmark::State& state) {
  const Eigen::ArrayXd x = exp_arguments();
  Eigen::ArrayXd y(kExpCount);
  for (auto _ : state) {
    y = x.exp();
    benchmark::DoNotOptimize(y.data());
  }
}

void BM_StdExp(benchmark::State& state) {
  const Eigen::ArrayXd x = exp_arguments();
  Eigen::ArrayXd y(kExpCount);
  for (auto _ : state) {
    for (Index i = 0; i < kExpCount; ++i) y(i) = std::exp(x(i));
    benchmark::DoNotOptimize(y.data());
  }
}

BENCHMARK(BM_CertifiedSoftmaxAttention)->Unit(benchmark::kMillisecond)->MinTime(2.0);
BENCHMARK(BM_PlainArbSoftmaxAttention)->Unit(benchmark::kMillisecond)->MinTime(2.0);
BENCHMARK(BM_DoubleSoftmaxAttention)->Arg(64)->Arg(128)->Unit(benchmark::kMillisecond)->MinTime(2.0);
BENCHMARK(BM_BlasTwoGemms)->Arg(64)->Arg(128)->Unit(benchmark::kMillisecond)->MinTime(2.0);
BENCHMARK(BM_BlasSquareGemm)->Unit(benchmark::kMillisecond)->MinTime(2.0);
BENCHMARK(BM_BoundedExp)->Unit(benchmark::kMicrosecond)->MinTime(1.0);
BENCHMARK(BM_EigenExp)->Unit(benchmark::kMicrosecond)->MinTime(1.0);
BENCHMARK(BM_StdExp)->Unit(benchmark::kMicrosecond)->MinTime(1.0);

/// Console output plus the per-iteration real time of every benchmark, for the ratios.
class RatioReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& run : runs) {
      if (run.run_type == Run::RT_Iteration && run.iterations > 0) {
        // CPU time: the programs are single-threaded, and CPU time is robust against other
        // processes sharing the machine (wall time is reported in the table).
        const std::string name = run.benchmark_name();
        seconds[name.substr(0, name.find("/min_time"))] =
            run.GetAdjustedCPUTime() / benchmark::GetTimeUnitMultiplier(run.time_unit);
      }
    }
    ConsoleReporter::ReportRuns(runs);
  }
  std::map<std::string, double> seconds;
};

}  // namespace
}  // namespace attncert

int main(int argc, char** argv) {
  using namespace attncert;
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  auto& t = reporter.seconds;
  auto have = [&t](const std::string& name) { return t.count(name) != 0; };
  std::printf("\n== ratios (same run) ==\n");
  if (have("BM_CertifiedSoftmaxAttention") && have("BM_PlainArbSoftmaxAttention")) {
    const double ratio = t["BM_CertifiedSoftmaxAttention"] / t["BM_PlainArbSoftmaxAttention"];
    std::printf("(1) certified / plain Arb time at n=%ld, d=%ld, %ld bits: %.3f (target <= 1.5) %s\n",
                static_cast<long>(kBallN), static_cast<long>(kBallD), kBallBits, ratio,
                ratio <= 1.5 ? "PASS" : "FAIL");
    std::printf("    largest relative radius of O: %.3e; largest radius / max|O|: %.3e\n",
                largest_relative_radius, largest_radius_over_max_abs);
  }
  const bool have_square = have("BM_BlasSquareGemm");
  const double square = have_square ? kSquareFlops / t["BM_BlasSquareGemm"] * 1e-9 : 0.0;
  if (have_square) {
    std::printf("(2) BLIS dgemm %ld^3: %.2f GFLOP/s (%s)\n", static_cast<long>(kSquare), square,
                blas::configuration().c_str());
  }
  for (const Index d : {Index(64), Index(128)}) {
    const std::string ours = fmt::format("BM_DoubleSoftmaxAttention/{}", d);
    const std::string gemms = fmt::format("BM_BlasTwoGemms/{}", d);
    if (!have(ours)) continue;
    const double attention = attention_flops(d) / t[ours] * 1e-9;
    std::printf("    double softmax attention n=%ld, d=%ld: %.4f s, %.2f GFLOP/s (4n^2d / time)\n",
                static_cast<long>(kDoubleN), static_cast<long>(d), t[ours], attention);
    if (have(gemms)) {
      const double two = attention_flops(d) / t[gemms] * 1e-9;
      std::printf("      its two products alone (n x d . d x n, n x n . n x d): %.2f GFLOP/s, "
                  "attention / that %.3f\n",
                  two, attention / two);
    }
    if (have_square) {
      std::printf("      attention / square dgemm rate: %.3f (target >= 0.5) %s\n",
                  attention / square, attention / square >= 0.5 ? "PASS" : "FAIL");
    }
  }
  if (have("BM_BoundedExp")) {
    const double per = 1e9 / kExpCount;
    std::printf("(3) exp of %ld doubles: bounded_exp %.3f ns each", static_cast<long>(kExpCount),
                t["BM_BoundedExp"] * per);
    if (have("BM_EigenExp")) {
      std::printf(", Eigen %.3f ns (%.2fx)", t["BM_EigenExp"] * per,
                  t["BM_EigenExp"] / t["BM_BoundedExp"]);
    }
    if (have("BM_StdExp")) {
      std::printf(", std::exp %.3f ns (%.2fx)", t["BM_StdExp"] * per,
                  t["BM_StdExp"] / t["BM_BoundedExp"]);
    }
    std::printf("\n");
  }
  benchmark::Shutdown();
  return 0;
}
