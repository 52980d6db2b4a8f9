// Instance: one concrete point of a claim's domain — named scalars (L, T, N, …) and named
// real arrays (q, K, logits, X, …). Every entry is a double, and the double's exact value IS
// the instance: the certified tier converts it without rounding, so a counterexample saved as
// JSON and read back is the same mathematical object.
#pragma once

#include <map>
#include <span>
#include <nlohmann/json_fwd.hpp>
#include <string>

#include "numerics/tensor_view.hpp"

namespace attncert {

struct Instance {
  std::map<std::string, double> scalars;
  std::map<std::string, RowMatrix<double>> arrays;

  /// Throws std::out_of_range naming the missing entry.
  double scalar(const std::string& name) const;
  const RowMatrix<double>& array(const std::string& name) const;
  bool has_scalar(const std::string& name) const { return scalars.count(name) != 0; }
  bool has_array(const std::string& name) const { return arrays.count(name) != 0; }

  /// Short human-readable summary ("L=3, T=0.5, logits=[1, 2, 0.5]"), arrays elided past
  /// `max_entries` entries.
  std::string describe(std::size_t max_entries = 12) const;
};

/// The instance of one row of logits at temperature T: scalars L (its length) and T, the 1×L
/// array `logits`.
Instance logit_instance(std::span<const double> logits, double T);

/// JSON with exact round trip: numbers print with 17 significant digits; ±inf as strings.
nlohmann::json to_json(const Instance& instance);
/// Throws std::invalid_argument naming the offending key on malformed input or NaN.
Instance instance_from_json(const nlohmann::json& j);

}  // namespace attncert
