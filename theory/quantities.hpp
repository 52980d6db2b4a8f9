// The named quantities that claims and user conjectures talk about, computed from an instance
// in any tier: logits, α, alpha_max/min, Delta, lse, entropy, jacobian_norm, …
//
// Where the logits come from: an instance either has an array `logits` (1×L) directly, or
// arrays `q` (1×d) and `K` (L×d) with l_j = qᵀk_j (paper A's setting; Delta = ‖q‖₂·max_j‖k_j‖₂
// needs this form). T is the scalar `T` (1 when absent).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "theory/claim.hpp"

namespace attncert {

/// Names quantity() understands, with one-line descriptions (for errors and README).
struct QuantityInfo {
  std::string_view name;
  std::string_view description;
};
const std::vector<QuantityInfo>& known_quantities();

template <class T>
std::vector<T> instance_logits(const Instance& x, const TierContext<T>& ctx);

template <class T>
T instance_temperature(const Instance& x, const TierContext<T>& ctx);

/// ‖q‖₂ · max_j ‖k_j‖₂. Throws std::invalid_argument when the instance has no q and K.
template <class T>
T instance_delta(const Instance& x, const TierContext<T>& ctx);

/// A named quantity (see known_quantities()); scalars of the instance (L, T, N, d, …) are
/// quantities too. Throws std::invalid_argument for an unknown name or missing data.
template <class T>
T quantity(std::string_view name, const Instance& x, const TierContext<T>& ctx);

/// max/min that work in every tier (Ball: enclosure of the max; others: plain comparison).
template <class T>
T tier_max(const T& a, const T& b);
template <class T>
T tier_min(const T& a, const T& b);

}  // namespace attncert
