// bounded_exp: y = exp(x − shift) in double with a proven relative error bound.
//
// Notation: u = 2⁻⁵³ (unit roundoff, round to nearest), a = x − shift the exact argument,
// fl(·) a double operation. Every step below holds whether or not the compiler contracts
// a·b + c into one fma (GCC does in the AVX2/AVX-512 clones): each bound is taken for the
// unfused form, which has one rounding more than the fused one and so bounds it too.
//
// Algorithm, for U = kBoundedExpUnderflow = −708 ≤ a ≤ O = kBoundedExpOverflow = 709.782:
//  1. t = fl(x − shift), e = the exact rounding error (Knuth's TwoSum: additions only,
//     exact in round to nearest without overflow), so t + e = a exactly; |e| ≤ u|t| ≤ 710u.
//  2. n = the integer nearest fl(t·L) with L = fl(log₂e), by adding and subtracting
//     1.5·2⁵² (exact for |t·L| < 2⁵¹, which holds on [U, O]; other lanes are replaced in 5). |t·L − t·log₂e| ≤
//     2u·|t|·log₂e ≤ 2050u, so |n − t·log₂e| ≤ 1/2 + 2050u and |t − n·ln2| ≤ ln2/2 + 1.6e-13.
//     n ∈ [−1021, 1024].
//  3. Cody–Waite: ln2 = L1 + L2 + λ with L1 = 0x1.62e42feep-1 (32 significant bits),
//     L2 = 0x1.a39ef35793c76p-33 and |λ| ≤ 1.2e-26. n·L1 has ≤ 43 bits: exact. a1 = t − n·L1
//     is exact (Sterbenz: for n ≠ 0, t and n·L1 have one sign and a ratio in [1/2, 2]; fused,
//     it is the rounding of an exact double). c = fl(fl(n·L2) − e): |c − (n·L2 − e)| ≤
//     u·(2·1025·L2·(1+u) + 710u). r = fl(a1 − c). Then r = (a − n·ln2) + η with
//     |η| ≤ u·|r| + 1025|λ| + |c error| ≤ 0.3466u + 1.4e-23 + 4.4e-23 ≤ 0.34661u,
//     and |r| ≤ ρ := 0.3466 (ln2/2 = 0.34657359… plus the slacks above).
//  4. p = Horner's evaluation of T(r) = Σ_{k≤13} ĉ_k r^k, ĉ_k = fl(1/k!) (exact for k ≤ 2,
//     relative error ≤ u otherwise). Relative to e^r (≥ e^−ρ):
//       truncation  |T₁₃ − e^r| ≤ e^ρ·ρ¹⁴/14!, and coefficients |T − T₁₃| ≤ u(e^ρ − 1 − ρ − ρ²/2):
//         together τ ≤ 0.0854u after dividing by e^−ρ;
//       Horner: with A_k = Σ_{i≥k} |ĉ_i| ρ^{i−k} and e_k a bound on the absolute error of the
//         k-th Horner value (e₁₃ = 0), one step h_k = fl(fl(h_{k+1}·r) + ĉ_k) gives
//         e_k ≤ ρe_{k+1} + uρ(A_{k+1} + e_{k+1}) + u(A_k + ρe_{k+1} + uρ(A_{k+1} + e_{k+1})),
//         so e₁ ≤ 1.6334u; the last step, taken relative to e^r with |T − 1| ≤ (e^ρ − 1 + τ)e^r,
//         adds ρe₁e^ρ + u(e^ρ − 1 + τ + ρe₁e^ρ) + u(1 + τ + …) ≤ 2.2149u.
//     So |p − e^r| ≤ ε_p·e^r with ε_p ≤ 2.3003u.
//  5. y = (p·2)·2^(n−1): 2^(n−1) is a normal double (n − 1 ∈ [−1022, 1023]) built from
//     exponent bits; p·2 and the product are exact because the result is normal: y ≥
//     e^U(1 − ε) > 2⁻¹⁰²² and y ≤ e^O(1 + ε) < 0.9993·DBL_MAX.
// Total: y = e^a·e^η·(1 + ε_p), so |y − e^a| ≤ (ε_p + (e^|η| − 1)(1 + ε_p))·e^a ≤ 2.647u·e^a.
// The numbers above were evaluated at 60 digits with every term rounded up; the constant
// kBoundedExpRelativeError = 4u = 2⁻⁵¹ keeps a margin of 1.5×.
//
// Outside [U, O]: a < U gives exactly 0 (the decision uses t and e, so it is the exact a's);
// a > O gives +inf (including every a whose e^a exceeds DBL_MAX, ln DBL_MAX = 709.7827…);
// x = −inf gives 0, x = +inf gives +inf, NaN gives NaN.
//
// Speed: the loop body is branch-free so that GCC vectorises it in each clone of
// cpu_dispatch.hpp (AVX-512, AVX2+FMA, baseline), the clone picked at load time.
#include "numerics/bounded_exp.hpp"

#include <fmt/format.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>

#include "numerics/cpu_dispatch.hpp"

namespace attncert {

namespace {

constexpr double kUnitRoundoff = 0x1p-53;
constexpr double kUnderflow = -708.0;
constexpr double kOverflow = 709.782;
constexpr double kLog2e = 0x1.71547652b82fep0;   // fl(log₂e)
constexpr double kLn2Hi = 0x1.62e42feep-1;       // 32 significant bits: n·kLn2Hi exact
constexpr double kLn2Lo = 0x1.a39ef35793c76p-33;  // fl(ln2 − kLn2Hi)
constexpr double kRoundShifter = 0x1.8p52;       // x + 1.5·2⁵² rounds x to an integer

// fl(1/k!) for k = 0..13.
constexpr double kInvFactorial[14] = {
    1.0,
    1.0,
    0.5,
    1.0 / 6,
    1.0 / 24,
    1.0 / 120,
    1.0 / 720,
    1.0 / 5040,
    1.0 / 40320,
    1.0 / 362880,
    1.0 / 3628800,
    1.0 / 39916800,
    1.0 / 479001600,
    1.0 / 6227020800,
};

inline double exp_lane(double x, double shift) {
  // 1. t + e = x − shift exactly.
  const double t = x - shift;
  const double shift_part = t - x;
  const double e = (x - (t - shift_part)) + (-shift - shift_part);
  // 2. n = round(t·log₂e). Lanes with t outside [U, O] (or NaN) compute garbage here and are
  // replaced below; nothing reads floating-point exception flags.
  const double shifted = t * kLog2e + kRoundShifter;
  const double n = shifted - kRoundShifter;
  // 3. r = (x − shift) − n·ln2, Cody–Waite.
  const double a1 = t - n * kLn2Hi;
  const double c = n * kLn2Lo - e;
  const double r = a1 - c;
  // 4. Taylor polynomial of degree 13 by Horner.
  double p = kInvFactorial[13];
  for (int k = 12; k >= 0; --k) p = p * r + kInvFactorial[k];
  // 5. 2^(n−1) from exponent bits: the low 12 bits of bits(shifted) + 1022 are n + 1022.
  const std::uint64_t scale_bits = (std::bit_cast<std::uint64_t>(shifted) + 1022) << 52;
  const double y = (p * 2.0) * std::bit_cast<double>(scale_bits);
  const bool below = (t < kUnderflow) | ((t == kUnderflow) & (e < 0));  // branch-free
  const double in_range = t > kOverflow ? std::numeric_limits<double>::infinity() : y;
  return below ? 0.0 : in_range;  // NaN t: both tests false, and y is NaN
}

ATTNCERT_CPU_CLONES void exp_loop(const double* x, double shift, double* y, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) y[i] = exp_lane(x[i], shift);
}

}  // namespace

const double kBoundedExpRelativeError = 4 * kUnitRoundoff;
const double kBoundedExpUnderflow = kUnderflow;
const double kBoundedExpOverflow = kOverflow;

void bounded_exp(const double* x, double shift, double* y, std::size_t n) {
  if (!std::isfinite(shift)) {
    throw std::domain_error(fmt::format("bounded_exp: shift = {} must be finite", shift));
  }
  exp_loop(x, shift, y, n);
}

}  // namespace attncert
