#include "numerics/student_t_quantile.hpp"

#include <arb_hypgeom.h>
#include <fmt/format.h>

#include <boost/math/distributions/students_t.hpp>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "numerics/ball.hpp"
#include "numerics/monotone_root_bound.hpp"

namespace attncert {
namespace {

// 128 bits resolve the tail to ~1e-35 for the ν and tails used here; an undecided comparison
// only moves the bound one step further out.
constexpr long kBetaPrecision = 128;

// Certified Tri of P(T > t) > tail for t > 0, i.e. of t < q.
Tri below_quantile(double dof, double t, const Ball& tail) {
  const Ball nu(dof, kBetaPrecision), tt(t, kBetaPrecision);
  const Ball z = nu / (nu + tt * tt);
  const Ball a = nu * Ball(0.5), b(0.5);  // exact
  Ball upper_tail;
  arb_hypgeom_beta_lower(upper_tail.arb(), a.arb(), b.arb(), z.arb(), /*regularized=*/1,
                         kBetaPrecision);
  upper_tail *= Ball(0.5);
  return upper_tail > tail;
}

}  // namespace

QuantileEnclosure student_t_quantile(double dof, double tail) {
  if (!(dof > 0) || !std::isfinite(dof)) {
    throw std::invalid_argument(fmt::format("student_t_quantile: ν = {} must be positive", dof));
  }
  if (!(tail > 0 && tail < 0.5)) {
    throw std::invalid_argument(fmt::format("student_t_quantile: tail {} outside (0, 1/2)", tail));
  }
  double estimate = std::numeric_limits<double>::quiet_NaN();
  try {
    estimate = boost::math::quantile(
        boost::math::complement(boost::math::students_t_distribution<double>(dof), tail));
  } catch (const std::exception&) {  // the bounds fall back to 0 and +∞
  }
  const Ball target(tail);
  const auto below = [&](double t) { return t <= 0 ? Tri::True : below_quantile(dof, t, target); };
  return {certified_root_bound(estimate, RootSide::Below, 0.0, below),
          certified_root_bound(estimate, RootSide::Above, std::numeric_limits<double>::infinity(),
                               below)};
}

}  // namespace attncert
