// Where the slack of a lower bound on a probability is measured from (Inequality::gap_origin).
//
// A side `p ≥ b` with p, b ∈ [0, 1] has two limits both sides can approach together: 0 and 1.
// Near 0 the plain ratio b/p says how close the side comes to failing; near 1 it is ≈ 1 whatever
// the bound, and the honest measure is the slack from 1, (1 − p)/(1 − b) (p ≥ 1 − ε gives
// (1 − p)/ε). The two ratios order as |b − ½| against |p − ½|, so taking the origin 1 exactly
// when p + b > 1 picks the smaller of the two: the slack measured from the limit the pair is
// nearer to.
#pragma once

#include <optional>

#include "theory/claim.hpp"

namespace attncert {

/// The gap origin of a side `p ≥ b` on probabilities: 1 when p + b > 1 (decided on the tier's
/// midpoints: the origin shapes the measure, never the verdict), none (the plain ratio b/p)
/// otherwise.
template <class T>
std::optional<T> probability_gap_origin(const T& p, const T& b, const TierContext<T>& ctx) {
  if (ScalarTraits<T>::to_double(p) + ScalarTraits<T>::to_double(b) > 1.0) return ctx.from(1.0);
  return std::nullopt;
}

}  // namespace attncert
