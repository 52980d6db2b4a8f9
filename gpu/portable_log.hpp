// log for the kernels and their twins: the companion of portable_expf (explicit rounded operations,
// no libm, no __logf), so host and device return the same bits. Used for the row log-sum-exp.
#pragma once

#include "gpu/dtype.hpp"
#include "gpu/host_device.hpp"
#include "gpu/rounded_arithmetic.hpp"

namespace attncert::gpu {

/// For finite x > 0 the result r satisfies |r − ln x| ≤ 2⁻²⁴·|ln x| + kPortableLogAbsError.
/// Derivation: x = 2ᵉ·f with f ∈ [√½, √2] exactly; s = (f−1)/(f+1) with f−1 exact (Sterbenz),
/// so s carries ≤ 2 roundings; ln f = 2·atanh(s) = 2s·(1 + z/3 + … + z⁵/11), z = s² ≤ 0.0295,
/// truncation < 5e-11 relative; Horner in fmaf adds ≈ 1.1 ulp, the product 1 ulp: ln f is within
/// ≈ 4.2·2⁻²⁴ relative, i.e. ≤ 1.5·2⁻²⁴ absolute (|ln f| ≤ 0.347). e·ln2_hi is exact
/// (ln2_hi has 9 trailing zero bits, |e| ≤ 149), fmaf(e, ln2_lo, ·) adds ≤ 0.35·2⁻²⁴ and the
/// final sum one rounding of the result: ≤ 2⁻²⁴·|ln x| + 1.9·2⁻²⁴; stated with margin as 4·2⁻²⁴
/// and tested (tests/gpu/flash_attention_twin_test) against double log.
inline constexpr float kPortableLogAbsError = 4.0f * 0x1p-24f;
inline constexpr float kPortableLogRelativeError = 0x1p-24f;

ATTNCERT_HOST_DEVICE float portable_logf(float x) {
  if (ieee_is_nan(x)) return x;
  if (ieee_less(x, 0.0f)) return bits_float(0x7fc00000u);   // NaN
  if (ieee_equal(x, 0.0f)) return bits_float(0xff800000u);  // −inf
  if (ieee_equal(x, bits_float(0x7f800000u))) return x;     // +inf
  int exponent_shift = 0;
  if (ieee_less(x, 0x1p-126f)) {  // subnormal: scale into the normal range (exact)
    x = rn_mul(x, 0x1p23f);
    exponent_shift = -23;
  }
  const std::uint32_t b = float_bits(x);
  int e = static_cast<int>((b >> 23) & 0xffu) - 127 + exponent_shift;
  float f = bits_float((b & 0x7fffffu) | 0x3f800000u);  // [1, 2)
  if (ieee_greater(f, 1.41421356f)) {
    f = rn_mul(f, 0.5f);  // exact; f ∈ (√½, 1)
    e += 1;
  }
  const float s = rn_div(rn_sub(f, 1.0f), rn_add(f, 1.0f));
  const float z = rn_mul(s, s);
  float p = 9.09090936e-2f;                 // 1/11
  p = rn_fma(p, z, 1.11111112e-1f);         // 1/9
  p = rn_fma(p, z, 1.42857149e-1f);         // 1/7
  p = rn_fma(p, z, 2.00000003e-1f);         // 1/5
  p = rn_fma(p, z, 3.33333343e-1f);         // 1/3
  p = rn_fma(p, z, 1.0f);
  const float log_f = rn_mul(rn_mul(2.0f, s), p);
  const float ef = static_cast<float>(e);
  return rn_add(rn_mul(ef, 0.693145752f), rn_fma(ef, 1.42860682e-6f, log_f));
}

}  // namespace attncert::gpu
