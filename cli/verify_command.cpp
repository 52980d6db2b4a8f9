#include "cli/verify_command.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cctype>
#include <cmath>
#include <filesystem>
#include <memory>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "proofs_checks/conjecture_claim.hpp"
#include "cli/checkpoint_option.hpp"
#include "cli/exit_codes.hpp"
#include "cli/jobs_option.hpp"
#include "cli/seed_option.hpp"
#include "cli/mpi_world.hpp"
#include "cli/progress_line.hpp"
#include "numerics/precision.hpp"
#include "proofs_checks/claim_proof.hpp"
#include "proofs_checks/claim_verification.hpp"
#include "proofs_checks/coq_proof.hpp"
#include "proofs_checks/distributed_map.hpp"
#include "reports/output_file.hpp"
#include "reports/result_records.hpp"
#include "reports/results_files.hpp"
#include "reports/temporary_path.hpp"
#include "reports/verdict_counts.hpp"
#include "reports/verdict_note.hpp"
#include "reports/verdict_table.hpp"
#include "theory/catalog.hpp"
#include "theory/model_rows.hpp"

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
  bool prove = false;
  double prove_seconds = 20;
  bool prove_seconds_given = false;
  long prove_boxes = ProverOptions{}.max_boxes;
  std::string emit_coq;
  std::string checkpoint;
};

// Caps of --budget, per claim: beyond them a run would not end in any useful time (and a huge
// time budget overflowed the deadline arithmetic: `1e18s` ran forever).
constexpr double kMaxBudgetInstances = 1e9;
// Boxes per proof attempt: a tree of 10^9 boxes would not fit in memory (~100 bytes a box).
constexpr long kMaxProveBoxes = 1'000'000'000;
constexpr double kMaxBudgetSeconds = 7 * 24 * 3600;  // one week

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
    if (v > kMaxBudgetSeconds) {
      throw std::invalid_argument(fmt::format(
          "--budget '{}': at most {:.0f}s (one week) per claim", budget, kMaxBudgetSeconds));
    }
    o.seconds = v;
    o.instances = 1'000'000'000;  // bounded by time
    o.local_steps = 100'000;
    o.certify = 200;
  } else if (unit.empty()) {
    if (v != std::floor(v)) throw bad();
    if (v > kMaxBudgetInstances) {
      throw std::invalid_argument(fmt::format(
          "--budget '{}': at most {:.0f} instances per claim", budget, kMaxBudgetInstances));
    }
    o = options_for_instance_budget(static_cast<long>(v), max_precision);
  } else {
    throw bad();
  }
  return o;
}

// DIR/ID.v for every claim with a proof certificate; none for a claim not proved (a false
// conjecture gets no .v). Checked by coqc before it is kept: a file coqc rejects is an internal
// error, not a proof.
void write_coq_files(const std::string& dir, const std::vector<const Claim*>& claims,
                     const std::vector<ClaimResult>& results) {
  std::filesystem::create_directories(dir);
  for (std::size_t i = 0; i < claims.size(); ++i) {
    const ClaimResult& r = results[i];
    if (!r.proof || r.proof->status == ProofStatus::NoPlan) continue;  // nothing was attempted
    if (!r.proof->certificate) {
      fmt::print(stderr, "attncert: no Coq file for {}: not proved\n", claims[i]->info().id);
      continue;
    }
    if (const auto why = coq_unsupported_reason(*r.proof->certificate)) {
      fmt::print(stderr, "attncert: no Coq file for {}: {}\n", claims[i]->info().id, *why);
      continue;
    }
    std::string name = claims[i]->info().id;
    for (char& ch : name) {
      if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
    }
    const std::string file = (std::filesystem::path(dir) / (name + ".v")).string();
    write_file_atomically(file, coq_proof_script(*r.proof->certificate));
    const CoqRun run = run_coqc(file);
    if (!run.accepted) {
      std::filesystem::remove(file);
      throw std::runtime_error(fmt::format("coqc rejected the proof of {} (a bug in the Coq back "
                                           "end): {}", claims[i]->info().id, run.output.substr(0, 300)));
    }
    fmt::print(stderr, "attncert: {} — coqc accepted it in {:.1f} s\n", file, run.seconds);
  }
}

// `--over model:NAME[, ITEMS]`: real attention rows of a model (theory/model_rows.hpp); ITEMS
// give a conjecture's other parameters (T, N) in the domain grammar.
struct ModelDomain {
  std::string name;   // after "model:"
  std::string items;  // after the first comma, trimmed; may be empty
};
std::optional<ModelDomain> model_domain(const std::string& over) {
  const std::size_t start = over.find_first_not_of(" \t");
  if (start == std::string::npos || over.compare(start, 6, "model:") != 0) return std::nullopt;
  const std::string rest = over.substr(start + 6);
  const std::size_t comma = rest.find(',');
  ModelDomain m;
  m.name = rest.substr(0, comma);
  while (!m.name.empty() && std::isspace(static_cast<unsigned char>(m.name.back()))) m.name.pop_back();
  if (comma != std::string::npos) m.items = rest.substr(comma + 1);
  if (m.name.empty()) throw CLI::ValidationError("--over", "model: needs a name, e.g. model:minilm or model:/path/to/model");
  return m;
}

int run_verify(const VerifyArgs& a) {
  const std::optional<ModelDomain> rows_domain = model_domain(a.over);
  // Catalog claims over a model's rows: ids or --all with `--over model:NAME`.
  const bool catalog_over_rows = rows_domain && a.expr.empty();
  const bool conjecture = !a.expr.empty() || (!a.over.empty() && !catalog_over_rows);
  if (conjecture && (a.expr.empty() || a.over.empty())) {
    throw CLI::ValidationError("verify", "--expr and --over go together");
  }
  if (conjecture && (a.all || !a.ids.empty())) {
    throw CLI::ValidationError("verify", "give --expr/--over or claim ids/--all, not both");
  }
  if (catalog_over_rows && !rows_domain->items.empty()) {
    throw CLI::ValidationError("--over", "catalog claims over model rows take no further domain items (a "
                                         "claim keeps its own ranges for T, N, …)");
  }
  if (rows_domain && a.prove) {
    throw CLI::ValidationError("verify", "--prove does not apply to model rows: each row is one certified "
                                         "instance, no proof covers data");
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
  VerifyOptions options = parse_budget(a.budget, a.max_precision);
  options.seed = a.seed;  // verify_claims derives each claim's seed from it
  if (options.seconds > 0 && unit_ranks() > 1) {
    // Ranks run a single claim's search in step (proofs_checks/distributed_map.hpp), and the
    // promise under mpirun is the same bytes as one process: a clock cannot keep either.
    throw CLI::ValidationError("--budget", fmt::format("'{}' is a time budget: under mpirun give a number of "
                                                       "instances (e.g. 100000)", a.budget));
  }
  if (!a.emit_coq.empty() && !a.prove) {
    throw CLI::ValidationError("verify", "--emit-coq needs --prove");
  }
  if (a.prove) {
    if (!(a.prove_seconds >= 0) || a.prove_seconds > kMaxBudgetSeconds) {
      throw std::invalid_argument(fmt::format("--prove-seconds {}: expected a number of seconds from 0 (no "
                                              "time limit) to one week", a.prove_seconds));
    }
    if (a.prove_boxes < 1 || a.prove_boxes > kMaxProveBoxes) {
      throw std::invalid_argument(fmt::format("--prove-boxes {}: expected a count from 1 to {:.0e}", a.prove_boxes,
                                              static_cast<double>(kMaxProveBoxes)));
    }
    ProverOptions prover;
    prover.seconds = a.prove_seconds;
    if (unit_ranks() > 1) {
      // The ranks share a proof's boxes in step: a clock could end it differently on each.
      if (a.prove_seconds_given && a.prove_seconds > 0) {
        throw CLI::ValidationError("--prove-seconds", fmt::format("{} s is a wall-clock limit: under mpirun bound "
                                                                  "proofs by --prove-boxes (and --prove-seconds 0)",
                                                                  a.prove_seconds));
      }
      prover.seconds = 0;
    }
    prover.max_boxes = a.prove_boxes;
    prover.seed = a.seed;
    prover.jobs = a.jobs;  // the subtrees of a proof (or, with several claims, the claims) share the threads
    options.prove = prover;
  }
  std::vector<const Claim*> claims;
  std::unique_ptr<Claim> user_claim;
  std::shared_ptr<const InstanceSource> rows;
  std::vector<std::unique_ptr<Claim>> over_rows;  // owns the row-restricted claims
  if (rows_domain) {
    ModelRowsOptions ro;
    ro.model = rows_domain->name;
    ro.seed = a.seed;
    rows = model_rows(ro);
  }
  if (conjecture && rows_domain) {
    // The conjecture's arrays come from the rows (q, K and X: its logits are then computed from
    // q and K exactly); their laws here only declare them to the expression checker.
    const std::string items = rows_domain->items.find_first_not_of(" \t") == std::string::npos
                                  ? std::string()
                                  : rows_domain->items + ", ";
    user_claim = conjecture_claim(a.expr, items + "L in [1, 2048], d in [1, 2048], q ~ normal(0, 1), "
                                                  "K ~ normal(0, 1), X ~ normal(0, 1)");
    over_rows.push_back(claim_over_rows(*user_claim, rows));
    claims.push_back(over_rows.back().get());
  } else if (conjecture) {
    user_claim = conjecture_claim(a.expr, a.over);
    claims.push_back(user_claim.get());
  } else if (a.all) {
    for (const auto& c : catalog()) claims.push_back(c.get());
  } else {
    std::set<std::string> seen;
    for (const auto& id : a.ids) {
      if (!seen.insert(id).second) {
        throw CLI::ValidationError("verify", fmt::format("claim id '{}' is given twice", id));
      }
      const Claim* c = find_claim(id);
      if (!c) {
        throw std::invalid_argument(fmt::format("unknown claim id '{}' (see `attncert list`)", id));
      }
      claims.push_back(c);
    }
  }
  if (catalog_over_rows) {
    // Each claim on the rows; with --all the claims that are not about one attention row are
    // left out and named, an explicitly named one is an error.
    std::vector<const Claim*> kept;
    for (const Claim* c : claims) {
      const std::string why = model_rows_unsuitable(*c, rows);
      if (why.empty()) {
        over_rows.push_back(claim_over_rows(*c, rows));
        kept.push_back(over_rows.back().get());
      } else if (a.all) {
        fmt::print("skipped: {} ({})\n", c->info().id, why);
      } else {
        throw std::invalid_argument(fmt::format("{} cannot be checked on attention rows: {}", c->info().id, why));
      }
    }
    claims = std::move(kept);
    fmt::print("rows: {}\n", rows->describe());
  }
  if (a.prove) {
    // Every statement is expanded into goals before any work: an unbounded conjecture, one
    // with too many variables or without an elementary form fails here, in one line.
    for (const Claim* c : claims) {
      const std::vector<ProofGoal> goals = expected_goals(*c);
      if (!a.emit_coq.empty() && goals.empty() && !a.all) {
        throw std::invalid_argument(fmt::format(
            "--emit-coq: {} has no statement in elementary form for the prover (README: Coq proofs)",
            c->info().id));
      }
    }
    if (!a.emit_coq.empty()) {
      std::error_code ec;
      if (std::filesystem::exists(a.emit_coq, ec) && !std::filesystem::is_directory(a.emit_coq, ec)) {
        throw std::invalid_argument(fmt::format("--emit-coq {}: exists and is not a directory", a.emit_coq));
      }
    }
    if (!a.emit_coq.empty() && find_coqc().empty()) {
      throw std::invalid_argument(
          "--emit-coq: coqc not found: install the Debian packages coq and libcoq-interval");
    }
  }
  // Output directory: created and locked up front, so that a bad --out, or another run writing
  // the same directory, fails before any work; the lock is held until the results are written.
  // Temporaries of an interrupted run are removed on SIGINT/SIGTERM.
  // Under mpirun only rank 0 writes (cli/mpi_world.hpp); the other ranks compute claims.
  install_interrupt_cleanup();
  std::optional<OutputDirectoryLock> out_lock;
  if (is_output_rank()) {
    out_lock.emplace(a.out);
    check_results_files_targets(a.out, claims);
  }
  const CheckpointHandle checkpoint = open_checkpoint(a.checkpoint);

  ProgressLine progress;
  const std::vector<ClaimResult> results = verify_claims(
      claims, options, a.jobs,
      [&](std::size_t done, std::size_t total, std::string_view claim, std::string_view phase,
          long step, long steps) {
        if (!claim.empty()) {
          progress.update(fmt::format("[{}/{}] {}: {} {}/{}", done, total, claim, phase, step, steps));
        } else if (!phase.empty()) {
          progress.update(fmt::format("{} claims: {}, unit {}/{}", total, phase, step, steps));
        }
      });
  progress.clear();
  if (!is_output_rank()) return kAllHold;
  write_results_files(a.out, claims, results);
  if (!a.emit_coq.empty()) write_coq_files(a.emit_coq, claims, results);

  if (a.json) {
    fmt::print("{}", results_jsonl(claims, results));
  } else {
    fmt::print("{}", verdict_table_text(claims, results));
    const VerdictCounts counts = count_verdicts(claims, results);
    fmt::print("\nsummary: {}{} survived, {} refuted, {} inconclusive; {}\n",
               a.prove ? fmt::format("{} proved, ", counts.proved) : "", counts.survived,
               counts.refuted, counts.inconclusive, refutation_breakdown(counts));
    fmt::print("results: {}/results.jsonl, {}/results.csv", a.out, a.out);
    bool any_cx = false, any_tightest = false;
    for (const auto& r : results) {
      any_cx = any_cx || r.counterexample.has_value();
      any_tightest = any_tightest || r.tightest.has_value();
    }
    if (any_cx) fmt::print(", counterexamples in {}/counterexamples/", a.out);
    if (any_tightest) fmt::print(", tightest instances in {}/tightest/", a.out);
    if (any_cx || any_tightest) fmt::print(" (re-check: attncert replay FILE)");
    bool any_proof = false;
    for (const auto& r : results) any_proof = any_proof || (r.proof && r.proof->certificate);
    if (any_proof) fmt::print(", proof certificates in {}/proofs/ (re-check: attncert check-proof FILE)", a.out);
    fmt::print("\n");
  }
  return exit_code_for_verdicts(results);
}

}  // namespace

void add_list_command(CLI::App& app, int& exit_code) {
  CLI::App* cmd = app.add_subcommand("list", "The claims catalog: id, provenance, statement");
  auto verbose = std::make_shared<bool>(false);
  cmd->add_flag("-v,--verbose", *verbose, "also print source, hypotheses and domain");
  cmd->callback([verbose, &exit_code] {
    fmt::print("{:<22} {:<14} {:<11} {}\n", "claim", "provenance", "kind", "statement");
    for (const auto& c : catalog()) {
      const ClaimInfo& i = c->info();
      fmt::print("{:<22} {:<14} {:<11} {}\n", i.id, provenance_label(i), to_string(i.kind),
                 i.statement_text);
      if (*verbose) {
        fmt::print("{:<36} source: {}\n", "", i.source);
        fmt::print("{:<36} domain: {}\n", "", c->space().describe());
        if (!i.hypotheses.empty()) fmt::print("{:<36} hypotheses: {}\n", "", i.hypotheses);
        if (!i.adapted.empty()) fmt::print("{:<36} adapted: {}\n", "", i.adapted);
        if (!i.derivation.empty()) fmt::print("{:<36} derived from: {}\n", "", i.derivation);
        if (!i.interval_method.empty()) fmt::print("{:<36} intervals: {}\n", "", i.interval_method);
        if (!i.note.empty()) fmt::print("{:<36} note: {}\n", "", i.note);
      }
    }
    fmt::print("\nprovenance: printed = as the paper prints it (printed* = adapted, -v says how); "
               "reconstructed = our derivation of a statement whose printed form we do not have; "
               "classical = textbook or other paper; reading = an alternative reading of an "
               "ambiguous statement\nkind: derived = follows from an elementary inequality, "
               "cannot fail for a correct implementation\n");
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
                  "per claim: instances to sample (e.g. 2000; at most 1e9) or seconds (e.g. 30s; "
                  "at most 604800s, one week; not reproducible across machines)")
      ->capture_default_str();
  cmd->add_option("--max-precision", a->max_precision,
                  "precision cap in bits for certification (64 → 128 → … → cap)")
      ->capture_default_str();
  add_jobs_option(cmd, a->jobs, "claims verified in parallel (default: all cores)");
  cmd->add_flag("--json", a->json, "print JSON Lines instead of the table");
  cmd->add_option("--out", a->out, "directory for results.jsonl, results.csv, counterexamples/, tightest/ (describes this "
                  "run only: counterexample and tightest-instance files it did not write are removed)")
      ->capture_default_str();
  cmd->add_flag("--prove", a->prove,
                "also prove: PROVED over a bounded conjecture's domain, or over the bounded parts "
                "the catalog states (certificates in OUT/proofs/, re-check: attncert check-proof)");
  CLI::Option* prove_seconds =
      cmd->add_option("--prove-seconds", a->prove_seconds,
                      "with --prove: seconds per proof goal and attempt before giving up (0: no time "
                      "limit; a proof stopped by the clock can end differently on another machine; "
                      "under mpirun no clock: --prove-boxes alone)")
          ->capture_default_str();
  cmd->add_option("--prove-boxes", a->prove_boxes,
                  "with --prove: boxes per proof goal and attempt before giving up (a count: the "
                  "same end on any machine and any number of ranks)")
      ->capture_default_str();
  add_checkpoint_option(cmd, a->checkpoint);
  cmd->add_option("--emit-coq", a->emit_coq,
                  "with --prove: write DIR/ID.v, a Coq proof (CoqInterval) of each proved claim, "
                  "and check it with coqc");
  cmd->callback([a, prove_seconds, &exit_code] {
    a->prove_seconds_given = prove_seconds->count() > 0;
    exit_code = run_verify(*a);
  });
}

}  // namespace attncert::cli
