#include "cli/report_command.hpp"

#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <string>
#include <system_error>

#include "cli/checkpoint_option.hpp"
#include "cli/exit_codes.hpp"
#include "cli/kernel_preflight.hpp"
#include "cli/jobs_option.hpp"
#include "cli/model_option.hpp"
#include "cli/mpi_world.hpp"
#include "cli/seed_option.hpp"
#include "cli/progress_line.hpp"
#include "proofs_checks/kernel_checks.hpp"
#include "reports/pdflatex.hpp"
#include "reports/report_builder.hpp"

namespace attncert::cli {
namespace {

struct ReportArgs {
  std::string out = "report";
  bool quick = false;
  std::uint64_t seed = 1;
  bool no_pdf = false;
  bool no_verify = false;
  int jobs = 0;
  std::string model;  // empty: no model section
  std::string text;   // empty: kDefaultModelText
  std::string checkpoint;
};

// What is wrong with `path` as a `want` (a directory or a regular file), or empty.
std::string path_problem(const std::filesystem::path& path, std::filesystem::file_type want) {
  namespace fs = std::filesystem;
  const bool directory = want == fs::file_type::directory;
  std::error_code ec;
  const fs::file_status status = fs::status(path, ec);
  if (status.type() == fs::file_type::not_found) return directory ? "no such directory" : "no such file";
  if (ec) return ec.message();
  if (status.type() != want) return directory ? "not a directory" : "not a regular file";
  return {};
}

// --model/--text as ModelStudyOptions, checked before any work: a missing model directory or
// text is one line (exit 4) at once, not after minutes of sweeps. (The study checks the files
// inside the directory itself, also before its long work.)
ModelStudyOptions model_study_options(const ReportArgs& a) {
  namespace fs = std::filesystem;
  ModelStudyOptions m = a.quick ? ModelStudyOptions::quick() : ModelStudyOptions{};
  m.model_dir = resolve_model_option(a.model);
  m.text_path = a.text.empty() ? kDefaultModelText : a.text;
  m.seed = a.seed;
  m.jobs = a.jobs;
  if (const std::string why = path_problem(m.model_dir, fs::file_type::directory); !why.empty())
    throw std::invalid_argument(fmt::format("--model {}: {}", a.model, why));
  std::string why = path_problem(m.text_path, fs::file_type::regular);
  if (why.empty() && !std::ifstream(m.text_path)) why = "cannot be read";
  if (!why.empty()) throw std::invalid_argument(fmt::format("--text {}: {}", m.text_path.string(), why));
  return m;
}

// Exit code: the report is an artefact generator, so a successful build exits 0 whatever the
// verdicts inside it (refuted claims are findings the report presents; `attncert verify` is
// the command whose exit code encodes verdicts). Failures to build exit non-zero via main.
int run_report(const ReportArgs& a) {
  ReportOptions o;
  o.out_dir = a.out;
  o.quick = a.quick;
  o.seed = a.seed;
  o.pdf = !a.no_pdf;
  o.verify_catalog = !a.no_verify;
  o.jobs = a.jobs;
  o.tool_version = ATTNCERT_VERSION;
  o.writes_outputs = is_output_rank();
  if (!a.model.empty()) o.model_study = model_study_options(a);
  ProgressLine progress;
  o.progress = [&](const std::string& stage, std::size_t done, std::size_t total) {
    progress.update(fmt::format("{}: {}/{}", stage, done, total));
  };
  // The report validates the kernels too: the same preflight as check-kernel, before any work
  // (ATTNCERT_REQUIRE_DEVICE=1 without a device is exit 6 here as well, not a twin-only table).
  kernel_preflight(false, false);
  o.kernel_checks = [&](bool quick, std::uint64_t seed) {
    KernelCheckRequest request;
    request.quick = quick;
    request.seed = seed;
    request.jobs = a.jobs;
    return check_all_kernels(request, [&](std::string_view kernel, std::size_t done,
                                          std::size_t total) {
      progress.update(fmt::format("kernel check {}: {}/{}", kernel, done, total));
    });
  };
  const CheckpointHandle checkpoint = open_checkpoint(a.checkpoint);
  const ReportResult r = build_report(o);
  progress.clear();

  if (r.model_summary) fmt::print("{}\n", *r.model_summary);
  fmt::print("report: {}\n", r.pdf_path ? *r.pdf_path : r.tex_path);
  fmt::print("  {} experiment(s), {} figure(s)", r.experiments, r.figures);
  if (r.claims > 0) {
    fmt::print("; {} claims verified: {} refuted, {} inconclusive", r.claims, r.refuted, r.inconclusive);
  }
  if (r.kernel_rows > 0) {
    fmt::print("; {} kernel cases: {} failing, {} vacuous", r.kernel_rows, r.kernel_failures,
               r.kernel_vacuous);
  }
  fmt::print("\n  sources: {}/report.tex, data: {}/data/, run metadata: {}/run.json ({:.1f} s)\n",
             r.out_dir, r.out_dir, r.out_dir, r.seconds);
  if (!a.no_pdf && !r.pdflatex_found) {
    fmt::print("  no PDF: pdflatex was not found on PATH (Debian: sudo apt-get install "
               "--no-install-recommends {}), then run the report again or `pdflatex report.tex` "
               "twice in {}\n",
               latex::kTexPackages, r.out_dir);
  }
  return kAllHold;
}

}  // namespace

void add_report_command(CLI::App& app, int& exit_code) {
  auto a = std::make_shared<ReportArgs>();
  CLI::App* cmd = app.add_subcommand(
      "report", "Sweeps, figures and the catalog's verdicts as a LaTeX/PDF report (exit 0 when "
                "the report was built, whatever the verdicts in it)");
  cmd->add_option("--out", a->out, "output directory (replaced atomically if it holds a previous report)")
      ->capture_default_str();
  cmd->add_flag("--quick", a->quick, "reduced grids and verification budget: about 16 s of CPU time, the full "
                "report about 7 min (measured; -j spreads verification and kernel checks over "
                "cores)");
  add_seed_option(cmd, a->seed, "random seed, 0 to 2^64-1 (same seed, same files except run.json)");
  cmd->add_flag("--no-pdf", a->no_pdf, "write the LaTeX sources only, do not run pdflatex");
  cmd->add_flag("--no-verify", a->no_verify, "leave out the verification of the claims catalog");
  add_jobs_option(cmd, a->jobs, "claims, kernel cases and model heads in parallel (default: all cores)");
  add_model_option(cmd, a->model)
      ->description("add paper A's experiments on every head of a pretrained model (a section, "
                    "heatmaps, data/model-*.csv): a model directory (config.json, "
                    "model.safetensors, tokenizer.json), or 'minilm' for the all-MiniLM-L6-v2 "
                    "scripts/get-model caches; with --quick, the study's quick protocol");
  add_checkpoint_option(cmd, a->checkpoint);
  cmd->add_option("--text", a->text,
                  fmt::format("with --model: UTF-8 prose the model reads in windows (default {})",
                              kDefaultModelText));
  cmd->callback([a, &exit_code] {
    if (!a->text.empty() && a->model.empty()) throw CLI::ValidationError("report", "--text needs --model");
    exit_code = run_report(*a);
  });
}

}  // namespace attncert::cli
