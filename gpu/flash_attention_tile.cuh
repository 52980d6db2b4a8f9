// Per-tile math of the flash-attention forward kernel, shared by the CUDA kernel
// (gpu/flash_attention.cu) and its CPU twin (gpu/flash_attention_twin.cpp). C++17-clean: nvcc
// compiles it as C++17.
//
// Tiling (kFlashAttentionTiling in gpu/flash_attention.hpp, whose values are quoted below; both
// sides run it in this order, so their results agree bit for bit):
//   grid = (⌈Lq/64⌉ query blocks, batch_heads); 128 threads = 4 warps; warp w owns the 16
//   query rows 16w … 16w+15 of the block. For each key tile of 64 keys (tile count from the
//   block's last valid row, so causal blocks stop at their diagonal):
//   1. K and V tiles are staged in shared memory as fp32 (head dim zero-padded to a multiple
//      of 32); lane x computes the logits of keys x and x+32 for each of its warp's rows:
//      s = fmaf chain over c = 0 … d−1 from +0, then t = s·scale + 0 (+0 removes −0, see
//      below), −inf where the key is not visible.
//   2. Row maximum of the tile: lane value max(t_x, t_{x+32}), then the xor-shuffle butterfly
//      (offsets 16, 8, 4, 2, 1). m_new = max(m_old, tile max); α = e^(m_old − m_new).
//   3. p = e^(t − m_new) (portable_expf); row sum: lane value p_x + p_{x+32}, same butterfly
//      (every lane ends with the same bits: IEEE + is commutative); l ← fmaf(l, α, tile sum).
//   4. P is rounded to the input dtype (as FlashAttention does before its P·V GEMM; the row
//      sum above uses the unrounded fp32 p, as FlashAttention's does), written to shared memory;
//      acc ← acc·α, then acc ← fmaf(p_j, v_j, acc) for j = 0 … (valid keys of the tile) − 1
//      (a key past the row's diagonal has p_j = 0 and a non-finite v_j read as 0: pv_value).
//   After the last tile: O = acc / l, lse = m + log l (portable_logf); a row with no visible
//   key (l = 0) gives O = 0 and lse = −inf; a row with visible keys, all of logit −inf, gives
//   O = NaN (0/0) and lse = −inf (log 0).
// CUDA-core fp32 FMAs only (no tensor-core mma: its accumulation order and rounding are not
// specified, so no twin could reproduce it bit for bit).
#pragma once

#include <cstdint>

#include "gpu/dtype.hpp"
#include "gpu/flash_attention.hpp"
#include "gpu/host_device.hpp"
#include "gpu/portable_exp.hpp"
#include "gpu/portable_log.hpp"
#include "gpu/rounded_arithmetic.hpp"

namespace attncert::gpu::flash {

inline constexpr int kBlockQ = kFlashAttentionTiling.block_q;
inline constexpr int kBlockK = kFlashAttentionTiling.block_k;
inline constexpr int kWarps = kFlashAttentionTiling.warps;
inline constexpr int kLanes = kFlashAttentionTiling.lanes;
inline constexpr int kRowsPerWarp = kBlockQ / kWarps;                       // 16
inline constexpr int kKeysPerLane = kFlashAttentionTiling.keys_per_lane();  // 2
inline constexpr int kMaxDimSlots = kFlashAttentionMaxHeadDim / kLanes;     // columns per lane
// The kernel and the twin are written for this shape (keys x and x + kLanes per lane, a full-warp
// butterfly, head-dim classes of 1..4 slots): a retiling must change their loops as well.
static_assert(kKeysPerLane == 2 && kKeysPerLane * kLanes == kBlockK, "two keys per lane");
static_assert(kBlockQ % kWarps == 0 && kLanes == 32 && kMaxDimSlots == 4, "tiling of the loops");

ATTNCERT_HOST_DEVICE int padded_head_dim(int d) { return (d + kLanes - 1) / kLanes * kLanes; }

/// Keys j < visible_key_end(i) are visible to query i. Causal uses FlashAttention's
/// bottom-right alignment: query i sees key j iff j ≤ i + Lk − Lq.
ATTNCERT_HOST_DEVICE int visible_key_end(int row, int seqlen_q, int seqlen_k, bool causal) {
  if (!causal) return seqlen_k;
  const long long end = static_cast<long long>(row) + seqlen_k - seqlen_q + 1;
  return end < 0 ? 0 : (end > seqlen_k ? seqlen_k : static_cast<int>(end));
}

/// Key tiles a query block iterates over (fully masked tiles past the diagonal are skipped).
ATTNCERT_HOST_DEVICE int key_tile_count(int query_block, int seqlen_q, int seqlen_k, bool causal) {
  int last_row = query_block * kBlockQ + kBlockQ - 1;
  if (last_row > seqlen_q - 1) last_row = seqlen_q - 1;
  const int end = visible_key_end(last_row, seqlen_q, seqlen_k, causal);
  return (end + kBlockK - 1) / kBlockK;
}

ATTNCERT_HOST_DEVICE float negative_infinity() { return bits_float(0xff800000u); }

/// One step of the logit dot product (c ascending from a +0 start).
ATTNCERT_HOST_DEVICE float score_step(float acc, float q, float k) { return rn_fma(q, k, acc); }

/// Scaled logit; adding +0 turns −0 into +0 so that the butterfly maximum is commutative
/// bit for bit (every lane then holds the same m).
ATTNCERT_HOST_DEVICE float masked_logit(float dot, float scale, bool visible) {
  return visible ? rn_add(rn_mul(dot, scale), 0.0f) : negative_infinity();
}

/// max that propagates NaN from either side and is commutative for all other non-(−0) values.
ATTNCERT_HOST_DEVICE float max_op(float a, float b) {
  return (ieee_greater(a, b) || ieee_is_nan(a)) ? a : b;
}
ATTNCERT_HOST_DEVICE float sum_op(float a, float b) { return rn_add(a, b); }

struct RowRescale {
  float m_new;  // running maximum after this tile
  float alpha;  // factor for the previous l and acc
  bool any;     // some key visible so far
};

ATTNCERT_HOST_DEVICE RowRescale rescale_row(float m_old, float tile_max) {
  const float m_new = max_op(m_old, tile_max);
  if (ieee_equal(m_new, negative_infinity())) return {m_new, 1.0f, false};
  // m_old = −inf gives e^(−inf) = 0 (l and acc are 0 then anyway).
  return {m_new, portable_expf(rn_sub(m_old, m_new)), true};
}

ATTNCERT_HOST_DEVICE float tile_probability(float logit, const RowRescale& r) {
  return r.any ? portable_expf(rn_sub(logit, r.m_new)) : 0.0f;
}

/// The P·V operand: p rounded to the input dtype (fp32: unchanged).
ATTNCERT_HOST_DEVICE float pv_weight(DType t, float p) { return round_through(t, p); }

ATTNCERT_HOST_DEVICE float update_row_sum(float l, float alpha, float tile_sum) {
  return rn_fma(l, alpha, tile_sum);
}
ATTNCERT_HOST_DEVICE float rescale_accumulator(float acc, float alpha) {
  return rn_mul(acc, alpha);
}
ATTNCERT_HOST_DEVICE float pv_step(float acc, float p, float v) { return rn_fma(p, v, acc); }
/// v_j as the P·V step of one row reads it. The step runs over every key of the tile, with p = 0
/// for keys past the row's causal diagonal, and fmaf(0, ±inf or NaN, acc) is NaN: an invisible
/// key's non-finite value must not reach the row, so it reads as 0. Finite values pass unchanged
/// (fmaf(0, v, acc) keeps its bits); visible keys are never altered (issue 18).
ATTNCERT_HOST_DEVICE float pv_value(float v, bool visible) {
  return visible || (float_bits(v) & 0x7f800000u) != 0x7f800000u ? v : 0.0f;
}

/// l is exactly 0 for a row without a visible key (otherwise its arg-max key contributes e⁰ = 1)
/// or one whose every visible logit is −inf (an inf input, or finite inputs whose logit
/// overflows fp32): the latter is the reference's 0/0, NaN — not the masked row's 0 (issue 18:
/// found by tests/gpu/nan_semantics_test.cpp, fp16 seed). "l > 0" also sent a NaN l — a NaN
/// logit — to the masked row's 0 / −inf; a NaN l gives NaN, as the reference does.
ATTNCERT_HOST_DEVICE float finalize_output(float acc, float l, bool has_visible_key) {
  if (!ieee_equal(l, 0.0f)) return rn_div(acc, l);
  return has_visible_key ? bits_float(0x7fc00000u) : 0.0f;  // one quiet NaN on host and device
}
ATTNCERT_HOST_DEVICE float finalize_log_sum_exp(float m, float l) {
  return ieee_equal(l, 0.0f) ? negative_infinity() : rn_add(m, portable_logf(l));
}

/// CPU emulation of the warp's xor-shuffle butterfly: after the stage with offset o, lane x
/// holds op(v_x, v_{x^o}) — exactly what `v = op(v, __shfl_xor_sync(~0u, v, o))` computes.
template <class Op>
inline float emulate_xor_butterfly(float (&lane_values)[kLanes], Op op) {
  for (int offset = kLanes / 2; offset > 0; offset /= 2) {
    float next[kLanes];
    for (int x = 0; x < kLanes; ++x) next[x] = op(lane_values[x], lane_values[x ^ offset]);
    for (int x = 0; x < kLanes; ++x) lane_values[x] = next[x];
  }
  return lane_values[0];
}

}  // namespace attncert::gpu::flash
