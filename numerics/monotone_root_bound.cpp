#include "numerics/monotone_root_bound.hpp"

#include <algorithm>
#include <cmath>

namespace attncert {

double certified_root_bound(double estimate, RootSide side, double limit,
                            const std::function<Tri(double)>& below_root) {
  if (!std::isfinite(estimate)) return limit;
  const bool below = side == RootSide::Below;
  const Tri wanted = below ? Tri::True : Tri::False;
  // Past the limit means past a point already known to be on the wanted side.
  const auto past_limit = [&](double x) { return below ? x <= limit : x >= limit; };
  double step = std::ldexp(std::max(std::abs(estimate), 1e-300), -48);
  for (double x = estimate; !past_limit(x);
       x = below ? estimate - step : estimate + step, step *= 16) {
    if (below_root(x) == wanted) return x;
    if (!std::isfinite(step)) break;
  }
  return limit;
}

}  // namespace attncert
