#include "reports/report_builder.hpp"

#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "proofs_checks/claim_verification.hpp"
#include "reports/kernel_check_records.hpp"
#include "reports/output_file.hpp"
#include "reports/latex.hpp"
#include "reports/pdflatex.hpp"
#include "reports/report_contents.hpp"
#include "reports/report_document.hpp"
#include "reports/results_files.hpp"
#include "reports/run_metadata.hpp"
#include "theory/catalog.hpp"

namespace attncert {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr const char* kGenerator = "attncert report";
constexpr long kQuickInstances = 500;
constexpr long kFullInstances = 8000;

// --- output directory ------------------------------------------------------------------------

fs::path resolve_out_dir(const std::string& out) {
  if (out.empty()) throw std::invalid_argument("--out: the output directory name is empty");
  fs::path p = fs::absolute(fs::path(out)).lexically_normal();
  if (!p.has_filename()) p = p.parent_path();  // "dir/" → "dir"
  // After lexically_normal "." and ".." are gone ("." is the cwd itself), so compare paths:
  // replacing the root, the working directory, the home directory or a directory holding
  // either would rename them away (e.g. `report --out .` in an empty directory).
  if (p.filename().empty() || p == p.root_path()) {
    throw std::invalid_argument(fmt::format("--out {}: name a directory to create or replace", out));
  }
  const auto same_or_inside = [&p](const fs::path& other) {
    std::error_code ec_a, ec_b;
    const fs::path a = fs::weakly_canonical(p, ec_a);
    const fs::path b = fs::weakly_canonical(other, ec_b);
    if (ec_a || ec_b) return false;
    const fs::path rel = b.lexically_relative(a);
    return !rel.empty() && *rel.begin() != "..";
  };
  std::error_code ec;
  const fs::path cwd = fs::current_path(ec);
  if (!ec && same_or_inside(cwd)) {
    throw std::invalid_argument(fmt::format(
        "--out {}: is the working directory or contains it; name a new subdirectory, e.g. --out report", out));
  }
  const char* home = std::getenv("HOME");
  if (home != nullptr && *home != '\0' && fs::path(home) != fs::path(home).root_path() && same_or_inside(home)) {
    throw std::invalid_argument(fmt::format(
        "--out {}: is the home directory or contains it; name a new subdirectory, e.g. --out report", out));
  }
  return p;
}

// A directory we may replace: empty, or written by this builder (its run.json says so).
bool is_replaceable(const fs::path& dir) {
  if (fs::is_empty(dir)) return true;
  std::ifstream in(dir / "run.json");
  if (!in) return false;
  try {
    const nlohmann::json j = nlohmann::json::parse(in);
    return j.is_object() && j.value("generator", "") == kGenerator;
  } catch (const nlohmann::json::exception&) {
    return false;
  }
}

// The sibling build directory; removed on failure unless keep() was called.
class StagingDir {
 public:
  explicit StagingDir(const fs::path& out) {
    const fs::path parent = out.parent_path();
    std::error_code ec;
    fs::create_directories(parent, ec);
    if (ec) {
      throw std::runtime_error(fmt::format("--out {}: cannot create {}: {}", out.string(),
                                           parent.string(), ec.message()));
    }
    std::string pattern = (parent / (out.filename().string() + ".tmp-XXXXXX")).string();
    if (::mkdtemp(pattern.data()) == nullptr) {
      throw std::runtime_error(fmt::format("--out {}: cannot write in {}: {}", out.string(),
                                           parent.string(), std::strerror(errno)));
    }
    path_ = pattern;
  }
  ~StagingDir() {
    if (!keep_ && !path_.empty()) {
      std::error_code ec;
      fs::remove_all(path_, ec);
    }
  }
  StagingDir(const StagingDir&) = delete;
  StagingDir& operator=(const StagingDir&) = delete;
  const fs::path& path() const { return path_; }
  void keep() { keep_ = true; }
  void release() { path_.clear(); }  // renamed into place: nothing to clean up

 private:
  fs::path path_;
  bool keep_ = false;
};

// Moves `staging` to `out`; an existing `out` is renamed away first and removed after, or put
// back if the second rename fails.
void move_into_place(StagingDir& staging, const fs::path& out) {
  std::error_code ec;
  fs::path old;
  if (fs::exists(out)) {
    old = staging.path();
    old.replace_filename(staging.path().filename().string() + ".old");
    fs::rename(out, old, ec);
    if (ec) {
      throw std::runtime_error(fmt::format("{}: cannot move the previous report aside: {}",
                                           out.string(), ec.message()));
    }
  }
  fs::rename(staging.path(), out, ec);
  if (ec) {
    if (!old.empty()) fs::rename(old, out);
    throw std::runtime_error(
        fmt::format("{}: cannot move the new report into place: {}", out.string(), ec.message()));
  }
  staging.release();
  if (!old.empty()) fs::remove_all(old, ec);  // a leftover old copy is harmless; no error
}

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
    out.grid_text = o.quick ? e.quick_grid : e.default_grid;
    // An empty grid text means "the experiment's default axes" (sweep.hpp: unspecified axes
    // take the experiment's defaults).
    const sweeps::Grid grid = out.grid_text.empty() ? sweeps::Grid{} : sweeps::parse_grid(out.grid_text);
    const std::string stage = fmt::format("sweep {}/{} {}", index + 1, count, e.name);
    const sweeps::ProgressCallback progress = [&](std::size_t done, std::size_t total) {
      if (o.progress) o.progress(stage, done, total);
    };
    sweeps::SweepTable table = e.run(grid, o.seed, progress);
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
                                std::string_view, long, long) {
                              // claims finished only: the report shows no per-claim phases
                              if (o.progress && claim.empty()) o.progress("verification", done, total);
                            });
  v.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return v;
}

}  // namespace

ReportResult build_report(const ReportOptions& o) {
  const auto start = Clock::now();
  const std::string started = utc_now();
  const fs::path out = resolve_out_dir(o.out_dir);
  if (fs::exists(out)) {
    if (!fs::is_directory(out)) {
      throw std::runtime_error(fmt::format("--out {}: exists and is not a directory", o.out_dir));
    }
    if (!is_replaceable(out)) {
      throw std::runtime_error(fmt::format(
          "--out {}: exists and is not a report written by attncert (no run.json from it); "
          "choose another directory or remove it",
          o.out_dir));
    }
  }
  StagingDir staging(out);  // fails here, before any work, when the parent is not writable
  const fs::path& dir = staging.path();
  fs::create_directories(dir / "data");     // present even when no experiment is registered,
  fs::create_directories(dir / "figures");  // so the layout does not depend on the build

  ReportResult result;
  result.out_dir = out.string();
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

  write(dir / "report.tex", report_document(o, outputs, verification, kernels));
  result.tex_path = (out / "report.tex").string();

  std::optional<std::string> pdflatex;
  if (o.pdf) pdflatex = latex::find_program(o.pdflatex);
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
      staging.keep();
      throw std::runtime_error(fmt::format("{} (sources and log kept in {})", run.error, dir.string()));
    }
    for (const char* ext : {".aux", ".log", ".out"}) fs::remove(dir / (std::string("report") + ext));
    result.pdf_path = (out / "report.pdf").string();
    if (o.progress) o.progress("pdflatex", 1, 1);
  }

  result.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  const nlohmann::json run =
      run_metadata(o, RunRecord{kGenerator, started, result.seconds, pdflatex}, outputs, verification);
  write(dir / "run.json", run.dump(2) + "\n");
  fs::permissions(dir, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                           fs::perms::others_read | fs::perms::others_exec);  // mkdtemp made it 0700
  move_into_place(staging, out);
  return result;
}

}  // namespace attncert
