#include "numerics/tier_conversions.hpp"

#include <algorithm>
#include <stdexcept>

#include "numerics/arb_handles.hpp"

namespace attncert {

Ball to_ball(const Mp& x, long prec) {
  if (mpfr_nan_p(x.backend().data())) throw std::domain_error("to_ball: NaN is not a real number");
  Ball r(0.0, prec);
  arf_set_mpfr(arb_midref(r.arb()), x.backend().data());
  return r;
}

Mp midpoint_mp(const Ball& x) {
  const arf_struct* m = arb_midref(x.arb());
  const long bits = std::max<long>(2, static_cast<long>(arf_bits(m)));
  Mp r;
  mpfr_set_prec(r.backend().data(), static_cast<mpfr_prec_t>(bits));
  arf_get_mpfr(r.backend().data(), m, MPFR_RNDN);  // exact: enough bits
  return r;
}

bool contains(const Ball& b, const Mp& x) {
  if (mpfr_nan_p(x.backend().data())) return false;
  arb_handles::ArfHandle t;
  arf_set_mpfr(t, x.backend().data());
  return arb_contains_arf(b.arb(), t) != 0;
}

}  // namespace attncert
