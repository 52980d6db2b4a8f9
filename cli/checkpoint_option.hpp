// --checkpoint DIR of verify (and the commands built on distributed_map): finished units are
// kept in DIR and a run with the same arguments resumes from them (reports/checkpoint.hpp).
#pragma once

#include <CLI/CLI.hpp>

#include <memory>
#include <string>

#include "reports/checkpoint.hpp"

namespace attncert::cli {

CLI::Option* add_checkpoint_option(CLI::App* cmd, std::string& dir);

/// The process's arguments, recorded by main: a checkpoint's key is made of them, leaving out
/// --checkpoint and -j/--jobs (threads do not change any output).
void record_command_line(int argc, char** argv);

/// Uninstalls the unit store when the checkpoint closes.
struct CloseCheckpoint {
  void operator()(CheckpointDirectory* checkpoint) const;
};
using CheckpointHandle = std::unique_ptr<CheckpointDirectory, CloseCheckpoint>;

/// With `dir` set, on rank 0: opens the checkpoint and installs it as the unit store until the
/// handle is destroyed (keep it until the outputs are written). On other ranks, or without
/// `dir`: an empty handle.
CheckpointHandle open_checkpoint(const std::string& dir);

}  // namespace attncert::cli
