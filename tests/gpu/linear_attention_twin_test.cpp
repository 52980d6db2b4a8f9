// The linear attention kernel's CPU twin against the certified ground truth (quick matrix, every
// feature map, dtype and causality), split-and-resume, determinism, batching, non-positive
// normalisers and argument checks. The twin is bit-identical to the kernel (device test), so
// these results hold for the kernel's arithmetic.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <string>
#include <vector>

#include "gpu/linear_attention.hpp"
#include "gpu/output_equality.hpp"
#include "numerics/ball.hpp"
#include "numerics/linear_attention.hpp"
#include "numerics/rng.hpp"
#include "tests/gpu/kernel_check_test_support.hpp"
#include "proofs_checks/linear_attention_check.hpp"

namespace attncert {
namespace {

// Equality of float outputs by value (gpu/output_equality.hpp: float == would equate +0 and −0).
::testing::AssertionResult same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  if (const auto d = gpu::first_output_difference(a, b))
    return ::testing::AssertionFailure() << "float buffers differ: " << d->message();
  return ::testing::AssertionSuccess();
}

using gpu::DType;
using gpu::KernelStatusCode;
using gpu::LinearAttentionArgs;
using gpu::LinearFeature;
using gpu::LinearReadout;

constexpr std::uint64_t kSeed = 20261123;

struct Buffers {
  std::vector<unsigned char> q, k, v, out;
  std::vector<float> final_state, normaliser;
  long long rows_not_normalised = -1;
};

// Args for one head of `p` in dtype t, pointing into `b` (which must outlive the call).
LinearAttentionArgs args_for(const LinearAttentionProblem& p, DType t, LinearFeature f,
                             LinearReadout r, bool causal, Buffers& b) {
  b.q = to_dtype_buffer(p.q, t);
  b.k = to_dtype_buffer(p.k, t);
  b.v = to_dtype_buffer(p.v, t);
  b.out.assign(b.q.size(), 0xAB);
  b.final_state.assign(gpu::linear_state_elements(f, p.head_dim), -1.0f);
  b.normaliser.assign(p.seqlen, -1.0f);
  LinearAttentionArgs a;
  a.seqlen = p.seqlen;
  a.head_dim = p.head_dim;
  a.q_dtype = a.k_dtype = a.v_dtype = t;
  a.feature = f;
  a.readout = r;
  a.causal = causal;
  a.scale = p.scale;
  a.q = b.q.data();
  a.k = b.k.data();
  a.v = b.v.data();
  a.out = b.out.data();
  a.final_state = b.final_state.data();
  a.normaliser = b.normaliser.data();
  a.rows_not_normalised = &b.rows_not_normalised;
  return a;
}

TEST(LinearAttentionTwin, QuickMatrixWithinTheBoundAgainstCertifiedTruth) {
  SCOPED_TRACE("seed = " + std::to_string(kSeed));
  RecordProperty("seed", std::to_string(kSeed));
  KernelCheckRequest request;
  request.quick = true;
  request.prefer_device = false;
  request.seed = kSeed;
  const std::vector<KernelCheckRow> rows = check_linear_attention(request);
  // 2 lengths × (identity, relu, elu+1 at d = 60; Taylor-2 at d = 7) × 3 dtypes × 2 causalities.
  ASSERT_EQ(rows.size(), 48u);
  double max_ratio = 0;
  for (const KernelCheckRow& row : rows) {
    SCOPED_TRACE(row.shape + " " + row.dtype + " " + row.variant);
    EXPECT_EQ(row.executed_on, "twin");
    EXPECT_TRUE(row.deterministic);
    EXPECT_LE(row.ratio, 1.0) << "error " << row.max_abs_error << " bound " << row.bound;
    EXPECT_TRUE(row.pass) << row.note;
    EXPECT_FALSE(row.vacuous) << row.note;
    EXPECT_EQ(row.false_alarm, kDefaultFalseAlarm);
    EXPECT_LE(row.probabilistic_bound, row.bound);
    EXPECT_GE(row.probabilistic_ratio, row.ratio);
    EXPECT_TRUE(row.probabilistic_pass) << row.note;  // random inputs: the model's regime
    // Rounding the N(0,1) doubles to the dtype moves the output, certainly (low > 0).
    EXPECT_GT(row.input_quantization_low, 0.0);
    EXPECT_GE(row.input_quantization_high, row.input_quantization_low);
    EXPECT_GT(row.max_abs_error, 0.0);  // the measurement saw the rounding at all
    EXPECT_LT(row.ground_truth_radius, 1e-6 * row.max_abs_error);  // truth far sharper than the error
    max_ratio = std::max(max_ratio, row.ratio);
    std::printf("%-34s %-4s %-10s error %.3e ratio %.3f probabilistic %.3f input-q [%.2e, %.2e] "
                "naive %.3e fa %s\n",
                row.shape.c_str(), row.dtype.c_str(), row.variant.c_str(), row.max_abs_error,
                row.ratio, row.probabilistic_ratio, row.input_quantization_low,
                row.input_quantization_high, row.naive_error, row.fa_rule_pass ? "pass" : "FAIL");
  }
  // Not vacuous: the worst case uses most of the bound (fp16/bf16: the output rounding, ≈ 0.9+).
  EXPECT_GT(max_ratio, 0.5);
}

// The fast arb_dot ground truth must be numerics/linear_attention.hpp's truth.
TEST(LinearAttentionTwin, GroundTruthEnclosesTheNumericsBallReference) {
  SCOPED_TRACE("seed = " + std::to_string(kSeed));
  Rng rng = Rng(kSeed).substream(7);
  const LinearAttentionProblem p = make_linear_attention_problem(70, 5, rng);  // crosses a chunk
  const long long T = p.seqlen, d = p.head_dim;
  RowMatrix<Ball> Q(T, d), K(T, d), V(T, d);
  for (long long i = 0; i < T; ++i)
    for (long long a = 0; a < d; ++a) {
      Q(i, a) = Ball(p.q[i * d + a], 128);
      K(i, a) = Ball(p.k[i * d + a], 128);
      V(i, a) = Ball(p.v[i * d + a], 128);
    }
  const Ball scale(static_cast<double>(p.scale), 128);
  for (bool causal : {true, false}) {
    for (LinearFeature f : {LinearFeature::elu_plus_one, LinearFeature::taylor2}) {
      SCOPED_TRACE(std::string(gpu::linear_feature_name(f)) + (causal ? " causal" : ""));
      const FeatureMap phi = f == LinearFeature::taylor2 ? FeatureMap::taylor2() : FeatureMap::elu_plus_one();
      const auto ref = linear_attention<Ball>(Q, K, V, phi, scale, causal);
      const CertifiedLinearOutput ours = certified_linear_attention(p, f, LinearReadout::normalised, causal);
      for (long long s = 0; s < T * d; ++s) {
        const Ball& r = ref.output(s / d, s % d);
        EXPECT_LE(std::fabs(ours.mid[s] - r.mid()), ours.radius[s] + r.radius() + 1e-30) << s;
      }
    }
    for (LinearFeature f : {LinearFeature::identity, LinearFeature::relu}) {
      SCOPED_TRACE(std::string(gpu::linear_feature_name(f)) + (causal ? " causal" : ""));
      const FeatureMap phi = f == LinearFeature::identity ? FeatureMap::identity() : FeatureMap::relu();
      const RowMatrix<Ball> kernel = linear_kernel_matrix<Ball>(Q, K, phi, scale);
      const CertifiedLinearOutput ours = certified_linear_attention(p, f, LinearReadout::unnormalised, causal);
      for (long long i = 0; i < T; ++i)
        for (long long e = 0; e < d; ++e) {
          Ball o(0);
          for (long long j = 0; j < (causal ? i + 1 : T); ++j) o += kernel(i, j) * V(j, e);
          EXPECT_LE(std::fabs(ours.mid[i * d + e] - o.mid()),
                    ours.radius[i * d + e] + o.radius() + 1e-30);
        }
    }
  }
}

// Process 128 tokens, then the rest from the returned state: the chunking is the same as one
// call's, so outputs and final state are bit-identical (causal: the concatenated outputs;
// non-causal: the second call's rows, which see the whole sequence's state).
TEST(LinearAttentionTwin, SplitAtAChunkBoundaryIsBitIdenticalToOneCall) {
  SCOPED_TRACE("seed = " + std::to_string(kSeed));
  Rng rng = Rng(kSeed).substream(11);
  const LinearAttentionProblem p = make_linear_attention_problem(300, 60, rng);
  const LinearAttentionProblem head = slice_tokens(p, 0, 128), tail = slice_tokens(p, 128, 172);
  for (bool causal : {true, false})
    for (DType t : {DType::f32, DType::bf16})
      for (LinearFeature f : {LinearFeature::identity, LinearFeature::elu_plus_one}) {
        SCOPED_TRACE(std::string(gpu::linear_feature_name(f)) + " " + std::string(gpu::dtype_name(t)) +
                     (causal ? " causal" : " non-causal"));
        const LinearReadout r = f == LinearFeature::identity ? LinearReadout::unnormalised : LinearReadout::normalised;
        Buffers one, first, second;
        ASSERT_TRUE(gpu::linear_attention_twin(args_for(p, t, f, r, causal, one)).ok());
        ASSERT_TRUE(gpu::linear_attention_twin(args_for(head, t, f, r, causal, first)).ok());
        LinearAttentionArgs resumed = args_for(tail, t, f, r, causal, second);
        resumed.initial_state = first.final_state.data();
        ASSERT_TRUE(gpu::linear_attention_twin(resumed).ok());
        EXPECT_TRUE(same_bits(one.final_state, second.final_state));
        const std::size_t split_bytes = one.out.size() * 128 / 300;
        const std::vector<unsigned char> one_tail(one.out.begin() + split_bytes, one.out.end());
        EXPECT_EQ(one_tail, second.out);
        if (causal) {
          const std::vector<unsigned char> one_head(one.out.begin(), one.out.begin() + split_bytes);
          EXPECT_EQ(one_head, first.out);
        }
      }
}

// Split at 100 (not a multiple of 64): the chunks differ, so bits may differ; the result is
// within the bound for the split computation (chunks [0,64) [64,100) [100,164) … [292,300)).
TEST(LinearAttentionTwin, SplitOffAChunkBoundaryIsWithinTheBound) {
  SCOPED_TRACE("seed = " + std::to_string(kSeed));
  Rng rng = Rng(kSeed).substream(13);
  const LinearAttentionProblem p = make_linear_attention_problem(300, 64, rng);
  const LinearAttentionProblem head = slice_tokens(p, 0, 100), tail = slice_tokens(p, 100, 200);
  const long long d = p.head_dim;
  for (DType t : {DType::f32, DType::f16})
    for (LinearFeature f : {LinearFeature::relu, LinearFeature::elu_plus_one}) {
      SCOPED_TRACE(std::string(gpu::linear_feature_name(f)) + " " + std::string(gpu::dtype_name(t)));
      const LinearReadout r = f == LinearFeature::relu ? LinearReadout::unnormalised : LinearReadout::normalised;
      Buffers first, second;
      ASSERT_TRUE(gpu::linear_attention_twin(args_for(head, t, f, r, true, first)).ok());
      LinearAttentionArgs resumed = args_for(tail, t, f, r, true, second);
      resumed.initial_state = first.final_state.data();
      ASSERT_TRUE(gpu::linear_attention_twin(resumed).ok());
      const LinearAttentionProblem read = inputs_as_read(p, t);
      const CertifiedLinearOutput truth = certified_linear_attention(read, f, r, true);
      const std::vector<double> bound =
          linear_attention_error_bounds(read, f, r, true, t, kDefaultFalseAlarm, {100, 200}).guaranteed;
      double worst = 0;
      for (long long s = 0; s < p.seqlen * d; ++s) {
        const bool in_head = s < head.seqlen * d;
        const double computed = in_head ? dtype_buffer_value(first.out, t, s)
                                        : dtype_buffer_value(second.out, t, s - head.seqlen * d);
        const double error = std::fabs(computed - truth.mid[s]) + truth.radius[s];
        worst = std::max(worst, error / bound[s]);
      }
      RecordProperty(std::string(gpu::linear_feature_name(f)) + "_" + std::string(gpu::dtype_name(t)) +
                         "_split_ratio", std::to_string(worst));
      EXPECT_LE(worst, 1.0);
      EXPECT_GT(worst, 0.0);
    }
}

TEST(LinearAttentionTwin, RepeatedRunsAndBatchedHeadsAreBitIdentical) {
  SCOPED_TRACE("seed = " + std::to_string(kSeed));
  Rng rng = Rng(kSeed).substream(17);
  const LinearAttentionProblem a = make_linear_attention_problem(130, 16, rng);
  const LinearAttentionProblem b = make_linear_attention_problem(130, 16, rng);
  LinearAttentionProblem both = a;  // two heads one after the other
  both.q.insert(both.q.end(), b.q.begin(), b.q.end());
  both.k.insert(both.k.end(), b.k.begin(), b.k.end());
  both.v.insert(both.v.end(), b.v.begin(), b.v.end());
  for (LinearFeature f : {LinearFeature::taylor2, LinearFeature::elu_plus_one}) {
    SCOPED_TRACE(std::string(gpu::linear_feature_name(f)));
    Buffers single, twice, batched;
    ASSERT_TRUE(gpu::linear_attention_twin(args_for(b, DType::f16, f, LinearReadout::normalised, true, single)).ok());
    ASSERT_TRUE(gpu::linear_attention_twin(args_for(b, DType::f16, f, LinearReadout::normalised, true, twice)).ok());
    EXPECT_EQ(single.out, twice.out);
    EXPECT_TRUE(same_bits(single.final_state, twice.final_state));
    LinearAttentionArgs two = args_for(both, DType::f16, f, LinearReadout::normalised, true, batched);
    two.batch_heads = 2;
    two.seqlen = 130;
    batched.final_state.assign(2 * single.final_state.size(), 0.0f);
    batched.normaliser.assign(2 * 130, 0.0f);
    two.final_state = batched.final_state.data();
    two.normaliser = batched.normaliser.data();
    ASSERT_TRUE(gpu::linear_attention_twin(two).ok());
    const std::vector<unsigned char> second_head(batched.out.begin() + batched.out.size() / 2, batched.out.end());
    EXPECT_EQ(second_head, single.out);
    const std::vector<float> second_state(batched.final_state.begin() + single.final_state.size(),
                                          batched.final_state.end());
    EXPECT_TRUE(same_bits(second_state, single.final_state));
    EXPECT_EQ(batched.rows_not_normalised, 0);
  }
}

// Identity/relu normalisers can be ≤ 0: such rows are 0 (never NaN or a quotient by a
// non-positive number), counted, and their raw normaliser is returned.
TEST(LinearAttentionTwin, NonPositiveNormaliserRowsAreZeroAndCounted) {
  // d = 1, non-causal, keys (1, 1), values (5, 7), queries (−1, 2): row 0 has z·φ(q) = −2 (identity)
  // or 0 (relu), row 1 has 4.
  const std::vector<float> q = {-1.0f, 2.0f}, k = {1.0f, 1.0f}, v = {5.0f, 7.0f};
  for (LinearFeature f : {LinearFeature::identity, LinearFeature::relu}) {
    SCOPED_TRACE(std::string(gpu::linear_feature_name(f)));
    std::vector<float> out(2, 123.0f), normaliser(2, 0.0f);
    long long failed = -1;
    LinearAttentionArgs a;
    a.seqlen = 2;
    a.head_dim = 1;
    a.feature = f;
    a.readout = LinearReadout::normalised;
    a.causal = false;
    a.scale = 1.0f;
    a.q = q.data();
    a.k = k.data();
    a.v = v.data();
    a.out = out.data();
    a.normaliser = normaliser.data();
    a.rows_not_normalised = &failed;
    ASSERT_TRUE(gpu::linear_attention_twin(a).ok());
    EXPECT_EQ(failed, 1);
    EXPECT_EQ(out[0], 0.0f);
    EXPECT_EQ(normaliser[0], f == LinearFeature::identity ? -2.0f : 0.0f);
    EXPECT_EQ(normaliser[1], 4.0f);
    EXPECT_EQ(out[1], 6.0f);  // (2·5 + 2·7) / 4
  }
}

// elu+1 weights are positive, but e^x flushes to 0 below x ≈ −87.3 in fp32: a row whose
// features all underflow has normaliser 0 and is handled like any unusable normaliser.
TEST(LinearAttentionTwin, UnderflowedElu1NormaliserIsZeroNotNaN) {
  const std::vector<float> q = {-200.0f, 0.5f}, k = {-150.0f, -120.0f}, v = {3.0f, -1.0f};
  std::vector<float> out(2, 123.0f), normaliser(2, -1.0f);
  long long failed = -1;
  LinearAttentionArgs a;
  a.seqlen = 2;
  a.head_dim = 1;
  a.feature = LinearFeature::elu_plus_one;
  a.readout = LinearReadout::normalised;
  a.causal = true;
  a.scale = 1.0f;
  a.q = q.data();
  a.k = k.data();
  a.v = v.data();
  a.out = out.data();
  a.normaliser = normaliser.data();
  a.rows_not_normalised = &failed;
  ASSERT_TRUE(gpu::linear_attention_twin(a).ok());
  // Row 0: φ(q) = e^-200 → 0, φ(k) = e^-150 → 0: normaliser 0. Row 1: φ(q) = 1.5 but both keys
  // underflow too, so its normaliser is 0 as well.
  EXPECT_EQ(failed, 2);
  EXPECT_EQ(normaliser[0], 0.0f);
  EXPECT_EQ(normaliser[1], 0.0f);
  EXPECT_EQ(out[0], 0.0f);
  EXPECT_EQ(out[1], 0.0f);
}

// One causal fp32 head (T tokens, d = 2) through the twin: its outputs, raw normalisers and count.
struct NonFiniteRun {
  std::vector<float> out, normaliser;
  long long rows_not_normalised = -1;
};
NonFiniteRun run_causal_head(LinearFeature f, LinearReadout r, const std::vector<float>& q,
                             const std::vector<float>& k, const std::vector<float>& v) {
  NonFiniteRun run;
  run.out.assign(q.size(), 123.0f);
  run.normaliser.assign(q.size() / 2, -1.0f);
  LinearAttentionArgs a;
  a.seqlen = static_cast<long long>(q.size() / 2);
  a.head_dim = 2;
  a.feature = f;
  a.readout = r;
  a.causal = true;
  a.scale = 1.0f;
  a.q = q.data();
  a.k = k.data();
  a.v = v.data();
  a.out = run.out.data();
  a.normaliser = run.normaliser.data();
  a.rows_not_normalised = &run.rows_not_normalised;
  EXPECT_TRUE(gpu::linear_attention_twin(a).ok());
  return run;
}

// Positive q, k (relu is the identity on them) and mixed-sign v, 4 tokens, d = 2.
const std::vector<float> kPosQ = {0.5f, 1.25f, 2.0f, 0.75f, 1.5f, 0.25f, 1.0f, 3.0f};
const std::vector<float> kPosK = {1.0f, 0.5f, 0.25f, 2.0f, 1.5f, 1.0f, 0.75f, 0.5f};
const std::vector<float> kMixedV = {3.0f, -1.0f, 0.5f, 2.0f, -2.5f, 1.0f, 4.0f, -0.5f};

// Row i of `got` is all NaN when i is in `nan_rows`, else bit for bit row i of `clean`.
void expect_nan_rows(const std::vector<float>& got, const std::vector<float>& clean,
                     std::initializer_list<int> nan_rows) {
  for (int i = 0; i < static_cast<int>(got.size() / 2); ++i) {
    const bool want_nan = std::find(nan_rows.begin(), nan_rows.end(), i) != nan_rows.end();
    for (int e = 0; e < 2; ++e) {
      const float x = got[i * 2 + e], c = clean[i * 2 + e];
      if (want_nan) {
        EXPECT_TRUE(std::isnan(x)) << "row " << i << " column " << e << " is " << x;
      } else {
        EXPECT_TRUE(gpu::same_output_value(x, c)) << "row " << i << " column " << e << ": " << x
                                                     << " vs " << c << " without the bad input";
      }
    }
  }
}

// Issue 18, item 3: relu read a NaN feature input as ≤ 0 and returned 0, so a NaN in key j
// silently removed key j (later rows looked fine) and a NaN in a query dropped that component.
// A NaN input must reach every row that reads it (causal: key j → rows ≥ j; query i → row i).
TEST(LinearAttentionTwin, ReluKeepsANaNInAKeyOrQueryInsteadOfReadingItAsZero) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const NonFiniteRun clean = run_causal_head(LinearFeature::relu, LinearReadout::unnormalised,
                                             kPosQ, kPosK, kMixedV);
  std::vector<float> k = kPosK;
  k[1 * 2 + 0] = nan;  // key 1
  expect_nan_rows(run_causal_head(LinearFeature::relu, LinearReadout::unnormalised, kPosQ, k,
                                  kMixedV).out,
                  clean.out, {1, 2, 3});
  std::vector<float> q = kPosQ;
  q[2 * 2 + 1] = nan;  // query 2
  expect_nan_rows(run_causal_head(LinearFeature::relu, LinearReadout::unnormalised, q, kPosK,
                                  kMixedV).out,
                  clean.out, {2});
}

// Issue 18, item 3: a NaN or ±inf normaliser (a NaN or inf in q or k) was "unusable" like a
// normaliser ≤ 0 and the row became 0 — the value of a row with no usable weight, a plausible
// answer. A non-finite normaliser gives a NaN row (still counted); finite ≤ 0 stays 0.
TEST(LinearAttentionTwin, NonFiniteNormaliserGivesANaNRowNotZero) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  for (const LinearFeature f : {LinearFeature::identity, LinearFeature::elu_plus_one}) {
    SCOPED_TRACE(std::string(gpu::linear_feature_name(f)));
    const NonFiniteRun clean =
        run_causal_head(f, LinearReadout::normalised, kPosQ, kPosK, kMixedV);
    ASSERT_EQ(clean.rows_not_normalised, 0);
    for (const float bad : {nan, inf}) {
      SCOPED_TRACE("key 1 holds " + std::to_string(bad));
      std::vector<float> k = kPosK;
      k[1 * 2 + 0] = bad;
      const NonFiniteRun run = run_causal_head(f, LinearReadout::normalised, kPosQ, k, kMixedV);
      for (int i = 1; i < 4; ++i) EXPECT_FALSE(std::isfinite(run.normaliser[i])) << "row " << i;
      expect_nan_rows(run.out, clean.out, {1, 2, 3});
      EXPECT_EQ(run.rows_not_normalised, 3);
    }
  }
}

// Cases run on worker threads; the rows, in order and bit for bit, must not depend on how many.
TEST(LinearAttentionTwin, ValidationRowsDoNotDependOnTheNumberOfJobs) {
  expect_rows_independent_of_jobs(check_linear_attention, gpu::DType::f16, 11);
}

// The bound is a function of the kernel's chunk geometry (issue 16): it follows the actual chain
// partial sums, so 128- or 32-token chunks give different bounds from the kernel's 64 at almost
// every element, and the default is the kernel's 64.
TEST(LinearAttentionTwin, BoundFollowsTheKernelChunkLength) {
  SCOPED_TRACE("seed = " + std::to_string(kSeed));
  Rng rng = Rng(kSeed).substream(17);
  const LinearAttentionProblem p = inputs_as_read(make_linear_attention_problem(500, 16, rng), DType::f32);
  const auto bound = [&](int chunk) {
    return linear_attention_error_bounds(p, LinearFeature::elu_plus_one, LinearReadout::normalised,
                                         true, DType::f32, kDefaultFalseAlarm, {}, chunk)
        .guaranteed;
  };
  const int B = gpu::kLinearAttentionChunk;
  const std::vector<double> kernel = bound(B), longer = bound(2 * B), shorter = bound(B / 2);
  EXPECT_EQ(kernel, linear_attention_error_bounds(p, LinearFeature::elu_plus_one,
                                                  LinearReadout::normalised, true, DType::f32)
                        .guaranteed);
  std::size_t differ_longer = 0, differ_shorter = 0;
  for (std::size_t s = 0; s < kernel.size(); ++s) {
    ASSERT_TRUE(std::isfinite(kernel[s])) << s;
    differ_longer += longer[s] != kernel[s];
    differ_shorter += shorter[s] != kernel[s];
  }
  // Rows of the first 32 tokens see the same chains under 32- and 64-token chunks.
  EXPECT_GT(differ_longer, kernel.size() * 9 / 10);
  EXPECT_GT(differ_shorter, kernel.size() * 9 / 10);
}

// Review finding: elu+1 features of order e^-84 (queries and keys near -84) are tiny but exact
// up to a relative κ; an absolute error term per feature used to swamp the normaliser and make
// every element's bound infinite (a vacuous pass). The bound must stay finite and hold.
TEST(LinearAttentionTwin, TinyElu1FeaturesKeepFiniteBounds) {
  const std::uint64_t seed = 20261123;
  SCOPED_TRACE("seed = " + std::to_string(seed));
  Rng rng(seed);
  LinearAttentionProblem p = make_linear_attention_problem(130, 8, rng);
  // Shift every query coordinate to about −84/scale so that x = scale·q ≈ −84 ± 0.1.
  for (double& x : p.q) x = (-84.0 + 0.1 * x) / static_cast<double>(p.scale);
  const LinearAttentionProblem read = inputs_as_read(p, DType::f32);
  const std::vector<double> bound =
      linear_attention_error_bounds(read, LinearFeature::elu_plus_one, LinearReadout::normalised,
                                    true, DType::f32).guaranteed;
  for (double b : bound) ASSERT_TRUE(std::isfinite(b));
  const CertifiedLinearOutput truth =
      certified_linear_attention(read, LinearFeature::elu_plus_one, LinearReadout::normalised, true);
  // The twin on the same (fp32-rounded) inputs stays within every element's bound.
  const auto q = to_dtype_buffer(p.q, DType::f32), k = to_dtype_buffer(p.k, DType::f32),
             v = to_dtype_buffer(p.v, DType::f32);
  std::vector<float> out(p.q.size());
  LinearAttentionArgs a;
  a.seqlen = p.seqlen;
  a.head_dim = p.head_dim;
  a.feature = LinearFeature::elu_plus_one;
  a.readout = LinearReadout::normalised;
  a.causal = true;
  a.scale = p.scale;
  a.q = q.data();
  a.k = k.data();
  a.v = v.data();
  a.out = out.data();
  ASSERT_TRUE(gpu::linear_attention_twin(a).ok());
  for (std::size_t s = 0; s < out.size(); ++s) {
    const double err = std::fabs(out[s] - truth.mid[s]) + truth.radius[s];
    ASSERT_LE(err, bound[s]) << "element " << s;
  }
}

TEST(LinearAttentionTwin, BadArgumentsAreNamedBeforeAnyWork) {
  std::vector<std::uint16_t> buffer(4 * 64 * 2 + 8, 0x3c00);  // fp16 ones
  std::vector<std::uint16_t> out(4 * 64 * 2 + 8, 0x1234);
  std::vector<float> state(1 << 16);
  auto valid = [&] {
    LinearAttentionArgs a;
    a.seqlen = 4;
    a.head_dim = 64;
    a.q_dtype = a.k_dtype = a.v_dtype = DType::f16;
    a.q = a.k = a.v = buffer.data();
    a.out = out.data();
    a.scale = 0.125f;
    return a;
  };
  ASSERT_TRUE(gpu::can_run(valid()).ok()) << gpu::can_run(valid()).message;
  struct Case {
    const char* what;
    KernelStatusCode code;
    const char* named;
    void (*mutate)(LinearAttentionArgs&, std::vector<std::uint16_t>&, std::vector<float>&);
  };
  const Case cases[] = {
      {"head dim 0", KernelStatusCode::unsupported_shape, "head_dim = 0",
       [](LinearAttentionArgs& a, auto&, auto&) { a.head_dim = 0; }},
      {"head dim 257", KernelStatusCode::unsupported_shape, "head_dim = 257",
       [](LinearAttentionArgs& a, auto&, auto&) { a.head_dim = 257; }},
      {"taylor2 head dim 65", KernelStatusCode::unsupported_shape, "head_dim = 65",
       [](LinearAttentionArgs& a, auto&, auto&) { a.head_dim = 65; a.feature = LinearFeature::taylor2; }},
      {"seqlen 0", KernelStatusCode::empty_input, "seqlen = 0",
       [](LinearAttentionArgs& a, auto&, auto&) { a.seqlen = 0; }},
      {"batch 0", KernelStatusCode::empty_input, "batch_heads = 0",
       [](LinearAttentionArgs& a, auto&, auto&) { a.batch_heads = 0; }},
      {"null q", KernelStatusCode::null_pointer, "null pointer for q",
       [](LinearAttentionArgs& a, auto&, auto&) { a.q = nullptr; }},
      {"null k", KernelStatusCode::null_pointer, "null pointer for k",
       [](LinearAttentionArgs& a, auto&, auto&) { a.k = nullptr; }},
      {"null v", KernelStatusCode::null_pointer, "null pointer for v",
       [](LinearAttentionArgs& a, auto&, auto&) { a.v = nullptr; }},
      {"null out", KernelStatusCode::null_pointer, "null pointer for out",
       [](LinearAttentionArgs& a, auto&, auto&) { a.out = nullptr; }},
      {"misaligned v", KernelStatusCode::misaligned_pointer, "v is not aligned",
       [](LinearAttentionArgs& a, auto& b, auto&) {
         a.v = reinterpret_cast<const unsigned char*>(b.data()) + 1;
       }},
      {"misaligned final state", KernelStatusCode::misaligned_pointer, "final_state is not aligned",
       [](LinearAttentionArgs& a, auto&, auto& s) {
         a.final_state = reinterpret_cast<float*>(reinterpret_cast<unsigned char*>(s.data()) + 2);
       }},
      {"dtype mismatch", KernelStatusCode::dtype_mismatch, "k is bf16",
       [](LinearAttentionArgs& a, auto&, auto&) { a.k_dtype = DType::bf16; }},
      {"NaN scale", KernelStatusCode::invalid_argument, "scale",
       [](LinearAttentionArgs& a, auto&, auto&) { a.scale = std::nanf(""); }},
      {"zero scale", KernelStatusCode::invalid_argument, "scale",
       [](LinearAttentionArgs& a, auto&, auto&) { a.scale = 0.0f; }},
      {"infinite scale", KernelStatusCode::invalid_argument, "scale",
       [](LinearAttentionArgs& a, auto&, auto&) { a.scale = INFINITY; }},
  };
  const std::vector<std::uint16_t> out_before = out;
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    LinearAttentionArgs a = valid();
    c.mutate(a, buffer, state);
    for (const gpu::KernelStatus& s :
         {gpu::can_run(a), gpu::linear_attention_twin(a), gpu::run_linear_attention_on_device(a)}) {
      EXPECT_EQ(s.code, c.code) << s.message;
      EXPECT_NE(s.message.find(c.named), std::string::npos) << s.message;
      EXPECT_EQ(s.message.find('\n'), std::string::npos);
    }
    EXPECT_EQ(out, out_before);  // nothing written
  }
}

}  // namespace
}  // namespace attncert

namespace attncert {
namespace {

// The whole matrix (a few CPU-minutes): run with --gtest_also_run_disabled_tests.
TEST(LinearAttentionTwin, DISABLED_FullMatrixWithinTheBound) {
  SCOPED_TRACE("seed = " + std::to_string(kSeed));
  KernelCheckRequest request;
  request.prefer_device = false;
  request.seed = kSeed;
  const auto start = std::chrono::steady_clock::now();
  auto last = start;
  const std::vector<KernelCheckRow> rows =
      check_linear_attention(request, [&](std::size_t done, std::size_t total) {
        const auto now = std::chrono::steady_clock::now();
        std::printf("[%zu/%zu] %.2f s\n", done, total, std::chrono::duration<double>(now - last).count());
        last = now;
      });
  for (const KernelCheckRow& row : rows) {
    std::printf("%-34s %-4s %-10s error %.3e ratio %.3e probabilistic %.3e naive %.3e fa-threshold %.3e %s %s\n",
                row.shape.c_str(), row.dtype.c_str(), row.variant.c_str(), row.max_abs_error,
                row.ratio, row.probabilistic_ratio, row.naive_error, row.fa_rule_threshold,
                row.fa_rule_pass ? "fa-pass" : "fa-FAIL", row.pass ? "pass" : "FAIL");
    EXPECT_TRUE(row.pass) << row.shape << " " << row.dtype << " " << row.variant << ": " << row.note;
    EXPECT_FALSE(row.vacuous) << row.note;
    EXPECT_TRUE(row.probabilistic_pass) << row.note;  // N(0,1) inputs: the model's regime
  }
  std::printf("total %.1f s\n",
              std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
}

}  // namespace
}  // namespace attncert
