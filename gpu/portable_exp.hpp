// exp for the kernels and their twins: Cody–Waite reduction and a degree-7 polynomial written
// with explicit rounded operations (gpu/rounded_arithmetic.hpp), so host and device produce the
// same bits under any flags (no libm, no __expf, whose results differ between the two). Error
// bound: see kPortableExpRelativeError.
#pragma once

#include <cmath>

#include "gpu/dtype.hpp"
#include "gpu/host_device.hpp"
#include "gpu/rounded_arithmetic.hpp"

namespace attncert::gpu {

/// For x ≥ kPortableExpUnderflow the result r satisfies |r − eˣ| ≤ kPortableExpRelativeError·eˣ.
/// Below it the result is 0, an absolute error < 2⁻¹²⁶. Derivation: reduction error ≤ 2⁻²⁴
/// relative on r (ln2 split hi/lo), Taylor remainder of degree 7 on |r| ≤ ln2/2 is < 6e-9, Horner
/// in fma adds ≤ 1 ulp, the final product by 2ⁿ is exact: ≤ 3·2⁻²⁴ in total, tested
/// (tests/gpu/low_precision_test.cpp) over 2²² samples to stay ≤ 2 ulp; we state 4·2⁻²⁴ for margin.
inline constexpr float kPortableExpRelativeError = 4.0f * 0x1p-24f;
inline constexpr float kPortableExpUnderflow = -87.33654f;  // ≈ ln(2⁻¹²⁶)
inline constexpr float kPortableExpOverflow = 88.72283f;    // ≈ ln(FLT_MAX)

ATTNCERT_HOST_DEVICE float portable_expf(float x) {
  if (ieee_is_nan(x)) return x;
  if (ieee_greater(x, kPortableExpOverflow)) return bits_float(0x7f800000u);
  if (ieee_less(x, kPortableExpUnderflow)) return 0.0f;
  // n = rint(x / ln 2) by the 1.5·2²³ shifter (exact under round-to-nearest on both sides).
  constexpr float kShifter = 12582912.0f;
  const float shifted = rn_fma(x, 1.44269502f, kShifter);
  const float n = rn_sub(shifted, kShifter);
  // r = x − n·ln2 with ln2 = hi + lo, hi having 9 trailing zero bits so n·hi is exact.
  float r = rn_fma(n, -0.693145752f, x);
  r = rn_fma(n, -1.42860682e-6f, r);
  // e^r on |r| ≤ 0.3466 by Taylor degree 7 (remainder r⁸/8! < 6e-9 relative).
  float p = 1.98412698e-4f;                      // 1/5040
  p = rn_fma(p, r, 1.38888889e-3f);              // 1/720
  p = rn_fma(p, r, 8.33333333e-3f);              // 1/120
  p = rn_fma(p, r, 4.16666667e-2f);              // 1/24
  p = rn_fma(p, r, 1.66666667e-1f);              // 1/6
  p = rn_fma(p, r, 0.5f);
  p = rn_fma(p, r, 1.0f);
  p = rn_fma(p, r, 1.0f);
  // Scale by 2ⁿ exactly; n ∈ [−126, 128], split the top case to stay in range.
  const int ni = static_cast<int>(n);
  if (ni > 127) return rn_mul(rn_mul(p, 2.0f), bits_float(static_cast<unsigned>(127 + 127) << 23));
  return rn_mul(p, bits_float(static_cast<unsigned>(ni + 127) << 23));
}

}  // namespace attncert::gpu
