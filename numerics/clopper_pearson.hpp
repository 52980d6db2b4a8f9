// Clopper–Pearson ("exact") confidence interval for a binomial proportion, for the claims that
// are statements about probabilities (checked by Monte Carlo).
#pragma once

#include <cstdint>

#include "numerics/ball.hpp"

namespace attncert {

struct ProportionInterval {
  double lower = 0;  // P(p < lower) <= γ/2
  double upper = 1;  // P(p > upper) <= γ/2
};

/// Two-sided interval at confidence 1 − γ for `successes` out of `trials` (trials >= 1,
/// 0 < γ < 1). Computed with Boost.Math's inverse regularised incomplete beta in double and then
/// widened outward by 1e-12 relative, so rounding in the inversion can only make it wider.
ProportionInterval clopper_pearson(std::uint64_t successes, std::uint64_t trials, double gamma);

/// The interval as a ball at `precision` bits, for events decided with certified arithmetic:
/// `certain` trials certainly had the event, `undecided` more may have had it. The ball is the
/// hull of the lower end for `certain` and the upper end for `certain + undecided` successes, so
/// comparing it with a claimed probability gives True/False only when every possible count puts
/// the whole interval on one side.
Ball clopper_pearson_ball(std::uint64_t certain, std::uint64_t undecided, std::uint64_t trials,
                          double gamma, long precision);

}  // namespace attncert
