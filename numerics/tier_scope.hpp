// TierScope<T>: the precision scope a tier's computation runs in. Mp's precision is scoped,
// not per object (docs/design-decisions.md), so an Mp computation opens an MpPrecision at the
// largest precision among its inputs; float and double have a fixed precision and Ball carries
// its own, so for them the scope is empty and its inputs are not even looked at.
//
// An input is an Mp, a range of Mp (span, vector), an Eigen matrix of Mp, a pointer or optional
// to one of those (null or empty adds nothing), or a long: an explicit precision in bits.
#pragma once

#include <algorithm>
#include <optional>
#include <ranges>

#include "numerics/mp.hpp"
#include "numerics/precision.hpp"
#include "numerics/scalar_traits.hpp"

namespace attncert {

namespace tier_scope_detail {

template <class M>
concept MatrixLike = requires(const M& m) {
  m.rows();
  m.cols();
  m(0, 0);
};

// Declared first so that each overload sees all the others (two-phase lookup).
inline long input_bits(long explicit_bits) { return explicit_bits; }
inline long input_bits(const Mp& x) { return mp_bits(x); }
template <class Input>
long input_bits(const Input* input);
template <class Input>
long input_bits(const std::optional<Input>& input);
template <MatrixLike M>
long input_bits(const M& m);
template <std::ranges::range R>
  requires(!MatrixLike<R>)
long input_bits(const R& values);

template <class Input>
long input_bits(const Input* input) {
  return input != nullptr ? input_bits(*input) : kMinPrecisionBits;
}
template <class Input>
long input_bits(const std::optional<Input>& input) {
  return input ? input_bits(*input) : kMinPrecisionBits;
}
template <MatrixLike M>
long input_bits(const M& m) {
  long bits = kMinPrecisionBits;
  for (decltype(m.rows()) i = 0; i < m.rows(); ++i)
    for (decltype(m.cols()) j = 0; j < m.cols(); ++j) bits = std::max(bits, input_bits(m(i, j)));
  return bits;
}
template <std::ranges::range R>
  requires(!MatrixLike<R>)
long input_bits(const R& values) {
  long bits = kMinPrecisionBits;
  for (const auto& x : values) bits = std::max(bits, input_bits(x));
  return bits;
}

}  // namespace tier_scope_detail

/// The precision (bits) of tier T's scope for these inputs: the largest among them, at least
/// kMinPrecisionBits. Tiers without a scoped precision get kMinPrecisionBits.
template <class T, class... Inputs>
long scoped_precision_bits(const Inputs&... inputs) {
  long bits = kMinPrecisionBits;
  if constexpr (ScalarTraits<T>::has_scoped_precision) {
    ((bits = std::max(bits, tier_scope_detail::input_bits(inputs))), ...);
  }
  return bits;
}

/// Empty for tiers that carry their precision.
template <class T>
class TierScope {
 public:
  template <class... Inputs>
  explicit TierScope(const Inputs&... /*inputs*/) {}
};

/// MpPrecision at scoped_precision_bits<Mp>(inputs...) until the end of the scope.
template <>
class TierScope<Mp> {
 public:
  template <class... Inputs>
  explicit TierScope(const Inputs&... inputs) : guard_(scoped_precision_bits<Mp>(inputs...)) {}

 private:
  MpPrecision guard_;
};

}  // namespace attncert
