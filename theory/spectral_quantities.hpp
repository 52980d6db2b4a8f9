// Rank and spectral quantities of an instance's self-attention matrix
//   P = softmax(Z Zᵀ / (√d · T)) row-wise,  Z = X if the instance has it, else K,
// for the names sigma_min, rank, effective_rank, stable_rank, spectral_gap.
// double: dense SVD / eigenvalues. Ball: certified (a-posteriori SVD; rank as the ball
// [certified lower bound, L] which contains the true rank). Mp: reference SVD (sigma_min only).
#pragma once

#include "theory/claim.hpp"

namespace attncert {

enum class SpectralQuantity { SigmaMin, Rank, EffectiveRank, StableRank, SpectralGap };

/// The largest work L⁴·bits^1.5 a spectral quantity is computed for in Mp or Ball. Measured
/// here (2 shared cores): L = 3 at 65536 bits (work 1.4e9) takes 1 s, L = 16 at 4096 bits
/// (1.7e10) 18 s, L = 3 at 10⁶ bits (8.1e10) 40 s; L = 64 at 4096 bits (4.4e12) over an hour.
/// Above the cap the call throws std::domain_error naming it at once (eval: exit 4; the
/// certifier: that precision is inconclusive) instead of running for minutes.
inline constexpr double kMaxSpectralWork = 2e10;

/// Throws std::invalid_argument for a tier without that quantity (Mp: sigma_min only),
/// std::domain_error for work above kMaxSpectralWork.
template <class T>
T spectral_quantity(SpectralQuantity which, const Instance& x, const TierContext<T>& ctx);

}  // namespace attncert
