// ExpressionClaim: a user conjecture ("alpha_max <= exp(2*Delta/T)/L over L in [2,64], …") as a
// Claim, so that the engine treats it exactly like a catalog claim.
#pragma once

#include <memory>
#include <string>

#include "theory/claim.hpp"
#include "theory/domain.hpp"
#include "theory/expression.hpp"

namespace attncert {

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
