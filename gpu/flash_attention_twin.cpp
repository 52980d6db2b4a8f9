// The CPU twin of gpu/flash_attention.cu and the shared host-side argument check. The twin
// runs every query row through the same key tiles, the same per-tile functions
// (flash_attention_tile.cuh) and the same reduction trees (emulated xor butterflies) as the
// kernel's warps, so the two agree bit for bit. No build flag changes
// that: docs/bit_exactness.md.
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "gpu/flash_attention.hpp"
#include "gpu/flash_attention_tile.cuh"

namespace attncert::gpu {

float default_attention_scale(int head_dim) {
  return static_cast<float>(1.0 / std::sqrt(static_cast<double>(head_dim)));
}

namespace {

KernelStatus fail(KernelStatusCode code, std::string message) {
  return KernelStatus::failure(code, "flash_attention: " + std::move(message));
}

bool aligned(const void* p, int bytes) {
  return reinterpret_cast<std::uintptr_t>(p) % static_cast<std::uintptr_t>(bytes) == 0;
}

}  // namespace

KernelStatus can_run(const FlashAttentionArgs& a) {
  using C = KernelStatusCode;
  if (a.batch_heads < 1 || a.seqlen_q < 1 || a.seqlen_k < 1) {
    return fail(C::empty_input, "batch_heads = " + std::to_string(a.batch_heads) +
                                    ", seqlen_q = " + std::to_string(a.seqlen_q) + ", seqlen_k = " +
                                    std::to_string(a.seqlen_k) + "; each must be >= 1");
  }
  // Index arithmetic like seqlen + 63 stays in int range.
  constexpr int kMaxLength = 1 << 30;
  if (a.seqlen_q > kMaxLength || a.seqlen_k > kMaxLength) {
    return fail(C::unsupported_shape, "seqlen_q = " + std::to_string(a.seqlen_q) +
                                          ", seqlen_k = " + std::to_string(a.seqlen_k) +
                                          "; each must be <= 2^30");
  }
  if (!dtype_is_valid(a.q_dtype) || !dtype_is_valid(a.k_dtype) || !dtype_is_valid(a.v_dtype)) {
    return fail(C::invalid_argument, "a dtype is not one of fp32, fp16, bf16");
  }
  if (a.head_dim < kFlashAttentionMinHeadDim || a.head_dim > kFlashAttentionMaxHeadDim) {
    return fail(C::unsupported_shape,
                "head_dim = " + std::to_string(a.head_dim) +
                    " is unsupported; admissible: " + std::to_string(kFlashAttentionMinHeadDim) +
                    ".." + std::to_string(kFlashAttentionMaxHeadDim));
  }
  if (a.batch_heads > kFlashAttentionMaxBatchHeads) {
    return fail(C::unsupported_shape, "batch_heads = " + std::to_string(a.batch_heads) +
                                          " exceeds the grid limit " +
                                          std::to_string(kFlashAttentionMaxBatchHeads));
  }
  if (a.q_dtype != a.k_dtype || a.q_dtype != a.v_dtype) {
    return fail(C::dtype_mismatch, "q, k, v dtypes are " + std::string(dtype_name(a.q_dtype)) +
                                       ", " + std::string(dtype_name(a.k_dtype)) + ", " +
                                       std::string(dtype_name(a.v_dtype)) + "; they must agree");
  }
  const struct {
    const void* p;
    const char* name;
    int align;
  } pointers[] = {{a.q, "q", dtype_size(a.q_dtype)},
                  {a.k, "k", dtype_size(a.k_dtype)},
                  {a.v, "v", dtype_size(a.v_dtype)},
                  {a.out, "out", 4},
                  {a.log_sum_exp, "log_sum_exp", 4}};
  for (const auto& p : pointers) {
    if (p.p == nullptr) return fail(C::null_pointer, std::string(p.name) + " is null");
    if (!aligned(p.p, p.align)) {
      return fail(C::misaligned_pointer,
                  std::string(p.name) + " is not aligned to " + std::to_string(p.align) + " bytes");
    }
  }
  if (!std::isfinite(a.scale) || !(a.scale > 0.0f)) {
    return fail(C::invalid_argument,
                "scale = " + std::to_string(a.scale) + "; must be finite and > 0");
  }
  return KernelStatus::success();
}

KernelStatus flash_attention_twin(const FlashAttentionArgs& a) {
  if (KernelStatus s = can_run(a); !s.ok()) return s;
  using namespace flash;
  const int Lq = a.seqlen_q, Lk = a.seqlen_k, d = a.head_dim;
  const DType dtype = a.q_dtype;
  std::vector<float> q(static_cast<std::size_t>(d));
  std::vector<float> k(static_cast<std::size_t>(Lk) * d), v(static_cast<std::size_t>(Lk) * d);
  std::vector<float> acc(static_cast<std::size_t>(d));
  float logits[kBlockK], probabilities[kBlockK], lanes[kLanes];
  const int query_blocks = (Lq + kBlockQ - 1) / kBlockQ;

  for (int bh = 0; bh < a.batch_heads; ++bh) {
    const long long kv_base = static_cast<long long>(bh) * Lk * d;
    for (long long i = 0; i < static_cast<long long>(Lk) * d; ++i) {
      k[i] = load_element(dtype, a.k, kv_base + i);
      v[i] = load_element(dtype, a.v, kv_base + i);
    }
    for (int block = 0; block < query_blocks; ++block) {
      const int tiles = key_tile_count(block, Lq, Lk, a.causal);
      const int row_end = (block + 1) * kBlockQ < Lq ? (block + 1) * kBlockQ : Lq;
      for (int row = block * kBlockQ; row < row_end; ++row) {
        const long long q_base = (static_cast<long long>(bh) * Lq + row) * d;
        for (int c = 0; c < d; ++c) q[c] = load_element(dtype, a.q, q_base + c);
        const int visible_end = visible_key_end(row, Lq, Lk, a.causal);
        float m = negative_infinity(), l = 0.0f;
        for (int c = 0; c < d; ++c) acc[c] = 0.0f;

        for (int tile = 0; tile < tiles; ++tile) {
          const int key0 = tile * kBlockK;
          const int valid = Lk - key0 < kBlockK ? Lk - key0 : kBlockK;
          for (int j = 0; j < kBlockK; ++j) {
            const int key = key0 + j;
            const bool visible = key < visible_end;
            float dot = 0.0f;
            if (visible) {
              const float* kr = &k[static_cast<std::size_t>(key) * d];
              for (int c = 0; c < d; ++c) dot = score_step(dot, q[c], kr[c]);
            }
            logits[j] = masked_logit(dot, a.scale, visible);
          }
          for (int x = 0; x < kLanes; ++x) lanes[x] = max_op(logits[x], logits[x + kLanes]);
          const float tile_max = emulate_xor_butterfly(lanes, max_op);
          const RowRescale r = rescale_row(m, tile_max);
          for (int j = 0; j < kBlockK; ++j) probabilities[j] = tile_probability(logits[j], r);
          for (int x = 0; x < kLanes; ++x)
            lanes[x] = sum_op(probabilities[x], probabilities[x + kLanes]);
          const float tile_sum = emulate_xor_butterfly(lanes, sum_op);
          l = update_row_sum(l, r.alpha, tile_sum);
          m = r.m_new;
          for (int j = 0; j < kBlockK; ++j) probabilities[j] = pv_weight(dtype, probabilities[j]);
          for (int c = 0; c < d; ++c) {
            float o = rescale_accumulator(acc[c], r.alpha);
            for (int j = 0; j < valid; ++j) {
              o = pv_step(o, probabilities[j],
                          pv_value(v[static_cast<std::size_t>(key0 + j) * d + c],
                                   key0 + j < visible_end));
            }
            acc[c] = o;
          }
        }
        float* out_row = a.out + (static_cast<long long>(bh) * Lq + row) * d;
        for (int c = 0; c < d; ++c) out_row[c] = finalize_output(acc[c], l, visible_end > 0);
        a.log_sum_exp[static_cast<long long>(bh) * Lq + row] = finalize_log_sum_exp(m, l);
      }
    }
  }
  return KernelStatus::success();
}

int flash_attention_visible_keys(int row, int seqlen_q, int seqlen_k, bool causal) {
  return flash::visible_key_end(row, seqlen_q, seqlen_k, causal);
}

double flash_attention_flops(const FlashAttentionArgs& a) {
  double visible = 0;
  for (int i = 0; i < a.seqlen_q; ++i)
    visible += flash::visible_key_end(i, a.seqlen_q, a.seqlen_k, a.causal);
  return 4.0 * a.head_dim * visible * a.batch_heads;  // Q·Kᵀ and P·V, 2 flops per MAC
}

double flash_attention_bytes(const FlashAttentionArgs& a) {
  const double in =
      dtype_size(a.q_dtype) * static_cast<double>(a.head_dim) * (a.seqlen_q + 2.0 * a.seqlen_k);
  const double out = 4.0 * a.seqlen_q * (a.head_dim + 1.0);
  return (in + out) * a.batch_heads;
}

}  // namespace attncert::gpu
