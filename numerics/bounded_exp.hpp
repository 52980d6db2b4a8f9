// exp in double over arrays, vectorised for the CPU it runs on, with a proven error bound:
// the one exp of the double attention path and of the fast enclosure tier.
//
// For every finite x ≥ kBoundedExpUnderflow the result r satisfies
//     |r − eˣ| ≤ kBoundedExpRelativeError · eˣ,
// below it r = 0 (an absolute error < e^kBoundedExpUnderflow); x = −inf gives exactly 0 (a
// masked weight); eˣ beyond double's range gives +inf. The derivation of the constant is in
// bounded_exp.cpp; tests/numerics/bounded_exp_test.cpp measures the error against MPFR.
//
// Speed: one loop compiled for AVX-512, AVX2+FMA and the baseline (function multiversioning,
// chosen at run time), so the default portable build runs the wide version where it exists.
#pragma once

#include <cstddef>

namespace attncert {

/// The proven relative error bound (a small multiple of 2⁻⁵³; see bounded_exp.cpp).
extern const double kBoundedExpRelativeError;
/// Below this argument the result is 0 (chosen so that e^x there is a normal double).
extern const double kBoundedExpUnderflow;

/// y[i] = exp(x[i] − shift) for i < n (x and y may be the same array). shift must be finite.
void bounded_exp(const double* x, double shift, double* y, std::size_t n);

}  // namespace attncert
