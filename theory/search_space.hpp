// SearchSpace: a claim's domain, described as data so that the engine can sample, bias toward
// edge cases, perturb and shrink instances without knowing anything about the claim.
//
// A scalar parameter lives in a closed range (integer or real, optionally log-scaled). An
// array has a shape given by scalar parameter names or literal sizes and a sampling law; the
// law is how instances are drawn, the support (all of ℝ for normal, [a, b] for uniform, the
// sphere for sphere) is the domain.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "theory/instance.hpp"

namespace attncert {

struct ScalarSpec {
  std::string name;
  double lo = 0, hi = 0;
  bool integer = false;
  bool log_scale = false;  // sample log-uniformly (requires lo > 0)
  std::string description;
};

enum class Law { Normal, Uniform, Rademacher, Sphere, Positive };

struct ArraySpec {
  std::string name;
  std::string rows;  // a scalar parameter's name, or a literal such as "1"
  std::string cols;
  Law law = Law::Normal;
  double a = 0, b = 1;  // Normal(mean a, sd b); Uniform[a, b]; Sphere: each row has norm a;
                        // Positive: log-normal-ish values in [a, b] (a > 0)
  bool allow_mask = false;  // entries may be −inf (masked logits)
  std::string description;
};

/// Largest array (entries) a domain may draw: refused at parse time by validate(), because
/// sampling then fails only after allocating it (d = 1e9 took 47 s to fail).
inline constexpr double kMaxArrayEntries = 4194304;  // 2^22 doubles = 32 MiB, ~200 MiB as balls

/// Relative tolerance on a row norm for Law::Sphere: a row of doubles is almost never exactly
/// on the sphere; sampled rows are within a few ulps of it (1e-12 leaves room for d up to ~10^3).
inline constexpr double kSphereTolerance = 1e-12;

struct SearchSpace {
  std::vector<ScalarSpec> scalars;
  std::vector<ArraySpec> arrays;

  const ScalarSpec* find_scalar(const std::string& name) const;
  const ArraySpec* find_array(const std::string& name) const;
  /// One line, e.g. "L ∈ [1, 64] integer, T ∈ [0.01, 10] log; logits: 1×L ~ normal(0, 3)".
  std::string describe() const;
  /// Throws std::invalid_argument naming the offending spec (empty range, lo > hi, log range
  /// with lo <= 0, shape naming an unknown parameter, sd <= 0, …).
  /// Also refuses a domain whose arrays could exceed kMaxArrayEntries, naming the sizes.
  void validate() const;
  /// Says whether an entry outside its law's support is set by the claim itself rather than
  /// drawn (B.degree's spike s_1 := B): such an entry is not held to the law.
  using SetByClaim = std::function<bool(const ArraySpec&, Eigen::Index row, Eigen::Index col)>;
  /// Throws std::invalid_argument naming the first field of `x` outside this space: a missing or
  /// extra scalar or array, a value outside its closed range (compared exactly: both are
  /// doubles) or not an integer, an array whose shape disagrees with its parameters, an entry
  /// outside its law's support (finite; [a, b] for uniform and positive; ±1 for rademacher; rows
  /// of norm a within kSphereTolerance for sphere) unless `set_by_claim` says so, a −inf where
  /// masks are not allowed, or a row masked entirely (softmax of it is undefined). Names and
  /// shapes are checked before any entry.
  void check_contains(const Instance& x, const SetByClaim& set_by_claim = {}) const;
};

}  // namespace attncert
