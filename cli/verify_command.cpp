#include "cli/verify_command.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <atomic>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <flint/flint.h>

#include "cli/conjecture_claim.hpp"
#include "cli/exit_codes.hpp"
#include "cli/jobs_option.hpp"
#include "cli/seed_option.hpp"
#include "cli/progress_line.hpp"
#include "numerics/precision.hpp"
#include "numerics/rng.hpp"
#include "proofs_checks/verifier.hpp"
#include "reports/output_file.hpp"
#include "reports/result_records.hpp"
#include "proofs_checks/instance_sampler.hpp"
#include "theory/catalog.hpp"
#include "theory/expression_claim.hpp"

namespace attncert::cli {
namespace {

struct VerifyArgs {
  std::vector<std::string> ids;
  bool all = false;
  std::uint64_t seed = 1;
  std::string budget = "8000";
  long max_precision = 4096;
  int jobs = 0;
  bool json = false;
  std::string out = "out";
  std::string expr;
  std::string over;
};

VerifyOptions parse_budget(const std::string& budget, long max_precision) {
  VerifyOptions o;
  o.certify_options.max_precision = max_precision;
  o.certify_options.start_precision = std::min(64L, max_precision);
  const auto bad = [&] {
    return std::invalid_argument(fmt::format(
        "--budget '{}': expected a number of instances (e.g. 2000) or seconds per claim (e.g. 30s)",
        budget));
  };
  if (budget.empty()) throw bad();
  std::size_t used = 0;
  double v = 0;
  try {
    v = std::stod(budget, &used);
  } catch (...) {
    throw bad();
  }
  const std::string unit = budget.substr(used);
  if (!(v > 0) || !std::isfinite(v)) throw bad();
  if (unit == "s") {
    o.seconds = v;
    o.instances = 1'000'000'000;  // bounded by time
    o.local_steps = 100'000;
    o.certify = 200;
  } else if (unit.empty()) {
    if (v != std::floor(v) || v > 1e9) throw bad();
    o = options_for_instance_budget(static_cast<long>(v), max_precision);
  } else {
    throw bad();
  }
  return o;
}

std::string verdict_cell(const ClaimResult& r) {
  switch (r.verdict) {
    case DomainVerdict::Refuted: return "REFUTED";
    case DomainVerdict::Survived: return "survived";
    case DomainVerdict::Inconclusive: return "inconclusive";
  }
  return "?";
}

std::string tightness_cell(const ClaimResult& r) {
  return std::isnan(r.tightness) ? "—" : fmt::format("{:.6f}", r.tightness);
}

void print_table(const std::vector<const Claim*>& claims, const std::vector<ClaimResult>& results) {
  fmt::print("{:<22} {:<13} {:<12} {:>9} {:>10} {:>6}  {}\n", "claim", "provenance", "verdict",
             "certified", "tightness", "bits", "counterexample / note");
  for (std::size_t i = 0; i < claims.size(); ++i) {
    const ClaimResult& r = results[i];
    std::string note;
    if (r.counterexample) {
      note = fmt::format("{} [side '{}']", r.counterexample->describe(8),
                         r.counterexample_certificate->violated);
    } else {
      std::vector<std::string> parts;
      if (r.consistent > 0) parts.push_back(fmt::format("{} consistent (enclosures of both sides agree)", r.consistent));
      if (r.inconclusive > 0) {
        parts.push_back(fmt::format("{} undecided at {} bits", r.inconclusive, r.max_precision_used));
      }
      if (r.unconfirmed > 0) {
        parts.push_back(fmt::format("{} chance exceedance(s) not confirmed by fresh seeds", r.unconfirmed));
      }
      if (claims[i]->info().kind == ClaimKind::Statistical) {
        parts.push_back(fmt::format("statistical, confidence {}", claims[i]->info().confidence));
      }
      note = fmt::format("{}", fmt::join(parts, "; "));
    }
    fmt::print("{:<22} {:<13} {:<12} {:>9} {:>10} {:>6}  {}\n", claims[i]->info().id,
               to_string(claims[i]->info().provenance), verdict_cell(r), r.certified,
               tightness_cell(r), r.max_precision_used, note);
  }
}

int run_verify(const VerifyArgs& a) {
  const bool conjecture = !a.expr.empty() || !a.over.empty();
  if (conjecture && (a.expr.empty() || a.over.empty())) {
    throw CLI::ValidationError("verify", "--expr and --over go together");
  }
  if (conjecture && (a.all || !a.ids.empty())) {
    throw CLI::ValidationError("verify", "give --expr/--over or claim ids/--all, not both");
  }
  if (!conjecture && !a.all && a.ids.empty()) {
    throw CLI::ValidationError("verify", "name claim ids (see `attncert list`), pass --all, or give --expr and --over");
  }
  if (a.all && !a.ids.empty()) throw CLI::ValidationError("verify", "give claim ids or --all, not both");
  require_precision(a.max_precision, "--max-precision");
  if (a.max_precision < 64) {
    throw std::invalid_argument(fmt::format("--max-precision {} is below the 64-bit starting precision",
                                            a.max_precision));
  }
  VerifyOptions base = parse_budget(a.budget, a.max_precision);
  std::vector<const Claim*> claims;
  std::unique_ptr<Claim> user_claim;
  if (conjecture) {
    user_claim = conjecture_claim(a.expr, a.over);
    claims.push_back(user_claim.get());
  } else if (a.all) {
    for (const auto& c : catalog()) claims.push_back(c.get());
  } else {
    for (const auto& id : a.ids) {
      const Claim* c = find_claim(id);
      if (!c) {
        throw std::invalid_argument(fmt::format("unknown claim id '{}' (see `attncert list`)", id));
      }
      claims.push_back(c);
    }
  }
  // Output directory: created up front so that a bad --out fails before any work.
  std::filesystem::create_directories(a.out);
  if (!std::filesystem::is_directory(a.out)) {
    throw std::runtime_error(fmt::format("--out {}: not a directory", a.out));
  }

  const int jobs = a.jobs > 0 ? a.jobs : std::max(1u, std::thread::hardware_concurrency());
  std::vector<ClaimResult> results(claims.size());
  std::atomic<std::size_t> next{0};
  std::atomic<std::size_t> done{0};
  ProgressLine progress;
  std::mutex error_mutex;
  std::string worker_error;
  auto worker = [&] {
    for (std::size_t i = next++; i < claims.size(); i = next++) {
      VerifyOptions o = base;
      o.seed = claim_seed(a.seed, claims[i]->info().id);
      try {
        results[i] = verify_claim(*claims[i], o, [&](std::string_view phase, long k, long n) {
          progress.update(fmt::format("[{}/{}] {}: {} {}/{}", done.load(), claims.size(),
                                      claims[i]->info().id, phase, k, n));
        });
      } catch (const std::exception& e) {
        std::lock_guard<std::mutex> lock(error_mutex);
        if (worker_error.empty()) worker_error = fmt::format("{}: {}", claims[i]->info().id, e.what());
      }
      ++done;
    }
    flint_cleanup();  // Arb/FLINT keep per-thread caches (constants, exp tables): free them here
  };
  std::vector<std::thread> pool;
  for (int t = 0; t < std::min<int>(jobs, static_cast<int>(claims.size())); ++t) pool.emplace_back(worker);
  for (auto& t : pool) t.join();
  progress.clear();
  if (!worker_error.empty()) throw std::logic_error(worker_error);

  // Results: JSON Lines + CSV + one replayable file per counterexample, each written atomically.
  std::string jsonl, csv = results_csv_header();
  const std::filesystem::path out(a.out);
  std::filesystem::create_directories(out / "counterexamples");
  for (std::size_t i = 0; i < claims.size(); ++i) {
    jsonl += result_json(*claims[i], results[i]).dump() + "\n";
    csv += result_csv_row(*claims[i], results[i]);
    if (results[i].counterexample) {
      write_file_atomically((out / "counterexamples" / (claims[i]->info().id + ".json")).string(),
                            counterexample_json(*claims[i], results[i]).dump(2) + "\n");
    }
  }
  write_file_atomically((out / "results.jsonl").string(), jsonl);
  write_file_atomically((out / "results.csv").string(), csv);

  if (a.json) {
    fmt::print("{}", jsonl);
  } else {
    print_table(claims, results);
    fmt::print("\nresults: {}/results.jsonl, {}/results.csv", a.out, a.out);
    bool any_cx = false;
    for (const auto& r : results) any_cx = any_cx || r.counterexample.has_value();
    if (any_cx) fmt::print(", counterexamples in {}/counterexamples/ (re-check: attncert replay FILE)", a.out);
    fmt::print("\n");
  }
  bool refuted = false, inconclusive = false;
  for (const auto& r : results) {
    refuted = refuted || r.verdict == DomainVerdict::Refuted;
    inconclusive = inconclusive || r.verdict == DomainVerdict::Inconclusive;
  }
  return refuted ? kRefuted : inconclusive ? kInconclusive : kAllHold;
}

}  // namespace

void add_list_command(CLI::App& app, int& exit_code) {
  CLI::App* cmd = app.add_subcommand("list", "The claims catalog: id, provenance, statement");
  auto verbose = std::make_shared<bool>(false);
  cmd->add_flag("-v,--verbose", *verbose, "also print source, hypotheses and domain");
  cmd->callback([verbose, &exit_code] {
    fmt::print("{:<22} {:<13} {}\n", "claim", "provenance", "statement");
    for (const auto& c : catalog()) {
      const ClaimInfo& i = c->info();
      fmt::print("{:<22} {:<13} {}\n", i.id, to_string(i.provenance), i.statement_text);
      if (*verbose) {
        fmt::print("{:<36} source: {}\n", "", i.source);
        fmt::print("{:<36} domain: {}\n", "", c->space().describe());
        if (!i.hypotheses.empty()) fmt::print("{:<36} hypotheses: {}\n", "", i.hypotheses);
        if (!i.note.empty()) fmt::print("{:<36} note: {}\n", "", i.note);
      }
    }
    fmt::print("\nprovenance: printed = as the paper prints it; reconstructed = our derivation of a "
               "statement whose printed form we do not have; classical = textbook or other paper\n");
    exit_code = kAllHold;
  });
}

void add_verify_command(CLI::App& app, int& exit_code) {
  auto a = std::make_shared<VerifyArgs>();
  CLI::App* cmd = app.add_subcommand(
      "verify", "Search each claim's domain for counterexamples and certify the verdict in ball "
                "arithmetic");
  cmd->add_option("ids", a->ids, "claim ids (see `attncert list`)");
  cmd->add_option("--expr", a->expr,
                  "a conjecture to check, e.g. 'jacobian_norm <= 0.5/T' (grammar: README)");
  cmd->add_option("--over", a->over,
                  "its domain, e.g. 'L in [2,64], T in [0.01,10] log, logits ~ normal(0,3)'");
  cmd->add_flag("--all", a->all, "every claim in the catalog");
  add_seed_option(cmd, a->seed, "random seed, 0 to 2^64-1 (same seed, same output)");
  cmd->add_option("--budget", a->budget,
                  "per claim: instances to sample (e.g. 2000) or seconds (e.g. 30s; not "
                  "reproducible across machines)")
      ->capture_default_str();
  cmd->add_option("--max-precision", a->max_precision,
                  "precision cap in bits for certification (64 → 128 → … → cap)")
      ->capture_default_str();
  add_jobs_option(cmd, a->jobs, "claims verified in parallel (default: all cores)");
  cmd->add_flag("--json", a->json, "print JSON Lines instead of the table");
  cmd->add_option("--out", a->out, "directory for results.jsonl, results.csv, counterexamples/")
      ->capture_default_str();
  cmd->callback([a, &exit_code] { exit_code = run_verify(*a); });
}

}  // namespace attncert::cli
