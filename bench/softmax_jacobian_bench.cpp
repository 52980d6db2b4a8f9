// Softmax Jacobian norm: the secular-equation method against a dense symmetric eigensolver on
// the same rows. 10⁴ rows of L = 64 logits (N(0, 3²), T = 1), double, single-threaded.
//
//  (1) from weights: both methods get the same probability rows α.
//      secular: softmax_jacobian_norms_from_weights (top two distinct weights, safeguarded
//               Newton on the pole-free secular function, O(L) per step);
//      dense:   form (diag α − ααᵀ) and run Eigen::SelfAdjointEigenSolver (eigenvalues only,
//               Householder tridiagonalisation + implicit QR, O(L³)), take the largest.
//  (2) from logits: softmax_jacobian_norm on each logit row (includes the L exponentials)
//      against softmax + the same dense eigensolver.
//  (3) attention Jacobians: softmax_attention_jacobian<double> with respect to Q, K and V at
//      L = 64, d = dv = 16 (1024 JVPs each, forming the 1024×1024 Jacobian), the batch
//      attention_local_lipschitz runs before its SVD. Reported as a time (its products go
//      through blas::gemm; compare against an older build of this binary for before → after).
// Target: time ratio dense / secular >= 20 in (1). The ratios are printed after the table, with
// the largest relative difference between the two methods' values (a sanity check, not a
// tolerance: the secular value is the more accurate one).
#include <benchmark/benchmark.h>

#include <Eigen/Eigenvalues>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "numerics/attention_jvp.hpp"
#include "numerics/rng.hpp"
#include "numerics/softmax.hpp"
#include "numerics/softmax_jacobian.hpp"

namespace attncert {
namespace {

constexpr Eigen::Index kRows = 10000;
constexpr Eigen::Index kLength = 64;

struct Data {
  RowMatrix<double> logits, alpha;
};

const Data& data() {
  static const Data d = [] {
    Data out;
    Rng rng(20251123);
    out.logits.resize(kRows, kLength);
    out.alpha.resize(kRows, kLength);
    for (Eigen::Index r = 0; r < kRows; ++r) {
      for (Eigen::Index j = 0; j < kLength; ++j) out.logits(r, j) = rng.normal(0.0, 3.0);
      const std::span<const double> row(out.logits.row(r).data(), kLength);
      const std::vector<double> a = softmax<double>(row, 1.0);
      for (Eigen::Index j = 0; j < kLength; ++j) out.alpha(r, j) = a[static_cast<std::size_t>(j)];
    }
    return out;
  }();
  return d;
}

double dense_from_alpha(const double* a, Eigen::MatrixXd& M,
                        Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd>& solver) {
  const Eigen::Map<const Eigen::VectorXd> alpha(a, kLength);
  M = -alpha * alpha.transpose();
  M.diagonal() += alpha;
  solver.compute(M, Eigen::EigenvaluesOnly);
  return solver.eigenvalues()(kLength - 1);  // ascending
}

void record(benchmark::State& state) { state.SetItemsProcessed(state.iterations() * kRows); }

std::vector<double> g_secular_values, g_dense_values;

void BM_SecularFromWeights(benchmark::State& state) {
  const Data& d = data();
  for (auto _ : state) {
    std::vector<double> norms = softmax_jacobian_norms_from_weights(d.alpha, 1.0);
    benchmark::DoNotOptimize(norms.data());
    g_secular_values = std::move(norms);
  }
  record(state);
}

void BM_DenseEigenFromWeights(benchmark::State& state) {
  const Data& d = data();
  Eigen::MatrixXd M(kLength, kLength);
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> solver(kLength);
  std::vector<double> out(kRows);
  for (auto _ : state) {
    for (Eigen::Index r = 0; r < kRows; ++r)
      out[static_cast<std::size_t>(r)] = dense_from_alpha(d.alpha.row(r).data(), M, solver);
    benchmark::DoNotOptimize(out.data());
  }
  g_dense_values = out;
  record(state);
}

void BM_SecularFromLogits(benchmark::State& state) {
  const Data& d = data();
  std::vector<double> out(kRows);
  for (auto _ : state) {
    for (Eigen::Index r = 0; r < kRows; ++r) {
      const std::span<const double> row(d.logits.row(r).data(), kLength);
      out[static_cast<std::size_t>(r)] = softmax_jacobian_norm<double>(row, 1.0);
    }
    benchmark::DoNotOptimize(out.data());
  }
  record(state);
}

void BM_DenseEigenFromLogits(benchmark::State& state) {
  const Data& d = data();
  Eigen::MatrixXd M(kLength, kLength);
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> solver(kLength);
  std::vector<double> out(kRows);
  for (auto _ : state) {
    for (Eigen::Index r = 0; r < kRows; ++r) {
      const std::span<const double> row(d.logits.row(r).data(), kLength);
      const std::vector<double> a = softmax<double>(row, 1.0);
      out[static_cast<std::size_t>(r)] = dense_from_alpha(a.data(), M, solver);
    }
    benchmark::DoNotOptimize(out.data());
  }
  record(state);
}

constexpr Eigen::Index kJacobianL = 64, kJacobianD = 16;

void BM_SoftmaxAttentionJacobian(benchmark::State& state) {
  const auto wrt = static_cast<AttentionInput>(state.range(0));
  Rng rng(20261203);
  RowMatrix<double> Q(kJacobianL, kJacobianD), K(kJacobianL, kJacobianD), V(kJacobianL, kJacobianD);
  for (RowMatrix<double>* m : {&Q, &K, &V})
    for (Eigen::Index i = 0; i < m->size(); ++i) m->data()[i] = rng.normal();
  for (auto _ : state) {
    const RowMatrix<double> J = softmax_attention_jacobian<double>(Q, K, V, wrt);
    benchmark::DoNotOptimize(J.data());
  }
  state.SetLabel(to_string(wrt));
}

BENCHMARK(BM_SoftmaxAttentionJacobian)
    ->Arg(static_cast<int>(AttentionInput::Q))
    ->Arg(static_cast<int>(AttentionInput::K))
    ->Arg(static_cast<int>(AttentionInput::V))
    ->Unit(benchmark::kMillisecond)
    ->MinTime(1.0);
BENCHMARK(BM_SecularFromWeights)->Unit(benchmark::kMillisecond)->MinTime(1.0);
BENCHMARK(BM_DenseEigenFromWeights)->Unit(benchmark::kMillisecond)->MinTime(1.0);
BENCHMARK(BM_SecularFromLogits)->Unit(benchmark::kMillisecond)->MinTime(1.0);
BENCHMARK(BM_DenseEigenFromLogits)->Unit(benchmark::kMillisecond)->MinTime(1.0);

/// Collects each benchmark's real time per iteration (one batch of 10⁴ rows).
class RatioReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& run : runs) {
      if (run.run_type == Run::RT_Iteration && run.iterations > 0) {
        times_[run.benchmark_name()] = run.GetAdjustedRealTime();
      }
    }
    ConsoleReporter::ReportRuns(runs);
  }
  /// Real time per iteration (ms) of the benchmark whose name starts with `prefix`.
  double time(const std::string& prefix) const {
    for (const auto& [name, t] : times_)
      if (name.rfind(prefix, 0) == 0) return t;
    return 0.0;
  }

 private:
  std::map<std::string, double> times_;
};

}  // namespace
}  // namespace attncert

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  attncert::RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  const double sw = reporter.time("BM_SecularFromWeights");
  const double dw = reporter.time("BM_DenseEigenFromWeights");
  const double sl = reporter.time("BM_SecularFromLogits");
  const double dl = reporter.time("BM_DenseEigenFromLogits");
  double max_rel = 0;
  const auto& s = attncert::g_secular_values;
  const auto& d = attncert::g_dense_values;
  for (std::size_t i = 0; i < std::min(s.size(), d.size()); ++i)
    max_rel = std::max(max_rel, std::abs(s[i] - d[i]) / s[i]);
  std::printf("\nsoftmax Jacobian norm, %ld rows x L = %ld, double\n", static_cast<long>(attncert::kRows),
              static_cast<long>(attncert::kLength));
  if (sw > 0 && dw > 0) {
    std::printf("  from weights: secular %.3f ms, dense eigensolver %.3f ms, ratio %.1fx (target >= 20x): %s\n",
                sw, dw, dw / sw, dw / sw >= 20 ? "met" : "NOT met");
  }
  if (sl > 0 && dl > 0) {
    std::printf("  from logits:  secular %.3f ms, softmax + dense %.3f ms, ratio %.1fx\n", sl, dl,
                dl / sl);
  }
  if (!s.empty() && !d.empty()) {
    std::printf("  largest relative difference secular vs dense: %.2e\n", max_rel);
  }
  benchmark::Shutdown();
  return 0;
}
