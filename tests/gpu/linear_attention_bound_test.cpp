// The linear attention kernel's per-element bounds (docs/linear_attention_kernel_bound.md)
// against its CPU twin (bit-identical to the kernel) and the certified truth of the inputs as
// the kernel read them: the guaranteed bound on adversarial inputs, the probabilistic bound on
// random ones, and the one-line errors for inputs the bound does not cover.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdint>
#include <stdexcept>
#include <span>
#include <string>
#include <vector>

#include "gpu/dtype.hpp"
#include "gpu/linear_attention.hpp"
#include "gpu/linear_attention_tile.cuh"
#include "gpu/output_equality.hpp"
#include "numerics/rng.hpp"
#include "proofs_checks/linear_attention_check.hpp"

namespace attncert {
namespace {

using gpu::DType;
using gpu::LinearFeature;
using gpu::LinearReadout;

constexpr std::uint64_t kSeed = 20261203;

// Input families. "random" is the only one the probabilistic model is meant for; the others
// are structured (equal or exactly related roundings) or push magnitudes to the edges.
enum class Family { random, cancelling_v, constant_v, huge_spread, tiny_features, repeated_rows,
                    powers_of_two };
const char* family_name(Family f) {
  switch (f) {
    case Family::random: return "random";
    case Family::cancelling_v: return "cancelling-v";
    case Family::constant_v: return "constant-v";
    case Family::huge_spread: return "huge-spread";
    case Family::tiny_features: return "tiny-features";
    case Family::repeated_rows: return "repeated-rows";
    case Family::powers_of_two: return "powers-of-two";
  }
  return "?";
}

LinearAttentionProblem make_family(Family family, int T, int d, DType t, Rng& rng) {
  LinearAttentionProblem p = make_linear_attention_problem(T, d, rng);
  const double scale = p.scale;
  // fp16 holds magnitudes up to 65504: spreads stay within 2^±6 there.
  const int spread = t == DType::f16 ? 6 : 20;
  switch (family) {
    case Family::random: break;
    case Family::cancelling_v:  // values of alternating sign: the numerators cancel
      for (int j = 0; j < T; ++j)
        for (int e = 0; e < d; ++e)
          p.v[j * d + e] = ((j + e) % 2 ? -1.0 : 1.0) * (1 + 1e-3 * p.v[j * d + e]);
      break;
    case Family::constant_v:
      std::fill(p.v.begin(), p.v.end(), 0.75);
      break;
    case Family::huge_spread:  // rows of q, k, v scaled by 2^s, s uniform in [−spread, spread]
      for (auto* x : {&p.q, &p.k, &p.v})
        for (int i = 0; i < T; ++i) {
          const double factor = std::ldexp(1.0, static_cast<int>(rng.uniform_int(-spread, spread)));
          for (int a = 0; a < d; ++a) (*x)[i * d + a] *= factor;
        }
      break;
    case Family::tiny_features:  // x = scale·q ≈ −40, k ≈ −40: elu+1 features ≈ e^-40
      for (double& x : p.q) x = (-40.0 + 0.5 * x) / scale;
      for (double& x : p.k) x = -40.0 + 0.5 * x;
      break;
    case Family::repeated_rows:  // every token the same q, k (ties everywhere), v random
      for (auto* x : {&p.q, &p.k})
        for (int i = 1; i < T; ++i) std::copy_n(x->begin(), d, x->begin() + i * d);
      break;
    case Family::powers_of_two:
      for (auto* x : {&p.q, &p.k, &p.v})
        for (double& y : *x)
          y = (rng.below(2) ? -1.0 : 1.0) * std::ldexp(1.0, static_cast<int>(rng.uniform_int(-4, 4)));
      break;
  }
  return p;
}

std::vector<unsigned char> run_twin(const LinearAttentionProblem& p, DType t, LinearFeature f,
                                    LinearReadout r, bool causal) {
  const auto q = to_dtype_buffer(p.q, t), k = to_dtype_buffer(p.k, t), v = to_dtype_buffer(p.v, t);
  std::vector<unsigned char> out(q.size(), 0);
  gpu::LinearAttentionArgs a;
  a.seqlen = p.seqlen;
  a.head_dim = p.head_dim;
  a.q_dtype = a.k_dtype = a.v_dtype = t;
  a.feature = f;
  a.readout = r;
  a.causal = causal;
  a.scale = p.scale;
  a.q = q.data();
  a.k = k.data();
  a.v = v.data();
  a.out = out.data();
  const gpu::KernelStatus status = gpu::linear_attention_twin(a);
  if (!status.ok()) throw std::runtime_error(status.message);
  return out;
}

struct Ratios {
  double guaranteed = 0, probabilistic = 0;
  long long bounded = 0;  // elements with a finite bound
};

// error = |twin − certified midpoint| + radius, against the truth of the inputs as read.
Ratios measure(const LinearAttentionProblem& p, DType t, LinearFeature f, LinearReadout r,
               bool causal) {
  const LinearAttentionProblem read = inputs_as_read(p, t);
  const std::vector<unsigned char> out = run_twin(p, t, f, r, causal);
  const CertifiedLinearOutput truth = certified_linear_attention(read, f, r, causal);
  const LinearAttentionBounds bounds = linear_attention_error_bounds(read, f, r, causal, t);
  Ratios ratios;
  for (std::size_t s = 0; s < bounds.guaranteed.size(); ++s) {
    if (!std::isfinite(bounds.guaranteed[s])) continue;
    EXPECT_LE(bounds.probabilistic[s], bounds.guaranteed[s]);
    const double error = std::fabs(dtype_buffer_value(out, t, s) - truth.mid[s]) + truth.radius[s];
    EXPECT_TRUE(std::isfinite(error)) << "element " << s << ": a finite bound on a NaN truth";
    ratios.guaranteed = std::max(ratios.guaranteed, error / bounds.guaranteed[s]);
    ratios.probabilistic = std::max(ratios.probabilistic, error / bounds.probabilistic[s]);
    ++ratios.bounded;
  }
  return ratios;
}

struct Map {
  LinearFeature feature;
  LinearReadout readout;
};
const Map kMaps[] = {{LinearFeature::identity, LinearReadout::unnormalised},
                     {LinearFeature::relu, LinearReadout::unnormalised},
                     {LinearFeature::elu_plus_one, LinearReadout::unnormalised},
                     {LinearFeature::elu_plus_one, LinearReadout::normalised},
                     {LinearFeature::taylor2, LinearReadout::normalised},
                     {LinearFeature::identity, LinearReadout::normalised}};

// The guaranteed bound is a theorem about every correct execution: no input family, map, dtype,
// causality or length (T = 1, inside one chunk, across chunks) may exceed it.
TEST(LinearAttentionBound, TwinNeverExceedsTheGuaranteedBoundOnAdversarialInputs) {
  SCOPED_TRACE("seed = " + std::to_string(kSeed));
  RecordProperty("seed", std::to_string(kSeed));
  Rng rng(kSeed);
  const Family families[] = {Family::random, Family::cancelling_v, Family::constant_v,
                             Family::huge_spread, Family::tiny_features, Family::repeated_rows,
                             Family::powers_of_two};
  const int lengths[] = {1, 37, 150, 300};
  long long cases = 0, bounded_cases = 0;
  std::vector<std::string> over_probabilistic;
  double worst[7] = {}, worst_fp32[7] = {};  // fp32: no output rounding, arithmetic alone
  for (int round = 0; round < 3; ++round)
  for (Family family : families)
    for (const Map& map : kMaps)
      for (DType t : {DType::f32, DType::f16, DType::bf16})
        for (bool causal : {true, false}) {
          const int T = lengths[rng.below(4)];
          const int d = map.feature == LinearFeature::taylor2 ? static_cast<int>(2 + rng.below(5))
                                                              : static_cast<int>(1 + rng.below(24));
          const LinearAttentionProblem p = make_family(family, T, d, t, rng);
          const std::string what = std::string(family_name(family)) + " " +
                                   std::string(gpu::linear_feature_name(map.feature)) +
                                   (map.readout == LinearReadout::normalised ? " normalised " : " ") +
                                   std::string(gpu::dtype_name(t)) +
                                   (causal ? " causal" : " non-causal") + " T=" + std::to_string(T) +
                                   " d=" + std::to_string(d);
          SCOPED_TRACE(what);
          const Ratios r = measure(p, t, map.feature, map.readout, causal);
          EXPECT_LE(r.guaranteed, 1.0);
          double& w = (t == DType::f32 ? worst_fp32 : worst)[static_cast<int>(family)];
          w = std::max(w, r.guaranteed);
          ++cases;
          bounded_cases += r.bounded > 0;
          if (r.probabilistic > 1)
            over_probabilistic.push_back(what + ": " + std::to_string(r.probabilistic));
        }
  // Structured inputs may exceed the probabilistic bound (its model does not cover them): list.
  std::printf("%lld cases, %lld with finite bounds; over the probabilistic bound: %zu\n", cases,
              bounded_cases, over_probabilistic.size());
  for (const std::string& s : over_probabilistic) std::printf("  %s\n", s.c_str());
  for (Family family : families)
    std::printf("%-14s worst error/guaranteed fp32 %.3f, fp16/bf16 %.3f\n", family_name(family),
                worst_fp32[static_cast<int>(family)], worst[static_cast<int>(family)]);
  // Unboundable: identity-normalised rows (normaliser ≤ 0) and fp16 outputs that overflow
  // (huge spreads, tiny-features identity); every other case has finite bounds.
  EXPECT_GE(bounded_cases, cases * 4 / 5);
}

// On random inputs the model's assumptions are plausible: the probabilistic bound must hold
// (a false alarm has probability ≤ 1e-6 per case) and must not collapse to the guaranteed one.
TEST(LinearAttentionBound, ProbabilisticBoundHoldsOnRandomInputs) {
  SCOPED_TRACE("seed = " + std::to_string(kSeed + 1));
  Rng rng(kSeed + 1);
  std::vector<double> fp32_ratios;
  for (const Map& map : kMaps) {
    if (map.feature == LinearFeature::identity && map.readout == LinearReadout::normalised) continue;
    for (DType t : {DType::f32, DType::f16, DType::bf16})
      for (bool causal : {true, false}) {
        const int d = map.feature == LinearFeature::taylor2 ? 6 : 32;
        const LinearAttentionProblem p = make_linear_attention_problem(200, d, rng);
        SCOPED_TRACE(std::string(gpu::linear_feature_name(map.feature)) + " " +
                     std::string(gpu::dtype_name(t)) + (causal ? " causal" : " non-causal"));
        const Ratios r = measure(p, t, map.feature, map.readout, causal);
        ASSERT_EQ(r.bounded, 200LL * d);
        EXPECT_LE(r.probabilistic, 1.0);
        if (t == DType::f32) fp32_ratios.push_back(r.probabilistic);
      }
  }
  // fp16/bf16 errors are dominated by the output rounding, one event per element, where the
  // probabilistic bound equals the guaranteed one; fp32 shows the √n gain.
  std::sort(fp32_ratios.begin(), fp32_ratios.end());
  const double median = fp32_ratios[fp32_ratios.size() / 2];
  std::printf("fp32 probabilistic ratio: median %.3g, max %.3g over %zu cases\n", median,
              fp32_ratios.back(), fp32_ratios.size());
  RecordProperty("fp32_probabilistic_median", std::to_string(median));
  // The worst of 200·d elements sits near 4–5 standard deviations of a per-element error whose
  // bound is λ ≈ 6.4 deviations wide (λ for 6400 values at δ = 1e-6), times the ratio of the rms
  // coefficient bound to the rms actually reached; 0.1 is far below what that gives (≈ 0.2–0.4)
  // and catches a probabilistic bound that degenerated towards the guaranteed one (≈ 0.05).
  EXPECT_GT(median, 0.1);
}

// Emulated defective kernels: the twin's stages (the kernel's own per-element code) with one
// stage spoiled. A bound tight enough to matter must flag each of them.
enum class Defect { none, states_in_bf16, chunk_chains_in_bf16, key_features_4_bits,
                    last_partial_chunk_dropped };
const char* defect_name(Defect d) {
  switch (d) {
    case Defect::none: return "none";
    case Defect::states_in_bf16: return "scanned states stored in bf16";
    case Defect::chunk_chains_in_bf16: return "chunk-state chains accumulated in bf16";
    case Defect::key_features_4_bits: return "key features rounded to 4 significant bits";
    case Defect::last_partial_chunk_dropped: return "last partial chunk left out of the state";
  }
  return "?";
}

float to_significant_bits(float x, int bits) {
  if (x == 0 || !std::isfinite(x)) return x;
  int e = 0;
  std::frexp(x, &e);
  const float quantum = std::ldexp(1.0f, e - bits);
  return std::nearbyint(x / quantum) * quantum;
}

std::vector<float> run_defective(const LinearAttentionProblem& p, LinearFeature f, bool causal,
                                 Defect defect) {
  namespace lt = gpu::linear_tile;
  const auto q = to_dtype_buffer(p.q, DType::f32), k = to_dtype_buffer(p.k, DType::f32),
             v = to_dtype_buffer(p.v, DType::f32);
  std::vector<float> out(p.q.size());
  gpu::LinearAttentionArgs a;
  a.seqlen = p.seqlen;
  a.head_dim = p.head_dim;
  a.feature = f;
  a.readout = LinearReadout::normalised;
  a.causal = causal;
  a.scale = p.scale;
  a.q = q.data();
  a.k = k.data();
  a.v = v.data();
  a.out = out.data();
  const lt::CallView c = lt::call_view(a);
  const long long T = c.T, m = c.l.m, w = c.l.w, mw = m * w;
  std::vector<float> scratch(static_cast<std::size_t>(c.l.per_head));
  float* ws = scratch.data();
  for (long long idx = 0; idx < T * m; ++idx) lt::stage_features(c, 0, ws, idx);
  if (defect == Defect::key_features_4_bits)
    for (long long idx = 0; idx < T * m; ++idx)
      ws[c.l.phik + idx] = to_significant_bits(ws[c.l.phik + idx], 4);
  for (long long chunk = 0; chunk < c.l.chunks; ++chunk)
    for (long long s = 0; s < mw; ++s) {
      lt::stage_chunk_state(c, 0, ws, chunk, s);
      if (defect == Defect::chunk_chains_in_bf16) {  // the same chain, rounded after every fma
        const long long begin = chunk * lt::kChunk, end = std::min(T, begin + lt::kChunk);
        float acc = 0;
        for (long long j = begin; j < end; ++j)
          acc = gpu::round_through(DType::bf16,
                                   std::fma(ws[c.l.phik + j * m + s / w],
                                            lt::value_or_one(DType::f32, v.data(), 0, j, c.d,
                                                             static_cast<int>(s % w)),
                                            acc));
        ws[c.l.states + chunk * mw + s] = acc;
      }
      if (defect == Defect::last_partial_chunk_dropped && chunk == c.l.chunks - 1 &&
          T % lt::kChunk != 0)
        ws[c.l.states + chunk * mw + s] = 0;
    }
  for (long long s = 0; s < mw; ++s) lt::stage_scan(c, 0, ws, s);
  if (defect == Defect::states_in_bf16)
    for (long long s = 0; s < (c.l.chunks + 1) * mw; ++s)
      ws[c.l.states + s] = gpu::round_through(DType::bf16, ws[c.l.states + s]);
  if (causal)
    for (long long idx = 0; idx < T * lt::kChunk; ++idx) lt::stage_score(c, 0, ws, idx);
  for (long long idx = 0; idx < T * w; ++idx) lt::stage_readout(c, 0, ws, idx);
  for (long long idx = 0; idx < T * c.d; ++idx) lt::stage_finish(c, 0, ws, idx);
  return out;
}

// Each defect must exceed the probabilistic bound by ≥ 3× (issue 19's target) and is reported
// with its worst element; the harness without a defect reproduces the twin bit for bit.
TEST(LinearAttentionBound, InjectedDefectsExceedTheBounds) {
  SCOPED_TRACE("seed = " + std::to_string(kSeed + 3));
  Rng rng(kSeed + 3);
  const LinearAttentionProblem p = inputs_as_read(make_linear_attention_problem(300, 32, rng), DType::f32);
  for (LinearFeature f : {LinearFeature::elu_plus_one, LinearFeature::taylor2}) {
    const LinearAttentionProblem problem =
        f == LinearFeature::taylor2 ? inputs_as_read(make_linear_attention_problem(300, 6, rng), DType::f32) : p;
    const long long d = problem.head_dim;
    for (bool causal : {true, false}) {
      const CertifiedLinearOutput truth =
          certified_linear_attention(problem, f, LinearReadout::normalised, causal);
      const LinearAttentionBounds bounds = linear_attention_error_bounds(
          problem, f, LinearReadout::normalised, causal, DType::f32);
      const std::vector<unsigned char> twin =
          run_twin(problem, DType::f32, f, LinearReadout::normalised, causal);
      for (Defect defect : {Defect::none, Defect::states_in_bf16, Defect::chunk_chains_in_bf16,
                            Defect::key_features_4_bits, Defect::last_partial_chunk_dropped}) {
        // Causal outputs never read the last chunk's state (only the final state carries it,
        // and the check does not judge the final state): that defect is invisible there.
        if (causal && defect == Defect::last_partial_chunk_dropped) continue;
        const std::string what = std::string(gpu::linear_feature_name(f)) +
                                 (causal ? " causal: " : " non-causal: ") + defect_name(defect);
        SCOPED_TRACE(what);
        const std::vector<float> out = run_defective(problem, f, causal, defect);
        double guaranteed = 0, probabilistic = 0;
        long long worst = 0;
        for (long long s = 0; s < problem.seqlen * d; ++s) {
          const double error = std::fabs(out[s] - truth.mid[s]) + truth.radius[s];
          ASSERT_TRUE(std::isfinite(bounds.guaranteed[s]));
          guaranteed = std::max(guaranteed, error / bounds.guaranteed[s]);
          if (error / bounds.probabilistic[s] > probabilistic) {
            probabilistic = error / bounds.probabilistic[s];
            worst = s;
          }
        }
        std::printf("%-60s error/guaranteed %8.3g  error/probabilistic %8.3g  worst (row %lld, col %lld)\n",
                    what.c_str(), guaranteed, probabilistic, worst / d, worst % d);
        if (defect == Defect::none) {
          const std::span<const unsigned char> out_bytes(
              reinterpret_cast<const unsigned char*>(out.data()), out.size() * sizeof(float));
          EXPECT_EQ(gpu::output_difference_message(DType::f32, out_bytes, twin), "");
          EXPECT_LE(guaranteed, 1.0);
        } else {
          EXPECT_GE(probabilistic, 3.0);
        }
      }
    }
  }
}

TEST(LinearAttentionBound, InputsTheBoundDoesNotCoverAreOneLineErrors) {
  Rng rng(kSeed + 2);
  const LinearAttentionProblem p = make_linear_attention_problem(10, 4, rng);
  const LinearAttentionProblem read = inputs_as_read(p, DType::bf16);
  auto expect_error = [](auto&& call, const std::string& named) {
    try {
      call();
      ADD_FAILURE() << "no error; expected one naming '" << named << "'";
    } catch (const std::invalid_argument& e) {
      const std::string message = e.what();
      EXPECT_NE(message.find(named), std::string::npos) << message;
      EXPECT_EQ(message.find('\n'), std::string::npos) << message;
    }
  };
  const auto f = LinearFeature::elu_plus_one;
  const auto r = LinearReadout::normalised;
  // Values that are not bf16 values (the original doubles) under a bf16 class.
  expect_error([&] { linear_attention_error_bounds(p, f, r, true, DType::bf16); }, "not a bf16 value");
  for (double delta : {0.0, 1.0, -0.5, std::nan("")})
    expect_error([&] { linear_attention_error_bounds(read, f, r, true, DType::bf16, delta); },
                 "false-alarm probability");
  expect_error([&] { linear_attention_error_bounds(read, f, r, false, DType::bf16, 1e-6, {4, 6}); },
               "non-causal");
  expect_error([&] { linear_attention_error_bounds(read, f, r, true, DType::bf16, 1e-6, {4, 5}); },
               "add up to 9");
  KernelCheckRequest request;
  request.false_alarm = 2;
  expect_error([&] { check_linear_attention(request); }, "false-alarm probability");
  // The bf16 class on bf16 values is fine.
  EXPECT_EQ(linear_attention_error_bounds(read, f, r, true, DType::bf16).guaranteed.size(), 40u);
}

}  // namespace
}  // namespace attncert
