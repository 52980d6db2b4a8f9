// Per-element math of the linear attention kernel, shared by the CUDA kernel and its CPU twin.
// Every value the kernel produces is one sequential fp32 chain in a fixed index order, owned
// by one thread: no cross-thread reduction, so the twin reproduces the kernel bit for bit by
// calling the same functions (every operation is an explicit rounded one of
// gpu/rounded_arithmetic.hpp, whatever the build flags: docs/bit_exactness.md). CUDA-core FMA, not
// tensor-core mma, whose internal accumulation order is unspecified. C++17 (nvcc).
//
// Stages per head (T tokens, d = dv, m features, C = ceil(T/64) chunks, W = d + 1 columns: the
// value columns and a column of ones whose "numerator" is the normaliser):
//  1 features  Φq(i,a) = φ_q(fl(scale·q_i))_a,  Φk(j,a) = φ_k(k_j)_a            (T×m each)
//  2 chunks    P_c(a,e) = Σ_{j∈chunk c} Φk(j,a)·V(j,e)  (fma chain in j, from 0)  (C×m×W)
//  3 scan      S_0 = initial (or 0); state before chunk c is S_c; S_{c+1} = S_c + P_c
//  4 scores    A(i,j) = Σ_a Φq(i,a)Φk(j,a), j ≤ i in i's chunk (causal only)      (T×64)
//  5 read-out  r(i,e) = Σ_a Φq(i,a)·S(a,e) then + Σ_{j in chunk, j≤i} A(i,j)·V(j,e) (causal)
//              with S = S_{chunk(i)} (causal) or S_C (non-causal); one fma chain  (T×W)
//  6 finish    o(i,e) = r(i,e) (unnormalised) or r(i,e)/r(i,d) when r(i,d) > 0 and finite,
//              else 0 when r(i,d) is finite, NaN when it is NaN or ±inf (both counted);
//              rounded to the output dtype. Semantics: docs/nan_semantics.md.
#pragma once

#include <cstdint>

#include "gpu/dtype.hpp"
#include "gpu/host_device.hpp"
#include "gpu/linear_attention.hpp"
#include "gpu/portable_exp.hpp"
#include "gpu/rounded_arithmetic.hpp"

namespace attncert::gpu::linear_tile {

inline constexpr int kChunk = kLinearAttentionChunk;  // the error bound's chunk length as well

// Feature codes: LinearFeature's values as ints for the device code.
inline constexpr int kIdentity = static_cast<int>(LinearFeature::identity);
inline constexpr int kRelu = static_cast<int>(LinearFeature::relu);
inline constexpr int kEluPlusOne = static_cast<int>(LinearFeature::elu_plus_one);
inline constexpr int kTaylor2 = static_cast<int>(LinearFeature::taylor2);

ATTNCERT_HOST_DEVICE long long feature_dim(int feature, int d) {
  return feature == kTaylor2 ? 1LL + d + static_cast<long long>(d) * (d + 1) / 2 : d;
}

/// Element `a` of the map's input: the stored value (key) or fl(scale·value) (query).
ATTNCERT_HOST_DEVICE float feature_input(DType t, const void* x, long long row_begin, int a,
                                         bool is_query, float scale) {
  const float value = load_element(t, x, row_begin + a);
  return is_query ? rn_mul(scale, value) : value;
}

/// φ(x)_a for the token whose d inputs start at element row_begin of x (numerics'
/// FeatureMap definitions: elu+1 = x + 1 for x > 0 else eˣ; Taylor-2 query side
/// (1, x, x_a²/2, x_a x_b (a<b)), key side (1, x, x_a², x_a x_b)).
ATTNCERT_HOST_DEVICE float feature_value(int feature, bool is_query, float scale, DType t,
                                         const void* x, long long row_begin, int d, long long a) {
  if (feature != kTaylor2) {
    const float xa = feature_input(t, x, row_begin, static_cast<int>(a), is_query, scale);
    if (feature == kIdentity) return xa;
    // xa <= 0, not !(xa > 0): a NaN input stays NaN instead of reading as a zero feature.
    if (feature == kRelu) return ieee_less_equal(xa, 0.0f) ? 0.0f : xa;
    return ieee_greater(xa, 0.0f) ? rn_add(xa, 1.0f) : portable_expf(xa);
  }
  if (a == 0) return 1.0f;
  if (a <= d) return feature_input(t, x, row_begin, static_cast<int>(a - 1), is_query, scale);
  if (a <= 2LL * d) {
    const float xa = feature_input(t, x, row_begin, static_cast<int>(a - 1 - d), is_query, scale);
    const float sq = rn_mul(xa, xa);
    return is_query ? rn_mul(sq, 0.5f) : sq;
  }
  // Pair (p, q), p < q, in the order p = 0: q = 1..d-1, p = 1: q = 2..d-1, …
  long long r = a - 1 - 2LL * d;
  int p = 0;
  while (r >= d - 1 - p) {
    r -= d - 1 - p;
    ++p;
  }
  const int q = p + 1 + static_cast<int>(r);
  return rn_mul(feature_input(t, x, row_begin, p, is_query, scale),
                feature_input(t, x, row_begin, q, is_query, scale));
}

/// V(j, e) for e < d, 1 for the ones column e = d.
ATTNCERT_HOST_DEVICE float value_or_one(DType t, const void* v, long long head_value_begin,
                                        long long j, int d, int e) {
  return e == d ? 1.0f : load_element(t, v, head_value_begin + j * d + e);
}

/// Stage 2: P_c(a, e) over tokens [begin, end) of one head (phik: that head's T×m features).
ATTNCERT_HOST_DEVICE float chunk_state_element(const float* phik, long long m, DType vt,
                                               const void* v, long long head_value_begin, int d,
                                               long long begin, long long end, long long a,
                                               int e) {
  float acc = 0.0f;
  for (long long j = begin; j < end; ++j)
    acc = rn_fma(phik[j * m + a], value_or_one(vt, v, head_value_begin, j, d, e), acc);
  return acc;
}

/// Stage 4: A(i, j) = Φq(i,·)·Φk(j,·), a fma chain in a.
ATTNCERT_HOST_DEVICE float score_element(const float* phiq, const float* phik, long long m,
                                         long long i, long long j) {
  float acc = 0.0f;
  for (long long a = 0; a < m; ++a) acc = rn_fma(phiq[i * m + a], phik[j * m + a], acc);
  return acc;
}

/// Stage 5: r(i, e). state: the m×W state this query reads; scores_row: A(i, chunk_begin + t)
/// for t = 0..i-chunk_begin (causal; nullptr for non-causal).
ATTNCERT_HOST_DEVICE float readout_element(const float* phiq, long long m, const float* state,
                                           int d, long long i, int e, const float* scores_row,
                                           long long chunk_begin, DType vt, const void* v,
                                           long long head_value_begin) {
  const long long w = d + 1;
  float acc = 0.0f;
  for (long long a = 0; a < m; ++a) acc = rn_fma(phiq[i * m + a], state[a * w + e], acc);
  if (scores_row != nullptr) {
    for (long long j = chunk_begin; j <= i; ++j)
      acc =
          rn_fma(scores_row[j - chunk_begin], value_or_one(vt, v, head_value_begin, j, d, e), acc);
  }
  return acc;
}

/// Stage 6 for a normalised row: does the normaliser allow a division?
ATTNCERT_HOST_DEVICE bool normaliser_usable(float den) {
  // > 0 and finite (NaN fails both).
  return ieee_greater(den, 0.0f) && ieee_less_equal(den, 3.4028234663852886e38f);
}

/// Stage 6: the output value before rounding to the output dtype. An unusable normaliser gives
/// 0 when it is finite (≤ 0: no usable weight) but NaN when it is NaN or ±inf: a non-finite
/// input reached the row and must show, not read as a row without weight (issue 18).
ATTNCERT_HOST_DEVICE float finish_element(float numerator, float den, bool normalised) {
  if (!normalised) return numerator;
  if (normaliser_usable(den)) return rn_div(numerator, den);
  const bool finite = ieee_greater_equal(den, -3.4028234663852886e38f) &&
                      ieee_less_equal(den, 3.4028234663852886e38f);
  return finite ? 0.0f : bits_float(0x7fc00000u);  // one quiet NaN on host and device
}

/// Writes x rounded to the output dtype (RNE) at element i.
ATTNCERT_HOST_DEVICE void store_element(DType t, void* data, long long i, float x) {
  switch (t) {
    case DType::f16: static_cast<std::uint16_t*>(data)[i] = float_to_f16_bits(x); break;
    case DType::bf16: static_cast<std::uint16_t*>(data)[i] = float_to_bf16_bits(x); break;
    default: static_cast<float*>(data)[i] = x; break;
  }
}

}  // namespace attncert::gpu::linear_tile

namespace attncert::gpu::linear_tile {

/// fp32 scratch of one call, per head, in this order (offsets in floats from a head's start):
/// Φq T×m, Φk T×m, states (C+1)×m×W (slot c: P_c, then the state before chunk c; slot C: the
/// final state), scores T×64, read-out T×W.
struct WorkspaceLayout {
  long long m = 0, w = 0, chunks = 0;
  long long phiq = 0, phik = 0, states = 0, scores = 0, readout = 0, per_head = 0;
};

ATTNCERT_HOST_DEVICE WorkspaceLayout workspace_layout(int feature, long long seqlen, int d) {
  WorkspaceLayout l;
  l.m = feature_dim(feature, d);
  l.w = d + 1;
  l.chunks = (seqlen + kChunk - 1) / kChunk;
  l.phiq = 0;
  l.phik = l.phiq + seqlen * l.m;
  l.states = l.phik + seqlen * l.m;
  l.scores = l.states + (l.chunks + 1) * l.m * l.w;
  l.readout = l.scores + seqlen * kChunk;
  l.per_head = l.readout + seqlen * l.w;
  return l;
}

}  // namespace attncert::gpu::linear_tile

namespace attncert::gpu::linear_tile {

/// One call as both sides see it (device pointers on the GPU, host pointers in the twin).
struct CallView {
  int feature = 0, d = 0;
  long long T = 0;
  DType dt = DType::f32;
  bool causal = true, normalised = true;
  float scale = 1.0f;
  const void* q = nullptr;
  const void* k = nullptr;
  const void* v = nullptr;
  void* out = nullptr;
  const float* initial_state = nullptr;
  float* final_state = nullptr;
  float* normaliser = nullptr;
  WorkspaceLayout l;
};

/// The view of a validated call (can_run ok); scratch pointers are passed per head.
inline CallView call_view(const LinearAttentionArgs& a) {
  CallView c;
  c.feature = static_cast<int>(a.feature);
  c.d = a.head_dim;
  c.T = a.seqlen;
  c.dt = a.q_dtype;
  c.causal = a.causal;
  c.normalised = a.readout == LinearReadout::normalised;
  c.scale = a.scale;
  c.q = a.q;
  c.k = a.k;
  c.v = a.v;
  c.out = a.out;
  c.initial_state = a.initial_state;
  c.final_state = a.final_state;
  c.normaliser = a.normaliser;
  c.l = workspace_layout(c.feature, c.T, c.d);
  return c;
}

// The stages as "produce element idx of head h", with ws = that head's scratch. The kernel runs
// each stage as a grid-stride loop over idx (grid.y = head), the twin as a plain loop; a stage
// starts only after the previous one finished on both sides.

/// Stage 1, idx ∈ [0, T·m): Φq and Φk at token idx / m, feature idx % m.
ATTNCERT_HOST_DEVICE void stage_features(const CallView& c, long long h, float* ws, long long idx) {
  const long long token_base = h * c.T * c.d;
  const long long i = idx / c.l.m, a = idx % c.l.m;
  ws[c.l.phiq + idx] = feature_value(c.feature, true, c.scale, c.dt, c.q, token_base + i * c.d, c.d, a);
  ws[c.l.phik + idx] = feature_value(c.feature, false, c.scale, c.dt, c.k, token_base + i * c.d, c.d, a);
}

/// Stage 2, chunk ∈ [0, C), s ∈ [0, m·W): P_chunk(s / W, s % W).
ATTNCERT_HOST_DEVICE void stage_chunk_state(const CallView& c, long long h, float* ws,
                                            long long chunk, long long s) {
  const long long begin = chunk * kChunk;
  const long long end = begin + kChunk < c.T ? begin + kChunk : c.T;
  ws[c.l.states + chunk * c.l.m * c.l.w + s] = chunk_state_element(
      ws + c.l.phik, c.l.m, c.dt, c.v, h * c.T * c.d, c.d, begin, end, s / c.l.w,
      static_cast<int>(s % c.l.w));
}

/// Stage 3, s ∈ [0, m·W): slot c becomes the state before chunk c, slot C the final state.
ATTNCERT_HOST_DEVICE void stage_scan(const CallView& c, long long h, float* ws, long long s) {
  const long long mw = c.l.m * c.l.w;
  float* states = ws + c.l.states;
  float running = c.initial_state ? c.initial_state[h * mw + s] : 0.0f;
  for (long long chunk = 0; chunk < c.l.chunks; ++chunk) {
    const float partial = states[chunk * mw + s];
    states[chunk * mw + s] = running;
    running = rn_add(running, partial);
  }
  states[c.l.chunks * mw + s] = running;
  if (c.final_state) c.final_state[h * mw + s] = running;
}

/// Stage 4 (causal), idx ∈ [0, T·64): A(i, j) for i = idx / 64, j = chunk_begin(i) + idx % 64 ≤ i.
ATTNCERT_HOST_DEVICE void stage_score(const CallView& c, long long, float* ws, long long idx) {
  const long long i = idx / kChunk;
  const long long j = i / kChunk * kChunk + idx % kChunk;
  if (j <= i) ws[c.l.scores + idx] = score_element(ws + c.l.phiq, ws + c.l.phik, c.l.m, i, j);
}

/// Stage 5, idx ∈ [0, T·W): r(idx / W, idx % W).
ATTNCERT_HOST_DEVICE void stage_readout(const CallView& c, long long h, float* ws, long long idx) {
  const long long i = idx / c.l.w;
  const long long chunk = i / kChunk;
  const float* state = ws + c.l.states + (c.causal ? chunk : c.l.chunks) * c.l.m * c.l.w;
  const float* scores_row = c.causal ? ws + c.l.scores + i * kChunk : nullptr;
  ws[c.l.readout + idx] =
      readout_element(ws + c.l.phiq, c.l.m, state, c.d, i, static_cast<int>(idx % c.l.w),
                      scores_row, chunk * kChunk, c.dt, c.v, h * c.T * c.d);
}

/// Stage 6, idx ∈ [0, T·d): the output element; true exactly once per normalised row whose
/// normaliser is unusable (the caller counts those rows).
ATTNCERT_HOST_DEVICE bool stage_finish(const CallView& c, long long h, const float* ws, long long idx) {
  const long long i = idx / c.d, e = idx % c.d;
  const float den = ws[c.l.readout + i * c.l.w + c.d];
  store_element(c.dt, c.out, h * c.T * c.d + idx,
                finish_element(ws[c.l.readout + i * c.l.w + e], den, c.normalised));
  if (e != 0) return false;
  if (c.normaliser) c.normaliser[h * c.T + i] = den;
  return c.normalised && !normaliser_usable(den);
}

}  // namespace attncert::gpu::linear_tile
