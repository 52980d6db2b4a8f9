#include "reports/report_builder.hpp"

#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "proofs_checks/claim_verification.hpp"
#include "reports/kernel_check_records.hpp"
#include "reports/latex.hpp"
#include "reports/output_file.hpp"
#include "reports/pdflatex.hpp"
#include "reports/report_contents.hpp"
#include "reports/report_directory.hpp"
#include "reports/report_document.hpp"
#include "reports/result_records.hpp"
#include "reports/results_files.hpp"
#include "reports/run_metadata.hpp"
#include "reports/sweep_grid.hpp"
#include "reports/temporary_path.hpp"
#include "theory/catalog.hpp"

namespace attncert {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr const char* kGenerator = "attncert report";
constexpr long kQuickInstances = 500;
constexpr long kFullInstances = 8000;

// --- output files ------------------------------------------------------------------------

void check_file_name(const std::string& name, std::string_view what) {
  const bool ok = !name.empty() && name[0] != '.' &&
                  std::all_of(name.begin(), name.end(), [](char c) {
                    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                           (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
                  });
  if (!ok) {
    throw std::invalid_argument(fmt::format(
        "{} '{}': use letters, digits, '-', '_' and '.' only (it names files)", what, name));
  }
}

void write(const fs::path& path, const std::string& content) {
  fs::create_directories(path.parent_path());
  write_file_atomically(path.string(), content);
}

// --- sweeps ----------------------------------------------------------------------------------

ExperimentOutput run_experiment(const sweeps::Experiment& e, std::size_t index, std::size_t count,
                                const ReportOptions& o, const fs::path& dir) {
  ExperimentOutput out;
  out.experiment = &e;
  const auto start = Clock::now();
  try {
    check_file_name(e.name, "experiment name");
    if (!e.run) throw std::logic_error("it has no run function");
    out.grid_text = sweeps::declared_grid_text(e.axes, o.quick);
    const sweeps::Grid grid = sweeps::resolve_grid(e, o.quick, {});
    const std::string stage = fmt::format("sweep {}/{} {}", index + 1, count, e.name);
    const sweeps::ProgressCallback progress = [&](std::size_t done, std::size_t total) {
      if (o.progress) o.progress(stage, done, total);
    };
    sweeps::SweepTable table = e.run(grid, o.seed, o.jobs, progress);
    table.experiment = e.name;
    out.rows = table.rows.size();
    write(dir / "data" / (e.name + ".csv"), sweeps::sweep_csv(table));
    for (const sweeps::FigureSpec& spec : e.figures) {
      check_file_name(spec.id, "figure id");
      const latex::FigureFiles files = latex::figure(spec, table, "figures/" + spec.id);
      for (const auto& [path, content] : files.data_files) write(dir / path, content);
      write(dir / "figures" / (spec.id + ".tex"), files.tex);
      out.figure_ids.push_back(spec.id);
    }
    if (e.summarize) out.summary = e.summarize(table);
  } catch (const std::exception& ex) {
    throw std::runtime_error(fmt::format("experiment '{}': {}", e.name, ex.what()));
  }
  out.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return out;
}

// --- model study -----------------------------------------------------------------------------

ModelStudyOutput study_model(const ReportOptions& o, const fs::path& dir) {
  ModelStudyOptions options = *o.model_study;
  options.seed = o.seed;
  if (options.jobs == 0) options.jobs = o.jobs;
  options.progress = [&o, own = o.model_study->progress](const std::string& stage, std::size_t done,
                                                         std::size_t total) {
    if (own) own(stage, done, total);
    if (o.progress) o.progress("model " + stage, done, total);
  };
  ModelStudyOutput out;
  // The study's errors name the file or option; "model study:" says which part of the report.
  try {
    out.study = run_model_study(options);
    for (const fs::path& p : write_model_study_csvs(out.study, dir / "data"))
      out.data_files.push_back(p.filename().string());
    out.section = model_study_latex(out.study, dir);
  } catch (const std::invalid_argument& ex) {
    throw std::invalid_argument(fmt::format("model study: {}", ex.what()));
  } catch (const std::runtime_error& ex) {
    throw std::runtime_error(fmt::format("model study: {}", ex.what()));
  }
  return out;
}

nlohmann::json model_metadata(const ModelStudyOptions& options, const ModelStudyOutput& m) {
  const ModelStudy& s = m.study;
  nlohmann::json figures = nlohmann::json::array();
  for (const HeadHeatmap& h : s.heatmaps) figures.push_back(h.id);
  return {{"model", s.model_name},
          {"model_dir", options.model_dir.string()},
          {"family", s.family},
          {"causal", s.causal},
          {"layers", s.layers},
          {"heads", s.heads},
          {"text", s.text_path},
          {"text_sha256", s.text_sha256},
          {"text_bytes", s.text_bytes},
          {"text_tokens", s.text_tokens},
          {"lengths", s.lengths},
          {"windows", s.windows},
          {"rows_per_window", s.rows_per_window},
          {"certified_rows", s.certified_rows},
          {"cor3_refuted", s.cor3_refuted},
          {"classical_proved", s.classical_proved},
          {"undecided", s.undecided},
          {"data_files", m.data_files},
          {"figures", figures},
          {"forward_seconds", s.forward_seconds},
          {"seconds", s.seconds}};
}

// --- verification ----------------------------------------------------------------------------

CatalogVerification verify_catalog(const ReportOptions& o) {
  CatalogVerification v;
  const auto start = Clock::now();
  v.instances = o.verify_instances > 0 ? o.verify_instances : o.quick ? kQuickInstances : kFullInstances;
  VerifyOptions options = options_for_instance_budget(v.instances, o.verify_max_precision);
  options.seed = o.seed;
  for (const auto& c : catalog()) v.claims.push_back(c.get());
  v.results = verify_claims(v.claims, options, o.jobs,
                            [&](std::size_t done, std::size_t total, std::string_view claim,
                                std::string_view phase, long step, long steps) {
                              // phases over all claims and claims finished; no per-claim phases
                              if (!o.progress || !claim.empty()) return;
                              if (phase.empty()) {
                                o.progress("verification", done, total);
                              } else {
                                o.progress(fmt::format("verification, {}", phase), static_cast<std::size_t>(step),
                                           static_cast<std::size_t>(steps));
                              }
                            });
  v.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return v;
}

}  // namespace

ReportResult build_report(const ReportOptions& o) {
  const auto start = Clock::now();
  const std::string started = utc_now();
  // Rank 0 (or the one process): checked, locked and staged before any work. Other MPI ranks
  // compute every part in step with it, writing into a scratch directory that is removed.
  std::optional<ReportDirectory> directory;
  std::optional<TemporaryDirectory> scratch;
  if (o.writes_outputs) {
    directory.emplace(o.out_dir);
  } else {
    scratch.emplace(fs::temp_directory_path() / "attncert-rank-report");
  }
  const fs::path& out = directory ? directory->out() : scratch->path();
  const fs::path& dir = directory ? directory->staging() : scratch->path();
  fs::create_directories(dir / "data");     // present even when no experiment is registered,
  fs::create_directories(dir / "figures");  // so the layout does not depend on the build

  ReportResult result;
  result.out_dir = out.string();
  // The model study first: a bad model directory or text fails at once, not after the sweeps.
  std::optional<ModelStudyOutput> model;
  if (o.model_study) {
    model = study_model(o, dir);
    result.figures += model->study.heatmaps.size();
    result.model_summary = model_study_summary(model->study);
  }
  const std::vector<sweeps::Experiment>& list = o.experiments ? *o.experiments : sweeps::experiments();
  std::vector<ExperimentOutput> outputs;
  for (std::size_t i = 0; i < list.size(); ++i) {
    outputs.push_back(run_experiment(list[i], i, list.size(), o, dir));
    result.figures += outputs.back().figure_ids.size();
  }
  result.experiments = outputs.size();

  std::optional<CatalogVerification> verification;
  if (o.verify_catalog) {
    verification = verify_catalog(o);
    write_results_files(dir, verification->claims, verification->results);
    result.claims = verification->claims.size();
    for (const auto& r : verification->results) {
      result.refuted += r.verdict == DomainVerdict::Refuted;
      result.inconclusive += r.verdict == DomainVerdict::Inconclusive;
    }
  }
  std::optional<std::vector<KernelCheckRow>> kernels;
  if (o.kernel_checks) {
    kernels = o.kernel_checks(o.quick, o.seed);
    write(dir / "kernel_checks.csv", kernel_check_csv(*kernels));
    result.kernel_rows = kernels->size();
    for (const auto& r : *kernels) {
      result.kernel_failures += !r.pass;
      result.kernel_vacuous += r.pass && r.vacuous;
    }
  }

  write(dir / "report.tex", report_document(o, outputs, verification, kernels, model));
  result.tex_path = (out / "report.tex").string();

  std::optional<std::string> pdflatex;
  if (o.pdf && o.writes_outputs) pdflatex = latex::find_program(o.pdflatex);
  result.pdflatex_found = pdflatex.has_value();
  if (pdflatex) {
    if (o.progress) o.progress("pdflatex", 0, 1);
    const double seconds_so_far = std::chrono::duration<double>(Clock::now() - start).count();
    const std::string definitions =
        o.running_time_in_pdf
            ? fmt::format("\\def\\attncertRunSeconds{{{:.0f}}}", std::max(1.0, seconds_so_far))
            : std::string();
    const latex::PdflatexRun run =
        latex::run_pdflatex(*pdflatex, dir.string(), "report.tex", 2, definitions);
    if (!run.ok) {
      directory->keep_staging();
      throw std::runtime_error(fmt::format("{} (sources and log kept in {})", run.error, dir.string()));
    }
    for (const char* ext : {".aux", ".log", ".out"}) fs::remove(dir / (std::string("report") + ext));
    result.pdf_path = (out / "report.pdf").string();
    if (o.progress) o.progress("pdflatex", 1, 1);
  }

  result.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  nlohmann::json run =
      run_metadata(o, RunRecord{kGenerator, started, result.seconds, pdflatex}, outputs, verification);
  if (model) run["model_study"] = model_metadata(*o.model_study, *model);
  write(dir / "run.json", run.dump(2) + "\n");
  if (directory) directory->commit();
  return result;
}

}  // namespace attncert
