// Mp: the reference tier. MPFR numbers through Boost.Multiprecision with expression templates
// off. Round-to-nearest, not rigorous: Mp results are references and candidate points, never
// verdicts.
//
// Precision. Boost 1.74 (Debian 12) gives every temporary of an arithmetic expression the
// *process-wide* default precision of mpfr_float_backend<0>, not the precision of the
// operands (per-object precision propagation only arrived in Boost 1.75+). A precision that
// is "set per object" therefore silently drops to the default inside a + b. MpPrecision is
// the one door to that default: it sets it for its lifetime and holds a process-wide
// recursive mutex so that two threads never compute with each other's precision. Every Mp
// API in attncert takes `bits` and opens an MpPrecision itself.
#pragma once

#include <boost/multiprecision/mpfr.hpp>

#include <mutex>

namespace attncert {

using Mp = boost::multiprecision::number<boost::multiprecision::mpfr_float_backend<0>,
                                         boost::multiprecision::et_off>;

class MpPrecision {
 public:
  /// Sets the Mp default precision to at least `bits` (validated) until destruction.
  explicit MpPrecision(long bits);
  ~MpPrecision();
  MpPrecision(const MpPrecision&) = delete;
  MpPrecision& operator=(const MpPrecision&) = delete;

  /// Precision in bits that new Mp temporaries get right now.
  static long current_bits();

 private:
  std::unique_lock<std::recursive_mutex> lock_;
  unsigned saved_digits10_;
};

/// An Mp holding exactly `value` with exactly `bits` bits of precision (>= 53 keeps it exact).
Mp mp_from_double(double value, long bits);
/// The precision of one Mp object, in bits.
long mp_bits(const Mp& x);
/// Rounds x to the nearest double.
double mp_to_double(const Mp& x);

}  // namespace attncert
