// The flash-attention CPU twin (always runs, no GPU needed):
//  - against the certified Ball ground truth on the quick subset of the shape matrix, every
//    element within the a-priori bound (ratio ≤ 1), output and lse, all dtypes;
//  - exact special cases (one key: O = v̂ and lse = the logit; fully masked rows: 0 and −inf);
//  - repeated runs bit-identical;
//  - can_run names each bad input, and the device entry points return that status first;
//  - the a-priori bound follows the kernel's tiling, which is the one the twin runs;
//  - portable_logf within its stated error bound.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <set>
#include <stdexcept>
#include <span>
#include <string>
#include <vector>

#include "gpu/flash_attention.hpp"
#include "gpu/flash_attention_tile.cuh"
#include "gpu/output_equality.hpp"
#include "gpu/portable_log.hpp"
#include "numerics/rng.hpp"
#include "proofs_checks/flash_attention_check.hpp"
#include "tests/gpu/kernel_check_test_support.hpp"

namespace attncert::gpu {
namespace {

constexpr std::uint64_t kSeed = 20261123;

struct Buffers {
  std::vector<float> q, k, v, out, lse;
  FlashAttentionArgs args;
};

Buffers random_fp32(std::uint64_t seed, int bh, int Lq, int Lk, int d, bool causal) {
  Rng rng(seed);
  Buffers b;
  auto fill = [&](std::vector<float>& x, std::size_t n) {
    x.resize(n);
    for (float& e : x) e = static_cast<float>(rng.normal());
  };
  fill(b.q, static_cast<std::size_t>(bh) * Lq * d);
  fill(b.k, static_cast<std::size_t>(bh) * Lk * d);
  fill(b.v, static_cast<std::size_t>(bh) * Lk * d);
  b.out.assign(static_cast<std::size_t>(bh) * Lq * d, -1.0f);
  b.lse.assign(static_cast<std::size_t>(bh) * Lq, -1.0f);
  FlashAttentionArgs& a = b.args;
  a.q = b.q.data(), a.k = b.k.data(), a.v = b.v.data();
  a.out = b.out.data(), a.log_sum_exp = b.lse.data();
  a.batch_heads = bh, a.seqlen_q = Lq, a.seqlen_k = Lk, a.head_dim = d;
  a.scale = default_attention_scale(d), a.causal = causal;
  return b;
}

TEST(FlashAttentionTwin, QuickMatrixWithinAPrioriBoundOfCertifiedTruth) {
  KernelCheckRequest request;
  request.quick = true;
  request.prefer_device = false;
  request.seed = kSeed;
  SCOPED_TRACE("seed = " + std::to_string(request.seed));
  const std::vector<KernelCheckRow> rows = check_flash_attention(request);
  ASSERT_FALSE(rows.empty());
  std::set<std::string> dtypes, variants;
  std::set<int> dims;
  for (const KernelCheckRow& r : rows) {
    SCOPED_TRACE(r.shape + " " + r.dtype + " " + r.variant + ": " + r.note);
    std::printf("%-28s %-5s %-34s err %.3e bound %.3e ratio %.3e prob. %.3e naive %.3e FA %s | "
                "%s\n",
                r.shape.c_str(), r.dtype.c_str(), r.variant.c_str(), r.max_abs_error, r.bound,
                r.ratio, r.probabilistic_ratio, r.naive_error, r.fa_rule_pass ? "pass" : "FAIL",
                r.note.c_str());
    EXPECT_EQ(r.executed_on, "twin");
    EXPECT_TRUE(r.deterministic);
    EXPECT_LE(r.ratio, 1.0);
    EXPECT_GT(r.bound, 0.0);
    EXPECT_TRUE(r.pass);
    EXPECT_FALSE(r.vacuous);
    // The probabilistic bound is the same analysis with the roundings' sum replaced by λ·rms:
    // never above the guaranteed one, so its ratio is never below.
    EXPECT_LE(r.probabilistic_bound, r.bound);
    EXPECT_GE(r.probabilistic_ratio, r.ratio);
    EXPECT_EQ(r.false_alarm, request.false_alarm);
    // Inputs drawn in double are not values of the dtype: rounding them moves the answer.
    EXPECT_GT(r.input_quantization_high, 0.0);
    EXPECT_LE(r.input_quantization_low, r.input_quantization_high);
    // The certified truth must be far sharper than what it judges.
    EXPECT_LT(r.ground_truth_radius, 1e-6 * r.bound);
    dtypes.insert(r.dtype);
    variants.insert(r.variant);
    dims.insert(std::stoi(r.shape.substr(r.shape.find("d=") + 2)));
  }
  // The bound is tight: issue 19 asks for the median ratio at ≥ 3× the old bound's (fp32 0.008,
  // fp16 0.009, bf16 0.021, measured 2026-12-03 on this matrix and seed).
  std::map<std::string, std::vector<double>> ratios;
  for (const KernelCheckRow& r : rows) ratios[r.dtype].push_back(r.ratio);
  const std::map<std::string, double> old_median{{"fp32", 0.008}, {"fp16", 0.009}, {"bf16", 0.021}};
  for (auto& [dtype, v] : ratios) {
    std::sort(v.begin(), v.end());
    const double median = v[v.size() / 2];
    std::printf("%s: median ratio %.3g (old %.3g)\n", dtype.c_str(), median, old_median.at(dtype));
    EXPECT_GE(median, 3 * old_median.at(dtype)) << dtype;
  }
  // The subset really covers what the issue asks for.
  EXPECT_EQ(dtypes, (std::set<std::string>{"fp32", "fp16", "bf16"}));
  EXPECT_TRUE(dims.count(60) && dims.count(100) && dims.count(64) && dims.count(128));
  bool masked = false, negative = false, causal = false, plain = false;
  for (const std::string& v : variants) {
    masked |= v.find("masked-rows") != std::string::npos;
    negative |= v.find("logits<=-5e4") != std::string::npos;
    causal |= v.rfind("causal", 0) == 0;
    plain |= v.rfind("non-causal", 0) == 0;
  }
  EXPECT_TRUE(masked && negative && causal && plain);
}

// The whole shape matrix (a few CPU-minutes; not for CI): run with
// --gtest_also_run_disabled_tests --gtest_filter=*FullMatrix*. Prints every row and the
// largest and median ratio per dtype.
TEST(FlashAttentionTwin, DISABLED_FullMatrixWithinAPrioriBound) {
  KernelCheckRequest request;
  request.prefer_device = false;
  request.seed = kSeed;
  SCOPED_TRACE("seed = " + std::to_string(request.seed));
  const auto start = std::chrono::steady_clock::now();
  const std::vector<KernelCheckRow> rows =
      check_flash_attention(request, [&](std::size_t done, std::size_t total) {
        const double s =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        std::fprintf(stderr, "\r%zu/%zu rows, %.0f s", done, total, s);
      });
  std::fprintf(stderr, "\n");
  std::map<std::string, std::vector<double>> ratios, probabilistic;
  int fa_fail = 0;
  for (const KernelCheckRow& r : rows) {
    std::printf("%-30s %-5s %-36s err %.3e bound %.3e ratio %.3e naive %.3e FA %s | %s\n",
                r.shape.c_str(), r.dtype.c_str(), r.variant.c_str(), r.max_abs_error, r.bound,
                r.ratio, r.naive_error, r.fa_rule_pass ? "pass" : "FAIL", r.note.c_str());
    EXPECT_TRUE(r.pass) << r.shape << " " << r.dtype << " " << r.variant << ": " << r.note;
    // Random inputs (every case of the matrix): the probabilistic bound holds as well.
    EXPECT_TRUE(r.probabilistic_pass) << r.shape << " " << r.dtype << " " << r.variant;
    const std::string group =
        r.dtype + (r.variant.find("logits<=-5e4") != std::string::npos ? " logits<=-5e4" : "");
    ratios[group].push_back(r.ratio);
    probabilistic[group].push_back(r.probabilistic_ratio);
    fa_fail += !r.fa_rule_pass;
  }
  for (auto& [group, v] : ratios) {
    std::vector<double>& p = probabilistic[group];
    std::sort(v.begin(), v.end());
    std::sort(p.begin(), p.end());
    std::printf("%-20s %zu rows, ratio max %.3e median %.3e min %.3e; probabilistic max %.3e "
                "median %.3e\n",
                group.c_str(), v.size(), v.back(), v[v.size() / 2], v.front(), p.back(),
                p[p.size() / 2]);
  }
  std::printf("FA rule failures: %d of %zu\n", fa_fail, rows.size());
}

// δ of the probabilistic bound must lie in (0, 1): refused in one line before any case runs.
TEST(FlashAttentionTwin, FalseAlarmOutsideTheOpenUnitIntervalIsRefused) {
  KernelCheckRequest request;
  request.quick = true;
  request.prefer_device = false;
  for (double bad : {0.0, 1.0, -0.5, std::numeric_limits<double>::quiet_NaN()}) {
    request.false_alarm = bad;
    EXPECT_THROW(check_flash_attention(request), std::invalid_argument) << bad;
  }
}

// Cases run on worker threads; the rows, in order and bit for bit, must not depend on how many.
TEST(FlashAttentionTwin, ValidationRowsDoNotDependOnTheNumberOfJobs) {
  expect_rows_independent_of_jobs(check_flash_attention, gpu::DType::f16, 11);
}

// Review finding: fp16 inputs at or beyond 65520 overflow to ±inf in the kernel; the rounding
// model of the bound does not cover them, so the bound must be infinite, not a finite promise.
// The bound is of the values the kernel reads: a number that is not one throws.
TEST(FlashAttentionTwin, InputsBeyondTheDtypeRangeGetNoFiniteBound) {
  const std::vector<double> q(64, 0.5), k(4 * 64, 0.25);
  std::vector<double> v(4 * 64, 1.0);
  FlashAttentionRow row{DType::f16, 64, 0.125f, q, k, v};
  EXPECT_TRUE(std::isfinite(flash_attention_row_bound(row, 5).output[0]));
  v[3] = static_cast<double>(round_through(DType::f16, 65520.0f));  // what the kernel reads: inf
  ASSERT_TRUE(std::isinf(v[3]));
  EXPECT_TRUE(std::isinf(flash_attention_row_bound(row, 5).output[3]));
  EXPECT_TRUE(std::isinf(flash_attention_row_bound(row, 5).lse));
  v[3] = 65536;  // well inside bf16's range and a bf16 value, but not an fp16 one
  EXPECT_THROW(flash_attention_row_bound(row, 5), std::invalid_argument);
  row.dtype = DType::bf16;
  EXPECT_TRUE(std::isfinite(flash_attention_row_bound(row, 5).output[3]));
  v[3] = 1.0 + 0x1p-10;  // an fp16 value, not a bf16 one
  EXPECT_THROW(flash_attention_row_bound(row, 5), std::invalid_argument);
  row.dtype = DType::f16;
  EXPECT_THROW(flash_attention_row_bound(row, 0), std::invalid_argument);  // λ ≤ 0
}

// The bound is a function of the kernel's tiling (issue 16): retiling must move it. Every
// addition of the row-sum tree is a rounding whose coefficient is the weight below it: 4 keys per
// lane over 16 lanes gives larger partial sums (400 key-levels per 64-key tile against 384) and
// longer paths, so a larger bound; 128-key tiles halve the row-sum updates and the rescales but
// deepen the tree (928 key-levels per 128 keys): a different bound (here nearly the same size).
TEST(FlashAttentionTwin, BoundFollowsTheKernelTiling) {
  Rng rng(kSeed);
  const int n = 1024, d = 64;
  std::vector<double> q(d), k(static_cast<std::size_t>(n) * d), v(k.size());
  for (double& x : q) x = static_cast<float>(rng.normal());
  for (double& x : k) x = static_cast<float>(rng.normal());
  for (double& x : v) x = static_cast<float>(rng.normal());
  const FlashAttentionRow row{DType::f32, d, default_attention_scale(d), q, k, v};
  const FlashAttentionRowBound kernel = flash_attention_row_bound(row, 6);
  const FlashAttentionRowBound same = flash_attention_row_bound(row, 6, kFlashAttentionTiling);
  EXPECT_EQ(kernel.output, same.output);
  EXPECT_EQ(kernel.lse, same.lse);

  const FlashAttentionTiling deeper_tree{64, 64, 4, 16};
  ASSERT_GT(deeper_tree.row_sum_tree_depth(), kFlashAttentionTiling.row_sum_tree_depth());
  const FlashAttentionRowBound deeper = flash_attention_row_bound(row, 6, deeper_tree);
  const FlashAttentionTiling bigger_block{64, 128, 4, 32};
  const FlashAttentionRowBound bigger = flash_attention_row_bound(row, 6, bigger_block);
  for (int c = 0; c < d; ++c) {
    EXPECT_GT(deeper.output[c], kernel.output[c]) << c;
    EXPECT_NE(bigger.output[c], kernel.output[c]) << c;
  }
  EXPECT_GT(deeper.lse, kernel.lse);
  EXPECT_NE(bigger.lse, kernel.lse);
}

// The tiling the bound assumes is the one the twin (and the kernel) run: the same tile count
// per row, and a row sum of one pair add per lane and then the emulated butterfly.
TEST(FlashAttentionTwin, TwinRunsTheTilingTheBoundAssumes) {
  for (int Lk : {1, 63, 64, 65, 1000, 1024, 1025})
    EXPECT_EQ(flash::key_tile_count(0, 1, Lk, false), kFlashAttentionTiling.key_tiles(Lk)) << Lk;
  // Depth of the twin's row-sum tree, measured: every lane starts at depth 1 (p_x + p_{x+32})
  // and each butterfly stage adds one level.
  float depth[flash::kLanes];
  for (float& x : depth) x = static_cast<float>(flash::kKeysPerLane - 1);
  const float measured =
      flash::emulate_xor_butterfly(depth, [](float a, float b) { return std::max(a, b) + 1; });
  EXPECT_EQ(measured, kFlashAttentionTiling.row_sum_tree_depth());
  EXPECT_EQ(flash::kKeysPerLane * flash::kLanes, kFlashAttentionTiling.block_k);
}

// One key: softmax weight 1 exactly (p = e⁰ = 1, l = 1), so O = v̂ and lse = the fp32 logit.
TEST(FlashAttentionTwin, SingleKeyGivesValueAndLogitExactly) {
  SCOPED_TRACE("seed = " + std::to_string(kSeed));
  Buffers b = random_fp32(kSeed, 2, 239, 1, 100, false);
  ASSERT_TRUE(flash_attention_twin(b.args).ok());
  for (int h = 0; h < 2; ++h)
    for (int i = 0; i < 239; ++i) {
      const std::size_t row = static_cast<std::size_t>(h) * 239 + i;
      float dot = 0.0f;
      for (int c = 0; c < 100; ++c) dot = std::fma(b.q[row * 100 + c], b.k[h * 100 + c], dot);
      ASSERT_EQ(b.lse[row], dot * b.args.scale + 0.0f) << "row " << row;
      for (int c = 0; c < 100; ++c) ASSERT_EQ(b.out[row * 100 + c], b.v[h * 100 + c]);
    }
}

// Causal with Lq > Lk: the first Lq − Lk rows see no key (bottom-right alignment).
TEST(FlashAttentionTwin, FullyMaskedRowsGiveZeroAndMinusInfinity) {
  SCOPED_TRACE("seed = " + std::to_string(kSeed));
  Buffers b = random_fp32(kSeed + 1, 1, 799, 3, 60, true);
  ASSERT_TRUE(flash_attention_twin(b.args).ok());
  for (int i = 0; i < 799; ++i) {
    if (i < 796) {
      EXPECT_EQ(b.lse[i], -std::numeric_limits<float>::infinity()) << "row " << i;
      for (int c = 0; c < 60; ++c) ASSERT_EQ(b.out[i * 60 + c], 0.0f) << "row " << i;
    } else {
      EXPECT_TRUE(std::isfinite(b.lse[i])) << "row " << i;
    }
  }
  // Row 796 sees key 0 only: its output is v_0 exactly.
  for (int c = 0; c < 60; ++c) EXPECT_EQ(b.out[796 * 60 + c], b.v[c]);
}

// A NaN in a query gives that row NaN in every output and its lse — never the masked row's
// 0 / −inf (issue 18: finalize_output read a NaN row sum as "no visible key"); other rows and
// the fully masked rows are exactly what they are without it.
TEST(FlashAttentionTwin, NaNInAQueryGivesANaNRowNotAMaskedOne) {
  SCOPED_TRACE("seed = " + std::to_string(kSeed));
  const int Lq = 40, Lk = 37, d = 64;  // causal, Lq > Lk: rows 0..2 see no key
  Buffers clean = random_fp32(kSeed + 5, 1, Lq, Lk, d, true);
  ASSERT_TRUE(flash_attention_twin(clean.args).ok());
  for (const int nan_row : {3, 17, Lq - 1}) {
    SCOPED_TRACE("NaN in row " + std::to_string(nan_row));
    Buffers b = random_fp32(kSeed + 5, 1, Lq, Lk, d, true);
    b.q[static_cast<std::size_t>(nan_row) * d + 5] = std::numeric_limits<float>::quiet_NaN();
    ASSERT_TRUE(flash_attention_twin(b.args).ok());
    for (int i = 0; i < Lq; ++i) {
      if (i == nan_row) {
        EXPECT_TRUE(std::isnan(b.lse[i]));
        for (int c = 0; c < d; ++c) ASSERT_TRUE(std::isnan(b.out[i * d + c])) << "column " << c;
      } else {
        // Other rows: by value as without the NaN (masked rows: 0 and −inf).
        ASSERT_TRUE(same_output_value(b.lse[i], clean.lse[i])) << "row " << i;
        ASSERT_EQ(output_difference_message(std::span(b.out).subspan(i * d, d),
                                            std::span(clean.out).subspan(i * d, d)),
                  "")
            << "row " << i;
      }
    }
  }
  EXPECT_EQ(clean.lse[0], -std::numeric_limits<float>::infinity());
  EXPECT_EQ(clean.out[0], 0.0f);
}

TEST(FlashAttentionTwin, RepeatedRunsAreBitIdentical) {
  SCOPED_TRACE("seed = " + std::to_string(kSeed));
  Buffers b = random_fp32(kSeed + 2, 2, 113, 203, 100, true);
  ASSERT_TRUE(flash_attention_twin(b.args).ok());
  const std::vector<float> out0 = b.out, lse0 = b.lse;
  for (int repeat = 0; repeat < 5; ++repeat) {
    std::fill(b.out.begin(), b.out.end(), 7.0f);
    ASSERT_TRUE(flash_attention_twin(b.args).ok());
    ASSERT_EQ(output_difference_message(out0, b.out), "") << "repeat " << repeat;
    ASSERT_EQ(output_difference_message(lse0, b.lse), "") << "repeat " << repeat;
  }
}

// Every bad argument gets its own status code and a message naming it, from can_run and from
// each entry point (before any launch, so the same answer with or without a device).
TEST(FlashAttentionTwin, CanRunNamesEachBadInput) {
  Buffers good = random_fp32(kSeed, 1, 4, 4, 32, false);
  ASSERT_TRUE(can_run(good.args).ok()) << can_run(good.args).message;
  struct BadCase {
    const char* what;
    KernelStatusCode code;
    const char* names;
    void (*mutate)(FlashAttentionArgs&);
  };
  const BadCase cases[] = {
      {"head_dim 31", KernelStatusCode::unsupported_shape, "head_dim = 31",
       [](FlashAttentionArgs& a) { a.head_dim = 31; }},
      {"head_dim 129", KernelStatusCode::unsupported_shape, "head_dim = 129",
       [](FlashAttentionArgs& a) { a.head_dim = 129; }},
      {"seqlen_q 0", KernelStatusCode::empty_input, "seqlen_q = 0",
       [](FlashAttentionArgs& a) { a.seqlen_q = 0; }},
      {"seqlen_k 0", KernelStatusCode::empty_input, "seqlen_k = 0",
       [](FlashAttentionArgs& a) { a.seqlen_k = 0; }},
      {"batch_heads 0", KernelStatusCode::empty_input, "batch_heads = 0",
       [](FlashAttentionArgs& a) { a.batch_heads = 0; }},
      {"null q", KernelStatusCode::null_pointer, "q is null",
       [](FlashAttentionArgs& a) { a.q = nullptr; }},
      {"null k", KernelStatusCode::null_pointer, "k is null",
       [](FlashAttentionArgs& a) { a.k = nullptr; }},
      {"null v", KernelStatusCode::null_pointer, "v is null",
       [](FlashAttentionArgs& a) { a.v = nullptr; }},
      {"null out", KernelStatusCode::null_pointer, "out is null",
       [](FlashAttentionArgs& a) { a.out = nullptr; }},
      {"null lse", KernelStatusCode::null_pointer, "log_sum_exp is null",
       [](FlashAttentionArgs& a) { a.log_sum_exp = nullptr; }},
      {"misaligned k", KernelStatusCode::misaligned_pointer, "k is not aligned to 4 bytes",
       [](FlashAttentionArgs& a) { a.k = static_cast<const char*>(a.k) + 1; }},
      {"misaligned out", KernelStatusCode::misaligned_pointer, "out is not aligned",
       [](FlashAttentionArgs& a) {
         a.out = reinterpret_cast<float*>(reinterpret_cast<char*>(a.out) + 2);
       }},
      {"misaligned fp16 q", KernelStatusCode::misaligned_pointer, "q is not aligned to 2 bytes",
       [](FlashAttentionArgs& a) {
         a.q_dtype = a.k_dtype = a.v_dtype = DType::f16;
         a.q = static_cast<const char*>(a.q) + 1;
       }},
      {"dtype mismatch", KernelStatusCode::dtype_mismatch, "fp32, bf16, fp32",
       [](FlashAttentionArgs& a) { a.k_dtype = DType::bf16; }},
      {"NaN scale", KernelStatusCode::invalid_argument, "scale",
       [](FlashAttentionArgs& a) { a.scale = std::numeric_limits<float>::quiet_NaN(); }},
      {"zero scale", KernelStatusCode::invalid_argument, "scale",
       [](FlashAttentionArgs& a) { a.scale = 0.0f; }},
      {"infinite scale", KernelStatusCode::invalid_argument, "scale",
       [](FlashAttentionArgs& a) { a.scale = std::numeric_limits<float>::infinity(); }},
  };
  for (const BadCase& c : cases) {
    SCOPED_TRACE(c.what);
    FlashAttentionArgs a = good.args;
    c.mutate(a);
    const KernelStatus s = can_run(a);
    EXPECT_EQ(s.code, c.code) << s.message;
    EXPECT_NE(s.message.find(c.names), std::string::npos) << s.message;
    EXPECT_NE(s.message.find("flash_attention"), std::string::npos) << s.message;
    EXPECT_EQ(flash_attention_twin(a).code, c.code);
    EXPECT_EQ(run_flash_attention_on_device(a).code, c.code);
    EXPECT_EQ(launch_flash_attention(a).code, c.code);
    double ms = -1;
    EXPECT_EQ(time_flash_attention_on_device(a, 3, ms).code, c.code);
  }
  // Outputs untouched by a rejected call.
  for (float x : good.out) ASSERT_EQ(x, -1.0f);
}

// portable_logf against double log on random positive floats spanning the whole exponent
// range (and near 1, where the relative error of log is largest), within its stated bound.
TEST(FlashAttentionTwin, PortableLogWithinStatedBound) {
  SCOPED_TRACE("seed = " + std::to_string(kSeed));
  Rng rng(kSeed);
  double worst = 0;  // error / bound
  for (int i = 0; i < 1 << 20; ++i) {
    float x;
    if (i % 4 == 0) {
      x = static_cast<float>(1.0 + rng.uniform(-0.25, 0.25));
    } else {
      x = bits_float(static_cast<std::uint32_t>(rng.next_u64()) & 0x7fffffffu);
      if (!std::isfinite(x) || x == 0.0f) continue;
    }
    const double exact = std::log(static_cast<double>(x));
    const double bound = static_cast<double>(kPortableLogRelativeError) * std::abs(exact) +
                         static_cast<double>(kPortableLogAbsError);
    const double err = std::abs(static_cast<double>(portable_logf(x)) - exact);
    worst = std::max(worst, err / bound);
    ASSERT_LE(err, bound) << "x = " << x << " (bits " << float_bits(x) << ")";
  }
  std::printf("portable_logf: worst error / stated bound = %.3f\n", worst);
  EXPECT_EQ(portable_logf(1.0f), 0.0f);
  EXPECT_EQ(portable_logf(0.0f), -std::numeric_limits<float>::infinity());
  EXPECT_TRUE(std::isnan(portable_logf(-1.0f)));
}

}  // namespace
}  // namespace attncert::gpu
