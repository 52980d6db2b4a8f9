// The one comparison of kernel outputs (device against twin, twin against twin, repeated runs):
// equal by value. Two elements are equal iff both are NaN — any payload, any sign: CUDA writes
// 0x7fffffff for an invalid operation where x86 SSE writes 0xffc00000 or propagates an operand's
// payload, and IEEE 754 leaves payloads unspecified — or their bits are identical otherwise, so
// −0 ≠ +0 (the twin reproduces the kernel bit for bit, the sign of a zero included). Never
// memcmp: it calls equal NaNs different. docs/nan_semantics.md, "Comparing outputs".
// Host only (std::span, std::string); nvcc never sees it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <optional>
#include <span>
#include <string>

#include "gpu/dtype.hpp"

namespace attncert::gpu {

/// Whether the stored bits of one element of dtype t (fp32: 32 bits; fp16/bf16: the low 16)
/// encode a NaN: exponent all ones and a non-zero significand.
constexpr bool is_nan_bits(DType t, std::uint32_t bits) {
  switch (t) {
    case DType::f16: return (bits & 0x7fffu) > 0x7c00u;
    case DType::bf16: return (bits & 0x7fffu) > 0x7f80u;
    default: return (bits & 0x7fffffffu) > 0x7f800000u;
  }
}

/// Equal by value: both NaN, or the same bits.
constexpr bool same_output_bits(DType t, std::uint32_t a, std::uint32_t b) {
  return a == b || (is_nan_bits(t, a) && is_nan_bits(t, b));
}
inline bool same_output_value(float a, float b) {
  return same_output_bits(DType::f32, float_bits(a), float_bits(b));
}

/// Where two outputs first differ by value, for messages.
struct OutputDifference {
  DType dtype = DType::f32;
  bool sizes_differ = false;
  std::size_t first_size = 0, second_size = 0;
  std::size_t index = 0;                          // first differing element (not for sizes)
  std::uint32_t first_bits = 0, second_bits = 0;  // its stored bits on each side

  /// One line: "element 7: -0x0p+0 [0x80000000] vs 0x0p+0 [0x00000000] (fp32)".
  std::string message() const {
    char buf[160];
    if (sizes_differ) {
      std::snprintf(buf, sizeof buf, "sizes differ: %zu vs %zu elements", first_size,
                    second_size);
      return buf;
    }
    const auto value = [&](std::uint32_t b) {
      const float x = dtype == DType::f32  ? bits_float(b)
                      : dtype == DType::f16 ? f16_bits_to_float(static_cast<std::uint16_t>(b))
                                            : bf16_bits_to_float(static_cast<std::uint16_t>(b));
      return static_cast<double>(x);
    };
    const int digits = dtype == DType::f32 ? 8 : 4;
    std::snprintf(buf, sizeof buf, "element %zu: %a [0x%0*x] vs %a [0x%0*x] (%s)", index,
                  value(first_bits), digits, first_bits, value(second_bits), digits, second_bits,
                  dtype_name(dtype).data());
    return buf;
  }
};

namespace output_equality_detail {
inline std::uint32_t stored_bits(DType t, const unsigned char* element) {
  if (t == DType::f32) {
    std::uint32_t b;
    std::memcpy(&b, element, sizeof b);
    return b;
  }
  std::uint16_t h;
  std::memcpy(&h, element, sizeof h);
  return h;
}
}  // namespace output_equality_detail

/// The first element where two buffers stored as dtype t (fp32 floats or fp16/bf16 bit
/// patterns, as bytes) differ by value; empty when they are equal. Sizes in bytes must match.
inline std::optional<OutputDifference> first_output_difference(
    DType t, std::span<const unsigned char> a, std::span<const unsigned char> b) {
  const std::size_t width = static_cast<std::size_t>(dtype_size(t));
  OutputDifference d;
  d.dtype = t;
  if (a.size() != b.size() || a.size() % width != 0) {
    d.sizes_differ = true;
    d.first_size = a.size() / width, d.second_size = b.size() / width;
    return d;
  }
  for (std::size_t i = 0; i < a.size() / width; ++i) {
    const std::uint32_t x = output_equality_detail::stored_bits(t, a.data() + i * width);
    const std::uint32_t y = output_equality_detail::stored_bits(t, b.data() + i * width);
    if (!same_output_bits(t, x, y)) {
      d.index = i, d.first_bits = x, d.second_bits = y;
      return d;
    }
  }
  return std::nullopt;
}

/// fp32 outputs (the flash kernel's O and lse, the Jacobian norms, linear states, normalisers).
inline std::optional<OutputDifference> first_output_difference(std::span<const float> a,
                                                               std::span<const float> b) {
  const auto bytes = [](std::span<const float> x) {
    return std::span<const unsigned char>(reinterpret_cast<const unsigned char*>(x.data()),
                                          x.size_bytes());
  };
  return first_output_difference(DType::f32, bytes(a), bytes(b));
}

inline bool same_output_values(std::span<const float> a, std::span<const float> b) {
  return !first_output_difference(a, b);
}
inline bool same_output_values(DType t, std::span<const unsigned char> a,
                               std::span<const unsigned char> b) {
  return !first_output_difference(t, a, b);
}

/// "" when equal by value, else the first difference's message (for EXPECT_EQ(…, "")).
inline std::string output_difference_message(std::span<const float> a, std::span<const float> b) {
  const auto d = first_output_difference(a, b);
  return d ? d->message() : std::string();
}
inline std::string output_difference_message(DType t, std::span<const unsigned char> a,
                                             std::span<const unsigned char> b) {
  const auto d = first_output_difference(t, a, b);
  return d ? d->message() : std::string();
}

}  // namespace attncert::gpu
