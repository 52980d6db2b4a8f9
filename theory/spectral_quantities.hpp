// Rank and spectral quantities of an instance's self-attention matrix
//   P = softmax(Z Zᵀ / (√d · T)) row-wise,  Z = X if the instance has it, else K,
// for the names sigma_min, rank, effective_rank, stable_rank, spectral_gap.
// double: dense SVD / eigenvalues. Ball: certified (a-posteriori SVD; rank as the ball
// [certified lower bound, L] which contains the true rank). Mp: reference SVD.
#pragma once

#include <optional>
#include <string_view>

#include "theory/claim.hpp"

namespace attncert {

/// The value of `name` if it is one of the spectral quantities, else nullopt.
template <class T>
std::optional<T> spectral_quantity(std::string_view name, const Instance& x, const TierContext<T>& ctx);

}  // namespace attncert
