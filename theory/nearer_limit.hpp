// Where the slack of a bound between two quantities confined to an interval is measured from
// (Inequality::gap_origin).
//
// A side `p ≥ b` or `p ≤ b` with p, b ∈ [floor, ceiling] (a probability: [0, 1]; the smallest of
// L weights: [0, 1/L]; the largest: [1/L, 1]) has two limits both sides can approach together.
// Near one of them the plain ratio reads ≈ 1 whatever the bound (p = 1 − 1e-17 against
// b = 1 − 3e-9); the honest measure is the slack from that limit ((1 − p)/(1 − b) for p ≥ b).
// The ratios measured from the two ends order as the pair's distance from the interval's centre,
// so taking the end the pair is nearer to picks the smaller, informative one.
#pragma once

#include "numerics/scalar_traits.hpp"

namespace attncert {

/// The end of [floor, ceiling] the pair p, b is nearer to: ceiling when p + b > floor + ceiling,
/// else floor (decided on the tier's midpoints: the origin shapes the measure, never the verdict).
template <class T>
T nearer_limit(const T& p, const T& b, const T& floor, const T& ceiling) {
  using Traits = ScalarTraits<T>;
  return Traits::to_double(p) + Traits::to_double(b) > Traits::to_double(floor) + Traits::to_double(ceiling)
             ? ceiling
             : floor;
}

}  // namespace attncert
