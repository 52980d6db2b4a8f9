// The fast enclosure tier: softmax attention as a double midpoint plus a certified radius.
//
// For exact inputs Q, K, V (doubles — so fp32/fp16/bf16 values exactly), every printed
// interval [mid − rad, mid + rad] contains the exact O and log-sum-exp of the exact inputs,
// as Ball's do, at the cost of a few double matrix products (BLAS, blas.hpp) instead of Arb
// balls. Conventions (scale, temperature, key visibility, softcap, additive −inf mask, GQA,
// fully masked rows giving O = 0 and lse = −inf exactly) are softmax_attention.hpp's.
//
// It is a verdict-capable tier: the radius is an a-priori bound on every rounding the double
// computation made (γ-bounds for the products, the proven error of bounded_exp, underflow
// terms), evaluated so that its own rounding can only enlarge it; the derivation is at the top
// of midpoint_radius_attention.cpp.
//
// Rows the double pass cannot enclose (a logit or |Q||K|ᵀ entry or an output beyond double's
// range, or a logit error bound above 1/16 on a key whose weight does not certainly underflow;
// keys masked by a large finite value such as PyTorch's finfo.min stay on the fast path) are
// recomputed in Arb balls at `fallback_precision_bits` automatically; a caller whose question
// the radius is too wide for (a kernel error below it) recomputes the rows it names with
// refine_rows_in_balls. Each row records which tier gave it.
//
// Windows: a block of query rows computes only the keys its rows see, so sliding-window
// attention costs O(Lq·window·d). Softcap: the logit pass is scalar with one bounded_exp per
// key (tanh with a proven error, derivation step (3b)); the cap adds ≈ 2u·|logit| + C·6u to each
// logit's error bound (C·6u only for |logit| > C·2⁻¹⁶), and rows whose uncapped logits are so
// large that their error bound exceeds 1/16 go to balls although the cap flattens them.
//
// Cost and width (bench/midpoint_radius_attention_bench.cpp): about 3× softmax_attention<double>
// and ~100× faster than softmax_attention<Ball> at (4096, 4096, 128); largest radius / max|O|
// about 3e-13 there for N(0,1) inputs (it grows slowly with Lk as max|O| shrinks).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "numerics/key_visibility.hpp"
#include "numerics/tensor_view.hpp"

namespace attncert {

struct MidpointRadiusOptions {
  /// Multiplies Q Kᵀ, taken as exact; empty = the exact 1/√d (its enclosure enters the radius).
  std::optional<double> scale;
  /// Temperature, exact, must be > 0 and finite.
  double temperature = 1.0;
  /// Which keys each query row sees (key_visibility.hpp); default all.
  KeyVisibility keys;
  /// Logit soft-capping C·tanh(s/C) before the mask (softmax_attention.hpp); empty = none.
  /// C must be finite and > 0 (exact).
  std::optional<double> softcap;
  /// Optional additive Lq×Lk mask of exact doubles (−inf = masked), shared by every head.
  std::optional<ConstMatrixView<double>> mask;
  /// Arb working precision for the rows recomputed in balls.
  long fallback_precision_bits = 128;
};

/// Which tier enclosed a row.
enum class RowTier : std::uint8_t {
  Double,          ///< the fast double pass
  Masked,          ///< no visible key: O = 0 and lse = −inf exactly
  BallOutOfRange,  ///< Arb, because the double pass could not enclose it (e.g. logit overflow)
  BallRefined,     ///< Arb, because the caller asked (refine_rows_in_balls)
};

struct AttentionEnclosure {
  std::array<std::ptrdiff_t, 4> shape{};       ///< (B, H, Lq, dv) of the output
  std::vector<double> output_mid, output_rad;  ///< contiguous row-major (B, H, Lq, dv)
  std::vector<double> lse_mid, lse_rad;        ///< (B, H, Lq); masked rows: −inf and 0
  std::vector<RowTier> row_tier;               ///< (B, H, Lq)

  /// Flat row index of (batch b, head h, query i), as used by row_tier and lse_*.
  std::size_t row_index(std::ptrdiff_t b, std::ptrdiff_t h, std::ptrdiff_t i) const {
    return static_cast<std::size_t>((b * shape[1] + h) * shape[2] + i);
  }
  /// How many rows each tier gave.
  std::size_t count(RowTier tier) const;
  /// max over visible rows of max_c output_rad / max |output_mid| (0 if every row is masked).
  double largest_relative_radius() const;
};

/// Multi-head: Q (B, H, Lq, d), K (B, Hkv, Lk, d), V (B, Hkv, Lk, dv), Hkv dividing H, any
/// strides. Throws as softmax_attention<double> does for bad shapes or non-finite inputs.
AttentionEnclosure midpoint_radius_attention(const Tensor4View<const double>& Q,
                                             const Tensor4View<const double>& K,
                                             const Tensor4View<const double>& V,
                                             const MidpointRadiusOptions& options = {});

/// Single head on row-major matrices.
AttentionEnclosure midpoint_radius_attention(const RowMatrix<double>& Q, const RowMatrix<double>& K,
                                             const RowMatrix<double>& V,
                                             const MidpointRadiusOptions& options = {});

/// Recomputes the named rows (flat indices, AttentionEnclosure::row_index) in Arb balls at
/// options.fallback_precision_bits and stores each ball's midpoint and radius (rounded
/// outward to double; a ball that is not finite becomes [0 ± inf]) with RowTier::BallRefined.
/// Masked rows are left as they are. Same inputs and options as the call that produced
/// `enclosure`. Throws std::invalid_argument for a row index outside the enclosure.
void refine_rows_in_balls(const Tensor4View<const double>& Q, const Tensor4View<const double>& K,
                          const Tensor4View<const double>& V, const MidpointRadiusOptions& options,
                          std::span<const std::size_t> rows, AttentionEnclosure& enclosure);

}  // namespace attncert
