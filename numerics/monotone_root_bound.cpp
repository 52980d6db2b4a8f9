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
  double x = estimate;
  for (double step = std::ldexp(std::max(std::abs(estimate), 1e-300), -48); !past_limit(x);
       step *= 16) {  // ends: the step overflows to ∞ after ~64 tries, and ±∞ is past any limit
    if (below_root(x) == wanted) return x;
    x = below ? estimate - step : estimate + step;
  }
  return limit;
}

}  // namespace attncert
