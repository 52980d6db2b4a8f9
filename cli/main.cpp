// attncert: certified checks of attention theory. Subcommands register themselves; main only
// maps failures to the documented exit codes with one line on stderr.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <cstdio>
#include <exception>
#include <optional>

#include "cli/check_attention_command.hpp"
#include "cli/check_kernel_command.hpp"
#include "cli/check_proof_command.hpp"
#include "cli/checkpoint_option.hpp"
#include "cli/eval_command.hpp"
#include "cli/exit_codes.hpp"
#include "cli/info_command.hpp"
#include "cli/model_command.hpp"
#include "cli/mpi_world.hpp"
#include "cli/sweep_command.hpp"
#include "cli/replay_command.hpp"
#include "cli/report_command.hpp"
#include "cli/verify_command.hpp"

int main(int argc, char** argv) {
  using namespace attncert::cli;
  CLI::App app{"attncert — certified checks of attention theory (softmax and linear attention)",
               "attncert"};
  app.footer(kExitCodeHelp);
  app.set_version_flag("--version", ATTNCERT_VERSION);
  app.require_subcommand(1);
  int exit_code = kAllHold;
  add_list_command(app, exit_code);
  add_verify_command(app, exit_code);
  add_replay_command(app, exit_code);
  add_eval_command(app, exit_code);
  add_info_command(app, exit_code);
  add_sweep_command(app, exit_code);
  add_report_command(app, exit_code);
  add_model_command(app, exit_code);
  add_check_kernel_command(app, exit_code);
  add_check_attention_command(app, exit_code);
  add_check_proof_command(app, exit_code);
  // Under mpirun: every rank runs the same command; a rank that fails prints its line and ends
  // the whole job with its exit code, so no rank waits for it and rank 0 writes nothing partial.
  std::optional<MpiWorld> mpi;
  try {
    mpi.emplace(argc, argv);
    record_command_line(argc, argv);
    require_distributable_command(argc, argv);
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (...) {  // every other failure: one line, the code from the one policy
    const Failure failure = failure_for(std::current_exception());
    fmt::print(stderr, "attncert: {}{}\n", rank_prefix(), failure.message);
    abort_job_if_distributed(failure.code);
    return failure.code;
  }
  return exit_code;
}
