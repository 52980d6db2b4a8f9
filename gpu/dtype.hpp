// Element types the kernels read (fp32, fp16, bf16) and exact software emulation of their
// rounding. The same integer bit manipulation runs on host and device, so a twin and its kernel
// round identically (IEEE round-to-nearest-even, subnormals kept, overflow to infinity).
#pragma once

#include <cstdint>
#include <cstring>
#include <optional>
#include <string_view>

#include "gpu/host_device.hpp"
#include "gpu/rounded_arithmetic.hpp"

namespace attncert::gpu {

enum class DType : std::uint8_t { f32, f16, bf16 };

constexpr std::string_view dtype_name(DType t) {
  switch (t) {
    case DType::f32: return "fp32";
    case DType::f16: return "fp16";
    case DType::bf16: return "bf16";
  }
  return "?";
}

/// One of the three enumerators (a cast from an out-of-range integer is not).
constexpr bool dtype_is_valid(DType t) {
  return t == DType::f32 || t == DType::f16 || t == DType::bf16;
}

/// Accepts fp32/f32/float32, fp16/f16/float16/half, bf16/bfloat16.
std::optional<DType> parse_dtype(std::string_view text);

/// Bytes per stored element.
constexpr int dtype_size(DType t) { return t == DType::f32 ? 4 : 2; }

/// Unit roundoff u = 2^-p of the stored format (p = significand bits incl. the hidden one).
constexpr double dtype_unit_roundoff(DType t) {
  return t == DType::f32 ? 0x1p-24 : t == DType::f16 ? 0x1p-11 : 0x1p-8;
}

/// Smallest positive normal number of the format (fp16 2⁻¹⁴, bf16 and fp32 2⁻¹²⁶).
constexpr double dtype_smallest_normal(DType t) { return t == DType::f16 ? 0x1p-14 : 0x1p-126; }

/// Half the smallest subnormal (fp16 2⁻²⁵, bf16 2⁻¹³⁴, fp32 2⁻¹⁵⁰): the absolute error bound of
/// rounding to nearest in the subnormal range.
constexpr double dtype_half_smallest_subnormal(DType t) {
  return t == DType::f32 ? 0x1p-150 : t == DType::f16 ? 0x1p-25 : 0x1p-134;
}

/// Magnitude from which round-to-nearest gives ±inf in the format: max finite + half an ulp
/// (fp16 65520, bf16 (2 − 2⁻⁸)·2¹²⁷, fp32 (2 − 2⁻²⁴)·2¹²⁷). Inputs at or above it overflow.
constexpr double dtype_overflow_threshold(DType t) {
  // bf16: 0x1.fep127 is its largest finite value (bits 0x7f7f), half an ulp above is 0x1.ffp127.
  return t == DType::f16 ? 65520.0 : t == DType::bf16 ? 0x1.ffp127 : 0x1.ffffffp127;
}

/// Largest finite value of the format (fp16 65504, bf16 (2 − 2⁻⁷)·2¹²⁷, fp32 (2 − 2⁻²³)·2¹²⁷).
constexpr double dtype_max_finite(DType t) {
  return t == DType::f16 ? 65504.0 : t == DType::bf16 ? 0x1.fep127 : 0x1.fffffep127;
}

/// Smallest positive subnormal of the format (fp16 2⁻²⁴, bf16 2⁻¹³³, fp32 2⁻¹⁴⁹).
constexpr double dtype_smallest_subnormal(DType t) {
  return t == DType::f16 ? 0x1p-24 : t == DType::bf16 ? 0x1p-133 : 0x1p-149;
}

ATTNCERT_HOST_DEVICE std::uint32_t float_bits(float x) {
#if defined(__CUDA_ARCH__)
  return __float_as_uint(x);
#else
  std::uint32_t b;
  std::memcpy(&b, &x, sizeof b);
  return b;
#endif
}

ATTNCERT_HOST_DEVICE float bits_float(std::uint32_t b) {
#if defined(__CUDA_ARCH__)
  return __uint_as_float(b);
#else
  float x;
  std::memcpy(&x, &b, sizeof x);
  return x;
#endif
}

/// float → bfloat16 bits, round to nearest even; NaN stays a (quiet) NaN.
ATTNCERT_HOST_DEVICE std::uint16_t float_to_bf16_bits(float x) {
  const std::uint32_t b = float_bits(x);
  if ((b & 0x7fffffffu) > 0x7f800000u) return static_cast<std::uint16_t>((b >> 16) | 0x0040u);
  const std::uint32_t rounding = 0x7fffu + ((b >> 16) & 1u);
  return static_cast<std::uint16_t>((b + rounding) >> 16);
}

ATTNCERT_HOST_DEVICE float bf16_bits_to_float(std::uint16_t h) {
  return bits_float(static_cast<std::uint32_t>(h) << 16);
}

/// float → IEEE binary16 bits, round to nearest even, with subnormals and overflow to ±inf.
ATTNCERT_HOST_DEVICE std::uint16_t float_to_f16_bits(float x) {
  const std::uint32_t b = float_bits(x);
  const std::uint32_t sign = (b >> 16) & 0x8000u;
  const std::uint32_t abs = b & 0x7fffffffu;
  if (abs > 0x7f800000u) return static_cast<std::uint16_t>(sign | 0x7e00u);  // NaN
  if (abs >= 0x477ff000u) return static_cast<std::uint16_t>(sign | 0x7c00u);  // ≥ 65520 → inf
  if (abs >= 0x38800000u) {  // normal half: exponent ≥ -14
    const std::uint32_t mant_rounded =
        abs + 0xfffu + ((abs >> 13) & 1u);  // round the 13 dropped bits to nearest even
    return static_cast<std::uint16_t>(sign | ((mant_rounded - 0x38000000u) >> 13));
  }
  if (abs < 0x33000000u) return static_cast<std::uint16_t>(sign);  // < 2^-25 → ±0
  // Subnormal half: value = m · 2^-24 with m = round(|x| · 2^24).
  const std::uint32_t exp = abs >> 23;                 // biased float exponent, 102..112
  const std::uint32_t mant = (abs & 0x7fffffu) | 0x800000u;
  const std::uint32_t shift = 126u - exp;              // 14..24: bits dropped from mant
  const std::uint32_t half = 1u << (shift - 1);
  const std::uint32_t kept = mant >> shift;
  const std::uint32_t rest = mant & ((1u << shift) - 1u);
  const std::uint32_t rounded = kept + ((rest > half || (rest == half && (kept & 1u))) ? 1u : 0u);
  return static_cast<std::uint16_t>(sign | rounded);
}

ATTNCERT_HOST_DEVICE float f16_bits_to_float(std::uint16_t h) {
  const std::uint32_t sign = static_cast<std::uint32_t>(h & 0x8000u) << 16;
  const std::uint32_t exp = (h >> 10) & 0x1fu;
  const std::uint32_t mant = h & 0x3ffu;
  if (exp == 0x1fu) return bits_float(sign | 0x7f800000u | (mant << 13));
  if (exp != 0) return bits_float(sign | ((exp + 112u) << 23) | (mant << 13));
  // Subnormal (or zero): mant · 2^-24, exact in float.
  const float magnitude = rn_mul(static_cast<float>(mant), 0x1p-24f);
  return sign ? ieee_negate(magnitude) : magnitude;
}

/// Rounds x to the storage format and back: the value a kernel reading `t` actually sees.
ATTNCERT_HOST_DEVICE float round_through(DType t, float x) {
  switch (t) {
    case DType::f16: return f16_bits_to_float(float_to_f16_bits(x));
    case DType::bf16: return bf16_bits_to_float(float_to_bf16_bits(x));
    default: return x;
  }
}

/// Whether making the finite x a kernel input of dtype t (double → float → t, as every caller
/// narrows) overflows to ±inf. Such an input must be refused or reported by whoever narrows it,
/// never passed on silently (issue 18, docs/nan_semantics.md). NaN and ±inf are not overflows.
inline bool narrowing_overflows(DType t, double x) {
  if (!(x - x == 0.0)) return false;  // NaN or ±inf already (no <cmath> in this header)
  const float r = round_through(t, static_cast<float>(x));
  return !(r - r == 0.0f);
}

/// Reads element i of a buffer stored as `t` (fp32 floats or 16-bit patterns) as a float.
ATTNCERT_HOST_DEVICE float load_element(DType t, const void* data, long long i) {
  switch (t) {
    case DType::f16: return f16_bits_to_float(static_cast<const std::uint16_t*>(data)[i]);
    case DType::bf16: return bf16_bits_to_float(static_cast<const std::uint16_t*>(data)[i]);
    default: return static_cast<const float*>(data)[i];
  }
}

}  // namespace attncert::gpu
