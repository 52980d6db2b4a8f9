// Explicitly rounded float arithmetic for the code a CUDA kernel and its CPU twin share: + − × ÷
// √ and fused multiply-add, each one IEEE binary32 operation rounded to nearest even, with
// subnormals kept, and the comparisons and negation, which must not flush subnormals either —
// whatever flags the including translation unit is compiled with. Bit
// equality of device and twin rests on this header, not on build flags (docs/bit_exactness.md).
//
// Device: inline PTX (add.rn.f32 …), not __fadd_rn & co: under --use_fast_math (which implies
// -ftz=true) nvcc 13 turns those intrinsics into add.rn.ftz.f32 …, which flush subnormal inputs
// and results (checked with nvcc -ptx; tests/gpu/ptx_rounding_check.cmake keeps checking it).
// No nvcc flag rewrites an instruction written in asm.
// Host: plain IEEE operations. GCC/Clang contract a·b + c into one fma under
// -ffp-contract=fast (their default outside ISO mode, and what -march=native makes profitable),
// so each product passes through an empty asm that the optimiser cannot see through: it can no
// longer fuse the product into a following add. Compilers without GNU asm get no barrier; the
// installed target then relies on its INTERFACE -ffp-contract=off and check-kernel's start-up
// self-test (gpu/twin_self_test.hpp). Fast-math changes more than contraction (reassociation,
// finite-only, reciprocals) and is refused outright.
#pragma once

#include <cmath>

#include "gpu/host_device.hpp"

#if !defined(__CUDA_ARCH__) && \
    (defined(__FAST_MATH__) || (defined(__FINITE_MATH_ONLY__) && __FINITE_MATH_ONLY__))
#error \
    "attncert gpu/rounded_arithmetic.hpp: the kernel twins need IEEE float arithmetic; compile without -ffast-math / -ffinite-math-only (docs/bit_exactness.md)"
#endif
// GCC says through __GCC_IEC_559 whether it keeps IEEE 754 semantics: 0 under any of the
// -ffast-math family's parts (-fno-signed-zeros, -fno-trapping-math with -fassociative-math, …)
// that the two macros above do not reveal.
#if !defined(__CUDA_ARCH__) && defined(__GCC_IEC_559) && __GCC_IEC_559 == 0
#error \
    "attncert gpu/rounded_arithmetic.hpp: the kernel twins need IEEE float arithmetic, and this compiler says it does not keep it (__GCC_IEC_559 == 0: a -ffast-math component such as -fassociative-math or -fno-signed-zeros); compile without it (docs/bit_exactness.md)"
#endif
// x87 arithmetic (-m32 -mfpmath=387) keeps floats in 80-bit registers: every operation would
// be rounded twice, not once to binary32 as on the device.
#if !defined(__CUDA_ARCH__) && defined(__FLT_EVAL_METHOD__) && __FLT_EVAL_METHOD__ != 0
#error \
    "attncert gpu/rounded_arithmetic.hpp: the kernel twins need float operations rounded to binary32 (FLT_EVAL_METHOD == 0); this target evaluates floats in wider precision (x87: use -mfpmath=sse) (docs/bit_exactness.md)"
#endif

// ATTNCERT_TEST_ONLY_PLAIN_DEVICE_ARITHMETIC: plain operators on the device too — the negative
// control of tests/gpu/ptx_rounding_check.cmake (the check must then fail), never for real builds.
#if defined(__CUDA_ARCH__) && !defined(ATTNCERT_TEST_ONLY_PLAIN_DEVICE_ARITHMETIC)
#define ATTNCERT_ROUNDED_PTX 1
#else
#define ATTNCERT_ROUNDED_PTX 0
#endif

namespace attncert::gpu {

/// Makes x opaque to the optimiser (no fusion of the product that produced it with a later
/// add). ATTNCERT_TEST_ONLY_NO_CONTRACTION_BARRIER removes it: the negative control of
/// tests/gpu (a hostile-flag build must then differ), never for real builds.
ATTNCERT_HOST_DEVICE void contraction_barrier([[maybe_unused]] float& x) {
#if defined(__CUDA_ARCH__) || defined(ATTNCERT_TEST_ONLY_NO_CONTRACTION_BARRIER)
#elif defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
  __asm__("" : "+x"(x));  // x stays in an SSE register: no store/reload
#elif defined(__GNUC__) && defined(__aarch64__)
  __asm__("" : "+w"(x));
#elif defined(__GNUC__)
  __asm__("" : "+m"(x));
#endif
}

ATTNCERT_HOST_DEVICE float rn_add(float a, float b) {
#if ATTNCERT_ROUNDED_PTX
  float r;
  asm("add.rn.f32 %0, %1, %2;" : "=f"(r) : "f"(a), "f"(b));
  return r;
#else
  return a + b;
#endif
}

ATTNCERT_HOST_DEVICE float rn_sub(float a, float b) {
#if ATTNCERT_ROUNDED_PTX
  float r;
  asm("sub.rn.f32 %0, %1, %2;" : "=f"(r) : "f"(a), "f"(b));
  return r;
#else
  return a - b;
#endif
}

ATTNCERT_HOST_DEVICE float rn_mul(float a, float b) {
#if ATTNCERT_ROUNDED_PTX
  float r;
  asm("mul.rn.f32 %0, %1, %2;" : "=f"(r) : "f"(a), "f"(b));
  return r;
#else
  float r = a * b;
  contraction_barrier(r);
  return r;
#endif
}

ATTNCERT_HOST_DEVICE float rn_div(float a, float b) {
#if ATTNCERT_ROUNDED_PTX
  float r;
  asm("div.rn.f32 %0, %1, %2;" : "=f"(r) : "f"(a), "f"(b));
  return r;
#else
  return a / b;
#endif
}

ATTNCERT_HOST_DEVICE float rn_sqrt(float a) {
#if ATTNCERT_ROUNDED_PTX
  float r;
  asm("sqrt.rn.f32 %0, %1;" : "=f"(r) : "f"(a));
  return r;
#else
  return std::sqrt(a);
#endif
}

/// a·b + c with one rounding (a fused step the algorithm means, never a contraction).
ATTNCERT_HOST_DEVICE float rn_fma(float a, float b, float c) {
#if ATTNCERT_ROUNDED_PTX
  float r;
  asm("fma.rn.f32 %0, %1, %2, %3;" : "=f"(r) : "f"(a), "f"(b), "f"(c));
  return r;
#else
  return std::fma(a, b, c);
#endif
}

// Comparisons and negation. No flag changes them on the host, but nvcc -ftz=true (implied by
// --use_fast_math) emits setp.*.ftz / neg.ftz / max.ftz, which read a subnormal operand as ±0:
// 2⁻¹⁴⁰ > 0 would be false. On the device they are explicit PTX as well (setp.lt.f32 …).
#if ATTNCERT_ROUNDED_PTX
#define ATTNCERT_PTX_FLOAT_COMPARE(test)                                     \
  unsigned r;                                                                \
  asm("{ .reg .pred p; setp." test ".f32 p, %1, %2; selp.u32 %0, 1, 0, p; }" \
      : "=r"(r)                                                              \
      : "f"(a), "f"(b));                                                     \
  return r != 0;
#endif

ATTNCERT_HOST_DEVICE bool ieee_less(float a, float b) {
#if ATTNCERT_ROUNDED_PTX
  ATTNCERT_PTX_FLOAT_COMPARE("lt")
#else
  return a < b;
#endif
}

ATTNCERT_HOST_DEVICE bool ieee_less_equal(float a, float b) {
#if ATTNCERT_ROUNDED_PTX
  ATTNCERT_PTX_FLOAT_COMPARE("le")
#else
  return a <= b;
#endif
}

ATTNCERT_HOST_DEVICE bool ieee_greater(float a, float b) { return ieee_less(b, a); }
ATTNCERT_HOST_DEVICE bool ieee_greater_equal(float a, float b) { return ieee_less_equal(b, a); }

ATTNCERT_HOST_DEVICE bool ieee_equal(float a, float b) {
#if ATTNCERT_ROUNDED_PTX
  ATTNCERT_PTX_FLOAT_COMPARE("eq")
#else
  return a == b;
#endif
}

ATTNCERT_HOST_DEVICE bool ieee_is_nan(float a) {
#if ATTNCERT_ROUNDED_PTX
  const float b = a;
  ATTNCERT_PTX_FLOAT_COMPARE("nan")
#else
  return a != a;
#endif
}

#if ATTNCERT_ROUNDED_PTX
#undef ATTNCERT_PTX_FLOAT_COMPARE
#endif

ATTNCERT_HOST_DEVICE float ieee_negate(float a) {
#if ATTNCERT_ROUNDED_PTX
  float r;
  asm("neg.f32 %0, %1;" : "=f"(r) : "f"(a));
  return r;
#else
  return -a;
#endif
}

}  // namespace attncert::gpu
