// exp in double over arrays, vectorised for the CPU it runs on, with a proven error bound:
// the one exp of the double attention path and of the fast enclosure tier.
//
// For the exact argument a = x[i] − shift (the subtraction is not rounded first), every
// a in [kBoundedExpUnderflow, kBoundedExpOverflow] gives a normal double r with
//     |r − eᵃ| ≤ kBoundedExpRelativeError · eᵃ,
// below it r = 0 (an absolute error < e^kBoundedExpUnderflow); x = −inf gives exactly 0 (a
// masked weight); above kBoundedExpOverflow (which includes every a whose eᵃ exceeds
// double's range) r = +inf; NaN gives NaN. The derivation of the constant is in
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
/// Above this argument the result is +inf (e^x there is within 0.1% of DBL_MAX).
extern const double kBoundedExpOverflow;

/// y[i] = exp(x[i] − shift) for i < n (x and y may be the same array). shift must be finite
/// (std::domain_error otherwise).
void bounded_exp(const double* x, double shift, double* y, std::size_t n);

}  // namespace attncert
