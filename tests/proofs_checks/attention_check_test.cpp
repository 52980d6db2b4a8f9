// check_attention on kernels of known behaviour:
//  - correct emulated kernels (flash-style and three-pass; fp32, fp16, bf16; no mask, causal in
//    both alignments, a sliding window, GQA, Lq ≠ Lk, both layouts) pass the bound of their class;
//  - each injected defect (flipped causal alignment, causal off by one, missing rescale of the
//    running sum or of the accumulator, bf16 accumulation of P·V, a dropped last partial tile,
//    scale applied twice), injected into ONE head, fails that head's bound with the worst element
//    in a row the defect changes, while the other heads pass; whether the FA rule catches it is
//    printed, not asserted;
//  - the subtle defects (P·V accumulated in bf16 on rows of 300 keys, the last partial
//    tile dropped) exceed the PROBABILISTIC bound ≥ 3× with their worst element named, correct
//    heads stay within it; the probabilistic rule decides when chosen, λ counts every value of
//    the call, δ ∉ (0, 1) is a one-line error;
//  - our own flash kernel's twin passes the flash class bound;
//  - NaN/inf in O or lse are violations reported with their index; masked rows must be 0 and
//    −inf exactly; bad inputs are one-line invalid_argument errors; cancellation and progress.
// Inputs are N(0,1) rounded to the dtype from a fixed seed (printed); the verdicts asserted are
// certain ones (bound verdicts of a certified truth), not tolerances.
#include "proofs_checks/attention_check.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "gpu/flash_attention.hpp"
#include "gpu/portable_exp.hpp"
#include "proofs_checks/naive_attention_reference.hpp"
#include "tests/support/emulated_attention_kernels.hpp"

namespace attncert {
namespace {

using gpu::DType;
using test_support::AttentionDefects;
using test_support::EmulatedAlgorithm;
using test_support::EmulatedAttentionSpec;
constexpr std::uint64_t kSeed = 20261203;
constexpr double kInf = std::numeric_limits<double>::infinity();

struct CheckRun {
  EmulatedAttentionSpec spec;
  std::vector<double> q, k, v, o, lse;
  AttentionCheckResult result;
};

CheckRun run_check(const EmulatedAttentionSpec& spec, std::uint64_t seed = kSeed,
                   bool give_lse = true, int class_block_k = 16) {
  CheckRun r;
  r.spec = spec;
  Rng rng(seed);
  const auto B = spec.batch, H = spec.heads, Hkv = spec.kv_heads;
  r.q = test_support::random_in_dtype(rng, B * H * spec.seqlen_q * spec.head_dim, spec.dtype);
  r.k = test_support::random_in_dtype(rng, B * Hkv * spec.seqlen_k * spec.head_dim, spec.dtype);
  r.v = test_support::random_in_dtype(rng, B * Hkv * spec.seqlen_k * spec.dv(), spec.dtype);
  auto out = test_support::emulated_attention(spec, r.q, r.k, r.v);
  r.o = std::move(out.o), r.lse = std::move(out.lse);
  const auto views = test_support::attention_views(spec, r.q, r.k, r.v, r.o);
  AttentionCheckOptions opt;
  opt.dtype = spec.dtype, opt.output_dtype = spec.output_dtype;
  opt.algorithm = spec.algorithm == EmulatedAlgorithm::flash ? AttentionAlgorithm::flash
                                                             : AttentionAlgorithm::three_pass;
  opt.block_k = class_block_k;
  opt.jobs = 2;
  r.result = check_attention(views.tensors(), views.o, give_lse ? r.lse.data() : nullptr,
                             spec.problem, opt);
  return r;
}

std::string describe(const AttentionHeadReport& h) {
  char buf[400];
  std::snprintf(buf, sizeof buf,
                "head (%td,%td): max err %.3g ratio %.3g worst (row %td col %td value %.6g truth "
                "%.6g bound %.3g) lse ratio %.3g naive %.3g FA rule %s refined %zu%s",
                h.batch, h.head, h.max_error, h.max_ratio, h.worst.row, h.worst.column,
                h.worst.value, h.worst.truth_mid, h.worst.bound, h.lse_max_ratio.value_or(0.0),
                h.naive_error, h.fa_rule_pass ? "pass" : "FAIL", h.refined_rows,
                h.vacuous ? " VACUOUS" : "");
  return buf;
}

EmulatedAttentionSpec base_spec(EmulatedAlgorithm alg, DType t) {
  EmulatedAttentionSpec s;
  s.algorithm = alg;
  s.dtype = s.output_dtype = t;
  s.heads = 2, s.kv_heads = 2, s.seqlen_q = 70, s.seqlen_k = 133, s.head_dim = 32;
  s.block_k = 64;
  return s;
}

TEST(CheckAttention, CorrectEmulatedKernelsPassTheirClassBound) {
  std::printf("seed %llu\n", static_cast<unsigned long long>(kSeed));
  struct Variant {
    const char* name;
    KeyVisibility keys;
    std::ptrdiff_t kv_heads;
    AttentionLayout layout;
  };
  KeyVisibility window = KeyVisibility::causal_mask();
  window.window_left = 20;
  const std::vector<Variant> variants = {
      {"no mask, bhsd", KeyVisibility::all(), 2, AttentionLayout::bhsd},
      {"causal bottom-right, bshd", KeyVisibility::causal_mask(), 2, AttentionLayout::bshd},
      {"causal top-left", KeyVisibility::causal_mask(DiagonalAlignment::top_left), 2,
       AttentionLayout::bhsd},
      {"window (20, 0)", window, 2, AttentionLayout::bshd},
      {"GQA 4:1 causal", KeyVisibility::causal_mask(), 1, AttentionLayout::bshd},
  };
  for (EmulatedAlgorithm alg : {EmulatedAlgorithm::flash, EmulatedAlgorithm::three_pass})
    for (DType t : {DType::f32, DType::f16, DType::bf16})
      for (const Variant& var : variants) {
        EmulatedAttentionSpec s = base_spec(alg, t);
        s.problem.keys = var.keys;
        s.layout = var.layout;
        if (var.kv_heads == 1) s.heads = 4;
        s.kv_heads = var.kv_heads;
        const CheckRun r = run_check(s);
        for (const auto& h : r.result.heads) {
          SCOPED_TRACE(std::string(alg == EmulatedAlgorithm::flash ? "flash " : "three-pass ") +
                       std::string(gpu::dtype_name(t)) + " " + var.name + ": " + describe(h));
          EXPECT_TRUE(h.bound_pass);
          EXPECT_FALSE(h.vacuous);
          EXPECT_EQ(h.non_finite, 0u);
        }
        EXPECT_TRUE(r.result.pass);
        std::printf("%-10s %-4s %-26s worst ratio %.3g, FA rule %s\n",
                    alg == EmulatedAlgorithm::flash ? "flash" : "three-pass",
                    std::string(gpu::dtype_name(t)).c_str(), var.name,
                    r.result.worst_head().max_ratio,
                    r.result.worst_head().fa_rule_pass ? "pass" : "fail");
      }
}

struct DefectCase {
  const char* name;
  EmulatedAlgorithm algorithm;
  DType dtype;
  AttentionDefects defects;
  KeyVisibility keys;
  std::ptrdiff_t seqlen_q, seqlen_k;
  bool (*affected_row)(std::ptrdiff_t row);  // rows the defect changes (kernel block_k 64)
};

AttentionDefects in_head_1(AttentionDefects d) {
  d.head = 1;
  return d;
}

TEST(CheckAttention, EachInjectedDefectIsCaughtInTheDefectiveHeadAtAnAffectedRow) {
  std::printf("seed %llu\n", static_cast<unsigned long long>(kSeed));
  const auto causal = KeyVisibility::causal_mask();
  AttentionDefects flipped, off_by_one, no_sum_rescale, no_acc_rescale, bf16_acc, dropped, twice;
  flipped.flipped_alignment = true;
  off_by_one.causal_offset = 1;
  no_sum_rescale.skip_sum_rescale = true;
  no_acc_rescale.skip_acc_rescale = true;
  bf16_acc.bf16_accumulation = true;
  dropped.drop_last_partial_tile = true;
  twice.scale_twice = true;
  const auto any = [](std::ptrdiff_t) { return true; };
  const auto two_tiles = [](std::ptrdiff_t i) { return i >= 64; };  // causal, Lq = Lk
  const std::vector<DefectCase> cases = {
      // Lq < Lk: top-left lets row i see i + 1 keys instead of i + 87.
      {"top-left causal where bottom-right was asked", EmulatedAlgorithm::flash, DType::bf16,
       in_head_1(flipped), causal, 64, 150, any},
      {"causal off by one", EmulatedAlgorithm::flash, DType::f16, in_head_1(off_by_one), causal,
       160, 160, [](std::ptrdiff_t i) { return i < 159; }},
      {"running sum l not rescaled", EmulatedAlgorithm::flash, DType::f16,
       in_head_1(no_sum_rescale), causal, 200, 200, two_tiles},
      {"accumulator not rescaled", EmulatedAlgorithm::flash, DType::bf16, in_head_1(no_acc_rescale),
       causal, 200, 200, two_tiles},
      {"P·V accumulated in bf16 (fp16 inputs)", EmulatedAlgorithm::flash, DType::f16,
       in_head_1(bf16_acc), causal, 200, 200, any},
      {"P·V accumulated in bf16 (fp32 inputs)", EmulatedAlgorithm::flash, DType::f32,
       in_head_1(bf16_acc), KeyVisibility::all(), 100, 200, any},
      {"last partial key tile dropped", EmulatedAlgorithm::flash, DType::bf16, in_head_1(dropped),
       causal, 200, 200, [](std::ptrdiff_t i) { return i >= 64 && (i + 1) % 64 != 0; }},
      {"scale applied twice", EmulatedAlgorithm::flash, DType::f16, in_head_1(twice), causal, 150,
       150, [](std::ptrdiff_t i) { return i >= 1; }},
      {"three-pass: scale applied twice", EmulatedAlgorithm::three_pass, DType::bf16,
       in_head_1(twice), causal, 150, 150, [](std::ptrdiff_t i) { return i >= 1; }},
      // (With fp16 inputs the three-pass bound, dominated by the rounding of S to fp16 at the
      // largest possible |logit|, is ~20× the error of a correct kernel and this defect reaches
      // only ~0.25 of it: caught by the FA rule, not by the bound. Reported in the note.)
      {"three-pass: P·V accumulated in bf16 (fp32 inputs)", EmulatedAlgorithm::three_pass,
       DType::f32, in_head_1(bf16_acc), KeyVisibility::all(), 100, 200, any},
  };
  for (const DefectCase& c : cases) {
    EmulatedAttentionSpec s = base_spec(c.algorithm, c.dtype);
    s.heads = s.kv_heads = 3;
    s.seqlen_q = c.seqlen_q, s.seqlen_k = c.seqlen_k;
    s.problem.keys = c.keys;
    s.defects = c.defects;
    const CheckRun r = run_check(s);
    EmulatedAttentionSpec correct_spec = s;
    correct_spec.defects = {};
    const auto correct = test_support::emulated_attention(correct_spec, r.q, r.k, r.v);
    SCOPED_TRACE(c.name);
    ASSERT_EQ(r.result.heads.size(), 3u);
    EXPECT_FALSE(r.result.pass);
    const AttentionHeadReport& bad = r.result.heads[1];
    SCOPED_TRACE(describe(bad));
    EXPECT_FALSE(bad.bound_pass);
    EXPECT_GT(bad.max_ratio, 1.0);
    EXPECT_EQ(&r.result.worst_head(), &bad);
    EXPECT_EQ(bad.worst.head, 1);
    EXPECT_TRUE(c.affected_row(bad.worst.row)) << "worst row " << bad.worst.row;
    // The worst element is one the defect changed (bhsd: (h, i, c) flat).
    const std::size_t e =
        (static_cast<std::size_t>(1) * s.seqlen_q + bad.worst.row) * s.dv() + bad.worst.column;
    EXPECT_NE(r.o[e], correct.o[e]);
    for (std::size_t h : {0u, 2u}) {
      SCOPED_TRACE(describe(r.result.heads[h]));
      EXPECT_TRUE(r.result.heads[h].bound_pass);
    }
    std::printf("%-50s ratio %9.3g at (head %td, row %td, col %td); FA rule %s\n", c.name,
                bad.max_ratio, bad.worst.head, bad.worst.row, bad.worst.column,
                bad.fa_rule_pass ? "passes it (misses the defect)" : "catches it");
  }
}

// Softcap C·tanh(s/C) (FA's convention, after the scale): correct flash and three-pass kernels
// pass in every dtype, with windows too; scale applied twice (inside the cap) fails.
TEST(CheckAttention, SoftcapCorrectKernelsPassAndScaleTwiceFails) {
  std::printf("seed %llu\n", static_cast<unsigned long long>(kSeed));
  KeyVisibility window = KeyVisibility::causal_mask();
  window.window_left = 30;
  for (EmulatedAlgorithm alg : {EmulatedAlgorithm::flash, EmulatedAlgorithm::three_pass})
    for (DType t : {DType::f32, DType::f16, DType::bf16})
      for (const KeyVisibility& keys : {KeyVisibility::causal_mask(), window}) {
        EmulatedAttentionSpec s = base_spec(alg, t);
        s.problem.keys = keys;
        s.problem.softcap = 5.0;
        const CheckRun r = run_check(s);
        SCOPED_TRACE(std::string(gpu::dtype_name(t)) + (keys.window_left ? " window" : " causal") +
                     (alg == EmulatedAlgorithm::flash ? " flash" : " three-pass"));
        EXPECT_TRUE(r.result.pass) << describe(r.result.worst_head());
        s.defects.scale_twice = true;
        const CheckRun bad = run_check(s);
        EXPECT_FALSE(bad.result.pass) << describe(bad.result.worst_head());
        std::printf(
            "softcap 5 %-10s %-4s %-6s: correct ratio %.3g, scale twice %.3g (FA rule %s)\n",
            alg == EmulatedAlgorithm::flash ? "flash" : "three-pass",
            std::string(gpu::dtype_name(t)).c_str(), keys.window_left ? "window" : "causal",
            r.result.worst_head().max_ratio, bad.result.worst_head().max_ratio,
            bad.result.worst_head().fa_rule_pass ? "misses it" : "catches it");
      }
}

TEST(CheckAttention, AttentionViewReadsBothLayouts) {
  // (B, S, H, D) = (2, 3, 4, 5) in memory; logical (b, h, i, c) is element ((b·S + i)·H + h)·D + c.
  std::vector<double> x(2 * 3 * 4 * 5);
  for (std::size_t e = 0; e < x.size(); ++e) x[e] = static_cast<double>(e);
  const auto bshd = attention_view(x.data(), AttentionLayout::bshd, 2, 4, 3, 5);
  EXPECT_EQ(bshd.strides(), (std::array<std::ptrdiff_t, 4>{3 * 4 * 5, 5, 4 * 5, 1}));
  EXPECT_EQ(bshd.const_head(1, 2)(2, 3), static_cast<double>(((1 * 3 + 2) * 4 + 2) * 5 + 3));
  const auto bhsd = attention_view(x.data(), AttentionLayout::bhsd, 2, 4, 3, 5);
  EXPECT_EQ(bhsd.const_head(1, 2)(2, 3), static_cast<double>(((1 * 4 + 2) * 3 + 2) * 5 + 3));
}

// A defect in head 2 of a bshd GQA problem is reported at head 2 and at an element it changed.
TEST(CheckAttention, DefectInABshdGqaHeadIsReportedAtThatHead) {
  EmulatedAttentionSpec s = base_spec(EmulatedAlgorithm::flash, DType::bf16);
  s.layout = AttentionLayout::bshd;
  s.heads = 4, s.kv_heads = 2, s.seqlen_q = s.seqlen_k = 150;
  s.problem.keys = KeyVisibility::causal_mask();
  s.defects.drop_last_partial_tile = true, s.defects.head = 2;
  const CheckRun r = run_check(s);
  EmulatedAttentionSpec ok = s;
  ok.defects = {};
  const auto correct = test_support::emulated_attention(ok, r.q, r.k, r.v);
  const AttentionHeadReport& worst = r.result.worst_head();
  SCOPED_TRACE(describe(worst));
  EXPECT_FALSE(r.result.pass);
  EXPECT_EQ(worst.head, 2);
  for (const auto& h : r.result.heads) EXPECT_EQ(h.bound_pass, h.head != 2) << describe(h);
  const std::size_t e =
      (static_cast<std::size_t>(worst.worst.row) * s.heads + worst.head) * s.dv() +
      worst.worst.column;
  EXPECT_NE(r.o[e], correct.o[e]);
  EXPECT_EQ(r.o[e], worst.worst.value);
}

// Our own kernel (gpu::flash_attention_twin: tiles of 64 keys, portable_expf, fp32 output)
// is a member of the flash class: it passes the class bound (block_k 16 ≤ 64) in every dtype.
TEST(CheckAttention, OurFlashTwinPassesTheFlashClassBound) {
  std::printf("seed %llu\n", static_cast<unsigned long long>(kSeed));
  const int BH = 2, Lq = 113, Lk = 203, d = 64;
  for (DType t : {DType::f32, DType::f16, DType::bf16})
    for (bool causal : {false, true}) {
      Rng rng(kSeed);
      const auto q = test_support::random_in_dtype(rng, BH * Lq * d, t);
      const auto k = test_support::random_in_dtype(rng, BH * Lk * d, t);
      const auto v = test_support::random_in_dtype(rng, BH * Lk * d, t);
      auto bits = [&](const std::vector<double>& x, std::vector<float>& f,
                      std::vector<std::uint16_t>& h) -> const void* {
        f.assign(x.begin(), x.end());
        if (t == DType::f32) return f.data();
        h.resize(x.size());
        for (std::size_t i = 0; i < x.size(); ++i)
          h[i] = t == DType::f16 ? gpu::float_to_f16_bits(f[i]) : gpu::float_to_bf16_bits(f[i]);
        return h.data();
      };
      std::vector<float> qf, kf, vf, out(BH * Lq * d), lse(BH * Lq);
      std::vector<std::uint16_t> qh, kh, vh;
      gpu::FlashAttentionArgs a;
      a.q = bits(q, qf, qh), a.k = bits(k, kf, kh), a.v = bits(v, vf, vh);
      a.q_dtype = a.k_dtype = a.v_dtype = t;
      a.out = out.data(), a.log_sum_exp = lse.data();
      a.batch_heads = BH, a.seqlen_q = Lq, a.seqlen_k = Lk, a.head_dim = d;
      a.scale = gpu::default_attention_scale(d), a.causal = causal;
      ASSERT_TRUE(gpu::flash_attention_twin(a).ok());
      const std::vector<double> o(out.begin(), out.end()), l(lse.begin(), lse.end());
      const auto Q = attention_view(q.data(), AttentionLayout::bhsd, 1, BH, Lq, d);
      const auto K = attention_view(k.data(), AttentionLayout::bhsd, 1, BH, Lk, d);
      const auto V = attention_view(v.data(), AttentionLayout::bhsd, 1, BH, Lk, d);
      const auto O = attention_view(o.data(), AttentionLayout::bhsd, 1, BH, Lq, d);
      AttentionProblem p;
      // The twin multiplies by fl32(1/√d); the class bound's scale error covers that.
      if (causal) p.keys = KeyVisibility::causal_mask();
      AttentionCheckOptions opt;
      opt.dtype = t, opt.output_dtype = DType::f32;
      const auto r = check_attention({&Q, &K, &V}, O, l.data(), p, opt);
      for (const auto& h : r.heads) {
        SCOPED_TRACE(std::string(gpu::dtype_name(t)) + (causal ? " causal " : " ") + describe(h));
        EXPECT_TRUE(h.bound_pass);
        EXPECT_FALSE(h.vacuous);
      }
      std::printf("twin %s %s: worst ratio %.3g, lse ratio %.3g\n",
                  std::string(gpu::dtype_name(t)).c_str(), causal ? "causal" : "full",
                  r.worst_head().max_ratio, r.worst_head().lse_max_ratio.value_or(0));
    }
}

/// A small correct fp16 run (Lq > Lk bottom-right causal: rows 0..Lq−Lk−1 see no key).
CheckRun masked_run() {
  EmulatedAttentionSpec s = base_spec(EmulatedAlgorithm::flash, DType::f16);
  s.heads = s.kv_heads = 2, s.seqlen_q = 40, s.seqlen_k = 30;
  s.problem.keys = KeyVisibility::causal_mask();
  return run_check(s);
}

AttentionCheckResult recheck(const CheckRun& r, const double* lse) {
  const auto views = test_support::attention_views(r.spec, r.q, r.k, r.v, r.o);
  AttentionCheckOptions opt;
  opt.dtype = r.spec.dtype, opt.output_dtype = r.spec.dtype;
  return check_attention(views.tensors(), views.o, lse, r.spec.problem, opt);
}

TEST(CheckAttention, MaskedRowsMustBeZeroAndHaveNoLse) {
  CheckRun r = masked_run();
  ASSERT_TRUE(r.result.pass) << describe(r.result.worst_head());
  EXPECT_EQ(r.result.heads[0].masked_rows, 10u);
  EXPECT_EQ(r.lse[0], -kInf);
  // A masked row's output must be 0: 1e-30 there is a violation at that element.
  const std::size_t e = (1 * 40 + 3) * 32 + 5;  // head 1, row 3, column 5 (bhsd)
  r.o[e] = 1e-30f;
  auto bad = recheck(r, r.lse.data());
  EXPECT_FALSE(bad.pass);
  EXPECT_EQ(bad.worst_head().worst.row, 3);
  EXPECT_EQ(bad.worst_head().worst.column, 5);
  EXPECT_EQ(bad.worst_head().max_ratio, kInf);
  r.o[e] = 0;
  // A masked row's lse says "no value": −inf (log 0), +inf (FlashAttention 2/3) or 0 (PyTorch's
  // CPU flash kernel) pass; a very negative finite value fails.
  for (const double convention : {kInf, 0.0}) {
    r.lse[1 * 40 + 7] = convention;
    EXPECT_TRUE(recheck(r, r.lse.data()).pass) << convention;
  }
  r.lse[1 * 40 + 7] = -0x1p100;
  bad = recheck(r, r.lse.data());
  EXPECT_FALSE(bad.pass);
  ASSERT_TRUE(bad.heads[1].lse_worst.has_value());
  EXPECT_EQ(bad.heads[1].lse_worst->row, 7);
  EXPECT_EQ(bad.heads[1].lse_worst->column, -1);
  EXPECT_TRUE(bad.heads[0].pass);
}

TEST(CheckAttention, NonFiniteOutputIsAViolationReportedWithItsIndex) {
  CheckRun r = masked_run();
  const std::size_t e = (0 * 40 + 33) * 32 + 17;  // head 0, row 33 (visible), column 17
  r.o[e] = std::numeric_limits<double>::quiet_NaN();
  auto res = recheck(r, r.lse.data());
  EXPECT_FALSE(res.pass);
  EXPECT_EQ(res.heads[0].non_finite, 1u);
  EXPECT_EQ(res.heads[0].worst.row, 33);
  EXPECT_EQ(res.heads[0].worst.column, 17);
  EXPECT_TRUE(std::isnan(res.heads[0].worst.value));
  EXPECT_FALSE(res.heads[0].fa_rule_pass);
  EXPECT_TRUE(res.heads[1].pass);
  r.o[e] = kInf;
  EXPECT_EQ(recheck(r, r.lse.data()).heads[0].non_finite, 1u);
  r.o[e] = 0.5;  // finite but wrong
  EXPECT_FALSE(recheck(r, r.lse.data()).pass);
  // lse NaN in a visible row: an lse violation at that row.
  CheckRun s = masked_run();
  s.lse[1 * 40 + 20] = std::numeric_limits<double>::quiet_NaN();
  res = recheck(s, s.lse.data());
  EXPECT_FALSE(res.pass);
  EXPECT_EQ(res.heads[1].lse_worst->row, 20);
  EXPECT_EQ(*res.heads[1].lse_max_ratio, kInf);
  // Without lse the same O passes.
  EXPECT_TRUE(recheck(s, nullptr).pass);
}

// fp16 with a large scale: the naive fp16 reference overflows (NaN), so the rules that compare
// with it cannot judge and fail, instead of passing any finite O; the three-pass bound, whose
// scaled q overflows fp16 too, is infinite and says so (vacuous), never a finite number.
TEST(CheckAttention, AnOverflowingNaiveReferenceJudgesNothing) {
  const std::ptrdiff_t L = 8, d = 4;
  std::vector<double> q(L * d, 20000.0), k(L * d), v(L * d), o(L * d, 0.5);
  for (std::ptrdiff_t i = 0; i < L * d; ++i) {
    k[i] = (i % 3 == 0 ? -1 : 1) * 0x1p-10;
    v[i] = i % 2 == 0 ? -1.0 : 1.0;
  }
  const Tensor4View<const double> Q(q.data(), 1, 1, L, d), K(k.data(), 1, 1, L, d),
      V(v.data(), 1, 1, L, d), O(o.data(), 1, 1, L, d);
  AttentionProblem problem;
  problem.scale = 4.0;
  AttentionCheckOptions opt;
  opt.dtype = DType::f16;
  opt.rule = AttentionRule::flash;
  const AttentionCheckResult flash = check_attention({&Q, &K, &V}, O, nullptr, problem, opt);
  EXPECT_FALSE(std::isfinite(flash.heads[0].naive_error));
  EXPECT_FALSE(flash.heads[0].fa_rule_pass);
  EXPECT_FALSE(flash.heads[0].naive_rule_pass);
  EXPECT_FALSE(flash.pass);
  opt.rule = AttentionRule::bound;
  opt.algorithm = AttentionAlgorithm::three_pass;
  const AttentionCheckResult three = check_attention({&Q, &K, &V}, O, nullptr, problem, opt);
  EXPECT_EQ(three.heads[0].vacuous_elements, static_cast<std::size_t>(L * d));
  EXPECT_TRUE(three.heads[0].vacuous);
}

// A bf16 kernel's O saved as float32 (numpy holds no bf16) is judged as a bf16 store when the
// output dtype is not given; float32 values that are not all bf16 are judged as fp32.
TEST(CheckAttention, OutputDtypeDefaultsToTheCoarsestStoreOFits) {
  EmulatedAttentionSpec s = base_spec(EmulatedAlgorithm::flash, DType::bf16);
  CheckRun r = run_check(s);
  const auto views = test_support::attention_views(r.spec, r.q, r.k, r.v, r.o);
  AttentionCheckOptions opt;
  opt.dtype = DType::bf16;  // output_dtype unset
  EXPECT_EQ(check_attention(views.tensors(), views.o, nullptr, s.problem, opt).output_dtype,
            DType::bf16);
  r.o[3] = 1.0 + 0x1p-20;  // an fp32 value, not a bf16 one
  const auto views2 = test_support::attention_views(r.spec, r.q, r.k, r.v, r.o);
  EXPECT_EQ(check_attention(views2.tensors(), views2.o, nullptr, s.problem, opt).output_dtype,
            DType::f32);

  // fp16 inputs, O stored in bf16 and upcast: bf16 values are fp16 values too, so guessing
  // "the input dtype" judged the bf16 store by fp16's unit and failed a correct kernel (a
  // review found g-ratio 4.2 on this shape). The coarsest store that holds O is bf16.
  EmulatedAttentionSpec mixed = base_spec(EmulatedAlgorithm::flash, DType::f16);
  mixed.output_dtype = DType::bf16;
  mixed.seqlen_q = 300, mixed.seqlen_k = 40, mixed.head_dim = 16;
  CheckRun m = run_check(mixed);
  const auto mixed_views = test_support::attention_views(m.spec, m.q, m.k, m.v, m.o);
  AttentionCheckOptions mixed_opt;
  mixed_opt.dtype = DType::f16;  // output_dtype unset
  const AttentionCheckResult inferred =
      check_attention(mixed_views.tensors(), mixed_views.o, nullptr, mixed.problem, mixed_opt);
  EXPECT_EQ(inferred.output_dtype, DType::bf16);
  EXPECT_TRUE(inferred.pass) << "g-ratio " << inferred.worst_head().max_ratio;
}

TEST(CheckAttention, BadInputsAreOneLineErrors) {
  CheckRun r = masked_run();
  auto expect_error = [&](const std::function<void()>& f, const std::string& needle) {
    try {
      f();
      ADD_FAILURE() << "no error; expected one containing '" << needle << "'";
    } catch (const std::invalid_argument& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find(needle), std::string::npos) << what;
      EXPECT_EQ(what.find('\n'), std::string::npos) << what;
    }
  };
  // A q value that fp16 cannot hold (the kernel cannot have read it).
  CheckRun bad = r;
  bad.q[5] = 1.0 + 0x1p-20;
  expect_error([&] { recheck(bad, nullptr); }, "q at batch 0, head 0, row 0, column 5");
  bad = r;
  bad.k[3] = std::numeric_limits<double>::quiet_NaN();
  expect_error([&] { recheck(bad, nullptr); }, "k at batch 0, head 0, row 0, column 3 is nan");
  bad = r;
  bad.v[0] = kInf;
  expect_error([&] { recheck(bad, nullptr); }, "v at batch 0, head 0, row 0, column 0 is inf");
  // O of the wrong shape (lengths swapped), GQA with Hkv not dividing H.
  const auto views = test_support::attention_views(r.spec, r.q, r.k, r.v, r.o);
  AttentionCheckOptions opt;
  opt.dtype = DType::f16;
  const auto wrong_o = attention_view(r.o.data(), AttentionLayout::bhsd, 1, 2, 32, 40);
  expect_error([&] { check_attention(views.tensors(), wrong_o, nullptr, r.spec.problem, opt); },
               "wrong layout");
  const auto q3 = attention_view(r.q.data(), AttentionLayout::bhsd, 1, 3, 20, 32);
  const auto o3 = attention_view(r.o.data(), AttentionLayout::bhsd, 1, 3, 20, 32);
  expect_error(
      [&] {
        check_attention({&q3, &views.k, &views.v}, o3, nullptr, r.spec.problem, opt);
      },
      "do not divide");
  AttentionProblem p = r.spec.problem;
  p.scale = -1;
  expect_error([&] { check_attention(views.tensors(), views.o, nullptr, p, opt); }, "scale");
  p = r.spec.problem;
  p.keys.window_left = -2;
  expect_error([&] { check_attention(views.tensors(), views.o, nullptr, p, opt); }, "negative");
  // An fp64 output value no fp32/fp16/bf16 kernel can store.
  bad = r;
  bad.o[(0 * 40 + 20) * 32] = 0.1;
  expect_error([&] { recheck(bad, nullptr); }, "o at batch 0, head 0, row 20, column 0");
}

// When the fast tier's radius leaves the printed ratio uncertain (here L = 1: a correct kernel
// returns v exactly, so its ratio is 0 ± radius/bound), the rows that can hold the maximum are
// recomputed in Arb, through the same selection as the check of our own kernel
// (flash_attention_rows_to_refine).
TEST(CheckAttention, RowsTheFastTierCannotDecideAreRefinedInArb) {
  EmulatedAttentionSpec s = base_spec(EmulatedAlgorithm::flash, DType::f16);
  s.seqlen_q = s.seqlen_k = 1;
  const CheckRun r = run_check(s);
  EXPECT_TRUE(r.result.pass) << describe(r.result.worst_head());
  for (const auto& h : r.result.heads) {
    EXPECT_EQ(h.refined_rows, 1u) << describe(h);
    // Arb at 96 bits encloses v within ~2⁻⁸⁸·|v|; the double tier alone would leave ~1e-16.
    EXPECT_LT(h.max_error, 1e-24) << describe(h);
  }
}

/// FA's attention_ref without upcast, row by row in the plainest form: the known answer the
/// library's blocked naive reference must reproduce bit for bit.
std::vector<float> naive_row_by_row(const std::vector<double>& q, const std::vector<double>& k,
                                    const std::vector<double>& v, std::ptrdiff_t Lq,
                                    std::ptrdiff_t Lk, std::ptrdiff_t d, DType t, float scale,
                                    const KeyVisibility& keys, std::optional<float> softcap) {
  auto rd = [&](double x) { return gpu::round_through(t, static_cast<float>(x)); };
  std::vector<float> out(Lq * d, 0.0f);
  for (std::ptrdiff_t i = 0; i < Lq; ++i) {
    const KeyRange r = keys.range(i, Lq, Lk);
    if (r.empty()) continue;
    std::vector<float> p;
    float m = -std::numeric_limits<float>::infinity();
    for (std::ptrdiff_t j = r.begin; j < r.end; ++j) {
      float sc = 0.0f;
      for (std::ptrdiff_t c = 0; c < d; ++c) {
        const float qc = gpu::round_through(t, rd(q[i * d + c]) * scale);
        sc += qc * rd(k[j * d + c]);
      }
      sc = gpu::round_through(t, sc);
      if (softcap) {
        sc = gpu::round_through(t, sc / *softcap);
        sc = gpu::round_through(t, std::tanh(sc));
        sc = gpu::round_through(t, sc * *softcap);
      }
      p.push_back(sc);
      m = std::max(m, sc);
    }
    float sum = 0.0f;
    for (float& x : p) sum += (x = gpu::portable_expf(x - m));
    for (float& x : p) x = gpu::round_through(t, x / sum);
    for (std::ptrdiff_t c = 0; c < d; ++c) {
      float o = 0.0f;
      for (std::ptrdiff_t j = r.begin; j < r.end; ++j) o += p[j - r.begin] * rd(v[j * d + c]);
      out[i * d + c] = gpu::round_through(t, o);
    }
  }
  return out;
}

TEST(NaiveAttentionReference, MatchesTheRowByRowDefinitionBitForBit) {
  std::printf("seed %llu\n", static_cast<unsigned long long>(kSeed));
  KeyVisibility window = KeyVisibility::causal_mask();
  window.window_left = 9;
  const std::vector<std::pair<const char*, KeyVisibility>> visibilities = {
      {"none", KeyVisibility::all()},
      {"causal bottom-right", KeyVisibility::causal_mask()},
      {"causal top-left", KeyVisibility::causal_mask(DiagonalAlignment::top_left)},
      {"window (9, 0)", window}};
  for (DType t : {DType::f32, DType::f16, DType::bf16})
    for (const auto& [label, keys] : visibilities)
      for (std::optional<float> cap : {std::optional<float>(), std::optional<float>(3.0f)}) {
        const std::ptrdiff_t Lq = 29, Lk = 21, d = 16;  // Lq > Lk: masked rows; 29 % 8 ≠ 0
        Rng rng(kSeed);
        const auto q = test_support::random_in_dtype(rng, Lq * d, t);
        const auto k = test_support::random_in_dtype(rng, Lk * d, t);
        const auto v = test_support::random_in_dtype(rng, Lk * d, t);
        const float scale = 0.25f;
        const auto view = [&](const std::vector<double>& x, std::ptrdiff_t L) {
          return ConstMatrixView<double>(x.data(), L, d, ViewStride(d, 1));
        };
        const auto got =
            naive_attention_reference(view(q, Lq), view(k, Lk), view(v, Lk), t, scale, keys, cap);
        const auto want = naive_row_by_row(q, k, v, Lq, Lk, d, t, scale, keys, cap);
        ASSERT_EQ(got.size(), want.size());
        for (std::size_t e = 0; e < got.size(); ++e)
          ASSERT_EQ(gpu::float_bits(got[e]), gpu::float_bits(want[e]))
              << gpu::dtype_name(t) << " " << label << (cap ? " softcap" : "") << " element " << e;
      }
}

TEST(CheckAttention, CancellationStopsAndProgressCountsHeads) {
  CheckRun r = masked_run();
  const auto views = test_support::attention_views(r.spec, r.q, r.k, r.v, r.o);
  AttentionCheckOptions opt;
  opt.dtype = DType::f16, opt.output_dtype = DType::f16;
  std::size_t calls = 0, last_total = 0;
  opt.progress = [&](std::size_t, std::size_t total) { ++calls, last_total = total; };
  EXPECT_TRUE(check_attention(views.tensors(), views.o, nullptr, r.spec.problem, opt).pass);
  EXPECT_EQ(calls, 2u);
  EXPECT_EQ(last_total, 2u);
  Cancellation cancel;
  cancel.request();
  opt.cancel = &cancel;
  EXPECT_THROW(check_attention(views.tensors(), views.o, nullptr, r.spec.problem, opt), Cancelled);
}

}  // namespace
}  // namespace attncert

namespace attncert {
namespace {

// The subtle defects against the PROBABILISTIC bound (rule probabilistic): rows of 300
// keys, the defect in head 1 of 3. Each must exceed it by ≥ 3× (the target) at an element
// the defect changed; the correct heads 0 and 2 (random inputs: inside the model) stay within it.
TEST(CheckAttention, InjectedDefectsExceedTheProbabilisticBoundThreefold) {
  std::printf("seed %llu\n", static_cast<unsigned long long>(kSeed));
  AttentionDefects bf16_acc, dropped;
  bf16_acc.bf16_accumulation = true;
  dropped.drop_last_partial_tile = true;
  struct Case {
    const char* name;
    DType dtype;
    AttentionDefects defects;
    int block_k;
  };
  const std::vector<Case> cases = {
      {"P·V accumulated in bf16, fp16 inputs", DType::f16, in_head_1(bf16_acc), 64},
      {"P·V accumulated in bf16, fp32 inputs", DType::f32, in_head_1(bf16_acc), 64},
      {"P·V accumulated in bf16, bf16 inputs", DType::bf16, in_head_1(bf16_acc), 64},
      {"last partial key tile dropped (44 of 300), bf16", DType::bf16, in_head_1(dropped), 128},
      {"last partial key tile dropped (44 of 300), fp16", DType::f16, in_head_1(dropped), 64},
  };
  for (const Case& c : cases) {
    EmulatedAttentionSpec s = base_spec(EmulatedAlgorithm::flash, c.dtype);
    s.heads = s.kv_heads = 3, s.seqlen_q = 24, s.seqlen_k = 300, s.head_dim = 64;
    s.block_k = c.block_k;
    s.problem.keys = KeyVisibility::all();
    s.defects = c.defects;
    const CheckRun r = run_check(s);
    EmulatedAttentionSpec correct_spec = s;
    correct_spec.defects = {};
    const auto correct = test_support::emulated_attention(correct_spec, r.q, r.k, r.v);
    SCOPED_TRACE(c.name);
    const AttentionHeadReport& bad = r.result.heads[1];
    const AttentionElement& w = bad.probabilistic_worst;
    EXPECT_FALSE(bad.probabilistic_pass);
    EXPECT_GE(bad.max_probabilistic_ratio, 3.0);
    EXPECT_EQ(w.head, 1);
    if (w.column >= 0) {  // an O element the defect changed (bhsd flat index)
      const std::size_t e = (static_cast<std::size_t>(1) * s.seqlen_q + w.row) * s.dv() + w.column;
      EXPECT_NE(r.o[e], correct.o[e]);
    }
    for (std::size_t h : {0u, 2u}) {
      EXPECT_TRUE(r.result.heads[h].probabilistic_pass)
          << "correct head " << h << " probabilistic ratio "
          << r.result.heads[h].max_probabilistic_ratio;
    }
    std::printf(
        "%-48s probabilistic ratio %7.3g, guaranteed %7.3g; worst (head %td, row %td, col %td) "
        "value %.6g truth %.6g error %.3g p-bound %.3g; correct heads' p-ratios %.3g %.3g\n",
        c.name, bad.max_probabilistic_ratio, bad.max_ratio, w.head, w.row, w.column, w.value,
        w.truth_mid, w.error, w.probabilistic_bound, r.result.heads[0].max_probabilistic_ratio,
        r.result.heads[2].max_probabilistic_ratio);
  }
}

// The probabilistic rule decides when chosen; λ = √(2 ln(2m/δ)) over every value of the call;
// δ outside (0, 1) is a one-line error.
TEST(CheckAttention, ProbabilisticRuleLambdaAndFalseAlarm) {
  EmulatedAttentionSpec s = base_spec(EmulatedAlgorithm::flash, DType::bf16);
  Rng rng(kSeed);
  const auto q = test_support::random_in_dtype(rng, 2 * 70 * 32, DType::bf16);
  const auto k = test_support::random_in_dtype(rng, 2 * 133 * 32, DType::bf16);
  const auto v = test_support::random_in_dtype(rng, 2 * 133 * 32, DType::bf16);
  auto out = test_support::emulated_attention(s, q, k, v);
  const auto views = test_support::attention_views(s, q, k, v, out.o);
  AttentionCheckOptions opt;
  opt.dtype = DType::bf16, opt.jobs = 2, opt.rule = AttentionRule::probabilistic;
  opt.false_alarm = 1e-3;
  auto r = check_attention(views.tensors(), views.o, out.lse.data(), s.problem, opt);
  EXPECT_DOUBLE_EQ(r.lambda, probabilistic_lambda(1e-3, 2.0 * 70 * (32 + 1)));
  EXPECT_EQ(r.false_alarm, 1e-3);
  EXPECT_EQ(r.rule, AttentionRule::probabilistic);
  for (const auto& h : r.heads) {
    EXPECT_EQ(h.pass, h.probabilistic_pass);
    EXPECT_LE(h.max_probabilistic_ratio, 1.0);
    EXPECT_GE(h.max_probabilistic_ratio, h.max_ratio);  // the probabilistic bound is smaller
  }
  // Without lse, m counts the outputs only.
  r = check_attention(views.tensors(), views.o, nullptr, s.problem, opt);
  EXPECT_DOUBLE_EQ(r.lambda, probabilistic_lambda(1e-3, 2.0 * 70 * 32));
  for (double bad : {0.0, 1.0, -0.5, std::nan("")}) {
    opt.false_alarm = bad;
    try {
      check_attention(views.tensors(), views.o, nullptr, s.problem, opt);
      ADD_FAILURE() << "no error for false alarm " << bad;
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find("false-alarm"), std::string::npos) << e.what();
      EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos);
    }
  }
}

}  // namespace
}  // namespace attncert
