#include "tests/support/emulated_attention_kernels.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace attncert::test_support {
namespace {

using Index = std::ptrdiff_t;
constexpr float kMinusInf = -std::numeric_limits<float>::infinity();

float rnd(gpu::DType t, float x) { return gpu::round_through(t, x); }

/// x rounded to nearest (ties to even) with `bits` stored mantissa bits (bits + 1 significant
/// bits), exponent unbounded; bits ≤ 0 or x zero/non-finite: x unchanged.
float round_to_mantissa_bits(float x, int bits) {
  if (bits <= 0 || x == 0.0f || !std::isfinite(x)) return x;
  int e = 0;
  const double m = std::frexp(static_cast<double>(x), &e);  // x = m·2^e, 0.5 ≤ |m| < 1
  // m·2^(bits+1) lies in [2^bits, 2^(bits+1)): nearbyint rounds it to bits + 1 significant bits
  // (the default rounding mode: to nearest, ties to even); the scalings are exact.
  return static_cast<float>(std::ldexp(std::nearbyint(std::ldexp(m, bits + 1)), e - bits - 1));
}

/// P as the (possibly defective) kernel feeds it to P·V: already rounded to the input dtype.
float probability_for_pv(const EmulatedAttentionSpec& spec, bool defective, float p) {
  return defective ? round_to_mantissa_bits(p, spec.defects.probability_mantissa_bits) : p;
}

/// One head of a tensor: element (i, c).
struct Head {
  const double* base;
  Index row_stride, column_stride;
  Head(const Tensor4View<const double>& view, Index b, Index h)
      : base(view.const_head(b, h).data()),
        row_stride(view.strides()[2]),
        column_stride(view.strides()[3]) {}
  double operator()(Index i, Index c) const { return base[i * row_stride + c * column_stride]; }
};

/// The keys the (possibly defective) kernel lets row i see.
KeyRange kernel_range(const EmulatedAttentionSpec& spec, bool defective, Index i) {
  KeyVisibility keys = spec.problem.keys;
  if (defective && spec.defects.flipped_alignment)
    keys.alignment = keys.alignment == DiagonalAlignment::bottom_right
                         ? DiagonalAlignment::top_left
                         : DiagonalAlignment::bottom_right;
  KeyRange r = keys.range(i, spec.seqlen_q, spec.seqlen_k);
  if (defective && spec.defects.causal_offset != 0 && keys.causal) {
    // Recompute the causal end with the offset; windows and clamping as before.
    const Index diagonal =
        i + (keys.alignment == DiagonalAlignment::bottom_right ? spec.seqlen_k - spec.seqlen_q : 0);
    r.end = std::clamp<Index>(diagonal + 1 + spec.defects.causal_offset, 0, spec.seqlen_k);
    if (keys.window_right) r.end = std::min(r.end, diagonal + *keys.window_right + 1);
    if (r.end < r.begin) r.end = r.begin;
  }
  return r;
}

float logit(const EmulatedAttentionSpec& spec, bool defective, float s, float scale) {
  float x = s * scale;
  if (defective && spec.defects.scale_twice) x *= scale;
  if (spec.problem.softcap) {
    const auto C = static_cast<float>(*spec.problem.softcap);
    x = C * std::tanh(x / C);
  }
  return x;
}

/// One query row of the flash-style kernel.
void flash_row(const EmulatedAttentionSpec& spec, bool defective, const Head& Q, const Head& K,
               const Head& V, Index i, float scale, float* o, float& lse) {
  const gpu::DType t = spec.dtype;
  const Index d = spec.head_dim, dv = spec.dv(), bk = spec.block_k;
  const AttentionDefects& f = spec.defects;
  const KeyRange r = kernel_range(spec, defective, i);
  // A fully masked row: O = 0, lse = −inf. (Its empty range can start inside a tile — a window
  // beyond the last key — and the tile loop below would then count the row as seen: 0/0.)
  if (r.empty()) {
    std::fill(o, o + dv, 0.0f);
    lse = kMinusInf;
    return;
  }
  std::vector<float> q(d), acc(dv, 0.0f), x(bk);
  for (Index c = 0; c < d; ++c) q[c] = static_cast<float>(Q(i, c));
  float m = kMinusInf, l = 0.0f;
  bool any = false;
  for (Index t0 = (r.begin / bk) * bk; t0 < r.end; t0 += bk) {
    const Index lo = std::max(t0, r.begin), hi = std::min(t0 + bk, r.end);
    const bool partial_last = hi == r.end && r.end % bk != 0 && t0 + bk > r.end;
    if (defective && f.drop_last_partial_tile && partial_last && any) continue;
    float m_new = m;
    for (Index j = lo; j < hi; ++j) {
      float s = 0.0f;
      for (Index c = 0; c < d; ++c) s += q[c] * static_cast<float>(K(j, c));
      x[j - lo] = logit(spec, defective, s, scale);
      m_new = std::max(m_new, x[j - lo]);
    }
    const float alpha = m == kMinusInf ? 0.0f : std::exp(m - m_new);
    float tile_sum = 0.0f;
    for (Index j = lo; j < hi; ++j) tile_sum += (x[j - lo] = std::exp(x[j - lo] - m_new));
    l = (defective && f.skip_sum_rescale ? l : l * alpha) + tile_sum;
    if (!(defective && f.skip_acc_rescale))
      for (Index c = 0; c < dv; ++c) acc[c] *= alpha;
    // Each acc[c] still sums its keys in order; the loop over columns vectorises.
    for (Index j = lo; j < hi; ++j) {
      const float p = probability_for_pv(spec, defective, rnd(t, x[j - lo]));
      for (Index c = 0; c < dv; ++c) {
        acc[c] += p * static_cast<float>(V(j, c));
        if (defective && f.bf16_accumulation) acc[c] = rnd(gpu::DType::bf16, acc[c]);
      }
    }
    m = m_new;
    any = true;
  }
  if (!any) {
    std::fill(o, o + dv, 0.0f);
    lse = kMinusInf;
    return;
  }
  for (Index c = 0; c < dv; ++c) o[c] = rnd(spec.output_dtype, acc[c] / l);
  lse = m + std::log(l);
}

/// One query row of the three-pass kernel (PyTorch's math path without upcast).
void three_pass_row(const EmulatedAttentionSpec& spec, bool defective, const Head& Q, const Head& K,
                    const Head& V, Index i, float scale, float* o, float& lse) {
  const gpu::DType t = spec.dtype;
  const Index d = spec.head_dim, dv = spec.dv();
  const KeyRange r = kernel_range(spec, defective, i);
  std::fill(o, o + dv, 0.0f);
  if (r.empty()) {
    lse = kMinusInf;
    return;
  }
  std::vector<float> q(d), p(r.size());
  for (Index c = 0; c < d; ++c) q[c] = rnd(t, static_cast<float>(Q(i, c)) * scale);
  float m = kMinusInf;
  for (Index j = r.begin; j < r.end; ++j) {
    float s = 0.0f;
    for (Index c = 0; c < d; ++c) s += q[c] * static_cast<float>(K(j, c));
    s = rnd(t, s);
    if (defective && spec.defects.scale_twice) s = rnd(t, s * scale);
    if (spec.problem.softcap) {
      const auto C = static_cast<float>(*spec.problem.softcap);
      s = rnd(t, C * std::tanh(s / C));
    }
    p[j - r.begin] = s;
    m = std::max(m, s);
  }
  float sum = 0.0f;
  for (float& s : p) sum += (s = std::exp(s - m));
  for (float& s : p) s = probability_for_pv(spec, defective, rnd(t, s / sum));
  for (Index c = 0; c < dv; ++c) {
    float a = 0.0f;
    for (Index j = r.begin; j < r.end; ++j) {
      a += p[j - r.begin] * static_cast<float>(V(j, c));
      if (defective && spec.defects.bf16_accumulation) a = rnd(gpu::DType::bf16, a);
    }
    o[c] = rnd(spec.output_dtype, a);
  }
  lse = m + std::log(sum);
}

}  // namespace

AttentionViews attention_views(const EmulatedAttentionSpec& s, const std::vector<double>& q,
                               const std::vector<double>& k, const std::vector<double>& v,
                               const std::vector<double>& o) {
  return {attention_view(q.data(), s.layout, s.batch, s.heads, s.seqlen_q, s.head_dim),
          attention_view(k.data(), s.layout, s.batch, s.kv_heads, s.seqlen_k, s.head_dim),
          attention_view(v.data(), s.layout, s.batch, s.kv_heads, s.seqlen_k, s.dv()),
          attention_view(o.data(), s.layout, s.batch, s.heads, s.seqlen_q, s.dv())};
}

EmulatedAttentionOutput emulated_attention(const EmulatedAttentionSpec& s,
                                           const std::vector<double>& q,
                                           const std::vector<double>& k,
                                           const std::vector<double>& v) {
  const Index B = s.batch, H = s.heads, Hkv = s.kv_heads, Lq = s.seqlen_q, Lk = s.seqlen_k;
  const Index d = s.head_dim, dv = s.dv();
  if (H % Hkv != 0 || s.block_k < 1 || q.size() != static_cast<std::size_t>(B * H * Lq * d) ||
      k.size() != static_cast<std::size_t>(B * Hkv * Lk * d) ||
      v.size() != static_cast<std::size_t>(B * Hkv * Lk * dv))
    throw std::invalid_argument("emulated_attention: sizes do not match the spec");
  if (s.defects.probability_mantissa_bits < 0)
    throw std::invalid_argument("emulated_attention: probability_mantissa_bits is negative");
  EmulatedAttentionOutput out;
  out.o.assign(static_cast<std::size_t>(B * H * Lq * dv), 0.0);
  out.lse.assign(static_cast<std::size_t>(B * H * Lq), 0.0);
  const auto qv = attention_view(q.data(), s.layout, B, H, Lq, d);
  const auto kv = attention_view(k.data(), s.layout, B, Hkv, Lk, d);
  const auto vv = attention_view(v.data(), s.layout, B, Hkv, Lk, dv);
  const auto ov = attention_view(out.o.data(), s.layout, B, H, Lq, dv);
  const auto scale =
      static_cast<float>(s.problem.scale.value_or(1.0 / std::sqrt(static_cast<double>(d))));
  std::vector<float> row(dv);
  for (Index b = 0; b < B; ++b)
    for (Index h = 0; h < H; ++h) {
      const Index hk = h / (H / Hkv);
      const Head Q(qv, b, h), K(kv, b, hk), V(vv, b, hk);
      const bool defective = s.defects.any() && (s.defects.head < 0 || s.defects.head == h);
      const auto& os = ov.strides();
      double* obase = out.o.data() + b * os[0] + h * os[1];
      for (Index i = 0; i < Lq; ++i) {
        float lse = 0;
        if (s.algorithm == EmulatedAlgorithm::flash)
          flash_row(s, defective, Q, K, V, i, scale, row.data(), lse);
        else
          three_pass_row(s, defective, Q, K, V, i, scale, row.data(), lse);
        for (Index c = 0; c < dv; ++c) obase[i * os[2] + c * os[3]] = row[c];
        out.lse[(b * H + h) * Lq + i] = lse;
      }
    }
  return out;
}

std::vector<double> random_in_dtype(Rng& rng, std::size_t n, gpu::DType dtype, double sd) {
  std::vector<double> x(n);
  for (double& e : x) e = gpu::round_through(dtype, static_cast<float>(sd * rng.normal()));
  return x;
}

}  // namespace attncert::test_support
