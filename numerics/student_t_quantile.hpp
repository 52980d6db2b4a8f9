// Certified quantiles of Student's t distribution, for the asymptotic (CLT) confidence intervals
// of the Monte Carlo claims whose estimator is unbounded (C.performer-*).
#pragma once

namespace attncert {

/// Doubles lower ≤ q ≤ upper around the exact quantile q (a few ulps apart).
struct QuantileEnclosure {
  double lower = 0;
  double upper = 0;
};

/// The upper-tail quantile q of Student's t with ν > 0 degrees of freedom: P(T > q) = tail,
/// 0 < tail < 1/2. Certified through the regularised incomplete beta,
/// P(T > t) = ½·I_{ν/(ν+t²)}(ν/2, ½) for t > 0, enclosed by Arb (arb_hypgeom_beta_lower) at
/// doubles on either side of Boost's double estimate.
QuantileEnclosure student_t_quantile(double dof, double tail);

}  // namespace attncert
