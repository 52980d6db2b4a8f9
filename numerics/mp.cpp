#include "numerics/mp.hpp"

#include <cmath>
#include <stdexcept>

#include "numerics/precision.hpp"

namespace attncert {
namespace {
std::recursive_mutex& mp_precision_mutex() {
  static std::recursive_mutex m;
  return m;
}

// Boost counts precision in decimal digits; choose the smallest digits10 whose bit count
// (Boost's digits10_2_2) is >= bits.
unsigned digits10_for_bits(long bits) {
  unsigned d = static_cast<unsigned>(std::floor(static_cast<double>(bits) * 0.30102999566398120));
  if (d < 1) d = 1;
  while (static_cast<long>(boost::multiprecision::detail::digits10_2_2(d)) < bits) ++d;
  return d;
}
}  // namespace

MpPrecision::MpPrecision(long bits)
    : lock_(mp_precision_mutex()), saved_digits10_(Mp::default_precision()) {
  try {
    require_precision(bits, "MpPrecision");
  } catch (...) {
    lock_.unlock();
    throw;
  }
  Mp::default_precision(digits10_for_bits(bits));
}

MpPrecision::~MpPrecision() { Mp::default_precision(saved_digits10_); }

long MpPrecision::current_bits() {
  return static_cast<long>(boost::multiprecision::detail::digits10_2_2(Mp::default_precision()));
}

Mp mp_from_double(double value, long bits) {
  require_precision(bits, "mp_from_double");
  if (std::isnan(value)) throw std::domain_error("mp_from_double: NaN is not a real number");
  Mp r;
  mpfr_set_prec(r.backend().data(), static_cast<mpfr_prec_t>(bits));
  mpfr_set_d(r.backend().data(), value, MPFR_RNDN);
  return r;
}

long mp_bits(const Mp& x) { return static_cast<long>(mpfr_get_prec(x.backend().data())); }

double mp_to_double(const Mp& x) { return mpfr_get_d(x.backend().data(), MPFR_RNDN); }

}  // namespace attncert
