#include "cli/info_command.hpp"

#include <arb.h>
#include <fmt/format.h>
#include <mpfr.h>

#include <Eigen/Core>
#include <boost/version.hpp>

#include "cli/exit_codes.hpp"
#include "gpu/device.hpp"
#include "numerics/blas.hpp"
#include "proofs_checks/kernel_checks.hpp"

namespace attncert::cli {

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
    fmt::print("CUDA: {} — {}\n", dev.cuda_compiled ? "compiled (sm_80, sm_90)" : "not compiled",
               dev.message);
    fmt::print("kernels ({}; `attncert check-kernel NAME` validates them):\n",
               dev.device_count > 0 ? "device and CPU twin" : "CPU twin");
    for (const KernelCheckEntry& k : kernel_checks()) fmt::print("  {:<17} {}\n", k.name, k.what);
    exit_code = kAllHold;
  });
}

}  // namespace attncert::cli
