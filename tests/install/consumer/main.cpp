// Uses the installed attncert: a certified exp(1) must enclose e, and log(exp(1)) must enclose 1.
#include <cmath>
#include <cstdio>

#include "numerics/ball.hpp"

int main() {
  using attncert::Ball;
  constexpr long kBits = 128;
  const Ball e = exp(Ball(1.0, kBits));

  // e = 2.71828182845904523536…, strictly between these two adjacent doubles; a correct
  // 128-bit enclosure (radius ~2^-126) fits inside, a wrong or sloppy one does not.
  const double below = 2.718281828459045;  // the double nearest e, which is < e
  const Ball bracket = Ball::interval(below, std::nextafter(below, 3.0), kBits);
  const bool enclosed = bracket.contains(e);
  const bool tight = e.radius() < 1e-30;
  const bool log_round_trip = log(e).contains(1.0);
  const bool above_2_7 = static_cast<bool>(e > 2.7);  // Tri: proved

  std::printf("exp(1) = %s  enclosed: %d  tight: %d  log(exp(1)) contains 1: %d  > 2.7: %d\n",
              e.str(30).c_str(), enclosed, tight, log_round_trip, above_2_7);
  return enclosed && tight && log_round_trip && above_2_7 ? 0 : 1;
}
