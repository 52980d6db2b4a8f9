// Certified one-sided bounds on the root of an increasing function, from a double estimate: the
// mechanism behind the certified quantiles (Clopper–Pearson ends, Student-t quantiles), whose
// distribution functions Arb encloses but whose inverses it does not.
#pragma once

#include <functional>

#include "numerics/tri_state.hpp"

namespace attncert {

/// Which side of the root x* (f(x*) = target) a bound must lie on.
enum class RootSide { Below, Above };

/// A double certainly on `side` of the root x* of an increasing f: `below_root(x)` is the
/// certified Tri of f(x) < target (True proves x < x*, False proves x ≥ x*). Tries `estimate`
/// (e.g. a double-precision inversion), then steps outward by 2^-48·max(|estimate|, 1e-300),
/// ×16 per try, until the comparison certifies; returns `limit` — a point known to lie on that
/// side, such as a domain end — when no step does or the estimate is not finite. With an
/// accurate estimate the bound is within ~2^-44 relative of x*.
double certified_root_bound(double estimate, RootSide side, double limit,
                            const std::function<Tri(double)>& below_root);

}  // namespace attncert
