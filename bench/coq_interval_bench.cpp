// Time to prove, attncert vs Coq, on the log-sum-exp goal
//   log(exp(x1) + … + exp(xn)) <= max(x1, …, xn) + log(n) + 0.01   over [−1, 1]^n
// for n = 2 … 6, in one run:
//   prover      — attncert's prover (Arb, mean-value + monotonicity), wall time and leaves;
//   coqc replay — coqc on the .v that coq_proof_script writes from the prover's certificate
//                 (one lemma per tree node, one `interval` call per leaf);
//   coqc whole  — coqc on the whole goal handed to `interval with (i_bisect x1, …, i_bisect xn,
//                 i_depth D)` (CoqInterval's own search), D = 10·n: the depth at which n = 3 first
//                 closes here (20 fails); runs past the timeout are reported as such.
// Every coqc time includes coqc's start and the loading of Reals + Interval (~1.2 s, measured
// alone as `coqc baseline`): the ratios subtract it.
//
// Usage: coq_interval_bench [n_min n_max [timeout_seconds [both|replay|whole]]]   (default 2 6 300 both)
// ATTNCERT_KEEP_COQ=DIR keeps the emitted files as DIR/lse_N.v.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <fmt/format.h>

#include "proofs_checks/box_prover.hpp"
#include "proofs_checks/coq_proof.hpp"

namespace attncert {
namespace {

namespace fs = std::filesystem;

ProofGoal lse_goal(int n) {
  std::vector<std::string> names;
  for (int i = 1; i <= n; ++i) names.push_back(fmt::format("x{}", i));
  ElementaryProgram p(names);
  std::uint32_t sum = p.unary(ElementaryOp::Exp, p.variable(0U));
  std::uint32_t max = p.variable(0U);
  for (int i = 1; i < n; ++i) {
    const std::uint32_t x = p.variable(static_cast<std::uint32_t>(i));
    sum = p.binary(ElementaryOp::Add, sum, p.unary(ElementaryOp::Exp, x));
    max = p.binary(ElementaryOp::Max, max, x);
  }
  const std::uint32_t lhs = p.unary(ElementaryOp::Log, sum);
  const std::uint32_t rhs = p.binary(ElementaryOp::Add, p.binary(ElementaryOp::Add, max, p.unary(ElementaryOp::Log, p.constant(std::to_string(n)))),
                                     p.constant("0.01"));
  return ProofGoal{fmt::format("lse, n = {}", n), p, lhs, rhs, Relation::LessEqual,
                   ProofBox{std::vector<double>(n, -1.0), std::vector<double>(n, 1.0)}, "0"};
}

std::string whole_goal_script(int n, int depth) {
  std::string vars, hyps, sum, max, bisect;
  for (int i = 1; i <= n; ++i) {
    vars += fmt::format(" x{}", i);
    hyps += fmt::format("(- 1) <= x{} <= 1 -> ", i);
    sum += fmt::format("{}(exp x{})", i > 1 ? " + " : "", i);
    max = i == 1 ? "x1" : fmt::format("(Rmax {} x{})", max, i);
    bisect += fmt::format("i_bisect x{}, ", i);
  }
  return fmt::format(
      "From Coq Require Import Reals Lra.\nFrom Interval Require Import Tactic.\nOpen Scope R_scope.\n"
      "Lemma Rmax_abs : forall a b : R, Rmax a b = (a + b + Rabs (a - b)) / 2.\n"
      "Proof. intros a b. unfold Rmax. destruct (Rle_dec a b).\n"
      "- rewrite Rabs_left1 by lra. lra.\n- rewrite Rabs_right by lra. lra.\nQed.\n"
      "Theorem lse : forall{} : R, {}ln ({}) <= {} + ln {} + 1e-2.\n"
      "Proof. intros. apply Rminus_le. rewrite ?Rmax_abs. interval with ({}i_depth {}). Qed.\n",
      vars, hyps, sum, max, n, bisect, depth);
}

CoqRun coqc_text(const std::string& text, const std::string& name, double timeout) {
  const fs::path file = fs::temp_directory_path() / (name + ".v");
  std::ofstream(file) << text;
  CoqRun run = run_coqc(file.string(), timeout);
  fs::remove(file);
  return run;
}

int run(int n_min, int n_max, double timeout, const std::string& mode) {
  if (find_coqc().empty()) {
    std::fprintf(stderr, "coqc not found: install the Debian packages coq and libcoq-interval\n");
    return 2;
  }
  const CoqRun baseline = coqc_text("From Coq Require Import Reals Lra.\nFrom Interval Require Import Tactic.\n", "attncert_baseline", timeout);
  std::printf("coqc baseline (start + Require Reals, Interval): %.2f s%s\n", baseline.seconds,
              baseline.accepted ? "" : "  [FAILED: CoqInterval missing?]");
  std::printf("%2s | %10s %7s %7s | %12s %9s | %14s | %s\n", "n", "prover s", "boxes", "leaves",
              "coqc replay", "ratio", "coqc whole", "whole/replay");
  for (int n = n_min; n <= n_max; ++n) {
    ProofCertificate c;
    c.claim_id = fmt::format("lse_{}", n);
    c.statement = "log(sum exp x_i) <= max x_i + log n + 0.01";
    c.domain = fmt::format("x in [-1, 1]^{}", n);
    c.scope = c.domain;
    const ProofGoal goal = lse_goal(n);
    const ProofAttempt attempt = prove_goal(goal);
    if (attempt.outcome != ProofOutcome::Proved || !attempt.tree) {
      std::printf("%2d | prover: %s (%s)\n", n, std::string(to_string(attempt.outcome)).c_str(), attempt.reason.c_str());
      continue;
    }
    c.goals.push_back(ProvedGoal{goal, attempt.tree->clone()});
    std::string replay_cell = "unsupported";
    double replay_seconds = 0;
    bool replay_ok = false;
    if (mode == "whole") {
      replay_cell = "not run";
    } else if (auto why = coq_unsupported_reason(c)) {
      replay_cell = "unsupported: " + *why;
    } else {
      const std::string script = coq_proof_script(c);
      if (const char* keep = std::getenv("ATTNCERT_KEEP_COQ")) {
        std::ofstream(fmt::format("{}/lse_{}.v", keep, n)) << script;
      }
      const CoqRun replay = coqc_text(script, fmt::format("attncert_lse_{}", n), timeout);
      replay_seconds = replay.seconds;
      replay_ok = replay.accepted;
      replay_cell = replay.accepted            ? fmt::format("{:.2f} s", replay.seconds)
                    : replay.seconds >= timeout ? fmt::format("> {:.0f} s", timeout)
                                                : fmt::format("REJECTED {:.0f} s", replay.seconds);
      if (!replay.accepted) std::fprintf(stderr, "n = %d replay output:\n%s\n", n, replay.output.substr(0, 2000).c_str());
    }
    CoqRun whole;
    if (mode != "replay") whole = coqc_text(whole_goal_script(n, 10 * n), fmt::format("attncert_lse_whole_{}", n), timeout);
    const std::string whole_cell = mode == "replay" ? std::string("not run") : whole.accepted ? fmt::format("{:.2f} s", whole.seconds)
                                   : whole.seconds >= timeout ? fmt::format("> {:.0f} s", timeout)
                                                              : fmt::format("fails {:.1f} s", whole.seconds);
    const double replay_net = replay_seconds - baseline.seconds;
    const double whole_net = whole.seconds - baseline.seconds;
    std::printf("%2d | %10.4f %7ld %7ld | %12s %9s | %14s | %s\n", n, attempt.seconds, attempt.boxes, attempt.leaves,
                replay_cell.c_str(),
                replay_ok ? fmt::format("{:.0f}x", replay_net / std::max(attempt.seconds, 1e-6)).c_str() : "-",
                whole_cell.c_str(),
                replay_ok && whole.accepted ? fmt::format("{:.2f}", whole_net / std::max(replay_net, 1e-3)).c_str() : "-");
    std::fflush(stdout);
  }
  std::printf("ratio = (coqc replay − baseline) / prover time; whole/replay = (whole − baseline) / (replay − baseline)\n");
  return 0;
}

}  // namespace
}  // namespace attncert

int main(int argc, char** argv) {
  const int n_min = argc > 2 ? std::atoi(argv[1]) : 2;
  const int n_max = argc > 2 ? std::atoi(argv[2]) : 6;
  const double timeout = argc > 3 ? std::atof(argv[3]) : 300;
  const std::string mode = argc > 4 ? argv[4] : "both";
  return attncert::run(n_min, n_max, timeout, mode);
}
