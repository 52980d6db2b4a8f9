#include "cli/info_command.hpp"

#include <arb.h>
#include <fmt/format.h>
#include <mpfr.h>

#include <Eigen/Core>
#include <boost/version.hpp>

#include "cli/exit_codes.hpp"
#include "gpu/device.hpp"
#include "gpu/device_peak.hpp"
#include "numerics/blas.hpp"
#include "proofs_checks/kernel_checks.hpp"

namespace attncert::cli {
namespace {

// What a GPU machine's operator needs to tell "no usable device" apart from "wrong build":
// versions, the device, the binary's architectures and whether a kernel actually ran.
void print_cuda_status(const gpu::DeviceReport& dev) {
  if (!dev.cuda_compiled) {
    fmt::print("CUDA: not compiled — {}\n", dev.message);
    return;
  }
  fmt::print("CUDA: compiled for {}; runtime {}; driver supports CUDA {}\n",
             gpu::cuda_architecture_list(dev.compiled_architectures),
             gpu::cuda_version_string(dev.runtime_version),
             dev.driver_version > 0 ? gpu::cuda_version_string(dev.driver_version)
                                    : std::string("none (no driver found)"));
  if (!dev.name.empty())
    fmt::print("  device 0: {}, compute capability {}.{}, {} SMs at {} MHz, {:.1f} GiB\n",
               dev.name, dev.compute_capability / 10, dev.compute_capability % 10, dev.sm_count,
               dev.clock_khz / 1000, static_cast<double>(dev.total_memory_bytes) / (1 << 30));
  const double mhz = dev.clock_khz / 1e3;
  const auto core = gpu::fp32_cuda_core_peak_tflops(dev.compute_capability, dev.sm_count, mhz);
  const auto half = gpu::tensor_dense_peak_tflops(dev.compute_capability, gpu::DType::bf16,
                                                  dev.sm_count, mhz);
  const auto tf32 = gpu::tensor_dense_peak_tflops(dev.compute_capability, gpu::DType::f32,
                                                  dev.sm_count, mhz);
  if (core && half && tf32)
    fmt::print("  peak: fp32 CUDA cores {:.1f} TFLOP/s (our kernels' ceiling); dense tensor cores "
               "fp16/bf16 {:.0f}, tf32 {:.0f} TFLOP/s (gpu/device_peak.hpp)\n",
               *core, *half, *tf32);
  else if (!dev.name.empty())
    fmt::print("  peak: unknown for sm_{} (not in gpu/device_peak.hpp)\n", dev.compute_capability);
  fmt::print("  probe kernel: {} — {}\n", dev.probe_launched ? "launched" : "not launched",
             dev.message);
}

}  // namespace

void add_info_command(CLI::App& app, int& exit_code) {
  CLI::App* cmd = app.add_subcommand("info", "Library versions, scalar tiers and CUDA status");
  cmd->callback([&exit_code] {
    fmt::print("attncert {}\n", ATTNCERT_VERSION);
    fmt::print("scalar tiers:\n");
    fmt::print("  working    float, double                     search, sweeps, kernels\n");
    fmt::print("  reference  Mp   (MPFR {} via Boost {}.{})    decompositions, candidates; "
               "round-to-nearest, never a verdict\n",
               mpfr_get_version(), BOOST_VERSION / 100000, BOOST_VERSION / 100 % 1000);
    fmt::print("  enclosure  Ball (Arb {}, FLINT {})        certified; the only tier that "
               "gives verdicts\n",
               arb_version, FLINT_VERSION);
    fmt::print("Eigen {}.{}.{}\n", EIGEN_WORLD_VERSION, EIGEN_MAJOR_VERSION, EIGEN_MINOR_VERSION);
    fmt::print("products (float, double): {}\n", blas::configuration());
    const gpu::DeviceReport dev = gpu::query_devices();
    print_cuda_status(dev);
    fmt::print("kernels ({}; `attncert check-kernel NAME` validates them):\n",
               dev.device_count > 0 ? "device and CPU twin" : "CPU twin");
    for (const KernelCheckEntry& k : kernel_checks()) fmt::print("  {:<17} {}\n", k.name, k.what);
    exit_code = kAllHold;
  });
}

}  // namespace attncert::cli
