// The prover: certified branch-and-bound over a box, in Ball arithmetic (Arb).
//
// A work queue of boxes, starting from the goal's box. On each box, f := lhs − rhs − slack
// (see proof_tree.hpp for the sign convention) is enclosed by, in order:
//   (a) naive interval evaluation of the program;
//   (b) the mean-value form around the box's center, with the gradient enclosed by
//       forward-mode interval derivatives (a Clarke enclosure for abs/min/max);
//   (c) monotonicity: when ∂f/∂x_v has a certain sign on the box, the box collapses to the
//       face where f is largest (the face's own proof is a subtree).
// A box whose enclosure's upper end is <= 0 (< 0 for strict relations) is a leaf. Otherwise it
// is bisected on the variable with the largest width × |gradient| (width alone when the gradient
// is unbounded), at a double near the middle. Precision starts at `start_precision` and is
// raised for a box only where the enclosure at the current precision is dominated by rounding
// (radius of f(center) not small against the gap).
// Before and during the search a double pre-screen evaluates f at the box's corners, center and
// seeded random points; a point where the double evaluation violates the goal is returned as a
// candidate counterexample (the caller certifies it with the existing engine — the prover never
// calls a double value a counterexample).
//
// Attained bounds: when the search stalls around a point where f = 0 (a tie such as
// p = (1/2, 1/2) for the Jacobian bound), the prover reports the goal proved only with a slack
// ε > 0: it retries with ε from `slack_ladder` and returns the smallest ε that it proved — never
// a plain PROVED. The prover does not produce SecondOrder leaves (proof_tree.hpp): the leaf kind
// exists in the certificate format and the checker verifies it, but no local second-order
// argument is built here (and no option pretends otherwise).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "proofs_checks/proof_goal.hpp"
#include "proofs_checks/proof_tree.hpp"

namespace attncert {

struct ProverOptions {
  // Boxes visited per attempt (per goal and slack), counted as one depth-first search would;
  // the search is cut into units (box_prover.cpp: kFrontierDepth, unit_boxes) spread over
  // `jobs` threads and MPI ranks (distributed_map), and neither the tree nor the count depends
  // on how.
  long max_boxes = 2'000'000;
  double seconds = 0;           // > 0: also stop an attempt after this much wall time
  int jobs = 1;                 // threads for the subtrees (0: all hardware threads)
  /// Boxes a subtree unit searches before handing what is left to the next round (a round of
  /// few units cuts finer: box_prover.cpp, round_unit_boxes). Changes how the search is cut
  /// into units, never the tree (a test shows it); smaller: finer balance, more rounds.
  long unit_boxes = 10'000;
  long start_precision = 53;
  long max_precision = 256;
  bool mean_value = true;       // (b); off: the naive baseline for benchmarks
  bool monotonicity = true;     // (c)
  /// Slacks (exact decimals, increasing) tried, in order, when the goal as stated is not proved
  /// within the budget; empty: never weaken the goal.
  std::vector<std::string> slack_ladder = {"1e-9", "1e-6", "1e-3"};
  std::uint64_t seed = 1;       // pre-screen's random points
};

enum class ProofOutcome {
  Proved,            // the goal as stated (slack "0")
  ProvedWithSlack,   // only goal + slack; ProofAttempt::slack says which
  Candidate,         // the double pre-screen found a violating point (to be certified)
  Undecided,         // budget exhausted with no proof and no candidate
};
std::string_view to_string(ProofOutcome o) noexcept;

struct ProofAttempt {
  ProofOutcome outcome = ProofOutcome::Undecided;
  std::string slack = "0";                // the slack proved (Proved: "0")
  std::optional<ProofNode> tree;          // Proved, ProvedWithSlack
  std::vector<double> candidate;          // Candidate: the point, one value per variable
  long boxes = 0;                         // boxes visited, all attempts
  long leaves = 0;                        // leaves of the tree returned
  long max_precision_used = 0;
  double seconds = 0;
  std::string reason;                     // Undecided: why (budget, precision cap, undefined)
};

/// Progress: work done and work left — above the frontier, boxes visited and queued (every
/// 1024 boxes); below it, subtrees finished and left (once per subtree).
using ProverProgress = std::function<void(long visited, long queued)>;

/// Proves `goal` (whose slack is its starting slack, normally "0"). Throws
/// std::invalid_argument for a goal that is not provable as posed: a box with a NaN, infinite or
/// empty range, a relation Equal, indices outside the program.
ProofAttempt prove_goal(const ProofGoal& goal, const ProverOptions& options = {},
                        const ProverProgress& progress = {});

/// Ball (Arb) evaluation of every instruction of `program` over `box` at `precision` bits —
/// the naive enclosure, exposed for tests and for the naive baseline benchmark. The result's
/// element k encloses instruction k; an operation possibly undefined on the box gives a
/// non-finite ball.
class Ball;
std::vector<Ball> enclose_over_box(const ElementaryProgram& program, const ProofBox& box, long precision);

}  // namespace attncert
