// ExpressionClaim: a user conjecture ("alpha_max <= exp(2*Delta/T)/L over L in [2,64], …") as a
// Claim, so that the engine treats it exactly like a catalog claim.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "theory/claim.hpp"
#include "theory/domain.hpp"
#include "theory/expression.hpp"

namespace attncert {

/// The shape of an array input a domain may give (rows × cols, each a parameter name or "1"):
/// logits 1×L, q 1×d, K and X L×d. One table for sampling (the expression claim's search
/// space) and proving (proofs_checks/proof_goals.hpp).
struct ArrayInputShape {
  const char* name;
  const char* rows;
  const char* cols;
};
/// The shape of array input `name`, or nullptr when it is not one.
const ArrayInputShape* array_input_shape(std::string_view name) noexcept;
/// Every array input, in the order above.
std::span<const ArrayInputShape> array_input_shapes() noexcept;

/// The claim id of every user conjecture (its counterexample file is counterexamples/conjecture.json).
inline constexpr const char* kConjectureClaimId = "conjecture";

/// Parses both texts and checks that every name the inequality uses can be computed from the
/// domain's inputs. Throws ParseError (column named) for malformed text and
/// std::invalid_argument for a domain that cannot feed the expression (e.g. Delta without q, K).
std::unique_ptr<Claim> make_expression_claim(const std::string& inequality, const std::string& domain);

/// The source texts of an expression claim, or nullptr for other claims (used by replay files).
struct ExpressionSource {
  std::string inequality;
  std::string domain;
};
const ExpressionSource* expression_source(const Claim& claim);

}  // namespace attncert
