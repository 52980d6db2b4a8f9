// attncert: certified checks of attention theory. Subcommands register themselves; main only
// maps failures to the documented exit codes with one line on stderr.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <cstdio>
#include <exception>
#include <new>
#include <stdexcept>

#include "cli/check_kernel_command.hpp"
#include "cli/eval_command.hpp"
#include "cli/exit_codes.hpp"
#include "cli/info_command.hpp"
#include "cli/sweep_command.hpp"
#include "cli/replay_command.hpp"
#include "cli/report_command.hpp"
#include "cli/verify_command.hpp"

namespace {

constexpr const char* kExitCodeHelp =
    "Exit codes: 0 all verdicts proved/survived (or the command succeeded), 1 some claim "
    "refuted, 2 inconclusive only, 3 usage error (bad command line, including size options out "
    "of range), 4 input error (unreadable/malformed file, NaN/Inf, shapes of input data, an "
    "instance outside its domain), 5 internal error.";

}  // namespace

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
  add_check_kernel_command(app, exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {  // includes ValidationError thrown by callbacks
    fmt::print(stderr, "attncert: {}\n", e.what());
    return kUsageError;
  } catch (const std::invalid_argument& e) {
    fmt::print(stderr, "attncert: {}\n", e.what());
    return kInputError;
  } catch (const std::domain_error& e) {
    fmt::print(stderr, "attncert: {}\n", e.what());
    return kInputError;
  } catch (const std::runtime_error& e) {
    fmt::print(stderr, "attncert: {}\n", e.what());
    return kInputError;
  } catch (const std::bad_alloc&) {
    fmt::print(stderr, "attncert: out of memory (input too large for this machine)\n");
    return kInputError;
  } catch (const std::exception& e) {
    fmt::print(stderr, "attncert: internal error: {}\n", e.what());
    return kInternalError;
  }
  return exit_code;
}
