#include "cli/checkpoint_option.hpp"

#include <fmt/format.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <vector>

#include "cli/mpi_world.hpp"
#include "numerics/sha256.hpp"

namespace attncert::cli {
namespace {

std::vector<std::string> g_arguments;

// The arguments that decide a run's outputs: all but --checkpoint and -j/--jobs (with values).
std::vector<std::string> key_arguments() {
  std::vector<std::string> kept;
  for (std::size_t i = 0; i < g_arguments.size(); ++i) {
    const std::string& a = g_arguments[i];
    if (a == "--checkpoint" || a == "-j" || a == "--jobs") {
      ++i;  // and its value
      continue;
    }
    if (a.starts_with("--checkpoint=") || a.starts_with("--jobs=") || (a.starts_with("-j") && a.size() > 2)) {
      continue;
    }
    kept.push_back(a);
  }
  return kept;
}

}  // namespace

CLI::Option* add_checkpoint_option(CLI::App* cmd, std::string& dir) {
  return cmd->add_option("--checkpoint", dir,
                         "keep finished units in DIR; a run killed and started again with the same "
                         "arguments resumes from them and writes the same bytes");
}

void record_command_line(int argc, char** argv) {
  g_arguments.assign(argv + (argc > 0 ? 1 : 0), argv + argc);
}

void CloseCheckpoint::operator()(CheckpointDirectory* checkpoint) const {
  install_unit_store(nullptr);
  delete checkpoint;
}

// This executable's version and a digest of its own bytes: a checkpoint written by another
// build (other code, other results) is refused, not reused.
std::string build_identity() {
  std::ifstream in("/proc/self/exe", std::ios::binary);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  if (!in) return ATTNCERT_VERSION;
  return std::string(ATTNCERT_VERSION) + " (build " + sha256_hex(bytes.str()).substr(0, 16) + ")";
}

CheckpointHandle open_checkpoint(const std::string& dir) {
  if (dir.empty() || !is_output_rank()) return nullptr;
  CheckpointHandle checkpoint(new CheckpointDirectory(dir, build_identity(), key_arguments()));
  if (checkpoint->units_found() > 0) {
    fmt::print(stderr, "attncert: resuming from --checkpoint {}: {} finished unit{}\n", dir,
               checkpoint->units_found(), checkpoint->units_found() == 1 ? "" : "s");
  }
  install_unit_store(checkpoint.get());
  return checkpoint;
}

}  // namespace attncert::cli
