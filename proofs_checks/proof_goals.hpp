// From a statement over a bounded domain to the prover's goals: integer ranges are enumerated
// (L in [2, 4] → L = 2, 3, 4), each array box becomes one proof variable per entry
// (logits in [-20, 20]^L → logits_1 … logits_L), real ranges and fixed values become variables
// (a fixed value: a range of width 0), and both sides are lowered to one ElementaryProgram with
// theory/elementary_forms.hpp. A range's box is the written decimals rounded outward to doubles,
// so the goals cover the domain as written.
#pragma once

#include <map>
#include <span>
#include <string>
#include <vector>

#include "proofs_checks/proof_goal.hpp"
#include "theory/instance.hpp"
#include "theory/proof_plan.hpp"

namespace attncert {

/// Most proof variables one goal may have: the prover's cost grows exponentially with it.
inline constexpr int kMaxProofVariables = 12;
/// Most goals one statement may expand to (integer ranges multiply).
inline constexpr int kMaxProofGoals = 64;

struct PlannedGoals {
  std::vector<ProofGoal> goals;  // one per fixed shape, named e.g. "L = 3" (plan side prefixed)
  /// Per goal, the integer parameters fixed for it ({"L": 3}): with the variables' values they
  /// make an Instance of the statement's domain (instance_at).
  std::vector<std::map<std::string, long, std::less<>>> integers;
  std::string scope;             // "L in {2, 3, 4}, T in [0.05, 5], logits in [-20, 20]^L"
};

/// The Instance at `point` (one value per variable of goals[index]): real parameters as
/// scalars, array entries back in their arrays, the goal's integer parameters as scalars.
Instance instance_at(const PlannedGoals& planned, std::size_t index, std::span<const double> point);

/// Throws std::invalid_argument (one line) for a domain that is not bounded (a law such as
/// normal(0, 1), an array without a box, a parameter missing), too many variables or goals, a
/// quantity without an elementary form, or Relation::Equal; ParseError for malformed text.
PlannedGoals goals_for_plan(const ProofPlan& plan);

}  // namespace attncert
