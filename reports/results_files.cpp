#include "reports/results_files.hpp"

#include <fmt/format.h>

#include <set>
#include <stdexcept>
#include <string>
#include <system_error>

#include "reports/output_file.hpp"
#include "reports/result_records.hpp"

namespace attncert {

namespace fs = std::filesystem;

void write_results_files(const fs::path& dir, const std::vector<const Claim*>& claims,
                         const std::vector<ClaimResult>& results) {
  if (claims.size() != results.size()) {
    throw std::logic_error("write_results_files: one result per claim expected");
  }
  // The one place where the files of a run are written. The caller holds the directory: verify
  // an OutputDirectoryLock for its whole run, report its locked staging directory.
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
    if (p.extension() == ".json" && e.is_regular_file() && !written.count(p.filename())) {
      if (!fs::remove(p, ec) && ec) {
        throw std::runtime_error(
            fmt::format("{}: cannot remove this stale counterexample: {}", p.string(), ec.message()));
      }
    }
  }
}

}  // namespace attncert
