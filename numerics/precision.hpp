// Working precision in bits, validated once at the boundary of every multiprecision API.
#pragma once

namespace attncert {

/// Smallest and largest working precision (bits) any API accepts. 2 bits is MPFR's minimum;
/// a million bits (~300k decimal digits) is far beyond anything a verdict needs, and requests
/// above it are almost always a unit mistake (digits vs bits, or a stray exponent).
inline constexpr long kMinPrecisionBits = 2;
inline constexpr long kMaxPrecisionBits = 1'000'000;

/// Throws std::invalid_argument naming the admissible range when bits is outside it.
void require_precision(long bits, const char* what);

}  // namespace attncert
