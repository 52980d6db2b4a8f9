// SearchSpace: a claim's domain, described as data so that the engine can sample, bias toward
// edge cases, perturb and shrink instances without knowing anything about the claim.
//
// A scalar parameter lives in a closed range (integer or real, optionally log-scaled). An
// array has a shape given by scalar parameter names or literal sizes and a sampling law; the
// law is how instances are drawn, the support (all of ℝ for normal, [a, b] for uniform, the
// sphere for sphere) is the domain.
#pragma once

#include <string>
#include <vector>

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

struct SearchSpace {
  std::vector<ScalarSpec> scalars;
  std::vector<ArraySpec> arrays;

  const ScalarSpec* find_scalar(const std::string& name) const;
  const ArraySpec* find_array(const std::string& name) const;
  /// One line, e.g. "L ∈ [1, 64] integer, T ∈ [0.01, 10] log; logits: 1×L ~ normal(0, 3)".
  std::string describe() const;
  /// Throws std::invalid_argument naming the offending spec (empty range, lo > hi, log range
  /// with lo <= 0, shape naming an unknown parameter, sd <= 0, …).
  void validate() const;
};

}  // namespace attncert
