#include "cli/sweep_command.hpp"

#include <fmt/format.h>

#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

#include "cli/checkpoint_option.hpp"
#include "cli/exit_codes.hpp"
#include "cli/jobs_option.hpp"
#include "cli/mpi_world.hpp"
#include "cli/progress_line.hpp"
#include "cli/seed_option.hpp"
#include "reports/latex.hpp"
#include "reports/output_file.hpp"
#include "reports/result_records.hpp"
#include "reports/sweep.hpp"
#include "reports/sweep_grid.hpp"
#include "reports/temporary_path.hpp"

namespace attncert::cli {
namespace {

struct SweepArgs {
  std::string name;
  std::vector<std::string> grids;
  std::uint64_t seed = 1;
  std::string out = "out";
  bool quick = false;
  bool list = false;
  int jobs = 0;
  std::string checkpoint;
};

void print_list() {
  fmt::print("{:<24} {:<44} {}\n", "sweep", "claims", "title");
  for (const sweeps::Experiment& e : sweeps::experiments()) {
    fmt::print("{:<24} {:<44} {}\n", e.name, e.claim_ids, latex::plain_text(e.title));
  }
  fmt::print("\nrun one: attncert sweep NAME [--grid 'AXIS=VALUES, …']… [--quick] [--seed S] [--out DIR] [-j N] "
             "[--checkpoint DIR]\n");
}

std::string known_names() {
  std::string names;
  for (const sweeps::Experiment& e : sweeps::experiments()) names += (names.empty() ? "" : ", ") + e.name;
  return names;
}

// Creates DIR and proves it and the CSV target usable before any work, so a bad --out fails in
// a second, not after the sweep.
void prepare_output(const std::filesystem::path& dir, const std::filesystem::path& csv) {
  std::error_code ec;
  const std::filesystem::path resolved =
      std::filesystem::weakly_canonical(std::filesystem::absolute(dir), ec);
  if (!ec && resolved == resolved.root_path()) {
    throw std::invalid_argument(
        fmt::format("--out {}: is the root directory; name a directory for the CSV", dir.string()));
  }
  std::filesystem::create_directories(dir, ec);
  if (ec)
    throw std::runtime_error(
        fmt::format("--out {}: cannot create the directory ({})", dir.string(), ec.message()));
  if (!std::filesystem::is_directory(dir))
    throw std::runtime_error(fmt::format("--out {}: not a directory", dir.string()));
  check_output_file_writable(csv, "--out");
}

int run_sweep(const SweepArgs& a) {
  if (a.list) {
    if (!a.name.empty() || !a.grids.empty() || a.quick) {
      throw CLI::ValidationError("sweep", "--list takes no sweep name, --grid or --quick");
    }
    print_list();
    return kAllHold;
  }
  if (a.name.empty()) throw CLI::ValidationError("sweep", "name a sweep (see `attncert sweep --list`)");
  const sweeps::Experiment* e = sweeps::find_experiment(a.name);
  if (!e) throw std::invalid_argument(fmt::format("unknown sweep '{}' (known: {})", a.name, known_names()));
  const sweeps::Grid grid = sweeps::resolve_grid(*e, a.quick, a.grids);
  const std::filesystem::path dir(a.out);
  const std::string path = (dir / (e->name + ".csv")).string();
  install_interrupt_cleanup();
  // Under mpirun only rank 0 writes (cli/mpi_world.hpp); the other ranks compute grid points.
  if (is_output_rank()) prepare_output(dir, path);
  const CheckpointHandle checkpoint = open_checkpoint(a.checkpoint);

  ProgressLine progress;
  const sweeps::SweepTable table = e->run(grid, a.seed, a.jobs, [&](std::size_t done, std::size_t total) {
    progress.update(fmt::format("sweep {}: grid point {}/{}", e->name, done, total));
  });
  progress.clear();
  if (!is_output_rank()) return kAllHold;
  // Experiments refuse grids without an evaluable point themselves; this catches any other
  // empty table, which would otherwise read as "holds at all 0 points".
  if (table.rows.empty()) throw std::invalid_argument(fmt::format("sweep {}: no grid point gave a result", e->name));
  write_file_atomically(path, sweeps::sweep_csv(table));
  const sweeps::SweepSummary summary = e->summarize(table);
  fmt::print("sweep       {} ({})\n", e->name, e->claim_ids);
  fmt::print("grid        {}\n", sweeps::grid_text(grid));
  fmt::print("seed        {}\n", a.seed);
  fmt::print("points      {} ({} rows)\n", summary.points, table.rows.size());
  fmt::print("violations  {}\n", summary.bound_violations);
  fmt::print("finding     {}\n", latex::plain_text(summary.finding));
  fmt::print("csv         {}\n", path);
  return kAllHold;
}

}  // namespace

void add_sweep_command(CLI::App& app, int& exit_code) {
  auto a = std::make_shared<SweepArgs>();
  CLI::App* cmd = app.add_subcommand(
      "sweep", "Evaluate one experiment of the report over a parameter grid (tidy CSV + summary); exit 0 "
               "whenever it ran, even with violations (a finding, not a verdict: use `verify`)");
  cmd->add_option("name", a->name, "experiment (see `attncert sweep --list`)");
  cmd->add_flag("--list", a->list, "name the experiments with their claim ids");
  cmd->add_option("--grid", a->grids,
                  "axes to override, e.g. 'L=32..1024:x2, N={1,5}' (repeatable; later wins per axis; "
                  "syntax: README)");
  cmd->add_flag("--quick", a->quick, "start from the experiment's quick grid instead of its default grid");
  add_jobs_option(cmd, a->jobs, "grid points computed in parallel (default: all cores; the CSV does not depend on it)");
  add_checkpoint_option(cmd, a->checkpoint);
  add_seed_option(cmd, a->seed, "random seed, 0 to 2^64-1 (same seed and grid, same CSV bytes)");
  cmd->add_option("--out", a->out,
                  "directory for NAME.csv (created if absent; not the root; NAME.csv must be "
                  "absent or a regular file)")
      ->capture_default_str();
  cmd->callback([a, &exit_code] { exit_code = run_sweep(*a); });
}

}  // namespace attncert::cli
