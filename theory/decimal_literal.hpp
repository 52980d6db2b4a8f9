// Decimal numbers as the exact values they spell: the expression language's literals and
// eval's --logits / --temperature text both mean the decimal written (0.1 is one tenth, not
// the double nearest it; 9007199254740993 is that integer, not 2^53).
#pragma once

#include <string>
#include <string_view>

namespace attncert {

class Ball;

/// ±mantissa · 10^exponent10 with `value` the nearest double (for checks and display).
struct DecimalLiteral {
  std::string mantissa = "0";  // decimal digits, no leading zeros ("0" for zero)
  long exponent10 = 0;
  bool negative = false;
  double value = 0;
};

/// The whole of `text` as one number with an optional sign, in the grammar of the expression
/// language (e.g. -2, 0.5, .5, 1e-3). Throws ParseError (columns within `text`) otherwise.
DecimalLiteral parse_decimal(std::string_view text);

/// The exact value of `d` enclosed at `prec` bits: exact when it is an integer, else a ball of
/// radius about 2^-prec relative.
Ball decimal_ball(const DecimalLiteral& d, long prec);

}  // namespace attncert
