#include "cli/model_command.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <system_error>

#include "cli/exit_codes.hpp"
#include "cli/jobs_option.hpp"
#include "cli/model_option.hpp"
#include "cli/progress_line.hpp"
#include "cli/seed_option.hpp"
#include "reports/model_study.hpp"
#include "reports/output_file.hpp"
#include "reports/temporary_path.hpp"

namespace attncert::cli {
namespace {

struct ModelArgs {
  std::string model = "minilm";
  std::string text = kDefaultModelText;
  std::string out = "model-study";
  std::uint64_t seed = 1;
  int jobs = 0;
  bool quick = false;
};

int run_model(const ModelArgs& a) {
  ModelStudyOptions options = a.quick ? ModelStudyOptions::quick() : ModelStudyOptions{};
  options.model_dir = resolve_model_option(a.model);
  options.text_path = a.text;
  options.seed = a.seed;
  options.jobs = a.jobs;
  // --out is checked before the work but created only after it, and only its last component:
  // a failed or interrupted run leaves no empty directory, a typo no tree of them.
  const std::filesystem::path dir(a.out);
  std::error_code ec;
  const bool exists = std::filesystem::exists(dir, ec);
  if (exists && !std::filesystem::is_directory(dir, ec))
    throw std::runtime_error(fmt::format("--out {}: exists and is not a directory", dir.string()));
  const std::filesystem::path parent =
      std::filesystem::absolute(dir).lexically_normal().parent_path();
  if (!exists && !std::filesystem::is_directory(parent, ec))
    throw std::runtime_error(fmt::format("--out {}: the parent directory {} does not exist", dir.string(),
                                         parent.string()));
  if (::access((exists ? dir : parent).c_str(), W_OK | X_OK) != 0)
    throw std::runtime_error(fmt::format("--out {}: {} is not writable", dir.string(),
                                         (exists ? dir : parent).string()));
  install_interrupt_cleanup();
  ProgressLine progress;
  options.progress = [&](const std::string& stage, std::size_t done, std::size_t total) {
    progress.update(fmt::format("model: {} {}/{}", stage, done, total));
  };
  const ModelStudy study = run_model_study(options);
  progress.clear();
  if (!exists && !std::filesystem::create_directory(dir, ec) && !std::filesystem::is_directory(dir))
    throw std::runtime_error(fmt::format("--out {}: cannot create the directory ({})", dir.string(), ec.message()));
  const auto written = write_model_study_csvs(study, dir);
  fmt::print("{}", model_study_summary(study));
  fmt::print("model       {} ({}, {} layers x {} heads, head dim {}{})\n", study.model_name, study.family,
             study.layers, study.heads, study.head_dim, study.causal ? ", causal" : "");
  fmt::print("text        {} ({} bytes, {} tokens, SHA-256 {})\n", study.text_path, study.text_bytes,
             study.text_tokens, study.text_sha256);
  std::string windows;
  for (std::size_t i = 0; i < study.windows_per_length.size(); ++i)
    windows += fmt::format("{}{}", i ? ", " : "", study.windows_per_length[i]);
  fmt::print("protocol    windows per L ({}): {}; {} rows per window, seed {}\n", fmt::join(study.lengths, ", "),
             windows, study.rows_per_window, study.seed);
  fmt::print("tokens      {} distinct{}\n", study.distinct_tokens,
             study.unknown_tokens ? fmt::format(", {} unknown to the tokenizer", study.unknown_tokens) : std::string());
  fmt::print("time        {:.1f} s ({:.1f} s in forward passes)\n", study.seconds, study.forward_seconds);
  fmt::print("csv         {} files in {}\n", written.size(), dir.string());
  return kAllHold;
}

}  // namespace

void add_model_command(CLI::App& app, int& exit_code) {
  auto a = std::make_shared<ModelArgs>();
  CLI::App* cmd = app.add_subcommand(
      "model", "Paper A's experiments (A.gpt2) on every head of a pretrained model over a long text: "
               "d~ vs L and N, critical N (KS), N_s/N, g(T, eps), L*alpha_max, certified ||J||_2; "
               "one CSV per experiment; exit 0 when it ran (findings, not verdicts)");
  add_model_option(cmd, a->model);
  cmd->add_option("--text", a->text, "UTF-8 prose the model reads in windows (its SHA-256 is printed)")
      ->capture_default_str();
  cmd->add_option("--out", a->out, "directory for the CSVs (created if absent)")->capture_default_str();
  cmd->add_flag("--quick", a->quick, "L in {32, 128, 512}, 2 windows, 16 rows per window, 1 certified row per head");
  add_seed_option(cmd, a->seed, "random seed, 0 to 2^64-1 (rows, subsets and directions; same seed, same CSVs)");
  add_jobs_option(cmd, a->jobs, "heads evaluated in parallel");
  cmd->callback([a, &exit_code] { exit_code = run_model(*a); });
}

}  // namespace attncert::cli
