// Where the slack of a bound on a probability is measured from (Inequality::gap_origin).
//
// A side `p ≥ b` with p, b ∈ [0, c] (c = 1 for a probability, 1/L for the smallest of L weights)
// has two limits both sides can approach together: 0 and c. Near 0 the plain ratio b/p says how
// close the side comes to failing; near c it is ≈ 1 whatever the bound, and the honest measure
// is the slack from c, (c − p)/(c − b) (p ≥ 1 − ε gives (1 − p)/ε). The two ratios order as
// |b − c/2| against |p − c/2|, so taking the origin c exactly when p + b > c picks the smaller of
// the two: the slack measured from the limit the pair is nearer to.
#pragma once

#include <optional>
#include <string>

#include "theory/claim.hpp"

namespace attncert {

/// The gap origin of a side `p ≥ b` with p, b ∈ [0, ceiling]: the ceiling when p + b > ceiling
/// (decided on the tier's midpoints: the origin shapes the measure, never the verdict), none
/// (the plain ratio b/p) otherwise.
template <class T>
std::optional<T> probability_gap_origin(const T& p, const T& b, const T& ceiling) {
  using Traits = ScalarTraits<T>;
  if (Traits::to_double(p) + Traits::to_double(b) > Traits::to_double(ceiling)) return ceiling;
  return std::nullopt;
}

/// A side `p ≤ b` on probabilities p, b ∈ [floor, 1], stated as the equivalent `1 − p ≥ 1 − b`
/// with the origin above: a gap origin must lie beyond lhs from rhs, so `p ≤ b` could not be
/// measured from 1, where p and b saturate (p = 0.996 against b = 1 − 1e-9 would score ≈ 1).
/// Measured from the nearer end: (1 − b)/(1 − p) near 1, (p − floor)/(b − floor) near floor.
/// The side keeps its name ("upper"): callers find it by name, and its certificate shows 1 − p.
template <class T>
Inequality<T> probability_upper_bound_side(std::string name, const T& p, const T& b, const T& floor,
                                           const T& one) {
  const T slack_p = T(one - p);
  const T slack_b = T(one - b);
  return {std::move(name), slack_p, Relation::GreaterEqual, slack_b, "",
          probability_gap_origin(slack_p, slack_b, T(one - floor))};
}

}  // namespace attncert
