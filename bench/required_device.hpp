// What every gpu bench shares: the start (in required-device mode, ATTNCERT_REQUIRE_DEVICE=1 in
// gpu/device.hpp, a missing device fails the run with the probe's reason, not a table of
// skips), the exit code (a kernel that fails on a present device fails the run: Google
// Benchmark alone would exit 0 after SkipWithError) and the FLOP-rate counters against this
// device's peaks (gpu/device_peak.hpp).
#pragma once

#include <benchmark/benchmark.h>

#include <cstdio>
#include <string>

#include "gpu/device.hpp"
#include "gpu/device_peak.hpp"
#include "gpu/dtype.hpp"

namespace attncert::bench {

/// True, after printing the reason, when a device is required and there is none.
inline bool missing_required_device(const char* program) {
  const std::string missing = gpu::required_device_missing();
  if (missing.empty()) return false;
  std::fprintf(stderr, "%s: %s\n", program, missing.c_str());
  return true;
}

/// Set once a kernel call failed on a device that exists (not "no device": that is a skip).
inline bool& device_launch_failed() {
  static bool failed = false;
  return failed;
}

/// A kernel call's failure: the benchmark shows the message, and the run will exit 1.
inline void fail_device_launch(benchmark::State& state, const std::string& message) {
  device_launch_failed() = true;
  state.SkipWithError(message.c_str());
}

/// What a gpu bench's main returns after RunSpecifiedBenchmarks: 1 if a kernel failed on the device.
inline int gpu_bench_exit_code(const char* program) {
  if (!device_launch_failed()) return 0;
  std::fprintf(stderr, "%s: a kernel failed on the device (its error is in the table above)\n",
               program);
  return 1;
}

/// Counters `rate_name` (TFLOP/s of `flops` in `seconds`), of_fp32_core_peak (the fraction of
/// the device's fp32 CUDA-core peak: our kernels' ceiling) and of_<dtype>_tensor_peak (of the
/// dense tensor-core peak for the input dtype, tf32 for fp32: what a tensor-core kernel could
/// reach). A device missing from the peak table gets no fractions and says so in the label.
inline void report_flop_rate(benchmark::State& state, double flops, double seconds,
                             gpu::DType input, const gpu::DeviceReport& device,
                             const std::string& rate_name = "TFLOP/s") {
  const double tflops = flops / seconds / 1e12;
  state.counters[rate_name] = tflops;
  const double mhz = device.clock_khz / 1e3;
  const auto core = gpu::fp32_cuda_core_peak_tflops(device.compute_capability, device.sm_count, mhz);
  const auto tensor =
      gpu::tensor_dense_peak_tflops(device.compute_capability, input, device.sm_count, mhz);
  if (!core || !tensor) {
    state.SetLabel("no peak known for sm_" + std::to_string(device.compute_capability));
    return;
  }
  const std::string tensor_type = input == gpu::DType::f32 ? "tf32" : std::string(gpu::dtype_name(input));
  state.counters["of_fp32_core_peak"] = tflops / *core;
  state.counters["of_" + tensor_type + "_tensor_peak"] = tflops / *tensor;
}

/// main() of a gpu bench with Google Benchmark's default reporter.
inline int run_gpu_benchmarks(int argc, char** argv) {
  if (missing_required_device(argv[0])) return 1;
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return gpu_bench_exit_code(argv[0]);
}

}  // namespace attncert::bench
