// ProofGoal: one statement the prover proves over a box — "lhs REL rhs (+ slack) for every point
// of the box" — with lhs and rhs two instructions of one ElementaryProgram. A claim's proof is
// a list of goals (one per side and per fixed L: theory/proof_plan.hpp and proof_goals.hpp
// build them); each proved goal carries its search tree (proof_tree.hpp) in a certificate
// (proof_certificate.hpp).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "theory/claim.hpp"
#include "theory/elementary_program.hpp"

namespace attncert {

/// A closed box ∏ [lower[i], upper[i]] over the program's variables, bounds doubles (exact:
/// a certificate writes them as exact decimals). lower[i] == upper[i] is a fixed value.
struct ProofBox {
  std::vector<double> lower;
  std::vector<double> upper;
  std::size_t dimension() const noexcept { return lower.size(); }
  friend bool operator==(const ProofBox&, const ProofBox&) = default;
};

struct ProofGoal {
  std::string name;  // "upper, L = 3" — which side and which fixed shape
  ElementaryProgram program;
  std::uint32_t lhs = 0;  // instruction indices into program
  std::uint32_t rhs = 0;
  Relation relation = Relation::LessEqual;  // LessEqual, Less, GreaterEqual or Greater
  ProofBox box;
  /// What is proved is "lhs REL rhs + slack" for <=/< and "lhs REL rhs − slack" for >=/>:
  /// an exact decimal >= 0. "0" for the statement itself; the prover may raise it for an
  /// attained bound (PROVED with slack ε), never silently.
  std::string slack = "0";
  friend bool operator==(const ProofGoal&, const ProofGoal&) = default;
};

}  // namespace attncert
