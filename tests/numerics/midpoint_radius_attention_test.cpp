// The fast enclosure tier (midpoint_radius_attention) against independent references:
//  - containment: every printed [mid − rad, mid + rad] must contain the whole Arb ball of
//    softmax_attention<Ball> at 256 bits, on random and adversarial inputs (logits up to
//    ±1e4 with one dominant entry, subnormal entries, fully masked rows, fp16/bf16-exact
//    inputs, d = 1 and d = 256, seqlen 1, GQA, strided views, scale/temperature/mask given,
//    logits beyond double's range that must fall back to balls);
//  - large finite mask entries (PyTorch's finfo.min for float32 and float64) whose keys'
//    weights certainly underflow: the rows stay in double; entries near the underflow
//    boundary and keys near the row maximum with a large logit error (which must not be
//    taken for underflowed weights);
//  - V near the bottom of double's range (×1e-300, subnormal): the radius scales with V;
//  - a second reference, the MPFR tier softmax_attention<Mp> at 256 bits (our in-process
//    equivalent of "mpmath at high precision"): round-to-nearest with error ~Lk·2⁻²⁵⁰·|O|,
//    far inside any radius here, so a correct enclosure contains it;
//  - inputs whose rounding loses a whole term (cancelling logit products, cancelling value
//    sums), so that dropping the logit-product or the PV-rounding term of the radius fails;
//  - the checker itself: an artificially shrunk radius is reported;
//  - tightness: at (Lq, Lk, d) = (128, 128, 64), N(0,1), largest radius / max |O| ≤ 1e-12;
//  - refine_rows_in_balls, row tiers, bad input;
//  - key visibility (windows, top-left causal: the same as the explicit −inf mask, empty windows
//    Masked) and softcap (C from 1e-3 to 1e30, huge logits, ties, cancelling logit products).
// Every randomised test names its seed in a SCOPED_TRACE, printed with any failure.
#include "numerics/midpoint_radius_attention.hpp"

#include <arb.h>
#include <gtest/gtest.h>

#include <cfenv>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#if defined(__x86_64__)
#include <xmmintrin.h>
#endif

#include "numerics/arb_handles.hpp"
#include "numerics/ball.hpp"
#include "numerics/mp.hpp"
#include "numerics/rng.hpp"
#include "numerics/softmax_attention.hpp"
#include "numerics/tier_conversions.hpp"

namespace attncert {
namespace {

using Index = std::ptrdiff_t;
constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr long kRefBits = 256;

/// Multi-head inputs in contiguous (B, H, L, d) buffers (or (B, L, H, d) when `transposed`,
/// viewed through strides), the options of both tiers, and the views.
struct Problem {
  Index B = 1, H = 1, Hkv = 1, Lq = 1, Lk = 1, d = 1, dv = 1;
  bool transposed = false;
  std::vector<double> q, k, v;
  std::optional<RowMatrix<double>> mask;
  MidpointRadiusOptions options;

  Tensor4View<const double> view(const std::vector<double>& x, Index heads, Index L,
                                 Index dim) const {
    if (!transposed) return Tensor4View<const double>(x.data(), B, heads, L, dim);
    return Tensor4View<const double>(x.data(), {B, heads, L, dim},
                                     {L * heads * dim, dim, heads * dim, 1});
  }
  Tensor4View<const double> Q() const { return view(q, H, Lq, d); }
  Tensor4View<const double> K() const { return view(k, Hkv, Lk, d); }
  Tensor4View<const double> V() const { return view(v, Hkv, Lk, dv); }
  void set_mask(RowMatrix<double> m) {
    mask = std::move(m);
    options.mask.emplace(mask->data(), mask->rows(), mask->cols(), ViewStride(mask->cols(), 1));
  }
};

Problem random_problem(std::uint64_t seed, Index Lq, Index Lk, Index d, Index dv, double sd = 1.0,
                       Index B = 1, Index H = 1, Index Hkv = 1) {
  Rng rng(seed);
  Problem p;
  p.B = B, p.H = H, p.Hkv = Hkv, p.Lq = Lq, p.Lk = Lk, p.d = d, p.dv = dv;
  auto fill = [&](std::vector<double>& x, std::size_t n, double s) {
    x.resize(n);
    for (double& e : x) e = rng.normal(0.0, s);
  };
  fill(p.q, static_cast<std::size_t>(B * H * Lq * d), sd);
  fill(p.k, static_cast<std::size_t>(B * Hkv * Lk * d), sd);
  fill(p.v, static_cast<std::size_t>(B * Hkv * Lk * dv), 1.0);
  return p;
}

/// The view's entries as exact balls in a contiguous (B, H, L, d) buffer.
std::vector<Ball> to_balls(const Tensor4View<const double>& t) {
  std::vector<Ball> r;
  r.reserve(static_cast<std::size_t>(t.batch() * t.heads() * t.length() * t.dim()));
  for (Index b = 0; b < t.batch(); ++b)
    for (Index h = 0; h < t.heads(); ++h) {
      const auto m = t.const_head(b, h);
      for (Index i = 0; i < m.rows(); ++i)
        for (Index j = 0; j < m.cols(); ++j) r.emplace_back(m(i, j));
    }
  return r;
}

MultiHeadAttentionResult<Ball> ball_reference(const Problem& p) {
  const std::vector<Ball> q = to_balls(p.Q()), k = to_balls(p.K()), v = to_balls(p.V());
  SoftmaxAttentionOptions<Ball> o;
  o.keys = p.options.keys;
  if (p.options.softcap) o.softcap = Ball(*p.options.softcap);
  o.precision_bits = kRefBits;
  if (p.options.scale) o.scale = Ball(*p.options.scale);
  o.temperature = Ball(p.options.temperature);
  RowMatrix<Ball> mask;
  if (p.mask) {
    mask.resize(p.mask->rows(), p.mask->cols());
    for (Index i = 0; i < mask.rows(); ++i)
      for (Index j = 0; j < mask.cols(); ++j) mask(i, j) = Ball((*p.mask)(i, j));
    o.set_mask(mask);
  }
  return softmax_attention<Ball>(Tensor4View<const Ball>(q.data(), p.B, p.H, p.Lq, p.d),
                                 Tensor4View<const Ball>(k.data(), p.B, p.Hkv, p.Lk, p.d),
                                 Tensor4View<const Ball>(v.data(), p.B, p.Hkv, p.Lk, p.dv), o);
}

/// True when [mid − rad, mid + rad] (exact real endpoints) contains every point of x.
bool interval_contains(double mid, double rad, arb_srcptr x) {
  if (std::isinf(mid)) {  // masked lse: −inf exactly
    return rad == 0.0 && arf_is_neg_inf(arb_midref(x)) && mag_is_zero(arb_radref(x));
  }
  if (!arb_is_finite(x)) return false;
  arb_handles::ArfHandle lo, hi, x_lo, x_hi;
  arf_set_d(lo, mid);
  arf_set_d(hi, rad);
  arf_sub(lo, lo, hi, ARF_PREC_EXACT, ARF_RND_DOWN);  // exact
  arf_set_d(hi, mid);
  arf_set_d(x_hi, rad);
  arf_add(hi, hi, x_hi, ARF_PREC_EXACT, ARF_RND_DOWN);  // exact
  arb_get_lbound_arf(x_lo, x, kRefBits + 64);           // rounded down: ≤ the ball's lowest point
  arb_get_ubound_arf(x_hi, x, kRefBits + 64);           // rounded up
  return arf_cmp(lo, x_lo) <= 0 && arf_cmp(x_hi, hi) <= 0;
}

/// Every entry of `enc` whose interval does not contain the reference ball, as text.
std::vector<std::string> containment_violations(const AttentionEnclosure& enc,
                                                const MultiHeadAttentionResult<Ball>& ref) {
  std::vector<std::string> out;
  const std::size_t dv = static_cast<std::size_t>(enc.shape[3]);
  for (std::size_t r = 0; r < enc.row_tier.size(); ++r) {
    for (std::size_t c = 0; c < dv; ++c) {
      const std::size_t e = r * dv + c;
      if (!interval_contains(enc.output_mid[e], enc.output_rad[e], ref.output[e].arb())) {
        out.push_back("O row " + std::to_string(r) + " col " + std::to_string(c) + ": [" +
                      std::to_string(enc.output_mid[e]) + " ± " +
                      std::to_string(enc.output_rad[e]) + "] vs " + ref.output[e].str(20));
      }
    }
    if (!interval_contains(enc.lse_mid[r], enc.lse_rad[r], ref.log_sum_exp[r].arb())) {
      out.push_back("lse row " + std::to_string(r) + ": [" + std::to_string(enc.lse_mid[r]) +
                    " ± " + std::to_string(enc.lse_rad[r]) + "] vs " + ref.log_sum_exp[r].str(20));
    }
  }
  return out;
}

/// Runs both tiers and expects containment; returns the enclosure.
AttentionEnclosure expect_contained(const Problem& p) {
  const AttentionEnclosure enc = midpoint_radius_attention(p.Q(), p.K(), p.V(), p.options);
  const auto ref = ball_reference(p);
  const auto bad = containment_violations(enc, ref);
  EXPECT_TRUE(bad.empty()) << bad.size() << " violations, first: " << bad.front();
  for (double r : enc.output_rad) EXPECT_TRUE(std::isfinite(r));
  return enc;
}

// ---- containment on random and adversarial inputs -------------------------------------------

TEST(MidpointRadiusAttention, ContainsArbOnRandomInputs) {
  struct Shape {
    Index Lq, Lk, d, dv;
    bool causal;
  };
  for (const Shape& s : {Shape{7, 9, 5, 3, false}, Shape{9, 7, 5, 3, true},
                         Shape{33, 40, 16, 8, true}, Shape{64, 64, 32, 16, false}}) {
    const std::uint64_t seed = 1000 + static_cast<std::uint64_t>(s.Lq * 100 + s.Lk);
    SCOPED_TRACE("seed " + std::to_string(seed));
    Problem p = random_problem(seed, s.Lq, s.Lk, s.d, s.dv);
    p.options.keys.causal = s.causal;
    const AttentionEnclosure enc = expect_contained(p);
    EXPECT_EQ(enc.count(RowTier::BallOutOfRange), 0u);
    EXPECT_EQ(enc.count(RowTier::Masked), s.causal && s.Lq > s.Lk ? size_t(s.Lq - s.Lk) : 0u);
  }
}

TEST(MidpointRadiusAttention, ScaleTemperatureAndMask) {
  const std::uint64_t seed = 1101;
  SCOPED_TRACE("seed " + std::to_string(seed));
  Problem p = random_problem(seed, 12, 10, 6, 4);
  p.options.scale = 0.3;  // 0.3/0.7 is inexact
  p.options.temperature = 0.7;
  p.options.keys.causal = true;
  Rng rng(seed + 1);
  RowMatrix<double> mask(12, 10);
  for (Index i = 0; i < 12; ++i)
    for (Index j = 0; j < 10; ++j) mask(i, j) = rng.uniform() < 0.3 ? -kInf : rng.normal();
  for (Index j = 0; j < 10; ++j) mask(5, j) = -kInf;  // a fully masked row by the mask
  p.set_mask(mask);
  const AttentionEnclosure enc = expect_contained(p);
  EXPECT_EQ(enc.row_tier[5], RowTier::Masked);
  EXPECT_EQ(enc.lse_mid[5], -kInf);
  EXPECT_EQ(enc.lse_rad[5], 0.0);
  // Default scale with a temperature: ĉ = fl(fl(1/√d)/T) is enclosed, not taken as exact.
  Problem q = random_problem(seed + 2, 5, 6, 7, 3);
  q.options.temperature = 3.0;
  expect_contained(q);
}

TEST(MidpointRadiusAttention, LargeLogitsWithOneDominantEntry) {
  const std::uint64_t seed = 1201;
  SCOPED_TRACE("seed " + std::to_string(seed));
  // d = 4, entries ~ 100: logits q·k/2 up to about ±1e4; and one key aligned with each query
  // so that a single entry dominates its row by thousands.
  Problem p = random_problem(seed, 6, 8, 4, 3, 70.0);
  for (Index i = 0; i < 6; ++i)
    for (Index k = 0; k < 4; ++k)
      p.k[static_cast<std::size_t>(i * 4 + k)] = p.q[static_cast<std::size_t>(i * 4 + k)];
  const AttentionEnclosure enc = expect_contained(p);
  EXPECT_EQ(enc.count(RowTier::Double), 6u);
}

TEST(MidpointRadiusAttention, SubnormalEntries) {
  const std::uint64_t seed = 1301;
  SCOPED_TRACE("seed " + std::to_string(seed));
  Problem p = random_problem(seed, 5, 7, 3, 2);
  const double sub = 3e-310;
  p.q[0] = sub;
  p.q[4] = -sub * 7;
  for (Index k = 0; k < 3; ++k) p.k[static_cast<std::size_t>(2 * 3 + k)] = sub * (k + 1);
  for (Index j = 0; j < 7; ++j) p.v[static_cast<std::size_t>(j * 2 + 1)] = sub * (j - 3);
  expect_contained(p);
  // All of Q subnormal: logits are subnormal products (underflow to 0 in double).
  for (double& x : p.q) x = sub * std::round(x * 10);
  expect_contained(p);
}

/// x rounded to the nearest value with `bits` significand bits (and no exponent limit).
double round_significand(double x, int bits) {
  int e;
  const double m = std::frexp(x, &e);
  return std::ldexp(std::round(std::ldexp(m, bits)), e - bits);
}

TEST(MidpointRadiusAttention, HalfPrecisionExactInputs) {
  for (int bits : {8, 11}) {  // bf16, fp16 significands (N(0,1) stays inside their ranges)
    const std::uint64_t seed = 1400 + static_cast<std::uint64_t>(bits);
    SCOPED_TRACE("seed " + std::to_string(seed) + ", significand bits " + std::to_string(bits));
    Problem p = random_problem(seed, 16, 16, 8, 8);
    for (auto* x : {&p.q, &p.k, &p.v})
      for (double& e : *x) e = round_significand(e, bits);
    p.options.keys.causal = true;
    expect_contained(p);
  }
}

TEST(MidpointRadiusAttention, EdgeShapes) {
  struct Shape {
    Index Lq, Lk, d, dv;
  };
  // d = 256 and d = 40 exercise the head-dim chunks (32 columns: 8 chunks, and 32 + 8), and
  // Lk = 300 the key chunks and their groups (64 keys: 5 chunks in groups of 3).
  for (const Shape& s : {Shape{1, 1, 1, 1}, Shape{4, 6, 1, 2}, Shape{3, 5, 256, 4},
                         Shape{5, 7, 40, 3}, Shape{1, 9, 8, 3}, Shape{6, 300, 16, 4}}) {
    const std::uint64_t seed = 1500 + static_cast<std::uint64_t>(s.d + s.Lk);
    SCOPED_TRACE("seed " + std::to_string(seed));
    Problem p = random_problem(seed, s.Lq, s.Lk, s.d, s.dv);
    expect_contained(p);
    p.options.keys.causal = true;
    expect_contained(p);
  }
}

TEST(MidpointRadiusAttention, CausalWithMoreQueriesThanKeysMasksTheFirstRows) {
  const std::uint64_t seed = 1601;
  SCOPED_TRACE("seed " + std::to_string(seed));
  Problem p = random_problem(seed, 40, 3, 4, 2);  // the first 37 rows see nothing
  p.options.keys.causal = true;
  const AttentionEnclosure enc = expect_contained(p);
  EXPECT_EQ(enc.count(RowTier::Masked), 37u);
  for (std::size_t e = 0; e < 37 * 2; ++e) {
    EXPECT_EQ(enc.output_mid[e], 0.0);
    EXPECT_EQ(enc.output_rad[e], 0.0);
  }
}

TEST(MidpointRadiusAttention, GroupedQueryAttentionOnStridedViews) {
  const std::uint64_t seed = 1701;
  SCOPED_TRACE("seed " + std::to_string(seed));
  Problem p = random_problem(seed, 9, 11, 6, 5, 1.0, /*B=*/2, /*H=*/4, /*Hkv=*/2);
  p.options.keys.causal = true;
  expect_contained(p);
  p.transposed = true;  // the same buffers read as (B, L, H, d)
  const AttentionEnclosure enc = expect_contained(p);
  EXPECT_EQ(enc.shape, (std::array<std::ptrdiff_t, 4>{2, 4, 9, 5}));
}

TEST(MidpointRadiusAttention, ExtremeMagnitudesAcrossRows) {
  // The |Q||K|ᵀ bound is a float product of rows scaled by powers of two: query rows ×1e150,
  // ×1e-150 and ×1 against keys ×1e-150 (logits ~1, ~1e-300 and ~1e-150), and one key entry
  // 1e-300 whose scaled value lies below float's range.
  const std::uint64_t seed = 1803;
  SCOPED_TRACE("seed " + std::to_string(seed));
  Problem p = random_problem(seed, 3, 6, 4, 2);
  for (Index k = 0; k < 4; ++k) {
    p.q[static_cast<std::size_t>(k)] *= 1e150;
    p.q[static_cast<std::size_t>(4 + k)] *= 1e-150;
  }
  for (double& x : p.k) x *= 1e-150;
  p.k[5] = 1e-300;
  const AttentionEnclosure enc = expect_contained(p);
  EXPECT_EQ(enc.count(RowTier::Double), 3u);
}

TEST(MidpointRadiusAttention, LogitsBeyondDoubleFallBackToBalls) {
  const std::uint64_t seed = 1801;
  SCOPED_TRACE("seed " + std::to_string(seed));
  // Row 2: q·k_0 = 4.5e308 overflows double, though the logits (scale 1e-300) are only
  // ~1e8 and Arb handles them; the other rows' logits are ~1e-300 and stay in double.
  Problem p = random_problem(seed, 4, 5, 3, 2);
  p.options.scale = 1e-300;
  for (Index k = 0; k < 3; ++k) {
    p.q[static_cast<std::size_t>(2 * 3 + k)] = 1.5e308;
    p.k[static_cast<std::size_t>(0 * 3 + k)] = 1.0;
  }
  const AttentionEnclosure enc = expect_contained(p);
  EXPECT_EQ(enc.row_tier[2], RowTier::BallOutOfRange);
  EXPECT_EQ(enc.count(RowTier::BallOutOfRange), 1u);  // the other rows stay in double
}

// ---- large finite mask entries and tiny values ---------------------------------------------

/// A causal mask written as an additive mask, PyTorch style: 0 where key j ≤ i + (Lk − Lq),
/// `masked` elsewhere.
RowMatrix<double> additive_causal_mask(Index Lq, Index Lk, double masked) {
  RowMatrix<double> mask(Lq, Lk);
  for (Index i = 0; i < Lq; ++i)
    for (Index j = 0; j < Lk; ++j) mask(i, j) = j <= i + (Lk - Lq) ? 0.0 : masked;
  return mask;
}

TEST(MidpointRadiusAttention, PyTorchStyleMasksStayInDouble) {
  // torch.finfo(float32).min and finfo(float64).min for masked positions: u·|ŝ| in θ makes those
  // keys' logit error bounds huge (~4e22, ~2e292), but their weights certainly underflow, so
  // the rows must stay in double (they went to balls before: 255 of 256 rows at 256×256).
  for (const double masked : {-3.4028234663852886e38, -1.7976931348623157e308}) {
    const std::uint64_t seed = 2401;
    SCOPED_TRACE("seed " + std::to_string(seed) + ", masked entries " + std::to_string(masked));
    Problem p = random_problem(seed, 40, 44, 16, 8);
    RowMatrix<double> mask = additive_causal_mask(40, 44, masked);
    for (Index i = 0; i < 40; i += 3) mask(i, 1) = masked;  // and a padding-like hole
    p.set_mask(mask);
    const AttentionEnclosure enc = expect_contained(p);
    EXPECT_EQ(enc.count(RowTier::Double), 40u);
    // At the reviewer's shape (256, 256, 64), without the (slow) Ball reference: every row in
    // double.
    Problem big = random_problem(seed + 1, 256, 256, 64, 64);
    big.set_mask(additive_causal_mask(256, 256, masked));
    const auto start = std::chrono::steady_clock::now();
    const AttentionEnclosure e2 = midpoint_radius_attention(big.Q(), big.K(), big.V(), big.options);
    std::printf("(256, 256, 64) with mask entries %g: %.3f s, %zu rows in double\n", masked,
                std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(),
                e2.count(RowTier::Double));
    EXPECT_EQ(e2.count(RowTier::Double), 256u);
    EXPECT_LE(e2.largest_relative_radius(), 1e-12);
  }
  // A row whose every entry is finfo(float32).min: its logits all sit at the mask value (m
  // too), nothing certainly underflows, and the rounding of t + M lost the logits: balls.
  Problem p = random_problem(2403, 6, 9, 4, 3);
  RowMatrix<double> mask = additive_causal_mask(6, 9, -3.4028234663852886e38);
  for (Index j = 0; j < 9; ++j) mask(2, j) = -3.4028234663852886e38;
  p.set_mask(mask);
  const AttentionEnclosure enc = expect_contained(p);
  EXPECT_EQ(enc.row_tier[2], RowTier::BallOutOfRange);
  EXPECT_EQ(enc.count(RowTier::Double), 5u);
}

TEST(MidpointRadiusAttention, LargeAndNearUnderflowMaskEntriesStayEnclosed) {
  // Mask entries around the underflow boundary U = kBoundedExpUnderflow (−708) and far below
  // it (−1e15: θ̂ ≈ 0.11 > 1/16 for that key), mixed in each row, with logits ~ N(0, 9): every
  // interval must contain Arb's, whichever tier a row takes.
  const double entries[] = {0.0,    -1e15,  -800.0, -712.0, -709.0,   -708.5, -708.0,
                            -707.5, -705.0, -700.0, -1e300, -3.0e38, -kInf};
  for (const std::uint64_t seed : {2501u, 2502u}) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    Problem p = random_problem(seed, 24, 30, 8, 4, 1.7);
    Rng rng(seed + 7);
    RowMatrix<double> mask(24, 30);
    for (Index i = 0; i < 24; ++i)
      for (Index j = 0; j < 30; ++j)
        mask(i, j) = entries[rng.uniform_int(0, std::size(entries) - 1)];
    for (Index i = 0; i < 24; i += 4) mask(i, i) = 0.0;  // some rows with one ordinary key
    // Row 5: every key at −1e15 (nothing certainly underflows); row 7: at −708.25 ± 0.5.
    for (Index j = 0; j < 30; ++j) mask(5, j) = -1e15;
    for (Index j = 0; j < 30; ++j) mask(7, j) = j % 2 ? -708.75 : -707.75;
    p.set_mask(mask);
    p.options.keys.causal = seed == 2502;
    const AttentionEnclosure enc = expect_contained(p);
    // Row 5's logits all sit near −1e15 with θ̂ ≈ 0.11: balls. Every other row has a key
    // whose mask is at most 712 below 0, and its far keys leave the θ̂ test: double.
    EXPECT_EQ(enc.row_tier[5], RowTier::BallOutOfRange);
    EXPECT_EQ(enc.count(RowTier::Double), 23u);
  }
  // A key whose −1e15 mask cancels a logit of +1e15: ŝ is near the row maximum with θ̂ ≈ 0.2,
  // and must not be taken for an underflowed weight (d = 1, scale 1: S = q·k exactly).
  Problem p;
  p.Lq = 2, p.Lk = 3, p.d = 1, p.dv = 2;
  p.q = {1e15, 1.0};
  p.k = {1.0, 0.0, 1.0 - 0x1p-20};
  p.v = {1.0, -2.0, 3.0, 0.5, -1.0, 4.0};
  p.options.scale = 1.0;
  RowMatrix<double> mask(2, 3);
  mask << -1e15, 0.0, -1e15, -1e15, 0.0, 0.0;
  p.set_mask(mask);
  const AttentionEnclosure enc = expect_contained(p);
  EXPECT_EQ(enc.row_tier[0], RowTier::BallOutOfRange);  // key 0: ŝ ≈ 0 = m, θ̂ ≈ 0.2
  EXPECT_EQ(enc.row_tier[1], RowTier::Double);          // key 0 is far below: ŵ = 0
  // Far below in the computed logit only: q·k = a² + 10⁸ − a² (a = 2⁴⁰) loses the 10⁸ when
  // added to a² first (ulp 2²⁸), so with the mask −10⁸ ŝ may be −10⁸ while the exact logit is
  // 0, the other key's. Its θ̂ (≈ γ·2a² ≈ 8e8) exceeds |x̂|/4: not an underflowed weight.
  const double a = 0x1p40;
  Problem c;
  c.Lq = 1, c.Lk = 2, c.d = 3, c.dv = 1;
  c.q = {a, 1e4, -a};
  c.k = {a, 1e4, a, 0, 0, 0};
  c.v = {1.0, -1.0};
  c.options.scale = 1.0;
  RowMatrix<double> cmask(1, 2);
  cmask << -1e8, 0.0;
  c.set_mask(cmask);
  const AttentionEnclosure cenc = expect_contained(c);
  EXPECT_EQ(cenc.row_tier[0], RowTier::BallOutOfRange);
  // Close below the maximum with a large θ̂: 10¹⁵(1 − 2⁻⁴⁸) − 10¹⁵ ≈ −3.55 with θ̂ ≈ 0.3 (so
  // θ̂ ≤ |x̂|/4, but x̂ is far above 4U): its weight e^{−3.55} is not negligible.
  Problem e = c;
  e.d = 1;
  e.q = {1e15};
  e.k = {1.0 - 0x1p-48, 0.0};
  cmask << -1e15, 0.0;
  e.set_mask(cmask);
  const AttentionEnclosure eenc = expect_contained(e);
  EXPECT_EQ(eenc.row_tier[0], RowTier::BallOutOfRange);
}

TEST(MidpointRadiusAttention, RadiusScalesWithTinyValues) {
  // The radius' absolute floor must scale with V: V × 1e-300 gives the same relative radius
  // (within a small factor), not one ~1e23 times max|O|.
  const std::uint64_t seed = 2601;
  SCOPED_TRACE("seed " + std::to_string(seed));
  Problem p = random_problem(seed, 32, 48, 16, 8);
  p.options.keys.causal = true;
  const AttentionEnclosure plain = expect_contained(p);
  for (double& x : p.v) x *= 1e-300;
  const AttentionEnclosure tiny = expect_contained(p);
  EXPECT_EQ(tiny.count(RowTier::Double), 32u);
  const double r0 = plain.largest_relative_radius(), r1 = tiny.largest_relative_radius();
  std::printf("largest radius / max|O|: %.3g with V, %.3g with V × 1e-300\n", r0, r1);
  EXPECT_GT(r0, 0.0);
  EXPECT_LE(r1, 4 * r0);
  // Subnormal values: the floor is only as large as the subnormal products need.
  for (double& x : p.v) x *= 1e-10;
  const AttentionEnclosure sub = expect_contained(p);
  std::printf("largest radius / max|O| with V × 1e-310: %.3g\n", sub.largest_relative_radius());
  EXPECT_LE(sub.largest_relative_radius(), 1e-6);
}

// ---- cancellation: actual rounding errors close to the bound --------------------------------
// Random inputs round far below the a-priori bound (~100×), so they cannot show that a term of
// the radius is needed. These inputs make one rounding lose a whole term.

TEST(MidpointRadiusAttention, CancellingLogitProductsStayEnclosed) {
  // q = (a, 1, −a) and (a, 2, −a), a = 2²⁷. One key is (a, 1, a): q·k = a² + 1 − a² exactly,
  // but a sum that adds 1 (or 2) to a² = 2⁵⁴ first loses it (ulp 4). The other keys (0, x, 0)
  // give exact small products and a negligible θ, so that key's own θ term must cover the
  // error. It sits at key 3 (the 8-lane loop) or key 18 (the loop's scalar tail). Scale 1e-3
  // keeps its θ ≈ 0.012 below the 1/16 limit (the rows stay in double). With softcap the
  // error passes through C·tanh(·/C) (1-Lipschitz) and must still be covered: C = 10 takes
  // tanh's exp branch, C = 1e6 its series branch.
  const double a = 0x1p27;
  for (std::optional<double> cap :
       {std::optional<double>{}, std::optional<double>{10.0}, std::optional<double>{1e6}})
    for (int special : {3, 18}) {
      SCOPED_TRACE("cancelling key " + std::to_string(special) + " softcap " +
                   (cap ? std::to_string(*cap) : std::string("none")));
      Problem p;
      p.Lq = 2, p.Lk = 20, p.d = 3, p.dv = 2;
      p.q = {a, 1, -a, a, 2, -a};
      for (int j = 0; j < 20; ++j) {
        if (j == special) {
          p.k.insert(p.k.end(), {a, 1, a});
        } else {
          p.k.insert(p.k.end(), {0, 0.25 * (j % 5), 0});
        }
        p.v.insert(p.v.end(), {static_cast<double>(j % 3) - 1.0, 0.5 * j});
      }
      p.options.scale = 1e-3;
      p.options.softcap = cap;
      const AttentionEnclosure enc = expect_contained(p);
      EXPECT_EQ(enc.count(RowTier::Double), 2u);
    }
}

TEST(MidpointRadiusAttention, CancellingValueSumsStayEnclosed) {
  // Q = 0: every weight is exactly 1. V's first column (2⁵⁴, 2, …, 2 (20 times), −2⁵⁴): the
  // exact sum is 40, a sum that adds the 2s to 2⁵⁴ first loses each (a tie, rounded to even).
  // Lost: 40/22 in O, more than the exp's share ε_e·Σ|v|/σ of the radius (≈ 0.73): the PV
  // rounding term γ_PV·Σ|v|/σ is needed.
  Problem p;
  p.Lq = 1, p.Lk = 22, p.d = 2, p.dv = 2;
  p.q = {0, 0};
  for (int j = 0; j < 22; ++j) {
    p.k.insert(p.k.end(), {1.0 + j, 2.0 - j});
    p.v.insert(p.v.end(), {j == 0 ? 0x1p54 : j == 21 ? -0x1p54 : 2.0, 1.0});
  }
  const AttentionEnclosure enc = expect_contained(p);
  EXPECT_EQ(enc.count(RowTier::Double), 1u);
  std::printf("computed O = %.17g, exact 40/22 = %.17g, radius %.3g\n", enc.output_mid[0],
              40.0 / 22, enc.output_rad[0]);
}

TEST(MidpointRadiusAttention, ValueProductsBeyondDoubleFallBackToBalls) {
  const std::uint64_t seed = 1802;
  SCOPED_TRACE("seed " + std::to_string(seed));
  // V's first column is 1e308 on every key: Σ ŵ_j v_j overflows in double (the exact O, a
  // convex combination, is 1e308); the second column is ordinary.
  Problem p = random_problem(seed, 3, 6, 4, 2);
  for (Index j = 0; j < 6; ++j) p.v[static_cast<std::size_t>(j * 2)] = 1e308;
  const AttentionEnclosure enc = expect_contained(p);
  EXPECT_EQ(enc.count(RowTier::BallOutOfRange), 3u);
}

// ---- key visibility and softcap ---------------------------------------------------------------

/// The −inf/0 additive mask that hides exactly the keys `keys` hides.
RowMatrix<double> mask_of(const KeyVisibility& keys, Index Lq, Index Lk) {
  RowMatrix<double> m(Lq, Lk);
  for (Index i = 0; i < Lq; ++i)
    for (Index j = 0; j < Lk; ++j) m(i, j) = keys.range(i, Lq, Lk).contains(j) ? 0.0 : -kInf;
  return m;
}

/// Rows of `keys` with no visible key (which must come out Masked).
std::size_t empty_rows(const KeyVisibility& keys, Index Lq, Index Lk) {
  std::size_t n = 0;
  for (Index i = 0; i < Lq; ++i) n += keys.range(i, Lq, Lk).empty();
  return n;
}

// Windows and top-left causal: the enclosure contains the Arb truth (itself computed with the
// same KeyVisibility), rows stay in double, empty ranges are Masked, and the same problem with
// the equivalent explicit −inf mask gives overlapping intervals. Lq = 300 > one row block
// (128), Lk = 700 with windows: later blocks start past key 0 (kb > 0 in double_head).
TEST(MidpointRadiusAttention, WindowsAndTopLeftCausalContainArbAndMatchAnExplicitMask) {
  const auto BR = DiagonalAlignment::bottom_right, TL = DiagonalAlignment::top_left;
  struct Case {
    Index Lq, Lk;
    KeyVisibility keys;
  };
  const std::vector<Case> cases{{9, 13, KeyVisibility::sliding_window(true, TL, std::nullopt)},
                                {13, 9, KeyVisibility::sliding_window(true, TL, std::nullopt)},
                                {13, 9, KeyVisibility::sliding_window(true, BR, 2)},
                                {11, 11, KeyVisibility::sliding_window(false, TL, 3, 2)},
                                {7, 12, KeyVisibility::sliding_window(false, BR, 1, 0)},
                                {12, 7, KeyVisibility::sliding_window(false, TL, 0, 0)},
                                {300, 700, KeyVisibility::sliding_window(true, BR, 150)},
                                {300, 300, KeyVisibility::sliding_window(false, TL, 40, 40)}};
  std::uint64_t seed = 3100;
  for (const Case& c : cases) {
    ++seed;
    SCOPED_TRACE("seed " + std::to_string(seed) + " Lq " + std::to_string(c.Lq) + " Lk " +
                 std::to_string(c.Lk));
    Problem p = random_problem(seed, c.Lq, c.Lk, 8, 4, 1.5, 1, 2, 1);
    p.options.keys = c.keys;
    const AttentionEnclosure enc = expect_contained(p);
    EXPECT_EQ(enc.count(RowTier::BallOutOfRange), 0u);
    EXPECT_EQ(enc.count(RowTier::Masked), 2 * empty_rows(c.keys, c.Lq, c.Lk));
    EXPECT_LT(enc.largest_relative_radius(), 1e-12);  // measured 3.8e-14 … 6e-14

    Problem masked = p;
    masked.options.keys = KeyVisibility::all();
    masked.set_mask(mask_of(c.keys, c.Lq, c.Lk));
    const AttentionEnclosure via_mask =
        midpoint_radius_attention(masked.Q(), masked.K(), masked.V(), masked.options);
    ASSERT_EQ(via_mask.row_tier, enc.row_tier);
    for (std::size_t e = 0; e < enc.output_mid.size(); ++e) {
      EXPECT_LE(std::abs(enc.output_mid[e] - via_mask.output_mid[e]),
                enc.output_rad[e] + via_mask.output_rad[e])
          << "entry " << e;
    }
  }
}

// Rows whose window holds no key: O = 0 and lse = −inf exactly, in the fast tier and after
// refining (window 0 with Lq > Lk bottom-right; top-left rows past the last key).
TEST(MidpointRadiusAttention, EmptyWindowsAreMaskedRows) {
  const std::uint64_t seed = 3201;
  SCOPED_TRACE("seed " + std::to_string(seed));
  for (const KeyVisibility& keys :
       {KeyVisibility::sliding_window(true, DiagonalAlignment::bottom_right, 0),
        KeyVisibility::sliding_window(false, DiagonalAlignment::top_left, 0, 0)}) {
    Problem p = random_problem(seed, 8, 3, 4, 2);
    p.options.keys = keys;
    AttentionEnclosure enc = expect_contained(p);
    ASSERT_EQ(enc.count(RowTier::Masked), 5u);
    std::vector<std::size_t> all(8);
    for (std::size_t r = 0; r < 8; ++r) all[r] = r;
    refine_rows_in_balls(p.Q(), p.K(), p.V(), p.options, all, enc);
    EXPECT_EQ(enc.count(RowTier::Masked), 5u);
    EXPECT_EQ(enc.count(RowTier::BallRefined), 3u);
    for (std::size_t r = 0; r < 8; ++r) {
      if (enc.row_tier[r] != RowTier::Masked) continue;
      EXPECT_EQ(enc.lse_mid[r], -kInf);
      EXPECT_EQ(enc.lse_rad[r], 0.0);
      for (std::size_t c = 0; c < 2; ++c) {
        EXPECT_EQ(enc.output_mid[r * 2 + c], 0.0);
        EXPECT_EQ(enc.output_rad[r * 2 + c], 0.0);
      }
    }
    const auto bad = containment_violations(enc, ball_reference(p));
    EXPECT_TRUE(bad.empty()) << bad.front();
  }
}

// Softcap: containment of the Arb truth (arb_tanh) on random inputs with and without a mask and
// windows, for C from tiny (every logit flattened into (−C, C)) to moderate (Gemma 2's 50, 30);
// the rows stay in double and the radius stays small.
TEST(MidpointRadiusAttention, SoftcapContainsArb) {
  struct Case {
    double cap, sd;
    bool mask, window;
  };
  std::uint64_t seed = 3300;
  for (const Case& c :
       {Case{30.0, 3.0, false, false}, Case{50.0, 1.0, true, false}, Case{1.0, 2.0, false, true},
        Case{1e-3, 1.0, false, false}, Case{0.25, 4.0, true, true}}) {
    ++seed;
    SCOPED_TRACE("seed " + std::to_string(seed) + " C " + std::to_string(c.cap));
    Problem p = random_problem(seed, 40, 70, 16, 8, c.sd);
    p.options.softcap = c.cap;
    if (c.window)
      p.options.keys = KeyVisibility::sliding_window(true, DiagonalAlignment::bottom_right, 20);
    if (c.mask) {
      Rng rng(seed + 7);
      RowMatrix<double> m(40, 70);
      for (Index i = 0; i < 40; ++i)
        for (Index j = 0; j < 70; ++j) m(i, j) = rng.uniform() < 0.2 ? -kInf : rng.normal();
      p.set_mask(std::move(m));
    }
    const AttentionEnclosure enc = expect_contained(p);
    EXPECT_EQ(enc.count(RowTier::BallOutOfRange), 0u);
    // Measured 7e-14 … 3.1e-13 (the uncapped tier gives ~1e-13 here).
    EXPECT_LT(enc.largest_relative_radius(), 2e-12);
  }
}

// Softcap on adversarial logits: huge ones (±1e4 and beyond double's range: the double pass
// must hand rows to balls, which enclose C·tanh), ties (every key equal: uniform weights, O the
// exact mean of V), C = 1e30 (the same as no cap within the radius).
TEST(MidpointRadiusAttention, SoftcapAdversarialLogits) {
  {
    const std::uint64_t seed = 3401;
    SCOPED_TRACE("huge logits, seed " + std::to_string(seed));
    Problem p = random_problem(seed, 6, 9, 4, 3, 100.0);  // logits ~ ±1e4
    p.options.softcap = 20.0;
    const AttentionEnclosure enc = expect_contained(p);
    EXPECT_EQ(enc.count(RowTier::BallOutOfRange), 0u);
    for (double& x : p.q) x *= 1e150;  // logits ~ 1e154·1e150: beyond double
    const AttentionEnclosure beyond = expect_contained(p);
    EXPECT_EQ(beyond.count(RowTier::BallOutOfRange), 6u);
  }
  {
    SCOPED_TRACE("ties");
    Problem p = random_problem(3402, 3, 5, 4, 2, 1.0);
    for (Index j = 1; j < 5; ++j)
      for (Index k = 0; k < 4; ++k) p.k[j * 4 + k] = p.k[k];
    p.options.softcap = 0.5;
    const AttentionEnclosure enc = expect_contained(p);
    for (Index i = 0; i < 3; ++i)
      for (Index c = 0; c < 2; ++c) {
        double mean = 0;
        for (Index j = 0; j < 5; ++j) mean += p.v[j * 2 + c];
        mean /= 5;  // 5 roundings: error ≤ 6u·max|v| < 1e-14 for |v| < 10
        const std::size_t e = static_cast<std::size_t>(i * 2 + c);
        EXPECT_LE(std::abs(enc.output_mid[e] - mean), enc.output_rad[e] + 1e-14);
      }
  }
  {
    const std::uint64_t seed = 3403;
    SCOPED_TRACE("C = 1e30, seed " + std::to_string(seed));
    Problem p = random_problem(seed, 20, 30, 8, 4, 2.0);
    const AttentionEnclosure plain = midpoint_radius_attention(p.Q(), p.K(), p.V(), p.options);
    p.options.softcap = 1e30;
    const AttentionEnclosure capped = expect_contained(p);
    for (std::size_t e = 0; e < plain.output_mid.size(); ++e) {
      EXPECT_LE(std::abs(capped.output_mid[e] - plain.output_mid[e]),
                capped.output_rad[e] + plain.output_rad[e]);
      // The cap's evaluation (series branch) adds ≈ 2u|logit| to θ, less than θ's own size.
      EXPECT_LE(capped.output_rad[e], 3 * plain.output_rad[e]) << "entry " << e;
    }
  }
}

// Softcap and windows through refine_rows_in_balls: refined rows (ragged windows in one Ball
// batch) contain the truth; a bad cap is refused.
TEST(MidpointRadiusAttention, SoftcapAndWindowsRefineAndValidate) {
  const std::uint64_t seed = 3501;
  SCOPED_TRACE("seed " + std::to_string(seed));
  Problem p = random_problem(seed, 40, 50, 6, 3, 2.0, 1, 2, 2);
  p.options.softcap = 5.0;
  p.options.keys = KeyVisibility::sliding_window(false, DiagonalAlignment::top_left, 7, 3);
  AttentionEnclosure enc = midpoint_radius_attention(p.Q(), p.K(), p.V(), p.options);
  std::vector<std::size_t> rows;
  for (std::size_t r = 0; r < enc.row_tier.size(); r += 3) rows.push_back(r);
  refine_rows_in_balls(p.Q(), p.K(), p.V(), p.options, rows, enc);
  EXPECT_EQ(enc.count(RowTier::BallRefined), rows.size());
  const auto bad = containment_violations(enc, ball_reference(p));
  EXPECT_TRUE(bad.empty()) << bad.size() << " violations, first: " << bad.front();
  for (double c : {0.0, -1.0, kInf, std::nan("")}) {
    p.options.softcap = c;
    EXPECT_THROW(midpoint_radius_attention(p.Q(), p.K(), p.V(), p.options), std::invalid_argument)
        << c;
  }
  p.options.softcap.reset();
  p.options.keys.window_left = -1;
  EXPECT_THROW(midpoint_radius_attention(p.Q(), p.K(), p.V(), p.options), std::invalid_argument);
}

// ---- Mp reference ---------------------------------------------------------------------------

TEST(MidpointRadiusAttention, ContainsMpReferenceAt256Bits) {
  const std::uint64_t seed = 1901;
  SCOPED_TRACE("seed " + std::to_string(seed));
  Problem p = random_problem(seed, 10, 12, 8, 4, 3.0);
  p.options.keys.causal = true;
  const AttentionEnclosure enc = midpoint_radius_attention(p.Q(), p.K(), p.V(), p.options);
  MpPrecision scope(kRefBits);
  auto mp = [](const std::vector<double>& x, Index r, Index c) {
    RowMatrix<Mp> m(r, c);
    for (Index i = 0; i < r; ++i)
      for (Index j = 0; j < c; ++j)
        m(i, j) = mp_from_double(x[static_cast<std::size_t>(i * c + j)], kRefBits);
    return m;
  };
  SoftmaxAttentionOptions<Mp> o;
  o.keys.causal = true;
  o.precision_bits = kRefBits;
  const auto ref = softmax_attention<Mp>(mp(p.q, 10, 8), mp(p.k, 12, 8), mp(p.v, 12, 4), o);
  int checked = 0;
  for (Index i = 0; i < 10; ++i) {
    for (Index c = 0; c < 4; ++c) {
      const std::size_t e = static_cast<std::size_t>(i * 4 + c);
      const Ball ref_ball = to_ball(ref.output(i, c), kRefBits);
      EXPECT_TRUE(interval_contains(enc.output_mid[e], enc.output_rad[e], ref_ball.arb()))
          << "row " << i << " col " << c;
      ++checked;
    }
    const Ball lse = to_ball(ref.log_sum_exp(i), kRefBits);
    EXPECT_TRUE(interval_contains(enc.lse_mid[i], enc.lse_rad[i], lse.arb())) << "lse row " << i;
  }
  EXPECT_EQ(checked, 40);
}

// ---- the checker catches a radius that is too small -----------------------------------------

TEST(MidpointRadiusAttention, ShrunkRadiusIsCaught) {
  const std::uint64_t seed = 2001;
  SCOPED_TRACE("seed " + std::to_string(seed));
  Problem p = random_problem(seed, 16, 16, 8, 4);
  p.options.temperature = 0.7;  // ĉ inexact: the midpoints are not exact
  AttentionEnclosure enc = midpoint_radius_attention(p.Q(), p.K(), p.V(), p.options);
  const auto ref = ball_reference(p);
  ASSERT_TRUE(containment_violations(enc, ref).empty());
  for (double factor : {0.0, 1e-6}) {
    AttentionEnclosure shrunk = enc;
    for (double& r : shrunk.output_rad) r *= factor;
    for (double& r : shrunk.lse_rad) r *= factor;
    const auto bad = containment_violations(shrunk, ref);
    EXPECT_FALSE(bad.empty()) << "radius × " << factor;
    // Most entries are caught, not one by luck.
    EXPECT_GT(bad.size(), enc.output_rad.size() / 2) << "radius × " << factor;
  }
  // A midpoint moved by twice its radius is caught too.
  AttentionEnclosure moved = enc;
  moved.output_mid[3] += 2 * moved.output_rad[3];
  EXPECT_EQ(containment_violations(moved, ref).size(), 1u);
}

// ---- tightness --------------------------------------------------------------------------------

TEST(MidpointRadiusAttention, RadiusIsTightAtAModerateShape) {
  const std::uint64_t seed = 2101;
  SCOPED_TRACE("seed " + std::to_string(seed));
  Problem p = random_problem(seed, 128, 128, 64, 64);
  const AttentionEnclosure enc = expect_contained(p);
  const auto ref = ball_reference(p);
  double err = 0.0, big = 0.0;
  for (std::size_t e = 0; e < enc.output_mid.size(); ++e) {
    err = std::max(err, std::abs(enc.output_mid[e] - ref.output[e].mid()));
    big = std::max(big, std::abs(ref.output[e].mid()));
  }
  const double rel = enc.largest_relative_radius();
  std::printf("largest radius / max|O| = %.3g, largest actual error / max|O| = %.3g\n", rel,
              err / big);
  EXPECT_LE(rel, 1e-12);  // the target (attained at (4096, 4096, 128) too: see bench)
  EXPECT_GE(rel, err / big);
}

// ---- refine_rows_in_balls ------------------------------------------------------------------

TEST(MidpointRadiusAttention, RefinedRowsComeFromBalls) {
  const std::uint64_t seed = 2201;
  SCOPED_TRACE("seed " + std::to_string(seed));
  Problem p = random_problem(seed, 6, 5, 4, 3, 1.0, 1, 2, 1);
  p.options.keys.causal = true;  // Lq > Lk: rows 0 of each head are masked
  p.options.fallback_precision_bits = 200;
  AttentionEnclosure enc = midpoint_radius_attention(p.Q(), p.K(), p.V(), p.options);
  const AttentionEnclosure before = enc;
  const std::vector<std::size_t> rows{enc.row_index(0, 1, 4), enc.row_index(0, 0, 2),
                                      enc.row_index(0, 0, 0)};
  refine_rows_in_balls(p.Q(), p.K(), p.V(), p.options, rows, enc);
  EXPECT_EQ(enc.row_tier[rows[0]], RowTier::BallRefined);
  EXPECT_EQ(enc.row_tier[rows[1]], RowTier::BallRefined);
  EXPECT_EQ(enc.row_tier[rows[2]], RowTier::Masked);  // masked rows stay as they are
  EXPECT_EQ(enc.count(RowTier::BallRefined), 2u);
  for (std::size_t c = 0; c < 3; ++c) {
    // A 200-bit ball rounded to a double midpoint: the radius is the rounding, ≤ u·|mid|.
    const std::size_t e = rows[0] * 3 + c;
    EXPECT_LE(enc.output_rad[e], 0x1p-53 * std::abs(enc.output_mid[e]) * (1 + 1e-9));
    EXPECT_LT(enc.output_rad[e], before.output_rad[e]);
  }
  const auto bad = containment_violations(enc, ball_reference(p));
  EXPECT_TRUE(bad.empty()) << bad.front();
  EXPECT_THROW(refine_rows_in_balls(p.Q(), p.K(), p.V(), p.options,
                                    std::vector<std::size_t>{enc.row_tier.size()}, enc),
               std::invalid_argument);
}

TEST(MidpointRadiusAttention, RefiningEveryRowMatchesArb) {
  // 40 rows: two Ball batches; causal (each batch against its key prefix, with a mask for
  // rows that see less), then not causal (no mask), then with a mask.
  const std::uint64_t seed = 2202;
  SCOPED_TRACE("seed " + std::to_string(seed));
  Problem p = random_problem(seed, 40, 37, 6, 3);
  p.options.fallback_precision_bits = 160;
  std::vector<std::size_t> all(40);
  for (std::size_t r = 0; r < all.size(); ++r) all[r] = r;
  for (int variant = 0; variant < 3; ++variant) {
    SCOPED_TRACE("variant " + std::to_string(variant));
    p.options.keys.causal = variant == 0;
    if (variant == 2) {
      Rng rng(seed + 1);
      RowMatrix<double> mask(40, 37);
      for (Index i = 0; i < 40; ++i)
        for (Index j = 0; j < 37; ++j) mask(i, j) = rng.uniform() < 0.2 ? -kInf : rng.normal();
      p.set_mask(mask);
    }
    AttentionEnclosure enc = midpoint_radius_attention(p.Q(), p.K(), p.V(), p.options);
    refine_rows_in_balls(p.Q(), p.K(), p.V(), p.options, all, enc);
    EXPECT_EQ(enc.count(RowTier::BallRefined) + enc.count(RowTier::Masked), 40u);
    EXPECT_EQ(enc.count(RowTier::Masked), variant == 0 ? 3u : 0u);  // causal, Lq − Lk = 3
    const auto bad = containment_violations(enc, ball_reference(p));
    EXPECT_TRUE(bad.empty()) << bad.front();
  }
}

// ---- bad input --------------------------------------------------------------------------------

template <class E, class F>
void expect_throw_naming(F&& f, const std::string& needle) {
  try {
    f();
    ADD_FAILURE() << "no exception; expected one naming '" << needle << "'";
  } catch (const E& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find(needle), std::string::npos) << what;
    EXPECT_EQ(what.find('\n'), std::string::npos) << what;
  }
}

TEST(MidpointRadiusAttention, BadInputThrowsWithOneLineNamingIt) {
  Problem p = random_problem(2301, 4, 5, 3, 2);
  const auto run = [&](const Problem& x) {
    return midpoint_radius_attention(x.Q(), x.K(), x.V(), x.options);
  };
  {
    Problem x = p;
    x.q[4] = std::nan("");
    expect_throw_naming<std::domain_error>([&] { run(x); }, "Q(1, 1)");
  }
  {
    Problem x = p;
    x.v[3] = kInf;
    expect_throw_naming<std::domain_error>([&] { run(x); }, "V(1, 1)");
  }
  {
    Problem x = p;
    x.options.temperature = 0.0;
    expect_throw_naming<std::invalid_argument>([&] { run(x); }, "temperature");
    x.options.temperature = -1.0;
    expect_throw_naming<std::invalid_argument>([&] { run(x); }, "temperature");
  }
  {
    Problem x = p;
    x.options.scale = kInf;
    expect_throw_naming<std::domain_error>([&] { run(x); }, "scale");
  }
  {
    RowMatrix<double> Q(4, 3), K(5, 2), V(5, 2);
    Q.setOnes(), K.setOnes(), V.setOnes();
    expect_throw_naming<std::invalid_argument>([&] { midpoint_radius_attention(Q, K, V); },
                                               "Q is (1, 1, 4, 3), K is (1, 1, 5, 2)");
  }
  {
    Problem x = p;
    RowMatrix<double> mask = RowMatrix<double>::Zero(4, 4);
    x.set_mask(mask);
    expect_throw_naming<std::invalid_argument>([&] { run(x); }, "mask is 4×4");
    RowMatrix<double> nan_mask = RowMatrix<double>::Zero(4, 5);
    nan_mask(2, 3) = std::nan("");
    x.set_mask(nan_mask);
    expect_throw_naming<std::domain_error>([&] { run(x); }, "mask(2, 3)");
  }
  {
    Problem x = p;
    x.options.fallback_precision_bits = 1;
    expect_throw_naming<std::invalid_argument>([&] { run(x); }, "fallback_precision_bits");
  }
  {  // absurd sizes are refused before anything is allocated (the view is never read)
    const double one = 1.0;
    const Tensor4View<const double> huge(&one, {1, 1, Index{1} << 25, 4}, {0, 0, 0, 0});
    const Tensor4View<const double> q(&one, {1, 1, 2, 4}, {0, 0, 0, 0});
    expect_throw_naming<std::invalid_argument>([&] { midpoint_radius_attention(q, huge, huge); },
                                               "too large");
  }
}

// The radius is proven for round-to-nearest with gradual underflow: another rounding mode, or
// flush-to-zero / denormals-are-zero (set here through MXCSR, as a fast-math library would),
// must make the call refuse instead of printing an interval the proof does not cover.
TEST(MidpointRadiusAttention, RefusesANonDefaultFloatingPointEnvironment) {
  const RowMatrix<double> Q = RowMatrix<double>::Constant(2, 3, 0.5);
  ASSERT_EQ(std::fesetround(FE_UPWARD), 0);
  EXPECT_THROW(midpoint_radius_attention(Q, Q, Q), std::logic_error);
  std::fesetround(FE_TONEAREST);
#if defined(__x86_64__)
  const unsigned saved = _mm_getcsr();
  for (unsigned bit : {0x8000u, 0x0040u}) {  // FTZ, DAZ
    _mm_setcsr(saved | bit);
    bool threw = false;
    try {
      midpoint_radius_attention(Q, Q, Q);
    } catch (const std::logic_error&) {
      threw = true;
    }
    _mm_setcsr(saved);
    EXPECT_TRUE(threw) << "MXCSR bit " << bit;
  }
#endif
  EXPECT_NO_THROW(midpoint_radius_attention(Q, Q, Q));
}

}  // namespace
}  // namespace attncert
