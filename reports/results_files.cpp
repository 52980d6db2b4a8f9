#include "reports/results_files.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "proofs_checks/proof_certificate.hpp"

#include <iterator>
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

// The per-claim files of a run, one directory each: ID.json for every claim the run gives one.
struct ClaimFiles {
  const char* directory;  // below the results directory
  const char* what;       // "counterexample", "tightest instance"
  bool (*has_file)(const ClaimResult&);
  std::string (*file_text)(const Claim&, const ClaimResult&);  // the file, without its final newline
};

const ClaimFiles kClaimFiles[] = {
    {"counterexamples", "counterexample", [](const ClaimResult& r) { return r.counterexample.has_value(); },
     [](const Claim& c, const ClaimResult& r) { return counterexample_json(c, r).dump(2); }},
    {"tightest", "tightest instance", [](const ClaimResult& r) { return r.tightest.has_value(); },
     [](const Claim& c, const ClaimResult& r) { return tightest_json(c, r).dump(2); }},
    // Compact: a proof's tree is nested thousands of levels deep at most, and indented it is
    // mostly spaces (189 MB instead of 25 MB for 94,780 leaves). Rendered once, by the prover's
    // units (ClaimProof::certificate_json).
    {"proofs", "proof certificate",
     [](const ClaimResult& r) { return r.proof && r.proof->certificate.has_value(); },
     [](const Claim&, const ClaimResult& r) {
       return r.proof->certificate_json.empty() ? to_json(*r.proof->certificate).dump() : r.proof->certificate_json;
     }},
};

// The directory must be a real directory (or absent): through a symbolic link, removing stale
// files would delete files elsewhere.
void check_claim_file_directory(const fs::path& files_dir, const ClaimFiles& kind) {
  std::error_code ec;
  const fs::file_status st = fs::symlink_status(files_dir, ec);
  if (ec && ec != std::errc::no_such_file_or_directory) {
    throw std::runtime_error(fmt::format("{}: {}", files_dir.string(), ec.message()));
  }
  if (fs::exists(st) && !fs::is_directory(st)) {
    throw std::invalid_argument(fmt::format(
        "{}: is {}, not a directory; move it away (attncert writes and removes {} files there)",
        files_dir.string(), fs::is_symlink(st) ? "a symbolic link" : "not a directory", kind.what));
  }
}

// Only files attncert itself could have written count as its own: ID.json for a catalog claim
// id or the conjecture id, a regular file (not a link). Anything else is the user's.
bool is_claim_file_name(const fs::path& name) {
  if (name.extension() != ".json") return false;
  const std::string id = name.stem().string();
  return id == kConjectureClaimId || find_claim(id) != nullptr;
}

void remove_stale_claim_files(const fs::path& files_dir, const ClaimFiles& kind,
                              const std::set<fs::path>& written) {
  std::error_code ec;
  for (const fs::directory_entry& e : fs::directory_iterator(files_dir)) {
    const fs::path& p = e.path();
    if (is_claim_file_name(p.filename()) && e.symlink_status().type() == fs::file_type::regular &&
        !written.count(p.filename())) {
      if (!fs::remove(p, ec) && ec) {
        throw std::runtime_error(
            fmt::format("{}: cannot remove this stale {} file: {}", p.string(), kind.what, ec.message()));
      }
    }
  }
}

}  // namespace

void check_results_files_targets(const fs::path& dir, const std::vector<const Claim*>& claims) {
  check_output_file_target(dir / "results.jsonl", "results file");
  check_output_file_target(dir / "results.csv", "results file");
  for (const ClaimFiles& kind : kClaimFiles) {
    const fs::path files_dir = dir / kind.directory;
    check_claim_file_directory(files_dir, kind);
    for (const Claim* c : claims) {
      check_output_file_target(files_dir / (c->info().id + ".json"), fmt::format("{} file", kind.what));
    }
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
  std::vector<std::set<fs::path>> written(std::size(kClaimFiles));
  for (std::size_t k = 0; k < std::size(kClaimFiles); ++k) {
    const ClaimFiles& kind = kClaimFiles[k];
    const fs::path files_dir = dir / kind.directory;
    std::error_code ec;
    fs::create_directories(files_dir, ec);
    if (ec || !fs::is_directory(files_dir)) {
      throw std::runtime_error(fmt::format("{}: cannot create the directory: {}", files_dir.string(),
                                           ec ? ec.message() : "a file of that name exists"));
    }
    for (std::size_t i = 0; i < claims.size(); ++i) {
      if (!kind.has_file(results[i])) continue;
      const fs::path file = files_dir / (claims[i]->info().id + ".json");
      write_file_atomically(file.string(), kind.file_text(*claims[i], results[i]) + "\n");
      written[k].insert(file.filename());
    }
  }
  write_file_atomically((dir / "results.jsonl").string(), results_jsonl(claims, results));
  write_file_atomically((dir / "results.csv").string(), results_csv(claims, results));
  for (std::size_t k = 0; k < std::size(kClaimFiles); ++k) {
    remove_stale_claim_files(dir / kClaimFiles[k].directory, kClaimFiles[k], written[k]);
  }
}

}  // namespace attncert
