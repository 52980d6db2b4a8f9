// The box prover against a plain Arb branch and bound on the log-sum-exp claim of issue 10:
//     log(exp(x1) + … + exp(xn)) <= max(x1, …, xn) + log(n) + 0.01   over [-1, 1]^n
// (the 0.01 is written in the rhs; the goal's slack is "0"), n = 2 … 8, in one run, one core.
//
// Ours: prove_goal with its defaults (naive, mean-value and monotone leaves; no slack ladder).
// Naive: a plain loop — enclose_over_box (naive Ball evaluation at 53 bits) on a stack of boxes,
// bisection of the widest variable at its midpoint — capped at --naive-boxes (20 M) or
// --naive-seconds (120 s) per n; a capped run is reported as "did not finish" with the boxes it
// visited (a lower bound, so the ratio is then a lower bound too).
// Targets (issue 10): n = 8 proved in <= 2 s, with >= 50× fewer boxes than naive.
// Prover-naive: prove_goal with mean_value = monotonicity = false (its endpoint-tight naive
// enclosure, per-variable offset split points), capped at 3 M boxes — separates the gain of the
// tight arithmetic from that of the mean-value and monotone leaves.
// Run: build/bench/box_prover_bench [--max-n=8] [--naive-seconds=120] [--naive-boxes=20000000]
#include <fmt/format.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "numerics/ball.hpp"
#include "proofs_checks/box_prover.hpp"

namespace {

using namespace attncert;

ProofGoal lse_goal(int n) {
  std::vector<std::string> names;
  for (int i = 1; i <= n; ++i) names.push_back(fmt::format("x{}", i));
  ElementaryProgram p(names);
  std::uint32_t sum = 0, mx = 0;
  for (int i = 0; i < n; ++i) {
    const std::uint32_t x = p.variable(static_cast<std::uint32_t>(i));
    const std::uint32_t e = p.unary(ElementaryOp::Exp, x);
    sum = i == 0 ? e : p.binary(ElementaryOp::Add, sum, e);
    mx = i == 0 ? x : p.binary(ElementaryOp::Max, mx, x);
  }
  ProofGoal g;
  g.name = fmt::format("lse, n = {}", n);
  g.lhs = p.unary(ElementaryOp::Log, sum);
  const std::uint32_t log_n = p.unary(ElementaryOp::Log, p.constant(std::to_string(n)));
  g.rhs = p.binary(ElementaryOp::Add, p.binary(ElementaryOp::Add, mx, log_n), p.constant("0.01"));
  g.program = std::move(p);
  g.relation = Relation::LessEqual;
  g.box = {std::vector<double>(n, -1.0), std::vector<double>(n, 1.0)};
  return g;
}

struct NaiveRun {
  long boxes = 0;
  double seconds = 0;
  bool finished = false;
};

// Plain Ball (midpoint-radius) evaluation of f = lhs − rhs over a box: what "a plain Arb loop"
// computes. (enclose_over_box is the prover's own naive enclosure, which takes products and
// functions of wide balls from their endpoints and is tighter; see the prover-naive column.)
Ball plain_f(const ProofGoal& goal, const ProofBox& box, std::vector<Ball>& v) {
  const auto& code = goal.program.code();
  v.resize(code.size());
  for (std::size_t k = 0; k < code.size(); ++k) {
    const ElementaryInstruction& ins = code[k];
    switch (ins.op) {
      case ElementaryOp::Variable: v[k] = Ball::interval(box.lower[ins.variable], box.upper[ins.variable], 53); break;
      case ElementaryOp::Constant: {
        v[k].set_precision(53);
        arb_set_str(v[k].arb(), ins.constant.c_str(), 53);
        break;
      }
      case ElementaryOp::Pi: v[k].set_precision(53); arb_const_pi(v[k].arb(), 53); break;
      case ElementaryOp::Negate: v[k] = -v[ins.a]; break;
      case ElementaryOp::Add: v[k] = v[ins.a] + v[ins.b]; break;
      case ElementaryOp::Subtract: v[k] = v[ins.a] - v[ins.b]; break;
      case ElementaryOp::Multiply: v[k] = v[ins.a] * v[ins.b]; break;
      case ElementaryOp::Divide: v[k] = v[ins.a] / v[ins.b]; break;
      case ElementaryOp::Power: v[k] = pow(v[ins.a], static_cast<long>(ins.exponent)); break;
      case ElementaryOp::Exp: v[k] = exp(v[ins.a]); break;
      case ElementaryOp::Log: v[k] = log(v[ins.a]); break;
      case ElementaryOp::Sqrt: v[k] = sqrt(v[ins.a]); break;
      case ElementaryOp::Abs: v[k] = abs(v[ins.a]); break;
      case ElementaryOp::Min: v[k] = min(v[ins.a], v[ins.b]); break;
      case ElementaryOp::Max: v[k] = max(v[ins.a], v[ins.b]); break;
    }
  }
  return v[goal.lhs] - v[goal.rhs];
}

// The plain Arb loop: naive enclosure, widest-variable bisection, nothing else.
NaiveRun naive_branch_and_bound(const ProofGoal& goal, long max_boxes, double max_seconds) {
  const auto start = std::chrono::steady_clock::now();
  auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(); };
  NaiveRun run;
  std::vector<ProofBox> stack = {goal.box};
  const Ball zero(0);
  std::vector<Ball> values;
  while (!stack.empty()) {
    if (run.boxes >= max_boxes || ((run.boxes & 4095) == 0 && elapsed() > max_seconds)) {
      run.seconds = elapsed();
      return run;
    }
    ProofBox box = std::move(stack.back());
    stack.pop_back();
    ++run.boxes;
    if (certainly(plain_f(goal, box, values) <= zero)) continue;
    std::size_t widest = 0;
    for (std::size_t i = 1; i < box.dimension(); ++i) {
      if (box.upper[i] - box.lower[i] > box.upper[widest] - box.lower[widest]) widest = i;
    }
    const double s = 0.5 * box.lower[widest] + 0.5 * box.upper[widest];
    if (!(box.lower[widest] < s && s < box.upper[widest])) {  // cannot split: give up honestly
      run.seconds = elapsed();
      return run;
    }
    ProofBox above = box;
    above.lower[widest] = s;
    box.upper[widest] = s;
    stack.push_back(std::move(above));
    stack.push_back(std::move(box));
  }
  run.seconds = elapsed();
  run.finished = true;
  return run;
}

double flag(int argc, char** argv, std::string_view name, double fallback) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (a.substr(0, name.size()) == name && a.size() > name.size() && a[name.size()] == '=') {
      return std::atof(std::string(a.substr(name.size() + 1)).c_str());
    }
  }
  return fallback;
}

}  // namespace

int main(int argc, char** argv) {
  const int max_n = static_cast<int>(flag(argc, argv, "--max-n", 8));
  const double naive_seconds = flag(argc, argv, "--naive-seconds", 120);
  const long naive_boxes = static_cast<long>(flag(argc, argv, "--naive-boxes", 20e6));
  fmt::print("lse(x) <= max(x) + log(n) + 0.01 over [-1,1]^n, one core; naive capped at {} boxes / {} s\n",
             naive_boxes, naive_seconds);
  fmt::print("{:>2} | {:>10} {:>8} {:>8} {:>8} | {:>11} {:>8} {:>8} {:>4} | {:>9} | {:>11} {:>8} {:>4} {:>8}\n", "n",
             "ours boxes", "ours s", "boxes/s", "leaves", "naive boxes", "naive s", "boxes/s", "done",
             "ratio", "prover-naive", "s", "done", "ratio");
  for (int n = 2; n <= max_n; ++n) {
    const ProofGoal goal = lse_goal(n);
    ProverOptions options;
    options.slack_ladder.clear();
    options.max_boxes = 20'000'000;
    options.seconds = 120;
    const ProofAttempt ours = prove_goal(goal, options);
    const NaiveRun naive = naive_branch_and_bound(goal, naive_boxes, naive_seconds);
    // The prover with mean-value and monotone leaves off (its tight naive enclosure only):
    // capped at 3 M boxes, as it keeps its tree in memory.
    ProverOptions naive_options = options;
    naive_options.mean_value = false;
    naive_options.monotonicity = false;
    naive_options.max_boxes = 3'000'000;
    naive_options.seconds = naive_seconds;
    const ProofAttempt prover_naive = prove_goal(goal, naive_options);
    const bool pn_done = prover_naive.outcome == ProofOutcome::Proved;
    const bool proved = ours.outcome == ProofOutcome::Proved;
    fmt::print("{:>2} | {:>10} {:>8.3f} {:>8.0f} {:>8} | {:>11} {:>8.2f} {:>8.0f} {:>4} | {}{:>8.1f} | {:>11} {:>8.2f} {:>4} {}{:>7.1f}{}\n",
               n, ours.boxes, ours.seconds, ours.boxes / ours.seconds,
               proved ? std::to_string(ours.leaves) : std::string(to_string(ours.outcome)), naive.boxes, naive.seconds,
               naive.boxes / naive.seconds, naive.finished ? "yes" : "NO", naive.finished ? " " : ">",
               static_cast<double>(naive.boxes) / static_cast<double>(ours.boxes), prover_naive.boxes,
               prover_naive.seconds, pn_done ? "yes" : "NO", pn_done ? " " : ">",
               static_cast<double>(prover_naive.boxes) / static_cast<double>(ours.boxes),
               proved ? "" : "  (ours not proved)");
    std::fflush(stdout);
  }
  return 0;
}
