// Validation of the linear attention kernel (gpu/linear_attention.hpp) or its CPU twin against
// the certified (Arb ball) truth of the inputs as the kernel read them, with a guaranteed and a
// probabilistic bound per element (docs/linear_attention_kernel_bound.md). Feature maps and
// scaling are numerics/feature_maps.hpp's.
//
// Matrix: lengths T ∈ {63, 500, 1000, 2048}; fp32/fp16/bf16; causal and non-causal;
//   identity and relu with the unnormalised read-out (their normalisers can be ≤ 0),
//   elu+1 normalised, head dims {60, 64, 100, 128};
//   Taylor-2 normalised with head dims {7, 16} only (m = 1 + d + d(d+1)/2 features: the ball
//   ground truth costs O(T·m·d); measured at T = 2048: 0.4 s at d = 16 (m = 153), 13–14 s at
//   d = 64 (m = 2145), against 1.3–1.7 s for elu+1 at d = 128). The full matrix (336 cases)
//   took ≈ 200 s on one core with one certified truth per case; there are two now (the inputs as
//   read and the original ones: the input-quantization effect), so about twice that; quick
//   (48 cases) ≈ 5 s of CPU.
// quick: T ∈ {63, 500}, d = 60 (Taylor-2: d = 7), every feature map, dtype and causality.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "gpu/linear_attention.hpp"
#include "proofs_checks/kernel_check.hpp"

namespace attncert {

class Rng;

struct LinearAttentionCase {
  int seqlen = 0;
  int head_dim = 0;
  gpu::DType dtype = gpu::DType::f32;
  gpu::LinearFeature feature = gpu::LinearFeature::elu_plus_one;
  gpu::LinearReadout readout = gpu::LinearReadout::normalised;
  bool causal = true;
  std::uint64_t index = 0;  // position in the full matrix: the case's Rng substream
};

/// The cases `request` selects (its dtype / seqlen_q / head_dim / causal filters, quick).
std::vector<LinearAttentionCase> linear_attention_cases(const KernelCheckRequest& request);

/// One head's exact inputs, drawn in double: q, k, v ~ N(0, 1), T×d row-major; the scale is
/// the float nearest 1/√d (an exact input of the ground truth as well).
struct LinearAttentionProblem {
  int seqlen = 0;
  int head_dim = 0;
  float scale = 1.0f;
  std::vector<double> q, k, v;
};
LinearAttentionProblem make_linear_attention_problem(int seqlen, int head_dim, Rng& rng);

/// Rows [first, first + count) of a problem (for split-and-resume).
LinearAttentionProblem slice_tokens(const LinearAttentionProblem& p, int first, int count);

/// The values rounded to `t` (round to nearest even straight from double, no double rounding),
/// stored as the kernel reads them (fp32 floats or fp16/bf16 bit patterns).
std::vector<unsigned char> to_dtype_buffer(const std::vector<double>& values, gpu::DType t);
/// Element i of such a buffer as a double.
double dtype_buffer_value(const std::vector<unsigned char>& buffer, gpu::DType t, std::size_t i);

/// The certified output (Ball tier, 128 bits) for the exact double inputs: midpoints and radii,
/// T×d. Normalised rows whose normaliser is not certainly > 0 are NaN (none for elu+1 and
/// Taylor-2, whose weights are positive).
struct CertifiedLinearOutput {
  std::vector<double> mid, radius;
  double max_radius = 0;
};
CertifiedLinearOutput certified_linear_attention(const LinearAttentionProblem& p,
                                                 gpu::LinearFeature feature,
                                                 gpu::LinearReadout readout, bool causal);

/// The inputs rounded to `t` as the kernel reads them (round to nearest even), as doubles.
LinearAttentionProblem inputs_as_read(const LinearAttentionProblem& p, gpu::DType t);

/// Per output element (T×d), the bounds on |kernel output − exact output of `read`| for the
/// kernel's algorithm (docs/linear_attention_kernel_bound.md): `guaranteed` holds for every
/// rounding at its worst; `probabilistic` holds with probability ≥ 1 − false_alarm over all T·d
/// elements together if the roundings are independent and mean-zero (error_budget.hpp). +inf
/// where the derivation does not apply (a normalised row whose normaliser is not provably larger
/// than its error).
struct LinearAttentionBounds {
  std::vector<double> guaranteed, probabilistic;
};
/// `read` holds the inputs AS THE KERNEL READ THEM (values of `dtype`; anything else throws
/// std::invalid_argument). `call_lengths`: the sequence processed as successive calls, each
/// resuming from the previous call's final state (causal only; empty: one call). Chunks are
/// `chunk_length` tokens from each call's start (the kernel's 64; another length only for tests
/// that show the bound follows it). Throws std::invalid_argument for a false-alarm probability
/// outside (0, 1) and for accumulation lengths with n·u ≥ 1.
LinearAttentionBounds linear_attention_error_bounds(
    const LinearAttentionProblem& read, gpu::LinearFeature feature, gpu::LinearReadout readout,
    bool causal, gpu::DType dtype, double false_alarm = kDefaultFalseAlarm,
    const std::vector<int>& call_lengths = {}, int chunk_length = gpu::kLinearAttentionChunk);

/// One case: inputs from Rng(seed).substream(c.index).
/// Errors are against the certified truth of the inputs as read; the input-quantization effect
/// (truth of the original inputs vs the read ones) is reported apart.
KernelCheckRow check_linear_attention_case(const LinearAttentionCase& c, std::uint64_t seed,
                                           bool prefer_device,
                                           double false_alarm = kDefaultFalseAlarm);

std::vector<KernelCheckRow> check_linear_attention(
    const KernelCheckRequest& request,
    const std::function<void(std::size_t done, std::size_t total)>& progress = {});

}  // namespace attncert
