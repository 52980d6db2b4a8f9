#include "gpu/twin_self_test.hpp"

#include <cfenv>
#include <stdexcept>
#include <string>
#include <vector>

#include "gpu/dtype.hpp"
#include "gpu/flash_attention.hpp"
#include "gpu/jacobian_norm.hpp"
#include "gpu/linear_attention.hpp"
#include "numerics/rng.hpp"

namespace attncert::gpu {
namespace {

/// FNV-1a, 64 bit, over the bit patterns; NaNs canonicalised here (a local rule until the
/// shared value comparison, gpu/output_equality.hpp, exists: then this should call it).
struct Digest {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  void add(float x) {
    const auto canonical = [](float v) { return v != v ? 0x7fc00000u : float_bits(v); };
    std::uint32_t b = canonical(x);
    for (int i = 0; i < 4; ++i, b >>= 8) {
      h ^= b & 0xffu;
      h *= 0x100000001b3ULL;
    }
  }
  void add(const std::vector<float>& xs) {
    for (float x : xs) add(x);
  }
};

/// Inputs in [−2, 2) on a 2⁻²² grid, made from integers only (no float operation a flag could
/// change), the same on every platform.
std::vector<float> fixed_inputs(std::uint64_t seed, std::size_t n) {
  SplitMix64 g(seed);
  std::vector<float> v(n);
  for (float& x : v)
    x = static_cast<float>(static_cast<std::int64_t>(g.next() >> 40) - (1LL << 23)) * 0x1p-22f;
  return v;
}

std::vector<std::uint16_t> as_bf16(const std::vector<float>& v) {
  std::vector<std::uint16_t> b(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) b[i] = float_to_bf16_bits(v[i]);
  return b;
}

void require(const KernelStatus& s) {
  if (!s.ok()) throw std::logic_error("twin self-test: a fixed case was refused: " + s.message);
}

std::uint64_t flash_digest() {
  Digest d;
  constexpr int kHeads = 2, kLen = 80, kDim = 40;  // two key tiles, a partial one
  const std::size_t n = static_cast<std::size_t>(kHeads) * kLen * kDim;
  const std::vector<float> q = fixed_inputs(1, n), k = fixed_inputs(2, n), v = fixed_inputs(3, n);
  const std::vector<std::uint16_t> qb = as_bf16(q), kb = as_bf16(k), vb = as_bf16(v);
  for (const DType t : {DType::f32, DType::bf16}) {
    for (const bool causal : {false, true}) {
      std::vector<float> out(n), lse(static_cast<std::size_t>(kHeads) * kLen);
      FlashAttentionArgs a;
      const bool f32 = t == DType::f32;
      a.q = f32 ? static_cast<const void*>(q.data()) : qb.data();
      a.k = f32 ? static_cast<const void*>(k.data()) : kb.data();
      a.v = f32 ? static_cast<const void*>(v.data()) : vb.data();
      a.q_dtype = a.k_dtype = a.v_dtype = t;
      a.out = out.data();
      a.log_sum_exp = lse.data();
      a.batch_heads = kHeads;
      a.seqlen_q = a.seqlen_k = kLen;
      a.head_dim = kDim;
      a.scale = default_attention_scale(kDim);
      a.causal = causal;
      require(flash_attention_twin(a));
      d.add(out);
      d.add(lse);
    }
  }
  return d.h;
}

std::uint64_t linear_digest() {
  Digest d;
  constexpr int kLen = 80, kDim = 8;  // two chunks
  const std::size_t n = static_cast<std::size_t>(kLen) * kDim;
  const std::vector<float> q = fixed_inputs(4, n), k = fixed_inputs(5, n), v = fixed_inputs(6, n);
  for (const LinearFeature f : {LinearFeature::identity, LinearFeature::relu,
                                LinearFeature::elu_plus_one, LinearFeature::taylor2}) {
    for (const bool causal : {false, true}) {
      std::vector<float> out(n), normaliser(kLen);
      std::vector<float> state(static_cast<std::size_t>(linear_state_elements(f, kDim)));
      LinearAttentionArgs a;
      a.seqlen = kLen;
      a.head_dim = kDim;
      a.feature = f;
      a.causal = causal;
      a.scale = 0.375f;
      a.q = q.data();
      a.k = k.data();
      a.v = v.data();
      a.out = out.data();
      a.final_state = state.data();
      a.normaliser = normaliser.data();
      require(linear_attention_twin(a));
      d.add(out);
      d.add(state);
      d.add(normaliser);
    }
  }
  return d.h;
}

std::uint64_t jacobian_digest() {
  Digest d;
  // Short rows (few weights, the secular solver's Newton steps matter) and long ones; logits
  // ×4 (exact) spread the weights. A contracted build changes ~5 % of the short rows' bits.
  struct Shape {
    long long rows, length;
    std::uint64_t seed;
  };
  for (const Shape shape : {Shape{64, 5, 7}, Shape{32, 33, 8}, Shape{6, 200, 9}}) {
    std::vector<float> logits =
        fixed_inputs(shape.seed, static_cast<std::size_t>(shape.rows * shape.length));
    for (float& x : logits) x = x * 4.0f;
    const float temperatures[] = {0.5f, 1.0f, 3.0f};
    std::vector<float> out(static_cast<std::size_t>(shape.rows) * 3);
    JacobianNormArgs a;
    a.logits = logits.data();
    a.rows = shape.rows;
    a.length = shape.length;
    a.temperatures = temperatures;
    a.num_temperatures = 3;
    a.out = out.data();
    require(jacobian_norm_twin(a));
    d.add(out);
  }
  return d.h;
}

}  // namespace

TwinDigests compute_twin_digests() { return {flash_digest(), linear_digest(), jacobian_digest()}; }

// Recorded from a correct build (g++ 12, -O2 -ffp-contract=off, x86-64) by the program
// tests/gpu/twin_fingerprint.cpp; the same digests come from the code before the rounded-
// arithmetic header (so the header changed no bit) and from -O3 -march=native
// -ffp-contract=fast, while that hostile build of the pre-header code gave jacobian_norm
// 0x71d85ce4b24c20a3. A kernel change that legitimately changes a twin's bits changes its value
// here (twin_self_test_failure names the twin; the tests/gpu fingerprint tests print all three).
TwinDigests recorded_twin_digests() {
  return {0x6bce3b470f3eba17ULL, 0xa8bc80b4571bc868ULL, 0x9ca7ac24084c877cULL};
}

std::string floating_point_environment_problem() {
  if (std::fegetround() != FE_TONEAREST)
    return "the host's rounding mode is not round-to-nearest (fesetround): the CPU twins would "
           "round differently from the device";
  // 2⁻¹⁴⁰ is subnormal: FTZ flushes the product, DAZ reads the input as 0 (volatile: computed
  // at run time, under the process's MXCSR, not folded by the compiler).
  volatile float subnormal = 0x1p-140f, half = 0.5f;
  const float product = subnormal * half;
  if (float_bits(product) != 0x00000100u)  // 2⁻¹⁴¹ = 2⁸ · 2⁻¹⁴⁹
    return "the host flushes subnormals to zero (FTZ/DAZ set, e.g. by code linked with "
           "-ffast-math): the CPU twins would differ from the device on small values";
  return {};
}

std::string twin_self_test_failure() {
  if (std::string problem = floating_point_environment_problem(); !problem.empty()) return problem;
  const TwinDigests now = compute_twin_digests(), recorded = recorded_twin_digests();
  std::string differing;
  const auto check = [&](const char* name, std::uint64_t a, std::uint64_t b) {
    if (a != b) differing += std::string(differing.empty() ? "" : ", ") + name;
  };
  check("flash_attention", now.flash_attention, recorded.flash_attention);
  check("linear_attention", now.linear_attention, recorded.linear_attention);
  check("jacobian_norm", now.jacobian_norm, recorded.jacobian_norm);
  if (differing.empty()) return {};
  return "the CPU twins were built with value-changing floating-point flags (contraction or "
         "fast-math): the self-test digest of " +
         differing +
         " differs from a correct build's; rebuild with -ffp-contract=off and without "
         "-ffast-math (docs/bit_exactness.md)";
}

}  // namespace attncert::gpu
