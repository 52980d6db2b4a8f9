// The class bounds (attention_error_bound.hpp), guaranteed and probabilistic:
//  - as functions of one row: n·u ≥ 1 is a one-line error, growing with the tile count,
//    carrying P's rounding, vacuous where they must be (three-pass bf16 on logits of −5e4: S
//    rounded to bf16 moves logits by hundreds), R second order (the budget split printed);
//  - as bounds: correct kernels of the class — the emulated flash kernel at several tile sizes,
//    the emulated three-pass kernel, our flash twin — never exceed the guaranteed bound, per
//    element, against the certified truth, on adversarial inputs (ties, logits ≤ −5e4, huge
//    spreads, cancelling values, L = 1, fully masked rows), on a seeded matrix of 360 cases
//    (shapes, masks, softcap, GQA/MQA, dtypes, tiles; random and structured data), and with
//    every fp32 operation rounded toward zero, up or down (faithful, not mean-zero);
//  - on random data (the probabilistic model) they never exceed the probabilistic bound either;
//    the median ratios are printed, structured data above it listed.
// Each random case prints its seed and reproduces from it.
#include "proofs_checks/attention_error_bound.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cfenv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "gpu/flash_attention.hpp"
#include "numerics/rng.hpp"
#include "proofs_checks/attention_check.hpp"
#include "tests/support/emulated_attention_kernels.hpp"

namespace attncert {
namespace {

using gpu::DType;
using test_support::EmulatedAlgorithm;
using test_support::EmulatedAttentionSpec;

/// One row's tensors: q (1 × d), K and V (n × d) N(0, 1) in `t`, the row sees all n keys.
struct RowData {
  std::vector<double> q, k, v;
  std::ptrdiff_t n, d;
  RowData(std::ptrdiff_t keys, std::ptrdiff_t dim, DType t, std::uint64_t seed, double q_sd = 1)
      : n(keys), d(dim) {
    Rng rng(seed);
    q = test_support::random_in_dtype(rng, static_cast<std::size_t>(d), t, q_sd);
    k = test_support::random_in_dtype(rng, static_cast<std::size_t>(n * d), t);
    v = test_support::random_in_dtype(rng, static_cast<std::size_t>(n * d), t);
  }
  AttentionRowBudgets budgets(const AttentionClass& c) const {
    const ConstMatrixView<double> Q(q.data(), 1, d, ViewStride(d, 1)),
        K(k.data(), n, d, ViewStride(d, 1)), V(v.data(), n, d, ViewStride(d, 1));
    AttentionRowInputs r;
    r.q = &Q, r.k = &K, r.v = &V, r.keys = {0, n}, r.scale = 1 / std::sqrt(double(d));
    return attention_row_budgets(c, r);
  }
  double output(const AttentionClass& c) const { return budgets(c).output[0].guaranteed(); }
};

AttentionClass class_of(DType t, bool flash) {
  AttentionClass c;
  c.input = c.output = t;
  c.online_softmax = flash, c.scores_rounded_to_input = !flash;
  return c;
}

TEST(AttentionClassBound, AccumulationBeyondTheDerivationIsAnError) {
  AttentionClass c = class_of(DType::f32, true);
  c.accumulation_unit = 0x1p-10;  // 1100 keys: (n − 1 + tiles)·u ≥ 1
  const RowData row(1100, 4, DType::f32, 3);
  try {
    row.budgets(c);
    FAIL() << "no error for n·u >= 1";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("n·u >= 1"), std::string::npos) << e.what();
    EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos);
  }
  EXPECT_NO_THROW(RowData(900, 4, DType::f32, 3).budgets(c));  // (899 + 56 + 1)·2⁻¹⁰ < 1
}

TEST(AttentionClassBound, GrowsWithTilesAndCarriesPRounding) {
  const RowData row(512, 64, DType::bf16, 5);
  AttentionClass c = class_of(DType::bf16, true), coarse = c;
  coarse.block_k = 128;
  EXPECT_LT(row.output(coarse), row.output(c));  // fewer rescales
  AttentionClass no_p = c;
  no_p.probabilities_rounded_to_input = false;
  // bf16 P rounding (2⁻⁸ per weight) dominates every fp32 term by far
  EXPECT_LT(row.output(no_p) * 4, row.output(c));
  // the probabilistic part adds squares: far below the linear sum for 512 keys
  const auto b = row.budgets(c).output[0];
  const double lambda = probabilistic_lambda(1e-6, 512 * 64);
  EXPECT_LT(b.probabilistic(lambda), b.guaranteed());
  EXPECT_LE(b.linear() + b.systematic_part() + b.remainder_part(), b.guaranteed() * (1 + 1e-15));
  // the second-order rest is second order: tiny against the first-order part
  EXPECT_LT(b.remainder_part(), 1e-2 * b.linear());
}

TEST(AttentionClassBound, ThreePassBf16OnHugeLogitsIsVacuous) {
  // q·k ≈ 2¹⁹/8 ≫ 1: S rounded to bf16 moves logits by hundreds.
  RowData row(64, 64, DType::bf16, 9);
  for (std::ptrdiff_t j = 0; j < row.n; ++j) row.k[j * row.d] = -1024;
  row.q[0] = 512;
  const auto b = row.budgets(class_of(DType::bf16, false));
  EXPECT_TRUE(bound_is_vacuous(b.output[0].guaranteed(), b.v_max_abs[0]));
  const auto f = row.budgets(class_of(DType::bf16, true));  // flash: relative to M − t_j
  EXPECT_FALSE(bound_is_vacuous(f.output[0].guaranteed(), f.v_max_abs[0]));
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
  // ATTNCERT_ADVERSARIAL_SEEDS=N runs seeds 1..N (default 2).
  std::uint64_t last_seed = 2;
  if (const char* env = std::getenv("ATTNCERT_ADVERSARIAL_SEEDS"); env != nullptr)
    last_seed = static_cast<std::uint64_t>(std::max(1, std::atoi(env)));
  for (std::uint64_t seed = 1; seed <= last_seed; ++seed) {
    for (Shape shape : shapes)
      for (DType t : {DType::f32, DType::f16, DType::bf16}) {
        Inputs in = make_inputs(shape, t, seed);
        double worst = 0, worst_p = 0;
        for (int block : {16, 64, 128}) {  // flash kernels at tile sizes ≥ the class's 16
          in.spec.algorithm = EmulatedAlgorithm::flash, in.spec.block_k = block;
          const auto out = test_support::emulated_attention(in.spec, in.q, in.k, in.v);
          const auto r = check(in, out.o, out.lse, AttentionAlgorithm::flash, t);
          expect_within(r, "flash block " + std::to_string(block));
          worst = std::max(worst, r.worst_head().max_ratio);
          for (const auto& h : r.heads) worst_p = std::max(worst_p, h.max_probabilistic_ratio);
        }
        in.spec.algorithm = EmulatedAlgorithm::three_pass;
        const auto out = test_support::emulated_attention(in.spec, in.q, in.k, in.v);
        const auto r3 = check(in, out.o, out.lse, AttentionAlgorithm::three_pass, t);
        // Where the three-pass bound is vacuous it promises nothing (fp16: S = −9e4 overflows
        // to −inf and a correct kernel returns NaN, still reported as a violation).
        if (!r3.worst_head().vacuous) expect_within(r3, "three-pass");
        double worst3_p = 0;
        for (const auto& h : r3.heads) worst3_p = std::max(worst3_p, h.max_probabilistic_ratio);
        // The probabilistic ratios are reported, not required: structured inputs (ties,
        // constant or alternating V) correlate the roundings, outside its model.
        std::printf(
            "seed %llu %-13s %-4s flash worst ratio %.3g (probabilistic %.3g), three-pass %.3g "
            "(%.3g)%s\n",
            static_cast<unsigned long long>(seed), name(shape),
            std::string(gpu::dtype_name(t)).c_str(), worst, worst_p, r3.worst_head().max_ratio,
            worst3_p, r3.worst_head().vacuous ? " (three-pass bound vacuous)" : "");
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

namespace attncert {
namespace {

enum class Data { random, constant_v, repeated_keys, powers_of_two };
const char* data_name(Data x) {
  switch (x) {
    case Data::random:
      return "random";
    case Data::constant_v:
      return "constant V";
    case Data::repeated_keys:
      return "repeated keys";
    case Data::powers_of_two:
      return "powers of 2";
  }
  return "?";
}

struct MatrixCase {
  std::ptrdiff_t d, lq, lk, heads, kv_heads;
  KeyVisibility keys;
  std::optional<double> softcap;
  const char* what;
};

double median(std::vector<double> x) {
  if (x.empty()) return 0;
  std::sort(x.begin(), x.end());
  return x[x.size() / 2];
}

// The seeded matrix of correct emulated kernels: shapes × masks × softcap × GQA × dtypes ×
// (flash at tiles 16/64/128, three-pass) × data. The guaranteed bound must hold everywhere; the
// probabilistic one on random data (inside its model: independent round-to-nearest roundings),
// with its median ratio printed per class and dtype. Structured data (constant V, repeated keys,
// powers of two) that exceed the probabilistic bound are listed, not failed: their roundings are
// correlated or exact, outside the model.
TEST(AttentionClassBound, SeededMatrixGuaranteedAlwaysProbabilisticOnRandomData) {
  KeyVisibility window = KeyVisibility::causal_mask();
  window.window_left = 40;
  const std::vector<MatrixCase> shapes = {
      {64, 16, 300, 2, 2, KeyVisibility::all(), std::nullopt, "d64 L300"},
      {128, 8, 700, 2, 1, KeyVisibility::all(), std::nullopt, "d128 L700 MQA"},
      {32, 40, 40, 4, 2, KeyVisibility::causal_mask(), std::nullopt, "d32 causal GQA"},
      {64, 24, 200, 2, 2, window, std::nullopt, "d64 window"},
      {64, 16, 150, 2, 2, KeyVisibility::all(), 30.0, "d64 softcap 30"},
      {16, 12, 1, 2, 2, KeyVisibility::all(), std::nullopt, "L=1"},
  };
  // Two seeds of random data keep the test short; ATTNCERT_MATRIX_SEEDS=N runs N (the note's
  // ≥ 1,000-case measurement: N = 11).
  std::vector<std::uint64_t> seeds = {11, 12};
  if (const char* env = std::getenv("ATTNCERT_MATRIX_SEEDS"); env != nullptr) {
    seeds.clear();
    for (int i = 0, n = std::max(1, std::atoi(env)); i < n; ++i) seeds.push_back(11 + i);
  }
  std::map<std::string, std::vector<double>> guaranteed_ratios, probabilistic_ratios;
  std::vector<std::string> structured_exceeding;
  int cases = 0;
  for (std::uint64_t seed : seeds)
    for (const MatrixCase& m : shapes)
      for (DType t : {DType::f32, DType::f16, DType::bf16})
        for (Data data :
             {Data::random, Data::constant_v, Data::repeated_keys, Data::powers_of_two}) {
          if (data != Data::random && seed != seeds[0]) continue;
          EmulatedAttentionSpec s;
          s.dtype = s.output_dtype = t;
          s.heads = m.heads, s.kv_heads = m.kv_heads, s.head_dim = m.d;
          s.seqlen_q = m.lq, s.seqlen_k = m.lk;
          s.problem.keys = m.keys, s.problem.softcap = m.softcap;
          Rng rng(seed * 1000 + static_cast<std::uint64_t>(data));
          std::vector<double> q = test_support::random_in_dtype(rng, m.heads * m.lq * m.d, t);
          std::vector<double> k = test_support::random_in_dtype(rng, m.kv_heads * m.lk * m.d, t);
          std::vector<double> v = test_support::random_in_dtype(rng, m.kv_heads * m.lk * m.d, t);
          if (data == Data::constant_v)
            for (std::size_t e = 0; e < v.size(); ++e) v[e] = v[e % m.d];
          if (data == Data::repeated_keys)  // every key (and value) a copy of one of 3
            for (std::size_t e = 0; e < k.size(); ++e)
              k[e] = k[e % (3 * m.d)], v[e] = v[e % (3 * m.d)];
          if (data == Data::powers_of_two)
            for (auto* x : {&q, &k, &v})
              for (double& e : *x)
                e = std::copysign(std::exp2(std::round(std::log2(std::abs(e) + 1e-3))), e);
          for (int alg = 0; alg < 4; ++alg) {
            s.algorithm = alg < 3 ? EmulatedAlgorithm::flash : EmulatedAlgorithm::three_pass;
            s.block_k = alg == 0 ? 16 : alg == 1 ? 64 : 128;
            const auto out = test_support::emulated_attention(s, q, k, v);
            const auto views = test_support::attention_views(s, q, k, v, out.o);
            AttentionCheckOptions opt;
            opt.dtype = t, opt.output_dtype = t, opt.jobs = 2;
            opt.algorithm = alg < 3 ? AttentionAlgorithm::flash : AttentionAlgorithm::three_pass;
            const auto r =
                check_attention(views.tensors(), views.o, out.lse.data(), s.problem, opt);
            ++cases;
            const std::string cls = std::string(alg < 3 ? "flash" : "three-pass") + " " +
                                    std::string(gpu::dtype_name(t));
            const std::string where = std::string(m.what) + ", " + data_name(data) + ", " + cls +
                                      (alg < 3 ? " tile " + std::to_string(s.block_k) : "") +
                                      ", seed " + std::to_string(seed);
            double worst = 0, worst_p = 0;
            bool vacuous = false;
            for (const auto& h : r.heads) {
              SCOPED_TRACE(where);
              vacuous = vacuous || h.vacuous;
              // fp16 three-pass on overflowing S returns NaN: only where the bound is vacuous
              if (!h.vacuous) {
                EXPECT_TRUE(h.bound_pass) << "ratio " << h.max_ratio;
              }
              worst = std::max(worst, h.max_ratio);
              worst_p = std::max(worst_p, h.max_probabilistic_ratio);
              if (data == Data::random && !h.vacuous) {
                EXPECT_TRUE(h.probabilistic_pass)
                    << "probabilistic ratio " << h.max_probabilistic_ratio << " at row "
                    << h.probabilistic_worst.row << " col " << h.probabilistic_worst.column;
              }
            }
            if (vacuous) continue;
            if (data == Data::random) {
              guaranteed_ratios[cls].push_back(worst);
              probabilistic_ratios[cls].push_back(worst_p);
            } else if (worst_p > 1) {
              structured_exceeding.push_back(where + ": probabilistic ratio " +
                                             std::to_string(worst_p));
            }
          }
        }
  std::printf("%d cases (random data: seeds 11..%llu)\n", cases,
              static_cast<unsigned long long>(seeds.back()));
  for (const auto& [cls, g] : guaranteed_ratios)
    std::printf(
        "random data, %-16s %3zu cases: median ratio guaranteed %.3g, probabilistic %.3g "
        "(max %.3g)\n",
        cls.c_str(), g.size(), median(g), median(probabilistic_ratios[cls]),
        *std::max_element(probabilistic_ratios[cls].begin(), probabilistic_ratios[cls].end()));
  std::printf("structured inputs above the probabilistic bound: %zu\n",
              structured_exceeding.size());
  for (const auto& line : structured_exceeding) std::printf("  %s\n", line.c_str());
}

}  // namespace
}  // namespace attncert

namespace attncert {
namespace {

// Directed rounding (toward zero, upward) in every fp32 operation of the emulated kernels: still
// faithful (|δ| ≤ 2⁻²³), so inside the classes and the guaranteed bound, but not mean-zero —
// outside the probabilistic model, like truncating tensor-core accumulation. The guaranteed
// bound must hold; the probabilistic ratios are printed (the model's assumption at work).
TEST(AttentionClassBound, DirectedRoundingKernelsStayWithinTheGuaranteedBound) {
  const std::uint64_t seed = 31;
  std::printf("seed %llu\n", static_cast<unsigned long long>(seed));
  for (int mode : {FE_TOWARDZERO, FE_UPWARD, FE_DOWNWARD})
    for (DType t : {DType::f32, DType::f16, DType::bf16})
      for (EmulatedAlgorithm alg : {EmulatedAlgorithm::flash, EmulatedAlgorithm::three_pass})
        for (bool capped : {false, true}) {
          EmulatedAttentionSpec s;
          if (capped) s.problem.softcap = 5.0;  // with q of sd 3: logits of ±10, caps active
          s.algorithm = alg, s.dtype = s.output_dtype = t, s.block_k = 64;
          s.heads = s.kv_heads = 2, s.head_dim = 64, s.seqlen_q = 16, s.seqlen_k = 600;
          Rng rng(seed);
          const auto q = test_support::random_in_dtype(rng, 2 * 16 * 64, t, capped ? 3.0 : 1.0);
          const auto k = test_support::random_in_dtype(rng, 2 * 600 * 64, t);
          // positive V: the accumulator's partial sums all of one sign, errors all one way
          auto v = test_support::random_in_dtype(rng, 2 * 600 * 64, t);
          for (double& x : v) x = std::abs(x) + 1;
          for (double& x : v) x = gpu::round_through(t, static_cast<float>(x));
          const int saved = std::fegetround();
          std::fesetround(mode);
          const auto out = test_support::emulated_attention(s, q, k, v);
          std::fesetround(saved);
          const auto views = test_support::attention_views(s, q, k, v, out.o);
          AttentionCheckOptions opt;
          opt.dtype = t, opt.output_dtype = t, opt.jobs = 2;
          opt.algorithm = alg == EmulatedAlgorithm::flash ? AttentionAlgorithm::flash
                                                          : AttentionAlgorithm::three_pass;
          const auto r = check_attention(views.tensors(), views.o, out.lse.data(), s.problem, opt);
          double worst = 0, worst_p = 0;
          for (const auto& h : r.heads) {
            EXPECT_TRUE(h.bound_pass) << "mode " << mode << " " << gpu::dtype_name(t) << " ratio "
                                      << h.max_ratio << " lse " << h.lse_max_ratio.value_or(0);
            worst = std::max({worst, h.max_ratio, h.lse_max_ratio.value_or(0.0)});
            worst_p = std::max(worst_p, h.max_probabilistic_ratio);
          }
          std::printf("%-11s %-4s %-10s%-10s guaranteed ratio %.3g, probabilistic %.3g\n",
                      mode == FE_TOWARDZERO ? "toward zero"
                      : mode == FE_UPWARD   ? "upward"
                                            : "downward",
                      std::string(gpu::dtype_name(t)).c_str(), capped ? " softcap" : "",
                      alg == EmulatedAlgorithm::flash ? "flash" : "three-pass", worst, worst_p);
        }
}

}  // namespace
}  // namespace attncert

namespace attncert {
namespace {

// Where each bound's size comes from, for a typical row (300 random keys, d = 64): the first-
// order roundings L, the approximations and floors S, the second-order rest R (which must be
// second order: a small fraction of L + S), and the probabilistic part λ·rms (m = 10⁴ values).
TEST(AttentionClassBound, BudgetSplitOfATypicalRow) {
  const double lambda = probabilistic_lambda(1e-6, 1e4);
  for (bool flash : {true, false})
    for (DType t : {DType::f32, DType::f16, DType::bf16}) {
      const RowData row(300, 64, t, 21);
      const auto b = row.budgets(class_of(t, flash));
      const ErrorBudget& o = b.output[0];
      // R/(L + S) is of the order of the largest first-order relative perturbation: ≤ 1e-3 for
      // fp32/fp16 flash, ≈ 0.1 for three-pass bf16 (each logit moved by 2⁻⁸(2σa_j + |y_j|) ≈
      // 0.05, e^T − 1 − T ≈ T²/2 with the keys' x_j); 0.2 would catch a first-order term
      // misfiled as second order.
      EXPECT_LT(o.remainder_part(), 0.2 * (o.linear() + o.systematic_part()));
      EXPECT_LT(b.log_sum_exp.remainder_part(),
                0.2 * (b.log_sum_exp.linear() + b.log_sum_exp.systematic_part()));
      std::printf(
          "%-10s %-4s output: L %.3g S %.3g R %.3g (guaranteed %.3g), lambda*rms %.3g "
          "(probabilistic %.3g); lse: L %.3g S %.3g R %.3g\n",
          flash ? "flash" : "three-pass", std::string(gpu::dtype_name(t)).c_str(), o.linear(),
          o.systematic_part(), o.remainder_part(), o.guaranteed(), lambda * o.linear_rms(),
          o.probabilistic(lambda), b.log_sum_exp.linear(), b.log_sum_exp.systematic_part(),
          b.log_sum_exp.remainder_part());
    }
}

}  // namespace
}  // namespace attncert
