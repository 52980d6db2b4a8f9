#include "reports/report_directory.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <sstream>
#include <stdexcept>
#include <system_error>
#include <vector>

#include "reports/errno_text.hpp"

namespace attncert {
namespace {

namespace fs = std::filesystem;

// run.json's "generator" (report_builder.cpp writes it).
constexpr const char* kGenerator = "attncert report";
// Far above what report_builder.cpp writes (a few hundred bytes); a larger one is not ours.
constexpr std::size_t kRunJsonLimit = 1 << 20;

fs::path resolve_out_dir(const std::string& out) {
  if (out.empty()) throw std::invalid_argument("--out: the output directory name is empty");
  fs::path p = fs::absolute(fs::path(out)).lexically_normal();
  if (!p.has_filename()) p = p.parent_path();  // "dir/" → "dir"
  // After lexically_normal "." and ".." are gone ("." is the cwd itself), so compare paths:
  // replacing the root, the working directory, the home directory or a directory holding
  // either would rename them away (e.g. `report --out .` in an empty directory).
  if (p.filename().empty() || p == p.root_path()) {
    throw std::invalid_argument(
        fmt::format("--out {}: name a directory to create or replace", out));
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
    throw std::invalid_argument(
        fmt::format("--out {}: is the working directory or contains it; name a new subdirectory, "
                    "e.g. --out report",
                    out));
  }
  const char* home = std::getenv("HOME");
  if (home != nullptr && *home != '\0' && fs::path(home) != fs::path(home).root_path() &&
      same_or_inside(home)) {
    throw std::invalid_argument(
        fmt::format("--out {}: is the home directory or contains it; name a new subdirectory, e.g. "
                    "--out report",
                    out));
  }
  return p;
}

// At most `limit` bytes of `p`; empty unless `p` is a regular file: opening a FIFO planted there
// would block forever.
std::string read_small_file(const fs::path& p, std::size_t limit) {
  std::error_code ec;
  if (!fs::is_regular_file(fs::symlink_status(p, ec))) return {};
  std::ifstream in(p, std::ios::binary);
  std::string s(limit, '\0');
  in.read(s.data(), static_cast<std::streamsize>(s.size()));
  s.resize(static_cast<std::size_t>(in.gcount()));
  return s;
}

// Far above what a report's report.tex and results.jsonl hold (some hundred kilobytes); past
// it the names they list are cut short and a file of the report counts as foreign: refused,
// never deleted.
constexpr std::size_t kListingLimit = 16 << 20;

// Every name a report holds, from its own files: the top-level files report_builder.cpp and
// results_files.cpp write (report.aux/.log/.out are pdflatex's, removed after it), data/ one
// <experiment>.csv per experiment in run.json, figures/ <id>.tex and latex::figure's
// <id>-<k>.dat per \input{figures/<id>.tex} of report.tex, counterexamples/ and tightest/
// <claim>.json per claim in results.jsonl. A user's file in the tree has none of these names.
struct ReportNames {
  std::set<std::string> experiments, figures, claims;
  std::set<std::string> model_data;  // data/model-*.csv of a model study, from run.json

  explicit ReportNames(const fs::path& dir, const nlohmann::json& run) {
    if (run.is_object() && run.contains("experiments") && run["experiments"].is_array()) {
      for (const nlohmann::json& e : run["experiments"]) {
        if (e.is_object() && e.contains("name") && e["name"].is_string())
          experiments.insert(e["name"].get<std::string>());
      }
    }
    if (run.is_object() && run.contains("model_study") && run["model_study"].is_object() &&
        run["model_study"].contains("data_files") && run["model_study"]["data_files"].is_array()) {
      for (const nlohmann::json& f : run["model_study"]["data_files"]) {
        // Only names the model study writes (model-<table>.csv), whatever run.json says.
        if (f.is_string() && f.get<std::string>().rfind("model-", 0) == 0 &&
            f.get<std::string>().size() > 10 &&
            f.get<std::string>().compare(f.get<std::string>().size() - 4, 4, ".csv") == 0)
          model_data.insert(f.get<std::string>());
      }
    }
    const std::string tex = read_small_file(dir / "report.tex", kListingLimit);
    const std::string input = "\\input{figures/";
    for (std::size_t at = tex.find(input); at != std::string::npos; at = tex.find(input, at)) {
      at += input.size();
      const std::size_t end = tex.find(".tex}", at);
      if (end == std::string::npos) break;
      figures.insert(tex.substr(at, end - at));
    }
    std::istringstream jsonl(read_small_file(dir / "results.jsonl", kListingLimit));
    for (std::string line; std::getline(jsonl, line);) {
      const nlohmann::json r = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
      if (r.is_object() && r.contains("claim") && r["claim"].is_string())
        claims.insert(r["claim"].get<std::string>());
    }
  }

  bool top_level_file(const std::string& name) const {
    static const std::set<std::string> names = {
        kReportMarkerFile, "run.json",    "report.tex",    "report.pdf",       "report.aux",
        "report.log",      "report.out",  "results.jsonl", "results.csv",      "kernel_checks.csv"};
    return names.count(name) != 0;
  }

  bool file_in(const std::string& subdirectory, const std::string& name) const {
    const auto stem_with = [&name](const std::string& ext) {
      return name.size() > ext.size() && name.compare(name.size() - ext.size(), ext.size(), ext) == 0
                 ? std::optional<std::string>(name.substr(0, name.size() - ext.size()))
                 : std::nullopt;
    };
    if (subdirectory == "data") {
      if (model_data.count(name)) return true;
      const auto stem = stem_with(".csv");
      return stem && experiments.count(*stem);
    }
    if (subdirectory == "counterexamples" || subdirectory == "tightest") {
      const auto stem = stem_with(".json");
      return stem && claims.count(*stem);
    }
    if (subdirectory == "proofs") return false;  // a report proves nothing
    if (const auto stem = stem_with(".tex")) return figures.count(*stem) != 0;
    const auto stem = stem_with(".dat");  // <id>-<k>.dat
    if (!stem) return false;
    const std::size_t dash = stem->rfind('-');
    return dash != std::string::npos && dash + 1 < stem->size() &&
           stem->find_first_not_of("0123456789", dash + 1) == std::string::npos &&
           figures.count(stem->substr(0, dash));
  }
};

// The entries of `dir`, sorted so that "the first foreign file" is the same on every run.
std::vector<fs::directory_entry> sorted_entries(const fs::path& dir) {
  std::vector<fs::directory_entry> entries{fs::directory_iterator(dir), fs::directory_iterator()};
  std::sort(entries.begin(), entries.end());
  return entries;
}

// The first path in `dir`'s tree, relative to it, that attncert report does not write, or empty.
// A symbolic link anywhere, or any other file type than a regular file, is foreign.
std::string first_foreign_path(const fs::path& dir, const ReportNames& names) {
  // proofs/: write_results_files makes it with the others; a report proves nothing, so it holds
  // no file of the report's (any file there is foreign).
  static const std::set<std::string> subdirectories = {"counterexamples", "data", "figures", "proofs",
                                                       "tightest"};
  for (const fs::directory_entry& top : sorted_entries(dir)) {
    const std::string name = top.path().filename().string();
    const fs::file_status status = top.symlink_status();
    if (fs::is_regular_file(status) && names.top_level_file(name)) continue;
    if (!fs::is_directory(status) || !subdirectories.count(name)) return name;
    for (const fs::directory_entry& e : sorted_entries(top.path())) {
      const std::string file = e.path().filename().string();
      if (!fs::is_regular_file(e.symlink_status()) || !names.file_in(name, file))
        return name + "/" + file;
    }
  }
  return {};
}

fs::path aside_name(const fs::path& out) {
  std::random_device rd;
  return out.parent_path() /
         fmt::format("{}.old-{}-{:08x}{:08x}", out.filename().string(), ::getpid(), rd(), rd());
}

}  // namespace

std::string why_not_replaceable(const fs::path& dir) {
  if (fs::is_empty(dir)) return {};
  const nlohmann::json run = nlohmann::json::parse(read_small_file(dir / "run.json", kRunJsonLimit),
                                                   nullptr, /*allow_exceptions=*/false);
  // The user's files first: that is the reason a report they added to may not be replaced.
  const std::string foreign = first_foreign_path(dir, ReportNames(dir, run));
  if (!foreign.empty()) return fmt::format("it holds '{}', which a report does not", foreign);
  std::error_code ec;
  if (!fs::exists(fs::symlink_status(dir / kReportMarkerFile, ec)))
    return fmt::format("no {} marker", kReportMarkerFile);
  if (read_small_file(dir / kReportMarkerFile, 256) != kReportMarkerLine)
    return fmt::format("its {} marker is not one written by attncert report", kReportMarkerFile);
  if (!run.is_object() || run.value("generator", "") != kGenerator || !run.contains("version") ||
      !run["version"].is_string() || !run.contains("seed") || !run["seed"].is_number_unsigned() ||
      !run.contains("mode") || !run["mode"].is_string()) {
    return "its run.json is not one written by attncert report";
  }
  if (!fs::is_regular_file(fs::symlink_status(dir / "report.tex"))) return "no report.tex";
  return {};
}

void replace_directory(TemporaryDirectory& staging, const fs::path& out, bool exchange) {
  // A failed move keeps the new report where it is and says so: it took the whole run to make.
  // Called with the interrupt cleanup no longer held, as keep() takes it.
  const auto keep_and_fail = [&staging](const std::string& why) {
    staging.keep();
    throw std::runtime_error(
        fmt::format("{}; the new report is in {}", why, staging.path().string()));
  };
  if (exchange) {
    auto hold = hold_interrupt_cleanup();
    std::error_code ec;
    const bool replacing = fs::exists(fs::symlink_status(out, ec));
    if (::renameat2(AT_FDCWD, staging.path().c_str(), AT_FDCWD, out.c_str(),
                    replacing ? RENAME_EXCHANGE : RENAME_NOREPLACE) == 0) {
      if (replacing) {
        hold.unlock();
        fs::remove_all(staging.path(), ec);  // the old report; a leftover is stale for the next run
        hold.lock();
      }
      staging.release();
      return;
    }
    const int err = errno;
    hold.unlock();
    if (err == EEXIST)
      keep_and_fail(fmt::format("{}: appeared while the report was built", out.string()));
    // A filesystem without these flags says EINVAL (ENOSYS: a kernel before 3.15).
    if (err != EINVAL && err != ENOSYS) {
      keep_and_fail(fmt::format("{}: cannot move the new report into place: {}", out.string(),
                                errno_text(err)));
    }
  }
  fs::path aside = aside_name(out);
  std::string failure;
  {
    // Both renames, or neither, as far as signals go; a crash between them is repaired by
    // recover_interrupted_replacement().
    const auto hold = hold_interrupt_cleanup();
    if (::rename(out.c_str(), aside.c_str()) != 0) {
      const int err = errno;
      if (err != ENOENT) {
        failure = fmt::format("{}: cannot move the previous report aside: {}", out.string(),
                              errno_text(err));
      }
      aside.clear();
    }
    if (failure.empty() && ::rename(staging.path().c_str(), out.c_str()) != 0) {
      const int err = errno;
      if (!aside.empty()) ::rename(aside.c_str(), out.c_str());
      aside.clear();
      failure = fmt::format("{}: cannot move the new report into place: {}", out.string(),
                            errno_text(err));
    }
    if (failure.empty()) staging.release();
  }
  if (!failure.empty()) keep_and_fail(failure);
  std::error_code ec;
  if (!aside.empty()) fs::remove_all(aside, ec);  // a leftover is removed by the next run
}

void recover_interrupted_replacement(const fs::path& out) {
  const std::string prefix = out.filename().string();
  std::error_code ec;
  for (fs::directory_iterator it(out.parent_path(), ec), end; !ec && it != end; it.increment(ec)) {
    const std::optional<pid_t> owner =
        temporary_owner(it->path().filename().string(), prefix, "old");
    if (!owner || *owner == ::getpid() || !is_dead_process(*owner)) continue;
    std::error_code status_ec;
    if (!fs::exists(fs::symlink_status(out, status_ec)) &&
        ::rename(it->path().c_str(), out.c_str()) == 0)
      continue;
    std::error_code ignored;
    fs::remove_all(it->path(), ignored);
  }
}

ReportDirectory::ReportDirectory(const std::string& out_option)
    : out_(resolve_out_dir(out_option)) {
  install_interrupt_cleanup();
  std::error_code ec;
  fs::create_directories(out_.parent_path(), ec);
  if (ec) {
    throw std::runtime_error(fmt::format("--out {}: cannot create {}: {}", out_option,
                                         out_.parent_path().string(), ec.message()));
  }
  recover_interrupted_replacement(out_);
  const fs::file_status status = fs::symlink_status(out_, ec);
  if (fs::is_symlink(status)) {
    throw std::runtime_error(
        fmt::format("--out {}: is a symbolic link; name the directory itself", out_option));
  }
  // A new directory needs no lock: it is created by the final rename, which never replaces
  // one that appears meanwhile.
  if (fs::exists(status)) {
    if (!fs::is_directory(status)) {
      throw std::runtime_error(fmt::format("--out {}: exists and is not a directory", out_option));
    }
    try {
      lock_.emplace(out_);
    } catch (const std::runtime_error& e) {
      throw std::runtime_error(fmt::format("--out {}", e.what()));
    }
    const std::string why = why_not_replaceable(out_);
    if (!why.empty()) {
      throw std::runtime_error(
          fmt::format("--out {}: exists and is not a report written by attncert ({}); choose "
                      "another directory or remove it",
                      out_option, why));
    }
  }
  remove_stale_temporaries(out_);
  try {
    staging_.emplace(out_);  // fails here, before any work, when the parent is not writable
  } catch (const std::runtime_error& e) {
    throw std::runtime_error(fmt::format("--out {}", e.what()));
  }
}

void ReportDirectory::commit() {
  write_file_atomically((staging() / kReportMarkerFile).string(), kReportMarkerLine);
  // The check of the constructor is a run's length old: OUT may have been created meanwhile, or
  // the user may have put a file into the old report. Replacing either would delete their files.
  std::error_code ec;
  if (fs::exists(fs::symlink_status(out_, ec))) {
    std::string why = fs::is_directory(fs::symlink_status(out_, ec)) ? why_not_replaceable(out_)
                                                                     : "it is not a directory";
    if (!why.empty()) {
      staging_->keep();
      throw std::runtime_error(
          fmt::format("{}: changed while the report was built and is not a report written by "
                      "attncert ({}); the new report is in {}",
                      out_.string(), why, staging().string()));
    }
  }
  replace_directory(*staging_, out_);
}

}  // namespace attncert
