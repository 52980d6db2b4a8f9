#include "theory/quantities.hpp"

#include <fmt/format.h>

#include <cmath>
#include <stdexcept>

#include "numerics/softmax.hpp"
#include "numerics/softmax_jacobian.hpp"
#include "theory/distance_collapse.hpp"
#include "theory/spectral_quantities.hpp"

namespace attncert {

const std::vector<QuantityInfo>& known_quantities() {
  static const std::vector<QuantityInfo> q = {
      {"alpha_max", "largest softmax weight max_i α_i, α = softmax(l/T)"},
      {"alpha_min", "smallest softmax weight min_i α_i"},
      {"lse", "log-sum-exp log Σ_j exp(l_j/T)"},
      {"entropy", "Shannon entropy of α (nats)"},
      {"jacobian_norm", "spectral norm ‖∂α/∂l‖₂ of the softmax Jacobian (exact, secular equation)"},
      {"Delta", "‖q‖₂ · max_j ‖k_j‖₂ (needs arrays q and K)"},
      {"logit_max", "max_j l_j"},
      {"sigma_min", "smallest singular value of P = softmax(Z Zᵀ/(√d·T)), Z = X (or K)"},
      {"rank", "rank of P (Ball: [certified lower bound, L])"},
      {"effective_rank", "exp of the entropy of the normalised singular values of P"},
      {"stable_rank", "‖P‖_F² / ‖P‖₂²"},
      {"spectral_gap", "1 − |λ₂(P)| of the row-stochastic P"},
      {"logit_min", "min_j l_j (over unmasked entries)"},
      {"logit_range", "max_j l_j − min_j l_j"},
      {"N", "size of the selected (top-N) set (scalar N)"},
      {"dtilde_A", "‖Σ_{i∉I} α_i x_i − s‖, s = Σ_{I} α_i x_i, I = top-N set (needs X, N)"},
      {"dtilde_B", "Σ_{i∉I} ‖α_i x_i − s‖ over the non-selected tokens (needs X, N)"},
      {"dtilde_C", "‖Σ_{i∉I} (α_i x_i − s)‖ (needs X, N)"},
  };
  return q;
}

template <class T>
T tier_max(const T& a, const T& b) {
  if constexpr (std::is_same_v<T, Ball>) {
    return max(a, b);
  } else {
    return a < b ? b : a;
  }
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
std::vector<T> instance_logits(const Instance& x, const TierContext<T>& ctx) {
  std::vector<T> l;
  if (x.has_array("logits")) {
    const auto& a = x.array("logits");
    l.reserve(static_cast<std::size_t>(a.size()));
    for (Eigen::Index i = 0; i < a.size(); ++i) l.push_back(ctx.from(a.data()[i]));
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

template <class T>
T quantity(std::string_view name, const Instance& x, const TierContext<T>& ctx) {
  if (x.has_scalar(std::string(name))) return ctx.from(x.scalar(std::string(name)));
  if (name == "T") return instance_temperature(x, ctx);
  if (name == "Delta") return instance_delta(x, ctx);
  if (name == "N") throw std::invalid_argument("quantity 'N' needs the scalar 'N' (size of the selected set)");
  if (auto v = spectral_quantity<T>(name, x, ctx)) return *std::move(v);
  if (name == "dtilde_A") return instance_dtilde(DtildeReading::A, x, ctx);
  if (name == "dtilde_B") return instance_dtilde(DtildeReading::B, x, ctx);
  if (name == "dtilde_C") return instance_dtilde(DtildeReading::C, x, ctx);
  if (name == "L") {
    return ctx.from(static_cast<double>(instance_logits(x, TierContext<double>{53}).size()));
  }
  const std::vector<T> l = instance_logits(x, ctx);
  const T temp = instance_temperature(x, ctx);
  auto fold = [&](const std::vector<T>& v, bool want_max) {
    T r = v.front();
    for (const T& e : v) r = want_max ? tier_max(r, e) : tier_min(r, e);
    return r;
  };
  if (name == "alpha_max" || name == "alpha_min") {
    return fold(softmax<T>(l, temp), name == "alpha_max");
  }
  if (name == "lse") return log_sum_exp<T>(l, temp);
  if (name == "entropy") return entropy<T>(l, temp);
  if (name == "jacobian_norm") return softmax_jacobian_norm<T>(l, temp);
  if (name == "logit_max") return fold(l, true);
  if (name == "logit_min" || name == "logit_range") {
    std::vector<T> unmasked;
    for (const T& e : l) {
      if (!(ScalarTraits<T>::to_double(e) == -INFINITY)) unmasked.push_back(e);
    }
    if (unmasked.empty()) throw std::invalid_argument("logit_min: every logit is masked");
    if (name == "logit_min") return fold(unmasked, false);
    return fold(unmasked, true) - fold(unmasked, false);
  }
  std::string known;
  for (const auto& k : known_quantities()) known += (known.empty() ? "" : ", ") + std::string(k.name);
  throw std::invalid_argument(fmt::format("unknown quantity '{}' (known: {}, and the instance's "
                                          "scalars)", name, known));
}

#define ATTNCERT_INSTANTIATE_QUANTITIES(T)                                               \
  template T tier_max<T>(const T&, const T&);                                           \
  template T tier_min<T>(const T&, const T&);                                           \
  template std::vector<T> instance_logits<T>(const Instance&, const TierContext<T>&);   \
  template T instance_temperature<T>(const Instance&, const TierContext<T>&);           \
  template T instance_delta<T>(const Instance&, const TierContext<T>&);                 \
  template T quantity<T>(std::string_view, const Instance&, const TierContext<T>&);
ATTNCERT_INSTANTIATE_QUANTITIES(double)
ATTNCERT_INSTANTIATE_QUANTITIES(Mp)
ATTNCERT_INSTANTIATE_QUANTITIES(Ball)
#undef ATTNCERT_INSTANTIATE_QUANTITIES

}  // namespace attncert
