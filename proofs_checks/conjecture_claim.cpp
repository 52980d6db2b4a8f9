#include "proofs_checks/conjecture_claim.hpp"

#include <fmt/format.h>

#include <stdexcept>

#include "numerics/rng.hpp"
#include "proofs_checks/instance_sampler.hpp"
#include "theory/expression.hpp"
#include "theory/expression_claim.hpp"

namespace attncert {

// Builds the user's conjecture and checks on one sampled instance that the domain feeds every
// quantity it names (e.g. Delta needs q and K), so such mistakes fail before any search.
std::unique_ptr<Claim> conjecture_claim(const std::string& expr, const std::string& over) {
  std::unique_ptr<Claim> claim;
  try {
    claim = make_expression_claim(expr, over);
  } catch (const ParseError& e) {
    // Say which text the column refers to.
    const bool in_expr = e.input() == expr;
    throw std::invalid_argument(fmt::format("{}: {}", in_expr ? "--expr" : "--over", e.what()));
  }
  Rng rng(1);
  Instance x = sample_instance(claim->space(), rng, SampleMode::Plain);
  try {
    (void)claim->evaluate_double(x);
    // Certified too: an expression certainly undefined there (log(-1), 1/0) is an input
    // error now, not a worker failure in the middle of the search.
    (void)claim->evaluate_ball(x, 64);
  } catch (const ExpressionDomainError& e) {
    throw std::invalid_argument(fmt::format("--expr: {} (at {})", e.what(), x.describe()));
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(fmt::format("--over: the domain cannot feed the conjecture: {}", e.what()));
  } catch (const std::out_of_range& e) {
    throw std::invalid_argument(fmt::format("--over: the domain cannot feed the conjecture: {}", e.what()));
  }
  return claim;
}

}  // namespace attncert
