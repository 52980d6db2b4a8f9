// SearchSpace: a claim's domain, described as data so that the engine can sample, bias toward
// edge cases, perturb and shrink instances without knowing anything about the claim.
//
// A scalar parameter lives in a closed range (integer or real, optionally log-scaled). An
// array has a shape given by scalar parameter names or literal sizes and a sampling law; the
// law is how instances are drawn, the support (all of ℝ for normal, [a, b] for uniform, the
// sphere for sphere) is the domain.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

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

/// Instances taken from data instead of drawn from laws: a finite list of rows (real attention
/// rows of a model: theory/model_rows.hpp), each setting some arrays and the scalars that give
/// their shapes and provenance. Rows are data: the engine never perturbs, clamps or shrinks
/// what a row sets.
class InstanceSource {
 public:
  virtual ~InstanceSource() = default;
  virtual std::size_t size() const = 0;
  /// Row k: the arrays and scalars it sets (exactly the names below). k < size().
  virtual Instance row(std::size_t k) const = 0;
  virtual const std::vector<std::string>& array_names() const = 0;
  virtual const std::vector<std::string>& scalar_names() const = 0;
  /// One line, e.g. "4032 attention rows of all-minilm-l6-v2 over GPL-3 (SHA-256 …)".
  virtual std::string describe() const = 0;
  /// How to build the same rows again (saved with a counterexample, so that `replay` can check
  /// it is one of them); null when they cannot be rebuilt.
  virtual nlohmann::json recipe() const = 0;
};

/// The scalar that says which row of a SearchSpace's source an instance is (an integer in
/// [0, size − 1], part of the instance so that a saved counterexample names its row).
inline constexpr const char* kSourceRowScalar = "source_row";

struct SearchSpace {
  std::vector<ScalarSpec> scalars;
  std::vector<ArraySpec> arrays;
  /// When set, the arrays and scalars the source names come from a uniformly drawn row
  /// (sample_instance), the scalar kSourceRowScalar (declared in `scalars`) says which, and
  /// check_contains requires them to equal that row exactly; the other scalars are sampled,
  /// perturbed and checked as usual.
  std::shared_ptr<const InstanceSource> source{};
  /// Whether `name` (an array or scalar) is set by the source's rows.
  bool from_source(const std::string& name) const;

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
