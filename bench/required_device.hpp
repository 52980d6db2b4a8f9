// The start of every gpu bench: in required-device mode (ATTNCERT_REQUIRE_DEVICE=1,
// gpu/device.hpp) a missing device fails the run with the probe's reason, not a table of skips.
#pragma once

#include <benchmark/benchmark.h>

#include <cstdio>
#include <string>

#include "gpu/device.hpp"

namespace attncert::bench {

/// True, after printing the reason, when a device is required and there is none.
inline bool missing_required_device(const char* program) {
  const std::string missing = gpu::required_device_missing();
  if (missing.empty()) return false;
  std::fprintf(stderr, "%s: %s\n", program, missing.c_str());
  return true;
}

/// main() of a gpu bench with Google Benchmark's default reporter.
inline int run_gpu_benchmarks(int argc, char** argv) {
  if (missing_required_device(argv[0])) return 1;
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

}  // namespace attncert::bench
