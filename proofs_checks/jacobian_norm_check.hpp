// Validation of the jacobian_norm kernel (or its CPU twin) against the certified ‖J‖₂ (Ball
// secular method of numerics/softmax_jacobian) of the logits AS THE KERNEL READ THEM (dtype
// values), with the per-row bound derived in jacobian_norm_check.cpp and
// docs/jacobian_norm_kernel_bound.md. One KernelCheckRow per (dtype, L, variant, T); the
// effect of rounding the original logits to the dtype is enclosed in input_quantization_*.
//
// Error norm, per row r: e_r = |N̂_r − N_r|/(N_r + ν_r), ν_r = (1 + ρ_r)τ_r/ρ_r, so that e_r ≤ ρ_r
// ⟺ |N̂ − N| ≤ ρ_r·N + (1 + ρ_r)·τ_r (rigorously: |N̂ − mid| + rad against the enclosure's lower
// end). bound = max_r ρ_r; ratio = max_r e_r/ρ_r; the same with the probabilistic ρ.
#pragma once

#include <cstddef>
#include <functional>
#include <span>
#include <vector>

#include "gpu/dtype.hpp"
#include "gpu/jacobian_norm.hpp"
#include "proofs_checks/kernel_check.hpp"

namespace attncert {

/// The data-dependent bound of one row against the certified truth of the logits AS THE KERNEL
/// READ THEM (derivation (J1)–(J8) in jacobian_norm_check.cpp and
/// docs/jacobian_norm_kernel_bound.md): |N̂ − N| ≤ rho·N + (1 + rho)·tau, and with probability
/// ≥ 1 − δ (independent mean-zero roundings) the same with rho_probabilistic.
struct JacobianNormRowBound {
  double rho = 0;                // guaranteed relative part
  double rho_probabilistic = 0;  // probabilistic relative part (≤ rho)
  double tau = 0;                // absolute part: mass of the weights below the e^−69 floor
  double solver_part = 0;        // log-error of the root solver (systematic)
  double systematic_part = 0;    // all systematic terms (exp, solver, fallback spread)
  double linear_part = 0;        // Σ c_k u_k of the rounding events (log scale)
  double linear_rms = 0;         // √Σ (c_k u_k)²
  double remainder_part = 0;     // second-order terms
  bool ambiguous_floor = false;  // an entry lies within rounding of the floor
  bool weights_by_spread = false;  // (J6) route B (Fact 1's spread Δ) was needed
};

/// `logits`: one row as the kernel read it (dtype values as doubles, −inf masked);
/// `truth_mid/rad/lower`: its certified ‖J‖₂; lambda_fa = probabilistic_lambda(δ, m).
/// `geometry`: the kernel's reduction and solver constants (any other only for tests that show
/// the bound follows them).
JacobianNormRowBound jacobian_norm_row_bound(
    std::span<const double> logits, float temperature, double truth_mid, double truth_rad,
    double truth_lower, double lambda_fa,
    const gpu::JacobianNormGeometry& geometry = gpu::kJacobianNormGeometry);

/// The shape matrix: dtype ∈ {fp32, fp16, bf16}, L ∈ {1, 2, 3, 64, 1000, 4096},
/// T ∈ {0.01, 0.1, 1, 10, 100}, variants random / masked (incl. a fully masked row and a single
/// unmasked entry) / logits<=-5e4 / tied-max (incl. all-equal and two-equal rows).
/// request.dtype and request.seqlen_k (as L) filter; request.quick drops L = 4096 and uses
/// fewer rows.
std::vector<KernelCheckRow> check_jacobian_norm(
    const KernelCheckRequest& request,
    const std::function<void(std::size_t done, std::size_t total)>& progress = {});

}  // namespace attncert
