// Softmax attention in every tier, checked against independent computations:
//  - the Ball enclosure against an Mp evaluation at four times its precision,
//  - float/double against the Ball enclosure within an a-priori forward error bound,
//  - structural identities (causal = attention over a key prefix, shift invariance,
//    multi-head views = per-head copies), edge shapes, fully masked rows, bad input;
//  - key visibility (windows, top-left causal) = the explicit −inf mask in every tier, and
//    softcap (Ball encloses Mp; known truths for tiny and huge caps; cap before the mask).
#include "numerics/softmax_attention.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "numerics/rng.hpp"
#include "numerics/scalar_traits.hpp"
#include "numerics/tier_conversions.hpp"

namespace attncert {
namespace {

using Index = Eigen::Index;
constexpr double kInf = std::numeric_limits<double>::infinity();

RowMatrix<double> random_matrix(Rng& rng, Index rows, Index cols, double sd = 1.0) {
  RowMatrix<double> m(rows, cols);
  for (Index i = 0; i < rows; ++i)
    for (Index j = 0; j < cols; ++j) m(i, j) = rng.normal(0.0, sd);
  return m;
}

template <class T>
RowMatrix<T> convert(const RowMatrix<double>& m, long bits = 0) {
  RowMatrix<T> r(m.rows(), m.cols());
  for (Index i = 0; i < m.rows(); ++i)
    for (Index j = 0; j < m.cols(); ++j) {
      if constexpr (std::is_same_v<T, Ball>) {
        r(i, j) = Ball(m(i, j));  // exact; the precision comes from options.precision_bits
      } else if constexpr (std::is_same_v<T, Mp>) {
        r(i, j) = mp_from_double(m(i, j), bits);
      } else {
        r(i, j) = static_cast<T>(m(i, j));
      }
    }
  return r;
}

/// One random problem, stored in double so every tier sees the same exact inputs.
struct Problem {
  RowMatrix<double> Q, K, V;
  std::optional<RowMatrix<double>> mask;
  KeyVisibility keys;
  std::optional<double> softcap;
  double scale = 0.0;  // 0: default 1/sqrt(d)
  double temperature = 1.0;
};

Problem random_problem(std::uint64_t seed, Index Lq, Index Lk, Index d, Index dv,
                       double sd = 1.0) {
  Rng rng(seed);
  Problem p;
  p.Q = random_matrix(rng, Lq, d, sd);
  p.K = random_matrix(rng, Lk, d, sd);
  p.V = random_matrix(rng, Lk, dv);
  return p;
}

template <class T>
SoftmaxAttentionResult<T> run(const Problem& p, long bits = 0, bool probabilities = false) {
  // Inputs kept alive for the call (the mask is viewed).
  const RowMatrix<T> Q = convert<T>(p.Q, bits), K = convert<T>(p.K, bits),
                     V = convert<T>(p.V, bits);
  RowMatrix<T> mask;
  SoftmaxAttentionOptions<T> o;
  o.keys = p.keys;
  o.return_probabilities = probabilities;
  o.precision_bits = std::is_same_v<T, float> || std::is_same_v<T, double> ? 0 : bits;
  if (p.scale != 0.0) {
    if constexpr (std::is_same_v<T, Mp>) {
      o.scale = mp_from_double(p.scale, bits);
    } else {
      o.scale = T(p.scale);
    }
  }
  if constexpr (std::is_same_v<T, Mp>) {
    o.temperature = mp_from_double(p.temperature, bits);
  } else {
    o.temperature = T(p.temperature);
  }
  if (p.softcap) {
    if constexpr (std::is_same_v<T, Mp>) {
      o.softcap = mp_from_double(*p.softcap, bits);
    } else {
      o.softcap = T(*p.softcap);
    }
  }
  if (p.mask) {
    mask = convert<T>(*p.mask, bits);
    o.set_mask(mask);
  }
  return softmax_attention<T>(Q, K, V, o);
}

// A-priori forward error bound of the float/double path against the exact result, per query
// row i, derived from the algorithm (Higham-style):
//  - logits ŝ_ij = fl(fl(c·q_i)·k_j) (+ mask): |ŝ_ij − s_ij| ≤ δ_i := γ_{d+2}·Σ_k|c·q_ik·k_jk|
//    maximised over j, plus u·|s_ij + mask_ij| for the mask addition (both in δ_i);
//  - e_j = exp(ŝ_j − m) with m one of the ŝ: the argument carries ≤ 2δ_i absolute error plus
//    one rounding u·|x| (and e^x·|x| ≤ 1/e), the exp ≤ 4u (Eigen's vectorised exp for float,
//    bounded_exp for double): relative error of each e_j ≤ 2δ_i + 6u;
//  - the path tiles the keys (kKeyTile = 256 in softmax_attention.cpp) with a running maximum:
//    each of at most ⌈Lk/256⌉ − 1 rescalings multiplies the accumulated weights by an exp
//    (≤ 4u, argument error ≤ u·|x| as above) and rounds the product (u): 6u each, so
//    ε_i := 2δ_i + 6u·⌈Lk/256⌉;
//  - Σ_j e_j and Σ_j e_j v_j: γ_Lk relative to Σ e_j |v_j|, one division u.
// A relative perturbation ε of every weight moves p_j by ≤ 2ε·p_j (numerator and
// denominator), so |ΔO_ik| ≤ (2(ε_i + γ_Lk) + γ_Lk + u)·max_j|v_jk|. The final factor 2 covers
// the second-order terms (all ε ≪ 1 here). lse = m + log Σ: |Δ| ≤ δ_i + ε_i + γ_Lk + u·|lse|.
// Softcap C·tanh(s/C) is 1-Lipschitz, so δ_i passes through; its evaluation adds u·|s| (s/C),
// tanh's error (≤ 2 ulp in glibc and Eigen-free std::tanh: 2u·|tanh|) times C and the product's
// rounding: ≤ u·|s| + 3u·min(|s|, C).
template <class T>
struct ForwardBound {
  std::vector<double> output;  // per row, absolute, for every column
  std::vector<double> lse;
};

template <class T>
ForwardBound<T> forward_bound(const Problem& p, const SoftmaxAttentionResult<double>& ref) {
  const double u = ScalarTraits<T>::unit_roundoff();
  const Index Lq = p.Q.rows(), Lk = p.K.rows(), d = p.Q.cols();
  const double c = (p.scale != 0.0 ? p.scale : 1.0 / std::sqrt(static_cast<double>(d))) /
                   p.temperature;
  const double gamma_d = higham_gamma(d + 2, u), gamma_L = higham_gamma(Lk, u);
  const double vmax = p.V.cwiseAbs().maxCoeff();
  ForwardBound<T> b;
  for (Index i = 0; i < Lq; ++i) {
    double delta = 0.0;
    for (Index j = 0; j < Lk; ++j) {
      const double dot_abs = (p.Q.row(i).cwiseAbs() * std::abs(c)).dot(p.K.row(j).cwiseAbs());
      double s_abs = std::abs(c * p.Q.row(i).dot(p.K.row(j)));
      double cap_error = 0.0;
      if (p.softcap) cap_error = u * s_abs + 3 * u * std::min(s_abs, *p.softcap);
      if (p.mask && std::isfinite((*p.mask)(i, j))) s_abs += std::abs((*p.mask)(i, j));
      delta = std::max(delta, gamma_d * dot_abs + u * s_abs + cap_error);
    }
    const double eps = 2 * delta + 6 * u * static_cast<double>((Lk + 255) / 256);
    b.output.push_back(2.0 * (2 * (eps + gamma_L) + gamma_L + u) * vmax);
    const double lse_abs = std::isfinite(ref.log_sum_exp(i)) ? std::abs(ref.log_sum_exp(i)) : 0;
    b.lse.push_back(2.0 * (delta + eps + gamma_L + u * lse_abs));
  }
  return b;
}

/// Checks the float/double result against the Ball enclosure within the forward bound.
template <class T>
void expect_within_forward_bound(const Problem& p, const SoftmaxAttentionResult<Ball>& exact) {
  const SoftmaxAttentionResult<T> r = run<T>(p);
  const SoftmaxAttentionResult<double> rd = run<double>(p);
  const ForwardBound<T> bound = forward_bound<T>(p, rd);
  for (Index i = 0; i < p.Q.rows(); ++i) {
    const Ball& l = exact.log_sum_exp(i);
    if (std::isinf(l.mid())) {
      EXPECT_EQ(r.log_sum_exp(i), -std::numeric_limits<T>::infinity()) << "row " << i;
    } else {
      EXPECT_LE(std::abs(static_cast<double>(r.log_sum_exp(i)) - l.mid()),
                bound.lse[i] + l.radius())
          << ScalarTraits<T>::name << " lse row " << i << " exact " << l;
    }
    for (Index k = 0; k < p.V.cols(); ++k) {
      const Ball& o = exact.output(i, k);
      EXPECT_LE(std::abs(static_cast<double>(r.output(i, k)) - o.mid()),
                bound.output[i] + o.radius())
          << ScalarTraits<T>::name << " O(" << i << ", " << k << ") exact " << o;
    }
  }
}

double max_relative_radius(const RowMatrix<Ball>& m) {
  double r = 0.0;
  for (Index i = 0; i < m.rows(); ++i)
    for (Index j = 0; j < m.cols(); ++j) r = std::max(r, m(i, j).relative_radius());
  return r;
}

// ---- Ball vs Mp ----------------------------------------------------------------------------

// The Mp reference runs the textbook algorithm in round-to-nearest at 512 bits: its error is
// at most ~ (d + 2·Lk + 10)·2^-512 relative to max|v|·(1 + |logits|), i.e. ~2^-500 here,
// while the Ball is computed at 128 bits and its radius is at least the rounding of its last
// division, ~2^-128·|O|. A correct enclosure therefore contains the Mp value; an enclosure
// that missed the exact value by more than 2^-500 would (generically) miss the Mp value too.
TEST(SoftmaxAttention, BallEnclosesHighPrecisionMpReference) {
  for (std::uint64_t seed : {101u, 102u, 103u, 104u}) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    Problem p = random_problem(seed, 7, 9, 5, 3, 1.5);
    p.keys.causal = seed % 2 == 0;
    p.temperature = seed == 103 ? 0.3 : 1.0;  // makes c = scale/T inexact
    if (seed == 104) {
      Rng rng(seed + 1000);
      p.mask = random_matrix(rng, 7, 9);
      (*p.mask)(2, 4) = -kInf;
      (*p.mask)(5, 0) = -kInf;
    }
    const auto ball = run<Ball>(p, 128);
    const auto mp = run<Mp>(p, 512);
    for (Index i = 0; i < 7; ++i) {
      EXPECT_TRUE(contains(ball.log_sum_exp(i), mp.log_sum_exp(i)))
          << "lse row " << i << ": " << ball.log_sum_exp(i);
      for (Index k = 0; k < 3; ++k) {
        EXPECT_TRUE(contains(ball.output(i, k), mp.output(i, k)))
            << "O(" << i << ", " << k << "): " << ball.output(i, k);
      }
    }
    // Tightness: Arb's radii are a small multiple of 2^-128 (a loose enclosure is useless).
    EXPECT_LT(max_relative_radius(ball.output), std::ldexp(1.0, -110));
    EXPECT_EQ(ball.output(0, 0).precision(), 128);
    EXPECT_GE(mp_bits(mp.output(0, 0)), 512);  // MpPrecision rounds up to whole digits
  }
}

// ---- float/double vs Ball --------------------------------------------------------------------

TEST(SoftmaxAttention, DoubleAndFloatAgreeWithBallWithinForwardErrorBound) {
  struct Case {
    Index Lq, Lk, d, dv;
    bool causal;
    double sd, temperature;
  };
  // Lq = 300, Lk = 257 crosses a key-tile boundary of the double path (256 keys) and a
  // query-block boundary of the Ball path (2^16 / 257 = 255 rows); sd = 3 gives logits ~ ±20.
  for (const Case& c : {Case{33, 33, 16, 8, false, 1.0, 1.0}, Case{300, 257, 4, 2, true, 1.0, 0.5},
                        Case{40, 65, 16, 5, false, 3.0, 1.0}, Case{29, 17, 4, 4, true, 3.0, 2.0}}) {
    const std::uint64_t seed = 200 + c.Lq + c.Lk;
    SCOPED_TRACE("seed " + std::to_string(seed) + " Lq=" + std::to_string(c.Lq) +
                 " Lk=" + std::to_string(c.Lk));
    Problem p = random_problem(seed, c.Lq, c.Lk, c.d, c.dv, c.sd);
    p.keys.causal = c.causal;
    p.temperature = c.temperature;
    const auto exact = run<Ball>(p, 96);
    expect_within_forward_bound<double>(p, exact);
    expect_within_forward_bound<float>(p, exact);
  }
}

// ---- structural identities -------------------------------------------------------------------

// Causal row i (bottom-right aligned: sees keys j ≤ i + Lk − Lq) equals non-causal attention
// of q_i over the first i + Lk − Lq + 1 keys. Checked on Ball (the two enclosures must
// overlap; radii ~2^-100 make this a sharp test) and on double (same bound as above).
TEST(SoftmaxAttention, CausalRowEqualsNonCausalAttentionOverKeyPrefix) {
  for (auto [Lq, Lk] : {std::pair<Index, Index>{9, 9}, {4, 7}, {6, 3}}) {
    const std::uint64_t seed = 300 + Lq * 10 + Lk;
    SCOPED_TRACE("seed " + std::to_string(seed));
    Problem p = random_problem(seed, Lq, Lk, 3, 2);
    p.keys.causal = true;
    const auto causal_ball = run<Ball>(p, 128);
    const auto causal_double = run<double>(p);
    for (Index i = 0; i < Lq; ++i) {
      const Index visible = std::clamp<Index>(i + Lk - Lq + 1, 0, Lk);
      if (visible == 0) {
        EXPECT_EQ(causal_double.log_sum_exp(i), -kInf);
        continue;
      }
      Problem prefix;
      prefix.Q = p.Q.row(i);
      prefix.K = p.K.topRows(visible);
      prefix.V = p.V.topRows(visible);
      const auto ref = run<Ball>(prefix, 128);
      EXPECT_TRUE(causal_ball.log_sum_exp(i).overlaps(ref.log_sum_exp(0))) << "row " << i;
      const auto bound = forward_bound<double>(prefix, run<double>(prefix));
      for (Index k = 0; k < 2; ++k) {
        EXPECT_TRUE(causal_ball.output(i, k).overlaps(ref.output(0, k))) << "row " << i;
        EXPECT_NEAR(causal_double.output(i, k), ref.output(0, k).mid(), bound.output[0]);
      }
    }
  }
}

// softmax(s + a·1) = softmax(s): adding a_i to every logit of row i (through the mask, or by
// moving every key by the same w, which adds q_i·w) leaves O unchanged and adds a_i to lse.
TEST(SoftmaxAttention, LogitShiftLeavesOutputUnchangedAndShiftsLse) {
  const std::uint64_t seed = 401;
  SCOPED_TRACE("seed " + std::to_string(seed));
  Problem p = random_problem(seed, 6, 8, 4, 3);
  // Keys on the grid 2^-20·ℤ (|k| < 8), so that K + w below is exact in double.
  p.K = (p.K * 1048576.0).array().round() / 1048576.0;
  Problem shifted = p;
  shifted.mask = RowMatrix<double>(6, 8);
  for (Index i = 0; i < 6; ++i) shifted.mask->row(i).setConstant(1000.0 * (i + 1) - 2500.0);
  // Key shift by small integers: exact on the grid, so both problems hold exact inputs.
  Problem moved = p;
  const Eigen::RowVector<double, 4> w(3.0, -2.0, 1.0, 5.0);
  moved.K.rowwise() += w;

  const auto base = run<Ball>(p, 128);
  const auto with_mask = run<Ball>(shifted, 128);
  const auto with_moved = run<Ball>(moved, 128);
  const auto base_d = run<double>(p);
  const auto with_mask_d = run<double>(shifted);
  const double c = 1.0 / std::sqrt(4.0);
  for (Index i = 0; i < 6; ++i) {
    const Ball a((1000.0 * (i + 1) - 2500.0), 128);
    EXPECT_TRUE((base.log_sum_exp(i) + a).overlaps(with_mask.log_sum_exp(i))) << "row " << i;
    // lse moves by c·q_i·w, which Ball evaluates directly.
    Ball qw(0.0, 128);
    for (Index k = 0; k < 4; ++k) qw += Ball(p.Q(i, k)) * Ball(w(k));
    EXPECT_TRUE((base.log_sum_exp(i) + Ball(c) * qw).overlaps(with_moved.log_sum_exp(i)));
    for (Index k = 0; k < 3; ++k) {
      EXPECT_TRUE(base.output(i, k).overlaps(with_mask.output(i, k))) << "row " << i;
      EXPECT_TRUE(base.output(i, k).overlaps(with_moved.output(i, k))) << "row " << i;
      // double: the shift is exact in the max-subtraction only up to the rounding of
      // s + a (|s + a| ≤ 3500, u·3500 ≈ 4e-13 per logit); 20 u·|a| covers the bound above.
      EXPECT_NEAR(base_d.output(i, k), with_mask_d.output(i, k),
                  20 * ScalarTraits<double>::unit_roundoff() * 3500);
    }
  }
}

// Multi-head on views: a (B, L, H, d) buffer (what `x.view(B, L, H, d)` gives before the
// transpose) viewed as (B, H, L, d), and a (B, H, d, L) buffer (inner stride L: not
// GEMM-ready) must give exactly what single-head attention gives on copied heads, with the
// output written into a strided (B, L, H, dv) view and GQA (2 query heads per KV head).
TEST(SoftmaxAttention, MultiHeadOnStridedViewsEqualsPerHeadCopies) {
  const std::uint64_t seed = 501;
  SCOPED_TRACE("seed " + std::to_string(seed));
  Rng rng(seed);
  const Index B = 2, H = 4, Hkv = 2, Lq = 5, Lk = 7, d = 3, dv = 2;
  std::vector<double> q(B * Lq * H * d), k(B * Hkv * d * Lk), v(B * Lk * Hkv * dv);
  for (double& x : q) x = rng.normal();
  for (double& x : k) x = rng.normal();
  for (double& x : v) x = rng.normal();
  // q: (B, Lq, H, d) storage; k: (B, Hkv, d, Lk) storage; v: (B, Lk, Hkv, dv) storage.
  Tensor4View<const double> Qv(q.data(), {B, H, Lq, d}, {Lq * H * d, d, H * d, 1});
  Tensor4View<const double> Kv(k.data(), {B, Hkv, Lk, d}, {Hkv * d * Lk, d * Lk, 1, Lk});
  Tensor4View<const double> Vv(v.data(), {B, Hkv, Lk, dv}, {Lk * Hkv * dv, dv, Hkv * dv, 1});
  std::vector<double> o(B * Lq * H * dv, std::nan("")), lse(B * H * Lq, std::nan(""));
  Tensor4View<double> Ov(o.data(), {B, H, Lq, dv}, {Lq * H * dv, dv, H * dv, 1});
  Tensor4View<double> lse_view(lse.data(), B, H, Lq, 1);
  SoftmaxAttentionOptions<double> options;
  options.keys.causal = true;
  softmax_attention<double>(Qv, Kv, Vv, Ov, options, lse_view);
  const auto returned = softmax_attention<double>(Qv, Kv, Vv, options);

  for (Index b = 0; b < B; ++b) {
    for (Index h = 0; h < H; ++h) {
      const RowMatrix<double> Qh = Qv.const_head(b, h), Kh = Kv.const_head(b, h / 2),
                              Vh = Vv.const_head(b, h / 2);
      // The copies really are the heads (index arithmetic written out independently).
      EXPECT_EQ(Qh(1, 2), q[b * Lq * H * d + 1 * H * d + h * d + 2]);
      EXPECT_EQ(Kh(4, 1), k[b * Hkv * d * Lk + (h / 2) * d * Lk + 1 * Lk + 4]);
      const auto ref = softmax_attention<double>(Qh, Kh, Vh, options);
      for (Index i = 0; i < Lq; ++i) {
        EXPECT_EQ(lse[(b * H + h) * Lq + i], ref.log_sum_exp(i));
        EXPECT_EQ(returned.log_sum_exp[(b * H + h) * Lq + i], ref.log_sum_exp(i));
        for (Index c = 0; c < dv; ++c) {
          EXPECT_EQ(o[b * Lq * H * dv + i * H * dv + h * dv + c], ref.output(i, c));
          EXPECT_EQ(returned.output[((b * H + h) * Lq + i) * dv + c], ref.output(i, c));
        }
      }
    }
  }
}

// The Ball multi-head path gives the same enclosures as the single-head path.
TEST(SoftmaxAttention, BallMultiHeadEqualsSingleHead) {
  const std::uint64_t seed = 502;
  SCOPED_TRACE("seed " + std::to_string(seed));
  Rng rng(seed);
  const Index H = 2, L = 4, d = 3;
  std::vector<Ball> q, k, v;
  for (Index n = 0; n < H * L * d; ++n) {
    q.emplace_back(rng.normal(), 80);
    k.emplace_back(rng.normal(), 80);
    v.emplace_back(rng.normal(), 80);
  }
  Tensor4View<const Ball> Qv(q.data(), 1, H, L, d), Kv(k.data(), 1, H, L, d),
      Vv(v.data(), 1, H, L, d);
  const auto multi = softmax_attention<Ball>(Qv, Kv, Vv);
  for (Index h = 0; h < H; ++h) {
    const auto single = softmax_attention<Ball>(Qv.const_head(0, h), Kv.const_head(0, h),
                                                Vv.const_head(0, h));
    for (Index i = 0; i < L; ++i)
      for (Index c = 0; c < d; ++c) {
        const Ball& m = multi.output[(h * L + i) * d + c];
        EXPECT_TRUE(arb_equal(m.arb(), single.output(i, c).arb())) << m;
        EXPECT_EQ(m.precision(), 80);
      }
  }
}

// ---- key visibility (windows, top-left causal) and softcap ------------------------------------

/// The −inf/0 additive mask that hides exactly the keys `keys` hides.
RowMatrix<double> mask_of(const KeyVisibility& keys, Index Lq, Index Lk) {
  RowMatrix<double> m(Lq, Lk);
  for (Index i = 0; i < Lq; ++i)
    for (Index j = 0; j < Lk; ++j) m(i, j) = keys.range(i, Lq, Lk).contains(j) ? 0.0 : -kInf;
  return m;
}

bool is_minus_inf(const Ball& b) { return std::isinf(b.mid()) && b.mid() < 0; }

// A KeyVisibility gives the same attention as the equivalent explicit −inf mask, in every tier:
// Mp identical values (the same operations in the same order: adding a 0 mask entry is exact);
// Ball overlapping enclosures (the masked path's dot products run over zeros as well); float
// and double within the forward bound of the masked problem's Ball truth (their sums group
// the keys differently). Empty rows: O = 0, lse = −inf exactly. The 600 × 700 and 600 × 600
// cases cross the double path's query blocks (512) and key tiles (256), so blocks start at a
// later tile (the windows' first keys move right).
TEST(SoftmaxAttention, KeyVisibilityEqualsTheExplicitMinusInfMaskInEveryTier) {
  const auto BR = DiagonalAlignment::bottom_right, TL = DiagonalAlignment::top_left;
  struct Case {
    Index Lq, Lk;
    KeyVisibility keys;
  };
  const std::vector<Case> cases{{9, 13, KeyVisibility::sliding_window(true, TL, std::nullopt)},
                                {13, 9, KeyVisibility::sliding_window(true, TL, std::nullopt)},
                                {13, 9, KeyVisibility::sliding_window(true, BR, 2)},
                                {11, 11, KeyVisibility::sliding_window(false, TL, 3, 2)},
                                {12, 7, KeyVisibility::sliding_window(false, TL, 0, 0)},
                                {7, 12, KeyVisibility::sliding_window(false, BR, 1, std::nullopt)},
                                {600, 700, KeyVisibility::sliding_window(true, BR, 300)},
                                {600, 600, KeyVisibility::sliding_window(false, TL, 100, 100)}};
  std::uint64_t seed = 700;
  for (const Case& c : cases) {
    ++seed;
    const bool small = c.Lq < 100;
    SCOPED_TRACE("seed " + std::to_string(seed) + " Lq " + std::to_string(c.Lq) + " Lk " +
                 std::to_string(c.Lk));
    Problem windowed = random_problem(seed, c.Lq, c.Lk, small ? 5 : 6, 3, 1.5);
    windowed.keys = c.keys;
    Problem masked = windowed;
    masked.keys = KeyVisibility::all();
    masked.mask = mask_of(c.keys, c.Lq, c.Lk);

    const long bits = small ? 128 : 96;
    const auto ball_w = run<Ball>(windowed, bits), ball_m = run<Ball>(masked, bits);
    for (Index i = 0; i < c.Lq; ++i) {
      const bool empty = c.keys.range(i, c.Lq, c.Lk).empty();
      EXPECT_EQ(is_minus_inf(ball_m.log_sum_exp(i)), empty) << "row " << i;
      if (empty) {
        EXPECT_TRUE(is_minus_inf(ball_w.log_sum_exp(i))) << "row " << i;
        for (Index k = 0; k < 3; ++k) EXPECT_EQ(ball_w.output(i, k).mid(), 0.0);
        continue;
      }
      EXPECT_TRUE(ball_w.log_sum_exp(i).overlaps(ball_m.log_sum_exp(i))) << "row " << i;
      for (Index k = 0; k < 3; ++k)
        EXPECT_TRUE(ball_w.output(i, k).overlaps(ball_m.output(i, k))) << "row " << i;
    }
    expect_within_forward_bound<double>(windowed, ball_m);
    expect_within_forward_bound<float>(windowed, ball_m);
    if (!small) continue;
    const auto mp_w = run<Mp>(windowed, 128), mp_m = run<Mp>(masked, 128);
    const auto mp_ref = run<Mp>(windowed, 512);
    for (Index i = 0; i < c.Lq; ++i) {
      EXPECT_TRUE(mp_w.log_sum_exp(i) == mp_m.log_sum_exp(i)) << "row " << i;
      if (!c.keys.range(i, c.Lq, c.Lk).empty()) {
        EXPECT_TRUE(contains(ball_w.log_sum_exp(i), mp_ref.log_sum_exp(i))) << "row " << i;
      }
      for (Index k = 0; k < 3; ++k) {
        EXPECT_TRUE(mp_w.output(i, k) == mp_m.output(i, k)) << "row " << i;
        EXPECT_TRUE(contains(ball_w.output(i, k), mp_ref.output(i, k))) << "row " << i;
      }
    }
  }
}

// Probabilities under a window: exactly 0 outside the row's range, rows sum to 1.
TEST(SoftmaxAttention, WindowedProbabilitiesVanishOutsideTheWindow) {
  const std::uint64_t seed = 720;
  SCOPED_TRACE("seed " + std::to_string(seed));
  Problem p = random_problem(seed, 600, 700, 4, 2);
  p.keys = KeyVisibility::sliding_window(true, DiagonalAlignment::bottom_right, 300);
  const auto r = run<double>(p, 0, /*probabilities=*/true);
  const double u = ScalarTraits<double>::unit_roundoff();
  for (Index i = 0; i < 600; ++i) {
    const KeyRange keys = p.keys.range(i, 600, 700);
    EXPECT_EQ(r.probabilities.row(i).head(keys.begin).cwiseAbs().sum(), 0.0) << "row " << i;
    EXPECT_EQ(r.probabilities.row(i).tail(700 - keys.end).cwiseAbs().sum(), 0.0) << "row " << i;
    EXPECT_NEAR(r.probabilities.row(i).sum(), 1.0, 3 * higham_gamma(702, u) + 6 * 3 * u);
  }
}

template <class T>
void expect_empty_windows_masked(long bits) {
  SCOPED_TRACE(std::string(ScalarTraits<T>::name));
  for (const KeyVisibility& keys :
       {KeyVisibility::sliding_window(true, DiagonalAlignment::bottom_right, 0),
        KeyVisibility::sliding_window(false, DiagonalAlignment::top_left, 0, 0)}) {
    Problem p = random_problem(602, 8, 3, 2, 2);
    p.keys = keys;
    const auto r = run<T>(p, bits, /*probabilities=*/true);
    int empty = 0;
    for (Index i = 0; i < 8; ++i) {
      const KeyRange range = keys.range(i, 8, 3);
      const double lse = ScalarTraits<T>::to_double(r.log_sum_exp(i));
      if (!range.empty()) {
        EXPECT_TRUE(std::isfinite(lse)) << "row " << i;
        // One visible key (window 0): O = that key's V row.
        for (Index c = 0; c < 2; ++c)
          EXPECT_NEAR(ScalarTraits<T>::to_double(r.output(i, c)), p.V(range.begin, c),
                      4 * ScalarTraits<float>::unit_roundoff() * std::abs(p.V(range.begin, c)));
        continue;
      }
      ++empty;
      EXPECT_TRUE(std::isinf(lse) && lse < 0) << "row " << i;
      for (Index c = 0; c < 2; ++c) EXPECT_EQ(ScalarTraits<T>::to_double(r.output(i, c)), 0.0);
      for (Index j = 0; j < 3; ++j)
        EXPECT_EQ(ScalarTraits<T>::to_double(r.probabilities(i, j)), 0.0);
    }
    EXPECT_EQ(empty, 5);
  }
}

TEST(SoftmaxAttention, EmptyWindowsAreFullyMaskedRowsInEveryTier) {
  expect_empty_windows_masked<float>(0);
  expect_empty_windows_masked<double>(0);
  expect_empty_windows_masked<Mp>(128);
  expect_empty_windows_masked<Ball>(128);
}

// Softcap: Ball (arb_tanh) encloses Mp (MPFR tanh) at 512 bits, and float/double agree with
// Ball within the forward bound, for caps from tiny to loose, with a mask and a window.
TEST(SoftmaxAttention, SoftcapBallEnclosesMpAndIeeeWithinForwardBound) {
  struct Case {
    double cap, sd;
    bool mask, window;
  };
  std::uint64_t seed = 800;
  for (const Case& c : {Case{30.0, 3.0, false, false}, Case{1.0, 2.0, true, false},
                        Case{1e-3, 4.0, false, true}, Case{50.0, 0.5, true, true}}) {
    ++seed;
    SCOPED_TRACE("seed " + std::to_string(seed) + " C " + std::to_string(c.cap));
    Problem p = random_problem(seed, 9, 11, 6, 3, c.sd);
    p.softcap = c.cap;
    if (c.window) p.keys = KeyVisibility::sliding_window(true, DiagonalAlignment::top_left, 4);
    if (c.mask) {
      Rng rng(seed + 1000);
      p.mask = random_matrix(rng, 9, 11);
      (*p.mask)(3, 2) = -kInf;
    }
    const auto ball = run<Ball>(p, 128);
    const auto mp = run<Mp>(p, 512);
    for (Index i = 0; i < 9; ++i) {
      EXPECT_TRUE(contains(ball.log_sum_exp(i), mp.log_sum_exp(i))) << "lse row " << i;
      for (Index k = 0; k < 3; ++k)
        EXPECT_TRUE(contains(ball.output(i, k), mp.output(i, k))) << "O(" << i << ", " << k << ")";
    }
    EXPECT_LT(max_relative_radius(ball.output), std::ldexp(1.0, -110));
    expect_within_forward_bound<double>(p, ball);
    expect_within_forward_bound<float>(p, ball);
  }
}

// Known truths of softcap: (a) every capped logit lies in (−C, C), so each weight is within
// e^{±2C}/n of 1/n and |O − mean V| ≤ (e^{2C} − 1)·max|v| (large logits would be far from it
// uncapped); (b) C = 1e30 changes the logits by ~s³/C² (far below 2^-128): the Ball overlaps
// the uncapped one and double stays within the uncapped truth's forward bound; (c) the cap
// comes before the mask: with a mask +100 on key 0 and C = 1, key 0 dominates (weight
// ≥ 1 − e^{−98}); capping after the mask would give it at most e²/(1 + e²) of the weight.
TEST(SoftmaxAttention, SoftcapKnownTruths) {
  {
    SCOPED_TRACE("tiny cap");
    Problem p = random_problem(810, 4, 6, 3, 2, 6.0);  // logits ~ ±30
    const double cap = 1e-3;
    const auto uncapped = run<Ball>(p, 128);
    p.softcap = cap;
    const auto capped = run<Ball>(p, 128);
    const double vmax = p.V.cwiseAbs().maxCoeff(), bound = std::expm1(2 * cap) * vmax;
    double uncapped_distance = 0.0;
    for (Index i = 0; i < 4; ++i)
      for (Index k = 0; k < 2; ++k) {
        const double mean = p.V.col(k).mean();
        EXPECT_LE(std::abs(capped.output(i, k).mid() - mean), bound) << "row " << i;
        uncapped_distance =
            std::max(uncapped_distance, std::abs(uncapped.output(i, k).mid() - mean));
      }
    EXPECT_GT(uncapped_distance, 100 * bound);  // the check above could fail
  }
  {
    SCOPED_TRACE("huge cap");
    Problem p = random_problem(811, 7, 8, 4, 3, 2.0);
    const auto uncapped = run<Ball>(p, 128);
    p.softcap = 1e30;
    const auto capped = run<Ball>(p, 128);
    for (Index i = 0; i < 7; ++i)
      for (Index k = 0; k < 3; ++k)
        EXPECT_TRUE(capped.output(i, k).overlaps(uncapped.output(i, k)));
    expect_within_forward_bound<double>(p, uncapped);
  }
  {
    SCOPED_TRACE("cap before mask");
    Problem p;
    p.Q = RowMatrix<double>::Constant(1, 1, 1.0);
    p.K = RowMatrix<double>(2, 1);
    p.K << 1.0, 2.0;
    p.V = RowMatrix<double>(2, 1);
    p.V << 1.0, 0.0;
    p.mask = RowMatrix<double>(1, 2);
    *p.mask << 100.0, 0.0;
    p.softcap = 1.0;
    for (const auto& o : {run<Ball>(p, 128).output(0, 0).mid(), run<double>(p).output(0, 0)})
      EXPECT_GE(o, 1 - std::exp(-98.0));
  }
}

TEST(SoftmaxAttention, BadSoftcapAndWindowsAreRefused) {
  using M = RowMatrix<double>;
  const M Q = M::Ones(3, 4), K = M::Ones(5, 4), V = M::Ones(5, 2);
  for (double c : {0.0, -2.0, kInf, std::nan("")}) {
    SoftmaxAttentionOptions<double> o;
    o.softcap = c;
    EXPECT_THROW(softmax_attention<double>(Q, K, V, o), std::invalid_argument) << c;
    if (std::isnan(c)) continue;  // Ball itself refuses NaN
    SoftmaxAttentionOptions<Ball> ob;
    ob.softcap = Ball(c);
    ob.precision_bits = 64;
    const RowMatrix<Ball> Qb = convert<Ball>(Q), Kb = convert<Ball>(K), Vb = convert<Ball>(V);
    EXPECT_THROW(softmax_attention<Ball>(Qb, Kb, Vb, ob), std::invalid_argument) << c;
  }
  SoftmaxAttentionOptions<double> o;
  o.keys.window_left = -1;
  EXPECT_THROW(softmax_attention<double>(Q, K, V, o), std::invalid_argument);
  o.keys.window_left.reset();
  o.keys.window_right = -5;
  std::vector<double> q(12, 1.0), k(20, 1.0), v(10, 1.0);
  EXPECT_THROW(softmax_attention<double>(Tensor4View<const double>(q.data(), 1, 1, 3, 4),
                                         Tensor4View<const double>(k.data(), 1, 1, 5, 4),
                                         Tensor4View<const double>(v.data(), 1, 1, 5, 2), o),
               std::invalid_argument);
}

// ---- masks, edge shapes, ties, extreme logits -------------------------------------------------

template <class T>
void expect_fully_masked_rows(long bits) {
  SCOPED_TRACE(std::string(ScalarTraits<T>::name));
  Problem p = random_problem(601, 5, 3, 2, 2);
  p.keys.causal = true;  // Lq − Lk = 2: rows 0 and 1 see no key
  p.mask = RowMatrix<double>::Zero(5, 3);
  p.mask->row(3).setConstant(-kInf);   // row 3: masked by the mask
  (*p.mask)(4, 0) = -kInf;             // row 4: partly masked
  const auto r = run<T>(p, bits, /*probabilities=*/true);
  for (Index i : {0, 1, 3}) {
    EXPECT_TRUE(std::isinf(ScalarTraits<T>::to_double(r.log_sum_exp(i))) &&
                ScalarTraits<T>::to_double(r.log_sum_exp(i)) < 0)
        << "row " << i;
    for (Index c = 0; c < 2; ++c) EXPECT_EQ(ScalarTraits<T>::to_double(r.output(i, c)), 0.0);
    for (Index j = 0; j < 3; ++j) EXPECT_EQ(ScalarTraits<T>::to_double(r.probabilities(i, j)), 0.0);
  }
  // Row 4 sees keys 1, 2 only; row 2 sees key 0 only, so O = V(0, :) exactly.
  EXPECT_EQ(ScalarTraits<T>::to_double(r.probabilities(4, 0)), 0.0);
  EXPECT_GT(ScalarTraits<T>::to_double(r.probabilities(4, 1)), 0.0);
  for (Index c = 0; c < 2; ++c) {
    EXPECT_NEAR(ScalarTraits<T>::to_double(r.output(2, c)), p.V(0, c),
                4 * ScalarTraits<float>::unit_roundoff() * std::abs(p.V(0, c)));
  }
}

TEST(SoftmaxAttention, FullyMaskedRowsGiveZeroOutputAndMinusInfLseInEveryTier) {
  expect_fully_masked_rows<float>(0);
  expect_fully_masked_rows<double>(0);
  expect_fully_masked_rows<Mp>(128);
  expect_fully_masked_rows<Ball>(128);
}

// The float/double path tiles queries (512 rows) and keys (256) with a running row maximum:
// Lq = 600, Lk = 700 crosses both, causal with Lq < Lk, and a mask that hides a row's whole
// first tile (the maximum starts in a later tile), leaves one key of a row (in the last tile),
// masks a row fully, and puts a row's largest logit in the last tile (every earlier tile is
// rescaled). Against Ball within the forward bound; P rows sum to 1 and P·V = O.
TEST(SoftmaxAttention, TiledDoublePathAcrossBlocksAndTilesAgreesWithBall) {
  const std::uint64_t seed = 650;
  SCOPED_TRACE("seed " + std::to_string(seed));
  Problem p = random_problem(seed, 600, 700, 6, 3, 1.5);
  p.keys.causal = true;
  p.mask = RowMatrix<double>::Zero(600, 700);
  p.mask->row(400).head(300).setConstant(-kInf);  // sees keys ≤ 500: tile 0 hidden
  p.mask->row(20).setConstant(-kInf);             // fully masked
  p.mask->row(530).setConstant(-kInf);            // sees keys ≤ 630: only key 620 left
  (*p.mask)(530, 620) = 0.0;
  (*p.mask)(599, 699) = 40.0;                     // the row maximum in the last tile
  const auto exact = run<Ball>(p, 96);
  expect_within_forward_bound<double>(p, exact);
  expect_within_forward_bound<float>(p, exact);
  const auto r = run<double>(p, 0, true);
  const double u = ScalarTraits<double>::unit_roundoff();
  EXPECT_EQ(r.log_sum_exp(20), -kInf);
  EXPECT_EQ(r.probabilities.row(20).cwiseAbs().maxCoeff(), 0.0);
  EXPECT_EQ(r.probabilities(530, 620), 1.0);
  EXPECT_EQ(r.probabilities.row(400).head(300).cwiseAbs().maxCoeff(), 0.0);
  for (Index i = 0; i < 600; ++i) {
    if (i == 20) continue;
    // Σ_j p_j = Σ e_j / Σ e_j: γ_Lk twice, the divisions, and the tile rescalings (6u each).
    EXPECT_NEAR(r.probabilities.row(i).sum(), 1.0, 3 * higham_gamma(702, u) + 6 * 3 * u)
        << "row " << i;
    EXPECT_EQ(r.probabilities.row(i).tail(700 - std::min<Index>(700, i + 101)).cwiseAbs().sum(),
              0.0)
        << "row " << i << " weighs keys it cannot see";
  }
  const RowMatrix<double> pv = r.probabilities * p.V;
  const double vmax = p.V.cwiseAbs().maxCoeff();
  EXPECT_LE((pv - r.output).cwiseAbs().maxCoeff(), 4 * higham_gamma(702, u) * vmax + 36 * u * vmax);
}

// Edge shapes (L = 1, 2, odd L, d = 1, d > L, Lq ≠ Lk, both orders), causal and not: double
// and float against Ball within the forward bound; P rows sum to 1 and P·V = O.
TEST(SoftmaxAttention, EdgeShapesAgreeWithBall) {
  struct Shape {
    Index Lq, Lk, d, dv;
  };
  for (const Shape& s : {Shape{1, 1, 1, 1}, Shape{1, 1, 4, 3}, Shape{2, 2, 1, 2},
                         Shape{3, 3, 7, 1}, Shape{5, 2, 9, 3}, Shape{2, 5, 1, 1},
                         Shape{11, 13, 2, 5}}) {
    for (bool causal : {false, true}) {
      const std::uint64_t seed = 700 + 31 * s.Lq + 7 * s.Lk + s.d;
      SCOPED_TRACE("seed " + std::to_string(seed) + " shape " + std::to_string(s.Lq) + "," +
                   std::to_string(s.Lk) + "," + std::to_string(s.d) + " causal " +
                   std::to_string(causal));
      Problem p = random_problem(seed, s.Lq, s.Lk, s.d, s.dv, 2.0);
      p.keys.causal = causal;
      const auto exact = run<Ball>(p, 96);
      expect_within_forward_bound<double>(p, exact);
      expect_within_forward_bound<float>(p, exact);
      const auto r = run<double>(p, 0, true);
      const double u = ScalarTraits<double>::unit_roundoff();
      for (Index i = 0; i < s.Lq; ++i) {
        if (r.log_sum_exp(i) == -kInf) continue;  // causal, Lq > Lk
        // Σ_j p_j = Σ e_j / Σ e_j: γ_Lk twice plus the divisions.
        EXPECT_NEAR(r.probabilities.row(i).sum(), 1.0, 3 * higham_gamma(s.Lk + 2, u));
      }
      const RowMatrix<double> pv = r.probabilities * p.V;
      const double vmax = p.V.cwiseAbs().maxCoeff();
      EXPECT_LE((pv - r.output).cwiseAbs().maxCoeff(), 4 * higham_gamma(s.Lk + 2, u) * vmax);
    }
  }
  // L = 1: O = V exactly and lse = the single logit, in every tier.
  Problem one = random_problem(777, 1, 1, 3, 2);
  const auto ball = run<Ball>(one, 128);
  const auto dbl = run<double>(one);
  for (Index c = 0; c < 2; ++c) {
    EXPECT_TRUE(ball.output(0, c).contains(one.V(0, c)));
    EXPECT_EQ(dbl.output(0, c), one.V(0, c));
  }
  EXPECT_NEAR(dbl.log_sum_exp(0), one.Q.row(0).dot(one.K.row(0)) / std::sqrt(3.0),
              4 * higham_gamma(5, ScalarTraits<double>::unit_roundoff()) *
                  (one.Q.row(0).cwiseAbs().dot(one.K.row(0).cwiseAbs())));
}

// Ties: Q = 0 makes every logit 0, so P is uniform, O is the column mean of V and
// lse = log Lk. Identical keys tie too. The exact values are enclosed by Ball.
TEST(SoftmaxAttention, TiedLogitsGiveUniformWeights) {
  Problem p = random_problem(801, 3, 6, 4, 2);
  p.Q.setZero();
  p.K.row(2) = p.K.row(4);  // a tie between keys 2 and 4 for every query
  const auto ball = run<Ball>(p, 128, true);
  const auto dbl = run<double>(p, 0, true);
  for (Index i = 0; i < 3; ++i) {
    EXPECT_TRUE(ball.log_sum_exp(i).overlaps(log(Ball(6.0, 128))));
    EXPECT_NEAR(dbl.log_sum_exp(i), std::log(6.0), 4 * ScalarTraits<double>::epsilon());
    for (Index c = 0; c < 2; ++c) {
      Ball mean(0.0, 128);
      for (Index j = 0; j < 6; ++j) mean += Ball(p.V(j, c));
      mean /= 6.0;
      EXPECT_TRUE(ball.output(i, c).overlaps(mean));
    }
  }
  // Nonzero queries: keys 2 and 4 receive exactly equal weights.
  Problem q = random_problem(802, 3, 6, 4, 2);
  q.K.row(2) = q.K.row(4);
  const auto tied = run<double>(q, 0, true);
  for (Index i = 0; i < 3; ++i) EXPECT_EQ(tied.probabilities(i, 2), tied.probabilities(i, 4));
}

// Logits ≤ −5e4 (FlashInfer's regression case): exp(s) underflows without the max shift.
// q = 300·e₁, k_j = −(170 + j/8)·e₁, scale 1 → s_j = −51000 − 37.5 j; plus one tie.
TEST(SoftmaxAttention, VeryNegativeLogitsStayAccurate) {
  Problem p;
  p.Q = RowMatrix<double>::Zero(2, 2);
  p.Q(0, 0) = 300.0;
  p.Q(1, 0) = 300.0;
  p.Q(1, 1) = 1.0;
  p.K = RowMatrix<double>::Zero(5, 2);
  for (Index j = 0; j < 5; ++j) p.K(j, 0) = -(170.0 + j / 8.0);
  p.V = random_problem(901, 1, 5, 1, 3).V;
  p.scale = 1.0;
  const auto exact = run<Ball>(p, 128);
  EXPECT_LT(exact.log_sum_exp(0).upper(), -5e4);
  expect_within_forward_bound<double>(p, exact);
  expect_within_forward_bound<float>(p, exact);
  const auto r = run<float>(p);
  EXPECT_TRUE(r.output.allFinite());
  EXPECT_TRUE(r.log_sum_exp.allFinite());
}

// ---- bad input -----------------------------------------------------------------------------

template <class E, class F>
void expect_throw_with(F&& f, const std::vector<std::string>& fragments) {
  try {
    f();
    ADD_FAILURE() << "no exception";
  } catch (const E& e) {
    const std::string msg = e.what();
    for (const auto& frag : fragments) {
      EXPECT_NE(msg.find(frag), std::string::npos) << "message '" << msg << "' lacks '" << frag << "'";
    }
  } catch (const std::exception& e) {
    ADD_FAILURE() << "wrong exception type: " << e.what();
  }
}

TEST(SoftmaxAttention, BadInputThrowsClearErrors) {
  using M = RowMatrix<double>;
  const M Q = M::Ones(3, 4), K = M::Ones(5, 4), V = M::Ones(5, 2);
  using IA = std::invalid_argument;
  using DE = std::domain_error;
  expect_throw_with<IA>([&] { softmax_attention<double>(Q, M::Ones(5, 6), V); },
                        {"Q is 3×4", "K is 5×6", "head dim"});
  expect_throw_with<IA>([&] { softmax_attention<double>(Q, K, M::Ones(6, 2)); },
                        {"K is 5×4", "V is 6×2"});
  expect_throw_with<IA>([&] { softmax_attention<double>(M(0, 4), K, V); }, {"empty", "0×4"});
  M bad = Q;
  bad(1, 2) = std::nan("");
  expect_throw_with<DE>([&] { softmax_attention<double>(bad, K, V); }, {"Q(1, 2)", "nan", "finite"});
  M bad_v = V;
  bad_v(4, 1) = kInf;
  expect_throw_with<DE>([&] { softmax_attention<double>(Q, K, bad_v); }, {"V(4, 1)", "inf"});
  for (double t : {0.0, -1.0}) {
    SoftmaxAttentionOptions<double> o;
    o.temperature = t;
    expect_throw_with<IA>([&] { softmax_attention<double>(Q, K, V, o); }, {"temperature", "> 0"});
  }
  {
    SoftmaxAttentionOptions<double> o;
    o.temperature = std::nan("");
    expect_throw_with<DE>([&] { softmax_attention<double>(Q, K, V, o); }, {"temperature", "finite"});
    o.temperature = 1.0;
    o.scale = kInf;
    expect_throw_with<DE>([&] { softmax_attention<double>(Q, K, V, o); }, {"scale", "finite"});
  }
  for (double m : {std::nan(""), kInf}) {
    M mask = M::Zero(3, 5);
    mask(2, 3) = m;
    SoftmaxAttentionOptions<double> o;
    o.set_mask(mask);
    expect_throw_with<DE>([&] { softmax_attention<double>(Q, K, V, o); }, {"mask(2, 3)", "-inf"});
  }
  {
    M mask = M::Zero(5, 3);
    SoftmaxAttentionOptions<double> o;
    o.set_mask(mask);
    expect_throw_with<IA>([&] { softmax_attention<double>(Q, K, V, o); }, {"mask is 5×3", "3×5"});
  }
  {  // logits beyond the double range
    M big = Q * 1e200;
    expect_throw_with<DE>([&] { softmax_attention<double>(big, K * 1e200, V); },
                          {"logit (0, 0)", "overflows double"});
  }
  {  // a finite logit plus a finite mask entry beyond the double range
    M mask = M::Zero(3, 5);
    mask(1, 2) = std::numeric_limits<double>::max();
    SoftmaxAttentionOptions<double> o;
    o.set_mask(mask);
    RowMatrix<double> Qbig = Q;
    Qbig.row(1) = K.row(2) * 1e300;  // logit (1, 2) ~ 1e300: logit + DBL_MAX rounds to +inf
    expect_throw_with<DE>([&] { softmax_attention<double>(Qbig, K, V, o); },
                          {"row 1", "overflows double"});
  }
  {  // Ball: exact inputs need a precision; T must be certainly positive; precision range
    const RowMatrix<Ball> Qb = convert<Ball>(Q), Kb = convert<Ball>(K), Vb = convert<Ball>(V);
    expect_throw_with<IA>([&] { softmax_attention<Ball>(Qb, Kb, Vb); }, {"precision_bits"});
    SoftmaxAttentionOptions<Ball> o;
    o.precision_bits = 64;
    o.temperature = Ball::interval(-0.5, 1.0, 64);
    expect_throw_with<IA>([&] { softmax_attention<Ball>(Qb, Kb, Vb, o); }, {"certainly > 0"});
    o.temperature = Ball(1);
    o.precision_bits = 1;
    expect_throw_with<IA>([&] { softmax_attention<Ball>(Qb, Kb, Vb, o); }, {"precision"});
  }
  {  // Mp: non-finite entry named with its index
    RowMatrix<Mp> Qm = convert<Mp>(Q, 64);
    Qm(0, 3) = mp_from_double(kInf, 64);
    expect_throw_with<DE>([&] {
      softmax_attention<Mp>(Qm, convert<Mp>(K, 64), convert<Mp>(V, 64));
    }, {"Q(0, 3)"});
  }
  {  // multi-head: mismatched shapes, probabilities not available, head named in errors
    std::vector<double> q(2 * 3 * 4, 1.0), k(2 * 5 * 4, 1.0), v(2 * 5 * 2, 1.0), o(2 * 3 * 2);
    Tensor4View<const double> Qv(q.data(), 1, 2, 3, 4), Kv(k.data(), 1, 2, 5, 4),
        Vv(v.data(), 1, 2, 5, 2), Kbad(k.data(), 1, 2, 4, 5);
    Tensor4View<double> Ov(o.data(), 1, 2, 3, 2), Obad(o.data(), 1, 2, 2, 3);
    expect_throw_with<IA>([&] { softmax_attention<double>(Qv, Kbad, Vv, Ov); },
                          {"(1, 2, 3, 4)", "(1, 2, 4, 5)"});
    expect_throw_with<IA>([&] { softmax_attention<double>(Qv, Kv, Vv, Obad); },
                          {"output is (1, 2, 2, 3)"});
    SoftmaxAttentionOptions<double> opt;
    opt.return_probabilities = true;
    expect_throw_with<IA>([&] { softmax_attention<double>(Qv, Kv, Vv, opt); }, {"probabilities"});
    k[1 * 5 * 4 + 2 * 4 + 1] = std::nan("");
    expect_throw_with<DE>([&] { softmax_attention<double>(Qv, Kv, Vv, Ov); },
                          {"K(2, 1) (batch 0, head 1)"});
  }
}

}  // namespace
}  // namespace attncert
