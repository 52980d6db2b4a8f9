// The evaluators of the named quantities that claims, user conjectures and `eval` talk about
// (the names, kinds and descriptions: theory/quantity_registry.hpp, from the one list
// theory/quantity_list.def), computed from an instance in any tier.
//
// Where the logits come from: an instance either has an array `logits` (1×L) directly, or
// arrays `q` (1×d) and `K` (L×d) with l_j = qᵀk_j (paper A's setting; Delta = ‖q‖₂·max_j‖k_j‖₂
// needs this form). T is the scalar `T` (1 when absent).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "theory/claim.hpp"
#include "theory/quantity_registry.hpp"

namespace attncert {

/// The names quantity() computes (rows of theory/quantity_list.def with an evaluator), in
/// the list's order.
std::vector<std::string> computable_quantities();

/// Throws std::invalid_argument when every logit is masked (-inf).
template <class T>
std::vector<T> instance_logits(const Instance& x, const TierContext<T>& ctx);

/// Throws std::invalid_argument("ROW: every logit is masked ...") when every entry of `logits`
/// is -inf: such a row has no softmax (nor entropy, log-sum-exp or maximum), so a quantity of
/// it is an input error, not the numerics layer's masked-row convention (zeros).
template <class T>
void require_unmasked_logit(const std::vector<T>& logits, std::string_view row);

template <class T>
T instance_temperature(const Instance& x, const TierContext<T>& ctx);

/// ‖q‖₂ · max_j ‖k_j‖₂. Throws std::invalid_argument when the instance has no q and K.
template <class T>
T instance_delta(const Instance& x, const TierContext<T>& ctx);

/// A named quantity of default_quantities() computed from `x` by its evaluator in tier T;
/// parameters (L, T, N, d, m) read the instance's scalars (L defaults to the number of
/// logits, T to 1). Throws std::invalid_argument for a name without an evaluator in T or
/// missing data.
template <class T>
T quantity(std::string_view name, const Instance& x, const TierContext<T>& ctx);

/// max/min that work in every tier (Ball: enclosure of the max; others: plain comparison).
template <class T>
T tier_max(const T& a, const T& b);
template <class T>
T tier_min(const T& a, const T& b);

}  // namespace attncert
