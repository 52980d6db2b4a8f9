// Elementary forms of the registry's derived quantities for a fixed shape: alpha_max as
// max_i 1/Σ_j exp((l_j − l_i)/T), lse, entropy, logit_max/min/range, Delta, the Jacobian norm
// in closed form for L = 2 and L = 3, … written as ElementaryProgram instructions over the
// proof variables (logits_1 … logits_L, T, q_1 … q_d, K_1_1 … K_L_d). This is how a statement
// about named quantities becomes a function of a few real variables that the prover can cover
// and Coq can read. Each form is the same mathematical quantity as quantity<T>() computes
// (theory/quantities.hpp); tests compare the two at sampled points.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "theory/elementary_program.hpp"

namespace attncert {

/// The inputs of a fixed-shape domain as instructions of the program being built.
struct ElementaryOperands {
  /// Scalar parameters: T (a variable or a constant), L, d, N, m (constants: the fixed shape).
  std::map<std::string, std::uint32_t, std::less<>> scalars;
  /// Arrays, row-major: "logits" (L entries), "q" (d), "K" (L·d), "X" (L·d).
  std::map<std::string, std::vector<std::uint32_t>, std::less<>> arrays;
  std::map<std::string, std::pair<int, int>, std::less<>> shapes;  // rows, cols of each array
};

/// Appends the elementary form of registry quantity `name` (a Derived quantity or a parameter)
/// and returns its instruction. Logits come from `logits` or, absent it, from q and K
/// (l_j = Σ_i q_i K_ji). Throws std::invalid_argument, one line, when `name` has no elementary
/// form for this shape ("jacobian_norm has no elementary form for L = 5: closed forms exist for
/// L <= 3") or lacks its inputs.
std::uint32_t lower_quantity(std::string_view name, const ElementaryOperands& operands,
                             ElementaryProgram& program);

/// The proof variable of an array entry: "logits_2", "q_1", "K_2_3" (1-based; matrices
/// row_col). Vectors (one row) use one index.
std::string proof_variable_name(std::string_view array, int row, int col, int rows);

}  // namespace attncert
