// Batched softmax-Jacobian spectral norm: out[r, t] = ‖J‖₂ = λ_max(diag α − ααᵀ)/T_t with
// α = softmax(logits[r, :]/T_t), for R rows of L logits (fp32, fp16 or bf16; −inf = masked) and a
// list of temperatures. One warp per (row, temperature); the secular-equation method of
// numerics/softmax_jacobian.hpp in fp32 with warp-shuffle reductions (gpu/jacobian_norm_tile.cuh).
// The CPU twin runs the same per-warp code with the shuffle tree emulated, bit for bit.
//
// Conventions (as numerics/softmax_jacobian.hpp): a fully masked row, or a row with a single
// unmasked logit, gives exactly 0; a tied largest logit gives λ_max = top weight exactly (two
// equal logits: 1/(2T) correctly rounded); a NaN or +inf logit gives NaN for that row (the data
// is not scanned on the host). Output is fp32, row-major [R, n_T]. No CUDA headers here.
#pragma once

#include "gpu/dtype.hpp"
#include "gpu/host_device.hpp"
#include "gpu/kernel_status.hpp"

namespace attncert::gpu {

/// The kernel's reduction and solver constants, as far as its per-row error bound
/// (proofs_checks/jacobian_norm_check.cpp) depends on them. gpu/jacobian_norm_tile.cuh builds the
/// kernel and its twin from kJacobianNormGeometry, so changing one changes the proof as well.
struct JacobianNormGeometry {
  int warp_size;  // lanes (a power of two): lane x sums elements x, x + warp_size, …, then a
                  // xor-butterfly combines the lanes
  /// Weights whose exponent x̂ = (l − max)/T is below this are set to 0 (e^−69 ≈ 2^−99.5): keeps
  /// every positive weight ≥ 2^−100, so no product in the solver underflows far enough to spoil
  /// its relative error analysis; the dropped mass is an absolute error term of the bound.
  float weight_floor_exponent;
  /// Bracket exit: hi − lo ≤ width·lo (exact test: hi − lo is exact by Sterbenz, the scaling too).
  float bracket_exit_width;
  /// Noise exit: the solver stops when |Ĥ| ≤ noise_factor·K·u·Â (K: secular_noise_k).
  int noise_factor;
};
inline constexpr JacobianNormGeometry kJacobianNormGeometry{32, -69.0f, 0x1p-22f, 2};

/// Summation depth of a warp sum over `length` elements: ⌈L/w⌉ − 1 sequential additions per
/// lane (the first one, 0 + t, is exact) plus log₂ w tree levels.
ATTNCERT_HOST_DEVICE constexpr int jacobian_norm_sum_depth(long long length, int warp_size) {
  int levels = 0;
  for (int offset = warp_size / 2; offset > 0; offset /= 2) ++levels;
  return static_cast<int>((length + warp_size - 1) / warp_size) - 1 + levels;
}

/// K of the evaluation-error bound |Ĥ − H| ≤ γ_K·(|p1| + |p2| + (a−λ)(λ−b)·Σ|t_i|):
/// depth + 3 roundings per term + 5 in the products and sums + 1 for subnormal products
/// (derivation in proofs_checks/jacobian_norm_check.cpp).
ATTNCERT_HOST_DEVICE constexpr int jacobian_norm_secular_noise_k(long long length,
                                                                 int warp_size) {
  return jacobian_norm_sum_depth(length, warp_size) + 9;
}

/// Longest row: the kernel keeps a row's weights in shared memory, ≤ 48 KB per block without
/// opt-in (one warp per block at this length).
// (Plain pointers + counts, not std::span: nvcc compiles the .cu that includes this as C++17.)
inline constexpr long long kJacobianNormMaxLength = 12288;
/// Most temperatures per launch: they travel by value in the kernel's parameters.
inline constexpr int kJacobianNormMaxTemperatures = 64;
/// Admissible temperatures: finite, in [1e-30, 1e30] (keeps S·T and λ/(S·T) normal in fp32).
inline constexpr float kJacobianNormMinTemperature = 1e-30f;
inline constexpr float kJacobianNormMaxTemperature = 1e30f;

struct JacobianNormArgs {
  DType dtype = DType::f32;          // of `logits`
  const void* logits = nullptr;      // [rows, length]: floats (f32) or 16-bit patterns (f16/bf16)
  long long rows = 0;
  long long length = 0;
  const float* temperatures = nullptr;  // always a HOST array (copied into the launch)
  int num_temperatures = 0;
  float* out = nullptr;              // [rows, temperatures.size()] fp32
};

/// Checks everything that can be checked without reading the data: shape, pointers (non-null,
/// aligned to the element size), temperatures. One-line message naming the problem.
KernelStatus can_run_jacobian_norm(const JacobianNormArgs& args);

/// CPU twin on host pointers: bit-identical to the kernel.
KernelStatus jacobian_norm_twin(const JacobianNormArgs& args);

/// Host pointers: allocate, copy, launch, copy back. no_device when there is no usable GPU.
KernelStatus run_jacobian_norm_on_device(const JacobianNormArgs& args);

/// Device pointers (logits and out on the device; temperatures still a host array): launch only
/// on `stream` (a cudaStream_t, or nullptr for the default stream).
KernelStatus launch_jacobian_norm(const JacobianNormArgs& device_args, void* stream = nullptr);

/// Host pointers: copies to the device once, times `repeats` launches with CUDA events, writes
/// the mean milliseconds per launch to *milliseconds (and the result to args.out).
KernelStatus time_jacobian_norm_on_device(const JacobianNormArgs& args, int repeats,
                                          double* milliseconds);

/// The CPU twin's per-row detail (exit reason, iteration count) for one (row, temperature):
/// lets tests show the solver's iteration cap is never what stops it.
struct JacobianNormTwinTrace {
  float norm = 0;
  int solver_exit = 0;   // jacobian_norm_tile::SolverExit as int: 1 trivial, 2 noise, 3 bracket, 4 cap
  int iterations = 0;
};
JacobianNormTwinTrace jacobian_norm_twin_trace(DType dtype, const void* row, long long length,
                                               float temperature);

}  // namespace attncert::gpu
