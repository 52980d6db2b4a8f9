// Exact conversions between the tiers. Going up (double -> Mp -> Ball) is exact; coming down
// from a Ball picks its midpoint (exactly, as an Mp) and is a reference value, not a bound.
#pragma once

#include "numerics/ball.hpp"
#include "numerics/mp.hpp"

namespace attncert {

/// The Mp's exact value as a point ball with working precision `prec`.
Ball to_ball(const Mp& x, long prec);
/// The ball's midpoint, exactly (the Mp gets as many bits as the midpoint needs, >= 2).
Mp midpoint_mp(const Ball& x);
/// True when the ball certainly contains the Mp's exact value.
bool contains(const Ball& b, const Mp& x);

}  // namespace attncert
