// Clopper–Pearson ("exact") confidence interval for a binomial proportion, for the claims that
// are statements about probabilities (checked by Monte Carlo).
#pragma once

#include <cstdint>

#include "numerics/ball.hpp"

namespace attncert {

/// Certified outer bounds on the exact Clopper–Pearson interval [p_L, p_U]:
/// lower ≤ p_L and upper ≥ p_U, so the interval's exact coverage (≥ 1 − γ) carries over.
struct ProportionInterval {
  double lower = 0;  // ≤ p_L, where P(Bin(n, p_L) ≥ k) = γ/2 (0 for k = 0)
  double upper = 1;  // ≥ p_U, where P(Bin(n, p_U) ≤ k) = γ/2 (1 for k = n)
};

/// Two-sided interval at confidence 1 − γ for `successes` out of `trials` (trials >= 1,
/// 0 < γ < 1). The ends are the roots of the regularised incomplete beta
/// I_p(k, n − k + 1) = γ/2 and I_p(k + 1, n − k) = 1 − γ/2; Boost's double inversion gives an
/// estimate and Arb's enclosure of I_p (arb_hypgeom_beta_lower) certifies a double on the outer
/// side of each root (within ~1e-13 relative of it). k = 0 and k = n give the exact ends 0 and 1.
ProportionInterval clopper_pearson(std::uint64_t successes, std::uint64_t trials, double gamma);

/// The interval as a ball at `precision` bits, for events decided with certified arithmetic:
/// `certain` trials certainly had the event, `undecided` more may have had it. The ball is the
/// hull of the lower end for `certain` and the upper end for `certain + undecided` successes, so
/// comparing it with a claimed probability gives True/False only when every possible count puts
/// the whole interval on one side.
Ball clopper_pearson_ball(std::uint64_t certain, std::uint64_t undecided, std::uint64_t trials,
                          double gamma, long precision);

}  // namespace attncert
