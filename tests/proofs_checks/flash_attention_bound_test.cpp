// The flash-attention kernel's error bounds (flash_attention_row_bound) against the CPU twin
// (bit-identical to the kernel) and the Arb truth of the values the twin read, on seeded
// adversarial inputs in all three dtypes: ties, logits ≤ −5e4, huge spreads (weights that
// underflow), a running maximum that moves in every tile, cancelling V, constant V, repeated
// keys, powers of two, L = 1, fully masked rows.
//  - the guaranteed bound holds for every output and lse (certain: any violation is a defect of
//    the bound or the kernel);
//  - on the unstructured (random) inputs the probabilistic bound holds too; its ratios are
//    printed with their median; the structured inputs' probabilistic ratios are printed and the
//    cases that exceed it listed (correlated roundings are outside its model);
//  - a defective kernel (the last partial key tile dropped) exceeds both bounds;
//  - bad inputs to the bound are refused in one line.
// Every case prints its seed; the matrix reproduces from kSeed.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "gpu/dtype.hpp"
#include "gpu/flash_attention.hpp"
#include "gpu/flash_attention_tile.cuh"
#include "numerics/midpoint_radius_attention.hpp"
#include "numerics/rng.hpp"
#include "proofs_checks/error_budget.hpp"
#include "proofs_checks/flash_attention_check.hpp"

namespace attncert {
namespace {

using gpu::DType;
constexpr std::uint64_t kSeed = 20261203;
constexpr double kInf = std::numeric_limits<double>::infinity();

struct Inputs {
  int Lq, Lk, d;
  bool causal;
  std::vector<double> q, k, v;  // one head, row-major
};

/// One adversarial family: a name, whether its data is unstructured (the probabilistic model's
/// domain), and how to fill the inputs.
struct Family {
  std::string name;
  bool random;
  int Lq, Lk, d;
  bool causal;
  std::function<void(Inputs&, Rng&)> fill;
};

void normal(std::vector<double>& x, Rng& rng, double scale = 1.0) {
  for (double& e : x) e = scale * rng.normal();
}

std::vector<Family> families() {
  const auto plain = [](Inputs& in, Rng& rng) {
    normal(in.q, rng), normal(in.k, rng), normal(in.v, rng);
  };
  return {
      {"random", true, 24, 203, 64, false, plain},
      {"random causal", true, 40, 130, 60, true, plain},
      {"L=1", true, 1, 1, 64, false, plain},
      // Few keys, many rows: a handful of roundings per element, so the worst case is nearly
      // attained somewhere (the bound's tightest regime).
      {"3 keys, many rows", true, 300, 3, 64, false, plain},
      {"fully masked rows", true, 40, 20, 32, true, plain},
      {"logits<=-5e4", true, 16, 100, 60, false,
       [](Inputs& in, Rng& rng) {
         normal(in.q, rng), normal(in.k, rng), normal(in.v, rng);
         // Coordinate 0 exact in every dtype: every logit ≤ −5e4, O(1) differences between keys.
         for (int i = 0; i < in.Lq; ++i) in.q[i * in.d] = 512;
         for (int j = 0; j < in.Lk; ++j) in.k[j * in.d] = -1024;
       }},
      {"huge spread", true, 16, 200, 64, false,
       [](Inputs& in, Rng& rng) {  // logits spread over ±hundreds: most weights underflow
         normal(in.q, rng, 25.0), normal(in.k, rng), normal(in.v, rng);
       }},
      {"max moves every tile", true, 8, 300, 32, false,
       [](Inputs& in, Rng& rng) {  // key j ≈ (j/40)·q/|q|²·√d: logits rise ~ j/40 plus noise
         normal(in.q, rng), normal(in.v, rng);
         for (int i = 0; i < in.Lq; ++i) {
           double norm = 0;
           for (int c = 0; c < in.d; ++c) norm += in.q[i * in.d + c] * in.q[i * in.d + c];
           if (i > 0) continue;
           for (int j = 0; j < in.Lk; ++j)
             for (int c = 0; c < in.d; ++c)
               in.k[j * in.d + c] = in.q[c] / norm * std::sqrt(in.d) * j / 40.0 + 0.1 * rng.normal();
         }
       }},
      {"cancelling V", true, 16, 203, 64, false,
       [](Inputs& in, Rng& rng) {  // v_j = ±w_c in alternation, near-equal weights: O ≈ 0
         normal(in.q, rng, 0.05), normal(in.k, rng);
         std::vector<double> w(in.d);
         normal(w, rng, 10.0);
         for (int j = 0; j < in.Lk; ++j)
           for (int c = 0; c < in.d; ++c) in.v[j * in.d + c] = (j % 2 ? -1 : 1) * w[c];
       }},
      {"ties", false, 8, 130, 32, false,
       [](Inputs& in, Rng& rng) {  // every key equal: equal logits, equal weights
         normal(in.q, rng), normal(in.v, rng);
         for (int c = 0; c < in.d; ++c) in.k[c] = rng.normal();
         for (int j = 1; j < in.Lk; ++j)
           for (int c = 0; c < in.d; ++c) in.k[j * in.d + c] = in.k[c];
       }},
      {"constant V", false, 8, 203, 32, false,
       [](Inputs& in, Rng& rng) {
         normal(in.q, rng), normal(in.k, rng);
         for (int c = 0; c < in.d; ++c) in.v[c] = rng.normal();
         for (int j = 1; j < in.Lk; ++j)
           for (int c = 0; c < in.d; ++c) in.v[j * in.d + c] = in.v[c];
       }},
      {"repeated keys", false, 8, 203, 32, false,
       [](Inputs& in, Rng& rng) {
         normal(in.q, rng), normal(in.v, rng);
         for (int j = 0; j < 7 * in.d; ++j) in.k[j] = rng.normal();
         for (int j = 7; j < in.Lk; ++j)
           for (int c = 0; c < in.d; ++c) in.k[j * in.d + c] = in.k[(j % 7) * in.d + c];
       }},
      {"powers of two", false, 8, 203, 32, false,
       [](Inputs& in, Rng& rng) {
         for (auto* x : {&in.q, &in.k, &in.v})
           for (double& e : *x)
             e = (rng.uniform() < 0.5 ? -1 : 1) * std::ldexp(1.0, static_cast<int>(rng.uniform(-3, 3)));
       }},
  };
}

Inputs make_inputs(const Family& f, DType t, std::uint64_t index) {
  Inputs in{f.Lq, f.Lk, f.d, f.causal, {}, {}, {}};
  in.q.assign(static_cast<std::size_t>(f.Lq) * f.d, 0.0);
  in.k.assign(static_cast<std::size_t>(f.Lk) * f.d, 0.0);
  in.v.assign(in.k.size(), 0.0);
  Rng rng = Rng(kSeed).substream(index);
  f.fill(in, rng);
  // What the kernel reads: the bound and the truth are of these values.
  for (auto* x : {&in.q, &in.k, &in.v})
    for (double& e : *x) e = static_cast<double>(gpu::round_through(t, static_cast<float>(e)));
  return in;
}

struct TwinOutput {
  std::vector<float> out, lse;
};

/// The twin on the inputs (first `keys` keys only: a defective kernel drops the others).
TwinOutput run_twin(const Inputs& in, DType t, float scale, int keys) {
  std::vector<float> qf(in.q.begin(), in.q.end()), kf(in.k.begin(), in.k.end()),
      vf(in.v.begin(), in.v.end());
  std::vector<std::uint16_t> qh, kh, vh;
  const auto bits = [&](const std::vector<float>& x) {
    std::vector<std::uint16_t> r(x.size());
    for (std::size_t i = 0; i < x.size(); ++i)
      r[i] = t == DType::f16 ? gpu::float_to_f16_bits(x[i]) : gpu::float_to_bf16_bits(x[i]);
    return r;
  };
  gpu::FlashAttentionArgs a;
  if (t == DType::f32) {
    a.q = qf.data(), a.k = kf.data(), a.v = vf.data();
  } else {
    qh = bits(qf), kh = bits(kf), vh = bits(vf);
    a.q = qh.data(), a.k = kh.data(), a.v = vh.data();
  }
  TwinOutput r;
  r.out.assign(static_cast<std::size_t>(in.Lq) * in.d, 0.0f);
  r.lse.assign(static_cast<std::size_t>(in.Lq), 0.0f);
  a.q_dtype = a.k_dtype = a.v_dtype = t;
  a.out = r.out.data(), a.log_sum_exp = r.lse.data();
  a.batch_heads = 1, a.seqlen_q = in.Lq, a.seqlen_k = keys, a.head_dim = in.d;
  a.scale = scale, a.causal = in.causal;
  const gpu::KernelStatus s = gpu::flash_attention_twin(a);
  EXPECT_TRUE(s.ok()) << s.message;
  return r;
}

/// The Arb truth of the inputs with the kernel's float scale (every visible row in balls).
AttentionEnclosure arb_truth(const Inputs& in, float scale) {
  const Tensor4View<const double> Q(in.q.data(), 1, 1, in.Lq, in.d);
  const Tensor4View<const double> K(in.k.data(), 1, 1, in.Lk, in.d);
  const Tensor4View<const double> V(in.v.data(), 1, 1, in.Lk, in.d);
  MidpointRadiusOptions o;
  if (in.causal) o.keys = KeyVisibility::causal_mask(DiagonalAlignment::bottom_right);
  o.scale = static_cast<double>(scale);
  o.fallback_precision_bits = 96;
  AttentionEnclosure truth = midpoint_radius_attention(Q, K, V, o);
  std::vector<std::size_t> rows;
  for (std::size_t row = 0; row < truth.row_tier.size(); ++row)
    if (truth.row_tier[row] == RowTier::Double) rows.push_back(row);
  refine_rows_in_balls(Q, K, V, o, rows, truth);
  return truth;
}

/// Largest error/bound over the case's outputs and lse, for both bounds; the worst element.
struct Ratios {
  double guaranteed = 0, probabilistic = 0;
  std::string worst;  // of the guaranteed ratio
  int rows_checked = 0;
};

Ratios judge(const Inputs& in, const TwinOutput& run, const AttentionEnclosure& truth, DType t,
             float scale, double false_alarm = kDefaultFalseAlarm) {
  Ratios r;
  int visible_rows = 0;
  for (int i = 0; i < in.Lq; ++i)
    visible_rows += gpu::flash_attention_visible_keys(i, in.Lq, in.Lk, in.causal) > 0;
  if (visible_rows == 0) return r;
  const double lambda = probabilistic_lambda(false_alarm, visible_rows * (in.d + 1.0));
  const auto d = static_cast<std::size_t>(in.d);
  for (int i = 0; i < in.Lq; ++i) {
    const auto keys =
        static_cast<std::size_t>(gpu::flash_attention_visible_keys(i, in.Lq, in.Lk, in.causal));
    const auto row = static_cast<std::size_t>(i);
    if (keys == 0) {  // exact
      EXPECT_EQ(run.lse[row], -std::numeric_limits<float>::infinity());
      for (std::size_t c = 0; c < d; ++c) EXPECT_EQ(run.out[row * d + c], 0.0f);
      continue;
    }
    ++r.rows_checked;
    const FlashAttentionRow x{t, in.d, scale, std::span(&in.q[row * d], d),
                              std::span(in.k.data(), keys * d), std::span(in.v.data(), keys * d)};
    const FlashAttentionRowBound b = flash_attention_row_bound(x, lambda);
    const auto ratio = [&](float computed, double mid, double rad, double bound, double prob,
                           const std::string& where) {
      // |computed − exact| ≤ |computed − mid| + rad: the verdict holds for every truth inside.
      const double error = std::abs(static_cast<double>(computed) - mid) + rad;
      const double g = std::isfinite(error) ? error / bound : kInf;
      if (g > r.guaranteed) r.guaranteed = g, r.worst = where;
      r.probabilistic = std::max(r.probabilistic, std::isfinite(error) ? error / prob : kInf);
    };
    for (std::size_t c = 0; c < d; ++c)
      ratio(run.out[row * d + c], truth.output_mid[row * d + c], truth.output_rad[row * d + c],
            b.output[c], b.output_probabilistic[c],
            "O[" + std::to_string(i) + "][" + std::to_string(c) + "]");
    ratio(run.lse[row], truth.lse_mid[row], truth.lse_rad[row], b.lse, b.lse_probabilistic,
          "lse[" + std::to_string(i) + "]");
  }
  return r;
}

// Every family in every dtype, `repeats` times (substream = running index from kSeed): the
// guaranteed bound is never exceeded; the probabilistic one not on unstructured data.
void expect_within_bounds(int repeats) {
  std::printf("seed = %llu\n", static_cast<unsigned long long>(kSeed));
  std::vector<double> random_probabilistic, random_guaranteed;
  std::vector<std::string> structured_exceeding;
  std::uint64_t index = 0;
  for (int repeat = 0; repeat < repeats; ++repeat)
  for (const Family& f : families()) {
    for (DType t : {DType::f32, DType::f16, DType::bf16}) {
      const Inputs in = make_inputs(f, t, index++);
      const float scale = gpu::default_attention_scale(in.d);
      const TwinOutput run = run_twin(in, t, scale, in.Lk);
      const AttentionEnclosure truth = arb_truth(in, scale);
      const Ratios r = judge(in, run, truth, t, scale);
      const std::string label = f.name + " " + std::string(gpu::dtype_name(t));
      std::printf("%-26s substream %3llu: guaranteed ratio %.3g (worst %s), probabilistic %.3g\n",
                  label.c_str(), static_cast<unsigned long long>(index - 1), r.guaranteed,
                  r.worst.c_str(), r.probabilistic);
      EXPECT_LE(r.guaranteed, 1.0) << label << " worst " << r.worst;
      if (f.random) {
        EXPECT_LE(r.probabilistic, 1.0) << label;
        if (r.rows_checked > 0) {
          random_probabilistic.push_back(r.probabilistic);
          random_guaranteed.push_back(r.guaranteed);
        }
      } else if (r.probabilistic > 1.0) {
        structured_exceeding.push_back(label);
      }
    }
  }
  std::sort(random_probabilistic.begin(), random_probabilistic.end());
  std::sort(random_guaranteed.begin(), random_guaranteed.end());
  std::printf("random inputs: median guaranteed ratio %.3g, median probabilistic ratio %.3g\n",
              random_guaranteed[random_guaranteed.size() / 2],
              random_probabilistic[random_probabilistic.size() / 2]);
  std::printf("structured inputs beyond the probabilistic bound: %zu\n",
              structured_exceeding.size());
  for (const std::string& s : structured_exceeding) std::printf("  %s\n", s.c_str());
}

TEST(FlashAttentionBound, TwinWithinBothBoundsOfTheArbTruthOnAdversarialInputs) {
  expect_within_bounds(2);
}

// The same on 40 draws of every family (~1 min; by hand: --gtest_also_run_disabled_tests).
TEST(FlashAttentionBound, DISABLED_ManyDrawsWithinBothBounds) { expect_within_bounds(40); }

// A defect of the list in issue 19: the last partial key tile dropped (203 keys → 192). The
// dropped keys carry ~5% of the weight, so the error is ~0.05·|v − O|, orders of magnitude
// above any rounding bound: both bounds must flag it in every dtype, and the margin is printed.
TEST(FlashAttentionBound, DroppedLastPartialTileExceedsBothBounds) {
  const Family f = families()[0];
  for (DType t : {DType::f32, DType::f16, DType::bf16}) {
    const Inputs in = make_inputs(f, t, 1000);
    const float scale = gpu::default_attention_scale(in.d);
    const TwinOutput defective = run_twin(in, t, scale, 192);
    const Ratios r = judge(in, defective, arb_truth(in, scale), t, scale);
    std::printf("%s, dropped tile: guaranteed ratio %.3g (worst %s), probabilistic %.3g\n",
                gpu::dtype_name(t).data(), r.guaranteed, r.worst.c_str(), r.probabilistic);
    EXPECT_GT(r.guaranteed, 3.0);
    EXPECT_GT(r.probabilistic, 3.0);
  }
}

/// Defects of third-party kernels named in issue 19, injected into a copy of the twin's loop.
enum class Defect { none, pv_accumulated_in_bf16, p_rounded_to_3_bits };

float round_to_mantissa_bits(float x, int bits) {  // round to nearest, `bits` after the point
  if (x == 0.0f || !std::isfinite(x)) return x;
  int e = 0;
  const double m = std::frexp(static_cast<double>(x), &e);  // m ∈ [1/2, 1)
  return static_cast<float>(std::ldexp(std::nearbyint(std::ldexp(m, bits + 1)), e - bits - 1));
}

/// The twin's algorithm for one head (same tile functions and order: gpu/flash_attention_twin.cpp),
/// with a defect switched in. With Defect::none it must equal the twin bit for bit.
TwinOutput emulated_kernel(const Inputs& in, DType t, float scale, Defect defect) {
  using namespace gpu::flash;
  const int d = in.d;
  TwinOutput r;
  r.out.assign(static_cast<std::size_t>(in.Lq) * d, 0.0f);
  r.lse.assign(static_cast<std::size_t>(in.Lq), 0.0f);
  float logits[kBlockK], probabilities[kBlockK], lanes[kLanes];
  std::vector<float> acc(static_cast<std::size_t>(d));
  for (int row = 0; row < in.Lq; ++row) {
    const int tiles = key_tile_count(row / kBlockQ, in.Lq, in.Lk, in.causal);
    const int visible_end = visible_key_end(row, in.Lq, in.Lk, in.causal);
    float m = negative_infinity(), l = 0.0f;
    std::fill(acc.begin(), acc.end(), 0.0f);
    for (int tile = 0; tile < tiles; ++tile) {
      const int key0 = tile * kBlockK, valid = std::min(kBlockK, in.Lk - key0);
      for (int j = 0; j < kBlockK; ++j) {
        const bool visible = key0 + j < visible_end;
        float dot = 0.0f;
        for (int c = 0; visible && c < d; ++c)
          dot = score_step(dot, static_cast<float>(in.q[row * d + c]),
                           static_cast<float>(in.k[(key0 + j) * d + c]));
        logits[j] = masked_logit(dot, scale, visible);
      }
      for (int x = 0; x < kLanes; ++x) lanes[x] = max_op(logits[x], logits[x + kLanes]);
      const RowRescale rescale = rescale_row(m, emulate_xor_butterfly(lanes, max_op));
      for (int j = 0; j < kBlockK; ++j) probabilities[j] = tile_probability(logits[j], rescale);
      for (int x = 0; x < kLanes; ++x) lanes[x] = probabilities[x] + probabilities[x + kLanes];
      l = update_row_sum(l, rescale.alpha, emulate_xor_butterfly(lanes, sum_op));
      m = rescale.m_new;
      for (int j = 0; j < kBlockK; ++j)
        probabilities[j] = defect == Defect::p_rounded_to_3_bits
                               ? round_to_mantissa_bits(probabilities[j], 3)
                               : pv_weight(t, probabilities[j]);
      for (int c = 0; c < d; ++c) {
        float o = rescale_accumulator(acc[c], rescale.alpha);
        for (int j = 0; j < valid; ++j) {
          o = pv_step(o, probabilities[j], static_cast<float>(in.v[(key0 + j) * d + c]));
          if (defect == Defect::pv_accumulated_in_bf16) o = gpu::round_through(DType::bf16, o);
        }
        acc[c] = o;
      }
    }
    for (int c = 0; c < d; ++c) r.out[row * d + c] = finalize_output(acc[c], l, visible_end > 0);
    r.lse[row] = finalize_log_sum_exp(m, l);
  }
  return r;
}

// The other defects of issue 19's list, on rows of 300 keys: P·V accumulated in bf16, P rounded
// to 3 mantissa bits before P·V. Each must exceed the probabilistic bound by ≥ 3× in every
// dtype (the target); the margins and worst elements are printed. The emulation without
// a defect reproduces the twin bit for bit, so the defect is the only difference.
TEST(FlashAttentionBound, InjectedDefectsExceedTheProbabilisticBoundThreefold) {
  const Family f{"random 300 keys", true, 16, 300, 64, false, [](Inputs& in, Rng& rng) {
                   normal(in.q, rng), normal(in.k, rng), normal(in.v, rng);
                 }};
  for (DType t : {DType::f32, DType::f16, DType::bf16}) {
    const Inputs in = make_inputs(f, t, 2000);
    const float scale = gpu::default_attention_scale(in.d);
    const TwinOutput twin = run_twin(in, t, scale, in.Lk);
    const TwinOutput same = emulated_kernel(in, t, scale, Defect::none);
    ASSERT_EQ(0, std::memcmp(twin.out.data(), same.out.data(), twin.out.size() * sizeof(float)));
    ASSERT_EQ(0, std::memcmp(twin.lse.data(), same.lse.data(), twin.lse.size() * sizeof(float)));
    const AttentionEnclosure truth = arb_truth(in, scale);
    const Ratios correct = judge(in, twin, truth, t, scale);
    EXPECT_LE(correct.guaranteed, 1.0);
    for (const auto& [defect, name] :
         {std::pair{Defect::pv_accumulated_in_bf16, "P.V accumulated in bf16"},
          std::pair{Defect::p_rounded_to_3_bits, "P rounded to 3 mantissa bits"}}) {
      const Ratios r = judge(in, emulated_kernel(in, t, scale, defect), truth, t, scale);
      std::printf("%s, %s: probabilistic ratio %.3g (worst %s), guaranteed %.3g; correct "
                  "kernel: %.3g / %.3g\n",
                  gpu::dtype_name(t).data(), name, r.probabilistic, r.worst.c_str(), r.guaranteed,
                  correct.probabilistic, correct.guaranteed);
      EXPECT_GE(r.probabilistic, 3.0) << gpu::dtype_name(t) << " " << name;
    }
  }
}

TEST(FlashAttentionBound, BadInputsAreRefusedInOneLine) {
  const std::vector<double> q(8, 0.5), k(16, 0.25), v(16, 1.0), odd(16, 0.1);
  const auto message = [](const FlashAttentionRow& row, double lambda) {
    try {
      flash_attention_row_bound(row, lambda);
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  const FlashAttentionRow good{DType::f32, 8, 0.35f, q, k, v};
  EXPECT_TRUE(message(good, 5).empty());
  // 0.1 is not a value of bf16 (nor of fp32): the class does not match the inputs.
  std::string m = message({DType::bf16, 8, 0.35f, q, odd, v}, 5);
  EXPECT_NE(m.find("not a bf16 value"), std::string::npos) << m;
  EXPECT_EQ(m.find('\n'), std::string::npos);
  m = message(good, 0);
  EXPECT_NE(m.find("lambda"), std::string::npos) << m;
  m = message({DType::f32, 8, -1.0f, q, k, v}, 5);
  EXPECT_NE(m.find("scale"), std::string::npos) << m;
  m = message({DType::f32, 8, 0.35f, q, std::span(k).first(15), v}, 5);
  EXPECT_NE(m.find("head_dim"), std::string::npos) << m;
  EXPECT_THROW(probabilistic_lambda(1.0, 10), std::invalid_argument);  // δ ∉ (0, 1)
}

}  // namespace
}  // namespace attncert
