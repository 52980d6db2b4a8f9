// Argument checks and the CPU twin of the linear attention kernel: the stage functions of
// linear_attention_tile.cuh (the kernel's thread bodies) in plain loops, stage after stage.
// Every element is one thread's fma chain on the device, so the loop order over elements here
// does not matter for the bits; only the order inside each chain does, and that is shared code.
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "gpu/linear_attention.hpp"
#include "gpu/linear_attention_tile.cuh"

namespace attncert::gpu {

std::string_view linear_feature_name(LinearFeature f) {
  switch (f) {
    case LinearFeature::identity: return "identity";
    case LinearFeature::relu: return "relu";
    case LinearFeature::elu_plus_one: return "elu+1";
    case LinearFeature::taylor2: return "taylor2";
  }
  return "?";
}

long long linear_feature_dim(LinearFeature f, int head_dim) {
  return linear_tile::feature_dim(static_cast<int>(f), head_dim);
}

long long linear_state_elements(LinearFeature f, int head_dim) {
  return linear_feature_dim(f, head_dim) * (head_dim + 1LL);
}

namespace {

KernelStatus fail(KernelStatusCode code, std::string message) {
  return KernelStatus::failure(code, "linear_attention: " + std::move(message));
}

bool aligned(const void* p, std::size_t alignment) {
  return reinterpret_cast<std::uintptr_t>(p) % alignment == 0;
}

}  // namespace

KernelStatus can_run(const LinearAttentionArgs& a) {
  using C = KernelStatusCode;
  if (a.batch_heads < 1)
    return fail(C::empty_input, "batch_heads = " + std::to_string(a.batch_heads) + ", must be >= 1");
  if (a.seqlen < 1)
    return fail(C::empty_input, "seqlen = " + std::to_string(a.seqlen) + ", must be >= 1");
  if (a.batch_heads > kLinearAttentionMaxBatchHeads)
    return fail(C::unsupported_shape, "batch_heads = " + std::to_string(a.batch_heads) +
                                          " exceeds the supported maximum 65535 (grid.y)");
  if (a.seqlen > kLinearAttentionMaxSeqlen)
    return fail(C::unsupported_shape, "seqlen = " + std::to_string(a.seqlen) +
                                          " exceeds the supported maximum 2^24");
  if (!dtype_is_valid(a.q_dtype) || !dtype_is_valid(a.k_dtype) || !dtype_is_valid(a.v_dtype))
    return fail(C::invalid_argument, "a dtype is not one of fp32, fp16, bf16");
  const int f = static_cast<int>(a.feature);
  if (f < 0 || f > linear_tile::kTaylor2)
    return fail(C::invalid_argument, "unknown feature map code " + std::to_string(f) +
                                         "; admissible: identity, relu, elu+1, taylor2");
  const int r = static_cast<int>(a.readout);
  if (r < 0 || r > 1)
    return fail(C::invalid_argument, "unknown read-out code " + std::to_string(r) +
                                         "; admissible: unnormalised, normalised");
  const int max_d = a.feature == LinearFeature::taylor2 ? kLinearAttentionMaxTaylor2HeadDim
                                                        : kLinearAttentionMaxHeadDim;
  if (a.head_dim < 1 || a.head_dim > max_d)
    return fail(C::unsupported_shape,
                "head_dim = " + std::to_string(a.head_dim) + " unsupported for feature map " +
                    std::string(linear_feature_name(a.feature)) + "; admissible: 1.." +
                    std::to_string(max_d));
  if (a.k_dtype != a.q_dtype || a.v_dtype != a.q_dtype)
    return fail(C::dtype_mismatch, "dtype mismatch: q is " + std::string(dtype_name(a.q_dtype)) +
                                       ", k is " + std::string(dtype_name(a.k_dtype)) + ", v is " +
                                       std::string(dtype_name(a.v_dtype)) +
                                       "; q, k, v must share one dtype");
  if (!std::isfinite(a.scale) || !(a.scale > 0.0f))
    return fail(C::invalid_argument, "scale = " + std::to_string(a.scale) +
                                         " is not a finite number > 0");
  const struct {
    const void* p;
    const char* name;
  } required[] = {{a.q, "q"}, {a.k, "k"}, {a.v, "v"}, {a.out, "out"}};
  for (const auto& [p, name] : required)
    if (p == nullptr) return fail(C::null_pointer, std::string("null pointer for ") + name);
  const auto element = static_cast<std::size_t>(dtype_size(a.q_dtype));
  for (const auto& [p, name] : required)
    if (!aligned(p, element))
      return fail(C::misaligned_pointer, std::string(name) + " is not aligned to its " +
                                             std::to_string(element) + "-byte elements");
  const struct {
    const void* p;
    const char* name;
    std::size_t alignment;
  } optional[] = {{a.initial_state, "initial_state", 4},
                  {a.final_state, "final_state", 4},
                  {a.normaliser, "normaliser", 4},
                  {a.rows_not_normalised, "rows_not_normalised", 8}};
  for (const auto& [p, name, alignment] : optional)
    if (p != nullptr && !aligned(p, alignment))
      return fail(C::misaligned_pointer, std::string(name) + " is not aligned to " +
                                             std::to_string(alignment) + " bytes");
  return KernelStatus::success();
}

KernelStatus linear_attention_twin(const LinearAttentionArgs& args) {
  KernelStatus status = can_run(args);
  if (!status.ok()) return status;
  namespace lt = linear_tile;
  const lt::CallView c = lt::call_view(args);
  const long long T = c.T, m = c.l.m, w = c.l.w;
  // The per-head workspace (features and chunk states) can reach ~1e11 floats within can_run's
  // limits; refuse above 2^32 floats (16 GiB) instead of letting an allocation fail.
  if (c.l.per_head > (1LL << 32))
    return KernelStatus::failure(KernelStatusCode::unsupported_shape,
                                 "the twin's workspace would need " + std::to_string(c.l.per_head) +
                                     " floats per head; the limit is 2^32");
  std::vector<float> scratch(static_cast<std::size_t>(c.l.per_head));  // one head at a time
  float* ws = scratch.data();
  long long rows_not_normalised = 0;
  for (long long h = 0; h < args.batch_heads; ++h) {
    for (long long idx = 0; idx < T * m; ++idx) lt::stage_features(c, h, ws, idx);
    for (long long chunk = 0; chunk < c.l.chunks; ++chunk)
      for (long long s = 0; s < m * w; ++s) lt::stage_chunk_state(c, h, ws, chunk, s);
    for (long long s = 0; s < m * w; ++s) lt::stage_scan(c, h, ws, s);
    if (c.causal)
      for (long long idx = 0; idx < T * lt::kChunk; ++idx) lt::stage_score(c, h, ws, idx);
    for (long long idx = 0; idx < T * w; ++idx) lt::stage_readout(c, h, ws, idx);
    for (long long idx = 0; idx < T * c.d; ++idx)
      if (lt::stage_finish(c, h, ws, idx)) ++rows_not_normalised;
  }
  if (args.rows_not_normalised) *args.rows_not_normalised = rows_not_normalised;
  return status;
}

double linear_attention_flops(const LinearAttentionArgs& a) {
  const double T = a.seqlen, d = a.head_dim, w = d + 1;
  const double m = static_cast<double>(linear_feature_dim(a.feature, a.head_dim));
  const double chunks = std::ceil(T / linear_tile::kChunk);
  // Σ_i (i − chunk_begin + 1): the causal pairs inside chunks.
  double pairs = 0;
  for (long long c = 0; c < static_cast<long long>(chunks); ++c) {
    const double n = std::min<double>(linear_tile::kChunk, T - c * linear_tile::kChunk);
    pairs += n * (n + 1) / 2;
  }
  double per_head = 2 * T * m * w      // chunk states
                    + chunks * m * w   // scan
                    + 2 * T * m * w;   // read-out against the state
  if (a.causal) per_head += 2 * pairs * m + 2 * pairs * w;  // scores, intra-chunk read-out
  return per_head * a.batch_heads;
}

double linear_attention_min_bytes(const LinearAttentionArgs& a) {
  const double T = a.seqlen, d = a.head_dim;
  const double state = static_cast<double>(linear_state_elements(a.feature, a.head_dim)) * 4;
  double per_head = 4 * T * d * dtype_size(a.q_dtype);  // q, k, v in, o out
  if (a.initial_state) per_head += state;
  if (a.final_state) per_head += state;
  return per_head * a.batch_heads;
}

long long linear_attention_workspace_bytes(const LinearAttentionArgs& a) {
  const linear_tile::WorkspaceLayout l =
      linear_tile::workspace_layout(static_cast<int>(a.feature), a.seqlen, a.head_dim);
  return l.per_head * static_cast<long long>(a.batch_heads) * 4 + 8;  // + the row counter
}

}  // namespace attncert::gpu
