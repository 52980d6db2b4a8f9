#include "theory/quantities.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cmath>
#include <stdexcept>

#include "numerics/softmax.hpp"
#include "numerics/softmax_jacobian.hpp"
#include "theory/distance_collapse.hpp"
#include "theory/spectral_quantities.hpp"

namespace attncert {

template <class T>
T tier_max(const T& a, const T& b) {
  return ScalarTraits<T>::max(a, b);
}

template <class T>
T tier_min(const T& a, const T& b) {
  if constexpr (std::is_same_v<T, Ball>) {
    return min(a, b);
  } else {
    return b < a ? b : a;
  }
}

template <class T>
void require_unmasked_logit(const std::vector<T>& logits, std::string_view row) {
  for (const T& e : logits) {
    if (!(ScalarTraits<T>::to_double(e) == -INFINITY)) return;
  }
  throw std::invalid_argument(
      fmt::format("{}: every logit is masked (-inf), so the row has no softmax", row));
}

template <class T>
std::vector<T> instance_logits(const Instance& x, const TierContext<T>& ctx) {
  std::vector<T> l;
  if (x.has_array("logits")) {
    const auto& a = x.array("logits");
    l.reserve(static_cast<std::size_t>(a.size()));
    for (Eigen::Index i = 0; i < a.size(); ++i) l.push_back(ctx.from(a.data()[i]));
    require_unmasked_logit(l, "logits");
    return l;
  }
  if (!x.has_array("q") || !x.has_array("K")) {
    throw std::invalid_argument("instance has neither 'logits' nor 'q' and 'K' arrays");
  }
  const auto& q = x.array("q");
  const auto& K = x.array("K");
  if (q.size() != K.cols()) {
    throw std::invalid_argument(fmt::format("q has {} entries but K has {} columns", q.size(), K.cols()));
  }
  l.reserve(static_cast<std::size_t>(K.rows()));
  for (Eigen::Index j = 0; j < K.rows(); ++j) {
    T s = ctx.from(0.0);
    for (Eigen::Index c = 0; c < K.cols(); ++c) s += ctx.from(q.data()[c]) * ctx.from(K(j, c));
    l.push_back(std::move(s));
  }
  require_unmasked_logit(l, "logits qᵀk_j");
  return l;
}

template <class T>
T instance_temperature(const Instance& x, const TierContext<T>& ctx) {
  return ctx.from(x.has_scalar("T") ? x.scalar("T") : 1.0);
}

template <class T>
T instance_delta(const Instance& x, const TierContext<T>& ctx) {
  if (!x.has_array("q") || !x.has_array("K")) {
    throw std::invalid_argument("Delta needs arrays 'q' and 'K' in the instance");
  }
  using std::sqrt;
  const auto& q = x.array("q");
  const auto& K = x.array("K");
  if (q.size() != K.cols()) {
    throw std::invalid_argument(fmt::format("Delta: q has {} entries but K has {} columns", q.size(), K.cols()));
  }
  T qq = ctx.from(0.0);
  for (Eigen::Index c = 0; c < q.size(); ++c) qq += ctx.from(q.data()[c]) * ctx.from(q.data()[c]);
  T kmax = ctx.from(0.0);
  for (Eigen::Index j = 0; j < K.rows(); ++j) {
    T kk = ctx.from(0.0);
    for (Eigen::Index c = 0; c < K.cols(); ++c) kk += ctx.from(K(j, c)) * ctx.from(K(j, c));
    kmax = tier_max(kmax, kk);
  }
  return T(sqrt(qq * kmax));
}

namespace {

template <class T>
T fold(const std::vector<T>& v, bool want_max) {
  T r = v.front();
  for (const T& e : v) r = want_max ? tier_max(r, e) : tier_min(r, e);
  return r;
}

template <class T>
std::vector<T> unmasked_logits(const Instance& x, const TierContext<T>& ctx) {
  std::vector<T> unmasked;
  for (T& e : instance_logits(x, ctx)) {
    if (!(ScalarTraits<T>::to_double(e) == -INFINITY)) unmasked.push_back(std::move(e));
  }
  return unmasked;
}

template <class T>
T required_scalar(const char* name, const char* meaning, const Instance& x, const TierContext<T>& ctx) {
  if (!x.has_scalar(name)) {
    throw std::invalid_argument(fmt::format("quantity '{}' needs the scalar '{}' ({})", name, name, meaning));
  }
  return ctx.from(x.scalar(name));
}

// One evaluator per row of theory/quantity_list.def, named evaluate_<name>.
template <class T>
T evaluate_alpha_max(const Instance& x, const TierContext<T>& ctx) {
  return fold(softmax<T>(instance_logits(x, ctx), instance_temperature(x, ctx)), true);
}
template <class T>
T evaluate_alpha_min(const Instance& x, const TierContext<T>& ctx) {
  return fold(softmax<T>(instance_logits(x, ctx), instance_temperature(x, ctx)), false);
}
template <class T>
T evaluate_jacobian_norm(const Instance& x, const TierContext<T>& ctx) {
  return softmax_jacobian_norm<T>(instance_logits(x, ctx), instance_temperature(x, ctx));
}
template <class T>
T evaluate_Delta(const Instance& x, const TierContext<T>& ctx) { return instance_delta(x, ctx); }
template <class T>
T evaluate_L(const Instance& x, const TierContext<T>& ctx) {
  if (x.has_scalar("L")) return ctx.from(x.scalar("L"));
  return ctx.from(static_cast<double>(instance_logits(x, TierContext<double>{53}).size()));
}
template <class T>
T evaluate_T(const Instance& x, const TierContext<T>& ctx) { return instance_temperature(x, ctx); }
template <class T>
T evaluate_N(const Instance& x, const TierContext<T>& ctx) {
  return required_scalar("N", "size of the selected set", x, ctx);
}
template <class T>
T evaluate_d(const Instance& x, const TierContext<T>& ctx) {
  return required_scalar("d", "head dimension", x, ctx);
}
template <class T>
T evaluate_m(const Instance& x, const TierContext<T>& ctx) {
  return required_scalar("m", "feature dimension", x, ctx);
}
// Rows whose evaluator is one call of a shared routine.
#define ATTNCERT_EVALUATE_BY(name, call) \
  template <class T>                      \
  T evaluate_##name(const Instance& x, const TierContext<T>& ctx) { return call; }
ATTNCERT_EVALUATE_BY(dtilde_A, instance_dtilde(DtildeReading::A, x, ctx))
ATTNCERT_EVALUATE_BY(dtilde_B, instance_dtilde(DtildeReading::B, x, ctx))
ATTNCERT_EVALUATE_BY(dtilde_C, instance_dtilde(DtildeReading::C, x, ctx))
ATTNCERT_EVALUATE_BY(rank, spectral_quantity(SpectralQuantity::Rank, x, ctx))
ATTNCERT_EVALUATE_BY(sigma_min, spectral_quantity(SpectralQuantity::SigmaMin, x, ctx))
ATTNCERT_EVALUATE_BY(effective_rank, spectral_quantity(SpectralQuantity::EffectiveRank, x, ctx))
ATTNCERT_EVALUATE_BY(stable_rank, spectral_quantity(SpectralQuantity::StableRank, x, ctx))
ATTNCERT_EVALUATE_BY(spectral_gap, spectral_quantity(SpectralQuantity::SpectralGap, x, ctx))
#undef ATTNCERT_EVALUATE_BY
template <class T>
T evaluate_lse(const Instance& x, const TierContext<T>& ctx) {
  return log_sum_exp<T>(instance_logits(x, ctx), instance_temperature(x, ctx));
}
template <class T>
T evaluate_entropy(const Instance& x, const TierContext<T>& ctx) {
  return entropy<T>(instance_logits(x, ctx), instance_temperature(x, ctx));
}
template <class T>
T evaluate_logit_max(const Instance& x, const TierContext<T>& ctx) { return fold(instance_logits(x, ctx), true); }
template <class T>
T evaluate_logit_min(const Instance& x, const TierContext<T>& ctx) { return fold(unmasked_logits(x, ctx), false); }
template <class T>
T evaluate_logit_range(const Instance& x, const TierContext<T>& ctx) {
  const std::vector<T> l = unmasked_logits(x, ctx);
  return fold(l, true) - fold(l, false);
}

template <class T>
using Evaluator = T (*)(const Instance&, const TierContext<T>&);

// The evaluator of `name` in tier T, or nullptr when the list gives the name none in T.
template <class T>
Evaluator<T> evaluator(std::string_view name) {
#define ATTNCERT_EVALUATOR_AllTiers(n) \
  if (name == #n) return &evaluate_##n<T>;
#define ATTNCERT_EVALUATOR_NoMp(n)                               \
  if (name == #n) {                                             \
    if constexpr (std::is_same_v<T, Mp>) return nullptr;         \
    else return &evaluate_##n<T>;                                \
  }
#define ATTNCERT_EVALUATOR_NoTier(n)
#define ATTNCERT_QUANTITY(n, kind, minimum, open, tiers, description) ATTNCERT_EVALUATOR_##tiers(n)
#include "theory/quantity_list.def"
#undef ATTNCERT_QUANTITY
#undef ATTNCERT_EVALUATOR_AllTiers
#undef ATTNCERT_EVALUATOR_NoMp
#undef ATTNCERT_EVALUATOR_NoTier
  return nullptr;
}

}  // namespace

template <class T>
T quantity(std::string_view name, const Instance& x, const TierContext<T>& ctx) {
  if (const Evaluator<T> f = evaluator<T>(name)) return f(x, ctx);
  const Quantity* q = default_quantities().find(name);
  if (q != nullptr && q->tiers != QuantityTiers::NoTier) {
    throw std::invalid_argument(fmt::format("quantity '{}' has no {} evaluator (double and Ball only)",
                                            name, ScalarTraits<T>::name));
  }
  throw std::invalid_argument(fmt::format(
      "{} '{}' is not a computable quantity (known: {})", q ? to_string(q->kind) : "unknown name",
      name, fmt::join(computable_quantities(), ", ")));
}

std::vector<std::string> computable_quantities() {
  std::vector<std::string> r;
  for (const Quantity& q : default_quantities().quantities()) {
    if (q.tiers != QuantityTiers::NoTier) r.push_back(q.name);
  }
  return r;
}

#define ATTNCERT_INSTANTIATE_QUANTITIES(T)                                               \
  template T tier_max<T>(const T&, const T&);                                           \
  template T tier_min<T>(const T&, const T&);                                           \
  template std::vector<T> instance_logits<T>(const Instance&, const TierContext<T>&);   \
  template void require_unmasked_logit<T>(const std::vector<T>&, std::string_view);     \
  template T instance_temperature<T>(const Instance&, const TierContext<T>&);           \
  template T instance_delta<T>(const Instance&, const TierContext<T>&);                 \
  template T quantity<T>(std::string_view, const Instance&, const TierContext<T>&);
ATTNCERT_INSTANTIATE_QUANTITIES(double)
ATTNCERT_INSTANTIATE_QUANTITIES(Mp)
ATTNCERT_INSTANTIATE_QUANTITIES(Ball)
#undef ATTNCERT_INSTANTIATE_QUANTITIES

}  // namespace attncert
