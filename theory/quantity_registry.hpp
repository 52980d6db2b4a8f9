// The registry of named quantities: which names an expression, a domain or `eval` may use, of
// which kind, what they mean and in which tiers they can be computed. default_quantities() is
// the catalog's registry, generated from the one list theory/quantity_list.def; their
// evaluators are in theory/quantities.hpp (quantity<T>), this header stays light for the parser.
#pragma once

#include <initializer_list>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace attncert {

enum class QuantityKind {
  RealParameter,     // scalar input a domain ranges over (T)
  IntegerParameter,  // integer-valued input (L, N, d, m)
  Derived,           // computed from an instance (alpha_max, jacobian_norm, ...); not in domains
  Constant,          // fixed value (pi, e); evaluated internally, never looked up
  VectorInput,       // vector-valued input drawn from a distribution (logits, q, ...); domains only
};

std::string_view to_string(QuantityKind kind) noexcept;

/// The tiers in which quantity<T>() can compute a name.
enum class QuantityTiers {
  NoTier,    // constants (the expression evaluator encloses them) and vector inputs (data)
  NoMp,      // double and Ball
  AllTiers,  // double, Mp and Ball
};

struct Quantity {
  std::string name;
  QuantityKind kind = QuantityKind::Derived;
  std::string description;
  /// Admissible values of a parameter (domains are checked against them): value >= minimum,
  /// or value > minimum when minimum_is_open.
  double minimum = -std::numeric_limits<double>::infinity();
  bool minimum_is_open = false;
  QuantityTiers tiers = QuantityTiers::NoTier;
};

/// The names an expression or a domain may use. Names follow the identifier rule of the
/// grammar and may not be a function name; a bad or duplicate name throws
/// std::invalid_argument.
class QuantityRegistry {
 public:
  QuantityRegistry() = default;
  QuantityRegistry(std::initializer_list<Quantity> quantities);
  void add(Quantity quantity);

  const Quantity* find(std::string_view name) const noexcept;
  /// Sorted names, optionally only those of the given kinds.
  std::vector<std::string> names() const;
  std::vector<std::string> names(std::initializer_list<QuantityKind> kinds) const;
  /// The candidate closest to `name` by edit distance (case-insensitive first), if close
  /// enough to be a plausible typo.
  static std::optional<std::string> closest(std::string_view name,
                                            const std::vector<std::string>& candidates);
  const std::vector<Quantity>& quantities() const noexcept { return quantities_; }

 private:
  std::vector<Quantity> quantities_;  // in insertion order
};

/// The catalog's names, one row each of theory/quantity_list.def: parameters L, T, N, d, m;
/// derived quantities (alpha_max, jacobian_norm, Delta, the spectral ones, …); the constants
/// pi and e; the array inputs logits, q, K (keys), X (values) — array names as in Instance.
const QuantityRegistry& default_quantities();

/// Function names of the expression language: abs, exp, log, max, min, sqrt (no quantity may
/// take one).
std::span<const std::string_view> function_names() noexcept;

}  // namespace attncert
