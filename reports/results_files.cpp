#include "reports/results_files.hpp"

#include <fmt/format.h>

#include <set>
#include <stdexcept>
#include <string>
#include <system_error>

#include "reports/output_file.hpp"
#include "reports/result_records.hpp"
#include "theory/catalog.hpp"
#include "theory/expression_claim.hpp"

namespace attncert {

namespace fs = std::filesystem;

namespace {

// counterexamples/ must be a real directory (or absent): through a symbolic link, removing stale
// counterexamples would delete files elsewhere.
void check_counterexample_directory(const fs::path& cx_dir) {
  std::error_code ec;
  const fs::file_status st = fs::symlink_status(cx_dir, ec);
  if (ec && ec != std::errc::no_such_file_or_directory) {
    throw std::runtime_error(fmt::format("{}: {}", cx_dir.string(), ec.message()));
  }
  if (fs::exists(st) && !fs::is_directory(st)) {
    throw std::invalid_argument(fmt::format(
        "{}: is {}, not a directory; move it away (attncert writes and removes counterexample "
        "files there)",
        cx_dir.string(), fs::is_symlink(st) ? "a symbolic link" : "not a directory"));
  }
}

// Only files attncert itself could have written count as its counterexamples: ID.json for a
// catalog claim id or the conjecture id, a regular file (not a link). Anything else is the user's.
bool is_counterexample_file_name(const fs::path& name) {
  if (name.extension() != ".json") return false;
  const std::string id = name.stem().string();
  return id == kConjectureClaimId || find_claim(id) != nullptr;
}

}  // namespace

void check_results_files_targets(const fs::path& dir, const std::vector<const Claim*>& claims) {
  check_output_file_target(dir / "results.jsonl", "results file");
  check_output_file_target(dir / "results.csv", "results file");
  const fs::path cx_dir = dir / "counterexamples";
  check_counterexample_directory(cx_dir);
  for (const Claim* c : claims) {
    check_output_file_target(cx_dir / (c->info().id + ".json"), "counterexample file");
  }
}

void write_results_files(const fs::path& dir, const std::vector<const Claim*>& claims,
                         const std::vector<ClaimResult>& results) {
  if (claims.size() != results.size()) {
    throw std::logic_error("write_results_files: one result per claim expected");
  }
  // The one place where the files of a run are written. The caller holds the directory: verify
  // an OutputDirectoryLock for its whole run, report its locked staging directory. Every target
  // is checked before the first write, so a refused one leaves the directory as it was.
  check_results_files_targets(dir, claims);
  const fs::path cx_dir = dir / "counterexamples";
  std::error_code ec;
  fs::create_directories(cx_dir, ec);
  if (ec || !fs::is_directory(cx_dir)) {
    throw std::runtime_error(fmt::format("{}: cannot create the directory: {}", cx_dir.string(),
                                         ec ? ec.message() : "a file of that name exists"));
  }
  std::set<fs::path> written;
  for (std::size_t i = 0; i < claims.size(); ++i) {
    if (results[i].counterexample) {
      const fs::path file = cx_dir / (claims[i]->info().id + ".json");
      write_file_atomically(file.string(), counterexample_json(*claims[i], results[i]).dump(2) + "\n");
      written.insert(file.filename());
    }
  }
  write_file_atomically((dir / "results.jsonl").string(), results_jsonl(claims, results));
  write_file_atomically((dir / "results.csv").string(), results_csv(claims, results));
  for (const fs::directory_entry& e : fs::directory_iterator(cx_dir)) {
    const fs::path& p = e.path();
    if (is_counterexample_file_name(p.filename()) && e.symlink_status().type() == fs::file_type::regular &&
        !written.count(p.filename())) {
      if (!fs::remove(p, ec) && ec) {
        throw std::runtime_error(
            fmt::format("{}: cannot remove this stale counterexample: {}", p.string(), ec.message()));
      }
    }
  }
}

}  // namespace attncert
