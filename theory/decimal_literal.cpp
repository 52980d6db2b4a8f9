#include "theory/decimal_literal.hpp"

#include <flint/fmpz.h>

#include <cstdlib>

#include "numerics/arb_handles.hpp"
#include "numerics/ball.hpp"
#include "theory/expression_scanner.hpp"

namespace attncert {

DecimalLiteral parse_decimal(std::string_view text) {
  detail::Scanner scanner(text);
  const auto n = scanner.number(true);
  if (!n) scanner.fail_expected("a number");
  if (!scanner.at_end()) scanner.fail_expected("end of the number");
  return {n->mantissa, n->exponent10, n->negative, n->value};
}

Ball decimal_ball(const DecimalLiteral& d, long prec) {
  Ball r(0.0, prec);
  arb_handles::FmpzHandle m, p;
  fmpz_set_str(m, d.mantissa.c_str(), 10);
  if (d.negative) fmpz_neg(m, m);
  fmpz_ui_pow_ui(p, 10, static_cast<ulong>(std::labs(d.exponent10)));
  if (d.exponent10 >= 0) {
    fmpz_mul(m, m, p);
    arb_set_fmpz(r.arb(), m);  // an exact integer
  } else {
    arb_set_fmpz(r.arb(), m);
    arb_div_fmpz(r.arb(), r.arb(), p, prec);
  }
  return r;
}

}  // namespace attncert
