// The block model of a tensor-core dot product (proofs_checks/tensor_core_model.hpp) against the
// exact dot product in Arb: the model's arithmetic on hand-computed blocks; its a-priori bound
// holds on random and adversarial inputs for every parameter set and is nearly attained where
// the analysis says it is; two under-stated bounds — today's CUDA-core fmaf-chain bound and the
// block bound without its alignment term — are exceeded by the same checker (so it can fail);
// bad parameters and inputs are refused with one line.
//
// Seeded: every draw comes from kSeed (printed) and its case index; a failure names both.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "gpu/dtype.hpp"
#include "numerics/ball.hpp"
#include "numerics/rng.hpp"
#include "numerics/scalar_traits.hpp"
#include "proofs_checks/tensor_core_model.hpp"

namespace attncert {
namespace {

constexpr std::uint64_t kSeed = 20261203;
using Rounding = TensorCoreModel::Rounding;

struct DotCase {
  std::string name;
  float c = 0;
  std::vector<float> a, b;
};

/// |model(c; a, b) − (c + Σ a_j b_j)| as an outward-rounded double upper bound (Arb, exact sums
/// and products of doubles).
double exact_error(const TensorCoreModel& model, const DotCase& dc) {
  Ball exact(static_cast<double>(dc.c));
  for (std::size_t j = 0; j < dc.a.size(); ++j)
    exact += Ball(static_cast<double>(dc.a[j])) * Ball(static_cast<double>(dc.b[j]));
  const float computed = tensor_core_dot(model, dc.c, dc.a, dc.b);
  return abs(Ball(static_cast<double>(computed)) - exact).upper();
}

using BoundFunction = std::function<double(const TensorCoreModel&, const DotCase&)>;

double model_bound(const TensorCoreModel& model, const DotCase& dc) {
  return tensor_core_dot_error_bound(model, dc.c, dc.a, dc.b);
}

struct Worst {
  double ratio = 0;  // largest error / bound over the cases
  std::string where;
};

/// The one checker every test uses: the largest error/bound ratio and the case attaining it.
Worst worst_ratio(const TensorCoreModel& model, const std::vector<DotCase>& cases,
                  const BoundFunction& bound) {
  Worst w;
  for (const DotCase& dc : cases) {
    const double err = exact_error(model, dc), b = bound(model, dc);
    const double ratio = b > 0 ? err / b : (err > 0 ? INFINITY : 0.0);
    if (ratio > w.ratio) w = {ratio, dc.name};
  }
  return w;
}

std::string describe(const TensorCoreModel& m) {
  return "k=" + std::to_string(m.block_size) + " t=" + std::to_string(m.extra_bits) +
         (m.block_rounding == Rounding::truncate ? " trunc " : " rne ") +
         (m.input_dtype == gpu::DType::f16 ? "fp16" : "bf16");
}

float to_dtype(gpu::DType t, double x) { return gpu::round_through(t, static_cast<float>(x)); }

/// Random dot products: lengths 1..300, values of mixed signs and a per-case scale, c random.
std::vector<DotCase> random_cases(const TensorCoreModel& m, std::uint64_t stream, int count) {
  std::vector<DotCase> cases;
  for (int i = 0; i < count; ++i) {
    Rng rng(kSeed ^ (stream * 0x9E3779B97F4A7C15ULL) ^ static_cast<std::uint64_t>(i));
    DotCase dc;
    dc.name = "random stream " + std::to_string(stream) + " case " + std::to_string(i);
    const auto n = static_cast<std::size_t>(rng.uniform_int(1, 300));
    const double scale = std::ldexp(1.0, static_cast<int>(rng.uniform_int(-6, 6)));
    for (std::size_t j = 0; j < n; ++j) {
      dc.a.push_back(to_dtype(m.input_dtype, rng.normal(0.0, scale)));
      dc.b.push_back(to_dtype(m.input_dtype, rng.normal(0.0, 1.0)));
    }
    dc.c = static_cast<float>(rng.normal(0.0, scale * std::sqrt(static_cast<double>(n))));
    cases.push_back(std::move(dc));
  }
  return cases;
}

/// Adversarial families. "swamp": c = 2^E and products just below the alignment quantum
/// 2^(E−23−t), all positive: each block truncates all of them away — the alignment term at its
/// worst. "cancel": blocks of ±large pairs leaving a small exact sum plus tiny terms (the final
/// rounding relative to a large block magnitude). "ties": sums landing on half-ulps of fp32.
std::vector<DotCase> adversarial_cases(const TensorCoreModel& m) {
  std::vector<DotCase> cases;
  const gpu::DType t = m.input_dtype;
  const double just_below_one = t == gpu::DType::f16 ? 1.0 - 0x1p-11 : 1.0 - 0x1p-8;
  for (int n : {1, m.block_size, 3 * m.block_size + 1, 256}) {
    const int e = m.extra_bits + 2;  // keeps 2^(e−23−t) = 2^−21 representable in fp16 too
    DotCase swamp{"swamp n=" + std::to_string(n), static_cast<float>(std::ldexp(1.0, e)), {}, {}};
    for (int j = 0; j < n; ++j) {
      swamp.a.push_back(to_dtype(t, just_below_one));
      swamp.b.push_back(to_dtype(t, std::ldexp(1.0, e - 23 - m.extra_bits)));
    }
    cases.push_back(swamp);

    DotCase cancel{"cancel n=" + std::to_string(n), 0.0f, {}, {}};
    for (int j = 0; j < n; ++j) {
      const double big = std::ldexp(1.0, 10 - (j % 7));
      cancel.a.push_back(to_dtype(t, j % 2 == 0 ? big : -big * (1.0 - 0x1p-7)));
      cancel.b.push_back(to_dtype(t, j % 3 == 0 ? 3.0 : 1.0 + 0x1p-7));
    }
    cases.push_back(cancel);

    DotCase ties{"ties n=" + std::to_string(n), 1.0f, {}, {}};
    for (int j = 0; j < n; ++j) {
      ties.a.push_back(to_dtype(t, 1.5));
      ties.b.push_back(to_dtype(t, 0x1p-21));  // 1.5·2⁻²¹: sums hit fp32 half-ulps near 1..16
    }
    cases.push_back(ties);
  }
  return cases;
}

std::vector<TensorCoreModel> model_grid() {
  std::vector<TensorCoreModel> grid;
  for (int k : {1, 4, 8, 16, 32})
    for (int t : {0, 1, 3, 8})
      for (Rounding r : {Rounding::truncate, Rounding::nearest_even})
        for (gpu::DType d : {gpu::DType::f16, gpu::DType::bf16}) grid.push_back({k, t, r, d});
  return grid;
}

// ---------------------------------------------------------------------------------------------

TEST(TensorCoreModel, HandComputedBlocks) {
  const float tiny = 0x1p-24f;  // a product below fp32's ulp of 1 (2⁻²³): aligned against c = 1
  const std::vector<float> ones4(4, 1.0f), tiny4(4, tiny);
  TensorCoreModel m{4, 0, Rounding::truncate, gpu::DType::bf16};
  // t = 0: quantum 2⁻²³, each 2⁻²⁴ truncated away (the exact sum is 1 + 2⁻²²).
  EXPECT_EQ(tensor_core_dot(m, 1.0f, ones4, tiny4), 1.0f);
  m.extra_bits = 1;  // quantum 2⁻²⁴: exact, 1 + 2⁻²² is an fp32
  EXPECT_EQ(tensor_core_dot(m, 1.0f, ones4, tiny4), 1.0f + 0x1p-22f);
  // Two blocks of four: each renormalised, 1 + 2⁻²² then 1 + 2⁻²¹.
  const std::vector<float> ones8(8, 1.0f), tiny8(8, tiny);
  EXPECT_EQ(tensor_core_dot(m, 1.0f, ones8, tiny8), 1.0f + 0x1p-21f);
  // 1 + 3·2⁻²⁴ = 1 + 1.5 ulp: truncation gives 1 + 2⁻²³, nearest-even 1 + 2⁻²².
  m.extra_bits = 2;
  const std::vector<float> ones3(3, 1.0f), tiny3(3, tiny);
  EXPECT_EQ(tensor_core_dot(m, 1.0f, ones3, tiny3), 1.0f + 0x1p-23f);
  m.block_rounding = Rounding::nearest_even;
  EXPECT_EQ(tensor_core_dot(m, 1.0f, ones3, tiny3), 1.0f + 0x1p-22f);
  // A negative addend is truncated toward zero in magnitude: −0.75 quantum → 0.
  m = {4, 0, Rounding::truncate, gpu::DType::bf16};
  const std::vector<float> minus_one_and_half{-1.5f}, tiny1{tiny};
  EXPECT_EQ(tensor_core_dot(m, 1.0f, minus_one_and_half, tiny1), 1.0f);
  // The largest addend may be a product: c = 2⁻³⁰ is then the one below the quantum.
  const std::vector<float> one{1.0f};
  EXPECT_EQ(tensor_core_dot(m, 0x1p-30f, one, one), 1.0f);
  // No products: c unchanged, bound 0.
  EXPECT_EQ(tensor_core_dot(m, 0.375f, {}, {}), 0.375f);
  EXPECT_EQ(tensor_core_dot_error_bound(m, 0.375f, {}, {}), 0.0);
}

TEST(TensorCoreModel, DeltaMatchesTheDerivation) {
  const double u = 0x1p-24;
  TensorCoreModel m{16, 0, Rounding::truncate, gpu::DType::bf16};
  EXPECT_EQ(tensor_core_block_delta(m), (1 + 2 * u) * (1 + 16 * 2 * u) - 1);  // ≈ 34u
  m.extra_bits = 3;
  m.block_rounding = Rounding::nearest_even;
  EXPECT_EQ(tensor_core_block_delta(m), (1 + u) * (1 + 16 * 2 * u / 8) - 1);
}

TEST(TensorCoreModel, BoundHoldsOnRandomAndAdversarialInputs) {
  std::printf("seed = %llu\n", static_cast<unsigned long long>(kSeed));
  double worst_random = 0, worst_adversarial = 0;
  std::uint64_t stream = 0;
  for (const TensorCoreModel& m : model_grid()) {
    const Worst r = worst_ratio(m, random_cases(m, stream++, 25), model_bound);
    const Worst a = worst_ratio(m, adversarial_cases(m), model_bound);
    EXPECT_LE(r.ratio, 1.0) << describe(m) << ", " << r.where << " (seed " << kSeed << ")";
    EXPECT_LE(a.ratio, 1.0) << describe(m) << ", " << a.where;
    worst_random = std::max(worst_random, r.ratio);
    worst_adversarial = std::max(worst_adversarial, a.ratio);
  }
  std::printf("%zu models: largest error/bound, random %.3g, adversarial %.3g\n",
              model_grid().size(), worst_random, worst_adversarial);
}

// Where the derivation says the bound is attained — every product truncated away, t = 0 — the
// measured error must come close: per block k·(1 − 2⁻⁸)·q against δ·2^E ≈ (k + 1)·q, so the
// ratio approaches k/(k + 1) (≈ 0.94 at k = 16) for long rows.
TEST(TensorCoreModel, BoundIsNearlyAttainedByTruncatedAlignment) {
  const TensorCoreModel m{16, 0, Rounding::truncate, gpu::DType::bf16};
  const Worst w = worst_ratio(m, adversarial_cases(m), model_bound);
  std::printf("%s: largest error/bound %.4f (%s)\n", describe(m).c_str(), w.ratio, w.where.c_str());
  EXPECT_GT(w.ratio, 0.9);
  EXPECT_LE(w.ratio, 1.0);
}

// The same checker must report under-stated bounds: (1) the CUDA-core fmaf-chain bound
// γ_n(u)·(|c| + Σ|a b|) that today's kernel checks use, (2) the block bound without its
// alignment term (δ = ρ). Both are exceeded on the adversarial family — the test can fail.
TEST(TensorCoreModel, UnderstatedBoundsAreExceeded) {
  const TensorCoreModel m{16, 0, Rounding::truncate, gpu::DType::bf16};
  const auto magnitude = [](const DotCase& dc) {
    double s = std::fabs(static_cast<double>(dc.c));
    for (std::size_t j = 0; j < dc.a.size(); ++j)
      s += std::fabs(static_cast<double>(dc.a[j]) * dc.b[j]);
    return s;
  };
  const BoundFunction fma_chain = [&](const TensorCoreModel&, const DotCase& dc) {
    return higham_gamma(static_cast<long>(dc.a.size()), 0x1p-24) * magnitude(dc);
  };
  const BoundFunction without_alignment = [&](const TensorCoreModel& model, const DotCase& dc) {
    const long blocks = static_cast<long>((dc.a.size() + model.block_size - 1) / model.block_size);
    return higham_gamma(blocks, 2 * 0x1p-24) * magnitude(dc);
  };
  const std::vector<DotCase> cases = adversarial_cases(m);
  const Worst chain = worst_ratio(m, cases, fma_chain);
  const Worst no_alignment = worst_ratio(m, cases, without_alignment);
  std::printf("under-stated bounds: fmaf chain %.3g (%s), no alignment term %.3g (%s)\n",
              chain.ratio, chain.where.c_str(), no_alignment.ratio, no_alignment.where.c_str());
  EXPECT_GT(chain.ratio, 1.5);
  EXPECT_GT(no_alignment.ratio, 4.0);
}

TEST(TensorCoreModel, RefusesBadParametersAndInputs) {
  const std::vector<float> one{1.0f}, two{1.0f, 2.0f};
  const auto message = [](auto&& call) {
    try {
      call();
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("(accepted)");
  };
  const auto contains = [](const std::string& s, const char* part) {
    return s.find(part) != std::string::npos;
  };
  TensorCoreModel m;
  for (int k : {0, -3, kTensorCoreMaxBlockSize + 1}) {
    m = {k, 0, Rounding::truncate, gpu::DType::bf16};
    EXPECT_TRUE(contains(message([&] { tensor_core_dot(m, 0, one, one); }), "block size k"));
  }
  for (int t : {-1, kTensorCoreMaxExtraBits + 1}) {
    m = {16, t, Rounding::truncate, gpu::DType::bf16};
    EXPECT_TRUE(contains(message([&] { tensor_core_block_delta(m); }), "extra alignment bits"));
  }
  m = {16, 0, Rounding::truncate, gpu::DType::f32};
  EXPECT_TRUE(contains(message([&] { tensor_core_dot(m, 0, one, one); }), "fp16 or bf16"));
  m = {};
  EXPECT_TRUE(contains(message([&] { tensor_core_dot(m, 0, one, two); }), "b 2"));
  const std::vector<float> nan{std::nanf("")}, unrepresentable{1.0f + 0x1p-10f};
  EXPECT_TRUE(contains(message([&] { tensor_core_dot(m, 0, one, nan); }), "b[0]"));
  EXPECT_TRUE(contains(message([&] { tensor_core_dot_error_bound(m, INFINITY, one, one); }),
                       "c = inf"));
  const std::string bf16_message = message([&] { tensor_core_dot(m, 0, unrepresentable, one); });
  EXPECT_TRUE(contains(bf16_message, "a[0]") && contains(bf16_message, "bf16")) << bf16_message;
  m.input_dtype = gpu::DType::f16;  // 1 + 2⁻¹⁰ is an fp16
  EXPECT_EQ(message([&] { tensor_core_dot(m, 0, unrepresentable, one); }), "(accepted)");
}

}  // namespace
}  // namespace attncert
