// Seeded property test of docs/nan_semantics.md on the three kernels' twins (issue 18, item 3),
// for inputs stored as fp32, fp16 and bf16: one NaN, ±inf, ±max-finite or ±subnormal of the
// dtype at a random position of Q, K, V (Jacobian: of the logits). The expected result of every
// row is derived here from the documented rules — which rows read the bad element, the read-out
// rule of the normalised linear kernel — and from a clean run, never from the tile code: rows
// that do not read the element keep their values (gpu/output_equality.hpp), a NaN reaches every
// element that reads it, and no non-finite value comes back as a finite "masked" answer.
// The twins are the kernels' bits (device tests), so these statements hold for the device.
// Finite extremes are also judged against the kernels' error bounds: extreme_inputs_test.cpp.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "gpu/dtype.hpp"
#include "gpu/flash_attention.hpp"
#include "gpu/jacobian_norm.hpp"
#include "gpu/linear_attention.hpp"
#include "gpu/output_equality.hpp"
#include "numerics/rng.hpp"

namespace attncert {
namespace {

using gpu::DType;
using gpu::same_output_value;

constexpr std::uint64_t kSeed = 20261203;
constexpr DType kDTypes[] = {DType::f32, DType::f16, DType::bf16};

using Limits = std::numeric_limits<float>;

/// NaN, ±inf, ±max-finite and ±subnormals of dtype t (all exact in t).
std::vector<float> specials(DType t) {
  const auto max = static_cast<float>(gpu::dtype_max_finite(t));
  const auto tiny = static_cast<float>(gpu::dtype_smallest_subnormal(t));
  return {Limits::quiet_NaN(), Limits::infinity(), -Limits::infinity(), max, -max, 3 * tiny,
          -tiny};
}

int pick(Rng& rng, int n) { return static_cast<int>(rng.uniform() * n); }

/// Values of dtype t (drawn uniformly, then rounded to t).
std::vector<float> uniform_values(Rng& rng, std::size_t n, double lo, double hi, DType t) {
  std::vector<float> x(n);
  for (float& v : x) v = gpu::round_through(t, static_cast<float>(rng.uniform(lo, hi)));
  return x;
}

/// A tensor as a kernel reads it: fp32 floats, or fp16/bf16 bit patterns of the same values.
struct Stored {
  DType t;
  std::vector<float> f;
  std::vector<std::uint16_t> h;
  Stored(DType dtype, std::vector<float> values) : t(dtype), f(std::move(values)) {
    if (t != DType::f32) {
      h.resize(f.size());
      for (std::size_t i = 0; i < f.size(); ++i) set(i, f[i]);
    }
  }
  void set(std::size_t i, float x) {  // x must be a value of t (the specials are)
    f[i] = x;
    if (t != DType::f32) h[i] = t == DType::f16 ? gpu::float_to_f16_bits(x) : gpu::float_to_bf16_bits(x);
  }
  const void* data() const { return t == DType::f32 ? static_cast<const void*>(f.data()) : h.data(); }
};

std::string describe(float x) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%a", static_cast<double>(x));
  return buf;
}

std::string seed_line(std::uint64_t seed) {
  std::printf("seed = %llu\n", static_cast<unsigned long long>(seed));
  return "seed = " + std::to_string(seed);
}

// ---------------------------------------------------------------------------------------
// Linear attention (output stored in the input dtype)
// ---------------------------------------------------------------------------------------

struct LinearRun {
  DType t = DType::f32;
  std::vector<unsigned char> out;
  std::vector<float> normaliser;
  long long rows_not_normalised = -1;
  float value(std::size_t i) const { return gpu::load_element(t, out.data(), static_cast<long long>(i)); }
  std::uint32_t bits(std::size_t i) const {  // the stored element's bits
    return t == DType::f32 ? gpu::float_bits(value(i))
                           : static_cast<std::uint32_t>(out[2 * i] | (out[2 * i + 1] << 8));
  }
};

LinearRun run_linear(gpu::LinearFeature f, bool normalised, bool causal, int T, int d,
                     const Stored& q, const Stored& k, const Stored& v) {
  LinearRun r;
  r.t = q.t;
  r.out.assign(static_cast<std::size_t>(T) * d * gpu::dtype_size(q.t), 0x5a);
  r.normaliser.assign(static_cast<std::size_t>(T), -1.0f);
  gpu::LinearAttentionArgs a;
  a.seqlen = T;
  a.head_dim = d;
  a.q_dtype = a.k_dtype = a.v_dtype = q.t;
  a.feature = f;
  a.readout = normalised ? gpu::LinearReadout::normalised : gpu::LinearReadout::unnormalised;
  a.causal = causal;
  a.scale = 0.5f;
  a.q = q.data();
  a.k = k.data();
  a.v = v.data();
  a.out = r.out.data();
  a.normaliser = r.normaliser.data();
  a.rows_not_normalised = &r.rows_not_normalised;
  const gpu::KernelStatus s = gpu::linear_attention_twin(a);
  EXPECT_TRUE(s.ok()) << s.message;
  return r;
}

TEST(NanSemantics, LinearAttentionTwinFollowsTheDocumentedRules) {
  for (const DType t : kDTypes) {
    const std::uint64_t seed = kSeed + static_cast<std::uint64_t>(t);
    SCOPED_TRACE(std::string(gpu::dtype_name(t)) + ", " + seed_line(seed));
    RecordProperty("seed_" + std::string(gpu::dtype_name(t)), std::to_string(seed));
    Rng rng(seed);
    const std::vector<float> bads = specials(t);
    for (int trial = 0; trial < 400; ++trial) {
      const auto f = static_cast<gpu::LinearFeature>(pick(rng, 4));
      const int T = 1 + pick(rng, 150), d = 1 + pick(rng, 4);
      const bool causal = pick(rng, 2) == 1;
      const std::size_t n = static_cast<std::size_t>(T) * d;
      Stored x[3] = {Stored(t, uniform_values(rng, n, -1.5, 1.5, t)),
                     Stored(t, uniform_values(rng, n, -1.5, 1.5, t)),
                     Stored(t, uniform_values(rng, n, -2.0, 2.0, t))};
      const int which = pick(rng, 3), token = pick(rng, T), col = pick(rng, d);
      const float bad = bads[pick(rng, static_cast<int>(bads.size()))];
      SCOPED_TRACE("trial " + std::to_string(trial) + ": " +
                   std::string(gpu::linear_feature_name(f)) + (causal ? " causal" : " non-causal") +
                   " T=" + std::to_string(T) + " d=" + std::to_string(d) + ", " + "QKV"[which] +
                   "(" + std::to_string(token) + "," + std::to_string(col) + ") = " + describe(bad));
      const LinearRun clean_raw = run_linear(f, false, causal, T, d, x[0], x[1], x[2]);
      x[which].set(static_cast<std::size_t>(token) * d + col, bad);
      const LinearRun raw = run_linear(f, false, causal, T, d, x[0], x[1], x[2]);
      const LinearRun norm = run_linear(f, true, causal, T, d, x[0], x[1], x[2]);
      long long unusable = 0;
      for (int i = 0; i < T; ++i) {
        // Query i reads q_i; it reads k_j, v_j for j ≤ i (causal) or every j.
        const bool reads = which == 0 ? i == token : (!causal || i >= token);
        const float den = raw.normaliser[i];
        ASSERT_TRUE(same_output_value(norm.normaliser[i], den)) << "row " << i;
        if (!reads || which == 2) {  // a value enters only its own column, never the normaliser
          ASSERT_TRUE(same_output_value(den, clean_raw.normaliser[i])) << "row " << i;
        }
        for (int e = 0; e < d; ++e) {
          const std::size_t at = static_cast<std::size_t>(i) * d + e;
          const bool touched = reads && (which != 2 || e == col);
          if (!touched) {
            ASSERT_TRUE(gpu::same_output_bits(t, raw.bits(at), clean_raw.bits(at)))
                << "row " << i << " col " << e;
          } else if (std::isnan(bad)) {
            ASSERT_TRUE(std::isnan(raw.value(at))) << "row " << i << " col " << e << ": "
                                                   << raw.value(at);
          }
          // The normalised read-out: r/den for den > 0 finite, +0 for finite den ≤ 0, NaN else.
          const float got = norm.value(at);
          if (std::isnan(den) || std::isinf(den)) {
            ASSERT_TRUE(std::isnan(got)) << "row " << i << " col " << e << ": normaliser "
                                         << den << " gave " << got;
          } else if (!(den > 0.0f)) {
            ASSERT_EQ(norm.bits(at), 0u) << "row " << i << " col " << e << ": " << got;
          } else if (t == DType::f32) {
            const float want = raw.value(at) / den;
            ASSERT_TRUE(same_output_value(got, want)) << "row " << i << " col " << e << ": " << got
                                                      << " vs " << want;
          } else {
            // fp16/bf16: the fp32 r is not stored, only its rounding; r/den is NaN iff r is.
            ASSERT_EQ(std::isnan(got), std::isnan(raw.value(at)))
                << "row " << i << " col " << e << ": " << got << " from r = " << raw.value(at);
          }
        }
        if (!(den > 0.0f && den <= Limits::max())) ++unusable;
      }
      ASSERT_EQ(norm.rows_not_normalised, unusable);
    }
  }
}

// ---------------------------------------------------------------------------------------
// Jacobian norm
// ---------------------------------------------------------------------------------------

std::vector<float> run_jacobian(const Stored& logits, long long rows, long long length,
                                const std::vector<float>& temps) {
  std::vector<float> out(static_cast<std::size_t>(rows) * temps.size(), -1.0f);
  const gpu::JacobianNormArgs a{logits.t, logits.data(), rows, length, temps.data(),
                                static_cast<int>(temps.size()), out.data()};
  const gpu::KernelStatus s = gpu::jacobian_norm_twin(a);
  EXPECT_TRUE(s.ok()) << s.message;
  return out;
}

TEST(NanSemantics, JacobianNormTwinFollowsTheDocumentedRules) {
  const std::vector<float> temps = {1.0f, 0.25f, 7.0f};
  const std::size_t nt = temps.size();
  for (const DType t : kDTypes) {
    const std::uint64_t seed = kSeed + 10 + static_cast<std::uint64_t>(t);
    SCOPED_TRACE(std::string(gpu::dtype_name(t)) + ", " + seed_line(seed));
    RecordProperty("seed_" + std::string(gpu::dtype_name(t)), std::to_string(seed));
    Rng rng(seed);
    const std::vector<float> bads = specials(t);
    for (int trial = 0; trial < 300; ++trial) {
      const int rows = 1 + pick(rng, 4), length = 1 + pick(rng, 100);
      std::vector<float> values = uniform_values(rng, static_cast<std::size_t>(rows) * length, -5, 5, t);
      for (float& l : values)
        if (pick(rng, 10) == 0) l = -Limits::infinity();  // masked entries
      Stored logits(t, values);
      const int row = pick(rng, rows), pos = pick(rng, length);
      const float bad = bads[pick(rng, static_cast<int>(bads.size()))];
      SCOPED_TRACE("trial " + std::to_string(trial) + ": rows=" + std::to_string(rows) +
                   " L=" + std::to_string(length) + ", logit(" + std::to_string(row) + "," +
                   std::to_string(pos) + ") = " + describe(bad));
      const std::vector<float> clean = run_jacobian(logits, rows, length, temps);
      logits.set(static_cast<std::size_t>(row) * length + pos, bad);
      const std::vector<float> got = run_jacobian(logits, rows, length, temps);
      for (int r = 0; r < rows; ++r) {
        bool all_masked = true;
        for (int j = 0; j < length; ++j)
          all_masked = all_masked && logits.f[static_cast<std::size_t>(r) * length + j] == -Limits::infinity();
        for (std::size_t k = 0; k < nt; ++k) {
          const float g = got[r * nt + k];
          if (r != row) {
            ASSERT_TRUE(same_output_value(g, clean[r * nt + k])) << "row " << r;
          } else if (std::isnan(bad) || bad == Limits::infinity()) {
            ASSERT_TRUE(std::isnan(g)) << "T = " << temps[k] << ": " << g;
          } else if (all_masked) {
            ASSERT_TRUE(same_output_value(g, 0.0f)) << "fully masked row, T = " << temps[k] << ": " << g;
          } else {
            // Finite logits and −inf: 0 ≤ ‖J‖₂ ≤ 1/(2T) exactly; the kernel's value may exceed
            // the exact one by its relative error (≤ 2⁻¹⁰ covers the bound of
            // docs/jacobian_norm_kernel_bound.md at these lengths many times over).
            ASSERT_TRUE(g >= 0.0f && g <= 0.5f / temps[k] * (1 + 0x1p-10f))
                << "T = " << temps[k] << ": " << g;
          }
        }
      }
    }
  }
}

// ---------------------------------------------------------------------------------------
// Flash attention (fp32 output)
// ---------------------------------------------------------------------------------------

struct FlashRun {
  std::vector<float> out, lse;
};

FlashRun run_flash(bool causal, int Lq, int Lk, int d, const Stored& q, const Stored& k,
                   const Stored& v) {
  FlashRun r;
  r.out.assign(static_cast<std::size_t>(Lq) * d, 123.0f);
  r.lse.assign(static_cast<std::size_t>(Lq), 123.0f);
  gpu::FlashAttentionArgs a;
  a.q = q.data();
  a.k = k.data();
  a.v = v.data();
  a.q_dtype = a.k_dtype = a.v_dtype = q.t;
  a.out = r.out.data();
  a.log_sum_exp = r.lse.data();
  a.seqlen_q = Lq;
  a.seqlen_k = Lk;
  a.head_dim = d;
  a.scale = gpu::default_attention_scale(d);
  a.causal = causal;
  const gpu::KernelStatus s = gpu::flash_attention_twin(a);
  EXPECT_TRUE(s.ok()) << s.message;
  return r;
}

TEST(NanSemantics, FlashAttentionTwinFollowsTheDocumentedRules) {
  const int d = 32;  // the kernel's smallest head dimension
  for (const DType t : kDTypes) {
    const std::uint64_t seed = kSeed + 20 + static_cast<std::uint64_t>(t);
    SCOPED_TRACE(std::string(gpu::dtype_name(t)) + ", " + seed_line(seed));
    RecordProperty("seed_" + std::string(gpu::dtype_name(t)), std::to_string(seed));
    Rng rng(seed);
    const std::vector<float> bads = specials(t);
    for (int trial = 0; trial < 150; ++trial) {
      const int Lq = 1 + pick(rng, 80), Lk = 1 + pick(rng, 80);
      const bool causal = pick(rng, 2) == 1;
      Stored x[3] = {Stored(t, uniform_values(rng, static_cast<std::size_t>(Lq) * d, -2, 2, t)),
                     Stored(t, uniform_values(rng, static_cast<std::size_t>(Lk) * d, -2, 2, t)),
                     Stored(t, uniform_values(rng, static_cast<std::size_t>(Lk) * d, -2, 2, t))};
      const int which = pick(rng, 3), token = pick(rng, which == 0 ? Lq : Lk), col = pick(rng, d);
      const float bad = bads[pick(rng, static_cast<int>(bads.size()))];
      SCOPED_TRACE("trial " + std::to_string(trial) + (causal ? ": causal" : ": non-causal") +
                   " Lq=" + std::to_string(Lq) + " Lk=" + std::to_string(Lk) + ", " + "QKV"[which] +
                   "(" + std::to_string(token) + "," + std::to_string(col) + ") = " + describe(bad));
      const FlashRun clean = run_flash(causal, Lq, Lk, d, x[0], x[1], x[2]);
      x[which].set(static_cast<std::size_t>(token) * d + col, bad);
      const FlashRun got = run_flash(causal, Lq, Lk, d, x[0], x[1], x[2]);
      for (int i = 0; i < Lq; ++i) {
        // Bottom-right causal alignment: query i sees key j iff j ≤ i + Lk − Lq.
        const int visible = causal ? std::max(0, std::min(Lk, i + Lk - Lq + 1)) : Lk;
        const bool reads = visible > 0 && (which == 0 ? i == token : token < visible);
        if (visible == 0) {  // the documented masked row
          ASSERT_TRUE(same_output_value(got.lse[i], -Limits::infinity())) << "row " << i;
          for (int e = 0; e < d; ++e)
            ASSERT_TRUE(same_output_value(got.out[i * d + e], 0.0f)) << "row " << i;
          continue;
        }
        // A row with a visible key is never the masked row (O = 0): its lse is −inf only when
        // every visible logit is −inf (an inf input), and then O is the reference's 0/0, NaN;
        // a NaN lse means a NaN row.
        if (std::isnan(got.lse[i]) || got.lse[i] == -Limits::infinity()) {
          for (int e = 0; e < d; ++e)
            ASSERT_TRUE(std::isnan(got.out[i * d + e])) << "row " << i << ", lse " << got.lse[i];
        }
        if (!reads || which == 2) {  // a value enters only its own column, never the lse
          ASSERT_TRUE(same_output_value(got.lse[i], clean.lse[i])) << "row " << i;
        }
        for (int e = 0; e < d; ++e) {
          const bool touched = reads && (which != 2 || e == col);
          const float g = got.out[i * d + e];
          if (!touched) {
            ASSERT_TRUE(same_output_value(g, clean.out[i * d + e])) << "row " << i << " col " << e;
          } else if (std::isnan(bad)) {
            ASSERT_TRUE(std::isnan(g)) << "row " << i << " col " << e << ": " << g;
          }
        }
        if (reads && std::isnan(bad) && which != 2) {
          ASSERT_TRUE(std::isnan(got.lse[i])) << "row " << i;
        }
      }
    }
  }
}

// Found by the property test above (issue 18, item 3): causal rows see keys j ≤ i + Lk − Lq, but
// the P·V loop runs over every key of the tile with p = 0 for the invisible ones, and an inf
// value of a key the row cannot see made that row's column NaN (fmaf(0, inf, acc)).
TEST(NanSemantics, FlashInfValueOfAKeyPastTheDiagonalLeavesTheRowAlone) {
  const int Lq = 4, Lk = 4, d = 32;
  SCOPED_TRACE(seed_line(kSeed + 3));
  Rng rng(kSeed + 3);
  const Stored q(DType::f32, uniform_values(rng, Lq * d, -1, 1, DType::f32)),
      k(DType::f32, uniform_values(rng, Lk * d, -1, 1, DType::f32));
  Stored v(DType::f32, uniform_values(rng, Lk * d, -1, 1, DType::f32));
  const FlashRun clean = run_flash(true, Lq, Lk, d, q, k, v);
  v.set(3 * d + 0, Limits::infinity());  // key 3: visible to row 3 only
  const FlashRun got = run_flash(true, Lq, Lk, d, q, k, v);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(same_output_value(got.out[i * d], clean.out[i * d])) << "row " << i;
  EXPECT_EQ(got.out[3 * d], Limits::infinity());  // row 3 sees key 3: p·inf = inf
}

// Found by the property test above (fp16 seed, issue 18 item 3): a row whose only visible key has
// a −inf logit — an inf input, or finite inputs whose product overflows fp32 — came back as the
// masked row (O = 0, lse = −inf), a plausible answer. The reference's IEEE result is
// O = 0/0 = NaN, lse = log 0 = −inf (for the finite case, the true lse < −FLT_MAX rounds to −inf
// too, while the true O is finite: the overflow is reported as NaN, not hidden).
TEST(NanSemantics, FlashRowWhoseVisibleLogitsAreAllMinusInfIsNaNNotMasked) {
  const int Lq = 2, Lk = 2, d = 32;
  for (const float big : {Limits::infinity(), Limits::max()}) {
    SCOPED_TRACE("q(1, 0) = " + describe(big));
    Stored q(DType::f32, std::vector<float>(Lq * d, 0.5f)), k(DType::f32, std::vector<float>(Lk * d, -1.0f)),
        v(DType::f32, std::vector<float>(Lk * d, 2.0f));
    q.set(d, big);  // row 1: q·k_j = −2·big + finite = −inf (big = FLT_MAX: the fmaf overflows)
    q.set(d + 1, big);
    const FlashRun causal = run_flash(true, Lq, Lk, d, q, k, v);
    // Row 0 sees key 0 only, with a finite logit: 2 exactly.
    EXPECT_EQ(causal.out[0], 2.0f);
    for (int e = 0; e < d; ++e) ASSERT_TRUE(std::isnan(causal.out[d + e])) << "column " << e;
    EXPECT_EQ(causal.lse[1], -Limits::infinity());
    // Fully masked rows keep the documented 0 / −inf (Lq > Lk, causal: row 0 sees no key).
    const Stored q3(DType::f32, std::vector<float>(3 * d, 0.5f));
    const FlashRun masked = run_flash(true, 3, Lk, d, q3, k, v);
    EXPECT_TRUE(same_output_value(masked.out[0], 0.0f));
    EXPECT_EQ(masked.lse[0], -Limits::infinity());
  }
}

}  // namespace
}  // namespace attncert
