// The class bounds (attention_error_bound.hpp):
//  - as functions: infinite where the model says nothing (n·u ≥ 1, a non-positive scale),
//    growing with the keys and the tile count, vacuous where they must be (three-pass bf16 on
//    logits of −5e4: S rounded to bf16 moves logits by hundreds);
//  - as bounds: correct kernels of the class — the emulated flash kernel at several tile sizes,
//    the emulated three-pass kernel, our flash twin — never exceed them, per element, against
//    the certified truth, on adversarial inputs: ties (identical keys), logits ≤ −5e4, huge
//    spreads (one key dominates), cancelling values, L = 1, fully masked rows. Each random case
//    prints its seed and reproduces from it.
#include "proofs_checks/attention_error_bound.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "gpu/flash_attention.hpp"
#include "proofs_checks/attention_check.hpp"
#include "tests/support/emulated_attention_kernels.hpp"

namespace attncert {
namespace {

using gpu::DType;
using test_support::EmulatedAlgorithm;
using test_support::EmulatedAttentionSpec;

AttentionRowData typical_row(int n) {
  AttentionRowData r;
  r.visible_keys = n, r.head_dim = 64, r.scale = 0.125;
  r.abs_dot = 40, r.max_abs_logit = 5, r.v_max_abs = 3, r.v_half_range = 2.5;
  r.q_abs_sum = 50, r.k_abs_sum = 50;
  return r;
}

TEST(AttentionClassBound, InfiniteWhereTheModelSaysNothing) {
  AttentionClass c;
  AttentionRowData r = typical_row(1 << 24);  // n·u ≥ 1 for the sums
  EXPECT_TRUE(std::isinf(attention_class_bound(c, r).output));
  EXPECT_TRUE(attention_class_bound(c, r).vacuous);
  r = typical_row(100);
  r.scale = 0;
  EXPECT_TRUE(std::isinf(attention_class_bound(c, r).output));
  r = typical_row(100);
  EXPECT_TRUE(std::isfinite(attention_class_bound(c, r).output));
  EXPECT_FALSE(attention_class_bound(c, r).vacuous);
}

TEST(AttentionClassBound, GrowsWithKeysAndTiles) {
  AttentionClass c;
  c.input = DType::bf16;
  double last = 0;
  for (int n : {1, 16, 17, 256, 4096}) {
    const double b = attention_class_bound(c, typical_row(n)).output;
    EXPECT_GT(b, last) << n;
    last = b;
  }
  AttentionClass coarse = c;
  coarse.block_k = 128;
  EXPECT_LT(attention_class_bound(coarse, typical_row(4096)).output,
            attention_class_bound(c, typical_row(4096)).output);
  // Rounding P to the input dtype is the dominant term of a low-precision flash kernel.
  AttentionClass no_p = c;
  no_p.probabilities_rounded_to_input = false;
  EXPECT_LT(attention_class_bound(no_p, typical_row(256)).output * 4,
            attention_class_bound(c, typical_row(256)).output);
}

TEST(AttentionClassBound, ThreePassBf16OnHugeLogitsIsVacuous) {
  AttentionClass c;
  c.input = c.output = DType::bf16;
  c.online_softmax = false, c.scores_rounded_to_input = true;
  AttentionRowData r = typical_row(64);
  r.abs_dot = 5e4 / r.scale, r.max_abs_logit = 5e4;  // logits of −5e4 are moved by ~200
  EXPECT_TRUE(attention_class_bound(c, r).vacuous);
  c.online_softmax = true, c.scores_rounded_to_input = false;  // flash keeps S in fp32
  EXPECT_FALSE(attention_class_bound(c, r).vacuous);
}

enum class Shape { random, ties, very_negative, huge_spread, cancelling, single, masked_rows };
const char* name(Shape s) {
  switch (s) {
    case Shape::random:
      return "random";
    case Shape::ties:
      return "ties";
    case Shape::very_negative:
      return "logits<=-5e4";
    case Shape::huge_spread:
      return "huge spread";
    case Shape::cancelling:
      return "cancelling V";
    case Shape::single:
      return "L=1";
    case Shape::masked_rows:
      return "masked rows";
  }
  return "?";
}

struct Inputs {
  EmulatedAttentionSpec spec;
  std::vector<double> q, k, v;
};

Inputs make_inputs(Shape shape, DType t, std::uint64_t seed) {
  Inputs in;
  EmulatedAttentionSpec& s = in.spec;
  s.dtype = s.output_dtype = t;
  s.heads = s.kv_heads = 2, s.head_dim = 32, s.seqlen_q = 37, s.seqlen_k = 150;
  s.problem.keys = KeyVisibility::causal_mask();
  if (shape == Shape::single) s.seqlen_q = s.seqlen_k = 1;
  if (shape == Shape::masked_rows) s.seqlen_q = 170;  // rows 0..19 see no key
  Rng rng(seed);
  const auto d = s.head_dim;
  in.q = test_support::random_in_dtype(rng, s.heads * s.seqlen_q * d, t);
  in.k = test_support::random_in_dtype(rng, s.kv_heads * s.seqlen_k * d, t);
  in.v = test_support::random_in_dtype(rng, s.kv_heads * s.seqlen_k * d, t);
  const auto keys = static_cast<std::size_t>(s.kv_heads * s.seqlen_k);
  switch (shape) {
    case Shape::ties:  // every key of a head equal to its first: uniform weights
      for (std::size_t j = 0; j < keys; ++j)
        for (std::ptrdiff_t c = 0; c < d; ++c)
          in.k[j * d + c] = in.k[(j / s.seqlen_k) * s.seqlen_k * d + c];
      break;
    case Shape::very_negative: {
      // Coordinate 0: q = 2⁹, k = −2¹⁰ (exact in every dtype): logits ≤ −2¹⁹/√32 ≈ −9.3e4.
      for (std::size_t i = 0; i < in.q.size(); i += d) in.q[i] = 512;
      for (std::size_t i = 0; i < in.k.size(); i += d) in.k[i] = -1024;
      break;
    }
    case Shape::huge_spread:  // logits spread over hundreds: one key dominates each row
      for (double& x : in.q) x = gpu::round_through(t, static_cast<float>(x * 24));
      break;
    case Shape::cancelling:  // values ±4 alternating by key: outputs near 0
      for (std::size_t j = 0; j < keys; ++j)
        for (std::ptrdiff_t c = 0; c < d; ++c) in.v[j * d + c] = (j % 2 == 0) ? 4.0 : -4.0;
      break;
    default:
      break;
  }
  return in;
}

AttentionCheckResult check(const Inputs& in, const std::vector<double>& o,
                           const std::vector<double>& lse, AttentionAlgorithm alg, DType out) {
  const auto views = test_support::attention_views(in.spec, in.q, in.k, in.v, o);
  AttentionCheckOptions opt;
  opt.dtype = in.spec.dtype, opt.output_dtype = out, opt.algorithm = alg, opt.jobs = 2;
  return check_attention(views.tensors(), views.o, lse.data(), in.spec.problem, opt);
}

void expect_within(const AttentionCheckResult& r, const std::string& what) {
  for (const auto& h : r.heads) {
    SCOPED_TRACE(what);
    EXPECT_TRUE(h.bound_pass) << "head " << h.head << " ratio " << h.max_ratio << " at row "
                              << h.worst.row << " col " << h.worst.column << ", lse ratio "
                              << h.lse_max_ratio.value_or(0);
    EXPECT_EQ(h.non_finite, 0u);
  }
}

TEST(AttentionClassBound, CorrectKernelsNeverExceedItOnAdversarialInputs) {
  const std::vector<Shape> shapes = {Shape::random,      Shape::ties,       Shape::very_negative,
                                     Shape::huge_spread, Shape::cancelling, Shape::single,
                                     Shape::masked_rows};
  for (std::uint64_t seed : {1u, 2u}) {
    for (Shape shape : shapes)
      for (DType t : {DType::f32, DType::f16, DType::bf16}) {
        Inputs in = make_inputs(shape, t, seed);
        double worst = 0;
        for (int block : {16, 64, 128}) {  // flash kernels at tile sizes ≥ the class's 16
          in.spec.algorithm = EmulatedAlgorithm::flash, in.spec.block_k = block;
          const auto out = test_support::emulated_attention(in.spec, in.q, in.k, in.v);
          const auto r = check(in, out.o, out.lse, AttentionAlgorithm::flash, t);
          expect_within(r, "flash block " + std::to_string(block));
          worst = std::max(worst, r.worst_head().max_ratio);
        }
        in.spec.algorithm = EmulatedAlgorithm::three_pass;
        const auto out = test_support::emulated_attention(in.spec, in.q, in.k, in.v);
        const auto r3 = check(in, out.o, out.lse, AttentionAlgorithm::three_pass, t);
        // Where the three-pass bound is vacuous it promises nothing (fp16: S = −9e4 overflows
        // to −inf and a correct kernel returns NaN, still reported as a violation).
        if (!r3.worst_head().vacuous) expect_within(r3, "three-pass");
        std::printf("seed %llu %-13s %-4s flash worst ratio %.3g, three-pass %.3g%s\n",
                    static_cast<unsigned long long>(seed), name(shape),
                    std::string(gpu::dtype_name(t)).c_str(), worst, r3.worst_head().max_ratio,
                    r3.worst_head().vacuous ? " (three-pass bound vacuous)" : "");
      }
  }
}

TEST(AttentionClassBound, OurTwinNeverExceedsTheFlashBoundOnAdversarialInputs) {
  for (Shape shape : {Shape::ties, Shape::very_negative, Shape::huge_spread, Shape::cancelling,
                      Shape::single, Shape::masked_rows})
    for (DType t : {DType::f32, DType::f16, DType::bf16}) {
      const std::uint64_t seed = 7;
      Inputs in = make_inputs(shape, t, seed);
      EmulatedAttentionSpec& s = in.spec;
      const int BH = static_cast<int>(s.heads), Lq = static_cast<int>(s.seqlen_q),
                Lk = static_cast<int>(s.seqlen_k), d = static_cast<int>(s.head_dim);
      std::vector<float> qf(in.q.begin(), in.q.end()), kf(in.k.begin(), in.k.end()),
          vf(in.v.begin(), in.v.end()), out(BH * Lq * d), lse(BH * Lq);
      std::vector<std::uint16_t> qh(qf.size()), kh(kf.size()), vh(vf.size());
      auto bits = [&](std::vector<float>& f, std::vector<std::uint16_t>& h) -> const void* {
        if (t == DType::f32) return f.data();
        for (std::size_t i = 0; i < f.size(); ++i)
          h[i] = t == DType::f16 ? gpu::float_to_f16_bits(f[i]) : gpu::float_to_bf16_bits(f[i]);
        return h.data();
      };
      gpu::FlashAttentionArgs a;
      a.q = bits(qf, qh), a.k = bits(kf, kh), a.v = bits(vf, vh);
      a.q_dtype = a.k_dtype = a.v_dtype = t;
      a.out = out.data(), a.log_sum_exp = lse.data();
      a.batch_heads = BH, a.seqlen_q = Lq, a.seqlen_k = Lk, a.head_dim = d;
      a.scale = gpu::default_attention_scale(d), a.causal = true;
      ASSERT_TRUE(gpu::flash_attention_twin(a).ok());
      const auto r =
          check(in, std::vector<double>(out.begin(), out.end()),
                std::vector<double>(lse.begin(), lse.end()), AttentionAlgorithm::flash, DType::f32);
      expect_within(r, std::string("twin ") + name(shape) + " " + std::string(gpu::dtype_name(t)));
      std::printf("seed %llu twin %-13s %-4s worst ratio %.3g lse %.3g\n",
                  static_cast<unsigned long long>(seed), name(shape),
                  std::string(gpu::dtype_name(t)).c_str(), r.worst_head().max_ratio,
                  r.worst_head().lse_max_ratio.value_or(0));
    }
}

}  // namespace
}  // namespace attncert
