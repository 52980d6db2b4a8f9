#include "gpu/twin_self_test.hpp"

#include <cfenv>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

#include "gpu/dtype.hpp"
#include "gpu/flash_attention.hpp"
#include "gpu/jacobian_norm.hpp"
#include "gpu/linear_attention.hpp"
#include "gpu/output_equality.hpp"
#include "numerics/rng.hpp"

namespace attncert::gpu {
namespace {

/// FNV-1a, 64 bit, over the stored bit patterns (fp32: 32 bits; fp16/bf16: 16), every NaN
/// replaced by one canonical pattern first (gpu/output_equality.hpp: a NaN's payload is not a
/// value; ±0 stay distinct).
struct Digest {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  void add_bits(DType t, std::uint32_t bits) {
    if (is_nan_bits(t, bits)) bits = 0x7fc00000u;
    const int bytes = t == DType::f32 ? 4 : 2;
    for (int i = 0; i < bytes; ++i, bits >>= 8) {
      h ^= bits & 0xffu;
      h *= 0x100000001b3ULL;
    }
  }
  void add(const std::vector<float>& xs) {
    for (float x : xs) add_bits(DType::f32, float_bits(x));
  }
  void add(DType t, const std::vector<std::uint16_t>& xs) {
    for (std::uint16_t x : xs) add_bits(t, x);
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

/// The IEEE corners the twins must treat exactly as the device does (docs/nan_semantics.md):
/// ±0, fp32 subnormals (flushed under FTZ/DAZ), magnitudes whose exp underflows (the
/// subnormal results a flushing build would zero), and one NaN. Set from bit patterns at fixed
/// positions, stride `stride` apart, so a case mixes them with ordinary values.
void add_ieee_corners(std::vector<float>& v, std::size_t stride, std::size_t nan_at) {
  static constexpr std::uint32_t kCorners[] = {
      0x00000000u, 0x80000000u,  // +0, −0
      0x00000001u, 0x807fffffu,  // smallest and largest-magnitude subnormals
      0x00012345u,               // another subnormal
      0x42b40000u, 0xc2b40000u,  // ±90: exp(−90·…) is subnormal or zero in fp32
  };
  std::size_t c = 0;
  for (std::size_t i = stride / 2; i < v.size(); i += stride)
    v[i] = bits_float(kCorners[c++ % std::size(kCorners)]);
  if (nan_at < v.size()) v[nan_at] = bits_float(0x7fc00000u);
}

std::vector<std::uint16_t> to_dtype_bits(DType t, const std::vector<float>& v) {
  std::vector<std::uint16_t> b(v.size());
  for (std::size_t i = 0; i < v.size(); ++i)
    b[i] = t == DType::f16 ? float_to_f16_bits(v[i]) : float_to_bf16_bits(v[i]);
  return b;
}

void require(const KernelStatus& s) {
  if (!s.ok()) throw std::logic_error("twin self-test: a fixed case was refused: " + s.message);
}

/// One kernel input in any dtype: the floats, or their fp16/bf16 patterns.
struct TypedInput {
  DType dtype;
  std::vector<float> f32;
  std::vector<std::uint16_t> narrow;
  TypedInput(DType t, const std::vector<float>& v)
      : dtype(t), f32(t == DType::f32 ? v : std::vector<float>{}),
        narrow(t == DType::f32 ? std::vector<std::uint16_t>{} : to_dtype_bits(t, v)) {}
  const void* data() const {
    return dtype == DType::f32 ? static_cast<const void*>(f32.data()) : narrow.data();
  }
};

std::uint64_t flash_digest() {
  Digest d;
  constexpr int kHeads = 2, kLen = 80, kDim = 40;  // two key tiles, a partial one
  const std::size_t n = static_cast<std::size_t>(kHeads) * kLen * kDim;
  std::vector<float> q = fixed_inputs(1, n), k = fixed_inputs(2, n), v = fixed_inputs(3, n);
  std::vector<float> q_corners = q, k_corners = k;  // a NaN in query row 3 of head 1 only
  add_ieee_corners(q_corners, 37, (kLen + 3) * kDim + 5);
  add_ieee_corners(k_corners, 41, n);
  // One run of the twin on 2 heads × Lq × Lk, its outputs and LSEs into the digest.
  const auto run = [&](const TypedInput& qt, const TypedInput& kt, const TypedInput& vt, int seqlen_q,
                       int seqlen_k, bool causal) {
    std::vector<float> out(static_cast<std::size_t>(kHeads) * seqlen_q * kDim);
    std::vector<float> lse(static_cast<std::size_t>(kHeads) * seqlen_q);
    FlashAttentionArgs a;
    a.q = qt.data();
    a.k = kt.data();
    a.v = vt.data();
    a.q_dtype = a.k_dtype = a.v_dtype = qt.dtype;
    a.out = out.data();
    a.log_sum_exp = lse.data();
    a.batch_heads = kHeads;
    a.seqlen_q = seqlen_q;
    a.seqlen_k = seqlen_k;
    a.head_dim = kDim;
    a.scale = default_attention_scale(kDim);
    a.causal = causal;
    require(flash_attention_twin(a));
    d.add(out);
    d.add(lse);
  };
  struct Case {
    const std::vector<float>* q;
    const std::vector<float>* k;
  };
  for (const Case c : {Case{&q, &k}, Case{&q_corners, &k_corners}})
    for (const DType t : {DType::f32, DType::f16, DType::bf16}) {
      const TypedInput qt(t, *c.q), kt(t, *c.k), vt(t, v);
      for (const bool causal : {false, true}) run(qt, kt, vt, kLen, kLen, causal);
    }
  // Causal with more queries than keys: the first rows see no key (output 0, lse −inf), the
  // masked-row path a build that assumes finite math gets wrong.
  run(TypedInput(DType::f32, q), TypedInput(DType::f32, k), TypedInput(DType::f32, v), kLen, kLen / 2, true);
  return d.h;
}

std::uint64_t linear_digest() {
  Digest d;
  constexpr int kLen = 80, kDim = 8;  // two chunks
  const std::size_t n = static_cast<std::size_t>(kLen) * kDim;
  const std::vector<float> q = fixed_inputs(4, n), k = fixed_inputs(5, n), v = fixed_inputs(6, n);
  std::vector<float> q_corners = q, k_corners = k;  // a NaN in key 70 (a causal tail)
  add_ieee_corners(q_corners, 13, n);
  add_ieee_corners(k_corners, 11, 70 * kDim + 2);
  const auto run = [&](DType t, LinearFeature f, bool causal, const std::vector<float>& qv,
                       const std::vector<float>& kv) {
    const TypedInput qt(t, qv), kt(t, kv), vt(t, v);
    std::vector<float> out32(t == DType::f32 ? n : 0), normaliser(kLen);
    std::vector<std::uint16_t> out16(t == DType::f32 ? 0 : n);
    std::vector<float> state(static_cast<std::size_t>(linear_state_elements(f, kDim)));
    LinearAttentionArgs a;
    a.seqlen = kLen;
    a.head_dim = kDim;
    a.q_dtype = a.k_dtype = a.v_dtype = t;
    a.feature = f;
    a.causal = causal;
    a.scale = 0.375f;
    a.q = qt.data();
    a.k = kt.data();
    a.v = vt.data();
    a.out = t == DType::f32 ? static_cast<void*>(out32.data()) : out16.data();
    a.final_state = state.data();
    a.normaliser = normaliser.data();
    require(linear_attention_twin(a));
    if (t == DType::f32)
      d.add(out32);
    else
      d.add(t, out16);
    d.add(state);
    d.add(normaliser);
  };
  for (const LinearFeature f : {LinearFeature::identity, LinearFeature::relu,
                                LinearFeature::elu_plus_one, LinearFeature::taylor2})
    for (const bool causal : {false, true}) run(DType::f32, f, causal, q, k);
  for (const DType t : {DType::f32, DType::f16, DType::bf16})
    for (const bool causal : {false, true})
      run(t, LinearFeature::elu_plus_one, causal, q_corners, k_corners);
  return d.h;
}

std::uint64_t jacobian_digest() {
  Digest d;
  // Short rows (few weights, the secular solver's Newton steps matter) and long ones; logits
  // ×4 (exact) spread the weights. A contracted build changes ~5 % of the short rows' bits.
  // The last shape carries the IEEE corners (a NaN in row 2) in every dtype.
  struct Shape {
    long long rows, length;
    std::uint64_t seed;
    bool corners;
  };
  for (const Shape shape : {Shape{64, 5, 7, false}, Shape{32, 33, 8, false},
                            Shape{6, 200, 9, false}, Shape{8, 40, 10, true}}) {
    std::vector<float> logits =
        fixed_inputs(shape.seed, static_cast<std::size_t>(shape.rows * shape.length));
    for (float& x : logits) x = x * 4.0f;
    if (shape.corners) {
      add_ieee_corners(logits, 9, static_cast<std::size_t>(2 * shape.length + 17));
      // ±inf logits (+inf overflows the row: NaN; −inf is a masked key) and a row masked
      // entirely: what -ffinite-math-only/-fno-honor-infinities builds get wrong.
      const auto at = [&](long long row, long long col) -> float& {
        return logits[static_cast<std::size_t>(row * shape.length + col)];
      };
      at(4, 3) = bits_float(0x7f800000u);
      at(5, 1) = bits_float(0xff800000u);
      at(5, 7) = bits_float(0xff800000u);
      for (long long c = 0; c < shape.length; ++c) at(6, c) = bits_float(0xff800000u);
    }
    const float temperatures[] = {0.5f, 1.0f, 3.0f};
    for (const DType t : shape.corners ? std::vector<DType>{DType::f32, DType::f16, DType::bf16}
                                       : std::vector<DType>{DType::f32}) {
      const TypedInput input(t, logits);
      std::vector<float> out(static_cast<std::size_t>(shape.rows) * 3);
      JacobianNormArgs a;
      a.dtype = t;
      a.logits = input.data();
      a.rows = shape.rows;
      a.length = shape.length;
      a.temperatures = temperatures;
      a.num_temperatures = 3;
      a.out = out.data();
      require(jacobian_norm_twin(a));
      d.add(out);
    }
  }
  return d.h;
}

}  // namespace

TwinDigests compute_twin_digests() { return {flash_digest(), linear_digest(), jacobian_digest()}; }

// Recorded from a correct build (g++ 12, -O2 -ffp-contract=off, x86-64) by the program
// tests/gpu/twin_fingerprint.cpp; g++ 12 and clang++ 14 at -O3 -march=native -ffp-contract=fast
// give the same, and without the contraction barrier both change jacobian_norm (g++
// 0xf7c282bb6f940acb, clang 0xe28d29a83cb80812). A kernel or case change that legitimately
// changes a twin's bits changes its value here (twin_self_test_failure names the twin; the
// tests/gpu fingerprint tests print all three).
TwinDigests recorded_twin_digests() {
  return {0xe42a9fe74a003674ULL, 0xc86177bf3b44d28cULL, 0xf9ad0e08a2cc5a35ULL};
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
