// jacobian_norm: the CUDA kernel (when a device exists), its CPU twin, and numerics' double
// softmax_jacobian_norms on the same batch of logit rows × temperatures.
//
//  Device (skipped with the reason when there is none; ATTNCERT_REQUIRE_DEVICE=1: the run fails
//  with it): time_jacobian_norm_on_device on device-resident data; counters: GB/s of compulsory
//  traffic (R·L·elem + R·n_T·4 bytes), its fraction of H100 HBM (3.35 TB/s), an estimated fp32
//  FLOP rate (est_TFLOP/s) and its fractions of this device's fp32 CUDA-core peak and of the
//  input dtype's dense tensor peak (gpu/device_peak.hpp), rows·temperatures per second. A kernel
//  that fails on a present device fails the run (exit 1).
//  FLOP model per (row, T): L·(22 + 6·I) with I solver iterations (weights: sub, div, 15-op
//  exp, sum, max ≈ 22 per element incl. the scans; each iteration: sub, div, mul, two adds,
//  mul ≈ 6), I = 7 (typical for N(0, 3²) logits at T ≥ 1, see the twin test).
//  Host: the twin (one thread, the 32 lanes emulated) and softmax_jacobian_norms (double) on the
//  same R = 1024 rows × L = 1000 × 5 temperatures; the ratio is printed after the table.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "bench/required_device.hpp"
#include "gpu/device.hpp"
#include "gpu/dtype.hpp"
#include "gpu/jacobian_norm.hpp"
#include "numerics/rng.hpp"
#include "numerics/softmax_jacobian.hpp"

namespace attncert {
namespace {

constexpr double kHbmBytesPerSecond = 3.35e12;
constexpr double kAssumedIterations = 7;
const std::vector<float> kTemperatures = {0.01f, 0.1f, 1.0f, 10.0f, 100.0f};

struct Batch {
  gpu::DType dtype;
  long long rows, length;
  RowMatrix<double> logits;            // the double originals
  std::vector<std::uint16_t> half;     // fp16/bf16 bit patterns
  std::vector<float> full;             // fp32
  const void* data() const {
    return dtype == gpu::DType::f32 ? static_cast<const void*>(full.data()) : half.data();
  }
};

Batch make_batch(gpu::DType t, long long rows, long long length) {
  Batch b{t, rows, length, RowMatrix<double>(rows, length), {}, {}};
  Rng rng(20261123);
  b.full.resize(static_cast<std::size_t>(rows * length));
  b.half.resize(b.full.size());
  for (long long i = 0; i < rows * length; ++i) {
    const double x = rng.normal(0.0, 3.0);
    b.logits(i / length, i % length) = x;
    const auto f = static_cast<float>(x);
    b.full[static_cast<std::size_t>(i)] = f;
    b.half[static_cast<std::size_t>(i)] =
        t == gpu::DType::f16 ? gpu::float_to_f16_bits(f) : gpu::float_to_bf16_bits(f);
  }
  return b;
}

void BM_Device(benchmark::State& state, gpu::DType t) {
  const long long rows = state.range(0), length = state.range(1);
  const gpu::DeviceReport report = gpu::query_devices();
  if (report.device_count == 0) {
    state.SkipWithError(("no device: " + report.message).c_str());
    return;
  }
  const Batch b = make_batch(t, rows, length);
  std::vector<float> out(static_cast<std::size_t>(rows) * kTemperatures.size());
  const gpu::JacobianNormArgs args{t, b.data(), rows, length, kTemperatures.data(),
                                   static_cast<int>(kTemperatures.size()), out.data()};
  double ms = 0;
  for (auto _ : state) {
    const gpu::KernelStatus s = gpu::time_jacobian_norm_on_device(args, 20, &ms);
    if (!s.ok()) {
      bench::fail_device_launch(state, s.message);
      return;
    }
    state.SetIterationTime(ms / 1e3);
  }
  const double n_t = static_cast<double>(kTemperatures.size());
  const double bytes = static_cast<double>(rows) * length * gpu::dtype_size(t) + rows * n_t * 4;
  const double flops = static_cast<double>(rows) * n_t * length * (22 + 6 * kAssumedIterations);
  using C = benchmark::Counter;
  state.counters["GB/s"] = C(bytes * 1e-9, C::kIsIterationInvariantRate);
  state.counters["frac_HBM"] = C(bytes / kHbmBytesPerSecond, C::kIsIterationInvariantRate);
  bench::report_flop_rate(state, flops, ms / 1e3, t, report, "est_TFLOP/s");
  state.counters["row_T/s"] = C(rows * n_t, C::kIsIterationInvariantRate);
}

BENCHMARK_CAPTURE(BM_Device, bf16, gpu::DType::bf16)
    ->Args({65536, 1000})->Args({16384, 4096})->Args({1 << 20, 64})->UseManualTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Device, fp32, gpu::DType::f32)
    ->Args({65536, 1000})->Args({16384, 4096})->UseManualTime()->Unit(benchmark::kMillisecond);

constexpr long long kHostRows = 1024, kHostLength = 1000;

void BM_Twin(benchmark::State& state) {
  static const Batch b = make_batch(gpu::DType::f32, kHostRows, kHostLength);
  std::vector<float> out(static_cast<std::size_t>(kHostRows) * kTemperatures.size());
  const gpu::JacobianNormArgs args{gpu::DType::f32, b.data(), kHostRows, kHostLength,
                                   kTemperatures.data(), static_cast<int>(kTemperatures.size()),
                                   out.data()};
  for (auto _ : state) {
    const gpu::KernelStatus s = gpu::jacobian_norm_twin(args);
    if (!s.ok()) state.SkipWithError(s.message.c_str());
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * kHostRows * static_cast<long long>(kTemperatures.size()));
}

void BM_DoubleReference(benchmark::State& state) {
  static const Batch b = make_batch(gpu::DType::f32, kHostRows, kHostLength);
  const std::vector<double> temps(kTemperatures.begin(), kTemperatures.end());
  for (auto _ : state) {
    RowMatrix<double> norms = softmax_jacobian_norms(b.logits, temps);
    benchmark::DoNotOptimize(norms.data());
  }
  state.SetItemsProcessed(state.iterations() * kHostRows * static_cast<long long>(kTemperatures.size()));
}

BENCHMARK(BM_Twin)->Unit(benchmark::kMillisecond)->Iterations(1);
BENCHMARK(BM_DoubleReference)->Unit(benchmark::kMillisecond)->Iterations(1);

class RatioReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& run : runs) {
      if (run.run_type == Run::RT_Iteration && run.iterations > 0 && !run.error_occurred) {
        times_[run.benchmark_name()] = run.GetAdjustedRealTime();
        cpu_times_[run.benchmark_name()] = run.GetAdjustedCPUTime();
      }
    }
    ConsoleReporter::ReportRuns(runs);
  }
  double time(const std::string& prefix, bool cpu = false) const {
    for (const auto& [name, t] : cpu ? cpu_times_ : times_)
      if (name.rfind(prefix, 0) == 0) return t;
    return 0.0;
  }

 private:
  std::map<std::string, double> times_, cpu_times_;
};

}  // namespace
}  // namespace attncert

int main(int argc, char** argv) {
  if (attncert::bench::missing_required_device(argv[0])) return 1;
  benchmark::Initialize(&argc, argv);
  attncert::RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  const double twin = reporter.time("BM_Twin"), ref = reporter.time("BM_DoubleReference");
  const double twin_cpu = reporter.time("BM_Twin", true), ref_cpu = reporter.time("BM_DoubleReference", true);
  if (twin > 0 && ref > 0) {
    // CPU time too: on a shared machine the wall time mostly measures the other jobs.
    std::printf("\n%lld rows x L = %lld x %zu temperatures, one thread: twin (fp32, 32 lanes "
                "emulated) %.1f ms wall / %.1f ms CPU, double softmax_jacobian_norms %.1f ms wall / "
                "%.1f ms CPU; ratio double/twin %.2fx wall, %.2fx CPU\n",
                attncert::kHostRows, attncert::kHostLength, attncert::kTemperatures.size(), twin,
                twin_cpu, ref, ref_cpu, ref / twin, ref_cpu / twin_cpu);
  }
  benchmark::Shutdown();
  return attncert::bench::gpu_bench_exit_code(argv[0]);
}
