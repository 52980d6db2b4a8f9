// Issue 19's measurement study (docs/error_bound_study.md): how tight are check-attention's two
// bounds on CORRECT kernels, and how far above them do real defects land?
//
//  1. A seeded matrix of check_attention calls on the emulated correct kernels
//     (tests/support/emulated_attention_kernels.hpp): flash-style (kernel tiles of 16/64/128
//     keys, the class declared with the same tile) and three-pass; fp32/fp16/bf16 inputs, the
//     output in the input dtype or fp32; Lq, Lk from 1 to 512 (log-uniform), head dims 16..128,
//     1-4 heads with GQA, both layouts; no mask, causal in both alignments (Lq > Lk gives fully
//     masked rows), sliding windows, softcap; random inputs (several scales, logits <= -5e4, huge
//     spreads) and structured ones (constant V, cancelling V, repeated K rows, repeated Q rows,
//     powers of two, ties). Per call: the guaranteed and the probabilistic max ratio
//     (error/bound over every O and lse value of every head), vacuous heads, the worst element.
//  2. Injected defects (P·V accumulated in bf16 on rows of 300 keys; the last partial key tile
//     dropped; P rounded to 3 mantissa bits before P·V), fp16 and bf16, a few seeds and shapes:
//     each bound's ratio, the FlashAttention rule's margin error/(2·naive + atol), the worst
//     element.
// Output: a CSV (one row per call; written to a temp file, then renamed) and a summary on
// stdout. Every case is rebuilt from (seed, case index) alone: `--only N` reruns case N.
//
// Exit 1 when (a) a call throws, or a correct kernel exceeds the guaranteed bound anywhere (or
// writes NaN/inf); (b) the probabilistic
// fields are live (result.lambda > 0) and a correct kernel on RANDOM inputs exceeds the
// probabilistic bound (structured inputs may: their roundings are correlated, which the model
// excludes; they are listed with the reason); (c) an injected defect leaves the output unchanged,
// or escapes every rule: the guaranteed bound, the FlashAttention rule and (when live) the
// probabilistic bound. Nothing else is asserted: the ratios are measurements.
//
//   error_bound_study [--quick] [--seed S] [--cases N] [--jobs J] [--out FILE.csv] [--only N]
// Default: 2,000 drawn calls + 36 fixed edge cases + 60 defect calls (~15 s on 2 busy cores).
// --quick: the ctest smoke (150 small drawn calls + the edge cases + 10 defect calls; ~1 s).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <limits>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#include "proofs_checks/attention_check.hpp"
#include "proofs_checks/parallel_for.hpp"
#include "tests/support/emulated_attention_kernels.hpp"

namespace {

using namespace attncert;
using gpu::DType;
using test_support::EmulatedAlgorithm;
using test_support::EmulatedAttentionSpec;
using Index = std::ptrdiff_t;
constexpr double kInf = std::numeric_limits<double>::infinity();

// ---------------------------------------------------------------------------------------------
// Inputs

enum class InputKind {
  random_unit,             // Q, K, V ~ N(0, 1)
  random_small,            // Q, K ~ N(0, 0.1²): near-uniform weights
  random_large,            // Q, K ~ N(0, 3²): spiky weights
  random_negative_logits,  // Q ≈ +a, K ≈ −a: every logit ≈ −5.5e4 (≤ −5e4), spread ~100
  random_huge_spread,      // K rows and V rows scaled by 10^U(−3, 1.5) and 10^U(−2, 2)
  constant_v,              // every V row the same
  cancelling_v,            // V rows ±w alternating: O ≈ 0 by cancellation
  repeated_k_rows,         // every K row the same: all logits of a row tie
  repeated_q_rows,         // every Q row the same: every output row the same
  powers_of_two,           // entries ±2^k, k ∈ [−3, 2]: exact products
  ties,                    // Q, K entries in {−1, 0, 1}: integer logits, many ties
};
constexpr int kKinds = 11;

struct KindInfo {
  const char* name;
  bool random;  // the probabilistic model's assumptions are expected to hold
  /// Structured kinds: how the data correlate the rounding errors (the model assumes
  /// independent mean-zero ones); printed next to a case that exceeds the probabilistic bound.
  const char* structure;
};

const KindInfo& info(InputKind k) {
  static const KindInfo table[kKinds] = {
      {"random_unit", true, ""},
      {"random_small", true, ""},
      {"random_large", true, ""},
      {"random_negative_logits", true, ""},
      {"random_huge_spread", true, ""},
      {"constant_v", false,
       "V constant over keys: every P·V product of a column has the same v, so the roundings of "
       "P enter O with one sign pattern, and the weights' normalisation error is not averaged"},
      {"cancelling_v", false,
       "V rows ±w: O is a small difference of large equal-magnitude terms, each P·V rounding "
       "repeats with the same magnitude, relative errors of O are large"},
      {"repeated_k_rows", false,
       "K rows equal: every logit of a row is the same value computed the same way, so its "
       "rounding errors are identical (fully correlated) across keys"},
      {"repeated_q_rows", false,
       "Q rows equal: every output row repeats the same computation, so the worst row's errors "
       "are m copies of one draw (correlated across the values the union bound counts)"},
      {"powers_of_two", false,
       "entries ±2^k: products and many sums are exact (δ = 0), the rest round at ties where "
       "round-to-nearest-even is not mean-zero"},
      {"ties", false,
       "entries in {−1, 0, 1}: integer logits repeat, equal exponentials round identically, "
       "and the roundings of equal terms are equal rather than independent"},
  };
  return table[static_cast<int>(k)];
}

double in_dtype(DType t, double x) { return gpu::round_through(t, static_cast<float>(x)); }

/// A (B, H, L, D) tensor filled logically, stored in `layout`.
struct LogicalTensor {
  Index B, H, L, D;
  std::vector<double> x;  // (b, h, i, c) order
  LogicalTensor(Index b, Index h, Index l, Index d)
      : B(b), H(h), L(l), D(d), x(static_cast<std::size_t>(b * h * l * d)) {}
  double& at(Index b, Index h, Index i, Index c) { return x[((b * H + h) * L + i) * D + c]; }
  std::vector<double> stored(AttentionLayout layout) const {
    if (layout == AttentionLayout::bhsd) return x;
    std::vector<double> y(x.size());
    for (Index b = 0; b < B; ++b)
      for (Index h = 0; h < H; ++h)
        for (Index i = 0; i < L; ++i)
          for (Index c = 0; c < D; ++c)
            y[((b * L + i) * H + h) * D + c] = x[((b * H + h) * L + i) * D + c];
    return y;
  }
};

struct Inputs {
  std::vector<double> q, k, v;  // in spec.layout, values of spec.dtype
};

Inputs make_inputs(const EmulatedAttentionSpec& s, InputKind kind, Rng& rng) {
  const DType t = s.dtype;
  const Index B = s.batch, H = s.heads, Hkv = s.kv_heads, d = s.head_dim, dv = s.dv();
  LogicalTensor Q(B, H, s.seqlen_q, d), K(B, Hkv, s.seqlen_k, d), V(B, Hkv, s.seqlen_k, dv);
  const auto fill = [&](LogicalTensor& T, double sd) {
    for (double& e : T.x) e = in_dtype(t, sd * rng.normal());
  };
  const auto power_of_two = [&] {
    return rng.rademacher() * std::ldexp(1.0, static_cast<int>(rng.uniform_int(-3, 2)));
  };
  const auto trit = [&] { return static_cast<double>(rng.uniform_int(-1, 1)); };
  switch (kind) {
    case InputKind::random_unit: fill(Q, 1), fill(K, 1), fill(V, 1); break;
    case InputKind::random_small: fill(Q, 0.1), fill(K, 0.1), fill(V, 1); break;
    case InputKind::random_large: fill(Q, 3), fill(K, 3), fill(V, 1); break;
    case InputKind::random_negative_logits: {
      // logit = (1/√d)·Σ (a + x)(−a + y) ≈ −√d·a² = −5.5e4 (≤ −5e4 by ~30 standard deviations of
      // the spread √2·a, and inside fp16's range for the three-pass class's S).
      const double a = std::sqrt(5.5e4 / std::sqrt(static_cast<double>(d)));
      for (double& e : Q.x) e = in_dtype(t, a + rng.normal());
      for (double& e : K.x) e = in_dtype(t, -a + rng.normal());
      fill(V, 1);
      break;
    }
    case InputKind::random_huge_spread:
      fill(Q, 1);
      for (Index b = 0; b < B; ++b)
        for (Index h = 0; h < Hkv; ++h)
          for (Index j = 0; j < s.seqlen_k; ++j) {
            const double ks = std::pow(10.0, rng.uniform(-3.0, 1.5));
            const double vs = std::pow(10.0, rng.uniform(-2.0, 2.0));
            for (Index c = 0; c < d; ++c) K.at(b, h, j, c) = in_dtype(t, ks * rng.normal());
            for (Index c = 0; c < dv; ++c) V.at(b, h, j, c) = in_dtype(t, vs * rng.normal());
          }
      break;
    case InputKind::constant_v:
    case InputKind::cancelling_v:
      fill(Q, 1), fill(K, 1);
      for (Index b = 0; b < B; ++b)
        for (Index h = 0; h < Hkv; ++h)
          for (Index c = 0; c < dv; ++c) {
            const double w = in_dtype(t, rng.normal());
            for (Index j = 0; j < s.seqlen_k; ++j)
              V.at(b, h, j, c) = kind == InputKind::constant_v || j % 2 == 0 ? w : -w;
          }
      break;
    case InputKind::repeated_k_rows:
      fill(Q, 1), fill(V, 1);
      for (Index b = 0; b < B; ++b)
        for (Index h = 0; h < Hkv; ++h)
          for (Index c = 0; c < d; ++c) {
            const double w = in_dtype(t, rng.normal());
            for (Index j = 0; j < s.seqlen_k; ++j) K.at(b, h, j, c) = w;
          }
      break;
    case InputKind::repeated_q_rows:
      fill(K, 1), fill(V, 1);
      for (Index b = 0; b < B; ++b)
        for (Index h = 0; h < H; ++h)
          for (Index c = 0; c < d; ++c) {
            const double w = in_dtype(t, rng.normal());
            for (Index i = 0; i < s.seqlen_q; ++i) Q.at(b, h, i, c) = w;
          }
      break;
    case InputKind::powers_of_two:
      for (LogicalTensor* T : {&Q, &K, &V})
        for (double& e : T->x) e = power_of_two();
      break;
    case InputKind::ties:
      for (double& e : Q.x) e = trit();
      for (double& e : K.x) e = trit();
      fill(V, 1);
      break;
  }
  return {Q.stored(s.layout), K.stored(s.layout), V.stored(s.layout)};
}

// ---------------------------------------------------------------------------------------------
// Cases

struct StudyCase {
  std::uint64_t index = 0;
  EmulatedAttentionSpec spec;
  InputKind kind = InputKind::random_unit;
  std::string mask;    // readable mask description
  std::string defect;  // "" for a correct kernel
};

const char* algorithm_name(EmulatedAlgorithm a) {
  return a == EmulatedAlgorithm::flash ? "flash" : "three-pass";
}

std::string mask_name(const KeyVisibility& k) {
  std::string s = k.causal ? (k.alignment == DiagonalAlignment::bottom_right ? "causal-br"
                                                                             : "causal-tl")
                           : "none";
  if (k.window_left || k.window_right) {
    s += "+window(" + (k.window_left ? std::to_string(*k.window_left) : std::string("-1")) + "," +
         (k.window_right ? std::to_string(*k.window_right) : std::string("-1")) + ")";
    if (!k.causal) s += k.alignment == DiagonalAlignment::bottom_right ? "-br" : "-tl";
  }
  return s;
}

/// Case `index` of the correct-kernel matrix, from (seed, index) alone. quick: small shapes.
StudyCase correct_case(std::uint64_t seed, std::uint64_t index, bool quick) {
  Rng rng = Rng(seed).substream(index);
  StudyCase c;
  c.index = index;
  EmulatedAttentionSpec& s = c.spec;
  const DType dtypes[] = {DType::f32, DType::f16, DType::bf16};
  s.dtype = dtypes[rng.below(3)];
  s.output_dtype = s.dtype == DType::f32 || rng.below(2) == 0 ? s.dtype : DType::f32;
  s.layout = rng.below(2) == 0 ? AttentionLayout::bhsd : AttentionLayout::bshd;
  // 60% flash with kernel tiles 16/64/128, 40% three-pass.
  if (rng.below(5) < 3) {
    const int tiles[] = {16, 64, 128};
    s.algorithm = EmulatedAlgorithm::flash;
    s.block_k = tiles[rng.below(3)];
  } else {
    s.algorithm = EmulatedAlgorithm::three_pass;
  }
  // Lengths log-uniform in [1, 2^max_log2]; one case in 8 forces L = 1 on one side.
  const double max_log2 = quick ? 7.0 : 9.0;
  const auto length = [&] {
    return static_cast<Index>(std::floor(std::exp2(rng.uniform(0.0, max_log2 + 1e-9))));
  };
  s.seqlen_q = length(), s.seqlen_k = length();
  if (rng.below(8) == 0) (rng.below(2) == 0 ? s.seqlen_q : s.seqlen_k) = 1;
  const Index dims[] = {16, 32, 64, 128};
  s.head_dim = dims[rng.below(quick ? 2 : 4)];
  const Index head_options[] = {1, 2, 4};
  s.heads = head_options[rng.below(3)];
  s.kv_heads = s.heads;
  if (s.heads > 1 && rng.below(3) == 0) s.kv_heads = s.heads == 4 && rng.below(2) ? 2 : 1;  // GQA
  s.batch = rng.below(6) == 0 ? 2 : 1;
  // Masks: none 30%, causal br 20%, causal tl 15%, causal window 20%, two-sided window 15%.
  const std::uint64_t m = rng.below(20);
  const auto alignment = [&] {
    return rng.below(2) == 0 ? DiagonalAlignment::bottom_right : DiagonalAlignment::top_left;
  };
  if (m < 6) {
    s.problem.keys = KeyVisibility::all();
  } else if (m < 10) {
    s.problem.keys = KeyVisibility::causal_mask(DiagonalAlignment::bottom_right);
  } else if (m < 13) {
    s.problem.keys = KeyVisibility::causal_mask(DiagonalAlignment::top_left);
  } else if (m < 17) {
    s.problem.keys = KeyVisibility::sliding_window(true, alignment(), rng.uniform_int(0, 64));
  } else {
    s.problem.keys = KeyVisibility::sliding_window(false, alignment(), rng.uniform_int(0, 64),
                                                   rng.uniform_int(0, 64));
  }
  if (rng.below(5) == 0) {
    const double caps[] = {5.0, 30.0, 50.0};
    s.problem.softcap = caps[rng.below(3)];
  }
  // Inputs: 60% random (5 kinds), 40% structured (6 kinds).
  c.kind = rng.below(5) < 3 ? static_cast<InputKind>(rng.below(5))
                            : static_cast<InputKind>(5 + rng.below(6));
  c.mask = mask_name(s.problem.keys);
  return c;
}

/// Fixed adversarial geometries in every run (the random matrix may miss them): L = 1, a window
/// that starts past the last key (fully masked rows whose empty range begins inside a tile),
/// Lq > Lk with a bottom-right diagonal (the first Lq − Lk rows fully masked), one key per row;
/// each dtype × {flash/16, flash/64, three-pass}, inputs cycling through random, logits ≤ −5e4,
/// constant V and cancelling V.
std::vector<StudyCase> edge_cases(std::uint64_t first_index) {
  struct Shape {
    Index seqlen_q, seqlen_k;
    KeyVisibility keys;
  };
  const Shape shapes[] = {
      {1, 1, KeyVisibility::all()},
      {28, 1, KeyVisibility::sliding_window(false, DiagonalAlignment::top_left, 1, 34)},
      {70, 20, KeyVisibility::causal_mask(DiagonalAlignment::bottom_right)},
      {40, 40, KeyVisibility::sliding_window(false, DiagonalAlignment::bottom_right, 0, 0)},
  };
  const InputKind kinds[] = {InputKind::random_unit, InputKind::random_negative_logits,
                             InputKind::constant_v, InputKind::cancelling_v};
  std::vector<StudyCase> out;
  std::uint64_t index = first_index;
  int group = 0;  // shifts the input kinds so that each shape meets each kind
  for (DType t : {DType::f32, DType::f16, DType::bf16})
    for (int a = 0; a < 3; ++a, ++group)
      for (int k = 0; k < 4; ++k) {
        const Shape& sh = shapes[k];
        StudyCase c;
        c.index = index++;
        EmulatedAttentionSpec& s = c.spec;
        s.algorithm = a < 2 ? EmulatedAlgorithm::flash : EmulatedAlgorithm::three_pass;
        s.block_k = a == 1 ? 64 : 16;
        s.dtype = s.output_dtype = t;
        s.heads = s.kv_heads = 2, s.head_dim = 32;
        s.seqlen_q = sh.seqlen_q, s.seqlen_k = sh.seqlen_k;
        s.problem.keys = sh.keys;
        c.kind = kinds[(k + group) % 4];
        c.mask = mask_name(sh.keys);
        out.push_back(c);
      }
  return out;
}

/// The injected defects: the three, fp16 and bf16, flash and (where the defect exists
/// there) three-pass, on rows of 300 keys; every head defective. Case indices continue after the
/// correct matrix's so that each case keeps its own substream.
std::vector<StudyCase> defect_cases(std::uint64_t first_index, bool quick) {
  struct Shape {
    Index heads, seqlen_q, seqlen_k, head_dim;
    KeyVisibility keys;
  };
  std::vector<Shape> shapes = {{2, 64, 300, 64, KeyVisibility::all()}};
  if (!quick) shapes.push_back({2, 40, 300, 128, KeyVisibility::causal_mask()});
  const int seeds = quick ? 1 : 3;
  std::vector<StudyCase> out;
  std::uint64_t index = first_index;
  for (DType t : {DType::f16, DType::bf16})
    for (const Shape& sh : shapes)
      for (int r = 0; r < seeds; ++r) {
        struct Variant {
          const char* name;
          EmulatedAlgorithm algorithm;
          int block_k;
          void (*set)(test_support::AttentionDefects&);
        };
        const Variant variants[] = {
            {"bf16 P·V accumulation", EmulatedAlgorithm::flash, 64,
             [](test_support::AttentionDefects& d) { d.bf16_accumulation = true; }},
            {"bf16 P·V accumulation", EmulatedAlgorithm::three_pass, 64,
             [](test_support::AttentionDefects& d) { d.bf16_accumulation = true; }},
            {"last partial tile dropped", EmulatedAlgorithm::flash, 128,
             [](test_support::AttentionDefects& d) { d.drop_last_partial_tile = true; }},
            {"P to 3 mantissa bits", EmulatedAlgorithm::flash, 64,
             [](test_support::AttentionDefects& d) { d.probability_mantissa_bits = 3; }},
            {"P to 3 mantissa bits", EmulatedAlgorithm::three_pass, 64,
             [](test_support::AttentionDefects& d) { d.probability_mantissa_bits = 3; }},
        };
        for (const Variant& v : variants) {
          StudyCase c;
          c.index = index++;
          EmulatedAttentionSpec& s = c.spec;
          s.algorithm = v.algorithm, s.block_k = v.block_k;
          s.dtype = s.output_dtype = t;
          s.heads = s.kv_heads = sh.heads;
          s.seqlen_q = sh.seqlen_q, s.seqlen_k = sh.seqlen_k, s.head_dim = sh.head_dim;
          s.problem.keys = sh.keys;
          v.set(s.defects);
          c.kind = InputKind::random_unit;
          c.mask = mask_name(sh.keys);
          c.defect = v.name;
          out.push_back(c);
        }
      }
  return out;
}

// ---------------------------------------------------------------------------------------------
// One call

struct CaseResult {
  double guaranteed_ratio = 0;     // max error/guaranteed bound over O and lse, all heads
  double probabilistic_ratio = 0;  // max error/probabilistic bound (0 while not live)
  double lambda = 0;               // the call's λ (0: probabilistic fields not live)
  double fa_margin = 0;            // max over heads of error/(2·naive error + atol)
  std::size_t vacuous_heads = 0, vacuous_elements = 0, masked_rows = 0, refined_rows = 0;
  std::size_t non_finite = 0;
  AttentionElement worst, probabilistic_worst;  // by guaranteed and by probabilistic ratio
  bool output_changed = false;                  // defects: differs from the correct kernel's
  double seconds = 0;
  std::string error;  // an exception from the call (a study failure)
};

double ratio(double error, double bound) {
  if (error == 0.0) return 0.0;
  return bound > 0.0 ? error / bound : kInf;
}

CaseResult run_case(const StudyCase& c, std::uint64_t seed) {
  CaseResult res;
  const auto t0 = std::chrono::steady_clock::now();
  try {
    // The data stream is separate from the parameter stream (substream of the case's stream).
    Rng rng = Rng(seed).substream(c.index).substream(1);
    const Inputs in = make_inputs(c.spec, c.kind, rng);
    const auto out = test_support::emulated_attention(c.spec, in.q, in.k, in.v);
    if (c.spec.defects.any()) {
      EmulatedAttentionSpec ok = c.spec;
      ok.defects = {};
      const auto correct = test_support::emulated_attention(ok, in.q, in.k, in.v);
      res.output_changed = correct.o != out.o || correct.lse != out.lse;
    }
    const auto views = test_support::attention_views(c.spec, in.q, in.k, in.v, out.o);
    AttentionCheckOptions opt;
    opt.dtype = c.spec.dtype, opt.output_dtype = c.spec.output_dtype;
    opt.algorithm = c.spec.algorithm == EmulatedAlgorithm::flash ? AttentionAlgorithm::flash
                                                                 : AttentionAlgorithm::three_pass;
    opt.block_k = c.spec.block_k;  // the class declared with the kernel's own tile
    opt.jobs = 1;                  // the study runs calls in parallel instead
    const AttentionCheckResult r =
        check_attention(views.tensors(), views.o, out.lse.data(), c.spec.problem, opt);
    res.lambda = r.lambda;
    for (const AttentionHeadReport& h : r.heads) {
      if (h.max_ratio >= res.guaranteed_ratio) res.guaranteed_ratio = h.max_ratio, res.worst = h.worst;
      if (h.lse_max_ratio && *h.lse_max_ratio > res.guaranteed_ratio)
        res.guaranteed_ratio = *h.lse_max_ratio, res.worst = *h.lse_worst;
      if (h.max_probabilistic_ratio > res.probabilistic_ratio)
        res.probabilistic_ratio = h.max_probabilistic_ratio,
        res.probabilistic_worst = h.probabilistic_worst;
      res.fa_margin = std::max(res.fa_margin, ratio(h.max_error, 2 * h.naive_error + h.atol));
      res.vacuous_heads += h.vacuous ? 1 : 0;
      res.vacuous_elements += h.vacuous_elements;
      res.masked_rows += h.masked_rows, res.refined_rows += h.refined_rows;
      res.non_finite += h.non_finite;
    }
  } catch (const std::exception& e) {
    res.error = e.what();
  }
  res.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return res;
}

// ---------------------------------------------------------------------------------------------
// Output

std::string describe(const StudyCase& c) {
  const auto& s = c.spec;
  char tile[16] = "", cap[32] = "", buf[400];
  if (s.algorithm == EmulatedAlgorithm::flash) std::snprintf(tile, sizeof tile, "/%d", s.block_k);
  if (s.problem.softcap) std::snprintf(cap, sizeof cap, " softcap %g", *s.problem.softcap);
  std::snprintf(buf, sizeof buf,
                "case %llu: %s%s %s->%s %s B%td H%td/%td Lq%td Lk%td d%td %s%s %s%s%s",
                static_cast<unsigned long long>(c.index), algorithm_name(s.algorithm), tile,
                std::string(gpu::dtype_name(s.dtype)).c_str(),
                std::string(gpu::dtype_name(s.output_dtype)).c_str(),
                s.layout == AttentionLayout::bhsd ? "bhsd" : "bshd", s.batch, s.heads, s.kv_heads,
                s.seqlen_q, s.seqlen_k, s.head_dim, c.mask.c_str(), cap, info(c.kind).name, c.defect.empty() ? "" : " DEFECT: ", c.defect.c_str());
  return buf;
}

std::string describe(const AttentionElement& e, double bound) {
  char where[32] = "lse", buf[300];
  if (e.column >= 0) std::snprintf(where, sizeof where, "col %td", e.column);
  std::snprintf(buf, sizeof buf, "(b%td h%td row %td %s) value %.9g truth %.9g error %.3g bound %.3g",
                e.batch, e.head, e.row, where, e.value, e.truth_mid, e.error, bound);
  return buf;
}

void write_csv(const std::string& path, std::uint64_t seed, const std::vector<StudyCase>& cases,
               const std::vector<CaseResult>& results) {
  const std::string tmp = path + ".tmp";
  std::FILE* f = std::fopen(tmp.c_str(), "w");
  if (!f) throw std::runtime_error("cannot write " + tmp);
  std::fprintf(f,
               "case,seed,defect,algorithm,block_k,dtype,output_dtype,layout,batch,heads,kv_heads,"
               "seqlen_q,seqlen_k,head_dim,mask,softcap,input,input_class,guaranteed_ratio,"
               "probabilistic_ratio,lambda,fa_margin,vacuous_heads,vacuous_elements,masked_rows,"
               "refined_rows,non_finite,worst_head,worst_row,worst_column,worst_value,worst_truth,"
               "worst_error,worst_bound,probabilistic_worst_head,probabilistic_worst_row,"
               "probabilistic_worst_column,probabilistic_worst_bound,output_changed,seconds,"
               "error\n");
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const StudyCase& c = cases[i];
    const CaseResult& r = results[i];
    const auto& s = c.spec;
    std::string err = r.error;
    std::replace(err.begin(), err.end(), ',', ';');
    std::replace(err.begin(), err.end(), '"', '\'');
    std::fprintf(
        f,
        "%llu,%llu,\"%s\",%s,%d,%s,%s,%s,%td,%td,%td,%td,%td,%td,\"%s\",%g,%s,%s,%.6g,%.6g,%.6g,%.6g,%zu,"
        "%zu,%zu,%zu,%zu,%td,%td,%td,%.17g,%.17g,%.6g,%.6g,%td,%td,%td,%.6g,%d,%.4f,%s\n",
        static_cast<unsigned long long>(c.index), static_cast<unsigned long long>(seed),
        c.defect.empty() ? "none" : c.defect.c_str(), algorithm_name(s.algorithm),
        s.algorithm == EmulatedAlgorithm::flash ? s.block_k : 0,
        std::string(gpu::dtype_name(s.dtype)).c_str(),
        std::string(gpu::dtype_name(s.output_dtype)).c_str(),
        s.layout == AttentionLayout::bhsd ? "bhsd" : "bshd", s.batch, s.heads, s.kv_heads,
        s.seqlen_q, s.seqlen_k, s.head_dim, c.mask.c_str(), s.problem.softcap.value_or(0.0),
        info(c.kind).name, info(c.kind).random ? "random" : "structured", r.guaranteed_ratio,
        r.probabilistic_ratio, r.lambda, r.fa_margin, r.vacuous_heads, r.vacuous_elements,
        r.masked_rows, r.refined_rows, r.non_finite, r.worst.head, r.worst.row, r.worst.column,
        r.worst.value, r.worst.truth_mid, r.worst.error, r.worst.bound,
        r.probabilistic_worst.head, r.probabilistic_worst.row, r.probabilistic_worst.column,
        r.probabilistic_worst.probabilistic_bound, r.output_changed ? 1 : 0, r.seconds,
        err.c_str());  // quoted: masks hold commas; err has none left
  }
  if (std::fclose(f) != 0 || std::rename(tmp.c_str(), path.c_str()) != 0)
    throw std::runtime_error("cannot write " + path);
}

/// Nearest-rank quantile of a sorted sample.
double quantile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return std::nan("");
  const auto rank = static_cast<std::size_t>(std::ceil(p * static_cast<double>(sorted.size())));
  return sorted[std::clamp<std::size_t>(rank, 1, sorted.size()) - 1];
}

std::string distribution(std::vector<double> x) {
  std::sort(x.begin(), x.end());
  char buf[120];
  if (x.empty()) return "          -         -         -         -";
  std::snprintf(buf, sizeof buf, "%10.3g%10.3g%10.3g%10.3g", x.front(), quantile(x, 0.5),
                quantile(x, 0.9), x.back());
  return buf;
}

struct Sample {
  std::vector<double> guaranteed, probabilistic;
  std::size_t vacuous = 0;
};

int usage() {
  std::fprintf(stderr,
               "usage: error_bound_study [--quick] [--seed S] [--cases N] [--jobs J] "
               "[--out FILE.csv] [--only N]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  bool quick = false;
  std::uint64_t seed = 20261203;
  std::optional<std::uint64_t> cases_wanted, only;
  int jobs = 2;
  std::string out_path;
  try {
    for (int a = 1; a < argc; ++a) {
      const std::string arg = argv[a];
      const auto value = [&]() -> std::string {
        if (a + 1 >= argc) throw std::invalid_argument(arg + " needs a value");
        return argv[++a];
      };
      if (arg == "--quick") quick = true;
      else if (arg == "--seed") seed = std::stoull(value());
      else if (arg == "--cases") cases_wanted = std::stoull(value());
      else if (arg == "--jobs") jobs = std::stoi(value());
      else if (arg == "--out") out_path = value();
      else if (arg == "--only") only = std::stoull(value());
      else throw std::invalid_argument("unknown argument " + arg);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error_bound_study: %s\n", e.what());
    return usage();
  }
  if (out_path.empty()) out_path = quick ? "error_bound_study_quick.csv" : "error_bound_study.csv";
  const std::uint64_t n_correct = cases_wanted.value_or(quick ? 150 : 2000);
  // A case's parameters depend on --quick and its index on --cases: a rerun repeats both.
  std::printf("error_bound_study: seed %llu, %llu drawn correct-kernel calls + fixed edge cases%s "
              "(rerun one: --seed %llu%s --cases %llu --only N)\n",
              static_cast<unsigned long long>(seed), static_cast<unsigned long long>(n_correct),
              quick ? " (quick)" : "", static_cast<unsigned long long>(seed),
              quick ? " --quick" : "", static_cast<unsigned long long>(n_correct));

  std::vector<StudyCase> cases;
  for (std::uint64_t i = 0; i < n_correct; ++i) cases.push_back(correct_case(seed, i, quick));
  for (StudyCase& c : edge_cases(cases.size())) cases.push_back(std::move(c));
  for (StudyCase& c : defect_cases(cases.size(), quick)) cases.push_back(std::move(c));
  if (only) {
    if (*only >= cases.size()) {
      std::fprintf(stderr, "error_bound_study: --only %llu: there are %zu cases\n",
                   static_cast<unsigned long long>(*only), cases.size());
      return 2;
    }
    cases = {cases[*only]};
  }

  const auto t0 = std::chrono::steady_clock::now();
  const std::vector<CaseResult> results = parallel_map<CaseResult>(
      cases.size(), jobs, [&](std::size_t i) { return run_case(cases[i], seed); });
  const double wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  write_csv(out_path, seed, cases, results);
  std::printf("%zu calls in %.1f s wall (jobs %d); CSV: %s\n", cases.size(), wall, jobs,
              out_path.c_str());

  int failures = 0;
  const auto fail = [&](const std::string& what) {
    ++failures;
    std::printf("FAILURE: %s\n", what.c_str());
  };
  const bool live = std::any_of(results.begin(), results.end(),
                                [](const CaseResult& r) { return r.lambda > 0; });
  for (std::size_t i = 0; i < cases.size(); ++i)
    if (!results[i].error.empty()) fail(describe(cases[i]) + ": threw: " + results[i].error);

  // --- correct kernels
  std::map<std::tuple<std::string, std::string, int>, Sample> by_cell;  // dtype, alg, kind
  std::map<std::pair<std::string, bool>, Sample> by_class;              // dtype, random
  Sample all_random, all;
  std::vector<std::size_t> guaranteed_over, random_over, structured_over, vacuous;
  double lambda_min = kInf, lambda_max = 0;
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const StudyCase& c = cases[i];
    const CaseResult& r = results[i];
    if (!c.defect.empty() || !r.error.empty()) continue;
    if (r.lambda > 0) lambda_min = std::min(lambda_min, r.lambda), lambda_max = std::max(lambda_max, r.lambda);
    const std::string dt(gpu::dtype_name(c.spec.dtype));
    const bool random = info(c.kind).random;
    Sample* samples[] = {&by_cell[{dt, algorithm_name(c.spec.algorithm), static_cast<int>(c.kind)}],
                         &by_class[{dt, random}], &all};
    // A call counts as vacuous when one of its heads is (every bound of that head vacuous);
    // its ratios say nothing and stay out of the distributions.
    const bool is_vacuous = r.vacuous_heads > 0;
    for (Sample* s : samples) {
      if (is_vacuous) {
        ++s->vacuous;
        continue;
      }
      s->guaranteed.push_back(r.guaranteed_ratio);
      s->probabilistic.push_back(r.probabilistic_ratio);
    }
    if (random && is_vacuous) ++all_random.vacuous;
    if (random && !is_vacuous) all_random.guaranteed.push_back(r.guaranteed_ratio),
                               all_random.probabilistic.push_back(r.probabilistic_ratio);
    if (is_vacuous) vacuous.push_back(i);
    if (r.guaranteed_ratio > 1 || r.non_finite > 0) guaranteed_over.push_back(i);
    if (live && r.probabilistic_ratio > 1) (random ? random_over : structured_over).push_back(i);
  }

  std::printf("\n== Correct kernels: error/bound per call (max over its O and lse values), "
              "non-vacuous calls ==\n");
  if (live)
    std::printf("probabilistic bounds live: lambda %.3g..%.3g (false alarm %.0e per call)\n",
                lambda_min, lambda_max, kDefaultFalseAlarm);
  else
    std::printf("probabilistic bounds NOT live (result.lambda = 0 in every call: this build's "
                "check_attention does not compute them); their columns read 0\n");
  std::printf("%-5s %-10s %-23s %5s %4s | guaranteed: %6s%10s%10s%10s | probabilistic: %4s%10s%10s%10s\n",
              "dtype", "algorithm", "input", "n", "vac", "min", "median", "p90", "max", "min",
              "median", "p90", "max");
  for (const auto& [key, s] : by_cell)
    std::printf("%-5s %-10s %-23s %5zu %4zu | %s | %s\n", std::get<0>(key).c_str(),
                std::get<1>(key).c_str(), info(static_cast<InputKind>(std::get<2>(key))).name,
                s.guaranteed.size(), s.vacuous, distribution(s.guaranteed).c_str(),
                distribution(s.probabilistic).c_str());
  std::printf("-- by dtype and input class\n");
  for (const auto& [key, s] : by_class)
    std::printf("%-5s %-34s %5zu %4zu | %s | %s\n", key.first.c_str(),
                key.second ? "random" : "structured", s.guaranteed.size(), s.vacuous,
                distribution(s.guaranteed).c_str(), distribution(s.probabilistic).c_str());
  std::printf("%-40s %5zu %4zu | %s | %s\n", "all random", all_random.guaranteed.size(),
              all_random.vacuous, distribution(all_random.guaranteed).c_str(),
              distribution(all_random.probabilistic).c_str());
  std::printf("%-40s %5zu %4zu | %s | %s\n", "all", all.guaranteed.size(), all.vacuous,
              distribution(all.guaranteed).c_str(), distribution(all.probabilistic).c_str());

  std::printf("\nvacuous calls (a head whose every bound is vacuous): %zu\n", vacuous.size());
  for (std::size_t k = 0; k < vacuous.size() && k < 20; ++k)
    std::printf("  %s: %zu vacuous heads\n", describe(cases[vacuous[k]]).c_str(),
                results[vacuous[k]].vacuous_heads);
  if (vacuous.size() > 20) std::printf("  ... (all in the CSV, vacuous_heads > 0)\n");

  std::printf("\ncorrect kernels exceeding the GUARANTEED bound (must be none): %zu\n",
              guaranteed_over.size());
  for (std::size_t i : guaranteed_over)
    fail(describe(cases[i]) + ": guaranteed ratio " + std::to_string(results[i].guaranteed_ratio) +
         " at " + describe(results[i].worst, results[i].worst.bound));
  if (live) {
    std::printf("random-input calls exceeding the PROBABILISTIC bound (must be none): %zu\n",
                random_over.size());
    for (std::size_t i : random_over)
      fail(describe(cases[i]) + ": probabilistic ratio " +
           std::to_string(results[i].probabilistic_ratio) + " at " +
           describe(results[i].probabilistic_worst,
                    results[i].probabilistic_worst.probabilistic_bound));
    std::printf("structured-input calls exceeding the probabilistic bound: %zu\n",
                structured_over.size());
    std::map<int, std::size_t> over_by_kind;
    for (std::size_t i : structured_over) ++over_by_kind[static_cast<int>(cases[i].kind)];
    for (const auto& [kind, n] : over_by_kind)
      std::printf("  %-16s %zu of its calls\n", info(static_cast<InputKind>(kind)).name, n);
    const std::size_t shown = 30;  // the rest are in the CSV
    for (std::size_t k = 0; k < structured_over.size() && k < shown; ++k) {
      const std::size_t i = structured_over[k];
      const CaseResult& r = results[i];
      std::printf("  %s: ratio %.3g at %s\n    why: %s\n", describe(cases[i]).c_str(),
                  r.probabilistic_ratio,
                  describe(r.probabilistic_worst, r.probabilistic_worst.probabilistic_bound).c_str(),
                  info(cases[i].kind).structure);
    }
    if (structured_over.size() > shown)
      std::printf("  ... (all in the CSV: input_class structured, probabilistic_ratio > 1)\n");
    const double median_random = quantile(
        [&] {
          auto x = all_random.probabilistic;
          std::sort(x.begin(), x.end());
          return x;
        }(),
        0.5);
    std::printf("target: random-input probabilistic median >= 0.2: %.3g (%s)\n", median_random,
                median_random >= 0.2 ? "met" : "NOT met");
  } else {
    std::printf("SKIPPING the assertion 'no random-input call exceeds the probabilistic bound': "
                "the probabilistic fields are not live in this build\n");
  }

  // --- injected defects
  std::printf("\n== Injected defects (every head defective) ==\n");
  std::printf("%-27s %-10s %-5s %-28s %9s %9s %9s  worst element (by guaranteed ratio)\n",
              "defect", "algorithm", "dtype", "shape", "guar.", "prob.", "FA rule");
  // Per defect × algorithm × dtype: the smallest ratio of each rule over seeds and shapes (each
  // column its own minimum).
  struct DefectGroup {
    std::size_t calls = 0;
    double guaranteed = kInf, probabilistic = kInf, fa = kInf;
    std::size_t weakest = 0;  // the call with the smallest probabilistic ratio
  };
  std::map<std::tuple<std::string, std::string, std::string>, DefectGroup> groups;
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const StudyCase& c = cases[i];
    const CaseResult& r = results[i];
    if (c.defect.empty() || !r.error.empty()) continue;
    const auto& s = c.spec;
    char shape[80];
    std::snprintf(shape, sizeof shape, "H%td Lq%td Lk%td d%td %s #%llu", s.heads, s.seqlen_q,
                  s.seqlen_k, s.head_dim, c.mask.c_str(), static_cast<unsigned long long>(c.index));
    std::printf("%-27s %-10s %-5s %-28s %9.3g %9.3g %9.3g  %s\n", c.defect.c_str(),
                algorithm_name(s.algorithm), std::string(gpu::dtype_name(s.dtype)).c_str(), shape,
                r.guaranteed_ratio, r.probabilistic_ratio, r.fa_margin,
                describe(r.worst, r.worst.bound).c_str());
    DefectGroup& g = groups[{c.defect, algorithm_name(s.algorithm),
                             std::string(gpu::dtype_name(s.dtype))}];
    if (g.calls++ == 0 || r.probabilistic_ratio < g.probabilistic) g.weakest = i;
    g.guaranteed = std::min(g.guaranteed, r.guaranteed_ratio);
    g.probabilistic = std::min(g.probabilistic, r.probabilistic_ratio);
    g.fa = std::min(g.fa, r.fa_margin);
    if (!r.output_changed) fail(describe(c) + ": the defect left the output unchanged");
    if (!(r.guaranteed_ratio > 1) && !(r.fa_margin > 1) && !(r.probabilistic_ratio > 1))
      fail(describe(c) + ": escapes every rule: guaranteed ratio " +
           std::to_string(r.guaranteed_ratio) + ", FA rule margin " + std::to_string(r.fa_margin) +
           ", probabilistic ratio " + std::to_string(r.probabilistic_ratio) +
           (live ? "" : " (not live)"));
  }
  std::printf("(guar./prob.: max error/bound over the call; FA rule: max error/(2·naive error + "
              "atol), > 1 = caught)\n");
  std::printf("-- smallest ratio over seeds and shapes (target: probabilistic >= 3)\n");
  std::printf("%-27s %-10s %-5s %5s %9s %9s %9s  %s\n", "defect", "algorithm", "dtype", "calls",
              "guar.", "prob.", "FA rule", "target; the weakest call's worst element (prob.)");
  for (const auto& [key, g] : groups) {
    const CaseResult& w = results[g.weakest];
    std::printf("%-27s %-10s %-5s %5zu %9.3g %9.3g %9.3g  %s; #%zu %s\n", std::get<0>(key).c_str(),
                std::get<1>(key).c_str(), std::get<2>(key).c_str(), g.calls, g.guaranteed,
                g.probabilistic, g.fa, !live ? "not live" : g.probabilistic >= 3 ? "met" : "NOT met",
                g.weakest,
                live ? describe(w.probabilistic_worst, w.probabilistic_worst.probabilistic_bound)
                           .c_str()
                     : "-");
  }

  std::printf("\n%s: %d failure(s)\n", failures == 0 ? "OK" : "FAILED", failures);
  return failures == 0 ? 0 : 1;
}
