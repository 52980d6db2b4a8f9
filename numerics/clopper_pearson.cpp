#include "numerics/clopper_pearson.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <boost/math/special_functions/beta.hpp>
#include <stdexcept>

namespace attncert {

ProportionInterval clopper_pearson(std::uint64_t k, std::uint64_t n, double gamma) {
  if (n == 0) throw std::invalid_argument("clopper_pearson: trials must be >= 1");
  if (k > n) {
    throw std::invalid_argument(fmt::format("clopper_pearson: {} successes out of {} trials", k, n));
  }
  if (!(gamma > 0 && gamma < 1)) {
    throw std::invalid_argument(fmt::format("clopper_pearson: γ = {} outside (0, 1)", gamma));
  }
  const double a = gamma / 2;
  const auto kd = static_cast<double>(k), nd = static_cast<double>(n);
  ProportionInterval r;
  r.lower = k == 0 ? 0.0 : boost::math::ibeta_inv(kd, nd - kd + 1, a);
  r.upper = k == n ? 1.0 : boost::math::ibeta_inv(kd + 1, nd - kd, 1 - a);
  r.lower = std::max(0.0, r.lower * (1 - 1e-12));
  r.upper = std::min(1.0, r.upper * (1 + 1e-12));
  return r;
}

Ball clopper_pearson_ball(std::uint64_t certain, std::uint64_t undecided, std::uint64_t trials,
                          double gamma, long precision) {
  return Ball::interval(clopper_pearson(certain, trials, gamma).lower,
                        clopper_pearson(certain + undecided, trials, gamma).upper, precision);
}

}  // namespace attncert
